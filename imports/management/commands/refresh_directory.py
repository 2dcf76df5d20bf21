"""`manage.py refresh_directory --company SLUG`: read every user of the company in full now.

The directory mirror trusts a user's copy while SmartRecruiters' `updatedOn` has not moved (and
for at most `DIRECTORY_MIRROR_MAX_AGE_DAYS`). This re-read is the hedge for a change made without
moving it: one `GET /users/{id}` per user, at the company's rate limit.

Exit codes: 0 read, 2 not (an unknown company, SmartRecruiters not answering).
"""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandParser

from imports.management.runoutput import cannot, company_of
from imports.services.mirror import mirror_refresh
from user2smart.companies.connection import CompanyApiError


class Command(BaseCommand):
    help = "Read every user of a company from SmartRecruiters again, in full (directory mirror)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--company", required=True, help="the company's slug")

    def handle(self, *args, **options) -> None:
        company = company_of(options["company"])
        show = sys.stderr.isatty()

        def progress(done: int, total: int) -> None:
            if show and (done % 100 == 0 or done == total):
                sys.stderr.write(f"\r{done} of {total} users read")

        try:
            read = mirror_refresh(company=company, progress=progress)
        except CompanyApiError as exc:
            raise cannot(exc.message) from None
        if show:
            sys.stderr.write("\n")
        self.stdout.write(f"{read} users of {company.name} read in full.")
