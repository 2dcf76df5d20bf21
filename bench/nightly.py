"""Benchmark: the nightly run of the same HR file, cold and warm, and the Complete export.

    .venv/bin/python bench/nightly.py [--users 10000] [--change 0.01] [--mode update]
                                      [--workers 2] [--skip-cold]

A directory of N people with locations (country and city; some with a region code, some with a
postal code) plus the connection's admin, on the emulator at 10 req/s, 8 in flight, latency
100-400 ms; 2 worker processes (8 children each) and beat. The file holds the same N people in
the import format, a share of them changed (`--change`, 1 %): half a new last name, half a new
city, each answered by SmartRecruiters with the user (one PATCH).

- run 1, cold: the company has never been planned (its directory mirror is empty);
- run 2, warm: the same file again, with a fresh 1 % changed on other rows;
- Complete export of the company as the runs left it; then, through a second connection to the
  same SmartRecruiters company (its own API key, never planned nor exported), cold then warm.

Each phase prints its SmartRecruiters calls by endpoint and in all. A run's ideal is the list
pages (ceil(users / 100), the admin included) + 1 system-roles read + 1 access-groups read + one
PATCH per changed row; its ideal duration is the ideal calls at 10 req/s; its duration runs from
the run's creation (planning included) to its end. An export's ideal is its list pages.
Targets: warm run calls <= 1.1 x ideal, duration <= 1.5 x ideal; cold run no worse than before
the directory mirror (one `GET /users/{id}` per row with a location on top of the ideal); warm
Complete export <= 1.1 x its list pages.

The serial floor printed next to each phase: reads one after the other at the mean latency
(0.25 s; a list page needs the previous page's cursor, and planning and the export read users in
full one by one), writes at 10 req/s. It is why a cold phase of 10,000 people takes ~45 minutes
(not the ~17 that 10 req/s allows), and 101 list pages alone take ~25 s of a warm run.

`--skip-cold`: run 1 is made with the emulator's limit and latency off and is not measured (it
only prepares the warm state: under a minute at 10,000 people); the cold export is left out.
Like the other benchmarks on `harness.py` it drops and recreates its database (`BENCH_DB`).
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import harness

API_KEY = "bench-nightly-key-not-a-secret"
EXPORT_KEY = "bench-nightly-export-key-not-a-secret"
COMPANY = "nightly"
DOMAIN = "nightly.example"
RPS = 10
LIMIT = {"rps": RPS, "concurrent": 8}
LATENCY_MS = [100, 400]
MEAN_LATENCY = sum(LATENCY_MS) / 2 / 1000  # seconds
PAGE = 100
SEED = 20261201
DIRECTORY_READS = ("GET /system-roles", "GET /access-groups")

# countryCode, city, regionCode, postalCode, and the city a person of that place moves to.
LOCATIONS = [
    ("US", "New York", "NY", "10001", "Buffalo"),
    ("FR", "Paris", "", "75002", "Lyon"),
    ("DE", "Berlin", "", "", "Hamburg"),
    ("US", "Austin", "TX", "", "Dallas"),
    ("GB", "London", "", "EC1A 1BB", "Leeds"),
    ("PL", "Krakow", "", "", "Gdansk"),
    ("CA", "Toronto", "ON", "M5H 2N2", "Ottawa"),
    ("JP", "Tokyo", "", "", "Osaka"),
]


# The directory and the files ---------------------------------------------------------------------


def person_row(i: int) -> dict:
    country, city, region_code, postal_code, _ = LOCATIONS[i % len(LOCATIONS)]
    return harness.bench_row(
        i, DOMAIN, countryCode=country, city=city, regionCode=region_code, postalCode=postal_code
    )


def person_user(i: int) -> dict:
    row = person_row(i)
    location = {"countryCode": row["countryCode"], "city": row["city"]}
    if row["regionCode"]:
        location["regionCode"] = row["regionCode"]
    if row["postalCode"]:
        location["postalCode"] = row["postalCode"]
    return harness.bench_user(i, DOMAIN, location=location)


def changed(rows: list[dict], picked: list[int], run: int) -> list[dict]:
    """The rows with `picked` changed: every other one a new last name, the others a new city."""
    rows = list(rows)
    for n, i in enumerate(picked):
        row = dict(rows[i])
        if n % 2 == 0:
            row["lastName"] = f"Number {i} (run {run})"
        else:
            row["city"] = LOCATIONS[i % len(LOCATIONS)][4]
        rows[i] = row
    return rows


def directory_document(users: int, *, limited: bool) -> dict:
    people = [person_user(i) for i in range(users)]
    company = harness.company_doc(COMPANY, API_KEY, people, LIMIT if limited else None)
    company["api_keys"].append(EXPORT_KEY)
    return {"companies": [company]}


def set_limit(emulator: harness.Emulator) -> None:
    """Turn the emulator's limit and latency on, keeping the directory as it is (ids and
    `updatedOn` included), and the company's own limit back to 10 req/s."""
    from user2smart.companies.services import company_save

    document = emulator.state()
    for company in document["companies"]:
        company["rate_limit"] = LIMIT
    emulator.reset(document)
    emulator.faults(latency_ms=LATENCY_MS)
    company_save(
        slug=COMPANY, name="Nightly", api_url=emulator.url, rps=RPS, concurrency=LIMIT["concurrent"]
    )


