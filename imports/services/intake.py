"""Intake: store the file (encrypted, in pieces), create the run, plan it after commit."""

from __future__ import annotations

import hashlib
import tempfile
from typing import IO

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction

from imports.csvfile import CsvFileError, CsvOptions
from imports.models import ImportFileChunk, ImportRun, Missing, Mode
from imports.profiles import Profile
from imports.services import queue
from user2smart.companies.encryption import decrypt_bytes, encrypt_bytes
from user2smart.companies.models import Company
from user2smart.dbclock import db_now

CHUNK_BYTES = 1024 * 1024
OPTION_NAMES = ("header", "delimiter", "quotechar", "encoding")


def clean_options(options: dict | None) -> dict[str, str]:
    """The CSV options as stored on a run: every one present, `auto` when not chosen.

    Raises CsvFileError (an unknown encoding) or ValueError (an impossible value).
    """
    options = {name: str((options or {}).get(name) or "auto") for name in OPTION_NAMES}
    CsvOptions(**options)
    return options


def run_start(
    *,
    company: Company,
    file: IO[bytes],
    file_name: str,
    mode: str,
    source: str,
    options: dict | None = None,
    dry_run: bool = False,
    created_by: User | None = None,
    run_as_email: str = "",
    enqueue: bool = True,
    missing: str = Missing.KEEP,
    deactivation_limit: int | None = None,
    all_or_nothing: bool = False,
    profile: Profile | None = None,
) -> ImportRun:
    """Store the file and create its run; planning starts in a worker after commit.

    Returns at once whatever the file's size. A file over the size limit makes a run that has
    already failed, with the reason, so every attempt is in the history. With `enqueue=False`
    the caller plans the run itself (`run_plan`), e.g. a dry run on the command line.
    With `all_or_nothing`, a plan with any row in error sends nothing (`planning`).
    `profile` (an import profile) is kept on the run as it is now: editing it later does not
    change how this run's file is read.
    """
    if mode not in Mode.values:
        raise ValueError(f"Unknown mode {mode!r}")
    if missing not in Missing.values:
        raise ValueError(f"Unknown choice for people missing from the file: {missing!r}")
    if missing == Missing.DEACTIVATE and mode == Mode.CREATE:
        raise ValueError(CREATE_CANNOT_DEACTIVATE)
    if deactivation_limit is not None and deactivation_limit < 0:
        raise ValueError("The number of deactivations allowed cannot be negative.")
    with transaction.atomic():
        run = ImportRun.objects.create(
            company=company,
            source=source,
            created_by=created_by,
            run_as_email=run_as_email,
            mode=mode,
            dry_run=dry_run,
            missing=missing,
            deactivation_limit=deactivation_limit,
            all_or_nothing=all_or_nothing,
            options=clean_options(options),
            profile={} if profile is None or profile.standard else profile.to_json(),
            file_name=file_name[:255],
        )
        size, digest = _store(run, file)
        run.file_size, run.file_sha256 = size, digest
        if size > settings.IMPORT_MAX_FILE_BYTES:
            ImportFileChunk.objects.filter(run=run).delete()
            limit = settings.IMPORT_MAX_FILE_BYTES // (1024 * 1024)
            run.status = ImportRun.Status.FAILED
            run.error = f"The file is larger than {limit} MB: split it into smaller files."
            run.finished_at = db_now()
        run.save()
        if enqueue and run.status == ImportRun.Status.VALIDATING:
            transaction.on_commit(lambda: queue.run_plan_send(run.pk))
    return run


CREATE_CANNOT_DEACTIVATE = (
    "Deactivating the people missing from the file needs the Update or Create or update mode: "
    "in Create mode the file lists only new people, so it cannot say who is missing."
)


def _store(run: ImportRun, file: IO[bytes]) -> tuple[int, str]:
    """Copy the file into encrypted pieces; stop storing past the size limit (keep counting)."""
    digest = hashlib.sha256()
    size = 0
    seq = 0
    limit = settings.IMPORT_MAX_FILE_BYTES
    while piece := file.read(CHUNK_BYTES):
        digest.update(piece)
        size += len(piece)
        if size <= limit:
            ImportFileChunk.objects.create(run=run, seq=seq, data=encrypt_bytes(piece))
            seq += 1
    return size, digest.hexdigest()


def open_file(run: ImportRun) -> IO[bytes]:
    """The run's file as a seekable temporary file (decrypted piece by piece: flat memory)."""
    spool = tempfile.SpooledTemporaryFile(max_size=8 * CHUNK_BYTES)  # noqa: SIM115
    pieces = ImportFileChunk.objects.filter(run=run).order_by("seq").values_list("data", flat=True)
    for token in pieces.iterator(chunk_size=4):
        spool.write(decrypt_bytes(token))
    spool.seek(0)
    return spool


def forget_file(run: ImportRun) -> None:
    ImportFileChunk.objects.filter(run=run).delete()


__all__ = ["CsvFileError", "clean_options", "forget_file", "open_file", "run_start"]
