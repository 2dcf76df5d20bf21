"""The directory mirror: what SmartRecruiters last returned for each user of a company.

The list pages are cheap and always current, but their items carry no location; a full record
costs one `GET /users/{id}` per user. The mirror keeps each user's full record with the
`updatedOn` it was read at (`full_updated_on`), so a plan or a Complete export reads a user again
only when the list shows that `updatedOn` has moved, or the copy is older than
`DIRECTORY_MIRROR_MAX_AGE_DAYS` (the hedge in case SmartRecruiters does not move `updatedOn` for
some change). An unchanged person costs no call beyond the list page.

Kept true by every write: a create or PATCH answer (the user entity) is stored as it is; a write
that answers no user (activation, access groups) marks the copy stale, so the next plan reads it
once. A copy is only ever a pair (record, the `updatedOn` it belongs to), so an older write that
lands late leaves a pair the next list disagrees with, and the user is read again.

`updated_on` is the baseline for "changed in SmartRecruiters since the last import": the
`updatedOn` a run last planned against, or our last write's answer. A preview or an export does
not move it, so the run that follows still says what changed outside User2Smart.

Only what SmartRecruiters returns is kept: no file data, no password. One company's mirror is
never read for another.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from imports.models import MirroredUser
from imports.services import queue
from user2smart.companies.connection import client_for, company_api
from user2smart.companies.models import Company
from user2smart.dbclock import db_now
from user2smart.smartrecruiters.client import SmartRecruitersClient
from user2smart.smartrecruiters.errors import RejectedError

log = logging.getLogger(__name__)

FLUSH_EVERY = 500
READ_RETRIES = 5
# Full reads in flight at once for one plan, export or re-read (at most the company's
# concurrency): enough to keep 10 requests/s busy at SmartRecruiters' usual latency.
READ_WORKERS = 4
# What a reader (a plan, an export, a re-read) writes: the copy. The "changed outside"
# baseline (`updated_on`, `expect_change`) is only set when a copy is first made, by our own
# writes, and by a run once its plan is stored (`Mirror.settle`).
_COPY_FIELDS = (
    "email",
    "first_name",
    "last_name",
    "external_data",
    "record",
    "full_updated_on",
    "full_read_at",
    "seen_at",
)
_ALL_FIELDS = (*_COPY_FIELDS, "updated_on", "expect_change")

ReadUser = Callable[[str], Mapping[str, Any] | None]


@dataclass(slots=True)
class _Copy:
    pk: int | None
    updated_on: str
    full_updated_on: str
    full_read_at: datetime | None
    expect_change: bool
    location: Any
    record_updated_on: str


@dataclass(frozen=True, slots=True)
class Seen:
    """What the mirror says about a user the list just returned."""

    location_known: bool
    location: Mapping[str, Any] | None
    changed_outside: bool


class Mirror:
    """One company's mirror, loaded for one plan, export or re-read; `flush` writes it back.

    `advance`: the reader is a run that will act on the plan (not a preview or an export), so
    the "changed outside" baseline moves to what the list shows now, and users no longer listed
    are forgotten.
    """

    def __init__(self, company_id: int, *, advance: bool) -> None:
        self.company_id = company_id
        self.advance = advance
        self.now = db_now()
        self.oldest_trusted = self.now - timedelta(days=settings.DIRECTORY_MIRROR_MAX_AGE_DAYS)
        self.copies: dict[str, _Copy] = {}
        rows = MirroredUser.objects.filter(company_id=company_id).values_list(
            "pk",
            "user_id",
            "updated_on",
            "full_updated_on",
            "full_read_at",
            "expect_change",
            "record__location",  # not the whole record: a plan needs only these
            "record__updatedOn",
        )
        for pk, user_id, updated_on, full_on, read_at, expect, location, on in rows.iterator(2000):
            copy = _Copy(
                pk, updated_on, full_on, read_at, expect, location, stamp({"updatedOn": on})
            )
            self.copies[user_id] = copy
        self.listed: set[str] = set()
        self.reads = 0
        self._dirty: dict[str, MirroredUser] = {}
        # A run's baseline moves, applied once its plan is stored: user id -> (the baseline and
        # expect_change loaded, the updatedOn the list shows now).
        self._moves: dict[str, tuple[str, bool, str]] = {}

    # The list ---------------------------------------------------------------------------------

    def seen(self, item: Mapping[str, Any]) -> Seen:
        """A user as the list returned it: whether its location is known from the mirror."""
        user_id = str(item["id"])
        now_on = stamp(item)
        self.listed.add(user_id)
        copy = self.copies.get(user_id)
        if copy is None:
            self._keep(item, location=None, full_on="", read_at=None)
            return Seen(False, None, False)
        moved = bool(now_on) and copy.updated_on != now_on
        changed_outside = moved and bool(copy.updated_on) and not copy.expect_change
        if copy.record_updated_on != now_on:
            self._keep(
                item,
                location=copy.location,
                full_on=copy.full_updated_on,
                read_at=copy.full_read_at,
            )
        if self.advance and now_on and (moved or copy.expect_change):
            # A move seen, or a write of ours that moved nothing (it failed): the next plan
            # compares with what this one saw.
            self._moves[user_id] = (copy.updated_on, copy.expect_change, now_on)
        trusted = (
            bool(now_on)
            and copy.full_updated_on == now_on
            and copy.full_read_at is not None
            and copy.full_read_at >= self.oldest_trusted
        )
        return Seen(trusted, copy.location if trusted else None, changed_outside)

    def full(self, entity: Mapping[str, Any]) -> None:
        """A user's full record, just read (`GET /users/{id}`)."""
        self.reads += 1
        self._keep(entity, location=entity.get("location"), full_on=stamp(entity), read_at=self.now)

    def read_full(self, read_user: ReadUser, user_id: str) -> Mapping[str, Any] | None:
        """Read a user in full through `read_user` (None: gone since the list) and keep it."""
        entity = read_user(user_id)
        if entity is not None:
            self.full(entity)
        return entity

    def flush(self) -> None:
        """Write the copies read (in batches). A new copy gets its baseline; an existing one
        keeps its own, whatever a write of ours set meanwhile."""
        _upsert(self._dirty.values(), fields=_COPY_FIELDS)
        self._dirty.clear()

    def written(self, user_ids: Iterable[str]) -> None:
        """Users a write of this run may have changed since the list showed them (its early
        writes): neither their copy nor their baseline is taken from the list; the writes'
        answers (or their stale marks) stand."""
        for user_id in user_ids:
            self._dirty.pop(user_id, None)
            self._moves.pop(user_id, None)

    def settle(self) -> None:
        """After a run's plan is stored: move the baseline of the users whose `updatedOn`
        moved (compare-and-set: a write of ours since the load wins), and forget the users the
        complete list no longer has. A plan that failed settles nothing."""
        for user_id, (loaded, expected, now_on) in self._moves.items():
            MirroredUser.objects.filter(
                company_id=self.company_id,
                user_id=user_id,
                updated_on=loaded,
                expect_change=expected,
            ).update(updated_on=now_on, expect_change=False)
        self._moves.clear()
        self.forget_unlisted()

    def forget_unlisted(self) -> int:
        """Forget the users the (complete) list no longer has. How many."""
        gone = [copy.pk for uid, copy in self.copies.items() if uid not in self.listed and copy.pk]
        for start in range(0, len(gone), FLUSH_EVERY):
            MirroredUser.objects.filter(pk__in=gone[start : start + FLUSH_EVERY]).delete()
        return len(gone)

    def _keep(
        self, data: Mapping[str, Any], *, location: Any, full_on: str, read_at: datetime | None
    ) -> None:
        record = dict(data)
        if location is not None:
            record["location"] = location
        user = _entry(self.company_id, record, now=self.now)
        old = self.copies.get(user.user_id)
        # The baseline of a new copy: the version first seen. An existing copy keeps its own.
        user.updated_on = old.updated_on if old is not None else stamp(record)
        user.expect_change = old.expect_change if old is not None else False
        user.full_updated_on = full_on
        user.full_read_at = read_at
        self._dirty[user.user_id] = user
        self.copies[user.user_id] = _Copy(
            old.pk if old is not None else None,
            user.updated_on,
            full_on,
            read_at,
            user.expect_change,
            location,
            stamp(record),
        )
        if len(self._dirty) >= FLUSH_EVERY and not connection.in_atomic_block:
            # Inside a transaction (a plan storing its rows) the copies wait for `flush` after
            # it: a row worker writing a copy of ours must never wait for a plan to commit.
            self.flush()


