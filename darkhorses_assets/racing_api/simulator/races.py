"""One day of racing in the simulated world: the horses due to run are split into races, races into
meetings at courses, and each race is run (market, finishing order, margins, times, prize money)."""

from __future__ import annotations

import math
import random
from datetime import date, time, timedelta
from typing import Protocol

from . import names
from .model import (
    GOING_VALUE,
    MAX_RACES_PER_DAY,
    NON_FINISH_RATE,
    SECONDS_PER_FURLONG,
    STRENGTH_SCALE,
    WORLD_START,
    Course,
    Horse,
    Race,
    Runner,
    mix,
    nearest_fraction,
    uk_offset_datetime,
    unit,
)


class World(Protocol):
    """What a race day needs of the world (`world.World` provides it): its seed, courses, the horses available
    on a day and their past runs, the jockeys and trainers."""

    seed: int
    courses: tuple[Course, ...]
    jockey_pools: dict
    trainers: list

    def available(self, day: date) -> list[Horse]: ...

    def runs_count_before(self, horse: Horse, ordinal: int) -> int: ...

MARKET_TEMPER = 0.8
"""Below 1 the market underrates strong runners and overrates outsiders: the favourite-longshot bias."""
RACES_PER_MEETING = 7
MAX_RACES_PER_MEETING = 10
LAST_OFF = time(21, 0)
"""No race goes off later (a late evening meeting starts earlier instead), so a day's results are out by ~21:45."""
WINTER = (11, 12, 1, 2, 3)
FLAT_CLASS_CEILINGS = ((7, 50), (6, 60), (5, 70), (4, 80), (3, 90), (2, 105))
JUMP_CLASS_CEILINGS = ((5, 100), (4, 115), (3, 130), (2, 145))
PRIZE_BY_CLASS = {
    "F": {1: 60000, 2: 16000, 3: 8000, 4: 5500, 5: 3900, 6: 3100, 7: 2700},
    "J": {1: 45000, 2: 15000, 3: 7500, 4: 4200, 5: 3100},
}
PLACE_SHARES = (1.0, 0.469, 0.234, 0.117, 0.06, 0.03)
NON_FINISH_CODES = {
    "Flat": (("PU", 0.4), ("UR", 0.3), ("RR", 0.1), ("LFT", 0.05), ("SU", 0.05), ("DSQ", 0.1)),
    "NH Flat": (("PU", 0.5), ("LFT", 0.05), ("RR", 0.05), ("UR", 0.3), ("RO", 0.1)),
    "Hurdle": (
        ("PU", 0.555),
        ("LFT", 0.015),
        ("CO", 0.015),
        ("RR", 0.015),
        ("F", 0.12),
        ("UR", 0.15),
        ("BD", 0.03),
        ("RO", 0.03),
        ("SU", 0.03),
        ("REF", 0.034),
        ("DSQ", 0.006),
    ),
    "Chase": (
        ("PU", 0.473),
        ("LFT", 0.009),
        ("CO", 0.009),
        ("RR", 0.009),
        ("F", 0.25),
        ("UR", 0.19),
        ("BD", 0.02),
        ("RO", 0.01),
        ("SU", 0.01),
        ("REF", 0.015),
        ("DSQ", 0.005),
    ),
}
"""How a non-finisher (drawn at ``NON_FINISH_RATE``) failed to finish, as shares of that race type's
non-finishers. Per 1,000 jump runners this gives about RO 2, SU 2, BD 2, REF 2, CO 1, RR 1, LFT 1, and
DSQ about 0.5 per 1,000 runners, flat and jump. Each code keeps its place in its list (a code added later
takes its share from the one before it; the flat's REF, a refusal at an obstacle the flat has none of, became
RR, LFT and SU), so a runner drawn as a faller stays a faller when rare codes are added or retuned: only the
runners moved to the new code change."""
DEAD_HEAT_DRAW = 0.01
DEAD_HEAT_RATE = 0.002
"""Races with a dead heat (for any place): about 1 in 500. Candidates are drawn from the day's random
stream at ``DEAD_HEAT_DRAW`` and thinned by a hash, so the stream - every later race of the day - is the
same as when every candidate was a dead heat."""
TAIL_OFF_RATE = 0.05
"""Chance that a jump finisher in the back half of the field is tailed off: 30-70 lengths behind the
horse in front (``"dist"`` where a race's margins come as words)."""
HEADGEAR = ("", "", "", "", "", "", "t", "p", "b", "h", "v", "tp", "ht", "hp")
EXTRA_YARDS = (0, 0, 0, 0, 13, 17, 21, 31, 44, 53, 66, 88)


