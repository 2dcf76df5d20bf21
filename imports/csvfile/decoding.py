"""From bytes to text: the encoding, binary files, undecodable bytes, the size limit."""

from __future__ import annotations

import codecs
import io
from dataclasses import dataclass
from typing import IO, Any

from imports.csvfile.format import ENCODING_LABELS, CsvFileError

CHUNK_BYTES = 1024 * 1024
# Bytes that Windows-1252 leaves undefined: a file holding one is read as Latin-1 instead.
_CP1252_UNDEFINED = (b"\x81", b"\x8d", b"\x8f", b"\x90", b"\x9d")
BINARY_SIGNATURES = (
    (b"PK\x03\x04", "an Excel workbook (.xlsx) or another zip archive"),
    (b"\xd0\xcf\x11\xe0", "an old Excel workbook (.xls)"),
    (b"%PDF", "a PDF document"),
)

# Undecodable bytes become this lone surrogate, which no strict decoder ever produces, so the
# line holding them is found exactly even though the text layer decodes ahead in chunks.
UNDECODABLE = "\udcff"
_ERROR_HANDLER = "user2smart.csvfile.mark"


def _mark_undecodable(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    return UNDECODABLE, error.end


codecs.register_error(_ERROR_HANDLER, _mark_undecodable)


@dataclass(frozen=True)
class Scan:
    utf8_valid: bool
    cp1252_defined: bool


def stream_position(stream: IO[bytes]) -> int | None:
    try:
        return stream.tell() if stream.seekable() else None
    except (AttributeError, OSError):
        return None


def read_up_to(stream: IO[bytes], size: int) -> bytes:
    parts: list[bytes] = []
    missing = size
    while missing > 0:
        chunk = stream.read(missing)
        if not chunk:
            break
        parts.append(chunk)
        missing -= len(chunk)
    return b"".join(parts)


def prescan(stream: IO[bytes], start: int) -> Scan:
    """One pass over the bytes of a seekable stream: are they UTF-8, and Windows-1252?"""
    stream.seek(start)
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8_valid = True
    cp1252_defined = True
    while chunk := stream.read(CHUNK_BYTES):
        if chunk.isascii() and not decoder.getstate()[0]:
            continue
        if utf8_valid:
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                utf8_valid = False
        if cp1252_defined and _has_cp1252_undefined(chunk):
            cp1252_defined = False
    if utf8_valid:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8_valid = False
    stream.seek(start)
    return Scan(utf8_valid, cp1252_defined)


def _has_cp1252_undefined(data: bytes) -> bool:
    return any(byte in data for byte in _CP1252_UNDEFINED)


def choose_encoding(sample: bytes, chosen: str, scan: Scan | None, at_end: bool) -> str:
    if chosen != "auto":
        name = codecs.lookup(chosen).name
        # Python's UTF-16 and UTF-32 stream decoders need a byte order mark; without one,
        # take the little-endian order that Windows writes.
        if name == "utf-16" and not sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16-le"
        if name == "utf-32" and not sample.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
            return "utf-32-le"
        return name
    if sample.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return "utf-32"
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if scan is not None:
        utf8_valid, cp1252_defined = scan.utf8_valid, scan.cp1252_defined
    else:
        try:
            codecs.getincrementaldecoder("utf-8")().decode(sample, final=at_end)
            utf8_valid = True
        except UnicodeDecodeError:
            utf8_valid = False
        cp1252_defined = not _has_cp1252_undefined(sample)
    if utf8_valid:
        return "utf-8"
    return "cp1252" if cp1252_defined else "latin-1"


def decode_sample(sample: bytes, encoding: str, at_end: bool) -> str:
    decoder = codecs.getincrementaldecoder(encoding)(errors=_ERROR_HANDLER)
    try:
        return decoder.decode(sample, final=at_end)
    except UnicodeError as error:
        raise undecodable(encoding, None, error) from None


def reject_known_binary(sample: bytes) -> None:
    """Refuse a spreadsheet, archive or PDF uploaded instead of its CSV export."""
    for signature, what in BINARY_SIGNATURES:
        if sample.startswith(signature):
            raise CsvFileError(
                f"This file is {what}, not a CSV file. Save it from your spreadsheet as "
                '"CSV UTF-8" and upload that file.'
            )


def reject_non_text(text: str, encoding: str) -> None:
    controls = sum(1 for char in text if char < " " and char not in "\t\r\n\x0c")
    if "\x00" in text or controls > max(8, len(text) // 100):
        hint = (
            " If it is a UTF-16 file without a byte order mark, choose its encoding explicitly."
            if not encoding.startswith("utf-16")
            else ""
        )
        raise CsvFileError(f"This file is not a CSV text file (it holds binary data).{hint}")


class _PrefixedStream(io.RawIOBase):
    """The bytes already read for detection, then the rest of the stream, within a size limit."""

    def __init__(self, prefix: bytes, rest: IO[bytes], limit: int) -> None:
        self._prefix = memoryview(prefix)
        self._rest = rest
        self._limit = limit
        self._count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._prefix:
            size = min(len(buffer), len(self._prefix))
            buffer[:size] = self._prefix[:size]
            self._prefix = self._prefix[size:]
        else:
            data = self._rest.read(len(buffer)) or b""
            size = len(data)
            buffer[:size] = data
        self._count += size
        if self._count > self._limit:
            raise too_large(self._limit)
        return size


def open_text(prefix: bytes, rest: IO[bytes], limit: int, encoding: str) -> io.TextIOWrapper:
    """The decoded text; lines end with LF, CR or CRLF, undecodable bytes are marked."""
    raw = io.BufferedReader(_PrefixedStream(prefix, rest, limit), buffer_size=CHUNK_BYTES)
    return io.TextIOWrapper(raw, encoding=encoding, errors=_ERROR_HANDLER, newline="")


def undecodable(encoding: str, line: int | None, error: UnicodeError | None = None) -> CsvFileError:
    label = ENCODING_LABELS.get(encoding, encoding)
    where = "This line holds" if line else "The file holds"
    reason = f" ({error})" if error else ""
    return CsvFileError(
        f"{where} bytes that are not valid {label} text{reason}. Save the file as "
        '"CSV UTF-8", or choose its encoding explicitly.',
        line=line,
    )


def too_large(max_bytes: int) -> CsvFileError:
    megabytes = max_bytes / (1024 * 1024)
    size = f"{megabytes:g} MB" if megabytes >= 1 else f"{max_bytes:,} bytes"
    return CsvFileError(f"The file is larger than {size}; split it into smaller files.")
