"""`manage.py refresh_directory --company SLUG`: read every user of the company in full now.

The directory mirror trusts a user's copy while SmartRecruiters' `updatedOn` has not moved (and
for at most `DIRECTORY_MIRROR_MAX_AGE_DAYS`). This re-read is the hedge for a change made without
moving it: one `GET /users/{id}` per user, at the company's rate limit.
"""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError, CommandParser

from imports.services.mirror import mirror_refresh
from user2smart.companies.connection import CompanyApiError
from user2smart.companies.models import Company


class Command(BaseCommand):
    help = "Read every user of a company from SmartRecruiters again, in full (directory mirror)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--company", required=True, help="the company's slug")

    def handle(self, *args, **options) -> None:
        company = Company.objects.filter(slug=options["company"]).first()
        if company is None:
            raise CommandError(f"There is no company {options['company']!r}.")
        show = sys.stderr.isatty()

        def progress(done: int, total: int) -> None:
            if show and (done % 100 == 0 or done == total):
                sys.stderr.write(f"\r{done} of {total} users read")

        try:
            read = mirror_refresh(company=company, progress=progress)
        except CompanyApiError as exc:
            raise CommandError(exc.message) from None
        if show:
            sys.stderr.write("\n")
        self.stdout.write(f"{read} users of {company.name} read in full.")
