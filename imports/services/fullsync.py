"""Full sync: applying the deactivations a run held back because they were over its limit.

A run that plans more deactivations by absence than its limit applies everything else and holds
them (`held` rows, final, the run's result X). Allowing them takes a fresh look at the directory
first: a held person who is no longer active (deactivated by hand meanwhile) or no longer in
SmartRecruiters ends `done` with nothing sent; the others are sent like any row.
"""

from __future__ import annotations

import json

from django.db import transaction
from django.db.models import F
from django.db.models.functions import Now

from imports.models import ImportRow, ImportRun
from imports.planner import Action, PlannedRow, Step, StepKind
from imports.services.control import retried_on_conflict
from imports.services.progress import run_dispatch, run_finish
from user2smart.companies.connection import company_api

ALREADY_INACTIVE = "Already inactive in SmartRecruiters: nothing to do."
GONE = "No longer in SmartRecruiters: nothing to do."


def run_allow_deactivations(*, run_id: int) -> int:
    """Apply the run's held deactivations; how many are sent (0: nothing was held, or the run
    is not ended). Raises CompanyApiError when the directory cannot be read (nothing changes)."""
    run = ImportRun.objects.select_related("company").get(pk=run_id)
    if not run.held:
        return 0
    with company_api(run.company, doing="read the company's users", retries=3) as client:
        active = {str(user["id"]): bool(user.get("active")) for user in client.list_users()}
    sent = _reopen(run_id=run_id, active=active)
    run_dispatch(run_id=run_id)
    run_finish(run_id=run_id)
    return sent


@retried_on_conflict
def _reopen(*, run_id: int, active: dict[str, bool]) -> int:
    with transaction.atomic():
        run = ImportRun.objects.select_for_update().get(pk=run_id)
        if run.is_open or run.finished_at is None or not run.held:
            return 0
        held = list(run.rows.filter(status=ImportRow.Status.HELD))
        sent = 0
        for row in held:
            if active.get(row.sr_user_id):
                row.status, row.message, sent = ImportRow.Status.PENDING, "", sent + 1
                row.payload = json.dumps(_deactivation(row).to_json())
            else:
                row.status = ImportRow.Status.DONE
                row.message = ALREADY_INACTIVE if row.sr_user_id in active else GONE
        ImportRow.objects.bulk_update(held, ["status", "message", "payload"], batch_size=1000)
        ImportRun.objects.filter(pk=run_id).update(
            status=ImportRun.Status.RUNNING,
            finished_at=None,
            held=0,
            rows_done=F("rows_done") - sent,
            updated_at=Now(),
        )
    return sent


def _deactivation(row: ImportRow) -> PlannedRow:
    return PlannedRow(
        None,
        row.email,
        row.first_name,
        row.last_name,
        Action.DEACTIVATE,
        row.sr_user_id,
        {"active": [True, False]},
        [Step(StepKind.DEACTIVATE)],
    )
