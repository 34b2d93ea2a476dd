"""Each parsing rule of `transforms/parsing.py`, with strings taken from the real payloads in fixtures/samples."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl
import pytest

from darkhorses_assets.transforms import parsing as p


def apply(builder, values, *more_columns):
    """Run `builder("x", *more)` over `values`; extra columns are passed as names y, z, ..."""
    names = ["x", "y", "z"][: 1 + len(more_columns)]
    data = {name: column for name, column in zip(names, [values, *more_columns], strict=True)}
    frame = pl.DataFrame(data, schema=dict.fromkeys(names, pl.String))
    return frame.select(builder(*names).alias("out")).to_series().to_list()


def one(builder, value, *more):
    return apply(builder, [value], *[[m] for m in more])[0]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("", None), ("-", None), ("–", None), ("N/A", None), ("  ", None), (" Good ", "Good"), (None, None)],
)
def test_nullify_empty(raw, expected):
    assert one(p.nullify_empty, raw) == expected


@pytest.mark.parametrize(
    ("raw", "name", "country"),
    [
        ("Create (IRE)", "Create", "IRE"),
        ("Charlie's Choice (GB)", "Charlie's Choice", "GB"),
        ("Brazen Beau (AUS)", "Brazen Beau", "AUS"),
        ("Border Gem", "Border Gem", None),
        ("Pivotal", "Pivotal", None),
        ("", None, None),
    ],
)
def test_split_name_country(raw, name, country):
    assert one(p.name_without_country, raw) == name
    assert one(p.country_of_name, raw) == country
    assert one(p.split_name_country, raw) == {"name": name, "country": country}


@pytest.mark.parametrize(
    ("sp", "sp_dec", "decimal", "favourite", "fraction"),
    [
        ("9/4", "3.25", 3.25, None, "9/4"),
        ("13/8F", "2.62", 2.625, "F", "13/8"),
        ("7/2J", "4.50", 4.5, "J", "7/2"),
        ("100/30", "4.33", 13 / 3, None, "100/30"),
        ("85/40", "3.12", 3.125, None, "85/40"),
        ("5/6F", "1.83", 11 / 6, "F", "5/6"),
        ("11/10F", "", 2.1, "F", "11/10"),
        ("EvensF", "", 2.0, "F", "Evs"),
        ("Evs", "", 2.0, None, "Evs"),
        ("5/6F", None, 11 / 6, "F", "5/6"),
        ("5/1C", "", 6.0, "C", "5/1"),
        ("", "", None, None, None),
    ],
)
def test_starting_price(sp, sp_dec, decimal, favourite, fraction):
    assert one(p.sp_decimal, sp, sp_dec) == pytest.approx(decimal)
    assert one(p.sp_favourite, sp) == favourite
    assert one(p.sp_fraction, sp) == fraction


def test_sp_decimal_is_exact_from_the_fraction_and_falls_back_to_sp_dec():
    assert one(p.sp_decimal, "100/30", "4.33") == pytest.approx(13 / 3, abs=1e-12)
    assert one(p.sp_decimal, "9/4", "0") == 3.25
    assert one(p.sp_decimal, "", "4.33") == 4.33
    assert one(p.sp_decimal, "SP", "1.0") is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("23", 23.0), ("6.5", 6.5), ("-", None), ("SP", None), ("8.8", 8.8), ("", None)],
)
def test_odds_decimal(raw, expected):
    assert one(p.odds_decimal, raw) == expected


NON_FINISH_SPELLINGS = [
    spelling
    for code in p.NON_FINISH_CODES
    if code != p.NO_PLACING
    for spelling in (code, code.lower(), f"  {code} ", f" {code.lower()}\t")
]


def test_every_documented_position_code_is_known():
    documented = "PU UR F BD RO SU REF DSQ LFT CO RR VOI".split()
    assert set(p.NON_FINISH_CODES) == {*documented, p.NO_PLACING}
    assert all(description for description in p.NON_FINISH_CODES.values())


@pytest.mark.parametrize("raw", NON_FINISH_SPELLINGS)
def test_non_finisher_code_has_no_position_and_keeps_the_code(raw):
    assert one(p.finish_position, raw) is None
    assert one(p.finish_status, raw) == raw.strip().upper()
    assert one(p.position_marks_dead_heat, raw) is False


@pytest.mark.parametrize(
    ("raw", "position", "dead_heat"),
    [
        ("1", 1, False),
        ("12", 12, False),
        ("=3", 3, True),
        ("3=", 3, True),
        (" 7 ", 7, False),
        ("07", 7, False),
    ],
)
def test_numeric_position_is_a_finisher(raw, position, dead_heat):
    assert one(p.finish_position, raw) == position
    assert one(p.finish_status, raw) == p.FINISHED
    assert one(p.position_marks_dead_heat, raw) is dead_heat


@pytest.mark.parametrize("raw", ["0", "00", " 0 ", "=0"])
def test_zero_position_is_no_placing_not_a_finisher(raw):
    assert one(p.finish_position, raw) is None
    assert one(p.finish_status, raw) == p.NO_PLACING
    assert one(p.position_marks_dead_heat, raw) is False


@pytest.mark.parametrize(
    ("raw", "status"),
    [("XYZ", "XYZ"), ("xyz", "XYZ"), ("-1", "-1"), ("1.5", "1.5"), ("+2", "+2"), ("1st", "1ST")],
)
def test_unknown_position_text_is_kept_as_an_upper_cased_status(raw, status):
    assert one(p.finish_position, raw) is None
    assert one(p.finish_status, raw) == status
    assert one(p.finish_status, raw) not in (p.FINISHED, *p.NON_FINISH_CODES)
    assert one(p.position_marks_dead_heat, raw) is False


@pytest.mark.parametrize("raw", ["", "  ", "-", None])
def test_missing_position_has_no_status(raw):
    assert one(p.finish_position, raw) is None
    assert one(p.finish_status, raw) is None


def test_status_is_fin_exactly_when_there_is_a_position():
    values = ["1", "=2", "2=", "0", "00", "-1", "PU", "f", "VOI", "XYZ", "", "10", "1.0"]
    frame = pl.DataFrame({"x": values}).select(
        p.finish_position("x").alias("position"), p.finish_status("x").alias("status")
    )
    has_position = frame["position"].is_not_null().to_list()
    is_finisher = (frame["status"] == p.FINISHED).fill_null(False).to_list()
    assert has_position == is_finisher


@pytest.mark.parametrize(
    ("raw", "lengths"),
    [
        (".75", 0.75),
        (".5", 0.5),
        ("0", 0.0),
        ("4.75", 4.75),
        ("1.25", 1.25),
        ("0.05", 0.05),
        ("nk", 0.3),
        ("hd", 0.2),
        ("sh", 0.1),
        ("shd", 0.1),
        ("nse", 0.02),
        ("snk", 0.2),
        ("dht", 0.0),
        ("dist", 30.0),
        ("1¾", 1.75),
        ("2½", 2.5),
        ("¼", 0.25),
        ("¾", 0.75),
        ("-", None),
        ("", None),
    ],
)
def test_beaten_lengths(raw, lengths):
    result = one(p.beaten_lengths, raw)
    assert result == (pytest.approx(lengths) if lengths is not None else None)


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [
        ("1:43.25", 103.25),
        ("0:58.40", 58.4),
        ("1:0.00", 60.0),
        ("58.12", 58.12),
        ("-", None),
        ("1m 43.25s (slow by 5.55s)", 103.25),
        ("58.40s (slow by 1.40s)", 58.4),
        ("3m 5.82s (slow by 3.92s)", 185.82),
    ],
)
def test_finish_time_s(raw, seconds):
    result = one(p.finish_time_s, raw)
    assert result == (pytest.approx(seconds) if seconds is not None else None)


@pytest.mark.parametrize(
    ("stones_pounds", "lbs", "weight", "mismatch"),
    [
        ("8-10", "122", 122, False),
        ("10-0", "", 140, None),
        ("9-13", "140", 140, True),
        ("", "158", 158, None),
    ],
)
def test_weight(stones_pounds, lbs, weight, mismatch):
    assert one(p.weight_lbs, stones_pounds, lbs) == weight
    assert one(p.weight_lbs_mismatch, stones_pounds, lbs) == mismatch


@pytest.mark.parametrize(
    ("raw", "yards"),
    [
        ("2m6f31y", 4871),
        ("2m53y", 3573),
        ("1m", 1760),
        ("8f", 1760),
        ("1m3f", 2420),
        ("1m2½f", 2310),
        ("", None),
    ],
)
def test_distance_yards_from_text(raw, yards):
    assert one(p.distance_yards_from_text, raw) == yards


@pytest.mark.parametrize(("raw", "furlongs"), [("8f", 8.0), ("16.0", 16.0), ("11f", 11.0), ("1m2f", 10.0)])
def test_distance_furlongs(raw, furlongs):
    assert one(p.distance_furlongs, raw) == furlongs


@pytest.mark.parametrize(("raw", "furlongs"), [("2m53y", 16.24), ("1m7f209y", 15.95), ("2m6f31y", 22.14)])
def test_furlongs_from_the_yards_keep_the_odd_yards(raw, furlongs):
    yards = pl.DataFrame({"x": [raw]}).select(p.yards_to_furlongs(p.distance_yards_from_text("x"))).item()
    assert yards == pytest.approx(furlongs, abs=0.005)


def test_yards_convert_to_metres_and_furlongs():
    frame = pl.DataFrame({"y": [1760]})
    out = frame.select(p.yards_to_metres("y").alias("m"), p.yards_to_furlongs("y").alias("f")).row(0)
    assert out == (pytest.approx(1609.344), 8.0)


@pytest.mark.parametrize(
    ("raw", "name", "claim"),
    [
        ("Luke Scott(3)", "Luke Scott", 3),
        ("James Turner(5)", "James Turner", 5),
        ("Lorcan Williams", "Lorcan Williams", None),
        ("NON-RUNNER(5)", None, 5),
        ("", None, None),
    ],
)
def test_jockey_claim(raw, name, claim):
    assert one(p.jockey_name, raw) == name
    assert one(p.jockey_claim_lbs, raw) == claim


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("gelding", "G"),
        ("mare", "M"),
        ("filly", "F"),
        ("colt", "C"),
        ("horse", "H"),
        ("rig", "R"),
        ("G", "G"),
        ("m", "M"),
        ("", None),
        ("unicorn", None),
    ],
)
def test_sex_code(raw, code):
    assert one(p.sex_code, raw) == code


@pytest.mark.parametrize(("raw", "klass"), [("Class 4", 4), ("Class 6", 6), ("", None), ("Class 9", None)])
def test_race_class(raw, klass):
    assert one(p.race_class, raw) == klass


@pytest.mark.parametrize(
    ("raw", "amount", "currency"),
    [
        ("£4,193", 4193.0, "GBP"),
        ("4187.20", 4187.2, None),
        ("€7080", 7080.0, "EUR"),
        ("€9", 9.0, "EUR"),
        ("£3.25", 3.25, "GBP"),
        ("€12,000", 12000.0, "EUR"),
        ("", None, None),
    ],
)
def test_money(raw, amount, currency):
    assert one(p.money_amount, raw) == amount
    assert one(p.money_currency, raw) == currency


@pytest.mark.parametrize(
    ("raw", "region", "currency"),
    [("4187.20", "GB", "GBP"), ("4187.20", "IRE", "EUR"), ("€9", "GB", "EUR"), ("", "IRE", None), ("5", "FR", None)],
)
def test_money_without_a_symbol_takes_the_region_currency(raw, region, currency):
    assert one(lambda x, y: p.money_currency(x, p.region_currency(y)), raw, region) == currency


@pytest.mark.parametrize(
    ("raw", "amounts"),
    [
        ("£1.70 £1.20", [1.7, 1.2]),
        ("£5.40 £2.30 £2.80", [5.4, 2.3, 2.8]),
        ("£6.90 £1.60", [6.9, 1.6]),
        ("€2 €1.50", [2.0, 1.5]),
        ("", None),
    ],
)
def test_money_amounts_of_tote_place_pays(raw, amounts):
    assert one(p.money_amounts, raw) == amounts


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [
        ("1m 43.25s (slow by 5.55s)", 5.55),
        ("2m 17.93s (slow by 0.03s)", 0.03),
        ("(slow by 3.41s)", 3.41),
        ("58.40s (fast by 1.40s)", -1.4),
        ("1m 12.00s (standard time)", 0.0),
        ("1m 43.25s", None),
        ("", None),
    ],
)
def test_time_versus_standard_is_signed(raw, seconds):
    assert one(p.time_versus_standard_s, raw) == seconds


@pytest.mark.parametrize(
    ("raw", "any_code", "this_code", "other_code", "code"),
    [
        ("204 (71F)", 71, 204, 71, "F"),
        ("128 (9F)", 9, 128, 9, "F"),
        ("186", 186, 186, None, None),
        ("(32F)", 32, None, 32, "F"),
        ("", None, None, None, None),
    ],
)
def test_last_run_keeps_both_numbers(raw, any_code, this_code, other_code, code):
    assert one(p.days_since_last_run, raw) == any_code
    assert one(p.days_since_last_run_this_code, raw) == this_code
    assert one(p.days_since_last_run_other_code, raw) == other_code
    assert one(p.last_run_other_code, raw) == code


@pytest.mark.parametrize(
    ("builder", "raw", "expected"),
    [
        (p.to_int, "47", 47),
        (p.to_int, "–", None),
        (p.to_int, "-", None),
        (p.to_int, "", None),
        (p.to_int, "0", 0),
        (p.to_int, "NR", None),
        (p.positive_int, "NR", None),
        (p.positive_int, "8", 8),
        (p.draw_number, "0", None),
        (p.draw_number, "", None),
        (p.draw_number, "8", 8),
        (p.to_bool, "true", True),
        (p.to_bool, "false", False),
        (p.jumps_count, "8 hurdles", 8),
        (p.jumps_count, "", None),
        (p.region_code, "gb", "GB"),
        (p.days_since_last_run, "186", 186),
        (p.days_since_last_run, "128 (9F)", 9),
        (p.days_since_last_run, "(32F)", 32),
        (p.days_since_last_run, "", None),
    ],
)
def test_scalars(builder, raw, expected):
    assert one(builder, raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("p", "p"), ("T", "t"), ("hp", "hp"), ("tv", "tv"), (" e/s ", "e/s"), ("", None)],
)
def test_headgear(raw, expected):
    assert one(p.headgear, raw) == expected


@pytest.mark.parametrize(
    ("raw", "canonical", "group"),
    [
        ("Good", "Good", "good"),
        ("Standard", "Standard", "standard"),
        ("Standard To Slow", "Standard To Slow", "standard"),
        ("good to soft", "Good To Soft", "soft"),
        ("Good To Firm (Good In Places)", "Good To Firm", "firm"),
        ("Heavy", "Heavy", "heavy"),
        ("Yielding", "Yielding", "soft"),
        ("", None, None),
    ],
)
def test_going(raw, canonical, group):
    assert one(p.going, raw) == canonical
    assert one(p.going_group, raw) == group


@pytest.mark.parametrize(("raw", "expected"), [("Turf", "Turf"), ("AW", "AW"), ("", None)])
def test_surface(raw, expected):
    assert one(p.surface, raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Arc All-Weather £1Million Bonus Returns Handicap", True),
        ("Free Bets On attheraces.com Fillies' Handicap", True),
        ("BetWright Bangers N'Cash Novices' Hurdle (GBB Race)", False),
        ("Watch Racing Nursery Stakes", True),
    ],
)
def test_is_handicap(raw, expected):
    assert one(p.is_handicap, raw) == expected


def utc(*parts):
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "instant"),
    [
        ("2025-10-07T20:30:00+01:00", utc(2025, 10, 7, 19, 30)),
        ("2025-01-07T13:30:00+00:00", utc(2025, 1, 7, 13, 30)),
        ("2025-10-13T14:12:00", utc(2025, 10, 13, 13, 12)),
        ("8:30", None),
        ("", None),
    ],
)
def test_off_datetime_is_the_real_instant_in_utc(raw, instant):
    assert one(p.off_datetime_utc, raw) == instant


def test_off_datetime_dtype_is_timezone_aware_utc():
    frame = pl.DataFrame({"x": ["2025-10-07T20:30:00+01:00"]})
    assert frame.select(p.off_datetime_utc("x")).dtypes == [pl.Datetime("us", "UTC")]


@pytest.mark.parametrize(
    ("raw", "instant"),
    [
        ("2025-10-13 14:11:07", utc(2025, 10, 13, 13, 11, 7)),
        ("2025-01-13 14:11:07", utc(2025, 1, 13, 14, 11, 7)),
        ("2025-10-26 01:30:00", utc(2025, 10, 26, 0, 30)),
        ("2025-03-30 01:30:00", None),
    ],
)
def test_odds_updated_is_london_local_time(raw, instant):
    assert one(p.london_local_to_utc, raw) == instant


def test_race_date_falls_back_to_the_uk_date_of_off_dt():
    assert one(p.race_date, "2025-10-07", "") == date(2025, 10, 7)
    assert one(p.race_date, "", "2025-06-01T00:15:00+01:00") == date(2025, 6, 1)


def test_builders_do_not_raise_on_garbage():
    garbage = ["", "-", "???", "9//4", "1:2:3", "m f y", "(", "Class", "£", "\u2013", "x" * 300]
    builders = [
        p.to_int, p.to_float, p.positive_int, p.beaten_lengths, p.finish_time_s, p.finish_position,
        p.finish_status, p.sp_decimal, p.sp_favourite, p.sp_fraction, p.stones_pounds_to_lbs,
        p.distance_yards_from_text, p.distance_furlongs, p.race_class, p.money_amount, p.going,
        p.going_group, p.surface, p.off_datetime_utc, p.london_local_to_utc, p.jumps_count,
        p.days_since_last_run, p.sex_code, p.jockey_name, p.jockey_claim_lbs, p.to_bool, p.to_date,
        p.money_amounts, p.money_currency, p.time_versus_standard_s, p.days_since_last_run_this_code,
        p.days_since_last_run_other_code, p.last_run_other_code, p.region_currency,
    ]  # fmt: skip
    for builder in builders:
        apply(builder, garbage)
