"""A company under a long back-off holds no worker process: another company's run goes on.

Before waits were bounded, every worker process that took a row of the throttled company slept
in the rate limiter until the back-off ended (up to 600 s), and the other company's rows waited
behind them.
"""

from __future__ import annotations

import pytest

from imports.models import ImportRow, ImportRun
from tests.fixtures.emulator import GLOBEX_API_KEY
from tests.imports.runs.conftest import run_command
from tests.imports.runs.files import person
from tests.reliability.conftest import run_state, wait_for, wait_until_ended, write_file
from tests.reliability.test_crashes import start_run
from user2smart.companies.connection import limiter_for
from user2smart.companies.services import company_save

pytestmark = pytest.mark.integration


def test_a_company_in_a_long_back_off_does_not_hold_back_another_company(
    bulk_acme, emulator, recovery, tmp_path
):
    recovery(IMPORT_SLOT_WAIT_SECONDS="2")
    emulator.faults(latency_ms=[200, 300])
    acme_run = start_run(write_file(tmp_path, [person(i) for i in range(4000, 4200)], "acme.csv"))
    wait_for(lambda: run_state(acme_run).rows_done >= 5, 60, "Acme's rows being sent")
    acme_limiter = limiter_for(bulk_acme)
    acme_limiter.backoff(120)  # as after a 429 with Retry-After: 120
    emulator.faults()

    globex = company_save(
        slug="globex", name="Globex", api_url=emulator.url, api_key=GLOBEX_API_KEY
    ).company
    globex_file = write_file(
        tmp_path, [person(i, email=f"g{i}@globex.example") for i in range(20)], "globex.csv"
    )
    code, _out, err = run_command(
        "import_users", str(globex_file), "--company", "globex", "--no-wait"
    )
    assert code == 0, err
    globex_run = ImportRun.objects.get(company=globex)

    # Well before Acme's back-off is over, Globex's run has ended, every row done.
    assert wait_until_ended(globex_run.pk, timeout=90).result == "V"
    waiting = acme_limiter.redis.pttl(acme_limiter.backoff_key)
    assert waiting > 10_000, "Acme's back-off was over before Globex's run ended"
    acme_rows = ImportRow.objects.filter(run_id=acme_run)
    # Acme's rows wait in the database (no attempt used), not in a worker process.
    assert acme_rows.filter(status=ImportRow.Status.QUEUED, eligible_at__isnull=False).exists()
    assert not acme_rows.exclude(failures=0).exists()
    assert not acme_rows.filter(status=ImportRow.Status.SENDING).exists()
    assert ImportRun.objects.get(pk=acme_run).status == ImportRun.Status.RUNNING
