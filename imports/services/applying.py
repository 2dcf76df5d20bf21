"""Applying one row: follow its planned steps through the shared limiter, resumably.

A row is claimed with a conditional UPDATE (`queued` -> `sending`) that returns its attempt
number, so a duplicate delivery does nothing and every later write of this worker is fenced by
that number (`RowLost`: the sweeper gave the row to another attempt; this one stops quietly).

- Each completed step is recorded, so a later attempt resumes after the last one. A create
  whose answer was never recorded looks the user up before it is sent again: no fault creates a
  user twice.
- The activation email is sent at most once: the intent is recorded before the call, and an
  attempt that finds it recorded does not send it again; the row then says the email may not
  have gone out.
- A row that must wait never sleeps in its worker: a rate-limit slot not free within
  `IMPORT_SLOT_WAIT_SECONDS` (a company under a long back-off), or a retry after a 5xx, a 429 or
  a timeout, hands the row back with its eligible-at time; the dispatcher sends it then.
- The directory mirror learns every write: a PATCH's answer is kept as the user's copy; before
  a call that answers no user (activation, access groups), the copy is marked stale.
"""

from __future__ import annotations

import json
import logging
import random
from dataclasses import dataclass

from django.conf import settings

from imports.messages import done_message, rejected_message, transient_message
from imports.models import ImportRow, ImportRun
from imports.planner import PlannedRow, Step, StepKind
from imports.services.control import run_stop
from imports.services.mirror import mirror_keep_answer, mirror_keep_created, mirror_mark_stale
from imports.services.progress import (
    PASSWORD_NOT_KEPT,
    needs_top_up,
    not_sent_message,
    plan_kept_after_failure,
    run_dispatch,
    run_finish,
)
from imports.services.rowstate import (
    RowLost,
    RunState,
    row_claim,
    row_end,
    row_hand_back,
    row_progress,
)
from user2smart.companies.connection import company_as_saved, shared_client_for
from user2smart.companies.models import Company
from user2smart.smartrecruiters.client import SmartRecruitersClient
from user2smart.smartrecruiters.errors import (
    AuthRefusedError,
    RejectedError,
    RetryableError,
    SmartRecruitersError,
)
from user2smart.smartrecruiters.ratelimit import RateLimitWaitTimeout

log = logging.getLogger(__name__)

# A row handed back because every in-flight slot of its company was taken waits about this long.
SLOT_BUSY_SECONDS = 1.0


class RowFailed(Exception):
    """The row cannot be applied; the message is for the admin."""


def row_apply(*, row_id: int) -> None:
    """Apply one row from where its last attempt stopped (a message's whole work)."""
    claimed = row_claim(row_id=row_id)
    if claimed is None:
        return  # a duplicate delivery, or a row already handed to another attempt
    row, state = claimed
    company = company_as_saved(state.company_id, state.company_version)
    try:
        _apply(row, state, company)
    except RowLost as exc:
        log.warning("%s: stopped, its claim was taken over", exc)


def _apply(row: ImportRow, state: RunState, company: Company) -> None:
    if state.status != ImportRun.Status.RUNNING:
        # An earlier attempt got part of the way when it had recorded a step or a create.
        partly = bool(row.steps_done or row.lookup_first)
        message = not_sent_message(run_status=state.status, run_error=state.error, partly=partly)
        _finish(row, company, ImportRow.Status.SKIPPED, message, transient=True)
        return
    planned = PlannedRow.from_json(json.loads(row.payload))
    client = shared_client_for(company, slot_timeout=settings.IMPORT_SLOT_WAIT_SECONDS)
    email_unsure = ""
    posting = _Posting()
    try:
        last = len(planned.steps) - 1
        for index in range(row.steps_done, len(planned.steps)):
            step = planned.steps[index]
            if step.kind is StepKind.ACTIVATION_EMAIL:
                email_unsure = _send_email_at_most_once(client, row)
            else:
                _run_step(client, row, step, posting, company_id=company.pk)
            row.steps_done = index + 1
            if index < last:  # a retry resumes after this step (the last one: _finish records)
                row_progress(row=row)
    except AuthRefusedError as exc:
        run_stop(run_id=row.run_id, reason=_credential_refused(exc), status=ImportRun.Status.FAILED)
        _finish(row, company, ImportRow.Status.SKIPPED, _credential_refused(exc), transient=True)
    except RateLimitWaitTimeout as exc:  # nothing was sent: no attempt used
        wait = exc.retry_after or SLOT_BUSY_SECONDS * random.uniform(0.5, 1.5)  # noqa: S311
        row_hand_back(row=row, after=wait, failed=False, create_unsent=posting.unsent(exc))
    except RetryableError as exc:
        _retry_or_fail(row, company, exc, create_unsent=posting.unsent(exc))
    except RejectedError as exc:
        _finish(row, company, ImportRow.Status.ERROR, rejected_message(exc))
    except RowFailed as exc:
        _finish(row, company, ImportRow.Status.ERROR, str(exc))
    except SmartRecruitersError as exc:  # an answer we could not understand
        log.warning("row %s: unexpected answer: %s", row.pk, exc)
        _retry_or_fail(row, company, exc, create_unsent=False)
    else:
        _finish(row, company, ImportRow.Status.DONE, done_message(planned) + email_unsure)


@dataclass
class _Posting:
    """Whether this attempt sent its create (`POST /users`), for the next attempt's lookup."""

    started: bool = False  # the POST may have gone out
    open: bool = False  # ...and its answer has not come

    def unsent(self, exc: SmartRecruitersError) -> bool:
        """Certainly no create reached SmartRecruiters in this attempt, given how it failed."""
        refused = isinstance(exc, RateLimitWaitTimeout) or getattr(exc, "throttled", False)
        return not self.started or (self.open and refused)


