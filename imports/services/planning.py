"""Planning a run: read the company's directory once, check and plan every row, store the plan.

Nothing is sent to SmartRecruiters but reads. A dry run (preview) stops here; otherwise the run
goes on at once. A file-level problem, or a directory that cannot be read, fails the run before
any change, with the reason. A run asked to be all or nothing whose plan has a row in error
fails here too, before any row is queued: every row it would have sent is "not sent" (`_refuse`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator, Mapping
from itertools import islice
from typing import IO, Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.db.models.functions import Now
from django.utils import timezone

from imports.csvfile import CsvFileError, CsvOptions
from imports.models import ImportRow, ImportRun, Missing
from imports.planner import (
    Absence,
    Action,
    Directory,
    DirectoryUser,
    PlannedRow,
    ReadLocation,
    plan_rows,
)
from imports.profiles import (
    STANDARD,
    Profile,
    ProfiledFile,
    ProfileError,
    profile_from_json,
    profile_read,
)
from imports.rows import RejectedRow, RowChecker, UserRow, check_records
from imports.services.checking import CheckRecorder
from imports.services.intake import forget_file, open_file
from imports.services.mirror import FullReader, Mirror, mirror_open, user_reader
from imports.services.progress import run_dispatch, run_finish
from imports.services.undo import undo_planned
from user2smart.companies.connection import CompanyApiError, company_api
from user2smart.smartrecruiters.client import SmartRecruitersClient

log = logging.getLogger(__name__)

BATCH = 1000
PREFETCH_ROWS = 200
DIRECTORY_RETRIES = 5


class RunStopped(Exception):
    """The run cannot go on; the message is for the person who started it."""


def read_directory(
    client: SmartRecruitersClient, mirror: Mirror, recorder: CheckRecorder | None = None
) -> Directory:
    """One paginated read of every user (100 a page), the system roles and the access groups.

    A user's location comes from the mirror when its copy is current; the others are read in
    full only if a row needs them (`read_location` below).
    """
    users: list[Mapping[str, Any]] = []
    changed_outside: set[str] = set()
    for item in client.list_users():
        if recorder is not None:
            recorder.record(users_listed=len(users))
        seen = mirror.seen(item)
        if seen.location_known:
            item = {**item, "location": seen.location}
        if seen.changed_outside:
            changed_outside.add(str(item["id"]))
        users.append(item)
    if recorder is not None:
        recorder.record(users_listed=len(users), force=True)
    return Directory.from_api(
        users=users,
        system_roles=client.list_system_roles(),
        access_groups=client.list_access_groups(),
        changed_outside=changed_outside,
    )


def _locations_first(
    rows: Iterable[UserRow | RejectedRow],
    directory: Directory,
    mirror: Mirror,
    reader: FullReader,
    recorder: CheckRecorder,
) -> Iterator[UserRow | RejectedRow]:
    """The checked rows, unchanged, but before each batch is planned the users whose location
    it needs and the mirror does not hold are read in full, several at once (the planner would
    otherwise read them one by one, at one call per round trip)."""
    iterator = iter(rows)
    while batch := list(islice(iterator, PREFETCH_ROWS)):
        wanted: dict[str, DirectoryUser] = {}
        for row in batch:
            if not isinstance(row, UserRow) or not row.country_code:
                continue
            old_key = row.old_email.lower() if row.old_email else None
            user, _ = directory.lookup(row.email.lower(), old_key)
            if user is not None and user.location is None:
                wanted[user.id] = user
        for user_id, entity in reader.read(wanted):
            if entity is not None:
                mirror.full(entity)
            recorder.record(users_read_in_full=mirror.reads)
            location = entity.get("location") if entity is not None else None
            directory.set_location(wanted[user_id], location)
        yield from batch


def run_plan(*, run_id: int) -> None:
    """Plan the run (claimed once: a duplicate task does nothing)."""
    claimed = ImportRun.objects.filter(
        pk=run_id, status=ImportRun.Status.VALIDATING, plan_claimed_at__isnull=True
    ).update(plan_claimed_at=Now())  # the database's clock: the sweeper's lease
    if not claimed:
        return
    run = ImportRun.objects.select_related("company").get(pk=run_id)
    recorder = CheckRecorder(run.pk)
    try:
        _plan(run, recorder)
    except RunStopped as exc:
        _fail(run, str(exc))
        return
    finally:
        forget_file(run)
        recorder.forget()

    if run.status == ImportRun.Status.RUNNING:
        run_dispatch(run_id=run.pk)
    if run.status in (ImportRun.Status.RUNNING, ImportRun.Status.FAILED):
        run_finish(run_id=run.pk)


def _counted(
    planned: Iterable[PlannedRow], recorder: CheckRecorder, mirror: Mirror
) -> Iterator[PlannedRow]:
    """The planned rows, unchanged, each row of the file counted as checked."""
    checked = 0
    for row in planned:
        if row.line is not None:
            checked += 1
            recorder.record(rows_checked=checked, users_read_in_full=mirror.reads)
        yield row
    recorder.record(rows_checked=checked, users_read_in_full=mirror.reads, force=True)


def _plan(run: ImportRun, recorder: CheckRecorder) -> None:
    company = run.company
    mirror = mirror_open(company_id=company.pk, advance=not run.dry_run)
    try:
        with (
            company_api(
                company, doing="read the company's users", retries=DIRECTORY_RETRIES
            ) as client,
            FullReader(company) as reader,
        ):
            directory = read_directory(client, mirror, recorder)
            read_user = user_reader(client)

            def read_location(user: DirectoryUser) -> Mapping[str, Any] | None:
                entity = mirror.read_full(read_user, user.id)
                return entity.get("location") if entity is not None else None

            if run.source == ImportRun.Source.UNDO:
                _plan_undo(run, directory, read_location)
            else:
                _plan_file(run, client, directory, mirror, reader, read_location, recorder)
    except CsvFileError as exc:
        raise RunStopped(str(exc)) from None
    except CompanyApiError as exc:
        log.warning("run %s: reading the directory failed", run.pk)
        raise RunStopped(f"{exc.message} Nothing was changed.") from None
    finally:
        # Whatever ended the plan (a bad file, its time limit), what was read stays true and
        # saves the next plan those reads.
        mirror.flush()
    if mirror.advance:
        mirror.settle()  # the plan is stored: the run's view of the directory is the baseline
    log.info("run %s planned: %s users read in full", run.pk, mirror.reads)


def _plan_file(
    run: ImportRun,
    client: SmartRecruitersClient,
    directory: Directory,
    mirror: Mirror,
    reader: FullReader,
    read_location: ReadLocation,
    recorder: CheckRecorder,
) -> None:
    """Read (through the run's import profile), check and plan every record of the run's
    file; store the plan."""
    profile = _profile(run)
    with open_file(run) as handle:
        # Counted first (no call, a fraction of the plan's time) so the page can say "rows
        # checked of the file's rows"; a file-level error is raised here. A profile that finds
        # users by employee id also learns here which ids more than one row holds (each of
        # those rows is an error).
        rows_total, repeated_ids = _read(handle, run, profile).survey(
            employee_ids=profile.match == "externalData"
        )
        recorder.record(rows_total=rows_total, force=True)
        handle.seek(0)
        records = _read(handle, run, profile)
        dialect = records.dialect
        run.encoding = dialect.encoding
        run.delimiter = dialect.delimiter
        run.quotechar = dialect.quotechar or ""
        run.has_header = dialect.header
        run.columns = list(records.columns)
        checker = RowChecker(
            roles=directory.roles, groups=directory.groups, ignored=records.ignored
        )
        checked = _locations_first(
            check_records(records, checker), directory, mirror, reader, recorder
        )
        absence = _absence(run, client) if run.missing == Missing.DEACTIVATE else None
        planned = _counted(
            records.name_sources(
                plan_rows(
                    checked,
                    run.mode,
                    directory,
                    read_location=read_location,
                    absence=absence,
                    match=profile.match,
                    repeated_ids=repeated_ids,
                )
            ),
            recorder,
            mirror,
        )
        if absence is not None:
            run.deactivation_limit = _deactivation_limit(run, directory)
        if connection.vendor == "sqlite":
            # SQLite has one writer for the whole database: plan every row (and make
            # its reads) before taking the write lock, which uploads, pages and rows
            # would otherwise wait on for the whole plan. The demo's files are small.
            planned = iter(list(planned))
        with transaction.atomic():
            _store_plan(run, planned, limit=run.deactivation_limit or 0)
            if absence is not None:
                run.left_alone = dict(absence.left_alone)
                run.save(update_fields=["left_alone"])


def _plan_undo(run: ImportRun, directory: Directory, read_location: ReadLocation) -> None:
    """Plan putting back what the run undone applied (`imports/services/undo.py`)."""
    if run.undoes_id is None:
        raise RunStopped("The import to undo is no longer kept: nothing was changed.")
    planned = undo_planned(run=run, directory=directory, read_location=read_location)
    if connection.vendor == "sqlite":
        planned = iter(list(planned))  # as for a file: no write lock held while planning
    with transaction.atomic():
        _store_plan(run, planned, limit=0)


def _profile(run: ImportRun) -> Profile:
    if not run.profile:
        return STANDARD
    try:
        return profile_from_json(run.profile)
    except ProfileError as exc:
        raise RunStopped(f"The import profile cannot be used: {exc}") from None


def _read(handle: IO[bytes], run: ImportRun, profile: Profile) -> ProfiledFile:
    return profile_read(
        handle,
        profile,
        CsvOptions(**run.options),
        max_bytes=settings.IMPORT_MAX_FILE_BYTES,
        max_rows=settings.IMPORT_MAX_ROWS,
    )


def _absence(run: ImportRun, client: SmartRecruitersClient) -> Absence:
    """Who this full sync never deactivates for being missing from the file."""
    company = run.company
    managed = None
    if company.missing_managed_only:
        managed = frozenset(
            ImportRow.objects.filter(
                run__company=company,
                status=ImportRow.Status.DONE,
                action__in=[ImportRow.Action.CREATE, ImportRow.Action.UPDATE],
            )
            .exclude(sr_user_id="")
            .values_list("sr_user_id", flat=True)
            .distinct()
        )
    return Absence(
        credential_user_id=str(client.me()["id"]),
        admins=company.missing_admins,
        protected=company.protected_email_set,
        managed=managed,
    )


def _deactivation_limit(run: ImportRun, directory: Directory) -> int:
    if run.deactivation_limit is not None:
        return run.deactivation_limit
    active = sum(1 for user in directory.users.values() if user.active)
    return run.company.missing_limit(active)


def held_message(*, missing: int, limit: int) -> str:
    people = "1 person is" if missing == 1 else f"{missing} people are"
    return (
        f"{people} not in this file; the limit is {limit}. Nothing was deactivated. Check the "
        "file, then allow these deactivations."
    )


def _store_plan(run: ImportRun, planned: Iterator[PlannedRow], *, limit: int) -> None:
    counts = {action: 0 for action in Action}
    batch: list[ImportRow] = []
    absent: list[ImportRow] = []
    for row in planned:
        counts[row.action] += 1
        if row.action is Action.DEACTIVATE:
            absent.append(_row(run, row))  # the last rows: held or not, once all are known
            continue
        batch.append(_row(run, row))
        if len(batch) >= BATCH:
            ImportRow.objects.bulk_create(batch)
            batch.clear()
    ImportRow.objects.bulk_create(batch)
    held = len(absent) if len(absent) > limit else 0
    if held:
        message = "Held, not deactivated: " + held_message(missing=held, limit=limit)
        for kept in absent:
            kept.status, kept.message = ImportRow.Status.HELD, message
    ImportRow.objects.bulk_create(absent, batch_size=BATCH)
    run.held = held
    run.count_deactivate = counts[Action.DEACTIVATE]

    now = timezone.now()
    run.rows_total = sum(counts.values())
    run.count_create = counts[Action.CREATE]
    run.count_update = counts[Action.UPDATE]
    run.count_unchanged = counts[Action.UNCHANGED]
    run.count_error = counts[Action.ERROR]
    run.rows_done = counts[Action.UNCHANGED] + counts[Action.ERROR] + held
    run.rows_failed = counts[Action.ERROR]
    run.planned_at = now
    if run.dry_run:
        run.status = ImportRun.Status.PLANNED
    elif run.all_or_nothing and run.count_error:
        run.save()
        _refuse(run)
        return
    else:
        run.status = ImportRun.Status.RUNNING
        run.started_at = now
    run.save()


def all_or_nothing_message(errors: int) -> str:
    rows = "1 row has errors" if errors == 1 else f"{errors} rows have errors"
    return f"Nothing was applied because {rows}; fix them or turn off 'all or nothing'."


def _refuse(run: ImportRun) -> None:
    """All or nothing, and the plan has rows in error: nothing is sent. Every row that would
    have been sent (held deactivations too) ends "not sent", not to be retried; the run fails
    without starting. Called in the transaction that stored the plan, or that locked the
    previewed run, so no row is ever queued."""
    message = all_or_nothing_message(run.count_error)
    skip = {
        "status": ImportRow.Status.SKIPPED,
        "message": f"Not sent: {message[0].lower()}{message[1:]}",
        "transient": False,
        "updated_at": Now(),
    }
    rows = ImportRow.objects.filter(run_id=run.pk)
    pending = rows.filter(status=ImportRow.Status.PENDING).update(**skip)
    held = rows.filter(status=ImportRow.Status.HELD).update(**skip)  # already counted done
    ImportRun.objects.filter(pk=run.pk).update(
        status=ImportRun.Status.FAILED,
        error=message,
        started_at=None,
        held=0,
        rows_done=F("rows_done") + pending,
        rows_skipped=F("rows_skipped") + pending + held,
    )
    run.refresh_from_db()
    log.info("run %s: all or nothing, %s rows in error, nothing sent", run.pk, run.count_error)


def _row(run: ImportRun, planned: PlannedRow) -> ImportRow:
    if planned.action is Action.ERROR:
        status, payload = ImportRow.Status.ERROR, json.dumps(planned.redacted().to_json())
    elif planned.action is Action.UNCHANGED:
        status, payload = ImportRow.Status.DONE, ""
    else:
        status, payload = ImportRow.Status.PENDING, json.dumps(planned.to_json())
    return ImportRow(
        run=run,
        line=planned.line,
        email=planned.email[:320],
        first_name=planned.first_name[:300],
        last_name=planned.last_name[:300],
        action=planned.action.value,
        changes=planned.changes,
        errors=[error.to_json() for error in planned.errors],
        status=status,
        message=planned.message,
        sr_user_id=planned.user_id or "",
        payload=payload,
    )


def _fail(run: ImportRun, reason: str) -> None:
    ImportRun.objects.filter(pk=run.pk).update(
        status=ImportRun.Status.FAILED, error=reason, finished_at=Now()
    )
    run.status = ImportRun.Status.FAILED


def run_apply(*, run_id: int) -> bool:
    """Apply a previewed plan. False when the run is no longer waiting for it.

    An all or nothing run whose plan has rows in error sends nothing: it fails at once.
    """
    with transaction.atomic():
        run = ImportRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.status != ImportRun.Status.PLANNED:
            return False
        run.dry_run = False
        if run.all_or_nothing and run.count_error:
            run.save(update_fields=["dry_run"])
            _refuse(run)
        else:
            run.status, run.started_at = ImportRun.Status.RUNNING, timezone.now()
            run.save(update_fields=["status", "started_at", "dry_run"])
    if run.status == ImportRun.Status.RUNNING:
        run_dispatch(run_id=run_id)
    run_finish(run_id=run_id)
    return True
