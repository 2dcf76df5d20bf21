"""Cron expressions for schedules: parse, describe in words, list the next run times.

Two forms are accepted:

- Unix crontab, 5 fields: ``minute hour day-of-month month day-of-week``;
  day-of-week 0-7 where 0 and 7 are Sunday.
- Quartz, 6 or 7 fields as cron generators write them:
  ``second minute hour day-of-month month day-of-week [year]``; day-of-week 1-7 where 1 is
  Sunday, ``?`` means "any", ``a/b`` means "from a, every b".

Both become the five fields of celery's crontab (django-celery-beat's ``CrontabSchedule``),
written in plain numbers. What a crontab cannot express (``L``, ``W``, ``#``, seconds, years,
both day fields restricted) is refused with a ``CronError`` that names the field and says why.

This module talks to no database and no network.
"""

from __future__ import annotations

import calendar
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cron_descriptor import ExpressionDescriptor, Options
from croniter import croniter


class CronError(ValueError):
    """A cron expression (or a timezone) that cannot be scheduled; the message says why."""


@dataclass(frozen=True)
class CronSchedule:
    """A parsed expression: celery crontab fields plus the normalised 5-field text."""

    minute: str
    hour: str
    day_of_month: str
    month_of_year: str
    day_of_week: str

    @property
    def expression(self) -> str:
        """The normalised Unix expression, e.g. ``"15 10 * * 1-5"``."""
        return " ".join(
            (self.minute, self.hour, self.day_of_month, self.month_of_year, self.day_of_week)
        )

    def crontab_fields(self) -> dict[str, str]:
        """Keyword arguments for ``CrontabSchedule`` (add ``timezone=`` yourself)."""
        return {
            "minute": self.minute,
            "hour": self.hour,
            "day_of_week": self.day_of_week,
            "day_of_month": self.day_of_month,
            "month_of_year": self.month_of_year,
        }


@dataclass(frozen=True)
class _Field:
    name: str  # as an operator reads it in a message
    low: int
    high: int
    unit: str  # "minutes go from 0 to 59"
    names: dict[str, int]


# Spelled out: calendar.month_abbr follows the process locale.
MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
MONTH_NAMES = {name: number for number, name in enumerate(MONTHS, start=1)}
# Unix numbering: SUN=0 ... SAT=6. Quartz numbering is one more (SUN=1 ... SAT=7).
UNIX_DAY_NAMES = {"SUN": 0, "MON": 1, "TUE": 2, "WED": 3, "THU": 4, "FRI": 5, "SAT": 6}
QUARTZ_DAY_NAMES = {name: number + 1 for name, number in UNIX_DAY_NAMES.items()}

SECOND = _Field("seconds", 0, 59, "seconds go from 0 to 59", {})
MINUTE = _Field("minute", 0, 59, "minutes go from 0 to 59", {})
HOUR = _Field("hour", 0, 23, "hours go from 0 to 23", {})
DAY_OF_MONTH = _Field("day-of-month", 1, 31, "days of the month go from 1 to 31", {})
MONTH = _Field("month", 1, 12, "months go from 1 to 12 (or JAN to DEC)", MONTH_NAMES)
UNIX_DAY_OF_WEEK = _Field(
    "day-of-week",
    0,
    7,
    "days of the week go from 0 to 7 (0 and 7 are Sunday) or SUN to SAT",
    UNIX_DAY_NAMES,
)
QUARTZ_DAY_OF_WEEK = _Field(
    "day-of-week",
    1,
    7,
    "in a Quartz expression days of the week go from 1 (Sunday) to 7 (Saturday), or SUN to SAT",
    QUARTZ_DAY_NAMES,
)

ALIASES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}

# More than any clock change (an hour; two in rare zones), for walking around one.
CLOCK_CHANGE_MARGIN = timedelta(hours=3)

FIELD_COUNT_HELP = (
    "use 5 fields (minute hour day-of-month month day-of-week) "
    "or a Quartz expression of 6 or 7 fields (second minute hour day-of-month month "
    "day-of-week [year])"
)


