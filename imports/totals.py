"""How a run's rows are counted: one vocabulary for the pages, the emails, the command line and
its JSON (docs/user-guide.md, *What the counts mean*).

- **processed**: rows settled, in a final state (done, error, not sent, held); the run has
  ended when every row is processed.
- **done**: rows that are as the file asks in SmartRecruiters: the change was applied, or there
  was nothing to change (unchanged). The progress bar shows these.
- **errors**: rows that were not done: errors found in the file (never sent), rows refused by
  SmartRecruiters or that failed when sent (e.g. a 409, or no answer after every retry), and
  rows not sent (the run was cancelled or stopped).
- **held**: deactivations of people missing from the file, kept back over the company's limit.

processed = done + errors + held. Read from the run's counters only (no row is counted).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from imports.models import ImportRun


@dataclass(frozen=True)
class RunTotals:
    rows: int
    processed: int
    done: int
    file_errors: int
    failed_when_sent: int
    not_sent: int
    held: int

    @property
    def errors(self) -> int:
        return self.file_errors + self.failed_when_sent + self.not_sent

    @property
    def percent_done(self) -> int:
        return math.floor(100 * self.done / self.rows) if self.rows else 0

    def to_json(self) -> dict[str, int]:
        return {
            "rows": self.rows,
            "processed": self.processed,
            "done": self.done,
            "errors": self.errors,
            "fileErrors": self.file_errors,
            "failedWhenSent": self.failed_when_sent,
            "notSent": self.not_sent,
            "held": self.held,
        }


def run_totals(run: ImportRun) -> RunTotals:
    """The run's totals, from its counters (`rows_failed` includes the file's errors)."""
    errors = run.rows_failed + run.rows_skipped
    return RunTotals(
        rows=run.rows_total,
        processed=run.rows_done,
        done=max(0, run.rows_done - errors - run.held),
        file_errors=run.count_error,
        failed_when_sent=max(0, run.rows_failed - run.count_error),
        not_sent=run.rows_skipped,
        held=run.held,
    )


def totals_words(totals: RunTotals) -> str:
    """`12 of 12 rows processed: 1 done, 11 errors (11 in the file)`."""
    errors = "error" if totals.errors == 1 else "errors"
    words = (
        f"{totals.processed} of {totals.rows} rows processed: {totals.done} done, "
        f"{totals.errors} {errors}"
    )
    kinds = [
        f"{count} {kind}"
        for count, kind in (
            (totals.file_errors, "in the file"),
            (totals.failed_when_sent, "refused or failed when sent"),
            (totals.not_sent, "not sent"),
        )
        if count
    ]
    if kinds:
        words += f" ({', '.join(kinds)})"
    if totals.held:
        words += f", {totals.held} held"
    return words


def done_words(done: dict[str, int], *, full_sync: bool) -> str:
    """`4 created, 2 updated, 1 unchanged` (and deactivated, for a full sync): what was done."""
    words = f"{done['create']} created, {done['update']} updated, {done['unchanged']} unchanged"
    return words + (f", {done['deactivate']} deactivated" if full_sync else "")
