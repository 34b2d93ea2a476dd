"""Column-expression builders for every quirk of the Racing API payloads (strings everywhere, "" for missing).

Each public function takes a column name (or an expression yielding the raw text) and returns a
``pl.Expr``; nothing here raises on a bad value - an unparseable value becomes null. Every Racing
API scalar arrives as text (`"8"`, `"4.50"`, `""`), so the builders all start from text.

Builders reference their input once wherever possible (regex, `replace`, struct fields evaluated
inside `struct.with_fields`): polars does not share a sub-expression used twice in `when/then`, so
nesting builders that each reuse their input multiplies the work exponentially.
"""

from __future__ import annotations

import polars as pl

IntoExpr = str | pl.Expr

NULL_TOKENS: tuple[str, ...] = ("", "-", "–", "—", "N/A", "n/a")
"""Texts that mean "missing" (after stripping whitespace); they become null, never 0."""

FINISHED = "FIN"
NO_PLACING = "NP"
NON_FINISH_CODES: dict[str, str] = {
    "PU": "pulled up",
    "F": "fell",
    "UR": "unseated rider",
    "BD": "brought down",
    "RO": "ran out",
    "SU": "slipped up",
    "REF": "refused",
    "RR": "refused to race",
    "DSQ": "disqualified",
    "LFT": "left at start",
    "CO": "carried out",
    "VOI": "void race",
    NO_PLACING: 'no placing: position "0"/"00", unplaced or did not finish with no code given',
}
"""Known non-finishing `position` codes (`finish_status` values other than FIN). All but NP are the
API's own codes; NP is ours for a zero position (see `finish_status`). Unknown codes are still kept,
upper-cased, as the status (the results hard model then quarantines the row)."""

BEATEN_DISTANCE_WORDS: dict[str, float] = {
    "dht": 0.0,
    "nse": 0.02,
    "nose": 0.02,
    "sh": 0.1,
    "shd": 0.1,
    "s.h.": 0.1,
    "snk": 0.2,
    "hd": 0.2,
    "head": 0.2,
    "nk": 0.3,
    "neck": 0.3,
    "dist": 30.0,
}
"""Lengths for the word forms of `btn`/`ovr_btn`."""

UNICODE_FRACTIONS: dict[str, str] = {"¼": ".25", "½": ".5", "¾": ".75"}

SEX_WORD_CODES: dict[str, str] = {
    "gelding": "G",
    "mare": "M",
    "filly": "F",
    "colt": "C",
    "horse": "H",
    "stallion": "H",
    "rig": "R",
    "ridgling": "R",
}
SEX_CODES: frozenset[str] = frozenset(SEX_WORD_CODES.values())

GOING_ABBREVIATIONS: dict[str, str] = {
    "gd": "good",
    "fm": "firm",
    "sft": "soft",
    "hvy": "heavy",
    "yld": "yielding",
    "std": "standard",
    "slw": "slow",
}

GOING_GROUPS: dict[str, str] = {
    "Hard": "firm",
    "Firm": "firm",
    "Good To Firm": "firm",
    "Good": "good",
    "Good To Yielding": "good",
    "Yielding": "soft",
    "Yielding To Soft": "soft",
    "Good To Soft": "soft",
    "Soft": "soft",
    "Soft To Heavy": "heavy",
    "Very Soft": "heavy",
    "Heavy": "heavy",
    "Fast": "standard",
    "Standard To Fast": "standard",
    "Standard": "standard",
    "Standard To Slow": "standard",
    "Slow": "standard",
}
"""Canonical going (see `going`) -> coarse group. Turf goings fall in firm/good/soft/heavy by how
much give there is (Irish "Yielding" sits with Good To Soft); every all-weather going is "standard".
A going not listed here gets a null group."""

SURFACES: dict[str, str] = {
    "turf": "Turf",
    "aw": "AW",
    "a/w": "AW",
    "all weather": "AW",
    "all-weather": "AW",
    "polytrack": "AW",
    "tapeta": "AW",
    "fibresand": "AW",
}