def build_day(world: World, day: date) -> list[Race]:
    """Every GB + IRE race on ``day``, ordered by course name then off time, with ids assigned."""
    ordinal = day.toordinal()
    rng = random.Random(mix(world.seed, 104, ordinal))
    groups = _group_entries(world, day)
    used: set[str] = set()
    races: list[Race] = []
    for (region, kind), entries in sorted(groups.items()):
        chunks = _chunk_entries(entries, rng)
        if not chunks:
            continue
        rng.shuffle(chunks)
        eligible = [
            c
            for c in world.courses
            if c.region_code == region.lower() and c.name not in used and _hosts(c, kind)
        ]
        meetings = min(len(eligible), math.ceil(len(chunks) / RACES_PER_MEETING))
        if not meetings:
            continue
        for m, course in enumerate(rng.sample(eligible, meetings)):
            used.add(course.name)
            block = chunks[m::meetings][:MAX_RACES_PER_MEETING]
            races.extend(_meeting(world, day, course, kind, block, rng))
    races.sort(key=lambda r: (r.course.name, r.off_dt))
    races = races[:MAX_RACES_PER_DAY]
    first = 10_000_000 + (day - WORLD_START).days * 100
    for k, race in enumerate(races):
        race.race_id = f"rac_{first + k}"
    return races


def _hosts(course: Course, kind: str) -> bool:
    if kind == "aw":
        return course.kind == "aw"
    if kind == "flat":
        return course.kind in ("flat", "both")
    return course.kind in ("jump", "both")


Entry = tuple[Horse, int, str, int, float]
"""(horse, age, race type, runs before today, ability at this age)."""


def _group_entries(world: World, day: date) -> dict[tuple[str, str], list[Entry]]:
    ordinal = day.toordinal()
    winter = day.month in WINTER
    groups: dict[tuple[str, str], list[Entry]] = {}
    for horse in world.available(day):
        age = day.year - horse.crop
        runs = world.runs_count_before(horse, ordinal)
        if horse.code == "F":
            aw = winter or unit(world.seed, horse.number, ordinal, 7) < (
                0.1 if horse.region == "IRE" else 0.22
            )
            kind, race_type = ("aw" if aw else "flat"), "Flat"
        else:
            kind = "jump"
            if age <= 5 and runs < 2:
                race_type = "NH Flat"
            elif horse.chaser and age >= 6:
                race_type = "Chase"
            else:
                race_type = "Hurdle"
        groups.setdefault((horse.region, kind), []).append(
            (horse, age, race_type, runs, horse.ability_at(age))
        )
    return groups


def _chunk_entries(entries: list[Entry], rng: random.Random) -> list[list[Entry]]:
    """Split entries into fields of similar type, age group, trip and ability."""
    by_kind: dict[tuple[str, bool], list[Entry]] = {}
    for entry in entries:
        by_kind.setdefault((entry[2], entry[1] == 2), []).append(entry)
    chunks: list[list[Entry]] = []
    for key in sorted(by_kind):
        group = by_kind[key]
        noise = {e[0].number: rng.gauss(0.0, 0.45) for e in group}
        group.sort(key=lambda e: (_trip_band(e[0]), e[4] + noise[e[0].number]))
        sizes: list[int] = []
        while sum(sizes) < len(group):
            sizes.append(min(30, 2 + int(rng.gammavariate(2.5, 3.9))))
        sizes[-1] -= sum(sizes) - len(group)
        if len(sizes) > 1 and sizes[-1] < 3 and sizes[-2] + sizes[-1] <= 30:
            last = sizes.pop()
            sizes[-1] += last
        i = 0
        for size in sizes:
            if size >= 2:
                chunks.append(group[i : i + size])
            i += size
    return chunks


