"""`manage.py list_groups --company SLUG [--json]`: the company's access groups, id and name,
read from SmartRecruiters now. Exit codes: 0, or 2 (`runoutput.LookupCommand`)."""

from __future__ import annotations

from imports.management.runoutput import LookupCommand


class Command(LookupCommand):
    help = "List a company's SmartRecruiters access groups: id and name."
    kind = "access-groups"
    key = "accessGroups"
