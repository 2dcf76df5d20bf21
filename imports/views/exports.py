"""Export users: at once for a small company, else a job with a progress bar, then download."""

from __future__ import annotations

from datetime import datetime

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from imports import exporting
from imports.forms import ExportForm, file_size_words
from imports.models import UserExport
from imports.views.downloads import csv_download
from imports.views.scope import owned
from user2smart.companies.access import company_view

RECENT_EXPORTS = 10
# Jobs without their file: pages only ask whether it is there.
JOBS = UserExport.objects.defer("content")


@require_http_methods(["GET", "POST"])
@company_view
def export_users(request: HttpRequest) -> HttpResponse:
    company = request.company
    form = ExportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        delimiter = form.cleaned_data["delimiter"]
        complete = form.cleaned_data["complete"]
        try:
            content = (
                None if complete else exporting.export_small(company=company, delimiter=delimiter)
            )
        except exporting.ExportFailed as exc:
            messages.error(request, str(exc))
            return redirect("imports:export")
        if content is not None:
            return csv_download(content, _file_name(company.slug))
        export = exporting.export_start(
            company=company, delimiter=delimiter, complete=complete, created_by=request.user
        )
        return redirect("imports:export_status", export_id=export.pk)
    exporting.export_purge_expired()
    recent = JOBS.filter(company=company).select_related("created_by")[:RECENT_EXPORTS]
    context = {
        "form": form,
        "recent": recent,
        "immediate_max": exporting.IMMEDIATE_MAX_USERS,
        "keep_hours": exporting.KEEP_HOURS,
    }
    return render(request, "imports/export.html", context)


@require_GET
@company_view
def export_status(request: HttpRequest, export_id: int) -> HttpResponse:
    """The job's page; htmx polls it for the progress part alone while the job runs."""
    export = owned(request, JOBS, export_id, page=not request.htmx)
    context = {
        "export": export,
        "stalled": exporting.export_stalled(export),
        "size": file_size_words(export.file_size) if export.file_size else "",
        "percent": _percent(export),
    }
    if request.htmx:
        if not export.is_open or context["stalled"]:
            response = HttpResponse(status=204)
            response["HX-Refresh"] = "true"
            return response
        return render(request, "imports/_export_progress.html", context)
    return render(request, "imports/export_status.html", context)


@require_POST
@company_view
def export_download(request: HttpRequest, export_id: int) -> HttpResponse:
    """The file, handed over once (a POST: it is deleted as it is downloaded)."""
    export = owned(request, JOBS.select_related("company"), export_id)
    content = exporting.export_take(export=export)
    if content is None:
        messages.error(
            request,
            "This export's file is no longer available: it is deleted once downloaded, and "
            "after a day. Start a new export.",
        )
        return redirect("imports:export_status", export_id=export.pk)
    return csv_download(content, _file_name(export.company.slug, export.created_at))


def _percent(export: UserExport) -> int:
    if not export.users_total:
        return 0
    return min(100, 100 * export.users_done // export.users_total)


def _file_name(slug: str, when: datetime | None = None) -> str:
    day = timezone.localdate(when) if when else timezone.localdate()
    return f"{slug}-users-{day:%Y%m%d}.csv"
