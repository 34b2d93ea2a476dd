"""When things happen on a race day: results published, non-runners withdrawn, going changed, meetings
abandoned, prices re-stamped.

The world decides *what* happens (the final racecard and the result); this module decides *when* it becomes
visible, deterministically from the seed, the race and the time. Every event of a race day falls on that
day and on a 5-minute grid, so a racecard rendered at the start of a 5-minute bucket is what the API shows
for the whole bucket, and a past day renders the same at any later time (final).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from .model import GOING_TURF, UK, Race, Runner, mix, unit

BUCKET = timedelta(minutes=5)
LATE_RESULT_SHARE = 0.10
"""Share of races whose result comes 10–30 minutes later than the usual delay (stewards' enquiry, photo)."""
LATE_RESULT_EXTRA_MINUTES = (10, 30)
WITHDRAWALS_FROM = time(7, 0)
WITHDRAWALS_CLOSE = timedelta(minutes=30)
"""The last non-runner of a race is announced this long before its off."""
GOING_CHANGE_SHARE = 0.25
"""Share of turf meetings whose going changes by one step on the day, before their first race."""
GOING_UPDATES_FROM = time(8, 0)
ABANDONMENT_NOTICE = timedelta(hours=2)
"""An abandoned meeting is called off at an inspection this long before its first off."""
MARKET_OPENS = time(17, 0)
"""Prices for a day appear at this time on the eve and stay as they are overnight."""
MARKET_MOVES_FROM = time(8, 0)
MAX_EARLY_DRIFT = 6
"""How many steps of the fractional-odds ladder an early price can be away from the SP (before the lean)."""
MARKET_LEAN = {1: 4, 2: 2, 3: 1}
"""Steps longer the early price of the first three home is, on top of the random drift: the late money knows
something, so markets move toward the winner (a steamer wins more often than its SP alone says)."""
OTHERS_LEAN = -1
"""Steps shorter the early price of every other runner is (they drift toward the off): the early book stays near
the SP's over-round instead of falling under 100 %."""
HISTORY_SHARE = 0.5
"""Share of bookmakers whose odds carry a `history` of 1–3 earlier prices."""


def _at(day: date, clock: time) -> datetime:
    return datetime.combine(day, clock, tzinfo=UK)


def bucket_start(at: datetime) -> datetime:
    """``at`` floored to its 5-minute bucket."""
    return at.replace(minute=at.minute - at.minute % 5, second=0, microsecond=0)


def _grid_time(key: int, first: datetime, last: datetime) -> datetime:
    """A time on the 5-minute grid between ``first`` and ``last`` (both on the grid), chosen by ``key``."""
    slots = max(1, (last - first) // BUCKET + 1)
    return first + (key % slots) * BUCKET


def _race_number(race: Race) -> int:
    return int(race.race_id.removeprefix("rac_"))


def _meeting_off(race: Race) -> datetime:
    return race.meeting_off_dt or race.off_dt


# -- results ---------------------------------------------------------------------------------------------


def result_delay(seed: int, race: Race, delay_minutes: float) -> timedelta:
    """Off to result: ``delay_minutes``, and for about 10 % of races 10–30 minutes more."""
    key = mix(seed, 201, _race_number(race))
    extra = 0
    if unit(key, 1) < LATE_RESULT_SHARE:
        low, high = LATE_RESULT_EXTRA_MINUTES
        extra = low + key % (high - low + 1)
    return timedelta(minutes=delay_minutes + extra)


def result_published_at(seed: int, race: Race, delay_minutes: float) -> datetime | None:
    """When the race's result appears in ``/v1/results``; None when it never does (abandoned)."""
    if race.abandoned:
        return None
    return race.off_dt + result_delay(seed, race, delay_minutes)


# -- racecards -------------------------------------------------------------------------------------------


def withdrawn_at(seed: int, race: Race, runner: Runner) -> datetime | None:
    """When a non-runner is announced: on the race day, from 07:00 to 30 minutes before the off."""
    if not runner.non_runner:
        return None
    key = mix(seed, 202, runner.horse.number, race.day.toordinal())
    return _grid_time(key, _at(race.day, WITHDRAWALS_FROM), race.off_dt - WITHDRAWALS_CLOSE)


def is_withdrawn(seed: int, race: Race, runner: Runner, at: datetime) -> bool:
    when = withdrawn_at(seed, race, runner)
    return when is not None and at >= when


def going_change(seed: int, race: Race) -> tuple[str, datetime] | None:
    """``(going declared first, time it changes to race.going)`` for a meeting whose going changes."""
    if race.going not in GOING_TURF:
        return None
    key = mix(seed, 203, race.day.toordinal(), int(race.course.id.removeprefix("crs_")))
    if unit(key, 1) >= GOING_CHANGE_SHARE:
        return None
    i, last = GOING_TURF.index(race.going), len(GOING_TURF) - 1
    got_softer = unit(key, 2) < 0.65
    step = -1 if (got_softer and i > 0) or i == last else 1
    changed = _grid_time(key, _at(race.day, GOING_UPDATES_FROM), _meeting_off(race) - WITHDRAWALS_CLOSE)
    return GOING_TURF[i + step], changed


def going_at(seed: int, race: Race, at: datetime) -> str:
    change = going_change(seed, race)
    if change is not None and at < change[1]:
        return change[0]
    return race.going


def abandonment_announced_at(race: Race) -> datetime | None:
    return _meeting_off(race) - ABANDONMENT_NOTICE if race.abandoned else None


def is_abandoned_at(race: Race, at: datetime) -> bool:
    when = abandonment_announced_at(race)
    return when is not None and at >= when


def market_opens(day: date) -> datetime:
    return _at(day - timedelta(days=1), MARKET_OPENS)


def price_time(race: Race, at: datetime) -> datetime | None:
    """The ``updated`` stamp of the race's prices seen at ``at``: None before the market opens on the eve,
    the eve's stamp until 08:00 on the day, then the 5-minute bucket, one minute before the off once run."""
    opens = market_opens(race.day)
    if at < opens:
        return None
    if at >= race.off_dt:
        return race.off_dt - timedelta(minutes=1)
    if at < _at(race.day, MARKET_MOVES_FROM):
        return opens
    return bucket_start(at)


class RunnerMarket:
    """One runner's market through its race day: `shift` and `history_stamps` with the runner's own draws
    taken once (a racecard asks them for every bookmaker and every earlier stamp)."""

    def __init__(self, seed: int, race: Race, runner: Runner):
        self.seed, self.race, self.runner = seed, race, runner
        self.ordinal = race.day.toordinal()
        self.opens = market_opens(race.day)
        self.moves_from = _at(race.day, MARKET_MOVES_FROM)
        self.last_stamp = race.off_dt - timedelta(minutes=1)
        drift = mix(seed, 204, runner.horse.number, self.ordinal) % (2 * MAX_EARLY_DRIFT + 1) - MAX_EARLY_DRIFT
        self.drift = drift + (MARKET_LEAN.get(runner.position, OTHERS_LEAN) if not runner.status else OTHERS_LEAN)
        self._shifts: dict[datetime, int] = {}

    def shift(self, stamp: datetime) -> int:
        """Steps on the odds ladder between the price stamped ``stamp`` and the SP: the eve's drift (random, plus
        `MARKET_LEAN` for the first three home), shrinking from 08:00 to nothing at the off, plus a step of noise
        per 5-minute bucket."""
        if stamp >= self.last_stamp:
            return 0
        if stamp not in self._shifts:
            off = self.race.off_dt
            remaining = min(1.0, (off - stamp) / (off - self.moves_from))
            noise = mix(self.seed, 205, self.runner.horse.number, self.ordinal, int(stamp.timestamp()) // 60) % 3 - 1
            self._shifts[stamp] = round(self.drift * remaining) + noise
        return self._shifts[stamp]

    def history_stamps(self, bookmaker: int, stamp: datetime) -> list[datetime]:
        """Earlier stamps of a bookmaker's price (its odds `history`, oldest first): for `HISTORY_SHARE` of
        (runner, bookmaker) pairs, 1–3 of the eve's opening and the 5-minute buckets from 08:00 before
        ``stamp``."""
        key = mix(self.seed, 206, self.runner.horse.number, self.ordinal, bookmaker)
        if stamp <= self.opens or unit(key, 1) >= HISTORY_SHARE:
            return []
        candidates = [self.opens]
        if stamp > self.moves_from:
            latest = bucket_start(stamp - BUCKET)
            candidates += sorted({_grid_time(mix(key, i), self.moves_from, latest) for i in (2, 3)})
        wanted = 1 + key % 3
        return sorted({c for c in candidates if c < stamp})[:wanted]


def racecard_instant(day: date, now: datetime) -> datetime:
    """The instant whose rendering of ``day``'s racecards equals the rendering at ``now``: a cache key.

    Past days are final (rendered at the next midnight), today changes every 5 minutes, tomorrow once (its
    prices appear at 17:00 today), later days not at all during today.
    """
    today = now.date()
    if day < today:
        return _at(day + timedelta(days=1), time(0))
    if day == today:
        return bucket_start(now)
    if day == today + timedelta(days=1) and now >= market_opens(day):
        return market_opens(day)
    return _at(today, time(0))
