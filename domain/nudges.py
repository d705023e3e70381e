"""Nudges: when one may reach a person, and the key that keeps it to one per person, phase and day.

Pure time arithmetic, no storage: planning (who is due for what) reads the database elsewhere and asks
these. A nudge goes only in working hours on the person's own clock, 09:00-18:00 Monday to Friday by
default; outside them it waits for the next opening, computed in the person's zone for that day (so a
daylight-saving change over the weekend moves Monday's 09:00 in UTC, as it should). A person with no time
zone on file, or one zoneinfo does not know, follows the organization's.

The per-day key is the outbox's dedupe key: the day is the person's local date when the nudge goes, so a
nudge planned on Saturday for Monday 09:00 and Monday's own planning pass produce the same key, and the
outbox keeps only one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# What the CSV import and the directory sync store when they don't know someone's zone: not a choice.
UNSET_TIME_ZONES = frozenset({"", "UTC"})
MONDAY_TO_FRIDAY = frozenset(range(5))
DEDUPE_KEY_LENGTH = 256  # the outbox's dedupe_key column


@dataclass(frozen=True)
class WorkingHours:
    """When nudges may arrive, on the person's clock: [start, end) on the given weekdays (Monday = 0)."""

    start: time = time(9)
    end: time = time(18)
    days: frozenset[int] = MONDAY_TO_FRIDAY

    def __post_init__(self) -> None:
        if not self.start < self.end:
            raise ValueError("working hours must start before they end")
        if not self.days or not self.days <= frozenset(range(7)):
            raise ValueError("working days are weekday numbers 0 (Monday) to 6, at least one")

    def contains(self, local: datetime) -> bool:
        """Whether a local wall-clock time falls in working hours."""
        return local.weekday() in self.days and self.start <= local.time() < self.end


DEFAULT_HOURS = WorkingHours()


@dataclass(frozen=True)
class NudgeTime:
    """When a nudge may go: now, or the next opening of the person's working hours."""

    now: bool  # it may go right away
    at: datetime  # in UTC: `now` itself when it may go now
    local_date: date  # the person's date at `at`: the day the nudge counts against
    zone: ZoneInfo

    def key(self, person_id: int, phase: str) -> str:
        """The outbox dedupe key for this person's nudge about `phase`, on the day it goes."""
        return one_per_day_key(person_id, phase, self.local_date)


def person_zone(name: str | None, default_zone: ZoneInfo) -> ZoneInfo:
    """The zone a stored time zone name stands for; the organization's when none is set or it is unknown."""
    if name is None or name.strip() in UNSET_TIME_ZONES:
        return default_zone
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        return default_zone  # a typo in the directory must not stop anyone's nudges


def nudge_time(
    now: datetime,
    *,
    time_zone: str | None,
    default_zone: ZoneInfo,
    hours: WorkingHours = DEFAULT_HOURS,
) -> NudgeTime:
    """Whether a nudge may reach the person at `now`, and if not, the next instant it may."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    zone = person_zone(time_zone, default_zone)
    local = now.astimezone(zone)
    if hours.contains(local):
        return NudgeTime(True, now.astimezone(UTC), local.date(), zone)
    day = local.date()
    if not (day.weekday() in hours.days and local.time() < hours.start):
        day += timedelta(days=1)
        while day.weekday() not in hours.days:
            day += timedelta(days=1)
    at = _instant(day, hours.start, zone)
    return NudgeTime(False, at, at.astimezone(zone).date(), zone)


def one_per_day_key(person_id: int, phase: str, local_date: date) -> str:
    """The outbox dedupe key allowing one nudge per person per phase per local day.

    `phase` names what the nudge is about, precisely enough that two things due the same day differ
    (e.g. "review:12:self"); it comes last, so any text in it keeps the key unambiguous."""
    if not phase:
        raise ValueError("a nudge key needs the phase it is about")
    key = f"nudge:{person_id}:{local_date.isoformat()}:{phase}"
    if len(key) > DEDUPE_KEY_LENGTH:
        raise ValueError(f"a nudge key is at most {DEDUPE_KEY_LENGTH} characters; shorten the phase")
    return key


def _instant(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """The first instant (in UTC) at which the zone's clock on `day` shows `wall` or later."""
    naive = datetime.combine(day, wall)
    # fold=0 reads a skipped wall time with the offset from before the jump, which lands after the gap.
    after = naive.replace(tzinfo=zone).astimezone(UTC)
    if after.astimezone(zone).replace(tzinfo=None) == naive:
        return after  # the wall time exists (when it occurs twice, this is the first)
    # It was skipped by a jump forward: the opening is the jump itself, between the two readings.
    lo = int(naive.replace(tzinfo=zone, fold=1).astimezone(UTC).timestamp())
    hi = int(after.timestamp())
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, zone).replace(tzinfo=None) >= naive:
            hi = mid
        else:
            lo = mid
    return datetime.fromtimestamp(hi, UTC)