def stamp(data: Mapping[str, Any]) -> str:
    """A user's `updatedOn` in one spelling (UTC, milliseconds), so a list item and a full
    record of one version compare equal however SmartRecruiters writes the fraction; empty when
    missing or unreadable (never trusted)."""
    text = data.get("updatedOn")
    if not isinstance(text, str) or not text:
        return ""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


def mirror_open(*, company_id: int, advance: bool) -> Mirror:
    return Mirror(company_id, advance=advance)


# Writes of ours ----------------------------------------------------------------------------------


def mirror_keep_answer(*, company_id: int, entity: Mapping[str, Any]) -> None:
    """A PATCH answered with the user: the copy is SmartRecruiters' own, and the baseline."""
    now_on = stamp(entity)
    user = _entry(company_id, dict(entity), now=db_now())
    user.updated_on = user.full_updated_on = now_on
    user.full_read_at = user.seen_at
    user.expect_change = False
    _upsert([user], fields=_ALL_FIELDS)


def mirror_keep_created(*, company_id: int, entity: Mapping[str, Any]) -> None:
    """A create's answer: kept for the person's page, but not trusted as a full record (an
    activation or access groups usually follow, and a create's answer may leave fields out)."""
    user = _entry(company_id, dict(entity), now=db_now())
    user.updated_on = stamp(entity)
    user.full_updated_on = ""
    user.expect_change = True
    _upsert([user], fields=_ALL_FIELDS)