CURRENCY_SYMBOLS: dict[str, str] = {"£": "GBP", "€": "EUR", "$": "USD"}
CURRENCIES: tuple[str, ...] = ("GBP", "EUR")
"""Currencies of GB/IRE money: the only ones a clean money column may carry."""
REGION_CURRENCIES: dict[str, str] = {"GB": "GBP", "IRE": "EUR"}
"""Currency a race's prize and tote pays are in when the text carries no symbol (results give a runner's
prize as a bare "4187.20"): British racing pays in pounds, Irish in euros."""

LONDON = "Europe/London"
UTC = "UTC"

_COUNTRY_SUFFIX = r" \(([A-Z]{2,3})\)$"
_JOCKEY_CLAIM = r"\((\d+)\)\s*$"
_SP_MARKER = r"\s*(JF|CF|F|J|C)$"
_RACE_TIME = r"^(?:(\d+)\s*[:m]\s*)?(\d+(?:\.\d*)?)\s*s?(?:\s.*|\(.*)?$"
_DISTANCE = r"^(?:(\d+)\s*m)?\s*(?:(\d*)(½)?\s*f)?\s*(?:(\d+)\s*y)?$"
EVENS_WORDS = ("Evs", "Evens", "Even", "EVS", "EVENS", "evs", "evens")
_POSITIVE_INT = r"^\+?0*([1-9]\d*)(?:\.0*)?$"
_INFINITIES = [float("inf"), float("-inf")]


def _col(column: IntoExpr) -> pl.Expr:
    return pl.col(column) if isinstance(column, str) else column


def nullify_empty(column: IntoExpr) -> pl.Expr:
    """Stripped text, with "", "-", "–", "N/A" (see NULL_TOKENS) turned into null."""
    return _col(column).cast(pl.String).str.strip_chars().replace(list(NULL_TOKENS), None)


def upper_text(column: IntoExpr) -> pl.Expr:
    return nullify_empty(column).str.to_uppercase()


def to_float(column: IntoExpr) -> pl.Expr:
    """Float from text; anything not a finite number (including NaN/inf) becomes null."""
    return nullify_empty(column).cast(pl.Float64, strict=False).fill_nan(None).replace(_INFINITIES, None)


def to_int(column: IntoExpr, dtype: pl.DataType = pl.Int32) -> pl.Expr:
    """Integer from text ("8", "8.0"); fractional or non-numeric text becomes null, never 0."""
    whole = nullify_empty(column).str.replace(r"\.0*$", "")
    return whole.str.to_integer(strict=False).cast(dtype, strict=False)


def to_bool(column: IntoExpr) -> pl.Expr:
    """JSON booleans arrive as "true"/"false"; "1"/"0"/"yes"/"no" are accepted too."""
    mapping = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False}
    return (
        nullify_empty(column)
        .str.to_lowercase()
        .replace_strict(mapping, default=None, return_dtype=pl.Boolean)
    )


def to_date(column: IntoExpr) -> pl.Expr:
    return nullify_empty(column).str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)


def draw_number(column: IntoExpr) -> pl.Expr:
    """Stall draw; "0" (jump races) and "" both mean no draw -> null."""
    return positive_int(column)


def positive_int(column: IntoExpr) -> pl.Expr:
    """Integer > 0 from text; "0", negatives and non-numbers become null."""
    digits = nullify_empty(column).str.extract(_POSITIVE_INT, 1)
    return digits.str.to_integer(strict=False).cast(pl.Int32, strict=False)


# --- names -----------------------------------------------------------------------------------


def name_without_country(column: IntoExpr) -> pl.Expr:
    """ "Create (IRE)" -> "Create"; a name without suffix is returned unchanged."""
    return nullify_empty(nullify_empty(column).str.replace(_COUNTRY_SUFFIX, ""))


