"""The services of the indicator engine: the names callers use (the admin, the management command, the
tasks, the tests). The engine lives in ``indicators.recompute`` (outbox, runner, builder, SQL, parallel part);
``records`` imports only its outbox."""

from .recompute.outbox import pending_marks, pending_years, recompute_mark_dirty
from .recompute.runner import RecomputeBusy, recompute_full, recompute_pending
from .tasks import DEBOUNCE_KEY

__all__ = [
    "DEBOUNCE_KEY",
    "RecomputeBusy",
    "pending_marks",
    "pending_years",
    "recompute_full",
    "recompute_mark_dirty",
    "recompute_pending",
]