def _trip_band(horse: Horse) -> int:
    bands = (6.5, 8.5, 11.0, 14.0) if horse.code == "F" else (18.5, 22.0, 25.0)
    return sum(horse.dist_pref_f >= b for b in bands)


def _going(course: Course, day: date, rng: random.Random) -> str:
    if course.kind == "aw":
        return rng.choice(("Standard", "Standard", "Standard", "Standard To Slow", "Standard To Fast"))
    weights = (1, 6, 8, 4, 2, 1) if day.month in (5, 6, 7, 8, 9) else (0, 1, 3, 5, 5, 3)
    going = rng.choices(("Firm", "Good To Firm", "Good", "Good To Soft", "Soft", "Heavy"), weights)[0]
    if course.region_code == "ire" and going == "Good To Soft" and rng.random() < 0.4:
        return "Yielding"
    return going


def _first_off(course: Course, day: date, kind: str, rng: random.Random) -> time:
    evening = day.month in (5, 6, 7, 8) and kind == "flat" and rng.random() < 0.35
    if kind == "aw" and rng.random() < 0.4:
        evening = True
    if evening:
        return time(16 + rng.randrange(2), 5 * rng.randrange(12))
    return time(12 + rng.randrange(2), 5 * rng.randrange(12))


def _meeting(
    world: World, day: date, course: Course, kind: str, chunks: list[list[Entry]], rng: random.Random
) -> list[Race]:
    going = _going(course, day, rng)
    winter = day.month in (12, 1, 2)
    abandon_rate = 0.002 if course.kind == "aw" else 0.04 if winter else 0.004
    abandoned = unit(world.seed, day.toordinal(), int(course.id[4:])) < abandon_rate
    gap = 30 + 5 * rng.randrange(2)
    start = uk_offset_datetime(day, _first_off(course, day, kind, rng))
    overrun = start + timedelta(minutes=gap * (len(chunks) - 1)) - uk_offset_datetime(day, LAST_OFF)
    if overrun > timedelta(0):
        start -= overrun
    pool_key = (course.region_code.upper(), "F" if kind in ("flat", "aw") else "J")
    jockey_pool = world.jockey_pools[pool_key]
    meeting_jockeys = rng.sample(jockey_pool, min(len(jockey_pool), 34))
    chunks.sort(key=lambda c: (c[0][2] == "NH Flat", rng.random()))
    races = []
    for n, chunk in enumerate(chunks):
        off_dt = start + timedelta(minutes=gap * n)
        races.append(_race(world, day, course, kind, chunk, going, off_dt, abandoned, meeting_jockeys, rng))
    for race in races:
        race.meeting_off_dt = start
    return races


