"""Planning a run: read the company's directory once, check and plan every row, store the plan.

Nothing is sent to SmartRecruiters but reads. A dry run (preview) stops here; otherwise the run
goes on at once. A file-level problem, or a directory that cannot be read, fails the run before
any change, with the reason. A run asked to be all or nothing whose plan has a row in error
fails here too, before any row is queued: every row it would have sent is "not sent" (`_refuse`).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from itertools import islice
from typing import IO, Any, NamedTuple

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F
from django.db.models.functions import Now
from django.utils import timezone

from imports.csvfile import CsvFileError, CsvOptions
from imports.models import PLAN_UNFINISHED, ImportRow, ImportRun, Missing
from imports.planner import (
    MATCH_EMAIL,
    Absence,
    Action,
    Directory,
    DirectoryUser,
    Mode,
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
from imports.services.control import run_stop
from imports.services.early import PAGE, EarlyWrites, early_candidates, stored_row
from imports.services.intake import forget_file, open_file
from imports.services.mirror import FullReader, Mirror, mirror_open, user_reader
from imports.services.progress import ENDING, not_sent_message, run_dispatch, run_finish
from imports.services.undo import undo_planned
from user2smart.companies.connection import CompanyApiError, company_api
from user2smart.smartrecruiters.client import SmartRecruitersClient

log = logging.getLogger(__name__)

BATCH = 1000
PREFETCH_ROWS = 200
DIRECTORY_RETRIES = 5


# The system roles and access groups, as SmartRecruiters lists them.
Lookups = tuple[list[dict[str, Any]], list[dict[str, Any]]]


class RunStopped(Exception):
    """The run cannot go on; the message is for the person who started it."""


def read_directory(
    client: SmartRecruitersClient,
    mirror: Mirror,
    recorder: CheckRecorder | None = None,
    *,
    early: EarlyWrites | None = None,
    lookups: Lookups | None = None,
) -> Directory:
    """One paginated read of every user (100 a page), the system roles and the access groups
    (`lookups`: read already).

    A user's location comes from the mirror when its copy is current; the others are read in
    full only if a row needs them (`read_location` below). With `early`, the rows whose user a
    page shows are sent after that page (`imports/services/early.py`).
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
        if early is not None:
            early.listed(item, changed_outside=seen.changed_outside)
            if len(users) % PAGE == 0:
                early.send()
    if early is not None:
        early.send()
    if recorder is not None:
        recorder.record(users_listed=len(users), force=True)
    roles, groups = lookups or (client.list_system_roles(), client.list_access_groups())
    return Directory.from_api(
        users=users, system_roles=roles, access_groups=groups, changed_outside=changed_outside
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
    claimed = (
        ImportRun.objects.filter(PLAN_UNFINISHED, pk=run_id, plan_claimed_at__isnull=True)
        # The database's clock: the sweeper's lease.
        .update(plan_claimed_at=Now())
    )
    if not claimed:
        return
    run = ImportRun.objects.select_related("company").get(pk=run_id)
    recorder = CheckRecorder(run.pk)
    try:
        _plan(run, recorder)
    except RunStopped as exc:
        _fail(run, str(exc))
        return
    except Exception:
        # Its time limit, or a fault of ours. A run already sending (early writes) stops now,
        # saying so, rather than wait for the sweeper with its file gone (forgotten below).
        if not ImportRun.objects.filter(pk=run.pk, planning=True).exists():
            raise
        log.exception("run %s: the plan stopped after its first changes were sent", run.pk)
        _fail(run, PLAN_BROKE)
        return
    finally:
        forget_file(run)
        recorder.forget()

    if run.status == ImportRun.Status.RUNNING:
        run_dispatch(run_id=run.pk)
    if run.status in ENDING:
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
            # What an earlier attempt stored (its first changes sent; its worker died): the
            # lines, and the users written to.
            earlier = list(run.rows.values_list("line", "sr_user_id"))
            stored = {line for line, _ in earlier if line is not None}
            survey = None if run.source == ImportRun.Source.UNDO else _survey(run, recorder)
            early, lookups = _early(run, client, stored, survey) if survey else (None, None)
            directory = read_directory(client, mirror, recorder, early=early, lookups=lookups)
            # Users this run has written to already: the list's view of them is older.
            mirror.written(
                {user_id for _, user_id in earlier if user_id}
                | (early.user_ids if early is not None else set())
            )
            read_user = user_reader(client)

            def read_location(user: DirectoryUser) -> Mapping[str, Any] | None:
                entity = mirror.read_full(read_user, user.id)
                return entity.get("location") if entity is not None else None

            if survey is None:
                _plan_undo(run, directory, read_location)
            else:
                planned_before = stored | (early.lines if early is not None else set())
                _plan_file(
                    run,
                    survey,
                    client,
                    directory,
                    mirror,
                    reader,
                    read_location,
                    recorder,
                    planned_before,
                )
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


def _early_allowed(run: ImportRun) -> bool:
    """Whether the run may send its first changes while the directory is read (early.py)."""
    return (
        settings.IMPORT_EARLY_WRITES
        and connection.vendor == "postgresql"
        and not run.dry_run
        and not run.all_or_nothing
        and run.source != ImportRun.Source.UNDO
        and run.mode != Mode.CREATE
    )


class FileSurvey(NamedTuple):
    """The run's file, read once before the directory: the profile it is read through, its
    rows, and (a profile that finds users by employee id) the ids more than one row holds."""

    profile: Profile
    rows_total: int
    repeated_ids: dict[str, tuple[int, ...]]


def _survey(run: ImportRun, recorder: CheckRecorder) -> FileSurvey:
    """Counted first (no call, a fraction of the plan's time): the page can say "rows checked
    of the file's rows", and a file-level error fails the run before the directory is read."""
    profile = _profile(run)
    with open_file(run) as handle:
        rows_total, repeated_ids = _read(handle, run, profile).survey(
            employee_ids=profile.match != MATCH_EMAIL
        )
    recorder.record(rows_total=rows_total, force=True)
    return FileSurvey(profile, rows_total, repeated_ids)


def _early(
    run: ImportRun, client: SmartRecruitersClient, stored: set[int], survey: FileSurvey
) -> tuple[EarlyWrites | None, Lookups | None]:
    """The run's early writes (None when it may not send early), and the roles and groups read
    to check its rows before the list (the plan reuses them)."""
    if (
        not _early_allowed(run)
        or survey.profile.match != MATCH_EMAIL
        or survey.rows_total > settings.IMPORT_EARLY_MAX_ROWS
    ):
        return None, None
    lookups = (client.list_system_roles(), client.list_access_groups())
    known = Directory.from_api(users=(), system_roles=lookups[0], access_groups=lookups[1])
    with open_file(run) as handle:
        records = _read(handle, run, survey.profile)
        checker = RowChecker(roles=known.roles, groups=known.groups, ignored=records.ignored)
        candidates = early_candidates(check_records(records, checker), skip=stored)
    return EarlyWrites(run, candidates, rows_total=survey.rows_total), lookups


def _plan_file(
    run: ImportRun,
    survey: FileSurvey,
    client: SmartRecruitersClient,
    directory: Directory,
    mirror: Mirror,
    reader: FullReader,
    read_location: ReadLocation,
    recorder: CheckRecorder,
    planned_before: set[int],
) -> None:
    """Read (through the run's import profile), check and plan every record of the run's
    file but those stored already (`planned_before`, early writes); store the plan."""
    profile = survey.profile
    with open_file(run) as handle:
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
                    repeated_ids=survey.repeated_ids,
                    planned_before=planned_before,
                )
            ),
            recorder,
            mirror,
        )
        if absence is not None:
            run.deactivation_limit = _deactivation_limit(run, directory)
        if connection.vendor == "sqlite" or planned_before:
            # SQLite has one writer for the whole database: plan every row (and make
            # its reads) before taking the write lock, which uploads, pages and rows
            # would otherwise wait on for the whole plan. The demo's files are small. A
            # run already sending (early writes) locks itself to store the rest: briefly.
            planned = iter(list(planned))
        with transaction.atomic():
            _store_plan(run, planned, limit=run.deactivation_limit or 0, early=bool(planned_before))
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


