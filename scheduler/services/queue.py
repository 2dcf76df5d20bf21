"""The only module that sends scheduler tasks: by name, with no countdown (a wait is kept in the
database, `next_attempt_at` / `finish_next_at`, and the scheduler's sweeper sends what is due)."""

from __future__ import annotations

from celery import current_app

FIRE_ATTEMPT = "scheduler.fire_attempt"
RUN_FINISHED = "scheduler.run_finished"


def fire_attempt_send(fire_id: int, attempt: int) -> None:
    current_app.send_task(FIRE_ATTEMPT, (fire_id, attempt))


def wrap_up_send(run_id: int, attempt: int) -> None:
    current_app.send_task(RUN_FINISHED, (run_id, attempt))
