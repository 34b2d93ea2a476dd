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
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from itertools import accumulate
from zoneinfo import ZoneInfo

from darkhorses_assets.reference import course_coordinates

from . import names

UK = ZoneInfo("Europe/London")
WORLD_START = date(2015, 1, 1)
"""First date with racing. Race ids encode the day number since this date."""

FIRST_CROP = WORLD_START.year - 13
CROP_SIZE = 4600
MAX_RACES_PER_DAY = 99
STRENGTH_SCALE = 1.15
"""Multiplies runner strength before the softmax; tuned so favourites win roughly a third of races."""

_MASK = (1 << 64) - 1
_RACEHORSE_BASE = 10_000_000
_STALLION_BASE = 70_000_000
_MARE_BASE = 80_000_000
N_STALLIONS = 400
N_MARES = 40_000

DEFUNCT_COURSES = frozenset({"Folkestone", "Larkhill", "Mallow", "Phoenix Park", "Tralee"})
AW_ONLY = {"Chelmsford": "Chelmsford (AW)", "Wolverhampton": "Wolverhampton (AW)", "Dundalk": "Dundalk (AW)"}
AW_ALSO = {
    "Southwell": "Southwell (AW)",
    "Kempton": "Kempton (AW)",
    "Lingfield": "Lingfield (AW)",
    "Newcastle": "Newcastle (AW)",
}
REGION_NAMES = {"gb": "Great Britain", "ire": "Ireland"}

GOING_TURF = ("Firm", "Good To Firm", "Good", "Good To Soft", "Soft", "Heavy")
GOING_VALUE = {
    "Firm": -1.0,
    "Good To Firm": -0.5,
    "Good": 0.0,
    "Good To Soft": 0.5,
    "Yielding": 0.5,
    "Soft": 1.0,
    "Yielding To Soft": 0.8,
    "Heavy": 1.5,
    "Standard": 0.0,
    "Standard To Slow": 0.3,
    "Standard To Fast": -0.3,
}
SECONDS_PER_FURLONG = {"Flat": 12.6, "Hurdle": 14.3, "Chase": 14.8, "NH Flat": 14.0}
FLAT_SEASON = (0.3, 0.3, 0.5, 0.9, 1.0, 1.0, 1.0, 1.0, 1.0, 0.8, 0.35, 0.3)
JUMP_SEASON = (1.0, 1.0, 1.0, 0.8, 0.4, 0.3, 0.3, 0.3, 0.35, 0.7, 1.0, 1.0)
NON_FINISH_RATE = {"Flat": 0.004, "Hurdle": 0.07, "Chase": 0.12, "NH Flat": 0.01}


def mix(*parts: int) -> int:
    """A 64-bit hash of integers (splitmix64 steps): cheap, stable across runs and platforms."""
    h = 0x9E3779B97F4A7C15
    for part in parts:
        h = ((h ^ (part & _MASK)) * 0xBF58476D1CE4E5B9) & _MASK
        h ^= h >> 31
        h = (h * 0x94D049BB133111EB) & _MASK
        h ^= h >> 29
    return h


def unit(*parts: int) -> float:
    """A uniform number in [0, 1) determined by ``parts``."""
    return mix(*parts) / 18446744073709551616.0


def _text_key(text: str) -> int:
    return int.from_bytes(text.encode()[:24].ljust(24, b"\0"), "big") ^ len(text)


# -- reference data --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Course:
    id: str
    name: str
    region_code: str
    kind: str
    """``flat``, ``jump``, ``both`` (turf) or ``aw``; ``closed`` courses are listed but never race."""

    @property
    def region(self) -> str:
        return REGION_NAMES[self.region_code]


def _course_number(name: str, taken: set[int]) -> int:
    number = 100 + mix(_text_key(name), len(name)) % 39_900
    while number in taken:
        number += 1
    taken.add(number)
    return number


@lru_cache(maxsize=1)
def load_courses() -> tuple[Course, ...]:
    """GB + IRE courses from the bundled list, with API-style ``crs_<n>`` ids and ``(AW)`` variants."""
    raw = course_coordinates()
    entries: list[tuple[str, str, str]] = []
    for item in raw:
        name, region = item["course"], item["country"].lower()
        kind = {"Jump": "jump", "Flat": "flat", "Both": "both"}[item["type"]]
        if name in DEFUNCT_COURSES:
            entries.append((name, region, "closed"))
        elif name in AW_ONLY:
            entries.append((AW_ONLY[name], region, "aw"))
        else:
            entries.append((name, region, kind))
            if name in AW_ALSO:
                entries.append((AW_ALSO[name], region, "aw"))
    taken: set[int] = set()
    courses = [Course(f"crs_{_course_number(n, taken)}", n, r, k) for n, r, k in sorted(entries)]
    return tuple(courses)


