"""The company admins' Schedules page: their company's schedules, created and edited here.

Operators keep the Django admin for every company. Each view adapts: it scopes to the signed-in
person's companies (another company's schedule answers 404), then calls ``scheduler.services``
and says what happened in the words of ``scheduler.present``.
"""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from imports.views.scope import owned
from scheduler import present, services
from scheduler.forms import CompanyHostKeyFetchForm, CompanyScheduleForm
from scheduler.models import Schedule, ScheduleFire
from user2smart.companies.access import company_view

NEXT_RUNS = 3
RECENT_FIRES = 10


def _schedules() -> QuerySet[Schedule]:
    latest = ScheduleFire.objects.select_related("run").order_by("-created_at")[:1]
    return Schedule.objects.select_related("company").prefetch_related(
        Prefetch("fires", queryset=latest, to_attr="latest_fires")
    )


def _summary(schedule: Schedule) -> dict[str, object]:
    """What the list and a schedule's page say about it."""
    fires = getattr(schedule, "latest_fires", None)
    if fires is None:
        fires = list(schedule.fires.select_related("run")[:1])
    last = fires[0] if fires else None
    return {
        "schedule": schedule,
        "in_words": present.cron_in_words(schedule),
        "next_runs": present.upcoming(schedule, NEXT_RUNS) if schedule.enabled else [],
        "last": last and _fire_view(last),
    }


def _fire_view(fire: ScheduleFire) -> dict[str, object]:
    result = present.fire_result(fire)
    return {
        "fire": fire,
        "when": fire.local_time(),
        "result": result if result in ("V", "X") else "",
        "words": "" if result in ("V", "X") else result,
        "log_name": present.log_name(fire),
        "notes": " ".join(note for note in (fire.reason, fire.finish_error) if note),
    }


@require_GET
@company_view
def schedule_list(request: HttpRequest) -> HttpResponse:
    schedules = _schedules().filter(company=request.company)
    return render(
        request,
        "scheduler/list.html",
        {"entries": [_summary(schedule) for schedule in schedules]},
    )


@require_http_methods(["GET", "POST"])
@company_view
def schedule_new(request: HttpRequest) -> HttpResponse:
    schedule = Schedule(company=request.company, enabled=True)
    return _edit(request, schedule, created=True)


@require_http_methods(["GET", "POST"])
@company_view
def schedule_edit(request: HttpRequest, schedule_id: int) -> HttpResponse:
    schedule = owned(request, _schedules(), schedule_id, page=True)
    return _edit(request, schedule, created=False)


def _edit(request: HttpRequest, schedule: Schedule, *, created: bool) -> HttpResponse:
    context: dict[str, object] = {"created": created}
    if not created:  # read before the form puts what was typed into the schedule
        context.update(
            _summary(schedule),
            upcoming=present.upcoming(schedule, 5),
            fingerprints=present.pinned_fingerprints(schedule),
            fires=[
                _fire_view(fire) for fire in schedule.fires.select_related("run")[:RECENT_FIRES]
            ],
        )
    if request.method == "POST":
        form = CompanyScheduleForm(request.POST, instance=schedule)
        if form.is_valid():
            saved = services.schedule_save(form.save(commit=False))
            state = "enabled" if saved.enabled else "saved disabled: it does not run"
            verb = "created" if created else "saved"
            messages.success(request, f'Schedule "{saved.name}" {verb} ({state}).')
            return redirect("scheduler:list")
    else:
        form = CompanyScheduleForm(instance=schedule)
    context["form"] = form
    return render(request, "scheduler/edit.html", context)


@require_POST
@company_view
def schedule_run_now(request: HttpRequest, schedule_id: int) -> HttpResponse:
    schedule = owned(request, Schedule.objects.select_related("company"), schedule_id)
    fire = services.schedule_run_now(schedule=schedule)
    started, message = present.run_now_words(schedule, fire)
    (messages.success if started else messages.warning)(request, message)
    return redirect("scheduler:list")


@require_POST
@company_view
def schedule_enable(request: HttpRequest, schedule_id: int) -> HttpResponse:
    return _set_enabled(request, schedule_id, enabled=True)


@require_POST
@company_view
def schedule_disable(request: HttpRequest, schedule_id: int) -> HttpResponse:
    return _set_enabled(request, schedule_id, enabled=False)


def _set_enabled(request: HttpRequest, schedule_id: int, *, enabled: bool) -> HttpResponse:
    schedule = owned(request, Schedule.objects.select_related("company"), schedule_id)
    one = Schedule.objects.filter(pk=schedule.pk)
    _, refused = services.schedules_set_enabled(schedules=one, enabled=enabled)
    if refused:
        messages.error(request, present.NOT_ENABLED_NO_KEY.format(name=schedule.name))
    elif enabled:
        messages.success(request, f'Schedule "{schedule.name}" enabled: it runs at its times.')
    else:
        messages.success(
            request, f'Schedule "{schedule.name}" disabled: it does not run until enabled.'
        )
    return redirect("scheduler:list")


@require_POST
@company_view
def host_key(request: HttpRequest) -> HttpResponse:
    return present.host_key_fragment(request, form_class=CompanyHostKeyFetchForm)
