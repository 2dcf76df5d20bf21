"""The scheduler's safety net (a beat task, every minute): fires and wrap-ups that are due.

Nothing waits in a message. A fire's next attempt is due at ``next_attempt_at`` (after a retry's
wait, or once an attempt in progress is overdue: its worker was lost), a wrap-up's at
``finish_next_at``; a run that ended without its wrap-up starting lost its message. The sweeper
sends each of them again; the attempt numbers make a duplicate harmless. So a fire whose worker
dies after the download is retried within minutes, not at the schedule's next fire.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db.models import DateTimeField, ExpressionWrapper, F, Q
from django.db.models.functions import Now

from scheduler.models import ScheduleFire
from scheduler.services import queue
from scheduler.services.fires import RETRY_DELAYS, fire_fail

log = logging.getLogger(__name__)

Outcome = ScheduleFire.Outcome
# A run that ended this long ago without its wrap-up begun lost its message.
WRAP_UP_GRACE = timedelta(minutes=2)
# After this many lost wrap-up attempts (a worker that dies every time), the fire is closed.
WRAP_UP_MAX_ATTEMPTS = len(RETRY_DELAYS) + 2


def _ago(delta: timedelta) -> ExpressionWrapper:
    return ExpressionWrapper(Now() - delta, output_field=DateTimeField())


def fires_sweep() -> dict[str, int]:
    """Send the fire attempts and wrap-ups that are due; close those that cannot go on."""
    found = {"attempts": 0, "failed": 0, "wrap_ups": 0, "closed": 0}
    due = ScheduleFire.objects.filter(outcome=Outcome.PENDING, next_attempt_at__lte=Now())
    for fire_id, attempts in list(due.values_list("pk", "attempts")):
        if attempts > len(RETRY_DELAYS):
            if fire_fail(
                fire_id=fire_id,
                reason="The fire stopped while fetching the file (its worker was lost): nothing "
                "was imported.",
            ):
                found["failed"] += 1
            continue
        log.warning("Fire %s: attempt %s is due (a wait, or a lost worker)", fire_id, attempts + 1)
        queue.fire_attempt_send(fire_id, attempts)
        found["attempts"] += 1

    ended = ScheduleFire.objects.filter(outcome=Outcome.STARTED, run__finished_at__isnull=False)
    wrap_ups = ended.filter(
        Q(finished_at__isnull=True, finish_next_at__lte=Now())
        | Q(
            finished_at__isnull=True,
            finish_next_at__isnull=True,
            run__finished_at__lt=_ago(WRAP_UP_GRACE),
        )
        # Failed rows retried after the wrap-up: the run ended again, its message was lost.
        | Q(run__finished_at__gt=F("finished_at"), run__finished_at__lt=_ago(WRAP_UP_GRACE))
    )
    for fire_id, run_id, attempts, finished_at in list(
        wrap_ups.values_list("pk", "run_id", "finish_attempts", "finished_at")
    ):
        if finished_at is not None:
            attempts = 0  # the run ended again: its wrap-up starts over
        elif attempts >= WRAP_UP_MAX_ATTEMPTS:
            ScheduleFire.objects.filter(pk=fire_id, finished_at__isnull=True).update(
                finished_at=Now(),
                finish_next_at=None,
                finish_error="The log could not be written back: the worker doing it was lost "
                f"{attempts} times.",
            )
            found["closed"] += 1
            continue
        log.warning("Run %s: after-run attempt %s is due", run_id, attempts + 1)
        queue.wrap_up_send(run_id, attempts)
        found["wrap_ups"] += 1
    return found
