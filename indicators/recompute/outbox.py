"""The outbox of the indicator engine: records' write transactions mark what is stale (``PendingRecompute``
rows, committed with the change), and one recompute is queued after the commit. This is the only module of the
engine that ``records`` imports."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from .. import tasks
from ..models import PendingRecompute
from ..tasks import DEBOUNCE_KEY
from .runner import recompute_pending

logger = logging.getLogger(__name__)


def recompute_mark_dirty(*, years: Iterable[int] = (), application_ids: Iterable[int] = ()) -> None:
    """Remember that indicators are stale and schedule a recompute after the commit.

    Call it inside the write transaction of any change to an application or its decision. Either (or both):

    * ``years``: every year the change may affect, i.e. the year of receipt and the year of decision, before
      and after the change. The recompute rebuilds the cells of those years ("pending at year end" is derived
      from the years of receipt and decision, so no year in between needs to be named).
    * ``application_ids``: the changed applications. The recompute then applies just their difference (their
      old cells out, their new ones in), which takes well under a second even with a million applications.

    The marks are written to the outbox (``PendingRecompute``) in the caller's transaction, so they are kept
    exactly when the change is. After the commit one task is queued per burst of changes (a cache key set
    with NX and a few seconds' expiry); if the broker is unreachable the change still succeeds, the marks stay
    in the outbox, and the periodic sweep (or the next successful enqueue) recomputes them. With
    ``CELERY_TASK_ALWAYS_EAGER`` (the embedded default) the recompute runs in-process right after the commit.
    """
    now = timezone.now()
    marks = [PendingRecompute(year=int(y), marked_at=now) for y in sorted({y for y in years if y is not None})]
    marks += [PendingRecompute(application_id=int(pk), marked_at=now) for pk in sorted(set(application_ids))]
    if not marks:
        return
    PendingRecompute.objects.bulk_create(marks)
    transaction.on_commit(_enqueue_pending)


# An import marks its applications one by one up to this many (the recompute then chooses between their
# difference and a full rebuild by cost); a larger one marks its years, one row each, and is rebuilt in full or
# by years: one outbox row per application of a 100,000-row file would cost the import more than it saves.
MAX_APPLICATION_MARKS = 5000


def recompute_mark_changed(*, application_ids: Iterable[int], years: Iterable[int]) -> None:
    """``recompute_mark_dirty`` for a bulk change (an import): ``application_ids`` are every application it
    wrote and ``years`` every year those touch (before and after). Marks the applications when they are few,
    else the years."""
    ids = sorted(set(application_ids))
    if ids and len(ids) <= MAX_APPLICATION_MARKS:
        recompute_mark_dirty(application_ids=ids)
    else:
        recompute_mark_dirty(years=years)


def _enqueue_pending() -> None:
    """Queue the recompute of the outbox, once per debounce window; never raises (the outbox keeps the years)."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        try:
            recompute_pending(trigger="on-commit")
        except Exception:
            logger.exception("In-process indicator recompute failed; the years stay pending")
        return
    try:
        if not cache.add(DEBOUNCE_KEY, "1", timeout=_debounce_seconds()):
            return  # a task is already queued for this burst; it reads the outbox when it runs
    except Exception:
        logger.warning("Indicator debounce key unavailable; queueing without debounce", exc_info=True)
    try:
        tasks.recompute_pending.apply_async(countdown=_debounce_seconds(), retry=False)
    except Exception:
        logger.warning("Could not queue the indicator recompute; the periodic sweep will run it", exc_info=True)
        with contextlib.suppress(Exception):  # the broker and the cache are usually down together
            cache.delete(DEBOUNCE_KEY)


def _debounce_seconds() -> int:
    """Read at each use, so ``override_settings`` reaches it."""
    return int(settings.INDICATORS_DEBOUNCE_SECONDS)


def pending_years() -> list[int]:
    """The years waiting in the outbox, sorted."""
    years = PendingRecompute.objects.filter(year__isnull=False).values_list("year", flat=True)
    return sorted({int(year) for year in years if year is not None})


def pending_marks() -> int:
    """How many marks (years or applications) wait in the outbox."""
    return PendingRecompute.objects.count()