def parse_cron(expr: str) -> CronSchedule:
    """Parse a Unix or Quartz expression into celery crontab fields, or raise ``CronError``."""
    text = " ".join(str(expr).split())
    if not text:
        raise CronError("The cron expression is empty: " + FIELD_COUNT_HELP + ".")
    if text.startswith("@"):
        alias = ALIASES.get(text.lower())
        if alias is None:
            raise CronError(
                f'The cron expression is "{text}": the shortcuts understood are '
                + ", ".join(ALIASES)
                + "."
            )
        text = alias
    parts = text.split(" ")
    if len(parts) == 5:
        return _parse_unix(parts)
    if len(parts) in (6, 7):
        return _parse_quartz(parts)
    raise CronError(f'The cron expression "{text}" has {len(parts)} fields: {FIELD_COUNT_HELP}.')


def describe(expr: str) -> str:
    """The expression in words, e.g. "At 10:15, Monday through Friday"."""
    schedule = parse_cron(expr)
    options = Options()
    options.use_24hour_time_format = True
    options.day_of_week_start_index_zero = True
    return ExpressionDescriptor(schedule.expression, options).get_description()


def get_zone(tz: str) -> ZoneInfo:
    """The IANA timezone called ``tz``, or ``CronError``."""
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise CronError(
            f'The timezone "{tz}" is unknown: use an IANA name such as Europe/Paris or UTC.'
        ) from None


def next_runs(expr: str, tz: str, count: int = 5, after: datetime | None = None) -> list[datetime]:
    """The next ``count`` run times strictly after ``after`` (default: now), aware, in ``tz``.

    The times are those at which celery beat, running continuously, fires a timezone-aware
    crontab (see ``docs/scheduling.md``):

    - a wall-clock time that does not exist on a spring-forward day (02:30 in Paris on the last
      Sunday of March) runs once, one hour later by the clock (03:30 CEST): it is moved, not
      skipped; when several runs are due in the missing hour, only the first one runs;
    - a wall-clock time that happens twice on a fall-back day (02:30 in Paris on the last Sunday
      of October) runs once, at its first occurrence (02:30 CEST), never twice.
    """
    schedule = parse_cron(expr)
    zone = get_zone(tz)
    start = _utc(datetime.now(UTC) if after is None else after, "after")
    # Start the walk before `after` by more than a clock change, so that a run moved past
    # `after` by a spring-forward gap is found.
    fires = _fires(schedule.expression, zone, _wall(start, zone) - CLOCK_CHANGE_MARGIN)
    upcoming = (fire for fire in fires if fire > start)
    return [fire.astimezone(zone) for fire in itertools.islice(upcoming, max(count, 0))]


def previous_run(expr: str, tz: str, at: datetime) -> datetime:
    """The latest run time at or before ``at``, on the timeline of ``next_runs``.

    A fire of celery beat belongs to this scheduled time: keyed on it, a late or repeated fire
    (a restart, a duplicate from beat) lands on the same key as the first.
    """
    schedule = parse_cron(expr)
    zone = get_zone(tz)
    limit = _utc(at, "at")
    # Walk forward from a run well before `at` (by more than a clock change).
    back = croniter(schedule.expression, _wall(limit, zone) - CLOCK_CHANGE_MARGIN)
    earlier = back.get_prev(datetime)
    latest = earlier.replace(tzinfo=zone).astimezone(UTC)
    for fire in _fires(schedule.expression, zone, earlier - timedelta(seconds=1)):
        if fire > limit:
            break
        latest = fire
    return latest.astimezone(zone)


def _fires(expression: str, zone: ZoneInfo, cursor: datetime) -> Iterator[datetime]:
    """The instants (UTC) at which beat fires the schedule, after the wall-clock ``cursor``.

    As celery's crontab: each wall-clock time is read with the offset before a change
    (``fold=0``), so a time inside a spring-forward gap fires an hour later by the clock and a
    repeated time fires on its first pass; beat then counts on from the clock time of the fire,
    so the other times due inside a gap are skipped. Instants are compared in UTC: Python
    compares two times of one zone by the clock alone.
    """
    walker = croniter(expression, cursor)
    while True:
        wall = walker.get_next(datetime)
        fire = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
        landed = _wall(fire, zone)
        if landed != wall:  # moved by a spring-forward gap
            walker = croniter(expression, landed)
        yield fire