def country_of_name(column: IntoExpr) -> pl.Expr:
    """ "Create (IRE)" -> "IRE"; null when the name has no `(XX)`/`(XXX)` suffix."""
    return nullify_empty(column).str.extract(_COUNTRY_SUFFIX, 1)


def split_name_country(column: IntoExpr) -> pl.Expr:
    """Struct {name, country} from a display name such as "Create (IRE)"."""
    return pl.struct(name=name_without_country(column), country=country_of_name(column))


def jockey_claim_lbs(column: IntoExpr) -> pl.Expr:
    """Claim from a racecard jockey name: "Luke Scott(3)" -> 3; null when no "(n)" suffix."""
    return nullify_empty(column).str.extract(_JOCKEY_CLAIM, 1).cast(pl.Int32, strict=False)


def jockey_name(column: IntoExpr) -> pl.Expr:
    """Jockey name without the claim suffix; the "NON-RUNNER(n)" placeholder becomes null."""
    without_claim = nullify_empty(column).str.replace(r"\s*" + _JOCKEY_CLAIM, "")
    return nullify_empty(without_claim.str.replace(r"(?i)^NON-RUNNER\b.*$", ""))


def sex_code(column: IntoExpr) -> pl.Expr:
    """One-letter sex code from a word ("gelding" -> "G") or an existing code ("g" -> "G")."""
    mapping = {**SEX_WORD_CODES, **{code.lower(): code for code in SEX_CODES}}
    return (
        nullify_empty(column).str.to_lowercase().replace_strict(mapping, default=None, return_dtype=pl.String)
    )


def headgear(column: IntoExpr) -> pl.Expr:
    """Lower-case headgear code with inner whitespace removed: "p", "tp", "e/s", "h"."""
    return nullify_empty(nullify_empty(column).str.to_lowercase().str.replace_all(r"\s+", ""))


# --- prices ----------------------------------------------------------------------------------


def _sp_price_text(column: IntoExpr) -> pl.Expr:
    return nullify_empty(nullify_empty(column).str.replace(_SP_MARKER, ""))


def _struct_value(parts: pl.Expr, value: pl.Expr) -> pl.Expr:
    """Evaluate `value` (written with `pl.field`) over the struct `parts`, which is computed once."""
    return parts.struct.with_fields(_value=value).struct.field("_value")


def fraction_to_decimal(column: IntoExpr) -> pl.Expr:
    """Decimal odds from fractional text: "9/4" -> 3.25, "Evs"/"Evens" -> 2.0; anything else null."""
    evens_as_fraction = {word: "1/1" for word in EVENS_WORDS}
    parts = nullify_empty(column).replace(evens_as_fraction).str.split_exact("/", 1)
    ratio = pl.field("field_0").cast(pl.Float64, strict=False) / pl.field("field_1").cast(
        pl.Float64, strict=False
    )
    return _struct_value(parts, ratio + 1.0).fill_nan(None).replace(_INFINITIES, None)


_FORECAST_ITEM = r"^\s*(?:(\d+/\d+|(?i:evs|evens?))\s+)?(.*?)\s*$"


def betting_forecast_prices(column: IntoExpr) -> pl.Expr:
    """The card's betting forecast as a list of {horse_name, fractional, decimal} in the card's order.

    "15/8 Ride Like A Girl, 7/2 Lady Kara, 5/1 Border Gem,  Ninna Collina" lists Ninna Collina at 5/1 too: a
    name without a price shares the price before it. Names lose a country suffix, as in `horse_name`."""
    items = nullify_empty(column).str.split(",")
    priced = items.list.eval(
        pl.struct(
            horse_name=name_without_country(pl.element().str.extract(_FORECAST_ITEM, 2)),
            fractional=pl.element().str.extract(_FORECAST_ITEM, 1).forward_fill(),
        ).filter(pl.element().str.extract(_FORECAST_ITEM, 2).str.strip_chars() != "")
    )
    return priced.list.eval(
        pl.struct(
            horse_name=pl.element().struct.field("horse_name"),
            fractional=pl.element().struct.field("fractional"),
            decimal=fraction_to_decimal(pl.element().struct.field("fractional")),
        )
    )


