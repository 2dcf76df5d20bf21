"""Each mode on a mixed 200-row file, applied by real workers against the emulator."""

import pytest

from tests.imports.runs.conftest import assert_every_row_final, import_json, write_file
from tests.imports.runs.files import DOMAIN, mixed_rows

pytestmark = pytest.mark.integration

EXPECTED = {
    # mode: (create, update, unchanged, error)
    "upsert": (70, 70, 50, 10),
    "create": (70, 0, 0, 130),
    "update": (0, 70, 50, 80),
}


@pytest.mark.parametrize("mode", ["upsert", "create", "update"])
def test_each_mode_applies_a_mixed_file_as_planned(
    bulk_acme, emulator, start_worker, tmp_path, mode
):
    worker = start_worker(concurrency=8)
    path = write_file(tmp_path, mixed_rows())
    emulator.clear_stats()

    code, document = import_json(str(path), "--company", "acme", "--mode", mode)

    assert code == 1, worker.output()  # the file has errors: X
    counts = document["counts"]
    assert (counts["create"], counts["update"], counts["unchanged"], counts["error"]) == (
        EXPECTED[mode]
    )
    assert_every_row_final(document["run"])
    users = {u["email"]: u for u in emulator.users() if u["email"].endswith(DOMAIN)}
    stats = emulator.stats()
    # Calls SmartRecruiters acted on: a 429 (refused, then sent again) changes nothing.
    requests = {
        key: sum(n for status, n in by_status.items() if status != "429")
        for key, by_status in stats["requests"].items()
    }
    if mode in ("upsert", "update"):
        assert users[f"user00060@{DOMAIN}"]["lastName"] == "Renamed 60"
        assert users[f"user00110@{DOMAIN}"]["active"] is False
        assert users[f"user00010@{DOMAIN}"]["lastName"] == "Number 10"
        # Unchanged rows cost no write: one PATCH per updated user, nothing more.
        assert requests.get("PATCH /users/{id}") == 50
        assert requests.get("DELETE /users/{id}/activation") == 20
    else:
        assert users[f"user00060@{DOMAIN}"]["lastName"] == "Number 60"
        assert "PATCH /users/{id}" not in requests
    if mode in ("upsert", "create"):
        created = [u for email, u in users.items() if int(email[4:9]) >= 150]
        assert len(created) == 70
        assert sum(u["active"] for u in created) == 40
        assert requests.get("PUT /users/{id}/activation") == 40
        assert set(stats["creates_by_email"].values()) == {1}
    else:
        assert not stats["creates_by_email"]
    rows = {row["line"]: row for row in document["rows"]}
    error_row = rows[2 + 190]  # a klingon language row
    assert error_row["result"] == "ERROR"
    assert "languageCode" in [e["column"] for e in error_row["errors"]]
