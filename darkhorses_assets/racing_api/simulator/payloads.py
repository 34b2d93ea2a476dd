"""World objects rendered as The Racing API's JSON: every field of the real payloads, every scalar a string.

Shapes follow the real samples in ``darkhorses_assets_tests/fixtures/samples`` (racecards pro, results,
courses) and the OpenAPI component schemas.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from . import names, timeline
from .clock import SimulatorClock
from .model import (
    FRACTIONS,
    N_MARES,
    N_STALLIONS,
    SEX_WORDS,
    Horse,
    Parent,
    Person,
    Race,
    Runner,
    fraction_index,
    mix,
    unit,
)
from .world import World

REGIONS = (
    {"region": "Great Britain", "region_code": "gb"},
    {"region": "Ireland", "region_code": "ire"},
    {"region": "France", "region_code": "fr"},
    {"region": "USA", "region_code": "usa"},
    {"region": "Australia", "region_code": "aus"},
)
COLOUR_WORDS = {"b": "bay", "ch": "chestnut", "br": "brown", "gr": "grey", "bl": "black", "b/br": "bay/brown"}
WORD_MARGINS = {0.05: "nse", 0.1: "sh", 0.2: "hd", 0.3: "nk"}
NUMERIC_MARGINS = {0.05: "0.05", 0.1: "0.1", 0.2: "0.2", 0.3: "0.3"}
VULGAR = {0.25: "¼", 0.5: "½", 0.75: "¾"}
DISTANCE_LENGTHS = 30
"""From here a margin written in words is ``"dist"`` (a distance)."""
NON_FINISHER_COMMENTS = {
    **names.COMMENTS_NON_FINISHER,
    "REF": "Prominent until refused 3 out",
    "RR": "Refused to race",
    "LFT": "Whipped round start and took no part - left at start",
    "CO": "In touch when carried out by loose horse 5th",
}
"""Close-up comments by non-finishing code (refused at a fence, REF, differs from refusing to race, RR)."""


# -- formatting ------------------------------------------------------------------------------------------


def miles_furlongs_yards(yards: int) -> str:
    """``2m6f31y`` style: the exact trip."""
    miles, rest = divmod(yards, 1760)
    furlongs, extra = divmod(rest, 220)
    text = (
        (f"{miles}m" if miles else "") + (f"{furlongs}f" if furlongs else "") + (f"{extra}y" if extra else "")
    )
    return text or "0y"


def half_furlongs(yards: int) -> float:
    return round(yards / 110) / 2


def miles_furlongs(furlongs: float) -> str:
    """``2m6f`` / ``1m½f`` / ``7½f`` style: the trip rounded to the half furlong."""
    miles, rest = divmod(furlongs, 8)
    whole, half = int(rest), rest - int(rest) >= 0.5
    text = f"{int(miles)}m" if miles else ""
    if whole or half:
        text += (str(whole) if whole else "") + ("½" if half else "") + "f"
    return text


def twelve_hour(race: Race) -> str:
    hour = race.off_dt.hour % 12 or 12
    return f"{hour}:{race.off_dt.minute:02d}"


def money(amount: float) -> str:
    return f"{amount:,.0f}"


def decimal_text(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text


PRICE_TEXTS = tuple((f"{num}/{den}", decimal_text(num / den + 1)) for num, den in FRACTIONS)


def fraction_text(num: int, den: int) -> str:
    return "Evens" if num == den else f"{num}/{den}"


def stones_pounds(lbs: int) -> str:
    return f"{lbs // 14}-{lbs % 14}"


def race_time(seconds: float) -> str:
    """``1:43.25``; seconds below ten are not zero-padded (``3:5.82``), as in the real API."""
    minutes = int(seconds // 60)
    return f"{minutes}:{seconds - 60 * minutes:.2f}"


def margin(lengths: float, numeric: bool) -> str:
    """Lengths as the API writes them: numbers (``".75"``, ``"0.3"``, ``"35"``), or in a race whose
    margins come as words ``"nk"``, ``"1¾"`` and ``"dist"`` from 30 lengths. In words, a part of a length
    that is no quarter is dropped (``1.35`` -> ``"1"``), but a total under a length that no word fits is
    written as a number (``0.35``, nse + nk -> ``".35"``), never as an empty text."""
    if lengths == 0:
        return "0"
    if not numeric:
        if lengths in WORD_MARGINS:
            return WORD_MARGINS[lengths]
        if lengths >= DISTANCE_LENGTHS:
            return "dist"
        whole, part = int(lengths), round(lengths - int(lengths), 2)
        if whole or part in VULGAR:
            return (str(whole) if whole else "") + VULGAR.get(part, "")
    if lengths in NUMERIC_MARGINS:
        return NUMERIC_MARGINS[lengths]
    text = f"{lengths:g}"
    return text[1:] if text.startswith("0.") else text


def silk_url(number: int) -> str:
    digits = str(number)
    return f"https://www.rp-assets.com/svg/{digits[-1]}/{digits[-2]}/{digits[-3]}/{number}.svg"


def with_country(name: str, country: str) -> str:
    return f"{name} ({country})"


# -- renderer --------------------------------------------------------------------------------------------


class Payloads:
    """Renders a world's days as API dicts. The clock decides what racecards know (non-runners, going,
    abandonments, prices); a plain date means the clock frozen at 00:00 of that day."""

    def __init__(self, world: World, clock: SimulatorClock | date):
        self.world = world
        self.clock = clock if isinstance(clock, SimulatorClock) else SimulatorClock.start_of_day(clock)

    @property
    def today(self) -> date:
        return self.clock.today()

    # -- reference endpoints ---------------------------------------------------------------------------

    def courses(self, region_codes: list[str] | None = None) -> dict:
        wanted = {code.lower() for code in region_codes} if region_codes else None
        rows = [
            {"id": c.id, "course": c.name, "region_code": c.region_code, "region": c.region}
            for c in sorted(self.world.courses, key=lambda c: (c.region_code, c.name))
            if wanted is None or c.region_code in wanted
        ]
        return {"courses": rows, "total": len(rows)}

    @staticmethod
    def regions() -> list[dict]:
        return [dict(r) for r in REGIONS]

    def horse_pro(self, horse_id: str) -> dict | None:
        """The HorsePro profile of a racehorse, or of a sire/dam/damsire under its ``hrs_`` id."""
        try:
            number = int(horse_id.removeprefix("hrs_"))
        except ValueError:
            return None
        if not horse_id.startswith("hrs_"):
            return None
        horse = self.world.horse(number)
        if horse is not None:
            profile = self.world.profile(horse)
            age = self.today.year - horse.crop
            sex_code = horse.sex_code(max(age, 0))
            sire, dam, damsire = self._parents(horse)
            return {
                "id": horse.id,
                "breeder": profile.breeder,
                "colour": profile.colour,
                "colour_code": profile.colour_code,
                "dam": with_country(dam.name, dam.country),
                "dam_id": f"dam_{dam.number}",
                "damsire": with_country(damsire.name, damsire.country),
                "damsire_id": f"dsi_{damsire.number}",
                "dob": profile.dob.isoformat(),
                "name": with_country(profile.name, profile.country),
                "sex": SEX_WORDS[sex_code],
                "sex_code": sex_code,
                "sire": with_country(sire.name, sire.country),
                "sire_id": f"sir_{sire.number}",
            }
        parent = self.world.parent(number)
        if parent is None:
            return None
        key = mix(self.world.seed, 25, parent.number)
        sire = self.world.stallions[key % N_STALLIONS]
        dam_index = mix(key, 1) % N_MARES
        dam = self.world.mare(dam_index)
        damsire = self.world.damsire_of(dam_index)
        sex_code = "M" if parent.female else "H"
        return {
            "id": f"hrs_{parent.number}",
            "breeder": "",
            "colour": COLOUR_WORDS[parent.colour],
            "colour_code": parent.colour,
            "dam": with_country(dam.name, dam.country),
            "dam_id": f"dam_{dam.number}",
            "damsire": with_country(damsire.name, damsire.country),
            "damsire_id": f"dsi_{damsire.number}",
            "dob": parent.dob.isoformat(),
            "name": with_country(parent.name, parent.country),
            "sex": SEX_WORDS[sex_code],
            "sex_code": sex_code,
            "sire": with_country(sire.name, sire.country),
            "sire_id": f"sir_{sire.number}",
        }

    def _parents(self, horse: Horse) -> tuple[Parent, Parent, Parent]:
        return self.world.stallions[horse.sire], self.world.mare(horse.dam), self.world.damsire_of(horse.dam)

    # -- racecards -------------------------------------------------------------------------------------

    def racecards(self, day: date, at: datetime | None = None) -> list[dict]:
        """``day``'s racecards as the API shows them at ``at`` (default: the clock's now)."""
        at = at or self.clock.now()
        return [self.racecard(race, at) for race in self.world.races_on(day)]

    def racecard(self, race: Race, at: datetime | None = None) -> dict:
        at = at or self.clock.now()
        seed = self.world.seed
        withdrawn = {r.horse.number for r in race.runners if timeline.is_withdrawn(seed, race, r, at)}
        declared = [r for r in race.runners if r.horse.number not in withdrawn]
        days_ahead = (race.day - at.date()).days
        price_stamp = timeline.price_time(race, at)
        market = sorted(race.starters, key=lambda r: (r.sp_decimal, r.number))
        names_by_horse = {r.horse.number: self.world.profile(r.horse).name for r in race.runners}
        tip = names_by_horse[market[0].horse.number] if market else ""
        furlongs = half_furlongs(race.distance_y)
        card = {
            "race_id": race.race_id,
            "course": race.course.name,
            "course_id": race.course.id,
            "date": race.day.isoformat(),
            "off_time": twelve_hour(race),
            "off_dt": race.off_dt.isoformat(),
            "race_name": race.name,
            "distance_round": miles_furlongs(furlongs),
            "distance": miles_furlongs_yards(race.distance_y),
            "distance_f": f"{furlongs:.1f}",
            "region": race.region,
            "pattern": race.pattern,
            "sex_restriction": race.sex_restriction,
            "race_class": f"Class {race.race_class}",
            "type": race.type,
            "age_band": race.age_band,
            "rating_band": race.rating_band,
            "prize": f"{race.currency}{money(race.prize)}",
            "field_size": str(len(declared)),
            "going_detailed": "",
            "rail_movements": "",
            "stalls": ("Inside" if race.off_dt.minute % 2 else "Centre") if race.type == "Flat" else "",
            "weather": "",
            "going": timeline.going_at(seed, race, at),
            "surface": race.surface,
            "jumps": _jumps(race),
            "runners": [
                self._racecard_runner(race, r, r.horse.number in withdrawn, days_ahead, price_stamp)
                for r in race.runners
            ],
            "big_race": race.big_race,
            "is_abandoned": timeline.is_abandoned_at(race, at),
            "tip": tip,
            "verdict": f"{tip.upper()} is taken to come out on top." if tip else "",
            "betting_forecast": ", ".join(
                f"{fraction_text(r.sp_num, r.sp_den)} {names_by_horse[r.horse.number]}" for r in market
            ),
        }
        return card

    def _racecard_runner(
        self, race: Race, runner: Runner, non_runner: bool, days_ahead: int, price_stamp: datetime | None
    ) -> dict:
        world, horse = self.world, runner.horse
        profile = world.profile(horse)
        sire, dam, damsire = self._parents(horse)
        trainer = world.trainers[horse.trainer]
        ordinal = race.day.toordinal()
        rng = random.Random(mix(world.seed, 26, horse.number, ordinal))
        draws = [rng.random() for _ in range(12)]
        sex_code = horse.sex_code(runner.age)
        previous = world.previous_runs(horse, ordinal, 1)
        jockey, jockey_id = runner.jockey.name, runner.jockey.id
        if runner.jockey.claim:
            jockey += f"({runner.jockey.claim})"
        if non_runner:
            jockey = "NON-RUNNER" + (f"({runner.jockey.claim})" if runner.jockey.claim else "")
        elif days_ahead >= 2 and draws[0] < 0.3:
            jockey, jockey_id = "", ""
        runs_14, wins_14 = _trainer_14_days(world.seed, trainer, ordinal)
        has_form = runner.runs_before > 0
        best_rpr = (runner.official_rating or (60 if horse.code == "F" else 95)) + int(6 * draws[1])
        return {
            "horse_id": horse.id,
            "horse": profile.name,
            "dob": profile.dob.isoformat(),
            "age": str(runner.age),
            "sex": SEX_WORDS[sex_code],
            "sex_code": sex_code,
            "colour": profile.colour_code,
            "region": profile.country,
            "breeder": profile.breeder,
            "dam": dam.name,
            "dam_id": f"dam_{dam.number}",
            "dam_region": dam.country,
            "sire": sire.name,
            "sire_id": f"sir_{sire.number}",
            "sire_region": sire.country,
            "damsire": damsire.name,
            "damsire_id": f"dsi_{damsire.number}",
            "damsire_region": damsire.country,
            "trainer": trainer.name,
            "trainer_id": trainer.id,
            "trainer_location": trainer.location,
            "trainer_14_days": {
                "runs": str(runs_14),
                "wins": str(wins_14),
                "percent": str(round(100 * wins_14 / runs_14)) if runs_14 else "0",
            },
            "owner": world.owner_name(horse.owner),
            "owner_id": world.owner_id(horse.owner),
            "prev_trainers": self._prev_trainers(profile.dob, race.day, rng) if draws[2] < 0.1 else [],
            "prev_owners": self._prev_owners(profile.dob, race.day, rng) if draws[3] < 0.1 else [],
            "comment": rng.choice(names.SPOTLIGHTS),
            "spotlight": rng.choice(names.SPOTLIGHTS),
            "quotes": [],
            "stable_tour": [{"quote": rng.choice(names.STABLE_TOUR_QUOTES)}] if draws[4] < 0.05 else [],
            "medical": (
                [
                    {
                        "date": (race.day - timedelta(days=60 + rng.randrange(400))).isoformat(),
                        "type": "Wind Surgery",
                    }
                ]
                if draws[5] < 0.08
                else []
            ),
            "number": "NR" if non_runner else str(runner.number),
            "draw": str(runner.draw),
            "headgear": runner.headgear,
            "headgear_run": "1" if runner.headgear and draws[6] < 0.1 else "",
            "wind_surgery": "w" if draws[7] < 0.03 else "",
            "wind_surgery_run": "",
            "past_results_flags": rng.choice((["C"], ["D"], ["C", "D"], ["CD"]))
            if has_form and draws[8] < 0.25
            else [],
            "lbs": str(runner.weight_lbs),
            "ofr": str(runner.official_rating) if runner.official_rating is not None else "-",
            "rpr": str(best_rpr) if has_form else "-",
            "ts": str(best_rpr - 15 - rng.randrange(20)) if has_form and draws[9] < 0.8 else "-",
            "jockey": jockey,
            "jockey_id": jockey_id,
            "silk_url": silk_url(profile.silk_number),
            "last_run": str(ordinal - previous[0]) if previous else "",
            "form": world.form(horse, ordinal),
            "trainer_rtf": str(int(100 * draws[10])) if draws[11] < 0.85 else "",
            "odds": [] if non_runner or price_stamp is None else self._odds(race, runner, rng, price_stamp),
        }

    def _prev_trainers(self, dob: date, race_day: date, rng: random.Random) -> list[dict]:
        previous = rng.choice(self.world.trainers)
        return [
            {
                "trainer": previous.name,
                "trainer_id": previous.id,
                "change_date": _changed_before(dob + timedelta(days=900 + rng.randrange(400)), race_day).isoformat(),
            }
        ]

    def _prev_owners(self, dob: date, race_day: date, rng: random.Random) -> list[dict]:
        owner = rng.randrange(self.world.n_owners)
        return [
            {
                "owner": self.world.owner_name(owner),
                "owner_id": self.world.owner_id(owner),
                "change_date": _changed_before(dob + timedelta(days=800 + rng.randrange(500)), race_day).isoformat(),
            }
        ]

    def _odds(self, race: Race, runner: Runner, rng: random.Random, stamped: datetime) -> list[dict]:
        """Bookmakers' prices stamped ``stamped`` (see ``timeline.price_time``): around the SP at the off,
        further from it earlier in the market."""
        starters = len(race.starters)
        ew_places = (
            "" if starters < 5 else "2" if starters < 8 else "4" if race.handicap and starters >= 16 else "3"
        )
        ew_denom = "" if not ew_places else "4" if starters < 8 else "5"
        stamp = stamped.strftime("%Y-%m-%d %H:%M:%S")
        market = timeline.RunnerMarket(self.world.seed, race, runner)
        sp_index = fraction_index(*_market_price(race, runner))
        last = len(FRACTIONS) - 1
        centre = max(0, min(last, sp_index + market.shift(stamped)))
        count = 8 + mix(self.world.seed, 27, race.off_dt.toordinal(), race.off_dt.minute) % 20
        rows = []
        for index, bookmaker in enumerate(names.BOOKMAKERS[:count]):
            jitter = int(rng.random() * 4) - 1
            fractional, decimal = PRICE_TEXTS[max(0, min(last, centre + jitter))]
            rows.append(
                {
                    "bookmaker": bookmaker,
                    "fractional": fractional,
                    "decimal": decimal,
                    "ew_places": ew_places,
                    "ew_denom": ew_denom,
                    "updated": stamp,
                    "history": _price_history(market, sp_index, index, stamped, jitter),
                }
            )
        num, den = FRACTIONS[centre]
        exchange = decimal_text(round(((num / den + 1.0) * 1.08) * 10) / 10)
        rows.append(
            {
                "bookmaker": "Betfair Exchange",
                "fractional": exchange,
                "decimal": exchange,
                "ew_places": "",
                "ew_denom": "",
                "updated": stamp,
                "history": [],
            }
        )
        return rows

    # -- results ---------------------------------------------------------------------------------------

    def results(self, day: date) -> list[dict]:
        """Results of ``day`` newest first; abandoned races have none."""
        races = [r for r in self.world.races_on(day) if not r.abandoned]
        races.sort(key=lambda r: r.off_dt, reverse=True)
        return [self.result(race) for race in races]

    def result(self, race: Race) -> dict:
        furlongs = half_furlongs(race.distance_y)
        starters = race.starters
        finishers = sorted((r for r in starters if not r.status), key=lambda r: (r.position, r.number))
        others = sorted((r for r in starters if r.status), key=lambda r: r.number)
        winning = race.winning_time_s
        behind = winning - race.standard_time_s
        detail = f"{int(winning // 60)}m {winning % 60:.2f}s" if winning >= 60 else f"{winning:.2f}s"
        detail += f" ({'slow' if behind >= 0 else 'fast'} by {abs(behind):.2f}s)"
        non_runners = [r for r in race.runners if r.non_runner]
        return {
            "race_id": race.race_id,
            "date": race.day.isoformat(),
            "region": race.region,
            "course": race.course.name,
            "course_id": race.course.id,
            "off": twelve_hour(race),
            "off_dt": race.off_dt.isoformat(),
            "race_name": race.name,
            "type": race.type,
            "class": f"Class {race.race_class}",
            "pattern": race.pattern,
            "rating_band": race.rating_band,
            "age_band": race.age_band,
            "sex_rest": race.sex_restriction,
            "dist": miles_furlongs(furlongs),
            "dist_y": str(race.distance_y),
            "dist_m": str(round(race.distance_y * 0.9144)),
            "dist_f": f"{furlongs:g}f",
            "going": race.going,
            "surface": race.surface,
            "jumps": _jumps(race),
            "runners": [self._result_runner(race, r, i == 0) for i, r in enumerate(finishers + others)],
            "winning_time_detail": detail,
            "comments": "",
            "non_runners": ", ".join(
                f"{self.world.profile(r.horse).name} ({r.nr_reason})" for r in non_runners
            ),
            **_tote(self.world.seed, race, finishers),
        }

    def _result_runner(self, race: Race, runner: Runner, first: bool) -> dict:
        world, horse = self.world, runner.horse
        profile = world.profile(horse)
        sire, dam, damsire = self._parents(horse)
        trainer = world.trainers[horse.trainer]
        key = mix(world.seed, 28, horse.number, race.day.toordinal())
        finished = not runner.status
        sp = fraction_text(runner.sp_num, runner.sp_den) + runner.favourite
        if finished and runner.position == 1:
            comment = names.COMMENTS_WINNER[key % len(names.COMMENTS_WINNER)]
        elif finished and runner.position <= 3:
            comment = names.COMMENTS_PLACED[key % len(names.COMMENTS_PLACED)]
        elif finished:
            comment = names.COMMENTS_BEATEN[key % len(names.COMMENTS_BEATEN)]
        else:
            comment = NON_FINISHER_COMMENTS[runner.status]
        if unit(key, 1) < 0.4:
            num, den = FRACTIONS[min(len(FRACTIONS) - 1, fraction_index(runner.sp_num, runner.sp_den) + 1)]
            comment += f"(op {fraction_text(num, den)})"
        if finished:
            dead_heat = runner.dead_heat and runner.btn == 0 and not first
            btn = "dht" if dead_heat else margin(runner.btn, race.numeric_btn)
            ovr_btn = margin(runner.ovr_btn, race.numeric_btn)
            seconds_per_length = 0.2 if race.type == "Flat" else 0.25
            finish_time = race_time(race.winning_time_s + runner.ovr_btn * seconds_per_length)
        else:
            btn = ovr_btn = finish_time = "-"
        return {
            "horse_id": horse.id,
            "horse": with_country(profile.name, profile.country),
            "sp": sp,
            "sp_dec": f"{runner.sp_decimal:.2f}",
            "number": str(runner.number),
            "position": str(runner.position) if finished else runner.status,
            "draw": str(runner.draw),
            "btn": btn,
            "ovr_btn": ovr_btn,
            "age": str(runner.age),
            "sex": horse.sex_code(runner.age),
            "weight": stones_pounds(runner.weight_lbs),
            "weight_lbs": str(runner.weight_lbs),
            "headgear": runner.headgear,
            "time": finish_time,
            "or": str(runner.official_rating) if runner.official_rating is not None else "–",
            "rpr": str(runner.rpr) if runner.rpr is not None else "–",
            "tsr": str(runner.tsr) if runner.tsr is not None else "–",
            "prize": f"{runner.prize_won:.2f}" if runner.prize_won else "",
            "jockey": runner.jockey.name,
            "jockey_claim_lbs": str(runner.jockey.claim),
            "jockey_id": runner.jockey.id,
            "trainer": trainer.name,
            "trainer_id": trainer.id,
            "owner": world.owner_name(horse.owner),
            "owner_id": world.owner_id(horse.owner),
            "sire": with_country(sire.name, sire.country),
            "sire_id": f"sir_{sire.number}",
            "dam": with_country(dam.name, dam.country),
            "dam_id": f"dam_{dam.number}",
            "damsire": damsire.name,
            "damsire_id": f"dsi_{damsire.number}",
            "comment": comment,
            "silk_url": silk_url(profile.silk_number),
        }


def _market_price(race: Race, runner: Runner) -> tuple[int, int]:
    """The runner's SP; a non-runner (priced until withdrawn) takes that of the starter closest in strength."""
    if not runner.non_runner or not race.starters:
        return runner.sp_num, runner.sp_den
    twin = min(race.starters, key=lambda r: (abs(r.strength - runner.strength), r.number))
    return twin.sp_num, twin.sp_den


