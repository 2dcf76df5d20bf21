"""People: the company's SmartRecruiters users as last read, and what User2Smart did to each."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from imports import selectors
from imports.logs import FIELD_LABELS, value_words
from imports.models import ImportRow, ImportRun, MirroredUser
from imports.views.present import RowView, row_view, started_by
from user2smart.companies.access import choose_company, companies_of, company_view

PEOPLE_PER_PAGE = 50
CHANGES_PER_PAGE = 50
NOT_READ_YET = "not read yet"


@dataclass(frozen=True)
class TimelineEntry:
    """One change of the person's timeline: the row, its run, and who started the run."""

    run: ImportRun
    who: str
    row: RowView
    result: str


@dataclass(frozen=True)
class PersonLine:
    """One person of the people list."""

    user_id: str
    name: str
    email: str
    external_data: str
    active: str


@require_GET
@company_view
def people(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    found = selectors.people_search(company=request.company, query=query)
    page = Paginator(found, PEOPLE_PER_PAGE).get_page(request.GET.get("page"))
    context = {"query": query, "page": page, "people": [person_line(person) for person in page]}
    return render(request, "imports/people.html", context)


@require_GET
@company_view
def person(request: HttpRequest, user_id: str) -> HttpResponse:
    found = selectors.person_of(
        user_id=user_id, companies=companies_of(request.user), current=request.company
    )
    if found is None:
        return render(
            request,
            "imports/gone.html",
            {"message": "This person is not among your company's SmartRecruiters users."},
            status=404,
        )
    if found.company_id != request.company.pk:
        # One of the person's other companies: the header follows, as on an import's page.
        request.company = choose_company(request, found.company_id)
    rows = selectors.person_timeline(person=found)
    page = Paginator(rows, CHANGES_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "person": found,
        "name": person_name(found),
        "facts": record_facts(found),
        "page": page,
        "timeline": [timeline_entry(row) for row in page],
    }
    return render(request, "imports/person.html", context)


def person_name(person: MirroredUser) -> str:
    record = person.record or {}
    first = record.get("firstName", person.first_name) or ""
    last = record.get("lastName", person.last_name) or ""
    return f"{first} {last}".strip() or person.email


def person_line(person: MirroredUser) -> PersonLine:
    active = (person.record or {}).get("active")
    return PersonLine(
        user_id=person.user_id,
        name=f"{person.first_name} {person.last_name}".strip(),
        email=person.email,
        external_data=person.external_data,
        active="" if active is None else value_words(active),
    )


def record_facts(person: MirroredUser) -> list[tuple[str, str]]:
    """The person's SmartRecruiters record as (label, words), in the import file's order."""
    record: dict[str, Any] = person.record or {}
    language = record.get("language") or {}
    return [
        (FIELD_LABELS["firstName"], value_words(record.get("firstName", person.first_name))),
        (FIELD_LABELS["lastName"], value_words(record.get("lastName", person.last_name))),
        (FIELD_LABELS["email"], value_words(record.get("email", person.email))),
        (FIELD_LABELS["systemRole"], _named(record.get("systemRole"))),
        (FIELD_LABELS["externalData"], value_words(record.get("externalData"))),
        (FIELD_LABELS["language"], value_words(language.get("code"))),
        (FIELD_LABELS["ssoIdentifier"], value_words(record.get("ssoIdentifier"))),
        (FIELD_LABELS["active"], value_words(record.get("active"))),
        (
            FIELD_LABELS["accessGroups"],
            value_words([_named(group) for group in record.get("accessGroups") or []]),
        ),
        (FIELD_LABELS["location"], _location_words(person)),
        ("SmartRecruiters id", person.user_id),
    ]


def timeline_entry(row: ImportRow) -> TimelineEntry:
    shown = row_view(row, preview=row.run.dry_run)
    # A row still on its way has no result yet: say where it is.
    result = shown.result or row.get_status_display()
    return TimelineEntry(run=row.run, who=started_by(row.run), row=shown, result=result)


def _named(item: Any) -> str:
    """A role or an access group: `Name (id)`, or its id when SmartRecruiters gave no name."""
    if not isinstance(item, dict):
        return value_words(item)
    name, ident = item.get("name") or "", item.get("id") or ""
    if name and ident and name != ident:
        return f"{name} ({ident})"
    return name or ident or value_words(None)


def _location_words(person: MirroredUser) -> str:
    """Only a full read of the user returns the location: until one, it is not known."""
    record = person.record or {}
    if "location" in record:
        return value_words(record["location"])
    if person.full_read_at is None:
        return NOT_READ_YET
    return value_words(None)