# The phases ------------------------------------------------------------------------------------


@dataclass
class Phase:
    name: str
    requests: dict[str, int]  # calls per endpoint template
    throttled: int
    failed: int  # answers other than 2xx and 429, and calls left unanswered
    seconds: float
    ideal: int
    measured: bool = True
    planning: float | None = None
    outcome: str = ""

    @property
    def calls(self) -> int:
        return sum(self.requests.values())


def phase_of(name: str, stats: dict, seconds: float, ideal: int, **extra: object) -> Phase:
    requests: dict[str, int] = {}
    failed = 0
    for endpoint, by_status in stats["requests"].items():
        if endpoint.startswith("POST /identity"):
            continue  # the token endpoint (an API key needs none) is not the User API
        requests[endpoint] = sum(by_status.values())
        failed += sum(n for s, n in by_status.items() if not s.startswith("2") and s != "429")
    return Phase(name, requests, stats["throttled"], failed, seconds, ideal, **extra)


def import_phase(
    name: str, emulator: harness.Emulator, company, rows: list[dict], mode: str, ideal: int
) -> Phase:
    path = harness.csv_file(rows)
    try:
        emulator.clear_stats()
        started = time.monotonic()
        run = harness.start_import(company, path, mode)
        ended = harness.wait_finished(run)
        stats = emulator.stats()
    finally:
        path.unlink(missing_ok=True)
    planning = (run.planned_at - run.created_at).total_seconds() if run.planned_at else None
    outcome = (
        f"{run.status} {run.result}: {run.count_update} update, {run.count_unchanged} unchanged, "
        f"{run.count_create} create, {run.count_error} error, {run.rows_failed} failed"
    )
    return phase_of(name, stats, ended - started, ideal, planning=planning, outcome=outcome)


def export_phase(name: str, emulator: harness.Emulator, company, pages: int) -> Phase:
    from imports import exporting
    from imports.models import UserExport

    emulator.clear_stats()
    started = time.monotonic()
    export = exporting.export_start(company=company, complete=True)  # a worker makes the file
    ended_exports = UserExport.objects.filter(pk=export.pk, finished_at__isnull=False)
    deadline = started + 3600
    while not ended_exports.exists():
        if time.monotonic() > deadline:
            raise RuntimeError(f"export {export.pk} did not end in an hour")
        time.sleep(0.1)
    ended = time.monotonic()
    stats = emulator.stats()
    export.refresh_from_db()
    outcome = f"{export.status}: {export.users_total} users, {export.file_size} bytes"
    if export.error:
        outcome += f" ({export.error})"
    return phase_of(name, stats, ended - started, pages, outcome=outcome)