def _jumps(race: Race) -> str:
    furlongs = race.distance_y / 220
    if race.type == "Hurdle":
        return f"{max(7, int(furlongs / 2))} hurdles"
    if race.type == "Chase":
        return f"{max(11, int(furlongs * 0.75))} fences"
    return ""


def _changed_before(day: date, race_day: date) -> date:
    """A change of trainer or owner a card reports happened before the race (a young horse's came early)."""
    return min(day, race_day - timedelta(days=1))


def _trainer_14_days(seed: int, trainer: Person, ordinal: int) -> tuple[int, int]:
    key = mix(seed, 29, int(trainer.id[4:]), ordinal)
    runs = key % 30
    rate = max(0.02, min(0.45, 0.12 + 0.12 * trainer.skill))
    wins = min(runs, max(0, round(runs * rate + (unit(key, 1) - 0.5) * 3)))
    return runs, wins


def _tote(seed: int, race: Race, finishers: list[Runner]) -> dict:
    if not finishers:
        return {
            k: "" for k in ("tote_win", "tote_pl", "tote_ex", "tote_csf", "tote_tricast", "tote_trifecta")
        }
    key = mix(seed, 31, race.day.toordinal(), race.off_dt.hour, race.off_dt.minute)
    symbol = race.currency
    starters = len(race.starters)
    places = 1 if starters < 5 else 2 if starters < 8 else 4 if race.handicap and starters >= 16 else 3
    winner = finishers[0].sp_decimal * (0.85 + 0.3 * unit(key, 1))
    place_pays = [
        1 + (r.sp_decimal - 1) / (4 + 2 * unit(key, 2 + i)) for i, r in enumerate(finishers[:places])
    ]
    exacta = winner * (finishers[1].sp_decimal if len(finishers) > 1 else 1) * 0.8
    tricast = exacta * (finishers[2].sp_decimal if len(finishers) > 2 else 1) * 0.7
    return {
        "tote_win": f"{symbol}{winner:.2f}",
        "tote_pl": " ".join(f"{symbol}{p:.2f}" for p in place_pays),
        "tote_ex": f"{symbol}{exacta:.2f}",
        "tote_csf": f"{symbol}{exacta * 0.9:.2f}",
        "tote_tricast": f"{symbol}{tricast:.2f}" if race.handicap and starters >= 8 else "",
        "tote_trifecta": f"{symbol}{tricast * 1.1:.2f}" if len(finishers) > 2 else "",
    }


def _price_history(market: timeline.RunnerMarket, sp_index: int, bookmaker: int, stamped: datetime,
                   jitter: int) -> list[dict]:
    """The bookmaker's earlier prices (`RunnerMarket.history_stamps`), each where the market stood then
    (`sp_index`: the SP's step on the odds ladder)."""
    last = len(FRACTIONS) - 1
    rows = []
    for earlier in market.history_stamps(bookmaker, stamped):
        fractional, decimal = PRICE_TEXTS[max(0, min(last, sp_index + market.shift(earlier) + jitter))]
        rows.append({"fractional": fractional, "decimal": decimal, "updated": earlier.strftime("%Y-%m-%d %H:%M:%S")})
    return rows
