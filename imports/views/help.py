"""Help: the CSV format in short, a template file, the full format page, useful links."""

from __future__ import annotations

import io

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from imports.exporting import write_users
from imports.logs import LOG_COLUMNS
from imports.rows import LANGUAGE_CODES
from imports.views.downloads import csv_download
from user2smart.companies.access import company_view

ISO_COUNTRY_CODES_URL = "https://www.iso.org/obp/ui/#search/code/"
SMARTRECRUITERS_HELP_URL = "https://help.smartrecruiters.com/"

# (column, required, what to write): the product's summary of docs/csv-format.md.
COLUMNS_SUMMARY = (
    ("email", "yes", "The person's email; finds the user in SmartRecruiters (any case)."),
    ("firstName", "yes", "1 to 300 characters."),
    ("lastName", "yes", "1 to 300 characters."),
    (
        "systemRoleId",
        "yes",
        "A system role's id (EMPLOYEE, RESTRICTED, STANDARD, EXTENDED, ADMINISTRATOR or a custom "
        "role's id) or its exact name. See Roles & groups.",
    ),
    ("externalData", "no", "Free text, e.g. an employee number."),
    ("languageCode", "yes", f"One of {', '.join(LANGUAGE_CODES)} (any case: es-mx is fine)."),
    ("ssoIdentifier", "no", "What your single sign-on sends; at most 100 characters."),
    (
        "password",
        "no",
        "A first password, used only to create the user. Never shown, logged or exported.",
    ),
    ("active", "yes", "true or false: let the person in, or keep them out."),
    ("enabled", "yes", "true or false: see the table below."),
    ("countryCode", "with a location", "Two letters, ISO 3166 (FR, DE, US...)."),
    ("regionCode", "no", "The state, for the United States (CA)."),
    ("region", "no", "The region's name (kept in logs and exports, not sent)."),
    ("city", "with a country", "Needed when countryCode is filled."),
    ("address", "no", "Street address."),
    ("postalCode", "no", ""),
    ("accessGroupId", "no", "An access group's id or name; several separated by |."),
    ("sendEmail", "no", "true to send the activation email after a create (default false)."),
    ("oldEmail", "no", "To change an email: the current address here, the new one in email."),
)
TEMPLATE_ROW = {
    "email": "jane.doe@example.com",
    "firstName": "Jane",
    "lastName": "Doe",
    "systemRoleId": "EMPLOYEE",
    "externalData": "E0001",
    "languageCode": "en",
    "active": "true",
    "enabled": "true",
    "countryCode": "US",
    "regionCode": "CA",
    "region": "California",
    "city": "San Francisco",
    "address": "500 Howard St",
    "postalCode": "94105",
    "sendEmail": "false",
}


def _format_context() -> dict[str, object]:
    return {
        "columns": COLUMNS_SUMMARY,
        "max_mb": settings.IMPORT_MAX_FILE_BYTES // (1024 * 1024),
        "max_rows": f"{settings.IMPORT_MAX_ROWS:,}",
        "iso_url": ISO_COUNTRY_CODES_URL,
    }


@require_GET
@company_view
def help_page(request: HttpRequest) -> HttpResponse:
    context = {**_format_context(), "smartrecruiters_url": SMARTRECRUITERS_HELP_URL}
    return render(request, "imports/help.html", context)


@require_GET
@company_view
def template_file(request: HttpRequest) -> HttpResponse:
    out = io.BytesIO()
    write_users(out, [TEMPLATE_ROW])
    return csv_download(out.getvalue(), "user2smart-template.csv")


@require_GET
@company_view
def csv_format(request: HttpRequest) -> HttpResponse:
    """The format in full, for the people who prepare the file (docs/csv-format.md says the
    same for developers and operators, with the command line)."""
    context = {**_format_context(), "log_columns": LOG_COLUMNS}
    return render(request, "imports/csv_format.html", context)
