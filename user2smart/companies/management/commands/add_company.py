"""`manage.py add_company`: create or update a company and its SmartRecruiters credential."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from user2smart.companies.services import company_issue_access_key, company_save


class Command(BaseCommand):
    help = (
        "Create or update a company and its SmartRecruiters credential "
        "(an API key, or an OAuth client id and secret)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="short unique name, e.g. acme")
        parser.add_argument("--name", required=True, help="the company's name as people know it")
        parser.add_argument(
            "--api-url",
            required=True,
            help="SmartRecruiters API URL, e.g. https://api.smartrecruiters.com",
        )
        credential = parser.add_mutually_exclusive_group()
        credential.add_argument("--api-key", help="a SmartRecruiters API key (X-SmartToken)")
        credential.add_argument("--client-id", help="an OAuth client id (client credentials)")
        parser.add_argument("--client-secret", help="the OAuth client's secret")
        parser.add_argument("--rps", type=int, help="requests per second allowed (default 10)")
        parser.add_argument("--concurrency", type=int, help="requests in flight (default 8)")
        parser.add_argument(
            "--issue-access-key",
            action="store_true",
            help="issue a new access key for 'Sign in with SmartRecruiters' and print it once",
        )

    def handle(self, *args, **options) -> None:
        if options["client_secret"] and not options["client_id"]:
            raise CommandError("--client-secret needs --client-id.")
        try:
            saved = company_save(
                slug=options["slug"],
                name=options["name"],
                api_url=options["api_url"],
                api_key=options["api_key"],
                client_id=options["client_id"],
                client_secret=options["client_secret"],
                rps=options["rps"],
                concurrency=options["concurrency"],
            )
        except ValidationError as exc:
            raise CommandError(" ".join(_messages(exc))) from None

        company = saved.company
        if saved.created:
            self.stdout.write(
                f"Created company {company.slug} ({company.name}) with an "
                f"{company.get_credential_type_display()}, {company.rate_limit_rps} requests/s, "
                f"{company.rate_limit_concurrency} concurrent."
            )
        elif saved.changed:
            self.stdout.write(f"Updated company {company.slug}: {', '.join(saved.changed)}.")
        else:
            self.stdout.write(f"Company {company.slug} is already up to date.")
        if options["issue_access_key"]:
            key = company_issue_access_key(company=company)
            self.stdout.write(f"Access key for 'Sign in with SmartRecruiters' (shown once): {key}")


def _messages(error: ValidationError) -> list[str]:
    if hasattr(error, "message_dict"):
        return [f"{field}: {msg}" for field, msgs in error.message_dict.items() for msg in msgs]
    return list(error.messages)
