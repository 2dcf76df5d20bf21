"""The only module that sends import tasks to the broker: messages are nudges, never the truth.

Every message names a row, run or export whose state is in the database; a lost message only
delays work (the dispatcher and the sweeper send it again). No message carries a countdown or an
ETA: a row that must wait is kept in the database with its eligible-at time, so a Redis restart
loses nothing and a worker holds no message it has not started.

Tasks are sent by name (the names are stable, `imports/tasks.py`), so services never import the
task module that calls them.
"""

from __future__ import annotations

from collections.abc import Sequence

from celery import current_app

APPLY_ROW = "imports.apply_row"
PLAN_RUN = "imports.plan_run"
EXPORT_USERS = "imports.export_users"
FOLD_RUN = "imports.fold_run"
REFRESH_DIRECTORY = "imports.refresh_directory"
SCHEDULED_RUN_ENDED = "scheduler.run_finished"


def rows_send(row_ids: Sequence[int]) -> None:
    """One `apply_row` message per row, over one broker connection."""
    if not row_ids:
        return
    with current_app.producer_or_acquire() as producer:
        for row_id in row_ids:
            current_app.send_task(APPLY_ROW, (row_id,), producer=producer)


def run_plan_send(run_id: int) -> None:
    current_app.send_task(PLAN_RUN, (run_id,))


def run_fold_send(run_id: int) -> None:
    """Fold the ended run's unchanged rows into its log. A nudge: the hourly purge folds what
    a lost message left."""
    current_app.send_task(FOLD_RUN, (run_id,))


def export_send(export_id: int) -> None:
    current_app.send_task(EXPORT_USERS, (export_id,))


def scheduled_run_ended_send(run_id: int) -> None:
    """Tell the scheduler a scheduled run ended (log written back, notifications). A nudge: the
    scheduler's own sweeper finds wrap-ups not done."""
    current_app.send_task(SCHEDULED_RUN_ENDED, (run_id,))


def directory_refresh_send(company_id: int) -> None:
    """Read every user of the company in full again (the directory mirror's re-read)."""
    current_app.send_task(REFRESH_DIRECTORY, (company_id,))
