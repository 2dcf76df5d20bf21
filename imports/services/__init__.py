"""The write side of import runs: intake, planning, applying rows, finishing.

Views, commands, schedules and tasks call these functions and nothing else.
"""

from imports.services.applying import row_apply
from imports.services.dispatch import run_dispatch, sweep
from imports.services.finishing import (
    run_cancel,
    run_discard,
    run_finish,
    run_purge_expired,
    run_retry_failed,
)
from imports.services.intake import run_start
from imports.services.planning import run_apply, run_plan

__all__ = [
    "row_apply",
    "run_apply",
    "run_cancel",
    "run_discard",
    "run_dispatch",
    "run_finish",
    "run_plan",
    "run_purge_expired",
    "run_retry_failed",
    "run_start",
    "sweep",
]
