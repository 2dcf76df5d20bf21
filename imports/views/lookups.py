"""Roles & access groups: read live from SmartRecruiters (a small read), copyable, downloadable."""

from __future__ import annotations

import io

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from imports.exporting import write_table
from imports.views.downloads import csv_download
from user2smart.companies.access import company_view
from user2smart.companies.connection import CompanyApiError, company_api
from user2smart.companies.models import Company

READ_TIMEOUT = (5, 15)
LISTS = {
    "roles": ("System roles", "list_system_roles"),
    "access-groups": ("Access groups", "list_access_groups"),
}


def read_list(company: Company, kind: str) -> list[dict]:
    """The company's system roles or access groups, in SmartRecruiters' order. Raises
    CompanyApiError."""
    title, method = LISTS[kind]
    doing = f"read the company's {title.lower()}"
    with company_api(company, doing=doing, retries=1, timeout=READ_TIMEOUT) as client:
        items = getattr(client, method)()
    return [{"id": str(item["id"]), "name": item.get("name") or ""} for item in items]


@require_GET
@company_view
def lists(request: HttpRequest) -> HttpResponse:
    tables = []
    problem = ""
    for kind, (title, _) in LISTS.items():
        try:
            tables.append({"kind": kind, "title": title, "items": read_list(request.company, kind)})
        except CompanyApiError as exc:
            problem = exc.message
            break
    context = {"tables": [] if problem else tables, "problem": problem}
    return render(request, "imports/lists.html", context, status=503 if problem else 200)


@require_GET
@company_view
def list_download(request: HttpRequest, kind: str) -> HttpResponse:
    if kind not in LISTS:
        raise Http404
    try:
        items = read_list(request.company, kind)
    except CompanyApiError as exc:
        return render(request, "imports/lists.html", {"problem": exc.message}, status=503)
    out = io.BytesIO()
    write_table(out, ("name", "id"), ((item["name"], item["id"]) for item in items))
    return csv_download(out.getvalue(), f"{request.company.slug}-{kind}.csv")
