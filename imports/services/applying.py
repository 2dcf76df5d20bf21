"""Applying one row: follow its planned steps through the shared limiter, resumably.

A row is claimed with a conditional UPDATE (`queued` -> `sending`), so a duplicate delivery does
nothing. Each completed step is recorded, so a retry resumes after the last one. A create whose
answer was never recorded looks the user up before it is sent again: no fault creates a user
twice.
"""

from __future__ import annotations

import json
import logging
import random
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from imports.messages import done_message, rejected_message, transient_message
from imports.models import ImportRow, ImportRun
from imports.planner import PlannedRow, Step, StepKind
from imports.services.rowstate import RunState, end_row, row_claim, row_step_done
from user2smart.companies.connection import company_as_saved, shared_client_for
from user2smart.companies.models import Company
from user2smart.smartrecruiters.client import SmartRecruitersClient
from user2smart.smartrecruiters.errors import (
    AuthRefusedError,
    RejectedError,
    RetryableError,
    SmartRecruitersError,
)

log = logging.getLogger(__name__)


class RowFailed(Exception):
    """The row cannot be applied; the message is for the admin."""


def row_apply(row_id: int) -> None:
    claimed = row_claim(row_id)
    if claimed is None:
        return  # a duplicate delivery, or a row already put back by the sweeper and done
    row, state = claimed
    company = company_as_saved(state.company_id, state.company_version)
    if state.status != ImportRun.Status.RUNNING:
        _finish(row, company, ImportRow.Status.SKIPPED, _not_sent(row, state), transient=True)
        return
    planned = PlannedRow.from_json(json.loads(row.payload))
    client = shared_client_for(company)
    try:
        last = len(planned.steps) - 1
        for index in range(row.steps_done, len(planned.steps)):
            _run_step(client, row, planned.steps[index])
            row.steps_done = index + 1
            if index < last:  # a retry resumes after this step (the last one: _finish records)
                row_step_done(row)
    except AuthRefusedError as exc:
        from imports.services.finishing import run_stop

        run_stop(
            ImportRun.objects.get(pk=row.run_id),
            reason=_credential_refused(exc),
            status=ImportRun.Status.FAILED,
        )
        _finish(row, company, ImportRow.Status.SKIPPED, _credential_refused(exc), transient=True)
    except RetryableError as exc:
        _retry_or_fail(row, company, exc)
    except RejectedError as exc:
        _finish(row, company, ImportRow.Status.ERROR, rejected_message(exc))
    except RowFailed as exc:
        _finish(row, company, ImportRow.Status.ERROR, str(exc))
    except SmartRecruitersError as exc:  # an answer we could not understand
        log.warning("row %s: unexpected answer: %s", row.pk, exc)
        _retry_or_fail(row, company, exc)
    else:
        _finish(row, company, ImportRow.Status.DONE, done_message(planned))


def _run_step(client: SmartRecruitersClient, row: ImportRow, step: Step) -> None:
    user_id = row.sr_user_id
    match step.kind:
        case StepKind.CREATE:
            row.sr_user_id = _create(client, row, step.data)
        case StepKind.PATCH:
            client.patch_user(user_id, step.data)
        case StepKind.ADD_TO_GROUPS:
            for group_id in step.data:
                client.add_users_to_access_group(group_id, [user_id])
        case StepKind.REMOVE_FROM_GROUP:
            client.remove_user_from_access_group(step.data, user_id)
        case StepKind.ACTIVATE:
            client.activate_user(user_id)
        case StepKind.DEACTIVATE:
            client.deactivate_user(user_id)
        case StepKind.ACTIVATION_EMAIL:
            client.send_activation_email(user_id)


def _create(client: SmartRecruitersClient, row: ImportRow, body: dict) -> str:
    email = body["email"]
    if row.lookup_first:
        # An earlier attempt may have sent the create and never recorded the answer.
        found = client.find_user_by_email(email)
        if found is not None:
            return str(found["id"])
    try:
        return str(client.create_user(body)["id"])
    except RejectedError as exc:
        if exc.status != 409:
            raise
    found = client.find_user_by_email(email)
    if found is None:
        raise RowFailed(
            "This email address already belongs to a SmartRecruiters user of another company, "
            "so the user cannot be created here. (409)"
        )
    return str(found["id"])


def _retry_or_fail(row: ImportRow, company: Company, exc: SmartRecruitersError) -> None:
    if row.attempts >= settings.IMPORT_ROW_MAX_ATTEMPTS:
        _finish(row, company, ImportRow.Status.ERROR, transient_message(exc), transient=True)
        return
    retry_after = getattr(exc, "retry_after", None)
    backoff = min(settings.IMPORT_RETRY_MAX_SECONDS, 2 ** (row.attempts - 1))
    countdown = max(retry_after or 0, random.uniform(backoff / 2, backoff))  # noqa: S311
    eligible = timezone.now() + timedelta(seconds=countdown)
    with transaction.atomic():
        requeued = ImportRow.objects.filter(pk=row.pk, status=ImportRow.Status.SENDING).update(
            status=ImportRow.Status.QUEUED, queued_at=eligible
        )
        if requeued:
            from imports.services.dispatch import _enqueue

            transaction.on_commit(lambda: _enqueue([row.pk], countdown=countdown))


def _finish(
    row: ImportRow, company: Company, status: str, message: str, *, transient: bool = False
) -> None:
    """Put the row in its final state, wipe its password, count it, keep the run moving."""
    from imports.services.dispatch import needs_top_up, run_dispatch
    from imports.services.finishing import run_finish

    keep = ""
    if status != ImportRow.Status.DONE and row.payload:
        # Failed rows keep their plan without the password, for "retry failed rows" and the
        # failed-rows file; it is purged with the run's files.
        keep = json.dumps(PlannedRow.from_json(json.loads(row.payload)).redacted().to_json())
    counters = end_row(
        row,
        status=status,
        message=message,
        transient=transient,
        payload=keep,
        sr_user_id=row.sr_user_id,
        steps_done=row.steps_done,
    )
    if counters is None:
        return
    done, total, in_flight = counters
    if done >= total:
        run_finish(row.run_id)
    elif needs_top_up(in_flight, company.rate_limit_concurrency):
        run_dispatch(row.run_id)


def _not_sent(row: ImportRow, state: RunState) -> str:
    why = (
        "the run was cancelled."
        if state.status == ImportRun.Status.CANCELLED
        else f"the run stopped. {state.error}".strip()
    )
    if row.steps_done or row.lookup_first:
        # An earlier attempt got part of the way (its worker stopped): say so, do not guess.
        return f"Stopped part-way, it may be partly applied in SmartRecruiters: {why}"
    return f"Not sent: {why}"


def _credential_refused(exc: AuthRefusedError) -> str:
    return (
        f"SmartRecruiters refused the company's credential (HTTP {exc.status}), so the run "
        "stopped. Ask the User2Smart team to check the credential, then retry the failed rows."
    )
