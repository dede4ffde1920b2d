"""Celery tasks of the indicator engine. They take no model instances (only what the outbox holds), are
idempotent (a recompute of unchanged records writes the same cells), acknowledged late and retried."""

import logging

from celery import shared_task
from django.core.cache import cache

from records.scopes import scopes_disabled

from .recompute import runner

logger = logging.getLogger(__name__)

# The debounce of the task queued after commits (indicators.recompute.outbox): one task per burst of changes.
DEBOUNCE_KEY = "indicators:recompute-scheduled"

_RETRY = {
    "acks_late": True,
    "autoretry_for": (Exception,),
    "retry_backoff": 5,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 8,
}


# The recompute reads every record, for no user: outside the visibility scope of Application.objects
# (records/scopes.py), explicitly.
@shared_task(name="indicators.tasks.recompute_pending", **_RETRY)
@scopes_disabled()
def recompute_pending(trigger: str = "task") -> int | None:
    """Recompute the years in the outbox (the debounced task queued after commits, and the periodic sweep).
    Returns the id of the run, or None when nothing was pending."""
    try:
        # Open the next debounce window first: a commit from now on queues a new task, so no mark that this
        # run might miss is left without one.
        cache.delete(DEBOUNCE_KEY)
    except Exception:
        logger.warning("Could not clear the indicator debounce key", exc_info=True)
    run = runner.recompute_pending(trigger=trigger)
    return run.pk if run else None


@shared_task(name="indicators.tasks.recompute_full", **_RETRY)
@scopes_disabled()
def recompute_full(trigger: str = "task") -> int:
    """Rebuild every indicator as a new version (nightly, and from the admin)."""
    return runner.recompute_full(trigger=trigger).pk
