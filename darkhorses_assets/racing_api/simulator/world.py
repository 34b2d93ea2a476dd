"""A seeded, deterministic racing world: courses, horses, people, daily fixtures and their outcomes.

Nothing here depends on request order. Horses come in yearly foal crops generated on demand from
``(seed, crop year)``; a day's races come from ``(seed, date)`` alone. Each horse runs on a fixed cadence
(every ``interval`` days, skipped out of season), so the horses available on a day are found by bucket
look-ups and history-like fields (days since the last run, form) are derived from that schedule instead of
replaying past days. Outcomes follow a multinomial-logit model: a runner's strength is latent ability at its
age plus jockey and trainer skill, distance and going fit and the weight carried; the finishing order adds
Gumbel noise, so win probabilities are exactly the softmax of strength and the market (SP) is the same
softmax seen through a little noise.
"""

from __future__ import annotations

import math
import random
import threading
from bisect import bisect_left
from datetime import date, timedelta
from functools import lru_cache
from itertools import accumulate

from . import names
from .model import (
    COLOURS,
    CROP_SIZE,
    FIRST_CROP,
    FLAT_SEASON,
    JUMP_SEASON,
    MARE_BASE,
    N_MARES,
    N_STALLIONS,
    RACEHORSE_BASE,
    STALLION_BASE,
    WORLD_START,
    Horse,
    HorseProfile,
    Parent,
    Person,
    Race,
    horse_name,
    load_courses,
    mix,
    person_name,
    pick_country,
    unit,
)
from .races import build_day


