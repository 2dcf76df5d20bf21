"""`manage.py export_users --company SLUG [--complete] [--delimiter D] [-o FILE]`: the company's
users in the import format (as "Export users" on the site), to FILE or to standard output.

The export runs in this process (no worker needed) and is recorded like one made on the site.
Exit codes (`imports/management/runoutput.py`): 0 exported, 2 not (an unknown company,
SmartRecruiters not answering, a file that cannot be written).
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandParser

from imports import exporting
from imports.management.runoutput import cannot, company_of
from imports.models import UserExport
from imports.options import CLI_DELIMITERS


class Command(BaseCommand):
    help = "Export a company's users in the import format (with --complete, their locations too)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--company", required=True, help="the company's slug")
        parser.add_argument(
            "--complete",
            action="store_true",
            help="add each user's location (reads users one by one: slower)",
        )
        parser.add_argument(
            "--delimiter", choices=[d for d in CLI_DELIMITERS if d != "auto"], default=","
        )
        parser.add_argument(
            "-o", "--output", metavar="FILE", help="write the file here (default: standard output)"
        )

    def handle(self, *args, **options) -> None:
        company = company_of(options["company"])
        path = Path(options["output"]) if options["output"] else None
        if path is not None:
            # Said before the export: a long read of every user is not made to be thrown away.
            problem = _unwritable(path)
            if problem:
                raise cannot(f"Cannot write {path}: {problem}.")
        export = exporting.export_start(
            company=company,
            delimiter=CLI_DELIMITERS[options["delimiter"]],
            complete=options["complete"],
            enqueue=False,
        )
        exporting.export_run(export.pk)
        export.refresh_from_db()
        content = exporting.export_take(export=export)
        if export.status == UserExport.Status.FAILED or content is None:
            raise cannot(f"The users of {company.name} were not exported: {export.error}")
        users = f"{export.users_total} user{'s' if export.users_total != 1 else ''}"
        if path is not None:
            try:
                path.write_bytes(content)
            except OSError as exc:
                raise cannot(f"Cannot write {path}: {exc.strerror or exc}.") from None
            self.stdout.write(f"{users} of {company.name} exported to {path}.")
            return
        self.stdout.flush()
        out = getattr(self.stdout, "buffer", None)  # the real standard output: the exact bytes
        if out is None:
            self.stdout.write(content.decode("utf-8"), ending="")
        else:
            out.write(content)
            out.flush()
        self.stderr.write(f"{users} of {company.name} exported.")


def _unwritable(path: Path) -> str:
    """Why FILE cannot be written (as the system says it), or "" when it seems it can."""
    folder = path.parent
    if not folder.is_dir():
        return os.strerror(errno.ENOENT)
    if path.is_dir():
        return os.strerror(errno.EISDIR)
    if not os.access(path if path.exists() else folder, os.W_OK):
        return os.strerror(errno.EACCES)
    return ""