def _wall(moment: datetime, zone: ZoneInfo) -> datetime:
    """The naive wall-clock time of an instant in ``zone``."""
    return moment.astimezone(zone).replace(tzinfo=None)


def _utc(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"`{name}` must be a timezone-aware datetime.")
    return moment.astimezone(UTC)


def _parse_unix(parts: list[str]) -> CronSchedule:
    minute, hour, dom, month, dow = parts
    minutes = _parse_field(minute, MINUTE)
    hours = _parse_field(hour, HOUR)
    days = _parse_field(dom, DAY_OF_MONTH, allow_any=True)
    months = _parse_field(month, MONTH)
    weekdays = {day % 7 for day in _parse_field(dow, UNIX_DAY_OF_WEEK, allow_any=True)}
    if not _is_any(dom) and not _is_any(dow):
        raise CronError(
            f'The day-of-month field is "{dom}" and the day-of-week field is "{dow}": Unix cron '
            "runs when either one matches, which the scheduler cannot express; "
            "restrict only one of them and put * in the other."
        )
    return _build(minutes, hours, days, months, weekdays)


def _parse_quartz(parts: list[str]) -> CronSchedule:
    second, minute, hour, dom, month, dow = parts[:6]
    year = parts[6] if len(parts) == 7 else "*"
    if year != "*":
        raise CronError(
            f'The year field is "{year}": schedules repeat every year, use * or leave it out.'
        )
    if _parse_field(second, SECOND) != {0}:
        raise CronError(f'The seconds field is "{second}": schedules run on whole minutes, use 0.')
    minutes = _parse_field(minute, MINUTE)
    hours = _parse_field(hour, HOUR)
    days = _parse_field(dom, DAY_OF_MONTH, allow_any=True)
    months = _parse_field(month, MONTH)
    weekdays = {day - 1 for day in _parse_field(dow, QUARTZ_DAY_OF_WEEK, allow_any=True)}
    if not _is_any(dom) and not _is_any(dow):
        raise CronError(
            f'The day-of-month field is "{dom}" and the day-of-week field is "{dow}": '
            "a Quartz expression restricts only one of them; put ? in the other."
        )
    return _build(minutes, hours, days, months, weekdays)


def _build(
    minutes: set[int], hours: set[int], days: set[int], months: set[int], weekdays: set[int]
) -> CronSchedule:
    longest = max(calendar.monthrange(2000, month)[1] for month in months)  # 2000: leap year
    if min(days) > longest:
        raise CronError(
            "The day-of-month and month fields never meet: no month in the list has day "
            f"{min(days)}, so the schedule would never run."
        )
    return CronSchedule(
        minute=_render(minutes, MINUTE.low, MINUTE.high),
        hour=_render(hours, HOUR.low, HOUR.high),
        day_of_month=_render(days, DAY_OF_MONTH.low, DAY_OF_MONTH.high),
        month_of_year=_render(months, MONTH.low, MONTH.high),
        day_of_week=_render(weekdays, 0, 6),
    )


def _is_any(text: str) -> bool:
    return text in ("*", "?")


def _parse_field(text: str, field: _Field, *, allow_any: bool = False) -> set[int]:
    """The set of values ``text`` selects, in the field's own numbering."""
    if text == "?":
        if not allow_any:
            raise _field_error(field, text, "? is only allowed in the day fields")
        text = "*"
    _refuse_quartz_specials(text, field)
    values: set[int] = set()
    for item in text.split(","):
        if not item:
            raise _field_error(field, text, "it has an empty item between commas")
        values |= _parse_item(item, text, field)
    return values


