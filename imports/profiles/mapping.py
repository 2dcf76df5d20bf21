"""Reading a file through a profile: its header bound to the profile, each record mapped to
the 19 fields, and every error named by the file's own column.

Pure: bytes in, records out. A file whose header lacks a column the profile maps is refused
before any row is read (``CsvFileError``); a record never raises: a cell that no map or
transform knows passes through as it is and is checked like any cell.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import IO

from imports.csvfile import (
    COLUMNS,
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_ROWS,
    CsvFile,
    CsvFileError,
    CsvOptions,
    Dialect,
    RawRecord,
    read_csv,
)
from imports.planner import PlannedRow
from imports.profiles.countries import country_code
from imports.profiles.spec import CATCH_ALL, Profile, Rule
from imports.rows import RowError

Getter = Callable[[list[str]], str]
_EXTERNAL_DATA = COLUMNS.index("externalData")
_CACHE_LIMIT = 10_000
_TRANSFORMS: dict[str, Callable[[str], str]] = {
    "lower": str.lower,
    "upper": str.upper,
    "country": lambda text: country_code(text) or text,
}


class Binding:
    """A profile bound to one file's header: which cell fills each field."""

    def __init__(self, profile: Profile, header: Sequence[str]) -> None:
        self.profile = profile
        self.header = tuple(header)
        index: dict[str, int] = {}
        for position, name in enumerate(self.header):
            index.setdefault(name.strip().lower(), position)
        self.positions: dict[str, tuple[int, ...]] = {}
        missing: list[str] = []
        for field, rule in profile.fields.items():
            found = tuple(
                index[column.lower()] for column in rule.columns if column.lower() in index
            )
            if rule.columns and not found:
                names = " or ".join(f'"{column}"' for column in rule.columns)
                missing.append(f"{names} (mapped to {field})")
            self.positions[field] = found
        if missing:
            raise CsvFileError(
                f"The file has no column {'; no column '.join(missing)}. Its columns are: "
                f"{', '.join(self.header) or '(none)'}. Choose another profile, or change the "
                f'profile "{profile.name}".'
            )
        self._getters = [self._getter(field) for field in COLUMNS]
        self._secret = self.positions.get("password", ())
        self.ignored = frozenset(name for name, rule in profile.fields.items() if rule.on_create)

    def map(self, record: RawRecord) -> RawRecord:
        """The record, its cells replaced by the 19 values; its cells, the password blanked,
        become its source."""
        cells = record.cells
        record.cells = [get(cells) for get in self._getters]
        if self._secret and any(cells[position] for position in self._secret):
            cells = list(cells)
            for position in self._secret:
                cells[position] = ""
        record.source = cells
        return record

    def _getter(self, field: str) -> Getter:
        rule = self.profile.fields.get(field)
        if rule is None:
            return _empty
        finish = _finisher(rule)
        if rule.value is not None:
            constant = finish(rule.value.strip())
            return lambda cells: constant
        positions = self.positions[field]
        if len(positions) == 1:
            if not (rule.map or rule.default is not None or rule.transform):
                return operator.itemgetter(positions[0])
            (position,) = positions
            return lambda cells: finish(cells[position].strip())

        def get(cells: list[str]) -> str:
            for position in positions:
                cell = cells[position].strip()
                if cell:
                    return finish(cell)
            return finish("")

        return get

    def explain(self, error: RowError, source: Sequence[str]) -> RowError:
        """The error as the file's person sees it: its column, its cell, the field it fills."""
        field = error.column
        if field not in COLUMNS:
            return error
        rule = self.profile.fields.get(field)
        if rule is None:
            message = f"{error.message} (the profile maps no column to {field})"
            return dataclasses.replace(error, message=message)
        if rule.value is not None:
            message = f"{error.message} (the profile's fixed value for {field})"
            return dataclasses.replace(error, message=message)
        positions = self.positions[field]
        position = next(
            (place for place in positions if place < len(source) and source[place].strip()),
            positions[0],
        )
        name = self.header[position]
        cell = source[position].strip() if position < len(source) else ""
        if field == "password":
            cell = ""
        if not cell and not error.value:
            message = f"{name} is empty (mapped to {field})."
            if "missing" not in error.message:
                message = f"{message} {error.message}"
        else:
            message = f"{name} (mapped to {field}): {error.message}"
        return RowError(error.line, name, cell, message)

    def name_sources(self, planned: Iterable[PlannedRow]) -> Iterator[PlannedRow]:
        """The planned rows, each error naming the file's own column."""
        for row in planned:
            if row.errors:
                errors = [self.explain(error, row.source) for error in row.errors]
                row = dataclasses.replace(row, errors=errors)
            yield row