# Printing --------------------------------------------------------------------------------------


def ratio(value: float, ideal: float) -> str:
    return f"{value / ideal:.2f}x" if ideal else "-"


def verdict(value: float, limit: float) -> str:
    return "met" if value <= limit else "NOT met"


def serial_floor(phase: Phase) -> float:
    """The reads one after the other at the mean latency (a list page needs the previous page's
    cursor; planning and the export read users in full one by one), the writes at the limit."""
    writes = phase.requests.get("PATCH /users/{id}", 0)
    return (phase.calls - writes) * MEAN_LATENCY + writes / RPS


def print_runs(runs: list[Phase], before_mirror: int, mean_writes: int) -> None:
    print()
    print(
        f"{'import run':<12}{'calls':>7}{'ideal':>7}{'calls/ideal':>13}{'seconds':>9}"
        f"{'ideal s':>9}{'s/ideal':>9}{'planning s':>12}{'serial floor s':>16}"
    )
    for phase in runs:
        if not phase.measured:
            print(f"{phase.name:<12}  not measured")
            continue
        ideal_s = phase.ideal / RPS
        planning = f"{phase.planning:.1f}" if phase.planning is not None else "-"
        print(
            f"{phase.name:<12}{phase.calls:>7}{phase.ideal:>7}"
            f"{ratio(phase.calls, phase.ideal):>13}{phase.seconds:>9.1f}{ideal_s:>9.1f}"
            f"{ratio(phase.seconds, ideal_s):>9}{planning:>12}{serial_floor(phase):>16.1f}"
        )
    for phase in runs:
        print(f"{phase.name}: {phase.outcome}")
    cold, warm = runs
    print(
        f"target warm: calls <= 1.10x ideal: {verdict(warm.calls, 1.1 * warm.ideal)}; "
        f"seconds <= 1.50x ideal: {verdict(warm.seconds, 1.5 * warm.ideal / RPS)}"
    )
    if cold.measured:
        floor = (before_mirror - mean_writes) * MEAN_LATENCY + mean_writes / RPS
        print(
            f"target cold: no worse than before the directory mirror, whose run makes "
            f"{before_mirror} calls (one GET /users/{{id}} per row with a location), serial floor "
            f"{floor:.1f} s: calls {ratio(cold.calls, before_mirror)}, seconds "
            f"{ratio(cold.seconds, floor)} of that"
        )


def print_exports(exports: list[Phase]) -> None:
    print()
    print(
        f"{'Complete export':<22}{'calls':>7}{'pages':>7}{'calls/pages':>13}{'seconds':>9}"
        f"{'serial floor s':>16}  target"
    )
    for phase in exports:
        target = (
            f"<= 1.10x pages: {verdict(phase.calls, 1.1 * phase.ideal)}"
            if "warm" in phase.name
            else "-"
        )
        print(
            f"{phase.name:<22}{phase.calls:>7}{phase.ideal:>7}"
            f"{ratio(phase.calls, phase.ideal):>13}{phase.seconds:>9.1f}"
            f"{serial_floor(phase):>16.1f}  {target}"
        )
    for phase in exports:
        print(f"{phase.name}: {phase.outcome}")


def print_endpoints(phases: list[Phase]) -> None:
    shown = [phase for phase in phases if phase.measured]
    endpoints = sorted({endpoint for phase in shown for endpoint in phase.requests})
    width = max([len(e) for e in endpoints] + [22]) + 2
    columns = [len(p.name) + 2 for p in shown]

    def line(label: str, values: list[object]) -> None:
        cells = "".join(f"{v:>{w}}" for v, w in zip(values, columns, strict=True))
        print(f"{label:<{width}}{cells}")

    print()
    line("calls by endpoint", [p.name for p in shown])
    for endpoint in endpoints:
        line(endpoint, [p.requests.get(endpoint, 0) for p in shown])
    line("total", [p.calls for p in shown])
    line("429 answers", [p.throttled for p in shown])
    line("other errors, timeouts", [p.failed for p in shown])


