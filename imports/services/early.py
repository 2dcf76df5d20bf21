"""Early writes: a file's first changes are sent while the directory is still being read.

A plan must read every list page before it can say what each row does, and the pages come one
after the other (each needs the cursor of the page before): at SmartRecruiters' latency a
10,000-person company's 100 pages take about 25 s, with nothing sent meanwhile. Yet most rows of
a nightly file cannot be changed by the pages still to come. A row is planned as soon as its
user's page arrives, and sent at once when it is an update, if:

- it is a valid row without `oldEmail`, found by email, whose address (email or `oldEmail`) no
  other row of the file has (the file's first pass counts them): no later row can make it a
  duplicate, and only the user on that page can be the one it is about;
- its user's location, when the row sets one, is known from the mirror (a full read is left to
  the plan, which makes several at once);
- the run is an import that acts at once: not a preview, not all or nothing (which must see
  every row first), not an undo, on PostgreSQL, matched by email, not in Create mode, and the
  file at most `IMPORT_EARLY_MAX_ROWS` rows (its candidate rows are held in memory).

Every other row is planned after the last page, as always, and stored with the rest. Meanwhile
the run is `running` with `planning` set: its rows are sent, but it cannot end (`run_finish`)
nor be cancelled until its plan is stored; a plan whose worker dies is planned again by the
sweeper and goes on from the rows already stored (their lines are skipped, their addresses kept).
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from imports.models import ImportRow, ImportRun
from imports.planner import Action, Directory, DirectoryUser, Mode, PlannedRow, Planner
from imports.rows import RejectedRow, UserRow
from imports.services.progress import run_dispatch

log = logging.getLogger(__name__)

# The list's page size: the rows found on a page are sent together.
PAGE = 100


def stored_row(run: ImportRun, planned: PlannedRow) -> ImportRow:
    """The row of the run's table a planned row is stored as (`pending` when it has steps)."""
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


def early_candidates(
    rows: Iterable[UserRow | RejectedRow], *, skip: set[int]
) -> dict[str, UserRow]:
    """The rows that may be sent early, by lower-cased email: valid, without `oldEmail`, with
    an address no other row of the file has, and not among the lines already stored."""
    addresses: Counter[str] = Counter()
    kept: dict[str, UserRow] = {}
    for row in rows:
        addresses[row.email.lower()] += 1
        if row.old_email:
            addresses[row.old_email.lower()] += 1
        elif isinstance(row, UserRow) and row.line not in skip:
            kept[row.email.lower()] = row
    return {key: row for key, row in kept.items() if key and addresses[key] == 1}


class EarlyWrites:
    """One plan's early writes: `listed` for each user of the list, `send` after each page."""

    def __init__(
        self, run: ImportRun, candidates: Mapping[str, UserRow], *, rows_total: int
    ) -> None:
        self.run = run
        # Until the plan is stored: the file's rows, so that rows ending meanwhile keep the
        # window topped up (`rows_done < rows_total`); the plan then sets the true total.
        self.rows_total = rows_total
        self.candidates = dict(candidates)
        self.directory = Directory()
        self.planner = Planner(Mode(run.mode), self.directory)
        self.lines: set[int] = set()
        self.user_ids: set[str] = set()
        self.pending: list[PlannedRow] = []
        self.open = Mode(run.mode) is not Mode.CREATE

    def listed(self, item: Mapping[str, Any], *, changed_outside: bool) -> None:
        """A user the list just returned (with the mirror's location when it is current)."""
        if not self.open:
            return
        key = str(item.get("email") or "").lower()
        row = self.candidates.pop(key, None)
        if row is None:
            return
        user = DirectoryUser.from_api(item, changed_outside=changed_outside)
        if row.country_code and user.location is None:
            return  # a full read first: left to the plan
        self.directory.users[key] = user
        planned = self.planner.plan(row)
        if planned.action is Action.UPDATE:
            self.pending.append(planned)

    def send(self) -> None:
        """Store the updates found since the last call and send them. The first ones move the
        run from `validating` to `running` (still `planning`); a run stopped meanwhile (its
        credential refused) gets no more."""
        if not self.open or not self.pending:
            return
        rows = [stored_row(self.run, planned) for planned in self.pending]
        with transaction.atomic():
            # One lock order: the run, then its rows.
            status = (
                ImportRun.objects.select_for_update()
                .filter(pk=self.run.pk)
                .values_list("status", "planning")
                .first()
            )
            if status == (ImportRun.Status.VALIDATING, False):
                ImportRun.objects.filter(pk=self.run.pk).update(
                    status=ImportRun.Status.RUNNING,
                    planning=True,
                    started_at=timezone.now(),
                    rows_total=self.rows_total,
                )
            elif status != (ImportRun.Status.RUNNING, True):
                self.open = False
                self.pending.clear()
                return
            ImportRow.objects.bulk_create(rows)
        self.lines.update(planned.line for planned in self.pending if planned.line is not None)
        self.user_ids.update(planned.user_id for planned in self.pending if planned.user_id)
        self.pending.clear()
        run_dispatch(run_id=self.run.pk)
