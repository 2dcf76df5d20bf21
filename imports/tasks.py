"""Thin Celery tasks: each takes ids and calls a service. Names are explicit and stable (the
services send them by name, `imports/services/queue.py`)."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from imports import exporting, services
from imports.services import retention
from user2smart.companies.connection import CompanyApiError
from user2smart.companies.models import Company

log = logging.getLogger(__name__)


@shared_task(
    name="imports.plan_run",
    time_limit=settings.IMPORT_PLAN_TIME_LIMIT,
    soft_time_limit=settings.IMPORT_PLAN_TIME_LIMIT - 30,
)
def plan_run(run_id: int) -> None:
    services.run_plan(run_id=run_id)


@shared_task(
    name="imports.apply_row",
    time_limit=settings.IMPORT_ROW_TIME_LIMIT,
    soft_time_limit=settings.IMPORT_ROW_TIME_LIMIT - max(1, settings.IMPORT_ROW_TIME_LIMIT // 6),
)
def apply_row(row_id: int) -> None:
    services.row_apply(row_id=row_id)


@shared_task(name="imports.dispatch", time_limit=60, soft_time_limit=50)
def dispatch() -> None:
    services.rows_dispatch_due()


@shared_task(name="imports.sweep", time_limit=120, soft_time_limit=100)
def sweep() -> None:
    services.sweep()


@shared_task(name="imports.fold_run", time_limit=600, soft_time_limit=570)
def fold_run(run_id: int) -> None:
    retention.run_fold(run_id=run_id)


@shared_task(name="imports.purge_expired", time_limit=600, soft_time_limit=570)
def purge_expired() -> None:
    services.run_purge_expired()
    exporting.export_purge_expired()
    retention.runs_fold_pending()
    retention.runs_purge_old()


@shared_task(
    name="imports.export_users",
    time_limit=settings.IMPORT_PLAN_TIME_LIMIT,
    soft_time_limit=settings.IMPORT_PLAN_TIME_LIMIT - 30,
)
def export_users(export_id: int) -> None:
    try:
        exporting.export_run(export_id)
    except SoftTimeLimitExceeded:
        exporting.export_fail(
            export_id,
            "The export took too long and was stopped. Export without Complete, or ask the "
            "User2Smart team for help.",
        )


# A full re-read is one call a user at the company's rate: 200,000 users take 5.5 hours.
@shared_task(name="imports.refresh_directory", time_limit=12 * 3600, soft_time_limit=12 * 3600 - 60)
def refresh_directory(company_id: int) -> None:
    company = Company.objects.filter(pk=company_id).first()
    if company is None:
        return
    try:
        read = services.mirror_refresh(company=company)
    except CompanyApiError as exc:
        log.warning("company %s: the directory re-read failed: %s", company_id, exc.message)
        return
    log.info("company %s: %s users read in full", company_id, read)