def _race(
    world: World,
    day: date,
    course: Course,
    kind: str,
    chunk: list[Entry],
    going: str,
    off_dt,
    abandoned: bool,
    meeting_jockeys: list,
    rng: random.Random,
) -> Race:
    race_type = chunk[0][2]
    code = "F" if race_type == "Flat" else "J"
    ordinal = day.toordinal()
    mean_ability = sum(e[4] for e in chunk) / len(chunk)
    ratings = {e[0].number: _official_rating(e) for e in chunk}
    rated = all(r is not None for r in ratings.values())
    juvenile = all(e[1] == 2 for e in chunk)

    pattern, handicap, rating_band = "", False, ""
    if mean_ability > 1.2 and race_type != "NH Flat":
        race_class = 1
        grade = "Group" if code == "F" else "Grade"
        pattern = (
            f"{grade} 1"
            if mean_ability > 1.9
            else f"{grade} 2"
            if mean_ability > 1.65
            else f"{grade} 3"
            if mean_ability > 1.45
            else "Listed"
        )
    elif rated and race_type != "NH Flat" and rng.random() < 0.78:
        handicap = True
        top = max(ratings.values())
        ceilings = FLAT_CLASS_CEILINGS if code == "F" else JUMP_CLASS_CEILINGS
        race_class, ceiling = next(
            ((c, ceil) for c, ceil in ceilings if top <= ceil), (2, 5 * math.ceil(top / 5))
        )
        rating_band = f"0-{ceiling}"
    else:
        race_class = 4 if mean_ability > 0.2 else 5

    dist_f = _nominal_furlongs(race_type, sum(e[0].dist_pref_f for e in chunk) / len(chunk))
    distance_y = int(dist_f * 220) + EXTRA_YARDS[mix(int(course.id[4:]), int(dist_f * 2)) % len(EXTRA_YARDS)]
    prize = PRIZE_BY_CLASS[code].get(race_class, 2500) * (
        1 + 0.25 * unit(world.seed, ordinal, len(chunk), 11)
    )
    if pattern.endswith("1"):
        prize *= 5
    elif pattern.endswith("2"):
        prize *= 2
    min_age = min(e[1] for e in chunk)
    age_band = (
        "2yo"
        if juvenile
        else ("3yo" if code == "F" and min_age == 3 and all(e[1] == 3 for e in chunk) else f"{min_age}yo+")
    )
    all_female = all(e[0].female for e in chunk)
    race = Race(
        race_id="",
        day=day,
        course=course,
        off_dt=off_dt,
        type=race_type,
        surface="AW" if kind == "aw" else "Turf",
        race_class=race_class,
        pattern=pattern,
        handicap=handicap,
        age_band=age_band,
        rating_band=rating_band,
        sex_restriction=("F" if code == "F" else "M") if all_female and len(chunk) > 3 else "",
        distance_y=distance_y,
        going=going,
        name="",
        prize=round(prize, 2),
        big_race=pattern in ("Group 1", "Grade 1", "Group 2", "Grade 2"),
        abandoned=abandoned,
        numeric_btn=unit(world.seed, ordinal, int(course.id[4:]), off_dt.hour, off_dt.minute) > 0.06,
    )
    race.name = _race_name(race, rng)
    race.runners = _runners(world, race, chunk, ratings, meeting_jockeys, rng)
    _run(race, rng, world.seed)
    return race


def _official_rating(entry: Entry) -> int | None:
    horse, _, race_type, runs, ability = entry
    if runs < 3:
        return None
    if horse.code == "F":
        return max(35, min(125, int(62 + 14 * ability)))
    return max(65, min(175, int(100 + 15 * ability)))


def _nominal_furlongs(race_type: str, preferred: float) -> float:
    if race_type == "Flat":
        return float(min((5, 6, 7, 8, 9, 10, 11, 12, 14, 16, 18, 20), key=lambda f: abs(f - preferred)))
    if race_type == "NH Flat":
        return float(min((13, 16, 17, 20), key=lambda f: abs(f - preferred)))
    return float(max(16, min(29 if race_type == "Hurdle" else 30, round(preferred * 2) / 2)))


def _race_name(race: Race, rng: random.Random) -> str:
    sponsor = rng.choice(names.SPONSORS)
    mares = "Mares' " if race.sex_restriction == "M" else "Fillies' " if race.sex_restriction == "F" else ""
    if race.type == "NH Flat":
        return f"{sponsor} {mares}Standard Open National Hunt Flat Race"
    if race.type == "Flat":
        if race.pattern:
            word = rng.choice(names.HORSE_WORDS_B)
            return f"{sponsor} {word} Stakes ({race.pattern})"
        if race.handicap:
            return f"{sponsor} {mares}Handicap"
        return f"{sponsor} {mares}{rng.choice(('Maiden Stakes', 'Novice Stakes', 'EBF Novice Stakes'))}"
    kind = race.type
    if race.pattern:
        novices = "Novices' " if rng.random() < 0.3 else ""
        return f"{sponsor} {rng.choice(names.HORSE_WORDS_B)} {novices}{kind} ({race.pattern})"
    if race.handicap:
        return f"{sponsor} {mares}Handicap {kind}"
    return f"{sponsor} {mares}{rng.choice(('Novices', 'Maiden'))}' {kind}" + (
        " (GBB Race)" if rng.random() < 0.3 else ""
    )