def sp_fraction(column: IntoExpr) -> pl.Expr:
    """Starting price without the favourite marker: "7/2J" -> "7/2"; evens forms -> "Evs"."""
    return _sp_price_text(column).replace(dict.fromkeys(EVENS_WORDS, "Evs"))


def sp_favourite(column: IntoExpr) -> pl.Expr:
    """Favourite marker of a starting price: "11/10F" -> "F", "7/2J" -> "J", "5/1C"/"5/1CF" -> "C"."""
    marker = nullify_empty(column).str.extract(_SP_MARKER, 1)
    return marker.replace_strict({"JF": "J", "CF": "C", "F": "F", "J": "J", "C": "C"}, default=None)


def sp_decimal(sp: IntoExpr, sp_dec: IntoExpr | None = None) -> pl.Expr:
    """Decimal SP, exact from the fraction in `sp` plus one ("85/40" -> 3.125, "5/6" -> 1.8333...,
    "100/30" -> 4.3333...); the API's `sp_dec`, rounded to two places ("4.33"), only when the
    fraction is unreadable and `sp_dec` is a valid price (> 1)."""
    from_fraction = fraction_to_decimal(_sp_price_text(sp))
    if sp_dec is None:
        return from_fraction
    given = to_float(sp_dec)
    return pl.coalesce(from_fraction, pl.when(given > 1.0).then(given))


def odds_decimal(decimal: IntoExpr, fractional: IntoExpr | None = None) -> pl.Expr:
    """Bookmaker decimal price; "-", "SP" and other non-prices become null. Falls back to the
    fractional price when the decimal one is missing."""
    given = to_float(decimal)
    valid = pl.when(given >= 1.0).then(given)
    if fractional is None:
        return valid
    return pl.coalesce(valid, fraction_to_decimal(fractional))


def money_amount(column: IntoExpr) -> pl.Expr:
    """ "£4,193" -> 4193.0, "4187.20" -> 4187.2, "€7080" -> 7080.0; the currency goes in its own
    column (see `money_currency`), never mixed into the number."""
    return to_float(nullify_empty(column).str.replace_all(r"[£€$,\s]", ""))


def money_currency(column: IntoExpr, default: IntoExpr | None = None) -> pl.Expr:
    """ISO currency of a money text from its symbol ("£" -> "GBP", "€" -> "EUR"). A text without a
    symbol takes `default` (e.g. `region_currency("region")`); null when there is no amount."""
    text = nullify_empty(column)
    symbol = text.str.extract(r"([£€$])", 1)
    currency = symbol.replace_strict(CURRENCY_SYMBOLS, default=None, return_dtype=pl.String)
    if default is not None:
        currency = pl.coalesce(currency, _col(default))
    return pl.when(text.str.contains(r"\d")).then(currency)


def region_currency(region: IntoExpr) -> pl.Expr:
    """Currency of a race's money by its region (GB -> GBP, IRE -> EUR, see REGION_CURRENCIES)."""
    return region_code(region).replace_strict(REGION_CURRENCIES, default=None, return_dtype=pl.String)


def money_amounts(column: IntoExpr) -> pl.Expr:
    """Every amount in a multi-pay money text, in order: tote place pays "£6.90 £1.60" -> [6.9, 1.6],
    "€2 €1.50 €3" -> [2.0, 1.5, 3.0]; "" -> null."""
    amounts = nullify_empty(column).str.extract_all(r"\d[\d,]*(?:\.\d+)?")
    as_floats = amounts.list.eval(pl.element().str.replace_all(",", "").cast(pl.Float64, strict=False))
    return pl.when(amounts.list.len() > 0).then(as_floats)


# --- finishing -------------------------------------------------------------------------------


