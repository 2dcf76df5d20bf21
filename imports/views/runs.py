"""New import, the run page (preview, progress, result), its actions and downloads, history."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from imports import services
from imports.forms import ImportForm, file_size_words
from imports.logs import LogLine
from imports.models import ImportRun, Missing, line_order
from imports.selectors import is_folded_line, run_done_by_action, run_log_lines
from imports.services.intake import CREATE_CANNOT_DEACTIVATE
from imports.services.planning import held_message
from imports.totals import run_totals
from imports.views.downloads import csv_download
from imports.views.present import (
    LOG_ROW_FILTERS,
    ROW_FILTERS,
    Progress,
    RowView,
    dialect_words,
    left_alone_words,
    line_view,
    progress_of,
    row_filters,
    row_view,
    started_by,
)
from imports.views.scope import owned
from imports.views.undo import undo_context
from user2smart.companies.access import company_view
from user2smart.companies.connection import CompanyApiError

ROWS_PER_PAGE = 50
RUNS_PER_PAGE = 25
SHOWS_ROWS = (
    ImportRun.Status.PLANNED,
    ImportRun.Status.FINISHED,
    ImportRun.Status.FAILED,
    ImportRun.Status.CANCELLED,
    ImportRun.Status.DISCARDED,
)
# The run page's live part polls while the run is in one of these; any other status reloads it.
LIVE = (ImportRun.Status.VALIDATING, ImportRun.Status.RUNNING)
# The run without its (large, encrypted) files: pages ask only whether they are there.
PAGE_RUNS = ImportRun.objects.defer("log_csv", "failed_rows_csv")
PROGRESS_FIELDS = (
    "id",
    "company_id",
    "status",
    "planning",
    "rows_total",
    "rows_done",
    "rows_failed",
    "rows_skipped",
    "count_unchanged",
    "count_error",
    "held",
    "started_at",
)


@require_http_methods(["GET", "POST"])
@company_view
def new_import(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES, company=request.company)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                run = services.run_start(
                    company=request.company,
                    file=upload,
                    file_name=upload.name,
                    mode=form.cleaned_data["mode"],
                    source=ImportRun.Source.UPLOAD,
                    options=form.cleaned_data["options"],
                    dry_run=form.cleaned_data["preview"],
                    created_by=request.user,
                    missing=form.cleaned_data["missing"],
                    all_or_nothing=form.cleaned_data["all_or_nothing"],
                    profile=form.cleaned_data["profile"],
                )
            except ValueError as exc:  # a choice the service refuses: say why, keep the form
                form.add_error(None, str(exc))
            else:
                return redirect("imports:run", run_id=run.pk)
    else:
        form = ImportForm(company=request.company)
    context = {
        "form": form,
        "max_words": file_size_words(settings.IMPORT_MAX_FILE_BYTES),
        "create_cannot_deactivate": CREATE_CANNOT_DEACTIVATE,
    }
    return render(request, "imports/new.html", context)


@require_GET
@company_view
def run_page(request: HttpRequest, run_id: int) -> HttpResponse:
    runs = PAGE_RUNS.select_related("created_by").annotate(
        has_log=ExpressionWrapper(Q(log_csv__isnull=False), output_field=BooleanField()),
        has_failed_rows=ExpressionWrapper(~Q(failed_rows_csv=""), output_field=BooleanField()),
    )
    run = owned(request, runs, run_id, page=True)
    context = {
        "run": run,
        "dialect": dialect_words(run),
        "started_by": started_by(run),
        "live": run.status in LIVE,
        "totals": run_totals(run),
        "full_sync": run.missing == Missing.DEACTIVATE,
        "left_alone": left_alone_words(run.left_alone),
    }
    if run.held:
        context["held_message"] = held_message(missing=run.held, limit=run.deactivation_limit or 0)
        context["can_allow"] = not run.is_open and run.finished_at is not None
    context.update(_live_context(run))
    if (run.started_at is not None or run.refused) and not run.is_open:
        context["done_by_action"] = run_done_by_action(run)
    if run.status in SHOWS_ROWS and run.rows_total:
        context.update(_rows_context(request, run))
        context["can_retry"] = not services.run_retry_refusal(run=run)
    context.update(undo_context(run))
    return render(request, "imports/run.html", context)


@require_GET
@company_view
def run_progress(request: HttpRequest, run_id: int) -> HttpResponse:
    """The live part of the run page (htmx, every second): the run's counters, never its rows.

    When the run has left the status the page shows, the answer asks htmx to reload the page.
    """
    run = owned(request, ImportRun.objects.only(*PROGRESS_FIELDS), run_id)
    if run.phase != request.GET.get("status"):
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    return HttpResponse(render_to_string("imports/_progress.html", _live_context(run)))


@require_GET
@company_view
def run_rows(request: HttpRequest, run_id: int) -> HttpResponse:
    """The rows table of the run page, one page of one filter (htmx)."""
    run = owned(request, PAGE_RUNS, run_id)
    context = {"run": run, **_rows_context(request, run)}
    return render(request, "imports/_rows.html", context)


@require_POST
@company_view
def run_apply(request: HttpRequest, run_id: int) -> HttpResponse:
    run = owned(request, PAGE_RUNS, run_id)
    if services.run_apply(run_id=run.pk):
        run.refresh_from_db()
        if not run.refused:  # else the page says why nothing was applied
            messages.success(request, "The changes are being sent to SmartRecruiters.")
    else:
        messages.error(request, "This preview can no longer be applied.")
    return redirect("imports:run", run_id=run.pk)


@require_POST
@company_view
def run_discard(request: HttpRequest, run_id: int) -> HttpResponse:
    run = owned(request, PAGE_RUNS, run_id)
    if services.run_discard(run_id=run.pk):
        messages.success(request, "The preview was discarded: nothing was changed.")
    else:
        messages.error(request, "This preview can no longer be discarded.")
    return redirect("imports:run", run_id=run.pk)


@require_POST
@company_view
def run_cancel(request: HttpRequest, run_id: int) -> HttpResponse:
    run = owned(request, PAGE_RUNS, run_id)
    if services.run_cancel(run_id=run.pk):
        messages.success(request, "The import was cancelled. Rows already sent stay as they are.")
    else:
        messages.error(request, "This import is no longer running.")
    return redirect("imports:run", run_id=run.pk)


@require_POST
@company_view
def run_retry(request: HttpRequest, run_id: int) -> HttpResponse:
    run = owned(request, PAGE_RUNS, run_id)
    count = services.run_retry_failed(run_id=run.pk)
    if count:
        rows = "row is" if count == 1 else "rows are"
        messages.success(request, f"{count} {rows} being sent again.")
    else:
        messages.error(request, "There are no failed rows to send again.")
    return redirect("imports:run", run_id=run.pk)


@require_POST
@company_view
def run_allow_deactivations(request: HttpRequest, run_id: int) -> HttpResponse:
    """Apply the deactivations the run held back (over its limit), once an admin has checked."""
    run = owned(request, PAGE_RUNS, run_id)
    if not run.held:
        messages.error(request, "This import has no deactivations waiting to be allowed.")
        return redirect("imports:run", run_id=run.pk)
    try:
        sent = services.run_allow_deactivations(run_id=run.pk)
    except CompanyApiError as exc:
        messages.error(request, f"Nothing was deactivated. {exc.message}")
        return redirect("imports:run", run_id=run.pk)
    if sent:
        people = "1 deactivation is" if sent == 1 else f"{sent} deactivations are"
        messages.success(request, f"{people} being sent to SmartRecruiters.")
    elif ImportRun.objects.filter(pk=run.pk, held__gt=0).exists():
        messages.error(request, "This import is not ended yet: allow its deactivations when it is.")
    else:
        messages.success(
            request, "The people held were already inactive in SmartRecruiters: nothing to send."
        )
    return redirect("imports:run", run_id=run.pk)


@require_GET
@company_view
def run_log(request: HttpRequest, run_id: int) -> HttpResponse:
    run = owned(request, ImportRun.objects.only("company_id", "log_csv"), run_id)
    if not run.log_csv:
        return _gone(request, "The log is written when the import ends.")
    return csv_download(bytes(run.log_csv), f"user2smart-import-{run.pk}-log.csv")


@require_GET
@company_view
def run_failed_rows(request: HttpRequest, run_id: int) -> HttpResponse:
    run = owned(request, ImportRun.objects.only("company_id", "failed_rows_csv"), run_id)
    if not run.failed_rows_csv:
        return _gone(request, "This import has no failed rows to download (any more).")
    content = run.failed_rows_csv.encode("utf-8")
    return csv_download(content, f"user2smart-import-{run.pk}-failed-rows.csv")


@require_GET
@company_view
def history(request: HttpRequest) -> HttpResponse:
    runs = PAGE_RUNS.filter(company=request.company).select_related("created_by")
    page = Paginator(runs, RUNS_PER_PAGE).get_page(request.GET.get("page"))
    entries = [(run, started_by(run), run_totals(run)) for run in page]
    return render(request, "imports/history.html", {"page": page, "entries": entries})


def _live_context(run: ImportRun) -> dict:
    """What the live part shows: how far the check is, or the bar of rows sent."""
    if run.checking:
        return {"run": run, "checking": services.check_progress(run_id=run.pk)}
    if run.status == ImportRun.Status.RUNNING:
        return {"run": run, "progress": _progress(run)}
    return {"run": run}


def _progress(run: ImportRun) -> Progress:
    return progress_of(
        totals=run_totals(run),
        processed_at_start=run.count_unchanged + run.count_error + run.held,
        started_at=run.started_at,
        now=timezone.now(),
    )


def _rows_context(request: HttpRequest, run: ImportRun) -> dict:
    """One page of one filter of the run's rows. A filter that may show folded rows pages
    through the run's log (read once) and takes the page's other rows from the table."""
    show = request.GET.get("show", "all")
    if show not in ROW_FILTERS:
        show = "all"
    lines = run_log_lines(run) if show in LOG_ROW_FILTERS else None
    if lines is None:
        rows = run.rows.filter(**ROW_FILTERS[show][1]).order_by(*line_order()).defer("payload")
        page = Paginator(rows, ROWS_PER_PAGE).get_page(request.GET.get("page"))
        views = [row_view(row, preview=run.dry_run) for row in page]
    else:
        action = LOG_ROW_FILTERS[show]
        shown = [line for line in lines if action is None or line.action == action]
        page = Paginator(shown, ROWS_PER_PAGE).get_page(request.GET.get("page"))
        views = _line_views(run, page.object_list)
    return {
        "show": show,
        "filters": row_filters(run),
        "rows_page": page,
        "rows": views,
        "from_log": lines is not None and run.rows_folded > 0,
    }


def _line_views(run: ImportRun, lines: list[LogLine]) -> list[RowView]:
    """Folded rows from their lines of the log; the others from the table (their truth), found
    by line, or by SmartRecruiters id for the people missing from the file (no line)."""
    wanted = [line.line for line in lines if line.line is not None and not is_folded_line(line)]
    absent = [line.smartrecruiters_id for line in lines if line.line is None]
    found = list(
        run.rows.filter(Q(line__in=wanted) | Q(line__isnull=True, sr_user_id__in=absent)).defer(
            "payload"
        )
    )
    by_line = {row.line: row for row in found if row.line is not None}
    by_id = {row.sr_user_id: row for row in found if row.line is None}
    views = []
    for line in lines:
        if line.line is None:
            row = by_id.get(line.smartrecruiters_id or "")
        else:
            row = by_line.get(line.line)
        views.append(row_view(row, preview=run.dry_run) if row is not None else line_view(line))
    return views


def _gone(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "imports/gone.html", {"message": message}, status=404)