# The benchmark ---------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--users", type=int, default=10000, help="people in the directory")
    parser.add_argument("--change", type=float, default=0.01, help="share changed per run")
    parser.add_argument("--mode", choices=("update", "upsert"), default="update")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (8 children)")
    parser.add_argument(
        "--skip-cold",
        action="store_true",
        help="make run 1 without limit or latency, unmeasured; no cold export",
    )
    args = parser.parse_args()
    n = args.users
    per_run = max(1, round(n * args.change)) if args.change > 0 else 0
    if n < 1 or 2 * per_run > n:
        parser.error("--users must be at least 1 and --change at most 0.5")

    picks = random.Random(SEED).sample(range(n), 2 * per_run)
    first, second = sorted(picks[:per_run]), sorted(picks[per_run:])
    base = [person_row(i) for i in range(n)]
    file_1 = changed(base, first, 1)
    file_2 = changed(file_1, second, 2)
    pages = math.ceil((n + 1) / PAGE)  # the admin is listed too
    ideal = pages + len(DIRECTORY_READS) + per_run
    before_mirror = ideal + n  # one full read per row with a location (every row)

    harness.setup_django()
    from user2smart.companies.services import company_save

    emulator = harness.Emulator()
    try:
        emulator.reset(directory_document(n, limited=not args.skip_cold))
        if not args.skip_cold:
            emulator.faults(latency_ms=LATENCY_MS)
        company = company_save(
            slug=COMPANY,
            name="Nightly",
            api_url=emulator.url,
            api_key=API_KEY,
            rps=1000 if args.skip_cold else RPS,
            concurrency=16 if args.skip_cold else LIMIT["concurrent"],
        ).company
        second_connection = company_save(
            slug=f"{COMPANY}-export",
            name="Nightly (second connection)",
            api_url=emulator.url,
            api_key=EXPORT_KEY,
            rps=RPS,
            concurrency=LIMIT["concurrent"],
        ).company
        with harness.workers(args.workers, 8):
            cold = import_phase("run 1 cold", emulator, company, file_1, args.mode, ideal)
            if args.skip_cold:
                cold.measured = False
                cold.outcome = f"no limit, no latency; {cold.seconds:.1f} s; {cold.outcome}"
                set_limit(emulator)
                company.refresh_from_db()
            warm = import_phase("run 2 warm", emulator, company, file_2, args.mode, ideal)
            exports = [export_phase("after runs, warm", emulator, company, pages)]
            if not args.skip_cold:
                for name in ("2nd conn., cold", "2nd conn., warm"):
                    exports.append(export_phase(name, emulator, second_connection, pages))
    finally:
        emulator.stop()

    print(
        f"nightly sync: {n} people with locations + the admin = {pages} list pages; "
        f"{per_run} rows changed per run ({100 * per_run / n:.2f} %: half last name, half city), "
        f"mode {args.mode}; emulator {RPS} req/s, {LIMIT['concurrent']} in flight, "
        f"{LATENCY_MS[0]}-{LATENCY_MS[1]} ms; {args.workers} workers x 8"
    )
    print(
        f"ideal run = {pages} list pages + 1 system-roles + 1 access-groups read + {per_run} "
        f"PATCH = {ideal} calls, {ideal / RPS:.1f} s; ideal export = {pages} list pages"
    )
    print(
        f"serial floor: reads one after the other at the mean latency ({MEAN_LATENCY:.2f} s: a "
        f"list page needs the previous one's cursor, full reads are made one by one), writes at "
        f"{RPS} req/s"
    )
    print_runs([cold, warm], before_mirror, per_run)
    print_exports(exports)
    print_endpoints([cold, warm, *exports])


if __name__ == "__main__":
    main()