_POSITION_DIGITS = r"^=?(\d+)=?$"
"""A numeric position text, with an optional dead-heat mark: "3", "=3", "3="."""
_FINISHER_POSITION = r"^=?0*[1-9]\d*=?$"
_ZERO_POSITION = r"^=?0+=?$"
_DEAD_HEAT_POSITION = r"^(?:=0*[1-9]\d*=?|0*[1-9]\d*=)$"


def finish_position(column: IntoExpr) -> pl.Expr:
    """Numeric finishing position ("1", "=3", "3=" -> 3); codes ("PU"), "0", "-1" become null."""
    return positive_int(nullify_empty(column).str.extract(_POSITION_DIGITS, 1))


def finish_status(column: IntoExpr) -> pl.Expr:
    """ "FIN" for a position >= 1, otherwise the upper-cased code ("PU", "UR", ... or unknown).

    A zero position ("0", "00") is a runner the API gave no placing (unplaced, or did not finish
    with no code recorded): it has no finishing position, so its status is NO_PLACING ("NP"), never
    FIN. Any other non-position text - "-1", "1.5", "XYZ" - is kept upper-cased as an unknown code."""
    status = upper_text(column).str.replace(_FINISHER_POSITION, FINISHED)
    return status.str.replace(_ZERO_POSITION, NO_PLACING)


def position_marks_dead_heat(column: IntoExpr) -> pl.Expr:
    """True when the position text is a finishing position carrying a dead-heat mark ("=1", "1=")."""
    return nullify_empty(column).str.contains(_DEAD_HEAT_POSITION)


def beaten_lengths(column: IntoExpr) -> pl.Expr:
    """Lengths beaten: ".75" -> 0.75, "1¾" -> 1.75, "nk" -> 0.3, "dist" -> 30, "-" -> null."""
    words_as_numbers = {word: str(lengths) for word, lengths in BEATEN_DISTANCE_WORDS.items()}
    text = nullify_empty(column).str.to_lowercase().str.replace_all(r"\s+", "").replace(words_as_numbers)
    return to_float(text.str.replace_many(list(UNICODE_FRACTIONS), list(UNICODE_FRACTIONS.values())))


def finish_time_s(column: IntoExpr) -> pl.Expr:
    """Seconds from a race time: "1:43.25" -> 103.25, "0:58.12", "58.12", and the result-level
    `winning_time_detail` form "1m 43.25s (slow by 5.55s)" -> 103.25. "-" -> null."""
    parts = nullify_empty(column).str.extract_groups(_RACE_TIME)
    minutes = pl.field("1").cast(pl.Float64, strict=False).fill_null(0.0)
    return _struct_value(parts, minutes * 60.0 + pl.field("2").cast(pl.Float64, strict=False))


def time_versus_standard_s(column: IntoExpr) -> pl.Expr:
    """Signed seconds against the course standard time from `winning_time_detail`: positive when
    slower, negative when faster. "1m 43.25s (slow by 5.55s)" -> 5.55, "(fast by 0.6s)" -> -0.6,
    "(standard time)" -> 0.0; null when the text gives no comparison."""
    text = nullify_empty(column).str.to_lowercase()
    parts = text.str.extract_groups(r"\b(slow|fast)\s+by\s+(\d+(?:\.\d+)?)")
    sign = pl.when(pl.field("1") == "fast").then(-1.0).otherwise(1.0)
    signed = _struct_value(parts, sign * pl.field("2").cast(pl.Float64, strict=False))
    standard = pl.when(text.str.contains(r"\(\s*(?:standard|std)(?:\s+time)?\s*\)")).then(0.0)
    return pl.coalesce(signed, standard)


# --- weights and distances -------------------------------------------------------------------


def stones_pounds_to_lbs(column: IntoExpr) -> pl.Expr:
    """ "8-10" (stones-pounds) -> 122 lbs; pounds must be 0-13."""
    parts = nullify_empty(column).str.extract_groups(r"^(\d+)\s*-\s*(1[0-3]|0?\d)$")
    stones = pl.field("1").cast(pl.Int32, strict=False)
    return _struct_value(parts, stones * 14 + pl.field("2").cast(pl.Int32, strict=False))


