"""Export a company's users in the import format, so the file can be edited and imported back.

A company of at most `IMMEDIATE_MAX_USERS` users is exported at once (`export_small`, a few list
pages read inside the request); a larger one, or a "Complete" export (with locations: one extra
read per user whose copy in the directory mirror is not current), runs in a worker as a
`UserExport` job (`export_start`, then `export_run`).

The file has the 19 columns of the import format with a header row. `password`, `sendEmail` and
`oldEmail` are empty; `active` and `enabled` are `true`/`false` (an inactive user is written
`false`/`false`, so importing the file back changes nothing); access groups are joined with `|`.
Re-imported in Update mode with no change, every row plans as `unchanged`.

A job's file is stored encrypted until it is downloaded (`export_take`), or for a day at most
(`export_purge_expired`).
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import timedelta
from typing import IO, Any

from django.db import transaction
from django.utils import timezone

from imports import logs
from imports.csvfile import COLUMNS
from imports.models import UserExport
from imports.rows import canonical_language
from imports.services import queue
from imports.services.mirror import FullReader, mirror_open
from user2smart.companies.connection import CompanyApiError, company_api
from user2smart.companies.models import Company
from user2smart.smartrecruiters.client import SmartRecruitersClient

IMMEDIATE_MAX_USERS = 500
KEEP_HOURS = 24
READ_RETRIES = 5  # in a worker
REQUEST_READ_RETRIES = 1  # inside a web request: a person is waiting
REQUEST_TIMEOUT = (5, 20)
PROGRESS_EVERY_SECONDS = 1.0
STALLED_MINUTES = 10
OPEN_STATUSES = (UserExport.Status.PENDING, UserExport.Status.RUNNING)


class ExportFailed(Exception):
    """The export cannot be made; the message is for the admin."""


# The file ----------------------------------------------------------------------------------------


def user_cells(user: Mapping[str, Any], location: Mapping[str, Any] | None = None) -> dict:
    """One user (a UserListItem or UserEntity) as a row of the import format.

    `location` is the user's full location (Complete export); it is written only when it has
    the country and the city an import needs.
    """
    active = "true" if user.get("active") else "false"
    groups = user.get("accessGroups") or []
    cells = {
        "email": user.get("email") or "",
        "firstName": user.get("firstName") or "",
        "lastName": user.get("lastName") or "",
        "systemRoleId": (user.get("systemRole") or {}).get("id") or "",
        "externalData": user.get("externalData") or "",
        "languageCode": canonical_language((user.get("language") or {}).get("code")) or "",
        "ssoIdentifier": user.get("ssoIdentifier") or "",
        "active": active,
        "enabled": active,
        "accessGroupId": "|".join(str(group["id"]) for group in groups if group.get("id")),
    }
    if location and location.get("countryCode") and location.get("city"):
        cells.update(
            countryCode=str(location["countryCode"]).upper(),
            regionCode=location.get("regionCode") or "",
            region=location.get("region") or "",
            city=location["city"],
            address=location.get("address") or "",
            postalCode=location.get("postalCode") or "",
        )
    return cells


def write_users(out: IO[bytes], rows: Iterable[Mapping[str, str]], *, delimiter: str = ",") -> int:
    """Write rows of the import format (header first; formulas neutralised); how many."""
    return logs.write_failed_rows(out, rows, columns=COLUMNS, delimiter=delimiter)


def write_table(
    out: IO[bytes], header: Sequence[str], rows: Iterable[Sequence[Any]], *, delimiter: str = ","
) -> None:
    """A small table (e.g. roles: name, id) as CSV, like every file the product writes: UTF-8
    with a byte order mark, CRLF, formulas neutralised."""
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="")
    writer = csv.writer(text, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([logs.neutralise(cell) for cell in row])
    text.flush()
    text.detach()


def _users_file(rows: Iterable[Mapping[str, str]], delimiter: str) -> bytes:
    out = io.BytesIO()
    write_users(out, rows, delimiter=delimiter)
    return out.getvalue()


# Exporting at once ---------------------------------------------------------------------------


def export_small(*, company: Company, delimiter: str = ",") -> bytes | None:
    """The company's users as a file, when there are at most `IMMEDIATE_MAX_USERS` of them;
    `None` when there are more (start a job instead). Raises ExportFailed."""
    users: list[dict] = []
    with _reading(company, retries=REQUEST_READ_RETRIES) as client:
        for user in client.list_users():
            users.append(user)
            if len(users) > IMMEDIATE_MAX_USERS:
                return None
    return _users_file((user_cells(user) for user in users), delimiter)


@contextmanager
def _reading(company: Company, *, retries: int = READ_RETRIES) -> Iterator[SmartRecruitersClient]:
    """A client for the company's reads; SmartRecruiters errors become ExportFailed."""
    try:
        with company_api(
            company, doing="read the company's users", retries=retries, timeout=REQUEST_TIMEOUT
        ) as client:
            yield client
    except CompanyApiError as exc:
        raise ExportFailed(exc.message) from None