def _run_step(
    client: SmartRecruitersClient, row: ImportRow, step: Step, posting: _Posting, *, company_id: int
) -> None:
    """One call (or one per group); the directory mirror learns what it changed."""
    user_id = row.sr_user_id
    match step.kind:
        case StepKind.CREATE:
            row.sr_user_id = _create(client, row, step.data, posting, company_id=company_id)
        case StepKind.PATCH:
            mirror_keep_answer(company_id=company_id, entity=client.patch_user(user_id, step.data))
        case StepKind.ADD_TO_GROUPS:
            mirror_mark_stale(company_id=company_id, user_id=user_id)
            for group_id in step.data:
                client.add_users_to_access_group(group_id, [user_id])
        case StepKind.REMOVE_FROM_GROUP:
            mirror_mark_stale(company_id=company_id, user_id=user_id)
            try:
                client.remove_user_from_access_group(step.data, user_id)
            except RejectedError as exc:
                if exc.status != 404:  # 404: the user is no longer in the group, as wanted
                    raise
        case StepKind.ACTIVATE:
            mirror_mark_stale(company_id=company_id, user_id=user_id)
            client.activate_user(user_id)
        case StepKind.DEACTIVATE:
            mirror_mark_stale(company_id=company_id, user_id=user_id)
            client.deactivate_user(user_id)


def _send_email_at_most_once(client: SmartRecruitersClient, row: ImportRow) -> str:
    """Send the activation email unless an attempt may already have; what the row then says.

    The intent is recorded before the call. Only a call certainly refused (no slot, a 429)
    clears it, so the email can go out on a later attempt; after a timeout or a 5xx it may have
    gone out, so it is never sent again and the row says so.
    """
    if row.email_started:  # an earlier attempt may have sent it
        return EMAIL_UNSURE
    row.email_started = True
    row_progress(row=row)
    try:
        client.send_activation_email(row.sr_user_id)
    except RetryableError as exc:
        if isinstance(exc, RateLimitWaitTimeout) or exc.throttled:
            row.email_started = False  # certainly not sent: the next attempt sends it
            raise
        return EMAIL_UNSURE
    return ""


def _create(
    client: SmartRecruitersClient, row: ImportRow, body: dict, posting: _Posting, *, company_id: int
) -> str:
    email = body["email"]
    if row.lookup_first:
        # An earlier attempt may have sent the create and never recorded the answer.
        found = client.find_user_by_email(email)
        if found is not None:
            return str(found["id"])
    posting.started = posting.open = True
    try:
        created = client.create_user(body)
    except RejectedError as exc:
        posting.open = False
        if exc.status != 409:
            raise
    else:
        posting.open = False
        mirror_keep_created(company_id=company_id, entity=created)
        return str(created["id"])
    found = client.find_user_by_email(email)
    if found is None:
        raise RowFailed(
            "This email address already belongs to a SmartRecruiters user of another company, "
            "so the user cannot be created here. (409)"
        )
    return str(found["id"])


EMAIL_UNSURE = (
    " The activation email may not have gone out (sending it was interrupted), and it is never "
    "sent twice: if the person did not receive it, send it from SmartRecruiters."
)


def _retry_or_fail(
    row: ImportRow, company: Company, exc: SmartRecruitersError, *, create_unsent: bool
) -> None:
    # A 429 is a wait, not a failure: SmartRecruiters refused the call without doing anything,
    # and the company's limiter backs off for everyone; the row goes again after the wait.
    throttled = getattr(exc, "throttled", False)
    failures = row.failures + (0 if throttled else 1)
    if failures >= settings.IMPORT_ROW_MAX_ATTEMPTS:
        _finish(row, company, ImportRow.Status.ERROR, transient_message(exc), transient=True)
        return
    retry_after = getattr(exc, "retry_after", None)
    backoff = min(settings.IMPORT_RETRY_MAX_SECONDS, 2 ** max(0, failures - 1))
    wait = max(retry_after or 0, random.uniform(backoff / 2, backoff))  # noqa: S311
    row_hand_back(row=row, after=wait, failed=not throttled, create_unsent=create_unsent)


def _finish(
    row: ImportRow, company: Company, status: str, message: str, *, transient: bool = False
) -> None:
    """Put the row in its final state, wipe its password, count it, keep the run moving."""
    keep = ""
    if status != ImportRow.Status.DONE:
        # Failed rows keep their plan without the password, for "retry failed rows" and the
        # failed-rows file; it is purged with the run's files.
        keep, retryable = plan_kept_after_failure(row.payload, row.steps_done)
        if transient and not retryable:
            transient, message = False, message + PASSWORD_NOT_KEPT
    counters = row_end(
        row=row,
        status=status,
        message=message,
        transient=transient,
        payload=keep,
        sr_user_id=row.sr_user_id,
        steps_done=row.steps_done,
        email_started=row.email_started,
    )
    if counters is None:
        raise RowLost(f"row {row.pk}: attempt {row.attempts} no longer holds it")
    done, total, in_flight = counters
    if done >= total:
        run_finish(run_id=row.run_id)
    elif needs_top_up(in_flight, company.rate_limit_concurrency):
        run_dispatch(run_id=row.run_id)


def _credential_refused(exc: AuthRefusedError) -> str:
    return (
        f"SmartRecruiters refused the company's credential (HTTP {exc.status}), so the run "
        "stopped. Ask the User2Smart team to check the credential, then retry the failed rows."
    )