def weight_lbs(stones_pounds: IntoExpr, lbs: IntoExpr) -> pl.Expr:
    """Carried weight in lbs: the explicit pounds field, else the stones-pounds text."""
    return pl.coalesce(positive_int(lbs), stones_pounds_to_lbs(stones_pounds))


def weight_lbs_mismatch(stones_pounds: IntoExpr, lbs: IntoExpr) -> pl.Expr:
    """True when both weight forms are present and disagree; null when either is missing."""
    return stones_pounds_to_lbs(stones_pounds) != positive_int(lbs)


def distance_yards_from_text(column: IntoExpr) -> pl.Expr:
    """Yards from "2m6f31y", "1m", "8f", "1m2½f" (1 m = 8 f = 1760 y; 1 f = 220 y)."""
    text = nullify_empty(column).str.to_lowercase()
    parts = text.str.extract_groups(_DISTANCE)
    miles = pl.field("1").cast(pl.Int32, strict=False)
    furlongs = pl.field("2").cast(pl.Int32, strict=False)
    half = pl.field("3").is_not_null().cast(pl.Int32)
    yards = pl.field("4").cast(pl.Int32, strict=False)
    any_part = miles.is_not_null() | furlongs.is_not_null() | yards.is_not_null() | (half > 0)
    total = miles.fill_null(0) * 1760 + furlongs.fill_null(0) * 220 + half * 110 + yards.fill_null(0)
    return _struct_value(parts, pl.when(any_part).then(total))


def distance_furlongs(column: IntoExpr) -> pl.Expr:
    """Furlongs from "8f", "16.0", "8.5f" or a full "1m2f" distance text."""
    text = nullify_empty(column)
    plain = to_float(text.str.replace(r"(?i)\s*f$", ""))
    return pl.coalesce(plain, distance_yards_from_text(text) / 220.0)


def yards_to_metres(yards: IntoExpr) -> pl.Expr:
    return _col(yards).cast(pl.Float64) * 0.9144


def yards_to_furlongs(yards: IntoExpr) -> pl.Expr:
    return _col(yards).cast(pl.Float64) / 220.0


# --- race descriptors ------------------------------------------------------------------------


def race_class(column: IntoExpr) -> pl.Expr:
    """ "Class 4" -> 4 (1-7); anything else (Irish races have none) -> null."""
    digit = nullify_empty(column).str.extract(r"(?i)^(?:class\s*)?([1-7])$", 1)
    return digit.cast(pl.Int32, strict=False)


def going(column: IntoExpr) -> pl.Expr:
    """Canonical title-case going: "good to soft" -> "Good To Soft", "Standard To Slow".

    Only the main description is kept: "Good To Soft (Good In Places)" -> "Good To Soft"."""
    text = nullify_empty(column).str.to_lowercase().str.replace(r"[(,;].*$", "")
    words = text.str.replace_all(r"[-_/]+", " ").str.replace_all(r"\s+", " ")
    return nullify_empty(_expand_going_abbreviations(words)).str.to_titlecase()


def _expand_going_abbreviations(text: pl.Expr) -> pl.Expr:
    for short, full in GOING_ABBREVIATIONS.items():
        text = text.str.replace_all(rf"\b{short}\b", full)
    return text


def going_group(column: IntoExpr) -> pl.Expr:
    """Coarse going group (firm/good/soft/heavy/standard, see GOING_GROUPS) of a raw going text."""
    return going(column).replace_strict(GOING_GROUPS, default=None, return_dtype=pl.String)


def surface(column: IntoExpr) -> pl.Expr:
    """ "Turf" or "AW"; other texts (including "") -> null."""
    return (
        nullify_empty(column)
        .str.to_lowercase()
        .replace_strict(SURFACES, default=None, return_dtype=pl.String)
    )


