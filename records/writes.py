"""The steps every write to case records shares (records.services, records.decisions): the refusals it raises,
the re-check of the caller's right (a view that forgot to check fails closed), the row lock that keeps two
transitions from starting from the same status, and the workflow event that also tells the indicators."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NoReturn

from django.core.exceptions import PermissionDenied

from accounts import access
from indicators.recompute.outbox import recompute_mark_dirty

from .models import Application, ApplicationEvent
from .scopes import commit_hooks_unscoped


class ServiceError(Exception):
    """A refused write; ``message`` is for the user, ``code`` for tests and logs."""

    def __init__(self, message: str, *, code: str):
        super().__init__(message)
        self.message = message
        self.code = code


class TransitionRefused(ServiceError):
    pass


class ConcurrentEdit(ServiceError):
    pass


def _event(application: Application, *, user, from_status: str, to_status: str, comment: str = "") -> None:
    ApplicationEvent.objects.create(
        application=application, from_status=from_status, to_status=to_status, by=user, comment=comment
    )
    _indicators_stale(application_ids=[application.pk])


def _indicators_stale(*, application_ids: Iterable[int]) -> None:
    """Every write to an application ends here, inside its transaction: the indicator engine's outbox records
    the change with it, and the recompute runs after the commit (in-process, or as a debounced Celery task)."""
    with commit_hooks_unscoped():  # the recompute after the commit reads every record (records/scopes.py)
        recompute_mark_dirty(application_ids=application_ids)


def _locked(application: Application) -> Application:
    """Re-read the application under a row lock, so two transitions cannot both start from the same status. The
    caller obtained ``application`` through accounts.access; the lock reads the same row (records/scopes.py)."""
    return Application.all_objects.select_for_update().get(pk=application.pk)


def _refuse(message: str, code: str) -> NoReturn:
    raise TransitionRefused(message, code=code)


def _require_owner(user, application: Application) -> None:
    if not access.owns(user, application):
        raise PermissionDenied


def _require_coordinator(user) -> None:
    if not access.can_decide(user):
        raise PermissionDenied
