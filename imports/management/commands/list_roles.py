"""`manage.py list_roles --company SLUG [--json]`: the company's system roles (custom ones too),
id and name, read from SmartRecruiters now. Exit codes: 0, or 2 (`runoutput.LookupCommand`)."""

from __future__ import annotations

from imports.management.runoutput import LookupCommand


class Command(LookupCommand):
    help = "List a company's SmartRecruiters system roles (custom ones too): id and name."
    kind = "roles"
    key = "roles"
