"""Import profiles of a company: saved after every check, found by name for a run.

A profile is checked as a whole (``imports.profiles.profile_from_json``) and, when a sample file
is given, against that file's header, before anything is saved: a refused profile changes
nothing.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from imports.csvfile import CsvFileError, CsvOptions
from imports.models import ImportProfile
from imports.profiles import (
    STANDARD,
    STANDARD_NAME,
    Profile,
    ProfileError,
    profile_from_json,
    profile_read,
)
from user2smart.companies.models import Company


def profile_check(
    *, data: Any, sample: bytes | None = None, options: dict | None = None
) -> Profile:
    """The checked profile; raises ``ProfileError`` naming every problem (with ``sample``: a
    column the profile maps that the sample file does not have)."""
    profile = profile_from_json(data)
    if sample is not None:
        try:
            profile_read(sample, profile, CsvOptions(**(options or {})))
        except CsvFileError as exc:
            raise ProfileError([str(exc)]) from None
    return profile


def profile_save(
    *,
    company: Company,
    data: Any,
    sample: bytes | None = None,
    options: dict | None = None,
    instance: ImportProfile | None = None,
    replace: bool = True,
) -> ImportProfile:
    """Create the company's profile of that name, or replace it (names ignore case); with
    ``replace=False`` a name the company already has is refused (a new profile on the page).

    With ``instance`` that saved profile is changed (and may be renamed, to a name no other
    profile of the company has).
    """
    profile = profile_check(data=data, sample=sample, options=options)
    spec = {key: value for key, value in profile.to_json().items() if key != "name"}
    with transaction.atomic():
        same_name = ImportProfile.objects.select_for_update().filter(
            company=company, name__iexact=profile.name
        )
        if instance is not None or not replace:
            others = same_name.exclude(pk=instance.pk) if instance is not None else same_name
            if others.exists():
                raise ProfileError([f'{company} already has an import profile "{profile.name}".'])
        if instance is not None:
            row = instance
        else:
            row = same_name.first() or ImportProfile(company=company)
        row.company, row.name, row.spec = company, profile.name, spec
        row.save()
    return row


def profile_get(*, company: Company, name: str | None) -> Profile:
    """The company's profile called ``name``; the 19-column format for no name or "standard"."""
    if not name or name.strip().lower() == STANDARD_NAME:
        return STANDARD
    row = ImportProfile.objects.filter(company=company, name__iexact=name.strip()).first()
    if row is None:
        names = sorted(company.import_profiles.values_list("name", flat=True))
        known = f"Its profiles: {', '.join(names)}." if names else "It has none yet."
        raise ProfileError([f'{company} has no import profile "{name}". {known}'])
    return profile_load(profile=row)


def profile_load(*, profile: ImportProfile) -> Profile:
    """The checked profile of a saved row."""
    return profile_from_json(profile.to_json())


__all__ = ["ProfileError", "profile_check", "profile_get", "profile_load", "profile_save"]
