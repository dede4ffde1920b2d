"""Case data fails loudly outside a visibility scope (pretix's django-scopes idea, in a few lines of our own).

``Application.objects`` raises ``ScopeError`` when a queryset is built from it outside a scope, instead of
returning every application of every institution. There are two scopes and one unscoped manager:

* ``case_data_scope()``: opened by ``accounts.access`` while it builds the querysets of what a user may see
  (``applications_visible_to`` and its siblings), and the one set read for aggregates only
  (``applications_counted_in_estimates``, the estimation's capture histories). That is the one ordinary way to
  reach applications; the querysets it returns are lazy and may be filtered and evaluated after the scope has
  closed.
* ``scopes_disabled()``: the documented escape for code that reads every application by design and runs for
  no particular user: the recompute's Celery tasks and command (indicators/tasks.py,
  indicators/management/commands/recompute_indicators.py, the admin's rebuild button), demo seeding (the
  ``seed_demo`` command) and the benchmarks. Also usable as a decorator. Migrations need neither: their
  historical models get a plain manager. Commands and tasks that act for a user or read no application open
  no escape: ``import_run`` and the import tasks read their own institution's rows through ``all_objects``
  after the access check (the recompute their commit triggers runs under ``commit_hooks_unscoped``), and
  ``estimation_run`` and its task read only the run's stored inputs.
* ``Application.all_objects``: the unscoped manager, for the modules listed in ``ALL_OBJECTS_ALLOWED`` only
  (tests/test_records_scopes.py scans the source tree for any other use): the services' row locks and
  uniqueness checks and the bulk import's writes, each after its caller's access check.

The admin site registers no application (admins read no case by being admin) and opens no scope: its lists
of resolutions and sharing grants show an application's id only, the sharing page reads the one case through
``accounts.access.get_application_for_sharing``, and its one action that reads every application, the full
rebuild of the indicators, runs under ``scopes_disabled()``. A reverse relation (``person.applications``) is
scoped like ``objects``, so it raises outside a scope too; a forward one (``decision.application``) and
Django's deletion checks go through the plain base manager, reading the one row the caller already holds."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import models, transaction
from simple_history.models import HistoricalRecords

# Modules (paths from the project root) that may use Application.all_objects, and why.
ALL_OBJECTS_ALLOWED = {
    "records/services.py": "the version bump and the case-reference check of writes already allowed",
    "records/writes.py": "the row lock every write to an application takes, after its caller's access check",
    "records/imports/compare.py": "the bulk import's reads of its own institution's stored applications",
    "records/imports/write.py": "the bulk import's writes of its own institution's applications",
    "records/management/commands/seed_demo.py": "whether the database is empty (demo seeding)",
}
# Modules that use Application.objects and run only where a scope is open or scopes are disabled.
OBJECTS_ALLOWED = {
    "accounts/access.py": "builds the visible querysets inside case_data_scope()",
    "records/demo/seeding.py": "demo seeding, run by seed_demo and the benchmarks under scopes_disabled()",
    "indicators/recompute/runner.py": "the recompute, run by its tasks, command and admin under scopes_disabled()",
}

_scope: ContextVar[str | None] = ContextVar("conatt_case_data_scope", default=None)


class ScopeError(RuntimeError):
    """A query on applications outside a visibility scope: go through accounts.access."""


@contextmanager
def _entered(kind: str) -> Iterator[None]:
    token = _scope.set(kind)
    try:
        yield
    finally:
        _scope.reset(token)


def case_data_scope():
    """Inside: ``Application.objects`` builds querysets (accounts.access adds the visibility filter)."""
    return _entered("visibility")


def scopes_disabled():
    """Inside: every application can be read. Only for code that runs for no user (see the module's docstring)."""
    return _entered("disabled")


def scope_active() -> bool:
    return _scope.get() is not None


@contextmanager
def commit_hooks_unscoped() -> Iterator[None]:
    """The on-commit callbacks registered inside run with scopes disabled: records' door to the indicator
    outbox (``recompute_mark_dirty``), whose callback recomputes in-process after the commit in the embedded
    mode and reads every record for no user. Outside a transaction the callback runs at once, inside.

    A bridge until the indicator runner disables scopes itself (issue 18 splits indicators/services.py)."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        with scopes_disabled():
            yield
        return
    registered = len(connection.run_on_commit)
    yield
    connection.run_on_commit[registered:] = [
        (savepoints, scopes_disabled()(callback), robust)
        for savepoints, callback, robust in connection.run_on_commit[registered:]
    ]


class ScopedApplicationManager(models.Manager):
    """The default manager of Application: refuses to build a queryset outside a scope."""

    def get_queryset(self) -> models.QuerySet:
        if _scope.get() is None:
            raise ScopeError(
                "Application.objects used outside a visibility scope: read applications through accounts.access "
                "(applications_visible_to, get_application), or see records/scopes.py for the explicit ways."
            )
        return super().get_queryset()

    def none(self) -> models.QuerySet:
        """An empty queryset needs no scope: it reads nothing (DRF's and drf-spectacular's introspection, a
        serializer field's placeholder until the view sets the visible queryset)."""
        return super().get_queryset().none()


class ScopedHistoricalRecords(HistoricalRecords):
    """simple-history re-reads a historical record's application through ``model.objects`` (its ``instance``,
    for the excluded fields). The record is reached only from an application its caller holds (a save of it, or
    its own history page after the access check), so that one read of the same row runs in the scope."""

    def get_extra_fields(self, model, fields):
        extra = super().get_extra_fields(model, fields)
        unscoped = extra["instance"].fget

        def instance(record):
            with case_data_scope():
                return unscoped(record)

        extra["instance"] = property(instance)
        return extra
