"""The schedule forms (the admin's, and the company admins' page): secrets are write-only.

The stored SFTP password and private key are never sent to the browser. What a person typed
is: a form shown again after an error keeps the password or key just typed (and only that).
"""

from __future__ import annotations

from typing import cast

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import QueryDict

from imports.models import ImportProfile
from scheduler.models import Schedule
from scheduler.services.checks import sftp_host_check

KEEP_HELP = "Write-only: leave blank to keep the stored value."
SECRET_FIELDS = ("sftp_password", "sftp_private_key")
# The groups of fields of both forms (the admin's fieldsets and the Schedules page's sections).
SCHEDULE_FIELDS = ("name", "enabled", "cron", "timezone")
IMPORT_FIELDS = (
    "run_as_email",
    "mode",
    "profile",
    "missing",
    "all_or_nothing",
    "header",
    "delimiter",
    "quotechar",
    "encoding",
    "skip_unchanged",
    "notify_emails",
)
SFTP_FIELDS = (
    "sftp_host",
    "sftp_port",
    "sftp_username",
    "sftp_password",
    "sftp_private_key",
    "host_key",
)
FILE_FIELDS = ("file_path", "log_dir", "log_prefix", "after_import", "move_to")
TIMEOUT_FIELDS = ("connect_timeout", "io_timeout")
HOST_KEY_HELP = (
    'The server\'s public host key, "TYPE BASE64" (several lines allowed). "Fetch the host key" '
    "shows the key the server presents; check its fingerprint with the server's administrator "
    "before pinning it."
)


class WriteOnlyTextarea(forms.Textarea):
    """A textarea that sends no value back to the browser, unless ``render_value`` is set.

    As ``PasswordInput``: the form sets ``render_value`` when it is shown again with what was
    just typed (never the stored value: the form's initial value for a secret is blank).
    """

    def __init__(self, attrs: dict | None = None, render_value: bool = False) -> None:
        super().__init__(attrs)
        self.render_value = render_value

    def format_value(self, value: object) -> str | None:
        if not self.render_value:
            return None
        return super().format_value(value)


