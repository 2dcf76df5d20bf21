"""Roles & access groups: read live from SmartRecruiters (a small read), copyable, downloadable."""

from __future__ import annotations

import io

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from imports.exporting import write_table
from imports.services.lookups import LISTS, lookup_read
from imports.views.downloads import csv_download
from user2smart.companies.access import company_view
from user2smart.companies.connection import CompanyApiError


@require_GET
@company_view
def lists(request: HttpRequest) -> HttpResponse:
    tables = []
    problem = ""
    for kind, (title, _) in LISTS.items():
        try:
            tables.append(
                {
                    "kind": kind,
                    "title": title,
                    "items": lookup_read(company=request.company, kind=kind),
                }
            )
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
        items = lookup_read(company=request.company, kind=kind)
    except CompanyApiError as exc:
        return render(request, "imports/lists.html", {"problem": exc.message}, status=503)
    out = io.BytesIO()
    write_table(out, ("name", "id"), ((item["name"], item["id"]) for item in items))
    return csv_download(out.getvalue(), f"{request.company.slug}-{kind}.csv")
