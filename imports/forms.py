"""The forms of the company admins' pages: what can be chosen, in words an HR admin reads."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.conf import settings
from django.http import QueryDict

from imports.csvfile import COLUMNS, IGNORABLE_COLUMNS, CsvFileError
from imports.models import ImportProfile, Missing, Mode
from imports.options import (
    ALL_OR_NOTHING_HELP,
    ALL_OR_NOTHING_LABEL,
    DELIMITER_CHOICES,
    ENCODING_CHOICES,
    HEADER_CHOICES,
    QUOTECHAR_CHOICES,
)
from imports.profiles import Profile
from imports.services.intake import CREATE_CANNOT_DEACTIVATE, clean_options
from imports.services.profiles import ProfileError, profile_load
from user2smart.companies.models import Company

EXPORT_DELIMITER_CHOICES = DELIMITER_CHOICES[1:]
STANDARD_CHOICE = ("", "The User2Smart format (19 columns)")
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
    profile = forms.ChoiceField(
        label="Profile",
        required=False,
        choices=[STANDARD_CHOICE],
        help_text="How the columns are read: the User2Smart format, or one of your import "
        "profiles (your HR system's export as it is).",
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

    def __init__(self, *args, company: Company | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.profiles = {
            str(row.pk): row
            for row in (ImportProfile.objects.filter(company=company) if company else ())
        }
        cast(forms.ChoiceField, self.fields["profile"]).choices = [
            STANDARD_CHOICE,
            *((key, row.name) for key, row in self.profiles.items()),
        ]
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

    def clean_profile(self) -> Profile | None:
        """The chosen import profile, checked; None for the User2Smart format."""
        key = self.cleaned_data.get("profile")
        if not key:
            return None
        try:
            return profile_load(profile=self.profiles[key])
        except ProfileError as exc:
            raise forms.ValidationError(f"This profile cannot be used: {exc}") from None

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


# The import profile page ------------------------------------------------------------------------

SOURCE_VALUE = "=value"  # the "source" select's choice for a fixed value


def profile_data_from_post(post: QueryDict) -> dict[str, Any]:
    """The profile's JSON from the profile page's fields (checked later, as a whole).

    Per field ``F``: ``F-source`` (a header name, ``=value`` or empty: not mapped),
    ``F-fallback`` (a second header, used when the first is empty), ``F-value``, ``F-default``,
    ``F-transform``, ``F-on`` (checked: on create only), and the value map as rows of
    ``F-map-from`` / ``F-map-to`` (rows with an empty cell side are dropped).
    """
    fields: dict[str, dict[str, Any]] = {}
    for name in COLUMNS:
        source = post.get(f"{name}-source", "")
        if not source:
            continue
        rule: dict[str, Any]
        if source == SOURCE_VALUE:
            rule = {"value": post.get(f"{name}-value", "")}
        else:
            fallback = post.get(f"{name}-fallback", "")
            rule = {"column": [source, fallback] if fallback and fallback != source else source}
        pairs = zip(post.getlist(f"{name}-map-from"), post.getlist(f"{name}-map-to"), strict=False)
        mapping = {cell.strip(): value.strip() for cell, value in pairs if cell.strip()}
        if mapping:
            rule["map"] = mapping
        if post.get(f"{name}-default", "").strip():
            rule["default"] = post[f"{name}-default"].strip()
        if post.get(f"{name}-transform"):
            rule["transform"] = post[f"{name}-transform"]
        if post.get(f"{name}-on") and name in IGNORABLE_COLUMNS:
            rule["on"] = "create"
        fields[name] = rule
    return {"name": post.get("name", ""), "match": post.get("match", "email"), "fields": fields}