def _store_plan(
    run: ImportRun, planned: Iterator[PlannedRow], *, limit: int, early: bool = False
) -> None:
    """Store the plan's rows and counts, and start the run (or keep its preview).

    `early`: the run sends already (its first changes, `early.py`): it is locked first (one
    lock order: the run, then its rows), its stored rows are counted in, the counters its rows
    moved meanwhile are added to, and a run stopped meanwhile gets its other rows "not sent".
    """
    stopped: tuple[str, str] | None = None
    stored: Counter[str] = Counter()
    if early:
        locked = ImportRun.objects.select_for_update().get(pk=run.pk)
        if locked.status != ImportRun.Status.RUNNING:
            stopped = (locked.status, locked.error)
        for action, count in run.rows.values_list("action").annotate(n=Count("pk")):
            stored[action] = count
    not_sent = (
        not_sent_message(run_status=stopped[0], run_error=stopped[1], partly=False)
        if stopped
        else ""
    )
    counts = {action: 0 for action in Action}
    batch: list[ImportRow] = []
    absent: list[ImportRow] = []
    skipped = 0
    for row in planned:
        counts[row.action] += 1
        if row.action is Action.DEACTIVATE:
            absent.append(stored_row(run, row))  # the last rows: held or not, once all are known
            continue
        batch.append(stored_row(run, row))
        if len(batch) >= BATCH:
            skipped += _create(batch, not_sent)
            batch.clear()
    skipped += _create(batch, not_sent)
    held = len(absent) if len(absent) > limit else 0
    if held:
        message = "Held, not deactivated: " + held_message(missing=held, limit=limit)
        for kept in absent:
            kept.status, kept.message = ImportRow.Status.HELD, message
    skipped += _create(absent, not_sent)
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
    if early:
        ImportRun.objects.filter(pk=run.pk).update(
            **{name: getattr(run, name) for name in FOUND_IN_FILE},
            held=held,
            count_deactivate=run.count_deactivate + stored[Action.DEACTIVATE.value],
            rows_total=run.rows_total + sum(stored.values()),
            count_create=run.count_create + stored[Action.CREATE.value],
            count_update=run.count_update + stored[Action.UPDATE.value],
            count_unchanged=run.count_unchanged + stored[Action.UNCHANGED.value],
            count_error=run.count_error + stored[Action.ERROR.value],
            rows_done=F("rows_done") + run.rows_done + skipped,
            rows_failed=F("rows_failed") + run.rows_failed,
            rows_skipped=F("rows_skipped") + skipped,
            planned_at=now,
            planning=False,
        )
        run.refresh_from_db()
        return
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


