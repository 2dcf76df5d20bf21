"""Read a users CSV file: encoding, dialect and header detection, then raw records, streamed.

Pure: bytes in, ``RawRecord`` objects out, no Django and no I/O beyond the stream it is
given. The file is never held in memory as one string: a 64 KiB sample drives detection, a cheap
byte-level pre-scan (seekable streams only) tells whether the whole file is UTF-8, then the
records are decoded and parsed line by line.

Every file-level problem raises ``CsvFileError`` with a sentence an HR admin understands, naming
the physical line when there is one. It can be raised by ``read_csv`` (empty file, bad header,
too large, ...) and while the records are iterated (a line with the wrong number of values, bytes
that do not decode, an unclosed quotation mark, more rows than the limit): whoever consumes the
records must treat the whole file as refused when it is raised, which is why a run plans every
row before applying any.
"""

from __future__ import annotations

from imports.csvfile.format import (
    COLUMNS,
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_ROWS,
    DELIMITERS,
    IGNORABLE_COLUMNS,
    QUOTECHARS,
    REQUIRED_COLUMNS,
    CsvFileError,
    CsvOptions,
    Dialect,
    RawRecord,
)
from imports.csvfile.reader import CsvFile, read_csv

__all__ = [
    "COLUMNS",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_ROWS",
    "DELIMITERS",
    "IGNORABLE_COLUMNS",
    "QUOTECHARS",
    "REQUIRED_COLUMNS",
    "CsvFile",
    "CsvFileError",
    "CsvOptions",
    "Dialect",
    "RawRecord",
    "read_csv",
]