class ScheduleForm(forms.ModelForm):
    """Every field is checked by the model's validators; a blank secret keeps the stored one.

    Giving a new password clears the stored private key, and the other way round.
    """

    sftp_password = forms.CharField(
        label="Password",
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    sftp_private_key = forms.CharField(
        label="Private key",
        required=False,
        widget=WriteOnlyTextarea(
            attrs={"rows": 4, "cols": 70, "autocomplete": "off", "spellcheck": "false"}
        ),
    )

    class Meta:
        model = Schedule
        fields = [
            "company",
            *SCHEDULE_FIELDS,
            *IMPORT_FIELDS,
            *SFTP_FIELDS,
            *FILE_FIELDS,
            *TIMEOUT_FIELDS,
        ]
        widgets = {
            "notify_emails": forms.Textarea(attrs={"rows": 2, "cols": 70}),
            "host_key": forms.Textarea(attrs={"rows": 3, "cols": 70, "spellcheck": "false"}),
        }

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        stored = self.instance
        for name, label in (("sftp_password", "A password"), ("sftp_private_key", "A key")):
            self.initial[name] = ""
            prefix = f"{label} is stored. " if getattr(stored, name, "") else ""
            self.fields[name].help_text = prefix + KEEP_HELP
        self.fields[
            "sftp_private_key"
        ].help_text += " Ed25519, ECDSA or RSA, OpenSSH or PEM format, without a passphrase."
        # A post without the choice (a page from before it existed) keeps the stored one.
        self.fields["missing"].required = False
        self.fields["host_key"].help_text = HOST_KEY_HELP
        if self.is_bound:
            # Shown again (a bound form is shown only when it was not saved): keep what was
            # typed. The data holds only the typed value, never the stored one.
            for name in SECRET_FIELDS:
                self.fields[name].widget.render_value = True  # type: ignore[attr-defined]
        # Only the schedule's company's profiles (any company's while none is chosen yet).
        company_id = self.data.get("company") or getattr(stored, "company_id", None)
        if company_id and str(company_id).isdigit():
            profile_field = cast(forms.ModelChoiceField, self.fields["profile"])
            profile_field.queryset = ImportProfile.objects.filter(company_id=company_id)

    def clean(self) -> dict:
        cleaned = super().clean()
        password = cleaned.get("sftp_password") or ""
        key = cleaned.get("sftp_private_key") or ""
        if password and key:
            self.add_error("sftp_private_key", "Give a password or a private key, not both.")
        elif password:
            cleaned["sftp_private_key"] = ""
        elif key:
            cleaned["sftp_password"] = ""
        else:
            cleaned["sftp_password"] = self.instance.sftp_password
            cleaned["sftp_private_key"] = self.instance.sftp_private_key
        return cleaned


class CompanyHostMixin(forms.BaseForm):
    """Company admins' forms: the SFTP host must be a server on the internet, unless the
    operator allows the service's own network (``SCHEDULE_PRIVATE_HOSTS``)."""

    def clean_sftp_host(self) -> str:
        host = self.cleaned_data.get("sftp_host") or ""
        if host and not settings.SCHEDULE_PRIVATE_HOSTS:
            problem = sftp_host_check(host=host)
            if problem:
                raise ValidationError(problem)
        return host


class CompanyScheduleForm(CompanyHostMixin, ScheduleForm):
    """The company admins' form: the same fields and checks, for their own company only.

    The company is the instance's (set by the page), never a choice. Fields are shown in
    ``SECTIONS``; a field of the form no section names goes at the end of "Import".
    """

    SECTIONS = (
        ("Schedule", SCHEDULE_FIELDS),
        ("Import", IMPORT_FIELDS),
        ("SFTP server", SFTP_FIELDS),
        ("Files", FILE_FIELDS),
        ("Timeouts", TIMEOUT_FIELDS),
    )

    class Meta(ScheduleForm.Meta):
        fields = [name for name in ScheduleForm.Meta.fields if name != "company"]

    def __init__(self, data: QueryDict | None = None, *, instance: Schedule) -> None:
        if data is not None:
            # A "company" in the post is ignored, and replaced so that nothing in the form
            # (choices scoped to the posted company) can read another company's.
            data = data.copy()
            data["company"] = str(instance.company_id)
        super().__init__(data, instance=instance)

    def sections(self) -> list[tuple[str, list[forms.BoundField]]]:
        named = {name for _, names in self.SECTIONS for name in names}
        rest = [name for name in self.fields if name not in named]
        return [
            (
                title,
                [
                    self[name]
                    for name in (*names, *(rest if title == "Import" else ()))
                    if name in self.fields
                ],
            )
            for title, names in self.SECTIONS
        ]

    def clean_name(self) -> str:
        # The (company, name) constraint is not checked by the form: the company is no field.
        name = self.cleaned_data["name"]
        company = self.instance.company
        taken = Schedule.objects.filter(company=company, name=name).exclude(pk=self.instance.pk)
        if taken.exists():
            raise ValidationError(
                f'{company} already has a schedule called "{name}": choose another name.'
            )
        return name


class HostKeyFetchForm(forms.Form):
    """Where "Fetch the host key" connects: the host and port typed on a schedule's form."""

    sftp_host = forms.CharField(
        max_length=255,
        error_messages={"required": "Give the SFTP host first, then fetch its host key."},
    )
    sftp_port = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=65535,
        error_messages={
            name: "The port is a whole number from 1 to 65535."
            for name in ("invalid", "min_value", "max_value")
        },
    )
    connect_timeout = forms.IntegerField(required=False, min_value=1, max_value=300)

    def clean_sftp_port(self) -> int:
        return self.cleaned_data.get("sftp_port") or Schedule._meta.get_field("sftp_port").default

    def clean_connect_timeout(self) -> int:
        value = self.cleaned_data.get("connect_timeout")
        return value or Schedule._meta.get_field("connect_timeout").default


class CompanyHostKeyFetchForm(CompanyHostMixin, HostKeyFetchForm):
    """ "Fetch the host key" on the company admins' Schedules page."""
