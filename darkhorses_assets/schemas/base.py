"""Shared pieces of the clean-table models: allowed codes, base configs, check bodies.

Every clean table has two pandera models:

* ``<Table>Hard`` — columns present with their exact dtypes, keys non-null and unique (``Config.unique``),
  codes from a closed set. A row failing any of these is quarantined (``darkhorses_assets.schemas.validation``).
  The columns and dtypes come from the transform's schema constant (``typed_columns``), so the model
  cannot drift from what the transform produces; the model adds only the rules.
* ``<Table>Soft`` — plausibility ranges. A failure is reported (asset check at WARN); the row stays clean.

Soft models are validated on rows that already passed the hard model, so they only declare the columns
they range-check (with the same dtypes) and never repeat a hard rule.
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl
from pandera.api.polars.model_config import BaseConfig

from darkhorses_assets.transforms._frames import Schema
from darkhorses_assets.transforms.parsing import CURRENCIES, FINISHED, NON_FINISH_CODES, SEX_CODES

REGIONS = ("GB", "IRE")
FINISH_STATUSES = (FINISHED, *NON_FINISH_CODES)
"""``FIN`` for a numbered finisher, else a known position code (``parsing.NON_FINISH_CODES``)."""
SP_FAVOURITES = ("F", "J", "C")
SEX_CODE_VALUES = tuple(sorted(SEX_CODES))
CURRENCY_CODES = CURRENCIES
"""Currencies a clean money column may be in (GBP for GB, EUR for IRE)."""
LAST_RUN_CODES = ("F", "H", "C")
"""Codes in a racecard `last_run` bracket: flat, hurdle, chase."""


COLUMN_DESCRIPTIONS: dict[str, str] = {
    # keys and identity
    "race_id": "The Racing API's race id (`rac_…`).",
    "race_date": "UK race day (Europe/London) the race is run on: the daily partition key.",
    "horse_id": "The Racing API's horse id (`hrs_…`).",
    "horse": "Horse name as displayed, with its country suffix when given (\"Frankel (GB)\").",
    "horse_name": "Horse name without the country suffix.",
    "horse_country": "Country suffix of the horse's name (GB, IRE, FR, …); null when none is given.",
    "number": "Saddle-cloth number; null for a non-runner.",
    "draw": "Stall number (flat races); null when there are no stalls.",
    # race
    "off_dt": "Scheduled off time as a UTC timestamp.",
    "course_id": "The Racing API's course id (`crs_…`).",
    "course": "Course name.",
    "region": "Region of the race or course: GB or IRE.",
    "region_code": "Region code of the course: GB or IRE.",
    "race_name": "Race title as published.",
    "type": "Race type: Flat, Hurdle, Chase or NH Flat.",
    "race_class": "Race class 1 (best) to 7; null when unclassed (e.g. Irish races).",
    "pattern": "Pattern / grade of the race (Group 1, Grade 2, Listed, …); null for ordinary races.",
    "age_band": "Ages allowed to run (\"3yo+\").",
    "rating_band": "Official rating band of a handicap (\"0-95\").",
    "sex_restriction": "Sexes allowed to run, when restricted (fillies and mares, …).",
    "distance_yards": "Race distance in yards.",
    "distance_m": "Race distance in metres.",
    "distance_f": "Race distance in furlongs (from the yards: 2m53y → 16.24).",
    "going": "Official going description (Good, Good To Soft, Standard, …).",
    "going_group": "Going grouped into firm / good / soft / heavy / all-weather bands for features.",
    "going_detailed": "Detailed going statement from the racecard (per course section).",
    "surface": "Racing surface: Turf or AW (all-weather).",
    "jumps": "Number of obstacles jumped; null for flat races.",
    "is_handicap": "True when the race is a handicap.",
    "has_racecard": "True when a racecard for the race was loaded.",
    "has_result": "True when a result for the race was loaded.",
    "declared_runners": "Runners declared on the racecard (field size given by the card).",
    "declared_race_class": "Race class on the racecard (before the off; `race_class` prefers the result's).",
    "declared_distance_f": "Distance in furlongs on the racecard (before the off; `distance_f` prefers the result's).",
    "declared_going": "Going on the racecard (before the off; `going` prefers the result's, the official one).",
    "declared_going_group": "`declared_going` grouped into firm / good / soft / heavy / all-weather bands.",
    "declared_surface": "Surface on the racecard: Turf or AW (before the off; `surface` prefers the result's).",
    "field_size": "Runners in the race: from the card, or counted from its runners when the card says 0.",
    "ran": "Runners that ran, from the result.",
    "prize": "Prize fund of the race (winner's prize as published), in `prize_currency`.",
    "prize_currency": "Currency of `prize`: GBP or EUR.",
    "big_race": "True when the racecard flags a big race.",
    "is_abandoned": "True when the race was abandoned.",
    "weather": "Weather reported on the racecard.",
    "rail_movements": "Rail movements reported on the racecard (they change the distance run).",
    "stalls": "Stalls position (\"Inside\", \"Centre\", …).",
    "tip": "Racing Post tip for the race (pro racecard).",
    "verdict": "Racing Post verdict on the race (pro racecard).",
    "betting_forecast": "Betting forecast text of the racecard.",
    "betting_forecast_prices": "Betting forecast parsed into horse and price pairs.",
    "winning_time_s": "Winner's finishing time in seconds.",
    "winning_time_vs_standard_s": "Seconds the winner was slower (+) or faster (−) than the course's standard time.",
    "comments": "Race comments from the result.",
    "tote_win": "Tote win dividend per unit stake, in `tote_win_currency`.",
    "tote_win_currency": "Currency of `tote_win`: GBP or EUR.",
    "tote_pl": "Tote place dividends as published (text, one per placed horse).",
    "tote_pl_amounts": "Tote place dividends as numbers, one per place paid, in `tote_pl_currency`.",
    "tote_pl_currency": "Currency of `tote_pl_amounts`: GBP or EUR.",
    "tote_ex": "Tote exacta dividend, in `tote_ex_currency`.",
    "tote_ex_currency": "Currency of `tote_ex`: GBP or EUR.",
    "tote_csf": "Computer straight forecast dividend, in `tote_csf_currency`.",
    "tote_csf_currency": "Currency of `tote_csf`: GBP or EUR.",
    "tote_tricast": "Tricast dividend, in `tote_tricast_currency`.",
    "tote_tricast_currency": "Currency of `tote_tricast`: GBP or EUR.",
    "tote_trifecta": "Tote trifecta dividend, in `tote_trifecta_currency`.",
    "tote_trifecta_currency": "Currency of `tote_trifecta`: GBP or EUR.",
    # runner declaration
    "is_non_runner": "True when the racecard marks the horse as a non-runner (NR).",
    "weight_lbs": "Weight carried in pounds.",
    "age": "Horse's age in years on the race day.",
    "sex_code": "Sex code: C colt, F filly, G gelding, H horse, M mare, R rig.",
    "headgear": "Headgear worn (b blinkers, p cheekpieces, t tongue strap, v visor, h hood; 1 = first time).",
    "jockey_id": "The Racing API's jockey id (`jky_…`).",
    "jockey_name": "Jockey name.",
    "jockey_claim_lbs": "Apprentice / conditional jockey's weight allowance in pounds.",
    "trainer_id": "The Racing API's trainer id (`trn_…`).",
    "trainer_name": "Trainer name.",
    "trainer_location": "Where the trainer is based.",
    "owner_id": "The Racing API's owner id (`own_…`).",
    "owner_name": "Owner name.",
    "official_rating": "Official (handicap) rating (OR) on the race day.",
    "rpr": "Racing Post Rating.",
    "ts": "Topspeed rating before the race.",
    "tsr": "Topspeed rating achieved in the race.",
    "form": "Recent form figures as on the racecard (latest last).",
    "days_since_last_run": "Days since the horse's last run under any code (the nearer of the two `last_run` numbers).",
    "days_since_last_run_this_code": "Days since the last run under this race's code (flat / jumps).",
    "days_since_last_run_other_code": "Days since the last run under the other code, when the card gives one.",
    "last_run_other_code": "Code of that other run: F flat, H hurdle, C chase.",
    "silk_url": "URL of the owner's silks image.",
    "sire_id": "The Racing API's id of the sire (father).",
    "sire_name": "Sire's name.",
    "sire_country": "Country suffix of the sire's name.",
    "dam_id": "The Racing API's id of the dam (mother).",
    "dam_name": "Dam's name.",
    "dam_country": "Country suffix of the dam's name.",
    "damsire_id": "The Racing API's id of the damsire (the dam's father).",
    "damsire_name": "Damsire's name.",
    "damsire_country": "Country suffix of the damsire's name.",
    "dob": "Date of birth.",
    "colour": "Coat colour (bay, chestnut, grey, …).",
    "colour_code": "Coat colour code (b, ch, gr, …).",
    "breeder": "Breeder's name.",
    "trainer_14_days_runs": "Trainer's runners in the last 14 days, as on the racecard.",
    "trainer_14_days_wins": "Trainer's winners in the last 14 days, as on the racecard.",
    "trainer_14_days_percent": "Trainer's strike rate (%) in the last 14 days, as on the racecard.",
    "trainer_rtf": "Trainer's 'running to form' percentage, as on the racecard.",
    "comment": "Racing Post comment on the runner.",
    "spotlight": "Racing Post Spotlight preview of the runner.",
    "headgear_run": "How many runs the horse has had in its current headgear (1 = first time).",
    "wind_surgery": "True when the card flags a wind operation since the last run.",
    "wind_surgery_run": "Runs since the wind operation.",
    "past_results_flags": "The card's course / distance / beaten-favourite flags as given (C, D, CD, BF).",
    "course_winner": "True when the horse has won at this course before.",
    "distance_winner": "True when the horse has won over this distance before.",
    "course_and_distance_winner": "True when the horse has won at this course over this distance.",
    "beaten_favourite": "True when the horse was a beaten favourite last time out.",
    "stable_tour": "Quotes about the horse from stable tours.",
    "quotes": "Trainer / jockey quotes about the horse in earlier races (date, race, course, distance, quote).",
    "medical": "Medical history entries (date, type).",
    "prev_trainers": "Earlier trainers with the date of each change.",
    "prev_owners": "Earlier owners with the date of each change.",
    # results
    "finish_position": "Finishing position (1 = winner); null for a horse that did not finish.",
    "finish_status": "FIN for a numbered finisher, else the non-finish code (PU pulled up, F fell, UR unseated, …).",
    "dead_heat": "True when the horse dead-heated for its position.",
    "btn_lengths": "Lengths beaten by the horse in front.",
    "ovr_btn_lengths": "Lengths beaten by the winner (overall).",
    "cum_btn_lengths": "Cumulative lengths behind the winner, summed from the beaten distances.",
    "sp_fraction": "Starting price as a fraction (\"85/40\").",
    "sp_decimal": "Starting price as decimal odds, exact from the fraction (85/40 → 3.125).",
    "sp_favourite": "Favourite marker of the SP: F favourite, J joint, C co-favourite.",
    "finish_time_s": "Horse's finishing time in seconds.",
    "prize_won": "Prize money won by the horse, in `prize_won_currency`.",
    "prize_won_currency": "Currency of `prize_won`: GBP or EUR.",
    "weight_lbs_mismatch": "True when the stones-pounds weight and the pounds given disagree.",
    "reason": "Reason the horse was withdrawn, as given in the result.",
    # odds
    "bookmaker": "Bookmaker quoting the price.",
    "fractional": "Price as a fraction (\"5/2\").",
    "decimal": "Price as decimal odds.",
    "ew_places": "Each-way places the bookmaker pays.",
    "ew_denom": "Each-way fraction denominator (4 = 1/4 the odds).",
    "updated": "When the bookmaker's price was last updated (UTC).",
    "history": "Earlier prices of the same bookmaker (fractional, decimal, updated).",
    # courses
    "course_key": "Normalised course name used to match coordinates.",
    "latitude": "Course latitude (WGS84), from the bundled course list; null when unmatched.",
    "longitude": "Course longitude (WGS84), from the bundled course list; null when unmatched.",
    # dimensions
    "first_seen": "First race day the entity appears in clean runners or results.",
    "last_seen": "Latest race day the entity appears in clean runners or results.",
    "appearances": "Runs (racecard or result rows) the entity appears in.",
    # raw
    "fetched_at": "When the API answered (UTC).",
    "request": "The request: API path and params (never credentials), as JSON.",
    "payload": "The API's JSON for this row, verbatim.",
    "raw_text": "Body of an answer that could not be parsed; null otherwise.",
    "parse_error": "Why the answer could not be parsed; null otherwise.",
    "status": "HTTP status of the answer (404: the API does not know the horse).",
    # quarantine
    "table": "Clean table the quarantined row was meant for.",
    "source_asset": "Raw asset the row was parsed from.",
    "row_key": "Readable key of the row (race_id=rac_1|horse_id=hrs_2).",
    "reasons": "Every hard rule the row broke.",
    "raw_json": "The raw JSON fragment the row was parsed from.",
}
"""What each clean column means, by column name (a name means the same in every table). `typed_columns` puts
it on the pandera field as its description; `darkhorses_assets.column_schemas` shows it in the Dagster UI."""
PAST_RESULTS_FLAGS = ("C", "D", "CD", "BF")
"""Pro-card `past_results_flags`: course winner, distance winner, course and distance winner, beaten favourite."""


class HardConfig(BaseConfig):
    """Extra columns (e.g. ``raw_json``) are allowed; dtypes must match exactly (no coercion)."""

    strict = False
    coerce = False


class SoftConfig(BaseConfig):
    strict = False
    coerce = False


def is_one_of(data: pa.PolarsData, codes: tuple[str, ...]) -> pl.LazyFrame:
    """Check body: the value is one of ``codes`` (nulls are governed by the column's ``nullable``)."""
    return data.lazyframe.select(pl.col(data.key).is_in(codes))


def typed_columns(name: str, schema: Schema, base: type[pa.DataFrameModel] = pa.DataFrameModel) -> type:
    """A model declaring every column of ``schema`` as nullable with its exact dtype, on top of ``base``.

    Subclasses override the fields that carry rules (``race_id: str = pa.Field(nullable=False)``)."""
    namespace = {
        "__module__": __name__,
        "__annotations__": dict(schema),
        **{column: pa.Field(nullable=True, description=COLUMN_DESCRIPTIONS.get(column)) for column in schema},
    }
    return type(name, (base,), namespace)


def amounts_have_currency(data: pa.PolarsData, pairs: dict[str, str]) -> pl.LazyFrame:
    """Check body: every money amount present (``pairs``: amount column -> its currency column) has its
    currency, so no number is ever read in the wrong currency."""
    has_currency = [pl.col(amount).is_null() | pl.col(currency).is_not_null() for amount, currency in pairs.items()]
    return data.lazyframe.select(pl.all_horizontal(has_currency))
