"""Undo an import from its page: what the page says about undoing, and the action that makes
the undo's preview (`imports/services/undo.py`)."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from imports.models import ImportRun
from imports.services.undo import (
    NOTHING_TO_UNDO,
    UndoRefused,
    undo_refusal,
    undo_start,
    undo_until,
)
from imports.views.scope import owned
from user2smart.companies.access import company_view


class UndoForm(forms.Form):
    emails = forms.CharField(
        label="Only these people (optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "aria-describedby": "id_emails_helptext"}),
        help_text="Their emails, one a line. Leave empty to undo the whole import.",
    )
    force = forms.BooleanField(
        label="Overwrite changes made in SmartRecruiters since this import",
        required=False,
        widget=forms.CheckboxInput(attrs={"aria-describedby": "id_force_helptext"}),
        help_text="Without it, a field someone changed since is left as it is; its row says so.",
    )

    def clean_emails(self) -> list[str]:
        return [email for email in re.split(r"[\s,;]+", self.cleaned_data["emails"]) if email]


def undo_context(run: ImportRun) -> dict[str, Any]:
    """What the run page shows about undoing this import (nothing for a preview or while open)."""
    if run.dry_run or run.finished_at is None:
        return {}
    undone_by = list(run.undone_by.order_by("created_at").only("pk", "status"))
    refusal = undo_refusal(run=run)
    if refusal == NOTHING_TO_UNDO and not undone_by:
        return {}  # a file that failed, or changed no one: nothing to offer
    return {
        "undo": {
            "undone_by": undone_by,
            "refusal": refusal,
            "until": undo_until(run=run),
            "form": UndoForm(),
        }
    }


@require_POST
@company_view
def run_undo(request: HttpRequest, run_id: int) -> HttpResponse:
    """Make the undo of the import, as a preview, and show it."""
    run = owned(request, ImportRun.objects.defer("log_csv", "failed_rows_csv"), run_id)
    form = UndoForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The undo could not be made: check the emails you listed.")
        return redirect("imports:run", run_id=run.pk)
    try:
        undo = undo_start(
            run=run,
            emails=form.cleaned_data["emails"],
            force=form.cleaned_data["force"],
            dry_run=True,
            created_by=request.user,
        )
    except UndoRefused as exc:
        messages.error(request, str(exc))
        return redirect("imports:run", run_id=run.pk)
    return redirect("imports:run", run_id=undo.pk)
