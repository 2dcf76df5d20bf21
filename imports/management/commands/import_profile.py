"""`manage.py import_profile FILE.json --company SLUG`: create or replace an import profile.

`--preset NAME` loads a preset shipped with the product instead of a file (`--name` renames it).
`--export NAME` prints a profile's JSON (to a file with `--output`), in the form this command
loads. `--sample FILE.csv` also checks the profile against a file's header.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from imports.profiles import STANDARD
from imports.profiles.presets import PRESETS, preset
from imports.services.profiles import ProfileError, profile_get, profile_save
from user2smart.companies.models import Company


class Command(BaseCommand):
    help = "Create or replace a company's import profile from its JSON, or print one (--export)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", nargs="?", help="the profile's JSON file")
        parser.add_argument("--company", required=True, help="the company's slug")
        parser.add_argument(
            "--preset",
            choices=sorted(PRESETS),
            help="save a preset (a starting point for that HR system's export) as a profile",
        )
        parser.add_argument("--name", help="with --preset: the saved profile's name")
        parser.add_argument("--export", metavar="NAME", help="print the profile NAME as JSON")
        parser.add_argument("--output", metavar="FILE", help="with --export: write to FILE")
        parser.add_argument(
            "--sample", metavar="FILE", help="a CSV file the profile must be able to read"
        )

    def handle(self, *args, **options) -> None:
        company = Company.objects.filter(slug=options["company"]).first()
        if company is None:
            raise CommandError(f"There is no company {options['company']!r}.")
        if options["export"]:
            self._export(company, options["export"], options["output"])
            return
        if options["preset"]:
            data = preset(options["preset"])
            if options["name"]:
                data = {**data, "name": options["name"]}
        elif options["file"]:
            data = self._read(Path(options["file"]))
        else:
            raise CommandError("Give the profile's JSON file, --preset NAME or --export NAME.")
        sample = None
        if options["sample"]:
            sample_path = Path(options["sample"])
            if not sample_path.is_file():
                raise CommandError(f"{sample_path} is not a file.")
            sample = sample_path.read_bytes()
        try:
            existed = (
                isinstance(data, dict)
                and isinstance(data.get("name"), str)
                and company.import_profiles.filter(name__iexact=data["name"].strip()).exists()
            )
            saved = profile_save(company=company, data=data, sample=sample)
        except ProfileError as exc:
            raise CommandError(f"The profile was not saved. {exc}") from None
        verb = "Replaced" if existed else "Created"
        self.stdout.write(f'{verb} the import profile "{saved.name}" of {company}.')

    def _read(self, path: Path) -> object:
        if not path.is_file():
            raise CommandError(f"{path} is not a file.")
        try:
            return json.loads(path.read_text(encoding="utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CommandError(f"{path} is not a JSON file: {exc}") from None
        except RecursionError:
            raise CommandError(f"{path} is not a profile: its JSON is nested too deep.") from None

    def _export(self, company: Company, name: str, output: str | None) -> None:
        try:
            profile = profile_get(company=company, name=name)
        except ProfileError as exc:
            raise CommandError(str(exc)) from None
        data = profile.to_json()
        if profile is STANDARD:
            data["name"] = "my-profile"  # the built-in name cannot be loaded back
        text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
        if output:
            path = Path(output)
            try:
                path.write_text(text, encoding="utf-8")
            except OSError as exc:
                raise CommandError(f"Cannot write {path}: {exc.strerror or exc}.") from None
            self.stdout.write(f"Wrote {output}.")
        else:
            self.stdout.write(text, ending="")