@dataclass(frozen=True, slots=True)
class Person:
    id: str
    name: str
    region: str
    code: str
    """``F`` flat, ``J`` jumps."""
    skill: float
    claim: int = 0
    location: str = ""


@dataclass(frozen=True, slots=True)
class Parent:
    """A stallion or broodmare: never races here, but has a profile under its ``hrs_`` id."""

    number: int
    name: str
    country: str
    female: bool
    quality: float
    dob: date
    colour: str


# -- horses ----------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Horse:
    number: int
    crop: int
    code: str
    """``F`` flat horse, ``J`` jumper."""
    region: str
    female: bool
    ability: float
    dist_pref_f: float
    going_pref: float
    interval: int
    phase: int
    start: int
    end: int
    trainer: int
    owner: int
    sire: int
    dam: int
    chaser: bool
    gelded_at: int

    @property
    def id(self) -> str:
        return f"hrs_{self.number}"

    def age_on(self, day: date) -> int:
        return day.year - self.crop

    def ability_at(self, age: int) -> float:
        if self.code == "F":
            curve = {2: -0.35, 3: 0.0, 4: 0.15, 5: 0.1}.get(age, 0.1 - 0.12 * (age - 5))
        else:
            curve = {4: -0.45, 5: -0.2, 6: 0.0, 7: 0.1, 8: 0.1, 9: 0.0}.get(age, -0.15 * (age - 9))
        return self.ability + curve

    def sex_code(self, age: int) -> str:
        if self.female:
            return "F" if age <= 4 else "M"
        if age >= self.gelded_at:
            return "G"
        return "C" if age <= 4 else "H"


SEX_WORDS = {"C": "colt", "F": "filly", "G": "gelding", "M": "mare", "H": "horse"}
COLOURS = (
    ("b", "bay"),
    ("b", "bay"),
    ("b", "bay"),
    ("ch", "chestnut"),
    ("ch", "chestnut"),
    ("br", "brown"),
    ("gr", "grey"),
    ("bl", "black"),
    ("b/br", "bay/brown"),
)
HORSE_COUNTRIES = (
    ("GB", 0.42),
    ("IRE", 0.40),
    ("FR", 0.11),
    ("USA", 0.03),
    ("GER", 0.02),
    ("ITY", 0.01),
    ("AUS", 0.01),
)


def _pick_country(u: float) -> str:
    for country, share in HORSE_COUNTRIES:
        if u < share:
            return country
        u -= share
    return "GB"


def horse_name(key: int) -> str:
    u = unit(key, 1)
    a = mix(key, 2)
    b = mix(key, 3)
    if u < 0.55:
        first = names.HORSE_WORDS_A[a % len(names.HORSE_WORDS_A)]
        return f"{first} {names.HORSE_WORDS_B[b % len(names.HORSE_WORDS_B)]}"
    if u < 0.8:
        return (
            names.HORSE_SYLLABLES_A[a % len(names.HORSE_SYLLABLES_A)]
            + names.HORSE_SYLLABLES_B[b % len(names.HORSE_SYLLABLES_B)]
        )
    if u < 0.9:
        return f"The {names.HORSE_WORDS_B[b % len(names.HORSE_WORDS_B)]}"
    first = names.HORSE_WORDS_B[a % len(names.HORSE_WORDS_B)]
    return f"{first} Of The {names.HORSE_WORDS_B[b % len(names.HORSE_WORDS_B)]}"


def person_name(key: int) -> str:
    first = names.FIRST_NAMES[mix(key, 11) % len(names.FIRST_NAMES)]
    last = names.SURNAMES[mix(key, 12) % len(names.SURNAMES)]
    return f"{first} {last}"


@dataclass(frozen=True, slots=True)
class HorseProfile:
    """Descriptive fields of a horse, generated only when a payload needs them."""

    name: str
    country: str
    dob: date
    colour_code: str
    colour: str
    breeder: str
    silk_number: int


# -- races -----------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Runner:
    horse: Horse
    jockey: Person
    number: int
    draw: int
    age: int
    weight_lbs: int
    official_rating: int | None
    headgear: str
    non_runner: bool
    nr_reason: str
    strength: float
    market_p: float = 0.0
    sp_num: int = 0
    sp_den: int = 1
    favourite: str = ""
    position: int | None = None
    status: str = ""
    """Empty for finishers, else the code: PU, F, UR, BD, RO, SU, REF, RR, LFT, CO, DSQ (see races.py)."""
    dead_heat: bool = False
    btn: float = 0.0
    ovr_btn: float = 0.0
    rpr: int | None = None
    tsr: int | None = None
    prize_won: float = 0.0
    last_run_days: int | None = None
    form: str = ""
    runs_before: int = 0

    @property
    def sp_decimal(self) -> float:
        return self.sp_num / self.sp_den + 1.0


