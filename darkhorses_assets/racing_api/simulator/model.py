"""The simulated world's vocabulary: courses, people, horses, races and runners, the odds ladder, seeded
randomness (`mix`, `unit`) and the constants the world and its race days share. No behaviour that needs the
whole world lives here (`world.py` builds it, `races.py` makes a day's races of it).
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import lru_cache
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
RACEHORSE_BASE = 10_000_000
STALLION_BASE = 70_000_000
MARE_BASE = 80_000_000
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


def pick_country(u: float) -> str:
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
