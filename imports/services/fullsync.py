"""Full sync: applying the deactivations a run held back because they were over its limit.

A run that plans more deactivations by absence than its limit applies everything else and holds
them (`held` rows, final, the run's result X). Allowing them takes a fresh look at the directory
first, made inside the admin's request, so it reads only the users changed since the run read
the directory (`updatedAfter`, a page or two however large the company): a held person no longer
active (deactivated by hand meanwhile) ends `done` with nothing sent; the others are sent like
any row (one gone from SmartRecruiters since ends in error, "no longer exists").
"""

from __future__ import annotations

import json
from datetime import UTC, timedelta

from django.db import transaction
from django.db.models import F
from django.db.models.functions import Now

from imports.models import ImportRow, ImportRun
from imports.planner import deactivation
from imports.services.control import retried_on_conflict
from imports.services.progress import run_dispatch, run_finish
from user2smart.companies.connection import company_api

ALREADY_INACTIVE = "Already inactive in SmartRecruiters: nothing to do."
# The run read the directory after it was created; users changed since are those changed after
# this much before (a margin for SmartRecruiters' clock and ours).
CHANGED_SINCE_MARGIN = timedelta(minutes=10)


def run_allow_deactivations(*, run_id: int) -> int:
    """Apply the run's held deactivations; how many are sent (0: nothing was held, or the run
    is not ended). Raises CompanyApiError when the directory cannot be read (nothing changes)."""
    run = ImportRun.objects.select_related("company").get(pk=run_id)
    if not run.held:
        return 0
    since = (run.created_at - CHANGED_SINCE_MARGIN).astimezone(UTC)
    after = f"{since:%Y-%m-%dT%H:%M:%S}.{since.microsecond // 1000:03d}Z"
    with company_api(run.company, doing="read the company's users", retries=3) as client:
        changed = {
            str(user["id"]): bool(user.get("active"))
            for user in client.list_users(updated_after=after)
        }
    sent = _reopen(run_id=run_id, changed=changed)
    run_dispatch(run_id=run_id)
    run_finish(run_id=run_id)
    return sent


@retried_on_conflict
def _reopen(*, run_id: int, changed: dict[str, bool]) -> int:
    """`changed`: whether each user changed since the run's plan is active; a user not in it is
    as the plan saw them (active)."""
    with transaction.atomic():
        run = ImportRun.objects.select_for_update().get(pk=run_id)
        if run.is_open or run.finished_at is None or not run.held:
            return 0
        held = list(run.rows.filter(status=ImportRow.Status.HELD))
        sent = 0
        for row in held:
            if changed.get(row.sr_user_id, True):
                row.status, row.message, sent = ImportRow.Status.PENDING, "", sent + 1
                planned = deactivation(
                    email=row.email,
                    first_name=row.first_name,
                    last_name=row.last_name,
                    user_id=row.sr_user_id,
                )
                row.payload = json.dumps(planned.to_json())
            else:
                row.status, row.message = ImportRow.Status.DONE, ALREADY_INACTIVE
        ImportRow.objects.bulk_update(held, ["status", "message", "payload"], batch_size=1000)
        ImportRun.objects.filter(pk=run_id).update(
            status=ImportRun.Status.RUNNING,
            finished_at=None,
            held=0,
            rows_done=F("rows_done") - sent,
            updated_at=Now(),
        )
    return sent
