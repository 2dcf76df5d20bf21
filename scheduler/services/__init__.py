"""The write side of schedules: save them (and their beat entry), fire them, finish their runs.

The admin, the commands and the tasks call these functions and nothing else.
"""

from scheduler.services.checks import (
    ConnectionReport,
    host_key_fetch,
    run_as_check,
    schedule_test_connection,
    sftp_host_check,
)
from scheduler.services.finishing import run_wrap_up
from scheduler.services.fires import (
    RETRY_DELAYS,
    FireError,
    fire_attempt,
    fire_claim,
    fire_fail,
    schedule_run_now,
)
from scheduler.services.schedules import (
    ScheduleSaved,
    schedule_delete,
    schedule_save,
    schedule_upsert,
    schedules_set_enabled,
)
from scheduler.services.sweeping import fires_sweep

__all__ = [
    "RETRY_DELAYS",
    "ConnectionReport",
    "FireError",
    "ScheduleSaved",
    "fire_attempt",
    "fire_claim",
    "fire_fail",
    "fires_sweep",
    "host_key_fetch",
    "run_as_check",
    "run_wrap_up",
    "schedule_delete",
    "schedule_run_now",
    "schedule_save",
    "schedule_test_connection",
    "schedule_upsert",
    "schedules_set_enabled",
    "sftp_host_check",
]
