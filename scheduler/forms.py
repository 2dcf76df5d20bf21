"""The schedule form of the admin: the SFTP password and private key are write-only."""

from __future__ import annotations

from django import forms

from scheduler.models import Schedule

KEEP_HELP = "Write-only: leave blank to keep the stored value."


class WriteOnlyTextarea(forms.Textarea):
    """A textarea that never sends a value back to the browser, not even the one just typed."""

    def format_value(self, value: object) -> None:
        return None


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
            "name",
            "enabled",
            "cron",
            "timezone",
            "run_as_email",
            "notify_emails",
            "mode",
            "missing",
            "header",
            "delimiter",
            "quotechar",
            "encoding",
            "skip_unchanged",
            "sftp_host",
            "sftp_port",
            "sftp_username",
            "sftp_password",
            "sftp_private_key",
            "host_key",
            "file_path",
            "log_dir",
            "log_prefix",
            "after_import",
            "move_to",
            "connect_timeout",
            "io_timeout",
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
