"""Operators' pages for schedules: cron in words, next runs, Run now, Test connection.

Saving, deleting, enabling and disabling go through ``scheduler.services`` so that each
schedule's beat entry follows; secrets are write-only (``ScheduleForm``).

django-celery-beat's own pages (clocked, crontabs, intervals, periodic tasks, solar events) are
taken off the admin: an edit there would bypass the schedule that owns each beat entry. This
app is listed after django_celery_beat, so its admin module is imported after the one that
registers them; the services use the beat models directly, never through the admin.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)

from scheduler import present, services
from scheduler.forms import (
    FILE_FIELDS,
    IMPORT_FIELDS,
    SFTP_FIELDS,
    TIMEOUT_FIELDS,
    ScheduleForm,
)
from scheduler.models import Schedule, ScheduleFire
from scheduler.present import TIME_FORMAT

RECENT_FIRES = 20
BEAT_MODELS = [ClockedSchedule, CrontabSchedule, IntervalSchedule, PeriodicTask, SolarSchedule]

for beat_model in BEAT_MODELS:
    if admin.site.is_registered(beat_model):
        admin.site.unregister(beat_model)


@admin.register(Schedule)
class ScheduleAdmin(admin.ModelAdmin):
    form = ScheduleForm
    list_display = ["company", "name", "cron_in_words", "next_run", "last_run", "enabled"]
    list_display_links = ["name"]
    list_filter = ["company", "enabled"]
    search_fields = ["name", "company__name", "sftp_host"]
    list_select_related = ["company"]
    actions = ["run_now", "test_connection", "enable", "disable"]
    readonly_fields = ["cron_in_words", "upcoming_runs", "pinned_fingerprints", "recent_fires"]
    fieldsets = [
        (None, {"fields": ["company", "name", "enabled"]}),
        ("When", {"fields": ["cron", "timezone", "cron_in_words", "upcoming_runs"]}),
        ("Import", {"fields": list(IMPORT_FIELDS)}),
        ("SFTP server", {"fields": [*SFTP_FIELDS, "pinned_fingerprints"]}),
        ("Files", {"fields": list(FILE_FIELDS)}),
        ("Timeouts", {"fields": list(TIMEOUT_FIELDS), "classes": ["collapse"]}),
        ("Recent fires and runs", {"fields": ["recent_fires"]}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Schedule]:
        latest = ScheduleFire.objects.select_related("run").order_by("-created_at")[:1]
        return (
            super()
            .get_queryset(request)
            .prefetch_related(Prefetch("fires", queryset=latest, to_attr="latest_fires"))
        )

    def get_fieldsets(self, request: HttpRequest, obj: Schedule | None = None) -> list:
        if obj is None:
            return self.fieldsets[:-1]
        return self.fieldsets

    def save_model(self, request: HttpRequest, obj: Schedule, form, change: bool) -> None:
        services.schedule_save(obj)

    def delete_model(self, request: HttpRequest, obj: Schedule) -> None:
        services.schedule_delete(obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Schedule]) -> None:
        for schedule in queryset:
            services.schedule_delete(schedule)

    # Columns and read-only fields

    @admin.display(description="runs")
    def cron_in_words(self, schedule: Schedule) -> str:
        return present.cron_in_words(schedule)

    @admin.display(description="next run")
    def next_run(self, schedule: Schedule) -> str:
        if not schedule.enabled:
            return "disabled"
        runs = present.upcoming(schedule, 1)
        return f"{runs[0]:{TIME_FORMAT}}" if runs else "-"

    @admin.display(description="next five runs")
    def upcoming_runs(self, schedule: Schedule) -> str:
        runs = present.upcoming(schedule, 5)
        if not runs:
            return "-"
        note = "" if schedule.enabled else " (the schedule is disabled)"
        items = format_html_join(
            "", "<li>{}</li>", ((f"{run:%a %Y-%m-%d %H:%M %Z}",) for run in runs)
        )
        return format_html("<ul style='margin:0'>{}</ul>{}", items, note)

    @admin.display(description="last run")
    def last_run(self, schedule: Schedule) -> str:
        fires = getattr(schedule, "latest_fires", None)
        if fires is None:
            fires = list(schedule.fires.select_related("run")[:1])
        if not fires:
            return "never"
        fire = fires[0]
        return f"{fire.local_time():{TIME_FORMAT}} {present.fire_result(fire)}"

    @admin.display(description="pinned key fingerprints")
    def pinned_fingerprints(self, schedule: Schedule) -> str:
        fetch = render_to_string(
            "scheduler/_host_key_fetch.html",
            {"fetch_url": reverse("admin:scheduler_schedule_host_key")},
        )
        return format_html("{}{}", present.pinned_fingerprints(schedule), mark_safe(fetch))  # noqa: S308

    @admin.display(description="recent fires")
    def recent_fires(self, schedule: Schedule) -> str:
        fires = list(schedule.fires.select_related("run")[:RECENT_FIRES]) if schedule.pk else []
        if not fires:
            return "No fire yet."
        header = format_html_join(
            "",
            "<th>{}</th>",
            (
                (title,)
                for title in ("scheduled for", "by", "outcome", "run", "result", "rows", "notes")
            ),
        )
        rows = format_html_join("", "<tr>{}</tr>", ((_fire_cells(fire),) for fire in fires))
        return format_html(
            "<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>", header, rows
        )

    # Actions and buttons

    def get_urls(self) -> list:
        def view(method):
            return self.admin_site.admin_view(require_POST(method))

        return [
            path("host-key/", view(self.host_key_view), name="scheduler_schedule_host_key"),
            path("<int:pk>/run-now/", view(self.run_now_view), name="scheduler_schedule_run_now"),
            path(
                "<int:pk>/test-connection/",
                view(self.test_connection_view),
                name="scheduler_schedule_test_connection",
            ),
            *super().get_urls(),
        ]

    def run_now_view(self, request: HttpRequest, pk: int) -> HttpResponseRedirect:
        schedule = self._changeable(request, pk)
        self._run_now(request, schedule)
        return HttpResponseRedirect(reverse("admin:scheduler_schedule_change", args=[pk]))

    def test_connection_view(self, request: HttpRequest, pk: int) -> HttpResponseRedirect:
        schedule = self._changeable(request, pk)
        self._test_connection(request, schedule)
        return HttpResponseRedirect(reverse("admin:scheduler_schedule_change", args=[pk]))

    def host_key_view(self, request: HttpRequest) -> HttpResponse:
        if not (self.has_add_permission(request) or self.has_change_permission(request)):
            raise PermissionDenied
        return present.host_key_fragment(request)

    @admin.action(description="Run now", permissions=["change"])
    def run_now(self, request: HttpRequest, queryset: QuerySet[Schedule]) -> None:
        for schedule in queryset.select_related("company"):
            self._run_now(request, schedule)

    @admin.action(description="Test connection", permissions=["change"])
    def test_connection(self, request: HttpRequest, queryset: QuerySet[Schedule]) -> None:
        for schedule in queryset.select_related("company"):
            self._test_connection(request, schedule)

    @admin.action(description="Enable", permissions=["change"])
    def enable(self, request: HttpRequest, queryset: QuerySet[Schedule]) -> None:
        changed, refused = services.schedules_set_enabled(schedules=queryset, enabled=True)
        self.message_user(request, f"{changed} schedule(s) enabled.", messages.SUCCESS)
        if refused:
            self.message_user(
                request, present.NO_KEY_ENABLED.format(count=refused), messages.WARNING
            )

    @admin.action(description="Disable", permissions=["change"])
    def disable(self, request: HttpRequest, queryset: QuerySet[Schedule]) -> None:
        changed, _ = services.schedules_set_enabled(schedules=queryset, enabled=False)
        self.message_user(request, f"{changed} schedule(s) disabled.", messages.SUCCESS)

    def _changeable(self, request: HttpRequest, pk: int) -> Schedule:
        schedule = get_object_or_404(Schedule.objects.select_related("company"), pk=pk)
        if not self.has_change_permission(request, schedule):
            raise PermissionDenied
        return schedule

    def _run_now(self, request: HttpRequest, schedule: Schedule) -> None:
        fire = services.schedule_run_now(schedule=schedule)
        started, message = present.run_now_words(schedule, fire)
        self.message_user(request, message, messages.SUCCESS if started else messages.WARNING)

    def _test_connection(self, request: HttpRequest, schedule: Schedule) -> None:
        report = services.schedule_test_connection(schedule)
        for passed, message in report.checks:
            self.message_user(
                request, f"{schedule}: {message}", messages.SUCCESS if passed else messages.ERROR
            )


def _fire_cells(fire: ScheduleFire) -> str:
    run = fire.run
    notes = [note for note in (fire.reason, fire.finish_error) if note]
    if run and run.held:
        notes.append(f"{run.held} deactivations held (not in the file, over the limit)")
    if fire.log_path:
        notes.append(f"log: {fire.log_path}")
    if fire.moved_to:
        notes.append(f"moved to {fire.moved_to}")
    cells = (
        f"{fire.local_time():{TIME_FORMAT}}",
        "Run now" if fire.manual else "schedule",
        fire.get_outcome_display(),
        str(run.pk) if run else "",
        present.fire_result(fire) if run or fire.outcome == ScheduleFire.Outcome.FAILED else "",
        f"{run.rows_done}/{run.rows_total}" if run else "",
        " ".join(notes),
    )
    return format_html_join("", "<td>{}</td>", ((cell,) for cell in cells))
