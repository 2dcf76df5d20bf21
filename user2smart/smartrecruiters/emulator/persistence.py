"""The `--state` file: read at start, written after changes, always atomically.

Writes happen on a background thread that gathers the changes of a short moment into one write,
so a burst of creates costs a few writes, not one per request. `close()` writes what is left.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

GATHER_SECONDS = 0.2


def read_document(path: Path) -> object:
    with path.open(encoding="utf-8") as handle:
        return json.load(handle)


def write_atomically(path: Path, document: object) -> None:
    """Write to a temporary file beside `path`, flush it to disk, then rename it over `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(document, out, indent=1, ensure_ascii=False)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class StateWriter:
    def __init__(self, path: Path, snapshot: Callable[[], object]) -> None:
        self.path = path
        self._snapshot = snapshot
        self._dirty = threading.Event()
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="state-writer", daemon=True)
        self._thread.start()

    def changed(self) -> None:
        self._dirty.set()

    def _write(self) -> None:
        self._dirty.clear()
        try:
            write_atomically(self.path, self._snapshot())
        except OSError as exc:
            log.error("emulator: cannot write the state file %s: %s", self.path, exc)

    def _run(self) -> None:
        while not self._stop:
            self._dirty.wait()
            if self._stop:
                break
            time.sleep(GATHER_SECONDS)
            self._write()

    def close(self) -> None:
        """Stop the thread and write the last changes, if any."""
        self._stop = True
        pending = self._dirty.is_set()
        self._dirty.set()
        self._thread.join(5)
        if pending:
            self._write()