def mirror_mark_stale(*, company_id: int, user_id: str) -> None:
    """A write that answered no user moved `updatedOn`: read the user once next time."""
    MirroredUser.objects.filter(company_id=company_id, user_id=user_id).update(
        full_updated_on="", expect_change=True
    )


def mirror_refresh_start(*, company_id: int) -> None:
    """Have a worker re-read the company's directory in full (`mirror_refresh`), after commit."""
    transaction.on_commit(lambda: queue.directory_refresh_send(company_id))


def mirror_refresh(*, company: Company, progress: Callable[[int, int], None] | None = None) -> int:
    """Read every user of the company in full and keep the answers: the re-read that repairs a
    change SmartRecruiters made without moving `updatedOn`. How many users were read.

    Raises CompanyApiError (with a message for the operator) when SmartRecruiters cannot be read.
    """
    with (
        company_api(company, doing="read the company's users", retries=READ_RETRIES) as client,
        FullReader(company) as reader,
    ):
        mirror = Mirror(company.pk, advance=False)  # before the list: nobody created since is lost
        listed = list(client.list_users())
        for item in listed:
            mirror.seen(item)
        for _user_id, entity in reader.read(str(item["id"]) for item in listed):
            if entity is not None:
                mirror.full(entity)
            if progress is not None:
                progress(mirror.reads, len(listed))
    mirror.flush()
    mirror.forget_unlisted()
    return mirror.reads


class FullReader:
    """Reads users in full several at once (`READ_WORKERS` threads, each with its own client),
    all through the company's shared rate limiter: a cold mirror fills at the company's rate,
    not at one call per round trip. Errors are raised in the caller's thread."""

    def __init__(self, company: Company, *, workers: int = 0) -> None:
        self.company = company
        self.workers = max(1, min(workers or READ_WORKERS, company.rate_limit_concurrency))
        self._local = threading.local()
        self._clients: list[SmartRecruitersClient] = []
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="mirror-read")

    def __enter__(self) -> FullReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        for client in self._clients:
            client.close()

    def read(self, user_ids: Iterable[str]) -> Iterator[tuple[str, Mapping[str, Any] | None]]:
        """(id, full record or None when gone), in the order asked; a few reads ahead at most,
        so a whole directory is never held waiting."""
        ahead: deque[tuple[str, Future[Mapping[str, Any] | None]]] = deque()
        for user_id in user_ids:
            ahead.append((user_id, self._pool.submit(self._read, user_id)))
            if len(ahead) >= self.workers * 4:
                done_id, future = ahead.popleft()
                yield done_id, future.result()
        while ahead:
            done_id, future = ahead.popleft()
            yield done_id, future.result()

    def _read(self, user_id: str) -> Mapping[str, Any] | None:
        client = getattr(self._local, "client", None)
        if client is None:
            client = client_for(self.company, retries=READ_RETRIES)
            self._local.client = client
            with self._lock:
                self._clients.append(client)
        return user_reader(client)(user_id)


def user_reader(client: SmartRecruitersClient) -> ReadUser:
    """`GET /users/{id}` through the client; None when the user is gone since the list."""

    def read(user_id: str) -> Mapping[str, Any] | None:
        try:
            return client.get_user(user_id)
        except RejectedError as exc:
            if exc.status == 404:
                return None
            raise

    return read


def _entry(company_id: int, record: dict[str, Any], *, now: datetime) -> MirroredUser:
    return MirroredUser(
        company_id=company_id,
        user_id=str(record["id"]),
        email=str(record.get("email") or "").lower()[:320],
        first_name=str(record.get("firstName") or "")[:300],
        last_name=str(record.get("lastName") or "")[:300],
        external_data=str(record.get("externalData") or "")[:300],
        record=record,
        seen_at=now,
    )


def _upsert(users: Iterable[MirroredUser], *, fields: Iterable[str]) -> None:
    batch = list(users)
    if batch:
        MirroredUser.objects.bulk_create(
            batch,
            update_conflicts=True,
            unique_fields=["company", "user_id"],
            update_fields=list(fields),
            batch_size=FLUSH_EVERY,
        )
