"""Weekly recurring sessions and the time-zone conversions they need.

Sessions are planned in local wall-clock time: a class at 10:00 in
America/Chicago stays at 10:00 local across daylight-saving changes, so its UTC
hour moves. Stored instants are aware UTC datetimes; local times are naive.

Conversions follow zoneinfo's ``fold=0`` rule:

- a local time that does not exist (inside a spring-forward gap) is read with
  the offset in force before the gap, which moves it forward by the gap's
  length (02:30 on the US spring-forward day becomes 03:30 daylight time);
- a local time that happens twice (fall-back) means its first occurrence
  (the daylight-time one).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

MIN_DURATION = 5
MAX_DURATION = 600
DEFAULT_LIMIT = 200


@dataclass(frozen=True)
class WeeklyRule:
    weekdays: frozenset[int]  # 0=Monday..6=Sunday, at least one
    start_time: time  # local wall-clock time
    duration_minutes: int  # MIN_DURATION..MAX_DURATION
    first_date: date  # first date to consider (inclusive)
    count: int | None = None  # number of sessions, or
    until: date | None = None  # last date (inclusive); exactly one of count/until


@dataclass(frozen=True)
class Occurrence:
    starts_at: datetime  # aware, UTC
    ends_at: datetime  # aware, UTC; starts_at + duration of elapsed time
    local_start: datetime  # naive local wall clock (after any gap shift)


class InvalidRule(ValueError):
    """A rule that validate_rule rejects; ``fields`` maps field -> message."""

    def __init__(self, fields: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = fields


def local_to_utc(local: datetime, tz: str) -> datetime:
    """Naive local wall-clock time in zone ``tz`` -> aware UTC (fold=0, see module doc)."""
    if local.tzinfo is not None:
        raise ValueError("local_to_utc expects a naive datetime")
    return local.replace(tzinfo=ZoneInfo(tz), fold=0).astimezone(timezone.utc)


def utc_to_local(moment: datetime, tz: str) -> datetime:
    """Aware datetime -> naive wall-clock time in zone ``tz``."""
    if moment.tzinfo is None:
        raise ValueError("utc_to_local expects an aware datetime")
    return moment.astimezone(ZoneInfo(tz)).replace(tzinfo=None)


def overlaps(a_start, a_end, b_start, b_end) -> bool:
    """Whether half-open intervals [a_start, a_end) and [b_start, b_end) share
    a moment. Touching intervals do not overlap; an empty interval overlaps nothing."""
    return a_start < a_end and b_start < b_end and a_start < b_end and b_start < a_end


def _dates(rule: WeeklyRule, stop_after: int):
    """Matching dates in order, at most ``stop_after`` of them."""
    day, found = rule.first_date, 0
    if not rule.weekdays:
        return
    while found < stop_after:
        if rule.until is not None and day > rule.until:
            return
        if rule.count is not None and found >= rule.count:
            return
        if day.weekday() in rule.weekdays:
            found += 1
            yield day
        day += timedelta(days=1)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def validate_rule(rule: WeeklyRule, limit: int = DEFAULT_LIMIT) -> dict[str, str]:
    """Field -> message for everything wrong with ``rule``; empty when it is fine."""
    errors: dict[str, str] = {}
    weekdays = rule.weekdays or frozenset()
    if not weekdays:
        errors["weekdays"] = "Choose at least one weekday."
    elif not all(_is_int(d) and 0 <= d <= 6 for d in weekdays):
        errors["weekdays"] = "Weekdays must be 0 (Monday) to 6 (Sunday)."

    if not _is_int(rule.duration_minutes) or not (
        MIN_DURATION <= rule.duration_minutes <= MAX_DURATION
    ):
        errors["duration_minutes"] = (
            f"Duration must be between {MIN_DURATION} and {MAX_DURATION} minutes."
        )

    if rule.count is None and rule.until is None:
        errors["count"] = "Give a number of sessions or an end date."
    elif rule.count is not None and rule.until is not None:
        errors["count"] = "Give a number of sessions or an end date, not both."
    elif rule.count is not None:
        if not _is_int(rule.count) or rule.count < 1:
            errors["count"] = "The number of sessions must be at least 1."
        elif rule.count > limit:
            errors["count"] = f"A series may have at most {limit} sessions."
    elif rule.until < rule.first_date:
        errors["until"] = "The end date must not be before the first date."
    elif "weekdays" not in errors:
        n = sum(1 for _ in _dates(rule, limit + 1))
        if n == 0:
            errors["until"] = "No session falls between the first date and the end date."
        elif n > limit:
            errors["until"] = f"A series may have at most {limit} sessions."
    return errors


def expand_weekly(rule: WeeklyRule, tz: str, limit: int = DEFAULT_LIMIT) -> list[Occurrence]:
    """The rule's sessions in order. Raises InvalidRule when validate_rule finds
    problems (including more than ``limit`` sessions) rather than truncating."""
    errors = validate_rule(rule, limit)
    if errors:
        raise InvalidRule(errors)
    length = timedelta(minutes=rule.duration_minutes)
    result = []
    for day in _dates(rule, limit):
        starts_at = local_to_utc(datetime.combine(day, rule.start_time), tz)
        result.append(
            Occurrence(
                starts_at=starts_at,
                ends_at=starts_at + length,
                local_start=utc_to_local(starts_at, tz),
            )
        )
    return result
