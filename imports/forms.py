"""The forms of the company admins' pages: what can be chosen, in words an HR admin reads."""

from __future__ import annotations

from django import forms
from django.conf import settings

from imports.csvfile import CsvFileError
from imports.models import Missing, Mode
from imports.options import (
    ALL_OR_NOTHING_HELP,
    ALL_OR_NOTHING_LABEL,
    DELIMITER_CHOICES,
    ENCODING_CHOICES,
    HEADER_CHOICES,
    QUOTECHAR_CHOICES,
)
from imports.services.intake import CREATE_CANNOT_DEACTIVATE, clean_options

EXPORT_DELIMITER_CHOICES = DELIMITER_CHOICES[1:]
OPTIONS = ("header", "delimiter", "quotechar", "encoding")


def file_size_words(size: int) -> str:
    """`50 MB`, `512 KB`: a size as people read it."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.0f} MB"
    return f"{max(1, round(size / 1024))} KB"


class ImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="One row per user, in the User2Smart format (see Help).",
        error_messages={
            "required": "Choose the CSV file to import.",
            "empty": "This file is empty: choose the file that holds your users.",
        },
    )
    mode = forms.ChoiceField(
        choices=Mode.choices,
        initial=Mode.UPSERT,
        widget=forms.RadioSelect,
        help_text="Create: only new users. Update: only existing users. Create or update: both.",
    )
    missing = forms.ChoiceField(
        label="People missing from the file",
        choices=Missing.choices,
        initial=Missing.KEEP,
        required=False,  # not given: keep them
        widget=forms.RadioSelect,
        help_text="Deactivate them when the file lists everyone who works at the company today: "
        "active users not in it are deactivated (administrators and protected addresses never).",
    )
    header = forms.ChoiceField(label="Header line", choices=HEADER_CHOICES, initial="auto")
    delimiter = forms.ChoiceField(choices=DELIMITER_CHOICES, initial="auto")
    quotechar = forms.ChoiceField(
        label="Quotation character", choices=QUOTECHAR_CHOICES, initial="auto"
    )
    encoding = forms.ChoiceField(choices=ENCODING_CHOICES, initial="auto")
    preview = forms.BooleanField(
        label="Preview before applying",
        required=False,
        initial=True,
        help_text="Shows what will happen to each user; nothing changes until you click Apply.",
    )
    all_or_nothing = forms.BooleanField(
        label=ALL_OR_NOTHING_LABEL, required=False, initial=False, help_text=ALL_OR_NOTHING_HELP
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].widget.attrs.update(
            {
                "accept": ".csv,.txt,text/csv,text/plain",
                "data-max-bytes": settings.IMPORT_MAX_FILE_BYTES,
                "data-max-words": file_size_words(settings.IMPORT_MAX_FILE_BYTES),
                "aria-describedby": "id_file_helptext id_file_size_error",
            }
        )

    def clean_missing(self) -> str:
        return self.cleaned_data.get("missing") or Missing.KEEP

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("missing") == Missing.DEACTIVATE and cleaned.get("mode") == Mode.CREATE:
            self.add_error("missing", CREATE_CANNOT_DEACTIVATE)
        try:
            cleaned["options"] = clean_options({name: cleaned.get(name) for name in OPTIONS})
        except (CsvFileError, ValueError) as exc:
            raise forms.ValidationError(str(exc)) from None
        return cleaned


class ExportForm(forms.Form):
    delimiter = forms.ChoiceField(choices=EXPORT_DELIMITER_CHOICES, initial=",")
    complete = forms.BooleanField(
        label="Complete (add each user's location)",
        required=False,
        help_text="Reads every user one by one, so it runs in the background with a progress bar.",
    )