class World:
    """The deterministic world for one seed. Thread-safe; days are cached (LRU)."""

    def __init__(self, seed: int = 7, cache_days: int = 256):
        self.seed = seed
        self.courses = load_courses()
        self.courses_by_id = {c.id: c for c in self.courses}
        self._lock = threading.RLock()
        self._crops: dict[int, tuple[list[Horse], dict[int, dict[int, list[Horse]]]]] = {}
        self._profiles: dict[int, HorseProfile] = {}
        self._mares: dict[int, Parent] = {}
        self._build_people()
        self._build_parents()
        self.day = lru_cache(maxsize=cache_days)(self._generate_day)

    # -- people and parents ----------------------------------------------------------------------------

    def _build_people(self) -> None:
        rng = random.Random(mix(self.seed, 101))
        self.jockeys: list[Person] = []
        self.jockey_pools: dict[tuple[str, str], list[Person]] = {}
        for region, code, count in (("GB", "F", 260), ("GB", "J", 220), ("IRE", "F", 90), ("IRE", "J", 110)):
            pool = []
            for _ in range(count):
                number = 200_000 + len(self.jockeys) * 137 + rng.randrange(100)
                u = rng.random()
                claim = 7 if u < 0.06 else 5 if u < 0.12 else 3 if u < 0.18 else 0
                skill = rng.gauss(0.0, 0.3) - (0.15 if claim else 0.0)
                person = Person(
                    f"jky_{number}", person_name(mix(self.seed, 7, number)), region, code, skill, claim
                )
                self.jockeys.append(person)
                pool.append(person)
            self.jockey_pools[(region, code)] = pool
        self.jockeys_by_id = {j.id: j for j in self.jockeys}

        self.trainers: list[Person] = []
        self._trainer_choice: dict[tuple[str, str], tuple[list[int], list[float]]] = {}
        for region, code, count in (("GB", "F", 220), ("GB", "J", 200), ("IRE", "F", 70), ("IRE", "J", 110)):
            locations = names.GB_LOCATIONS if region == "GB" else names.IRE_LOCATIONS
            indices, weights = [], []
            for _ in range(count):
                number = 1_000 + len(self.trainers) * 311 + rng.randrange(300)
                person = Person(
                    f"trn_{number}",
                    person_name(mix(self.seed, 8, number)),
                    region,
                    code,
                    rng.gauss(0.0, 0.3),
                    0,
                    rng.choice(locations),
                )
                indices.append(len(self.trainers))
                weights.append(rng.paretovariate(1.3) * math.exp(person.skill))
                self.trainers.append(person)
            self._trainer_choice[(region, code)] = (indices, list(accumulate(weights)))
        self.trainers_by_id = {t.id: t for t in self.trainers}
        self.n_owners = 8000

    def owner_id(self, index: int) -> str:
        return f"own_{600_000 + index * 97}"

    def owner_name(self, index: int) -> str:
        key = mix(self.seed, 9, index)
        u = unit(key, 1)
        if u < 0.55:
            return person_name(key)
        if u < 0.7:
            return f"Mr & Mrs {person_name(key).split()[1]}"
        word = names.HORSE_WORDS_B[mix(key, 3) % len(names.HORSE_WORDS_B)]
        return f"{word} {names.OWNER_SUFFIXES[mix(key, 4) % len(names.OWNER_SUFFIXES)]}"

    def _build_parents(self) -> None:
        rng = random.Random(mix(self.seed, 102))
        self.stallions = []
        weights = []
        for i in range(N_STALLIONS):
            number = STALLION_BASE + i * 173
            key = mix(self.seed, 21, number)
            self.stallions.append(
                Parent(
                    number,
                    horse_name(key),
                    pick_country(unit(key, 5)),
                    False,
                    rng.gauss(0.0, 0.5),
                    date(1995 + rng.randrange(22), 1 + rng.randrange(5), 1 + rng.randrange(28)),
                    COLOURS[rng.randrange(len(COLOURS))][0],
                )
            )
            weights.append(rng.paretovariate(1.2))
        self._stallion_cumulative = list(accumulate(weights))

    def mare(self, index: int) -> Parent:
        found = self._mares.get(index)
        if found is None:
            found = self._mares[index] = self._make_mare(index)
        return found

    def mare_quality(self, index: int) -> float:
        return (mix(self.seed, 22, index) / 18446744073709551616.0 - 0.5) * 1.2

    def _make_mare(self, index: int) -> Parent:
        number = MARE_BASE + index * 37
        key = mix(self.seed, 22, number)
        return Parent(
            number,
            horse_name(key),
            pick_country(unit(key, 5)),
            True,
            self.mare_quality(index),
            date(2000 + mix(key, 7) % 18, 2 + mix(key, 8) % 4, 10),
            COLOURS[mix(key, 9) % len(COLOURS)][0],
        )

    def damsire_of(self, mare_index: int) -> Parent:
        return self.stallions[mix(self.seed, 23, mare_index) % N_STALLIONS]

    def _weighted_pick(self, cumulative: list[float], u: float) -> int:
        return min(bisect_left(cumulative, u * cumulative[-1]), len(cumulative) - 1)

    # -- horses ----------------------------------------------------------------------------------------

    def crop(self, year: int) -> tuple[list[Horse], dict[int, dict[int, list[Horse]]]]:
        """The foal crop of ``year`` and its buckets ``{interval: {ordinal % interval: [horses]}}``."""
        found = self._crops.get(year)
        if found is not None:
            return found
        with self._lock:
            if year in self._crops:
                return self._crops[year]
            horses = self._generate_crop(year)
            buckets: dict[int, dict[int, list[Horse]]] = {}
            for horse in horses:
                buckets.setdefault(horse.interval, {}).setdefault(horse.phase, []).append(horse)
            self._crops[year] = (horses, buckets)
            return horses, buckets

    def _generate_crop(self, year: int) -> list[Horse]:
        rng = random.Random(mix(self.seed, 103, year))
        horses = []
        gauss, rand = rng.gauss, rng.random

        def randrange(n: int) -> int:
            return int(rand() * n)

        flat_season, jump_season = date(year + 2, 4, 1).toordinal(), date(year + 4, 1, 1).toordinal()

        for idx in range(CROP_SIZE):
            number = RACEHORSE_BASE + (year - FIRST_CROP) * 100_000 + idx
            flat = rand() < 0.55
            region = "IRE" if rand() < 0.24 else "GB"
            code = "F" if flat else "J"
            trainer_indices, cumulative = self._trainer_choice[(region, code)]
            trainer = trainer_indices[self._weighted_pick(cumulative, rand())]
            sire = self._weighted_pick(self._stallion_cumulative, rand())
            dam = randrange(N_MARES)
            female = rand() < 0.45 if flat else rand() < 0.25
            ability = 0.35 * self.stallions[sire].quality + 0.3 * self.mare_quality(dam) + gauss(0.0, 0.85)
            if flat:
                start_day = flat_season + randrange(200)
                if rand() < 0.45:
                    start_day += 300
                career_days = int(365 * (0.5 + rng.expovariate(1 / 2.0)))
                dist_pref = min(20.0, max(5.0, gauss(8.5, 2.6)))
                gelded_at = 3 + randrange(4) if rand() < 0.6 else 99
            else:
                start_day = jump_season + randrange(500)
                career_days = int(365 * (0.7 + rng.expovariate(1 / 3.2)))
                dist_pref = min(30.0, max(16.0, gauss(21.0, 3.5)))
                gelded_at = 2 if rand() < 0.92 else 99
            interval = 12 + randrange(31)
            horses.append(
                Horse(
                    number,
                    year,
                    code,
                    region,
                    female,
                    ability,
                    dist_pref,
                    max(-1.2, min(1.6, gauss(0.2, 0.6))),
                    interval,
                    randrange(interval),
                    start_day,
                    start_day + career_days,
                    trainer,
                    randrange(self.n_owners),
                    sire,
                    dam,
                    rand() < 0.5,
                    gelded_at,
                )
            )
        return horses

    def horse(self, number: int) -> Horse | None:
        offset = number - RACEHORSE_BASE
        year, idx = FIRST_CROP + offset // 100_000, offset % 100_000
        if offset < 0 or idx >= CROP_SIZE or year > date.today().year + 1:
            return None
        return self.crop(year)[0][idx]

    def parent(self, number: int) -> Parent | None:
        if STALLION_BASE <= number < MARE_BASE:
            i, rem = divmod(number - STALLION_BASE, 173)
            return self.stallions[i] if rem == 0 and i < N_STALLIONS else None
        if number >= MARE_BASE:
            i, rem = divmod(number - MARE_BASE, 37)
            return self.mare(i) if rem == 0 and i < N_MARES else None
        return None

    def profile(self, horse: Horse) -> HorseProfile:
        found = self._profiles.get(horse.number)
        if found is None:
            found = self._profiles[horse.number] = self._make_profile(horse)
        return found

    def _make_profile(self, horse: Horse) -> HorseProfile:
        key = mix(self.seed, 24, horse.number)
        colour_code, colour = COLOURS[mix(key, 1) % len(COLOURS)]
        country = horse.region if unit(key, 2) < 0.7 else pick_country(unit(key, 3))
        breeder_key = mix(key, 4) % 3000
        breeder = (
            person_name(breeder_key)
            if breeder_key % 3
            else f"{names.HORSE_WORDS_B[breeder_key % len(names.HORSE_WORDS_B)]} Stud"
        )
        dob = date(horse.crop, 1, 20) + timedelta(days=mix(key, 5) % 120)
        return HorseProfile(
            horse_name(key), country, dob, colour_code, colour, breeder, 100_000 + horse.owner * 29
        )

    # -- schedule --------------------------------------------------------------------------------------

    def _season_share(self, horse: Horse, day: date) -> float:
        if day.month == 12 and day.day in (24, 25):
            return 0.0
        if horse.code == "F":
            return FLAT_SEASON[day.month - 1] * (
                0.4 if horse.region == "IRE" and day.month in (11, 12, 1, 2) else 1.0
            )
        return JUMP_SEASON[day.month - 1]

    def runs_on(self, horse: Horse, ordinal: int) -> bool:
        """Whether the horse's schedule has it racing on this day (before draws into races)."""
        if not horse.start <= ordinal <= horse.end or (ordinal - horse.phase) % horse.interval:
            return False
        return unit(self.seed, horse.number, ordinal) < self._season_share(horse, date.fromordinal(ordinal))

    def previous_runs(self, horse: Horse, ordinal: int, limit: int = 6) -> list[int]:
        """Ordinals of the horse's most recent scheduled runs before ``ordinal``, newest first."""
        runs: list[int] = []
        day = ordinal - horse.interval
        while day >= horse.start and len(runs) < limit:
            if self.runs_on(horse, day):
                runs.append(day)
            day -= horse.interval
        return runs

    def runs_count_before(self, horse: Horse, ordinal: int) -> int:
        slots = max(0, (ordinal - horse.start) // horse.interval)
        return int(slots * (0.8 if horse.code == "F" else 0.75))

    def proxy_position(self, horse: Horse, ordinal: int) -> str:
        """A plausible finishing position for a past scheduled run, from ability only (for ``form``)."""
        u = unit(self.seed, horse.number, ordinal, 5)
        if horse.code == "J" and u > 0.93:
            return "PUF"[mix(horse.number, ordinal) % 3] if u > 0.96 else "U"
        strength = horse.ability_at(date.fromordinal(ordinal).year - horse.crop)
        pos = 1 + int(10 * u ** math.exp(0.9 * strength))
        return "0" if pos >= 10 else str(pos)

    def form(self, horse: Horse, ordinal: int) -> str:
        runs = self.previous_runs(horse, ordinal)
        if not runs:
            return ""
        parts: list[str] = []
        newer_season = None
        for run in runs:
            day = date.fromordinal(run)
            season = day.year if horse.code == "F" else (day.year if day.month >= 7 else day.year - 1)
            if newer_season is not None and season != newer_season:
                parts.append("/" if newer_season - season > 1 else "-")
            parts.append(self.proxy_position(horse, run))
            newer_season = season
        return "".join(reversed(parts))

    def available(self, day: date) -> list[Horse]:
        ordinal = day.toordinal()
        pool: list[Horse] = []
        for year in range(day.year - 13, day.year - 1):
            if year < FIRST_CROP:
                continue
            for interval, by_phase in sorted(self.crop(year)[1].items()):
                for horse in by_phase.get(ordinal % interval, ()):
                    if horse.start <= ordinal <= horse.end and self.runs_on(horse, ordinal):
                        pool.append(horse)
        return pool

    # -- days ------------------------------------------------------------------------------------------

    def races_on(self, day: date) -> list[Race]:
        return self.day(day)

    def race(self, race_id: str) -> Race | None:
        try:
            n = int(race_id.removeprefix("rac_"))
        except ValueError:
            return None
        day_index, k = divmod(n - 10_000_000, 100)
        if n < 10_000_000:
            return None
        races = self.races_on(WORLD_START + timedelta(days=day_index))
        return races[k] if k < len(races) and races[k].race_id == race_id else None

    def _generate_day(self, day: date) -> list[Race]:
        if day < WORLD_START:
            return []
        return build_day(self, day)