def _runners(
    world: World,
    race: Race,
    chunk: list[Entry],
    ratings: dict[int, int | None],
    meeting_jockeys: list,
    rng: random.Random,
) -> list[Runner]:
    code = "F" if race.type == "Flat" else "J"
    ordinal = race.day.toordinal()
    dist_f = race.distance_y / 220
    going_value = GOING_VALUE.get(race.going, 0.0)
    entries = sorted(chunk, key=lambda e: -e[4])
    jockeys = sorted(meeting_jockeys, key=lambda j: -(j.skill + rng.gauss(0.0, 0.35)))
    if race.race_class == 1:
        jockeys = [j for j in jockeys if not j.claim] + [j for j in jockeys if j.claim]
    runners: list[Runner] = []
    top_rating = max((r for r in ratings.values() if r is not None), default=0)
    for i, (horse, age, _, runs, ability) in enumerate(entries):
        jockey = jockeys[i % len(jockeys)]
        rating = ratings[horse.number]
        if race.handicap and rating is not None:
            top, bottom = (140, 113) if code == "F" else (166, 140)
            weight = max(bottom, top - (top_rating - rating))
        else:
            weight = (
                (128 if age == 2 else 130 if age == 3 else 133) if code == "F" else (154 if age == 4 else 161)
            )
            weight -= (4 if code == "F" else 7) if horse.female else 0
        weight -= jockey.claim
        trainer = world.trainers[horse.trainer]
        trip_fit = -0.35 * min(3.0, (math.log(dist_f / horse.dist_pref_f) / 0.22) ** 2)
        going_fit = -0.2 * (horse.going_pref - going_value) ** 2
        strength = ability + 0.6 * jockey.skill + 0.5 * trainer.skill + trip_fit + going_fit
        key = mix(world.seed, horse.number, ordinal, 9)
        runners.append(
            Runner(
                horse=horse,
                jockey=jockey,
                number=0,
                draw=0,
                age=age,
                weight_lbs=weight,
                official_rating=rating,
                headgear=HEADGEAR[key % len(HEADGEAR)],
                non_runner=unit(key, 1) < 0.05,
                nr_reason=names.NON_RUNNER_REASONS[key % len(names.NON_RUNNER_REASONS)],
                strength=strength,
                runs_before=runs,
            )
        )
    if sum(not r.non_runner for r in runners) < 2:
        for runner in runners:
            runner.non_runner = False
    mean_weight = sum(r.weight_lbs for r in runners) / len(runners)
    for runner in runners:
        runner.strength -= 0.025 * (runner.weight_lbs - mean_weight)
    runners.sort(key=lambda r: (-r.weight_lbs, r.horse.number))
    for number, runner in enumerate(runners, start=1):
        runner.number = number
    if race.type == "Flat":
        stalls = list(range(1, len(runners) + 1))
        rng.shuffle(stalls)
        edge = draw_edge(world.seed, race.course)
        for runner, stall in zip(runners, stalls, strict=True):
            runner.draw = stall
            runner.strength += edge * (0.5 - (stall - 1) / max(1, len(runners) - 1))
    return runners


DRAW_BIASED_SHARE = 0.25
"""Share of courses with a draw bias in flat races (the rest are fair)."""
DRAW_EDGE = 0.5
"""Strength (in ability units) between the lowest and highest stall at a biased course: low draws are favoured at
some, high draws at others."""


def draw_edge(seed: int, course: Course) -> float:
    """The course's draw bias: 0 at a fair course, ±`DRAW_EDGE` (positive: low draws favoured) at a biased one."""
    key = mix(seed, 107, int(course.id.removeprefix("crs_")))
    if unit(key, 1) >= DRAW_BIASED_SHARE:
        return 0.0
    return DRAW_EDGE if unit(key, 2) < 0.5 else -DRAW_EDGE


