from datetime import date, datetime, time, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from roster.domain.recurrence import (
    InvalidRule,
    Occurrence,
    WeeklyRule,
    expand_weekly,
    local_to_utc,
    overlaps,
    utc_to_local,
    validate_rule,
)

CHI = "America/Chicago"
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


def utc(*args):
    return datetime(*args, tzinfo=timezone.utc)


def rule(**kw):
    base = dict(
        weekdays=frozenset({TUE}),
        start_time=time(10, 0),
        duration_minutes=60,
        first_date=date(2026, 2, 3),
        count=4,
    )
    base.update(kw)
    return WeeklyRule(**base)


# --- conversions -----------------------------------------------------------


def test_local_to_utc_standard_and_daylight():
    assert local_to_utc(datetime(2026, 2, 3, 10), CHI) == utc(2026, 2, 3, 16)
    assert local_to_utc(datetime(2026, 7, 7, 10), CHI) == utc(2026, 7, 7, 15)


def test_local_to_utc_gap_shifts_forward():
    # 2026-03-08 02:30 does not exist in Chicago; it is read as 02:30 CST = 03:30 CDT.
    moment = local_to_utc(datetime(2026, 3, 8, 2, 30), CHI)
    assert moment == utc(2026, 3, 8, 8, 30)
    assert utc_to_local(moment, CHI) == datetime(2026, 3, 8, 3, 30)


def test_local_to_utc_ambiguous_takes_first():
    # 01:30 happens twice on 2026-11-01; the first (CDT, -5) wins, even if fold=1 is passed.
    assert local_to_utc(datetime(2026, 11, 1, 1, 30), CHI) == utc(2026, 11, 1, 6, 30)
    assert local_to_utc(datetime(2026, 11, 1, 1, 30, fold=1), CHI) == utc(2026, 11, 1, 6, 30)


def test_utc_to_local_returns_naive():
    local = utc_to_local(utc(2026, 2, 3, 16), CHI)
    assert local == datetime(2026, 2, 3, 10) and local.tzinfo is None


def test_conversions_reject_wrong_awareness():
    with pytest.raises(ValueError):
        local_to_utc(utc(2026, 2, 3, 10), CHI)
    with pytest.raises(ValueError):
        utc_to_local(datetime(2026, 2, 3, 10), CHI)


# --- expansion ---------------------------------------------------------------


def test_count_series_across_march_dst_keeps_local_time():
    occ = expand_weekly(rule(first_date=date(2026, 2, 24)), CHI)
    assert [o.starts_at for o in occ] == [
        utc(2026, 2, 24, 16),
        utc(2026, 3, 3, 16),
        utc(2026, 3, 10, 15),  # DST began 2026-03-08
        utc(2026, 3, 17, 15),
    ]
    assert all(o.local_start.time() == time(10, 0) for o in occ)
    assert all(o.ends_at - o.starts_at == timedelta(minutes=60) for o in occ)
    assert all(o.starts_at.tzinfo == timezone.utc for o in occ)
    assert all(o.local_start.tzinfo is None for o in occ)


def test_until_series_across_november_dst():
    occ = expand_weekly(
        rule(weekdays=frozenset({THU}), first_date=date(2026, 10, 22), count=None,
             until=date(2026, 11, 12)),
        CHI,
    )
    assert [o.starts_at for o in occ] == [
        utc(2026, 10, 22, 15),
        utc(2026, 10, 29, 15),
        utc(2026, 11, 5, 16),  # DST ended 2026-11-01
        utc(2026, 11, 12, 16),
    ]
    assert [o.local_start for o in occ] == [
        datetime(2026, 10, 22, 10), datetime(2026, 10, 29, 10),
        datetime(2026, 11, 5, 10), datetime(2026, 11, 12, 10),
    ]


def test_until_is_inclusive_and_first_date_need_not_match():
    occ = expand_weekly(
        rule(first_date=date(2026, 2, 1), count=None, until=date(2026, 2, 10)), CHI
    )
    assert [o.local_start.date() for o in occ] == [date(2026, 2, 3), date(2026, 2, 10)]


def test_count_and_until_agree():
    by_count = expand_weekly(rule(count=3), CHI)
    by_until = expand_weekly(rule(count=None, until=date(2026, 2, 17)), CHI)
    assert by_count == by_until and len(by_count) == 3


def test_multiple_weekdays_in_date_order():
    occ = expand_weekly(
        rule(weekdays=frozenset({WED, MON}), first_date=date(2026, 2, 4), count=5), CHI
    )
    assert [o.local_start.date() for o in occ] == [
        date(2026, 2, 4), date(2026, 2, 9), date(2026, 2, 11),
        date(2026, 2, 16), date(2026, 2, 18),
    ]


def test_session_in_spring_gap_moves_forward():
    occ = expand_weekly(
        rule(weekdays=frozenset({SUN}), start_time=time(2, 30), first_date=date(2026, 3, 1),
             count=3),
        CHI,
    )
    assert [o.local_start for o in occ] == [
        datetime(2026, 3, 1, 2, 30), datetime(2026, 3, 8, 3, 30), datetime(2026, 3, 15, 2, 30),
    ]


def test_duration_is_elapsed_time_over_fall_back():
    (occ,) = expand_weekly(
        rule(weekdays=frozenset({SUN}), start_time=time(1, 0), first_date=date(2026, 11, 1),
             count=1, duration_minutes=90),
        CHI,
    )
    assert occ.starts_at == utc(2026, 11, 1, 6)
    assert occ.ends_at == utc(2026, 11, 1, 7, 30)
    assert utc_to_local(occ.ends_at, CHI) == datetime(2026, 11, 1, 1, 30)  # second 01:30