def _refuse_quartz_specials(text: str, field: _Field) -> None:
    upper = text.upper()
    if field in (UNIX_DAY_OF_WEEK, QUARTZ_DAY_OF_WEEK):
        if "#" in upper:
            why = '"the Nth weekday of the month" (#) cannot be scheduled here'
            raise _field_error(field, text, why)
        if upper == "L":
            raise _field_error(field, text, "L (last day of the week) is ambiguous here, use SAT")
        if upper.endswith("L") or "L," in upper:
            why = '"the last such weekday of the month" (L) cannot be scheduled here'
            raise _field_error(field, text, why)
    if field is DAY_OF_MONTH:
        if "LW" in upper:
            why = '"the last weekday of the month" (LW) cannot be scheduled here'
            raise _field_error(field, text, why)
        if "L" in upper:
            why = '"the last day of the month" (L) cannot be scheduled here'
            raise _field_error(field, text, why)
        if "W" in upper:
            why = '"the nearest weekday" (W) cannot be scheduled here'
            raise _field_error(field, text, why)


def _parse_item(item: str, text: str, field: _Field) -> set[int]:
    base, slash, step_text = item.partition("/")
    step = 1
    if slash:
        step = _parse_step(step_text, text, field)
    if base == "*":
        start, end = field.low, field.high
    elif "-" in base:
        low_text, _, high_text = base.partition("-")
        start = _parse_value(low_text, text, field)
        end = _parse_value(high_text, text, field)
    else:
        start = _parse_value(base, text, field)
        # "a/b" means "from a to the end, every b" (Quartz; several Unix crons agree).
        end = field.high if slash else start
    if start <= end:
        return set(range(start, end + 1, step))
    if field in (UNIX_DAY_OF_WEEK, QUARTZ_DAY_OF_WEEK):
        # FRI-MON wraps over the end of the week.
        last = field.low + 6
        span = [*range(start, last + 1), *range(field.low, end + 1)]
        return set(span[::step])
    raise _field_error(
        field,
        text,
        f"the range {start}-{end} goes backwards; "
        f"write it as {start}-{field.high},{field.low}-{end}",
    )


def _parse_step(step_text: str, text: str, field: _Field) -> int:
    if not step_text.isdigit():
        raise _field_error(field, text, f'the step "{step_text}" is not a whole number')
    step = int(step_text)
    if step < 1:
        raise _field_error(field, text, "a step must be at least 1")
    return step


def _parse_value(value: str, text: str, field: _Field) -> int:
    if value.isdigit():
        number = int(value)
        if not field.low <= number <= field.high:
            raise _field_error(field, text, field.unit)
        return number
    named = field.names.get(value.upper())
    if named is None:
        if field.names:
            why = f'"{value}" is neither a number nor a name ({", ".join(field.names)})'
        else:
            why = f'"{value}" is not a number'
        raise _field_error(field, text, why)
    return named


def _field_error(field: _Field, text: str, why: str) -> CronError:
    return CronError(f'The {field.name} field is "{text}": {why}.')


def _render(values: Iterable[int], low: int, high: int) -> str:
    """A short crontab text for a set of values: ``*``, ``*/5``, ``1-22/3``, ``1-5,7``."""
    ordered = sorted(set(values))
    if ordered == list(range(low, high + 1)):
        return "*"
    if len(ordered) >= 3:
        step = ordered[1] - ordered[0]
        if step > 1 and ordered == list(range(ordered[0], ordered[-1] + 1, step)):
            if ordered[0] == low and ordered[-1] + step > high:
                return f"*/{step}"
            return f"{ordered[0]}-{ordered[-1]}/{step}"
    pieces: list[str] = []
    run_start = previous = ordered[0]
    for value in [*ordered[1:], None]:
        if value is not None and value == previous + 1:
            previous = value
            continue
        if previous - run_start >= 2:
            pieces.append(f"{run_start}-{previous}")
        else:
            pieces.extend(str(number) for number in range(run_start, previous + 1))
        if value is not None:
            run_start = previous = value
    return ",".join(pieces)