# What planning found in the file, stored with the plan.
FOUND_IN_FILE = (
    "encoding",
    "delimiter",
    "quotechar",
    "has_header",
    "columns",
    "deactivation_limit",
)


def _create(rows: list[ImportRow], not_sent: str) -> int:
    """Insert `rows`; with `not_sent` (the run stopped while it was planned) the rows that
    would be sent are not, saying why (and may be sent again by "Retry failed rows"). How many
    were not sent."""
    skipped = 0
    if not_sent:
        for row in rows:
            if row.status == ImportRow.Status.PENDING:
                row.status, row.message, row.transient = ImportRow.Status.SKIPPED, not_sent, True
                skipped += 1
    ImportRow.objects.bulk_create(rows, batch_size=BATCH)
    return skipped


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


def _fail(run: ImportRun, reason: str) -> None:
    """The plan cannot go on. A run whose first changes were sent (early writes) stops like a
    cancelled one: those changes stay, nothing more is sent, and it ends once its rows have."""
    if ImportRun.objects.filter(pk=run.pk, planning=True).exists():
        reason = reason.replace(" Nothing was changed.", "") + EARLY_SENT
        run_stop(run_id=run.pk, reason=reason, status=ImportRun.Status.FAILED)
        with transaction.atomic():
            ImportRun.objects.select_for_update().get(pk=run.pk)
            stored = dict(run.rows.values_list("action").annotate(n=Count("pk")))
            ImportRun.objects.filter(pk=run.pk).update(
                rows_total=sum(stored.values()),
                count_update=stored.get(Action.UPDATE.value, 0),
                planned_at=Now(),
                planning=False,
            )
        run_finish(run_id=run.pk)
        run.refresh_from_db()
        return
    ImportRun.objects.filter(pk=run.pk).update(
        status=ImportRun.Status.FAILED, error=reason, finished_at=Now()
    )
    run.status = ImportRun.Status.FAILED


PLAN_BROKE = "The check of the file could not be finished (the error is logged)."
EARLY_SENT = (
    " The changes already sent while the file was checked stay; the other rows were not sent."
)


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