def test_expand_rejects_invalid_rule():
    with pytest.raises(InvalidRule) as info:
        expand_weekly(rule(weekdays=frozenset(), count=0), CHI)
    assert set(info.value.fields) == {"weekdays", "count"}
    assert isinstance(info.value, ValueError)


def test_expand_limit_is_an_error_not_a_truncation():
    assert len(expand_weekly(rule(count=200), CHI)) == 200
    with pytest.raises(InvalidRule):
        expand_weekly(rule(count=201), CHI)
    with pytest.raises(InvalidRule):
        expand_weekly(rule(count=11), CHI, limit=10)


def test_unknown_zone_raises():
    with pytest.raises(KeyError):  # zoneinfo.ZoneInfoNotFoundError
        expand_weekly(rule(), "Mars/Olympus_Mons")


@given(
    weekdays=st.frozensets(st.integers(0, 6), min_size=1),
    hour=st.integers(0, 23),
    minute=st.sampled_from([0, 15, 30, 45]),
    first=st.dates(date(2025, 1, 1), date(2028, 12, 31)),
    count=st.integers(1, 60),
    zone=st.sampled_from([CHI, "America/New_York", "America/Phoenix", "Europe/London"]),
)
def test_expansion_properties(weekdays, hour, minute, first, count, zone):
    occ = expand_weekly(
        WeeklyRule(weekdays, time(hour, minute), 45, first, count=count), zone
    )
    assert len(occ) == count
    assert all(isinstance(o, Occurrence) for o in occ)
    assert [o.starts_at for o in occ] == sorted(o.starts_at for o in occ)
    for o in occ:
        day = o.local_start.date()
        assert day >= first and day.weekday() in weekdays
        assert utc_to_local(o.starts_at, zone) == o.local_start
        assert o.ends_at - o.starts_at == timedelta(minutes=45)
        # Only a DST gap can move the wall-clock time, and then only forward.
        wanted = datetime.combine(day, time(hour, minute))
        assert o.local_start == wanted or timedelta(0) < o.local_start - wanted <= timedelta(hours=1)
    assert len({o.local_start.date() for o in occ}) == count


# --- validation --------------------------------------------------------------


def test_valid_rules_have_no_errors():
    assert validate_rule(rule()) == {}
    assert validate_rule(rule(count=None, until=date(2026, 2, 3))) == {}


@pytest.mark.parametrize(
    "changes, field, words",
    [
        ({"weekdays": frozenset()}, "weekdays", "at least one weekday"),
        ({"weekdays": frozenset({7})}, "weekdays", "0 (Monday) to 6 (Sunday)"),
        ({"count": 0}, "count", "at least 1"),
        ({"count": -3}, "count", "at least 1"),
        ({"count": None}, "count", "number of sessions or an end date"),
        ({"until": date(2026, 3, 1)}, "count", "not both"),
        ({"count": None, "until": date(2026, 2, 2)}, "until", "not be before"),
        ({"count": None, "first_date": date(2026, 2, 4), "until": date(2026, 2, 9)},
         "until", "No session"),
        ({"count": 201}, "count", "at most 200"),
        ({"count": None, "until": date(2030, 1, 1)}, "until", "at most 200"),
        ({"duration_minutes": 4}, "duration_minutes", "between 5 and 600"),
        ({"duration_minutes": 601}, "duration_minutes", "between 5 and 600"),
        ({"duration_minutes": 0}, "duration_minutes", "between 5 and 600"),
    ],
)
def test_validation_messages(changes, field, words):
    errors = validate_rule(rule(**changes))
    assert list(errors) == [field]
    assert words in errors[field]


def test_validation_bounds_are_inclusive():
    assert validate_rule(rule(duration_minutes=5)) == {}
    assert validate_rule(rule(duration_minutes=600)) == {}
    assert validate_rule(rule(count=200)) == {}
    # 200 Tuesdays from 2026-02-03: the last is 199 weeks later.
    last = date(2026, 2, 3) + timedelta(weeks=199)
    assert validate_rule(rule(count=None, until=last)) == {}
    assert "until" in validate_rule(rule(count=None, until=last + timedelta(weeks=1)))


def test_validation_reports_every_field_and_custom_limit():
    errors = validate_rule(rule(weekdays=frozenset(), duration_minutes=1, count=None))
    assert set(errors) == {"weekdays", "duration_minutes", "count"}
    assert "at most 10" in validate_rule(rule(count=11), limit=10)["count"]


# --- overlaps ----------------------------------------------------------------


@pytest.mark.parametrize(
    "a, b, expected",
    [
        ((10, 11), (10, 11), True),
        ((10, 12), (11, 13), True),
        ((10, 13), (11, 12), True),
        ((10, 11), (11, 12), False),  # touching
        ((11, 12), (10, 11), False),
        ((10, 11), (12, 13), False),
        ((10, 10), (9, 12), False),  # empty interval
    ],
)
def test_overlaps_half_open(a, b, expected):
    def at(h):
        return utc(2026, 2, 3, h)

    assert overlaps(at(a[0]), at(a[1]), at(b[0]), at(b[1])) is expected
    assert overlaps(at(b[0]), at(b[1]), at(a[0]), at(a[1])) is expected
