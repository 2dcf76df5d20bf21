"""Thin Celery tasks of schedules: each takes ids and calls a service. Names are stable.

- ``scheduler.fire`` is what beat sends (kwargs ``{"schedule_id": id}``);
- ``scheduler.fire_attempt`` is a fire's attempt: Run now, or one the sweeper found due;
- ``scheduler.run_finished`` is sent by ``imports`` when a scheduled run ends, and by the sweeper
  for a wrap-up that is due;
- ``scheduler.sweep`` (beat, every ``SCHEDULE_SWEEP_SECONDS``) sends what is due.

No task is sent with a countdown: waits are kept in the database.
"""

from __future__ import annotations

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from scheduler import services

log = logging.getLogger(__name__)

# An attempt connects (15 s per step by default), checks the run-as user and downloads up to
# IMPORT_MAX_FILE_MB; the hard limit is the last guard, far below the visibility timeout.
ATTEMPT_TIME_LIMIT = 600


@shared_task(
    name="scheduler.fire", time_limit=ATTEMPT_TIME_LIMIT, soft_time_limit=ATTEMPT_TIME_LIMIT - 30
)
def fire(schedule_id: int) -> None:
    claimed = services.fire_claim(schedule_id=schedule_id)
    if claimed is not None and claimed.outcome == claimed.Outcome.PENDING:
        _attempt(claimed.pk, 0)


@shared_task(
    name="scheduler.fire_attempt",
    time_limit=ATTEMPT_TIME_LIMIT,
    soft_time_limit=ATTEMPT_TIME_LIMIT - 30,
)
def fire_attempt(fire_id: int, attempt: int = 0) -> None:
    _attempt(fire_id, attempt)


@shared_task(
    name="scheduler.run_finished",
    time_limit=ATTEMPT_TIME_LIMIT,
    soft_time_limit=ATTEMPT_TIME_LIMIT - 30,
)
def run_finished(run_id: int, attempt: int = 0) -> None:
    services.run_wrap_up(run_id=run_id, attempt=attempt)


@shared_task(name="scheduler.sweep", time_limit=120, soft_time_limit=100)
def sweep() -> None:
    services.fires_sweep()


def _attempt(fire_id: int, attempt: int) -> None:
    try:
        services.fire_attempt(fire_id=fire_id, attempt=attempt)
    except SoftTimeLimitExceeded:
        services.fire_fail(
            fire_id=fire_id,
            reason=f"Fetching the file took longer than {ATTEMPT_TIME_LIMIT - 30} seconds: "
            "nothing was imported.",
        )
    except Exception as exc:
        # The one place a fire's unexpected failure is recorded; the traceback is in the log.
        services.fire_fail(
            fire_id=fire_id,
            reason=f"An unexpected error stopped the fire ({type(exc).__name__}); see the "
            "worker's log.",
        )
        raise