TIME_NOISE_SHARE = 0.25
"""Share of the old ±1 % race-time noise kept now that ability shows in times."""
SCORE_PAR = 2.0
"""A winner with this performance score (`_run`: scale × strength + Gumbel noise, about a typical winner's) runs the
going's time; each score unit better is `lengths_per_unit` lengths faster."""


def winner_seconds_faster(race_type: str, score: float) -> float:
    """Seconds the winner's performance takes off the going's time: (score − `SCORE_PAR`) in lengths (2.2 a unit on
    the flat, 4.5 over jumps, as the beaten margins) at the payloads' 0.2 s a length on the flat, 0.25 over jumps. So
    every finisher's time (winning time + its beaten lengths in seconds) reflects its own score: ability shows."""
    lengths_per_unit = 2.2 if race_type == "Flat" else 4.5
    seconds_per_length = 0.2 if race_type == "Flat" else 0.25
    return (score - SCORE_PAR) * lengths_per_unit * seconds_per_length


def _run(race: Race, rng: random.Random, seed: int) -> None:
    starters = race.starters
    scale = STRENGTH_SCALE
    market = [math.exp(MARKET_TEMPER * scale * (r.strength + rng.gauss(0.0, 0.4))) for r in starters]
    total = sum(market)
    overround = 1.0 + 0.015 * len(starters)
    for runner, weight in zip(starters, market, strict=True):
        runner.market_p = weight / total
        runner.sp_num, runner.sp_den = nearest_fraction(1.0 / (runner.market_p * overround) - 1.0)
    shortest = min(r.sp_decimal for r in starters)
    favourites = [r for r in starters if r.sp_decimal == shortest]
    mark = "F" if len(favourites) == 1 else "J" if len(favourites) == 2 else "C"
    for runner in favourites:
        runner.favourite = mark

    mean_strength = sum(r.strength for r in starters) / len(starters)
    base_rate = NON_FINISH_RATE[race.type]
    codes = NON_FINISH_CODES[race.type]
    scores = {}
    for runner in starters:
        u = rng.random()
        scores[runner.horse.number] = scale * runner.strength - math.log(-math.log(max(u, 1e-12)))
        rate = base_rate * (1.5 if runner.strength < mean_strength else 0.6)
        if rng.random() < rate:
            runner.status = rng.choices([c for c, _ in codes], [w for _, w in codes])[0]
    finishers = sorted((r for r in starters if not r.status), key=lambda r: -scores[r.horse.number])
    if not finishers:
        best = max(starters, key=lambda r: scores[r.horse.number])
        best.status = ""
        finishers = [best]
    lengths_per_unit = 2.2 if race.type == "Flat" else 4.5
    dead_heat_at = (
        rng.randrange(min(4, len(finishers) - 1)) + 1
        if len(finishers) > 1 and rng.random() < DEAD_HEAT_DRAW
        else 0
    )
    total_btn = split_gap = 0.0
    for i, runner in enumerate(finishers):
        if i == 0:
            runner.position = 1
            continue
        gap = (scores[finishers[i - 1].horse.number] - scores[runner.horse.number]) * lengths_per_unit
        if i == dead_heat_at:
            runner.btn, runner.dead_heat, finishers[i - 1].dead_heat = 0.0, True, True
            runner.position = finishers[i - 1].position
            runner.ovr_btn = total_btn
            split_gap = _round_margin(gap)
            continue
        runner.btn = _round_margin(gap)
        total_btn += runner.btn
        runner.ovr_btn = total_btn
        runner.position = i + 1

    dist_f = race.distance_y / 220
    spf = SECONDS_PER_FURLONG[race.type] * (0.99 if race.surface == "AW" else 1.0)
    standard = dist_f * spf * 0.97
    race.standard_time_s = round(standard, 2)
    # The noise draw stays (the day's random stream must not change); a quarter of it is used: the winner's own
    # performance now accounts for most of a race's spread.
    noise = TIME_NOISE_SHARE * rng.gauss(0.0, 0.01)
    race.winning_time_s = round(
        dist_f * spf * (1 + 0.025 * GOING_VALUE.get(race.going, 0.0) + noise)
        - winner_seconds_faster(race.type, scores[finishers[0].horse.number]),
        2,
    )

    race_level = (sum(r.official_rating or 0 for r in starters) / len(starters)) or (
        70 if race.type == "Flat" else 110
    )
    lbs_per_length = max(1.0, 3.0 * 8 / dist_f) if race.type == "Flat" else 1.2
    for runner in finishers:
        rpr = int(race_level + 8 + rng.gauss(0.0, 4.0) - runner.ovr_btn * lbs_per_length)
        if rpr > 0 and runner.ovr_btn < 40:
            runner.rpr = rpr
            runner.tsr = rpr - 12 - rng.randrange(15) if rng.random() < 0.7 else None
        _award_prize(race, runner)

    # The rare outcomes below come from hashes, after the race's last random draw: the day's random
    # stream, and so every other race of the day, is the same with or without them.
    ordinal = race.day.toordinal()
    thinned = unit(seed, ordinal, int(race.course.id[4:]), race.off_dt.hour, race.off_dt.minute, 14)
    if dead_heat_at and thinned >= DEAD_HEAT_RATE / DEAD_HEAT_DRAW:
        _split_dead_heat(race, finishers, dead_heat_at, split_gap, lbs_per_length)
    if race.type != "Flat":
        _tail_off(finishers, seed, ordinal, lbs_per_length)


