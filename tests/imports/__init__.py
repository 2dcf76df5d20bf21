"""Tests of the import engine. The helpers below find the sample files and their company."""

from __future__ import annotations

import json
from pathlib import Path

from imports.planner import Directory

DATA = Path(__file__).resolve().parents[1] / "data" / "csv"
_SHARED_SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "samples"
SAMPLES = _SHARED_SAMPLES if _SHARED_SAMPLES.exists() else DATA / "samples"


def sample_directory() -> Directory:
    """The SmartRecruiters company the sample files assume (`samples/directory.json`)."""
    data = json.loads((SAMPLES / "directory.json").read_text())
    return Directory.from_api(
        users=data["users"],
        system_roles=data["systemRoles"],
        access_groups=data["accessGroups"],
    )