@dataclass(slots=True)
class Race:
    race_id: str
    day: date
    course: Course
    off_dt: datetime
    type: str
    surface: str
    race_class: int
    pattern: str
    handicap: bool
    age_band: str
    rating_band: str
    sex_restriction: str
    distance_y: int
    going: str
    name: str
    prize: float
    big_race: bool
    abandoned: bool
    runners: list[Runner] = field(default_factory=list)
    winning_time_s: float = 0.0
    standard_time_s: float = 0.0
    numeric_btn: bool = True
    """False for the occasional race whose margins come as words ("nk", "1¾")."""
    meeting_off_dt: datetime | None = None
    """Off time of the first race of this race's meeting (going changes and abandonments are per meeting)."""

    @property
    def region(self) -> str:
        return self.course.region_code.upper()

    @property
    def currency(self) -> str:
        return "€" if self.region == "IRE" else "£"

    @property
    def starters(self) -> list[Runner]:
        return [r for r in self.runners if not r.non_runner]


# -- the world -------------------------------------------------------------------------------------------


FRACTIONS = (
    (1, 20),
    (1, 16),
    (1, 14),
    (1, 12),
    (1, 10),
    (1, 8),
    (1, 7),
    (1, 6),
    (1, 5),
    (2, 9),
    (1, 4),
    (2, 7),
    (1, 3),
    (4, 11),
    (2, 5),
    (4, 9),
    (1, 2),
    (8, 15),
    (4, 7),
    (8, 13),
    (4, 6),
    (8, 11),
    (4, 5),
    (5, 6),
    (10, 11),
    (1, 1),
    (11, 10),
    (6, 5),
    (5, 4),
    (11, 8),
    (6, 4),
    (13, 8),
    (7, 4),
    (15, 8),
    (2, 1),
    (9, 4),
    (5, 2),
    (11, 4),
    (3, 1),
    (10, 3),
    (7, 2),
    (4, 1),
    (9, 2),
    (5, 1),
    (11, 2),
    (6, 1),
    (13, 2),
    (7, 1),
    (15, 2),
    (8, 1),
    (17, 2),
    (9, 1),
    (10, 1),
    (11, 1),
    (12, 1),
    (14, 1),
    (16, 1),
    (18, 1),
    (20, 1),
    (22, 1),
    (25, 1),
    (28, 1),
    (33, 1),
    (40, 1),
    (50, 1),
    (66, 1),
    (80, 1),
    (100, 1),
    (125, 1),
    (150, 1),
    (200, 1),
    (250, 1),
)
_FRACTION_VALUES = tuple(n / d for n, d in FRACTIONS)


def nearest_fraction(odds_against: float) -> tuple[int, int]:
    """The standard fractional price closest to ``odds_against`` (decimal odds minus one)."""
    i = bisect_left(_FRACTION_VALUES, odds_against)
    if i == 0:
        return FRACTIONS[0]
    if i >= len(FRACTIONS):
        return FRACTIONS[-1]
    lower, upper = _FRACTION_VALUES[i - 1], _FRACTION_VALUES[i]
    return FRACTIONS[i - 1] if odds_against - lower < upper - odds_against else FRACTIONS[i]


def fraction_index(num: int, den: int) -> int:
    return FRACTIONS.index((num, den))


def uk_offset_datetime(day: date, clock: time) -> datetime:
    return datetime.combine(day, clock, tzinfo=UK)


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
            number = _STALLION_BASE + i * 173
            key = mix(self.seed, 21, number)
            self.stallions.append(
                Parent(
                    number,
                    horse_name(key),
                    _pick_country(unit(key, 5)),
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
        number = _MARE_BASE + index * 37
        key = mix(self.seed, 22, number)
        return Parent(
            number,
            horse_name(key),
            _pick_country(unit(key, 5)),
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
            number = _RACEHORSE_BASE + (year - FIRST_CROP) * 100_000 + idx
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
        offset = number - _RACEHORSE_BASE
        year, idx = FIRST_CROP + offset // 100_000, offset % 100_000
        if offset < 0 or idx >= CROP_SIZE or year > date.today().year + 1:
            return None
        return self.crop(year)[0][idx]

    def parent(self, number: int) -> Parent | None:
        if _STALLION_BASE <= number < _MARE_BASE:
            i, rem = divmod(number - _STALLION_BASE, 173)
            return self.stallions[i] if rem == 0 and i < N_STALLIONS else None
        if number >= _MARE_BASE:
            i, rem = divmod(number - _MARE_BASE, 37)
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
        country = horse.region if unit(key, 2) < 0.7 else _pick_country(unit(key, 3))
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
        from .races import build_day

        return build_day(self, day)