def course_is_all_weather(course: IntoExpr) -> pl.Expr:
    """True for API course names flagged "(AW)", e.g. "Southwell (AW)"."""
    return nullify_empty(course).str.contains(r"(?i)\(aw\)")


def region_code(column: IntoExpr) -> pl.Expr:
    return upper_text(column)


def jumps_count(column: IntoExpr) -> pl.Expr:
    """Number of obstacles from "8 hurdles" / "12 fences"; "" -> null."""
    return nullify_empty(column).str.extract(r"^(\d+)", 1).cast(pl.Int32, strict=False)


def is_handicap(race_name: IntoExpr) -> pl.Expr:
    """True when the race name says it is a handicap ("Handicap", "H'cap", or "Nursery", the
    two-year-old handicap). `rating_band` is not used: classified and novice races carry one too."""
    return nullify_empty(race_name).str.contains(r"(?i)\b(handicap|h'cap|nursery)\b")


_LAST_RUN = r"^\s*(\d+)?\s*(?:\(\s*(\d+)\s*([A-Za-z]*)\s*\))?\s*$"
"""Racecard `last_run`: "204 (71F)" = 204 days since the last run under this race's code, then in
brackets 71 days since a run under another code (F flat, H hurdle, C chase). "186" and "(32F)" are the
one-sided forms."""


def _last_run_part(column: IntoExpr, group: int) -> pl.Expr:
    return nullify_empty(column).str.extract(_LAST_RUN, group)


def days_since_last_run_this_code(column: IntoExpr) -> pl.Expr:
    """Days since the last run under this race's code: "204 (71F)" -> 204, "(32F)" -> null."""
    return _last_run_part(column, 1).cast(pl.Int32, strict=False)


def days_since_last_run_other_code(column: IntoExpr) -> pl.Expr:
    """Days since the last run under the other code named in brackets: "204 (71F)" -> 71; "186" -> null."""
    return _last_run_part(column, 2).cast(pl.Int32, strict=False)


def last_run_other_code(column: IntoExpr) -> pl.Expr:
    """The code of the bracketed run: "204 (71F)" -> "F" (flat; "H" hurdle, "C" chase); else null."""
    return nullify_empty(_last_run_part(column, 3).str.to_uppercase())


def days_since_last_run(column: IntoExpr) -> pl.Expr:
    """Days since the horse last ran under any code, the smaller of the two `last_run` numbers:
    "186" -> 186, "204 (71F)" -> 71, "(32F)" -> 32."""
    return pl.min_horizontal(days_since_last_run_this_code(column), days_since_last_run_other_code(column))


# --- time ------------------------------------------------------------------------------------


def off_datetime_utc(column: IntoExpr) -> pl.Expr:
    """UTC instant of an ISO datetime with offset ("2025-10-07T20:30:00+01:00" -> 19:30 UTC).

    A value without an offset is read as UK local time."""
    text = nullify_empty(column)
    with_offset = text.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%#z", time_unit="us", time_zone=UTC, strict=False)
    naive = london_local_to_utc(text.str.replace("T", " ").str.slice(0, 19))
    return pl.coalesce(with_offset, naive)


def london_local_to_utc(column: IntoExpr) -> pl.Expr:
    """UTC instant of a naive "YYYY-MM-DD HH:MM:SS" UK local time (odds `updated`).

    In the repeated autumn hour the earlier instant is taken; times in the skipped spring hour
    are null."""
    naive = nullify_empty(column).str.to_datetime("%Y-%m-%d %H:%M:%S", time_unit="us", strict=False)
    local = naive.dt.replace_time_zone(LONDON, ambiguous="earliest", non_existent="null")
    return local.dt.convert_time_zone(UTC)


def race_date(date: IntoExpr, off_dt: IntoExpr | None = None) -> pl.Expr:
    """UK race date from the `date` field, else the UK local date of `off_dt`."""
    from_field = to_date(date)
    if off_dt is None:
        return from_field
    return pl.coalesce(from_field, off_datetime_utc(off_dt).dt.convert_time_zone(LONDON).dt.date())