# Exporting in a worker -------------------------------------------------------------------------


def export_start(
    *,
    company: Company,
    delimiter: str = ",",
    complete: bool = False,
    created_by=None,
    enqueue: bool = True,
) -> UserExport:
    """Create the job; a worker makes the file after commit. With `enqueue=False` the caller
    makes it itself (`export_run`), e.g. `export_users` on the command line."""
    if delimiter not in (",", ";", "\t", "|"):
        raise ValueError(f"Unknown delimiter {delimiter!r}")
    with transaction.atomic():
        export = UserExport.objects.create(
            company=company, delimiter=delimiter, complete=complete, created_by=created_by
        )
        if enqueue:
            transaction.on_commit(lambda: queue.export_send(export.pk))
    return export


def export_run(export_id: int) -> None:
    """Make the job's file (claimed once: a duplicate task does nothing)."""
    export_purge_expired()
    claimed = UserExport.objects.filter(pk=export_id, status=UserExport.Status.PENDING).update(
        status=UserExport.Status.RUNNING, started_at=timezone.now(), updated_at=timezone.now()
    )
    if not claimed:
        return
    export = UserExport.objects.select_related("company").defer("content").get(pk=export_id)
    try:
        content = _export_file(export)
    except ExportFailed as exc:
        export_fail(export_id, str(exc))
        return
    UserExport.objects.filter(pk=export_id, status=UserExport.Status.RUNNING).update(
        status=UserExport.Status.FINISHED,
        content=content.decode("utf-8"),
        file_size=len(content),
        finished_at=timezone.now(),
        updated_at=timezone.now(),
    )


def export_fail(export_id: int, reason: str) -> None:
    """End an open job with the reason (for the admin)."""
    UserExport.objects.filter(pk=export_id, status__in=OPEN_STATUSES).update(
        status=UserExport.Status.FAILED,
        error=reason,
        finished_at=timezone.now(),
        updated_at=timezone.now(),
    )


def export_stalled(export: UserExport) -> bool:
    """An open job that has recorded no progress for a long time: its worker stopped."""
    quiet = timezone.now() - export.updated_at
    return export.is_open and quiet > timedelta(minutes=STALLED_MINUTES)


def _export_file(export: UserExport) -> bytes:
    progress = _Progress(export.pk)
    with _reading(export.company) as client:
        users: list[dict] = []
        for user in client.list_users():
            users.append(user)
            progress.record(0, len(users))
        progress.record(0, len(users), force=True)
        if export.complete:
            locations = _locations(export.company, users, progress)
            rows = [user_cells(user, locations.get(str(user["id"]))) for user in users]
        else:
            rows = [user_cells(user) for user in users]
    progress.record(len(users), len(users), force=True)
    return _users_file(rows, export.delimiter)


def _locations(company: Company, users: list[dict], progress: _Progress) -> dict[str, Any]:
    """Every user's location by id: from the mirror while SmartRecruiters shows no change to the
    user, else read in full (several at once) and kept in the mirror."""
    mirror = mirror_open(company_id=company.pk, advance=False)
    locations: dict[str, Any] = {}
    unknown: list[str] = []
    for user in users:
        seen = mirror.seen(user)
        if seen.location_known:
            locations[str(user["id"])] = seen.location
        else:
            unknown.append(str(user["id"]))
    done = len(users) - len(unknown)
    with FullReader(company) as reader:
        for user_id, entity in reader.read(unknown):
            if entity is not None:
                mirror.full(entity)
                locations[user_id] = entity.get("location")
            done += 1
            progress.record(done, len(users))
    mirror.flush()
    return locations


class _Progress:
    """Writes a job's counters at most once a second: the status page reads them."""

    def __init__(self, export_id: int) -> None:
        self.export_id = export_id
        self.last = 0.0

    def record(self, done: int, total: int, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < PROGRESS_EVERY_SECONDS:
            return
        self.last = now
        UserExport.objects.filter(pk=self.export_id).update(
            users_done=done, users_total=total, updated_at=timezone.now()
        )


# The file's short life -----------------------------------------------------------------------


def export_take(*, export: UserExport) -> bytes | None:
    """The job's file, deleted as it is handed over; `None` when it is no longer there.

    Claimed with a conditional UPDATE: of two clicks at once, exactly one gets the file.
    """
    available = UserExport.objects.filter(
        pk=export.pk, status=UserExport.Status.FINISHED, deleted_at__isnull=True
    )
    content = available.values_list("content", flat=True).first()
    if content is None:
        return None
    now = timezone.now()
    taken = available.update(content="", downloaded_at=now, deleted_at=now)
    return content.encode("utf-8") if taken else None


def export_purge_expired() -> int:
    """Delete the files of jobs older than a day; how many were deleted."""
    cutoff = timezone.now() - timedelta(hours=KEEP_HOURS)
    return UserExport.objects.filter(created_at__lt=cutoff, deleted_at__isnull=True).update(
        content="", deleted_at=timezone.now()
    )
