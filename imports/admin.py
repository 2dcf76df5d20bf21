"""Operators' pages: import profiles (checked before they are saved), and the directory
mirror, read-only, each person with their timeline."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms.fields import InvalidJSONInput
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.text import slugify

from imports import services
from imports.models import ImportProfile, MirroredUser
from imports.selectors import person_timeline
from imports.services.profiles import ProfileError, profile_check, profile_save
from imports.views.people import TimelineEntry, record_facts, timeline_entry
from user2smart.companies.models import Company

TIMELINE_LIMIT = 100
# The change page only shows: every field is read-only.
SHOWN: tuple[str, ...] = (
    "company",
    "user_id",
    "email",
    "first_name",
    "last_name",
    "external_data",
    "seen_at",
    "full_read_at",
    "updated_on",
    "full_updated_on",
    "expect_change",
    "record_shown",
    "timeline",
)


class ProfileJSONField(forms.JSONField):
    """JSON that the parser cannot even read (nested too deep) is an error of the form."""

    def to_python(self, value: object) -> object:
        try:
            return super().to_python(value)
        except RecursionError:
            raise forms.ValidationError(
                "This is not a profile: its JSON is nested too deep."
            ) from None

    def bound_data(self, data: object, initial: object) -> object:
        try:
            return super().bound_data(data, initial)
        except RecursionError:
            return InvalidJSONInput(data)


class ImportProfileForm(forms.ModelForm):
    """The profile as its JSON (the form `import_profile` loads), checked as a whole."""

    profile = ProfileJSONField(
        label="Profile (JSON)",
        widget=forms.Textarea(attrs={"rows": 24, "cols": 90, "spellcheck": "false"}),
        help_text='{"name": ..., "match": "email" or "externalData", "fields": {"email": '
        '{"column": "Work Email"}, ...}}: see docs/profiles.md.',
    )

    class Meta:
        model = ImportProfile
        fields = ["company"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["profile"] = self.instance.to_json()

    def clean_profile(self) -> object:
        data = self.cleaned_data["profile"]
        try:
            profile_check(data=data)
        except ProfileError as exc:
            raise forms.ValidationError(exc.problems) from None
        return data

    def clean(self) -> dict:
        cleaned = super().clean()
        company = cleaned.get("company") or (self.instance.company if self.instance.pk else None)
        data = cleaned.get("profile")
        if company is not None and isinstance(data, dict):
            name = str(data.get("name", "")).strip()
            others = ImportProfile.objects.filter(company=company, name__iexact=name)
            if self.instance.pk:
                others = others.exclude(pk=self.instance.pk)
            if others.exists():
                self.add_error("profile", f'{company} already has an import profile "{name}".')
        return cleaned


@admin.register(ImportProfile)
class ImportProfileAdmin(admin.ModelAdmin):
    form = ImportProfileForm
    list_display = ["name", "company", "updated_at"]
    list_filter = ["company"]
    list_select_related = ["company"]
    search_fields = ["name", "company__name"]
    actions = ["download_json"]

    def get_readonly_fields(self, request: HttpRequest, obj: ImportProfile | None = None) -> list:
        # A saved profile stays with its company: its schedules (and runs) are that company's.
        return ["company"] if obj is not None else []

    def save_model(self, request: HttpRequest, obj: ImportProfile, form, change: bool) -> None:
        saved = profile_save(
            company=obj.company, data=form.cleaned_data["profile"], instance=obj if change else None
        )
        obj.pk = saved.pk

    @admin.action(description="Download the selected profile as JSON")
    def download_json(
        self, request: HttpRequest, queryset: QuerySet[ImportProfile]
    ) -> HttpResponse | None:
        if queryset.count() != 1:
            self.message_user(request, "Select one profile to download.", messages.WARNING)
            return None
        profile = queryset.get()
        response = HttpResponse(
            json.dumps(profile.to_json(), ensure_ascii=False, indent=2) + "\n",
            content_type="application/json",
        )
        name = slugify(profile.name) or "profile"
        response["Content-Disposition"] = f'attachment; filename="{name}.json"'
        return response


@admin.register(MirroredUser)
class MirroredUserAdmin(admin.ModelAdmin):
    """What SmartRecruiters last returned: only SmartRecruiters (and imports) change it."""

    list_display = [
        "company",
        "email",
        "first_name",
        "last_name",
        "external_data",
        "seen_at",
        "full_read_at",
    ]
    list_display_links = ["email"]
    list_filter = ["company"]
    list_select_related = ["company"]
    search_fields = ["email", "first_name", "last_name", "external_data", "user_id"]
    actions = ["reread_directory"]
    fields = SHOWN
    readonly_fields = SHOWN

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_reread_permission(self, request: HttpRequest) -> bool:
        """Hours of calls at a company's rate limit: superusers only."""
        return bool(request.user.is_superuser)

    @admin.action(
        description="Read their companies' directories again in full (one call a user)",
        permissions=["reread"],
    )
    def reread_directory(self, request: HttpRequest, queryset: QuerySet[MirroredUser]) -> None:
        companies = Company.objects.filter(pk__in=queryset.values("company_id")).order_by("name")
        for company in companies:
            services.mirror_refresh_start(company_id=company.pk)
        names = ", ".join(company.name for company in companies)
        self.message_user(
            request,
            f"Reading again in full, in the background: {names}. Each person's record is "
            "updated as it is read.",
        )

    def has_change_permission(self, request: HttpRequest, obj: MirroredUser | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: MirroredUser | None = None) -> bool:
        return False

    @admin.display(description="record")
    def record_shown(self, person: MirroredUser) -> SafeString:
        facts = format_html_join(
            "", "<tr><th scope='row'>{}</th><td>{}</td></tr>", record_facts(person)
        )
        raw = json.dumps(person.record, indent=2, sort_keys=True, ensure_ascii=False)
        return format_html(
            "<table><tbody>{}</tbody></table>"
            "<details><summary>As SmartRecruiters returned it</summary><pre>{}</pre></details>",
            facts,
            raw,
        )

    @admin.display(description="changes made by User2Smart")
    def timeline(self, person: MirroredUser) -> SafeString:
        rows = person_timeline(person=person)
        entries = [timeline_entry(row) for row in rows[:TIMELINE_LIMIT]]
        if not entries:
            return format_html("{}", "None yet.")
        total = rows.count() if len(entries) == TIMELINE_LIMIT else len(entries)
        note = ""
        if total > len(entries):
            note = format_html("<p>The newest {} of {} changes.</p>", len(entries), total)
        body = format_html_join("", "{}", ((_entry_html(entry),) for entry in entries))
        return format_html(
            "{}<table><thead><tr><th>When</th><th>Import</th><th>File</th><th>Line</th>"
            "<th>Started by</th><th>Action</th><th>Changes</th><th>Result</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            note,
            body,
        )


def _entry_html(entry: TimelineEntry) -> SafeString:
    changes = format_html_join(
        "",
        "<li>{}: {} → {}</li>",
        ((change.field, change.old, change.new) for change in entry.row.changes),
    )
    errors = format_html_join(
        "",
        "<li>{}: {}</li>",
        ((error.get("column", ""), error.get("message", "")) for error in entry.row.errors),
    )
    return format_html(
        "<tr><td>{}</td><td>Import {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
        "<td><ul>{}{}</ul></td><td>{} {}</td></tr>",
        date_format(timezone.localtime(entry.run.created_at), "j M Y, H:i"),
        entry.run.pk,
        entry.run.file_name or "-",
        entry.row.line,
        entry.who,
        entry.row.action_label,
        changes,
        errors,
        entry.result,
        format_html("<p>{}</p>", entry.row.message) if entry.row.message else "",
    )
