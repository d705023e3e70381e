"""Quiet hours and one nudge per person, phase and day, on a fixed clock across zones, weekends and DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from domain.nudges import WorkingHours, nudge_time, one_per_day_key

LONDON = ZoneInfo("Europe/London")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = "America/New_York"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def local(zone: str | ZoneInfo, *args: int) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(zone) if isinstance(zone, str) else zone)


# 25 November 2026 is a Wednesday; 27 November a Friday.


@pytest.mark.parametrize(
    ("now", "may", "at"),
    [
        pytest.param(local(LONDON, 2026, 11, 25, 10, 0), True, None, id="wednesday-10:00"),
        pytest.param(local(LONDON, 2026, 11, 25, 9, 0), True, None, id="opening-minute"),
        pytest.param(local(LONDON, 2026, 11, 25, 17, 59, 59), True, None, id="last-second"),
        pytest.param(
            local(LONDON, 2026, 11, 25, 8, 59), False, local(LONDON, 2026, 11, 25, 9, 0), id="early"
        ),
        pytest.param(
            local(LONDON, 2026, 11, 25, 18, 0), False, local(LONDON, 2026, 11, 26, 9, 0), id="closing"
        ),
        pytest.param(
            local(LONDON, 2026, 11, 25, 23, 30), False, local(LONDON, 2026, 11, 26, 9, 0), id="night"
        ),
        pytest.param(
            local(LONDON, 2026, 11, 27, 18, 30), False, local(LONDON, 2026, 11, 30, 9, 0), id="friday-eve"
        ),
        pytest.param(
            local(LONDON, 2026, 11, 28, 12, 0), False, local(LONDON, 2026, 11, 30, 9, 0), id="saturday"
        ),
        pytest.param(
            local(LONDON, 2026, 11, 29, 8, 0), False, local(LONDON, 2026, 11, 30, 9, 0), id="sunday"
        ),
    ],
)
def test_working_hours_on_the_persons_clock(now: datetime, may: bool, at: datetime | None) -> None:
    when = nudge_time(now, time_zone="Europe/London", default_zone=BERLIN)

    assert when.now is may
    assert when.at == (now if may else at)
    assert when.at.tzinfo is UTC
    assert when.local_date == when.at.astimezone(LONDON).date()


def test_the_same_instant_is_working_hours_in_one_zone_and_night_in_another() -> None:
    now = utc(2026, 11, 25, 14, 0)  # Wednesday: 09:00 in New York, 23:00 in Tokyo, 03:00 Thursday in Auckland

    new_york = nudge_time(now, time_zone=NEW_YORK, default_zone=LONDON)
    tokyo = nudge_time(now, time_zone="Asia/Tokyo", default_zone=LONDON)
    auckland = nudge_time(now, time_zone="Pacific/Auckland", default_zone=LONDON)

    assert (new_york.now, new_york.at, new_york.local_date) == (True, now, date(2026, 11, 25))
    assert (tokyo.now, tokyo.at) == (False, utc(2026, 11, 26, 0, 0)), "Thursday 09:00 in Tokyo"
    assert tokyo.local_date == date(2026, 11, 26)
    assert (auckland.now, auckland.at) == (False, utc(2026, 11, 25, 20, 0)), "Thursday 09:00 NZDT"
    assert auckland.local_date == date(2026, 11, 26)


def test_the_weekend_is_the_persons_weekend() -> None:
    # Friday 20:00 UTC is already Saturday 09:00 in Auckland: no nudge until its Monday.
    when = nudge_time(utc(2026, 11, 27, 20, 0), time_zone="Pacific/Auckland", default_zone=LONDON)

    assert when.now is False
    assert when.at == local("Pacific/Auckland", 2026, 11, 30, 9, 0)
    assert when.local_date == date(2026, 11, 30)


@pytest.mark.parametrize("stored", [None, "", "UTC", "  ", "Mars/Olympus_Mons", "../etc/passwd"])
def test_no_or_an_unknown_zone_follows_the_organizations(stored: str | None) -> None:
    # 08:30 UTC on a Wednesday: 09:30 in Berlin (the organization's zone), 08:30 in UTC.
    when = nudge_time(utc(2026, 11, 25, 8, 30), time_zone=stored, default_zone=BERLIN)

    assert when.now is True and when.zone == BERLIN


def test_a_daylight_saving_change_over_the_weekend_moves_mondays_opening_in_utc() -> None:
    # New York springs forward on Sunday 8 March 2026: Monday 09:00 is 13:00 UTC, not 14:00 as the week
    # before.
    friday_evening = utc(2026, 3, 7, 0, 30)  # Friday 19:30 EST
    when = nudge_time(friday_evening, time_zone=NEW_YORK, default_zone=LONDON)

    assert when.at == utc(2026, 3, 9, 13, 0) == local(NEW_YORK, 2026, 3, 9, 9, 0)
    assert nudge_time(utc(2026, 3, 6, 13, 30), time_zone=NEW_YORK, default_zone=LONDON).now is False, (
        "Friday 13:30 UTC was still 08:30 EST"
    )
    # Berlin falls back on Sunday 25 October 2026: Monday 09:00 CET is 08:00 UTC, after a week at 07:00.
    before = nudge_time(utc(2026, 10, 23, 17, 0), time_zone="Europe/Berlin", default_zone=LONDON)
    assert before.at == utc(2026, 10, 26, 8, 0)
    assert nudge_time(utc(2026, 10, 26, 7, 30), time_zone="Europe/Berlin", default_zone=LONDON).now is False
    assert nudge_time(utc(2026, 10, 22, 7, 30), time_zone="Europe/Berlin", default_zone=LONDON).now is True


def test_an_opening_the_clocks_skip_becomes_the_moment_they_jump() -> None:
    # With hours from 02:30 every day, 8 March 2026 in New York has no 02:30: 02:00 EST jumps to 03:00 EDT.
    hours = WorkingHours(start=time(2, 30), end=time(18), days=frozenset(range(7)))

    when = nudge_time(local(NEW_YORK, 2026, 3, 8, 1, 0), time_zone=NEW_YORK, default_zone=LONDON, hours=hours)

    assert when.at == utc(2026, 3, 8, 7, 0) == local(NEW_YORK, 2026, 3, 8, 3, 0)
    assert when.local_date == date(2026, 3, 8)


def test_a_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        nudge_time(datetime(2026, 11, 25, 10, 0), time_zone=None, default_zone=LONDON)


@pytest.mark.parametrize(
    "hours",
    [
        {"start": time(18), "end": time(9)},
        {"days": frozenset()},
        {"days": frozenset({7})},
    ],
)
def test_working_hours_must_make_sense(hours: dict) -> None:
    with pytest.raises(ValueError):
        WorkingHours(**hours)


# --- one per person, phase and day ------------------------------------------------------------------------


def test_one_key_per_person_phase_and_local_day() -> None:
    key = one_per_day_key(42, "review:7:self", date(2026, 11, 25))

    assert key == "nudge:42:2026-11-25:review:7:self"
    assert one_per_day_key(42, "review:7:self", date(2026, 11, 25)) == key
    others = {
        one_per_day_key(42, "review:7:self", date(2026, 11, 26)),
        one_per_day_key(43, "review:7:self", date(2026, 11, 25)),
        one_per_day_key(42, "review:7:manager", date(2026, 11, 25)),
        one_per_day_key(4, "2:2026-11-25:review:7:self", date(2026, 11, 25)),
    }
    assert key not in others and len(others) == 4


def test_a_nudge_planned_at_the_weekend_counts_against_the_day_it_goes() -> None:
    saturday = nudge_time(utc(2026, 11, 28, 12, 0), time_zone="Europe/London", default_zone=LONDON)
    monday = nudge_time(utc(2026, 11, 30, 9, 30), time_zone="Europe/London", default_zone=LONDON)

    assert saturday.key(42, "review:7:self") == monday.key(42, "review:7:self"), (
        "Monday's planning pass finds Saturday's nudge already queued for Monday"
    )
    assert saturday.at < monday.at


def test_the_local_day_is_the_persons_not_utcs() -> None:
    # 23:30 UTC on Wednesday is Thursday 08:30 in Tokyo: that nudge goes, and counts, on Thursday.
    when = nudge_time(utc(2026, 11, 25, 23, 30), time_zone="Asia/Tokyo", default_zone=LONDON)

    assert when.local_date == date(2026, 11, 26)
    assert when.key(1, "p") == "nudge:1:2026-11-26:p"


@pytest.mark.parametrize("phase", ["", "x" * 300])
def test_a_key_needs_a_phase_that_fits(phase: str) -> None:
    with pytest.raises(ValueError):
        one_per_day_key(1, phase, date(2026, 11, 25))