def _award_prize(race: Race, runner: Runner) -> None:
    place = runner.position - 1
    if place < len(PLACE_SHARES) and place < max(2, len(race.starters) // 2):
        runner.prize_won = round(race.prize * PLACE_SHARES[place] * 0.998, 2)
    else:
        runner.prize_won = 0.0


def _split_dead_heat(race: Race, finishers: list[Runner], at: int, gap: float, lbs_per_length: float) -> None:
    """Undo the dead heat between ``finishers[at - 1]`` and ``finishers[at]``: the latter is ``gap`` behind,
    one place lower, and so is everyone behind it."""
    runner = finishers[at]
    runner.dead_heat = finishers[at - 1].dead_heat = False
    runner.btn = gap
    runner.position = at + 1
    _award_prize(race, runner)
    _push_back(finishers[at:], gap, lbs_per_length)


def _tail_off(finishers: list[Runner], seed: int, ordinal: int, lbs_per_length: float) -> None:
    """Tail off some jumpers in the back half (see ``TAIL_OFF_RATE``): the margin to the horse in front
    grows to 30-70 lengths, and everyone from there on is that much further behind."""
    for i in range(max(3, len(finishers) // 2), len(finishers)):
        runner = finishers[i]
        dead_heat_with_previous = runner.dead_heat and runner.btn == 0
        if dead_heat_with_previous or unit(seed, runner.horse.number, ordinal, 33) >= TAIL_OFF_RATE:
            continue
        gap = _round_margin(30.0 + 40.0 * unit(seed, runner.horse.number, ordinal, 34))
        if gap > runner.btn:
            _push_back(finishers[i:], gap - runner.btn, lbs_per_length)
            runner.btn = gap


def _push_back(runners: list[Runner], lengths: float, lbs_per_length: float) -> None:
    """Move ``runners`` ``lengths`` further behind the winner, lowering their RPR (and TS) to match; none
    is rated beyond 40 lengths, as in the race's first pass."""
    lower = round(lengths * lbs_per_length)
    for runner in runners:
        runner.ovr_btn += lengths
        if runner.rpr is None:
            continue
        if runner.rpr - lower > 0 and runner.ovr_btn < 40:
            runner.rpr -= lower
            tsr = runner.tsr - lower if runner.tsr is not None else 0
            runner.tsr = tsr if tsr > 0 else None
        else:
            runner.rpr = runner.tsr = None


def _round_margin(lengths: float) -> float:
    if lengths < 0.06:
        return 0.05
    if lengths < 0.15:
        return 0.1
    if lengths < 0.25:
        return 0.2
    if lengths < 0.4:
        return 0.3
    if lengths < 10:
        return round(lengths * 4) / 4
    if lengths < 20:
        return round(lengths * 2) / 2
    return float(round(lengths))
