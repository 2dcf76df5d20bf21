"""Import profiles: the list, and the page that maps a sample export's columns with a live
preview of its first rows (htmx), then saves the profile."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from imports.csvfile import COLUMNS, IGNORABLE_COLUMNS, REQUIRED_COLUMNS, CsvFileError
from imports.forms import SOURCE_VALUE, profile_data_from_post
from imports.models import ImportProfile
from imports.profiles import TRANSFORMS, ProfileError, profile_from_json
from imports.profiles.presets import PRESETS, preset
from imports.profiles.preview import SHOWN, guess_fields, preview_rows, sample_read
from imports.services.lookups import lookup_read
from imports.services.profiles import profile_save
from user2smart.companies.access import company_view
from user2smart.companies.connection import CompanyApiError
from user2smart.companies.models import Company

LISTS_SECONDS = 60


@require_GET
@company_view
def profiles(request: HttpRequest) -> HttpResponse:
    context = {
        "profiles": ImportProfile.objects.filter(company=request.company),
        "presets": sorted(PRESETS),
    }
    return render(request, "imports/profiles.html", context)


@require_http_methods(["GET", "POST"])
@company_view
def profile_page(request: HttpRequest, profile_id: int | None = None) -> HttpResponse:
    row = _owned(request.company, profile_id)
    problems: list[str] = []
    if request.method == "POST":
        data = profile_data_from_post(request.POST)
        sample_text = request.POST.get("sample", "")
        try:
            saved = profile_save(
                company=request.company,
                data=data,
                sample=sample_text.encode("utf-8") if sample_text else None,
                options={"delimiter": ",", "quotechar": '"'},
                instance=row,
                replace=False,  # "New profile" never overwrites a saved one
            )
        except ProfileError as exc:
            problems = exc.problems
        else:
            messages.success(request, f'The import profile "{saved.name}" is saved.')
            return redirect("imports:profile", profile_id=saved.pk)
        header = _header_of(sample_text)
    else:
        sample_text = ""
        header = ()
        if row is not None:
            data = row.to_json()
        else:
            data = preset(request.GET.get("preset", "")) or {"name": "", "fields": {}}
    context = {
        "profile": row,
        "problems": problems,
        **_editor(request.company, data, header, sample_text),
    }
    return render(request, "imports/profile.html", context, status=400 if problems else 200)


@require_POST
@company_view
def profile_sample(request: HttpRequest) -> HttpResponse:
    """A sample file was chosen: its headers fill the selects (fields still unmapped get a
    guess from the header's names), and the preview shows its first rows."""
    data = profile_data_from_post(request.POST)
    upload = request.FILES.get("sample_file")
    sample_text = request.POST.get("sample", "")
    problem = ""
    header: tuple[str, ...] = _header_of(sample_text)
    if upload is not None:
        try:
            sample = sample_read(upload, secret_columns=_password_columns(data))
        except CsvFileError as exc:
            problem = str(exc)
        else:
            sample_text, header = sample.text, sample.header
            for name, rule in guess_fields(header).items():
                data["fields"].setdefault(name, rule)
    context = _editor(request.company, data, header, sample_text)
    context["sample_problem"] = problem
    return render(request, "imports/_profile_editor.html", context)


@require_POST
@company_view
def profile_preview(request: HttpRequest) -> HttpResponse:
    data = profile_data_from_post(request.POST)
    preview = _preview(request.company, data, request.POST.get("sample", ""))
    return render(request, "imports/_profile_preview.html", preview)


@require_GET
@company_view
def profile_download(request: HttpRequest, profile_id: int) -> HttpResponse:
    row = get_object_or_404(ImportProfile, pk=profile_id, company=request.company)
    response = HttpResponse(
        json.dumps(row.to_json(), ensure_ascii=False, indent=2) + "\n",
        content_type="application/json",
    )
    response["Content-Disposition"] = f'attachment; filename="profile-{row.pk}.json"'
    return response


def _owned(company: Company, profile_id: int | None) -> ImportProfile | None:
    if profile_id is None:
        return None
    return get_object_or_404(ImportProfile, pk=profile_id, company=company)


def _password_columns(data: dict[str, Any]) -> list[str]:
    """The columns the profile being edited maps to the password."""
    rule = (data.get("fields") or {}).get("password")
    columns = rule.get("column") if isinstance(rule, dict) else None
    if isinstance(columns, str):
        return [columns]
    return [column for column in columns or () if isinstance(column, str)]


def _header_of(sample_text: str) -> tuple[str, ...]:
    if not sample_text:
        return ()
    try:
        return sample_read(sample_text.encode("utf-8")).header
    except CsvFileError:
        return ()


def _lists(company: Company) -> tuple[list[dict] | None, list[dict] | None, str]:
    """The company's roles and access groups (kept a minute: the preview asks often)."""
    key = f"profile-page-lists:{company.pk}"
    cached = cache.get(key)
    if cached is not None:
        return cached[0], cached[1], ""
    try:
        roles = lookup_read(company=company, kind="roles")
        groups = lookup_read(company=company, kind="access-groups")
    except CompanyApiError as exc:
        return None, None, exc.message
    cache.set(key, (roles, groups), LISTS_SECONDS)
    return roles, groups, ""


def _preview(company: Company, data: dict[str, Any], sample_text: str) -> dict[str, Any]:
    context: dict[str, Any] = {"shown": SHOWN, "rows": [], "problems": [], "lists_problem": ""}
    if not sample_text:
        return context
    try:
        profile = profile_from_json({**data, "name": data.get("name") or "preview"})
    except ProfileError as exc:
        context["problems"] = exc.problems
        return context
    roles, groups, context["lists_problem"] = _lists(company)
    try:
        context["rows"] = preview_rows(profile, sample_text, roles=roles, groups=groups)
    except CsvFileError as exc:
        context["problems"] = [str(exc)]
    context["errors"] = sum(1 for row in context["rows"] if row.errors)
    return context


def _editor(
    company: Company, data: dict[str, Any], header: tuple[str, ...], sample_text: str
) -> dict[str, Any]:
    """What the editor shows: one line per field with its rule, the columns to choose from."""
    fields = data.get("fields") or {}
    columns = list(header)
    lines = []
    for name in COLUMNS:
        rule = fields.get(name) or {}
        if isinstance(rule, str):
            rule = {"column": rule}
        listed = rule.get("column") or []
        listed = [listed] if isinstance(listed, str) else list(listed)
        for column in listed:
            if column not in columns:
                columns.append(column)
        source = SOURCE_VALUE if "value" in rule else (listed[0] if listed else "")
        pairs = list((rule.get("map") or {}).items())
        lines.append(
            {
                "name": name,
                "required": name in REQUIRED_COLUMNS,
                "source": source,
                "fallback": listed[1] if len(listed) > 1 else "",
                "value": rule.get("value", ""),
                "default": rule.get("default", ""),
                "transform": rule.get("transform", ""),
                "on_create": rule.get("on") == "create",
                "can_create_only": name in IGNORABLE_COLUMNS,
                "pairs": [*pairs, ("", "")],
            }
        )
    return {
        "name": data.get("name", ""),
        "match": data.get("match", "email"),
        "lines": lines,
        "columns": columns,
        "in_sample": set(header),
        "sample": sample_text,
        "transforms": TRANSFORMS,
        "value_choice": SOURCE_VALUE,
        "preview": _preview(company, data, sample_text),
    }
