"""SmartRecruiters answering badly: errors, throttling, timeouts, lost answers to creates."""

import pytest

from imports.models import ImportRow
from tests.imports.runs.conftest import assert_every_row_final, import_json
from tests.imports.runs.files import DOMAIN, mixed_rows
from tests.reliability.conftest import write_file

pytestmark = pytest.mark.integration

NEW_ACTIVE = (150, 190)  # mixed_rows(): the new users created active


def test_a_run_survives_errors_throttling_timeouts_and_lost_create_answers(
    bulk_acme, emulator, recovery, tmp_path
):
    worker, _beat = recovery(IMPORT_ROW_MAX_ATTEMPTS="12")
    lines = mixed_rows()
    for line in lines:  # the new active users ask for the activation email
        if int(line["email"][4:9]) in range(*NEW_ACTIVE):
            line["sendEmail"] = "true"
    path = write_file(tmp_path, lines)
    emulator.clear_stats()
    emulator.faults(
        error_rate=0.10,
        throttle_rate=0.05,
        throttle_retry_after=False,
        timeout_rate=0.02,
        create_then_timeout_rate=0.15,  # of 70 creates, some answers are lost (all but surely)
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
    new = {f"user{i:05d}@{DOMAIN}" for i in range(150, 220)}
    assert stats["creates_by_email"] == dict.fromkeys(new, 1)
    # A create may be sent again after an error or a 429 (nothing was done), but never after a
    # create whose answer was lost: that one is looked up first, or the emulator answers 409.
    assert stats["create_conflicts_by_email"] == {}
    welcomed = {
        users[f"user{i:05d}@{DOMAIN}"]["id"]: f"user{i:05d}@{DOMAIN}" for i in range(*NEW_ACTIVE)
    }
    emails = stats["activation_emails_by_user"]
    # At most once: an email whose call timed out is never sent again, and its row says so.
    assert set(emails) <= set(welcomed)
    assert set(emails.values()) == {1}
    unsure = set(
        rows.filter(message__contains="activation email may not have gone out").values_list(
            "email", flat=True
        )
    )
    assert {welcomed[user] for user in set(welcomed) - set(emails)} <= unsure
    assert stats["throttled"] > 0  # the faults really happened
    assert any(status.startswith("5") for s in stats["requests"].values() for status in s)
    lost_creates = sum(stats["creates_by_email"].values()) - stats["requests"]["POST /users"]["201"]
    assert lost_creates > 0  # users created whose answer never came