def _empty(cells: list[str]) -> str:
    return ""


def _finisher(rule: Rule) -> Callable[[str], str]:
    """Trimmed cell -> value: default when empty, then the map, then the transform."""
    mapping = {key.strip().lower(): value for key, value in rule.map.items()}
    catch_all = mapping.pop(CATCH_ALL, None)
    default = rule.default
    transform = _TRANSFORMS[rule.transform] if rule.transform else None
    if not mapping and catch_all is None and transform is None:
        return lambda cell: cell or (default or "")
    cache: dict[str, str] = {}

    def finish(cell: str) -> str:
        value = cache.get(cell)
        if value is not None:
            return value
        if not cell:
            value = default or ""
        elif mapping or catch_all is not None:
            value = mapping.get(cell.lower())
            if value is None:
                value = catch_all if catch_all is not None else default
            if value is None:
                value = cell
        else:
            value = cell
        if transform is not None and value:
            value = transform(value)
        if len(cache) < _CACHE_LIMIT:
            cache[cell] = value
        return value

    return finish


class ProfiledFile:
    """A file read through a profile; iterate it once for its records (19 values each)."""

    def __init__(self, csv_file: CsvFile, profile: Profile) -> None:
        self.profile = profile
        self.dialect: Dialect = csv_file.dialect
        self._csv_file = csv_file
        self.binding: Binding | None = None
        if profile.standard:
            self.columns = self.dialect.header_names
            self.ignored = self.dialect.ignored
        else:
            self.binding = Binding(profile, self.dialect.columns)
            self.columns = self.dialect.columns
            self.ignored = self.binding.ignored

    def __iter__(self) -> Iterator[RawRecord]:
        if self.binding is None:
            return iter(self._csv_file)
        return map(self.binding.map, self._csv_file)

    def survey(self, *, employee_ids: bool) -> tuple[int, dict[str, tuple[int, ...]]]:
        """A first pass over the file: its number of records and, with ``employee_ids``, the
        employee ids more than one record holds (``repeated_ids``). Iterates the file."""
        if not employee_ids:
            return sum(1 for _ in self._csv_file), {}
        count = 0

        def counted() -> Iterator[RawRecord]:
            nonlocal count
            for record in self:
                count += 1
                yield record

        repeated = repeated_ids(counted())
        return count, repeated

    def name_sources(self, planned: Iterable[PlannedRow]) -> Iterator[PlannedRow]:
        if self.binding is None:
            return iter(planned)
        return self.binding.name_sources(planned)


def profile_read(
    source: bytes | IO[bytes],
    profile: Profile,
    options: CsvOptions | None = None,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_rows: int = DEFAULT_MAX_ROWS,
) -> ProfiledFile:
    """Read ``source`` through ``profile``. Raises ``CsvFileError`` for a file the profile cannot
    read (no header line, a mapped column missing) before any record is read."""
    options = options or CsvOptions()
    if profile.standard:
        csv_file = read_csv(source, options, max_bytes=max_bytes, max_rows=max_rows)
        return ProfiledFile(csv_file, profile)
    if options.header == "no":
        raise CsvFileError(
            f'The profile "{profile.name}" finds columns by their names, so the file needs its '
            "header line: set the header option to Yes or Detect."
        )
    csv_file = read_csv(source, options, max_bytes=max_bytes, max_rows=max_rows, raw_header=True)
    return ProfiledFile(csv_file, profile)


def repeated_ids(records: Iterable[RawRecord]) -> dict[str, tuple[int, ...]]:
    """The employee ids (externalData) held by more than one record, with their lines."""
    lines: dict[str, list[int]] = {}
    for record in records:
        key = record.cells[_EXTERNAL_DATA].strip()
        if key:
            lines.setdefault(key, []).append(record.line)
    return {key: tuple(found) for key, found in lines.items() if len(found) > 1}
