"""The log download holds what the run page shows, the changes included."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from imports.logs import LOG_COLUMNS
from tests.imports.runs.conftest import SAMPLES, import_json

pytestmark = pytest.mark.integration


def test_the_log_has_the_changes_the_run_page_shows(acme, acme_browser, celery_worker):
    code, document = import_json(str(SAMPLES / "users-basic.csv"), "--company", "acme")
    assert code == 0, (document, celery_worker.output())

    page = acme_browser.get(reverse("imports:run", args=[document["run"]])).content.decode()
    response = acme_browser.get(reverse("imports:log", args=[document["run"]]))

    assert '<span class="old">Martin</span>' in page
    assert '<span class="new">Martin-Durand</span>' in page
    lines = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert list(lines[0]) == list(LOG_COLUMNS)
    changes = {line["email"]: line["changes"] for line in lines}
    assert changes["alice.martin@acme.example"] == "Last name: Martin → Martin-Durand"
    assert changes["carla.ruiz@acme.example"] == "Active: no → yes"
    assert changes["bob.keller@acme.example"] == ""
