"""The write side of import runs. Views, commands, schedules and tasks call these and nothing else.

The modules depend on each other one way (no import inside a function):

    intake -> queue                     store the file, create the run, send its plan
    planning -> intake, progress, mirror, checking, control, early
                                        plan every row, start the run
    early -> progress                   send the sure updates while the users are read
    checking                            how far a plan is (kept in Redis for the run page)
    applying -> control -> progress -> rowstate, queue
    applying -> mirror                  one row's steps; stop/cancel/retry; window and finish
    mirror -> queue                     the company's directory as SmartRecruiters returned it
    sweeping -> progress, rowstate      the safety net
    retention -> control                fold ended runs' unchanged rows; delete old runs
    fullsync -> control, progress       apply the deactivations a run held back
    planning -> undo -> fullsync, queue plan an undo from the rows of the run undone

`queue` is the only module that sends import tasks; `rowstate` holds the hot-path SQL.
"""

from imports.services.applying import row_apply
from imports.services.checking import check_progress
from imports.services.control import (
    run_cancel,
    run_cancel_refusal,
    run_discard,
    run_purge_expired,
    run_retry_failed,
    run_retry_refusal,
    run_stop,
)
from imports.services.fullsync import run_allow_deactivations
from imports.services.intake import run_start
from imports.services.lookups import lookup_read
from imports.services.mirror import mirror_refresh, mirror_refresh_start
from imports.services.planning import run_apply, run_plan
from imports.services.progress import rows_dispatch_due, run_dispatch, run_finish
from imports.services.sweeping import sweep
from imports.services.undo import undo_start

__all__ = [
    "check_progress",
    "lookup_read",
    "mirror_refresh",
    "mirror_refresh_start",
    "row_apply",
    "rows_dispatch_due",
    "run_allow_deactivations",
    "run_apply",
    "run_cancel",
    "run_cancel_refusal",
    "run_discard",
    "run_dispatch",
    "run_finish",
    "run_plan",
    "run_purge_expired",
    "run_retry_failed",
    "run_retry_refusal",
    "run_start",
    "run_stop",
    "sweep",
    "undo_start",
]
