"""SmartRecruiters answering badly: errors, throttling, timeouts, lost answers to creates."""

import pytest

from imports.models import ImportRow
from tests.imports.runs.conftest import assert_every_row_final, import_json
from tests.imports.runs.files import DOMAIN, mixed_rows
from tests.reliability.conftest import write_file

pytestmark = pytest.mark.integration


def test_a_run_survives_errors_throttling_timeouts_and_lost_create_answers(
    bulk_acme, emulator, recovery, tmp_path
):
    worker, _beat = recovery(IMPORT_ROW_MAX_ATTEMPTS="12")
    path = write_file(tmp_path, mixed_rows())
    emulator.clear_stats()
    emulator.faults(
        error_rate=0.10,
        throttle_rate=0.05,
        throttle_retry_after=False,
        timeout_rate=0.02,
        create_then_timeout_rate=0.02,
        timeout_hold_ms=300,
    )

    code, document = import_json(
        str(path), "--company", "acme", timeout=300, SMARTRECRUITERS_READ_TIMEOUT="2"
    )

    emulator.faults()
    assert code == 1, worker.output()  # the ten klingon rows
    assert_every_row_final(document["run"])
    rows = ImportRow.objects.filter(run_id=document["run"])
    assert rows.filter(status="error").count() == 10
    assert set(rows.filter(status="error").values_list("action", flat=True)) == {"error"}
    users = {u["email"]: u for u in emulator.users() if u["email"].endswith(DOMAIN)}
    assert len(users) == 150 + 70
    assert users[f"user00070@{DOMAIN}"]["lastName"] == "Renamed 70"
    assert users[f"user00105@{DOMAIN}"]["active"] is False
    assert sum(users[f"user{i:05d}@{DOMAIN}"]["active"] for i in range(150, 190)) == 40
    stats = emulator.stats()
    assert set(stats["creates_by_email"].values()) == {1}
    assert stats["throttled"] > 0  # the faults really happened
    assert any(status.startswith("5") for s in stats["requests"].values() for status in s)
