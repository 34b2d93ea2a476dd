"""Turn race payloads (dicts or JSON text) into flat all-text frames: races, runners, runner odds.

Only the named keys are read: unknown keys are ignored and missing ones come back null. Every
value is text (JSON numbers and booleans become their JSON text), exactly as the typed transforms
expect. Two inputs are supported and give the same frames:

* a list of race dicts - flattened column by column in Python (no per-value Python calls);
* a Series of JSON strings - read in one pass by pyarrow's JSON reader with an explicit schema (≈ 4× faster
  than polars' NDJSON reader on a quarter of racecards; polars reads its Arrow output without a copy). It is
  strict: a number, object or boolean where the API promises a string fails the whole batch, which then goes
  to polars' NDJSON reader (lenient: scalars become text, objects their JSON text). If that fails too (invalid
  JSON, a list where an object belongs, ...) the payloads are parsed one by one with `json.loads` and go down
  the dict path, so one bad race never sinks the batch.

Keys whose value is a list or object (a pro card's `quotes`, `trainer_14_days`, an odds row's `history`) come
back as their JSON text too; `json_columns` turns such text into typed nested columns (lists and structs of
text), so both paths and any shape the API sends give the same frame.

Internal columns: `_race_idx` (position of the race in the input, also on runner and odds rows, so
repeated race ids never mix), `_runner_count`, and the optional `raw_json`.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import polars as pl
import pyarrow as pa
import pyarrow.json as pa_json

RACE_IDX = "_race_idx"
RUNNER_COUNT = "_runner_count"
RAW_JSON = "raw_json"

PayloadSource = Sequence[dict] | pl.Series | pl.DataFrame


@dataclass(frozen=True)
class PayloadShape:
    """Which keys to read at each level; `odds_keys` is None when runners carry no odds list.

    `nested`: runner or odds keys whose value is a list or object, with its dtype (text leaves); they come back
    as JSON text or already nested (see `json_columns`). `boolean_race_keys`: race keys the OpenAPI types as
    JSON booleans (they come back as "true"/"false" text like every other scalar)."""

    race_keys: tuple[str, ...]
    runner_keys: tuple[str, ...]
    odds_keys: tuple[str, ...] | None = None
    nested: dict[str, pl.DataType] = field(default_factory=dict)
    boolean_race_keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class DecodedRaces:
    races: pl.DataFrame
    runners: pl.DataFrame
    odds: pl.DataFrame | None


def _text_schema(keys: Iterable[str]) -> dict[str, pl.DataType]:
    return {key: pl.String for key in keys}


def _as_dict(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def _as_list(value: object) -> list:
    """A JSON list as is; null or "" (the API's "missing") as no items; anything else (an object, a string) as
    one item, so a malformed `runners` or `odds` value still gives a row, which validation quarantines with its
    raw JSON."""
    if value is None or value == "":
        return []
    return value if isinstance(value, list) else [value]


def _text_frame(items: list[dict], keys: Sequence[str]) -> pl.DataFrame:
    """Values as the NDJSON reader gives them: scalars as text, lists and objects as their JSON text."""
    columns = {key: [_text_or_json(item.get(key)) for item in items] for key in keys}
    return pl.DataFrame(columns, schema=_text_schema(keys), strict=False)


def _text_or_json(value: object) -> object:
    return _dumps(value) if isinstance(value, list | dict) else value


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def json_columns(frame: pl.DataFrame, dtypes: dict[str, pl.DataType]) -> pl.DataFrame:
    """Columns of JSON text (as decoded above) → nested columns of `dtypes` (lists/structs whose leaves are
    text). Null, "" and "null" are null. Each column is decoded in one vectorised pass; a column holding a shape
    the dtype does not describe (a string where a list belongs, a list where an object belongs, a number where
    an object belongs) is decoded value by value instead, following the API's conventions: a single item where
    a list belongs is a list of one, a non-object where an object belongs is an object of nulls, nested values
    where text belongs are their JSON text."""
    decoded = []
    for column, dtype in dtypes.items():
        if frame.schema[column] == dtype:
            continue
        text = frame.get_column(column).cast(pl.String)
        present = text.str.strip_chars().replace(["", "null"], None)
        try:
            decoded.append(present.str.json_decode(dtype).alias(column))
        except pl.exceptions.PolarsError:
            values = [_shaped(_json_or_text(value), dtype) for value in present.to_list()]
            decoded.append(pl.Series(column, values, dtype=dtype))
    return frame.with_columns(decoded)


def _json_or_text(value: str | None) -> object:
    if value is None or value[:1] not in "[{":
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _shaped(value: object, dtype: pl.DataType) -> object:
    if value is None or value == "":
        return None
    if isinstance(dtype, pl.List):
        return [_shaped(item, dtype.inner) for item in _as_list(value)]
    if isinstance(dtype, pl.Struct):
        item = _as_dict(value)
        return {field.name: _shaped(item.get(field.name), field.dtype) for field in dtype.fields}
    if isinstance(value, list | dict):
        return _dumps(value)
    return json.dumps(value) if isinstance(value, bool | int | float) else str(value)


def decode_dicts(races: Sequence[object], shape: PayloadShape, include_raw: bool = False) -> DecodedRaces:
    """Flatten parsed race dicts; non-dict races/runners/odds become rows of nulls (never no row)."""
    race_items = [_as_dict(race) for race in races]
    runner_lists = [_as_list(race.get("runners")) for race in race_items]
    race_frame = _text_frame(race_items, shape.race_keys).with_columns(
        pl.Series(RACE_IDX, range(len(race_items)), dtype=pl.Int64),
        pl.Series(RUNNER_COUNT, [len(runners) for runners in runner_lists], dtype=pl.Int32),
    )
    if include_raw:
        race_frame = race_frame.with_columns(
            pl.Series(RAW_JSON, [_dumps(race) for race in races], dtype=pl.String)
        )

    runner_items = [_as_dict(runner) for runners in runner_lists for runner in runners]
    runner_race_idx = [idx for idx, runners in enumerate(runner_lists) for _ in runners]
    runner_frame = _text_frame(runner_items, shape.runner_keys).with_columns(
        pl.Series(RACE_IDX, runner_race_idx, dtype=pl.Int64)
    )
    if include_raw:
        raw = [_dumps(runner) for runners in runner_lists for runner in runners]
        runner_frame = runner_frame.with_columns(pl.Series(RAW_JSON, raw, dtype=pl.String))

    odds_frame = None
    if shape.odds_keys is not None:
        odds_lists = [_as_list(runner.get("odds")) for runner in runner_items]
        odds_items = [_as_dict(odds) for odds_list in odds_lists for odds in odds_list]
        odds_runner_idx = pl.Series(
            [idx for idx, odds_list in enumerate(odds_lists) for _ in odds_list], dtype=pl.Int64
        )
        runner_keys = runner_frame.select(pl.col(RACE_IDX, "horse_id").gather(odds_runner_idx))
        odds_frame = pl.concat([runner_keys, _text_frame(odds_items, shape.odds_keys)], how="horizontal")
    return DecodedRaces(race_frame, runner_frame, odds_frame)


def _ndjson_schema(shape: PayloadShape) -> dict[str, pl.DataType]:
    runner_fields = _text_schema(shape.runner_keys)
    if shape.odds_keys is not None:
        runner_fields["odds"] = pl.List(pl.Struct(_text_schema(shape.odds_keys)))
    schema = _text_schema(shape.race_keys)
    schema["runners"] = pl.List(pl.Struct(runner_fields))
    return schema


def _ndjson_bytes(payloads: pl.Series) -> bytes:
    """One payload per line; null/empty payloads become `{}` so line i stays race i. Raw newlines
    can only be insignificant whitespace in valid JSON, so they are flattened to spaces. Written by
    polars' CSV writer with quoting off, i.e. each value verbatim + "\n", without Python strings."""
    text = payloads.cast(pl.String).fill_null("{}").replace("", "{}")
    if text.str.contains("[\r\n]").any():
        text = text.str.replace_all(r"[\r\n]+", " ")
    buffer = io.BytesIO()
    pl.DataFrame({"payload": text}).write_csv(buffer, include_header=False, quote_style="never")
    return buffer.getvalue()


def _read_ndjson(data: bytes, schema: dict[str, pl.DataType], expected_rows: int) -> pl.DataFrame:
    frame = pl.read_ndjson(io.BytesIO(data), schema=schema)
    if frame.height != expected_rows:
        raise ValueError(f"NDJSON gave {frame.height} rows for {expected_rows} payloads")
    return frame


def _arrow_type(dtype: pl.DataType) -> pa.DataType:
    if isinstance(dtype, pl.List):
        return pa.list_(_arrow_type(dtype.inner))
    if isinstance(dtype, pl.Struct):
        return pa.struct([(item.name, _arrow_type(item.dtype)) for item in dtype.fields])
    return pa.bool_() if dtype == pl.Boolean else pa.string()


def _arrow_schema(shape: PayloadShape) -> pa.Schema:
    def fields(keys: Iterable[str]) -> list[tuple[str, pa.DataType]]:
        return [(key, _arrow_type(shape.nested.get(key, pl.String))) for key in keys]

    runner_fields = fields(shape.runner_keys)
    if shape.odds_keys is not None:
        runner_fields.append(("odds", pa.list_(pa.struct(fields(shape.odds_keys)))))
    race_fields = [
        (key, pa.bool_() if key in shape.boolean_race_keys else pa.string()) for key in shape.race_keys
    ]
    return pa.schema([*race_fields, ("runners", pa.list_(pa.struct(runner_fields)))])


_ARROW_BLOCK_BYTES = 1 << 23
"""pyarrow's JSON reader parses blocks in parallel: 8 MB blocks read a quarter of racecards (180 MB) in 1.6 s on two
cores, 64 MB blocks (three per quarter, a core left idle) in 2.9 s. A race longer than a block is still read whole
(`test_a_race_payload_longer_than_a_json_reader_block_still_parses`)."""


def _read_arrow(data: bytes, shape: PayloadShape, expected_rows: int) -> pl.DataFrame:
    options = pa_json.ParseOptions(explicit_schema=_arrow_schema(shape), unexpected_field_behavior="ignore")
    table = pa_json.read_json(
        io.BytesIO(data), parse_options=options, read_options=pa_json.ReadOptions(block_size=_ARROW_BLOCK_BYTES)
    )
    frame = pl.from_arrow(table)
    if frame.height != expected_rows:
        raise ValueError(f"pyarrow gave {frame.height} rows for {expected_rows} payloads")
    return frame.with_columns(pl.col(key).cast(pl.String) for key in shape.boolean_race_keys)


def _read_batch(data: bytes, shape: PayloadShape, expected_rows: int) -> pl.DataFrame:
    """The fast strict reader, else the lenient one (which raises when even it cannot read the batch)."""
    if expected_rows:
        try:
            return _read_arrow(data, shape, expected_rows)
        except (pa.ArrowException, ValueError):
            pass
    return _read_ndjson(data, _ndjson_schema(shape), expected_rows)


def decode_json(payloads: pl.Series, shape: PayloadShape, include_raw: bool = False) -> DecodedRaces:
    """Decode JSON payload strings; falls back to the per-payload dict path if the batch read fails."""
    if payloads.dtype != pl.String:
        return decode_dicts([_loads(value) for value in payloads.to_list()], shape, include_raw)
    data = _ndjson_bytes(payloads)
    try:
        frame = _read_batch(data, shape, payloads.len())
        raw_runners = None
        if include_raw:
            raw_schema = {"runners": pl.List(pl.String)}
            raw_runners = _read_ndjson(data, raw_schema, payloads.len())["runners"]
    except (pl.exceptions.PolarsError, ValueError):
        return _decode_one_by_one(payloads, shape, include_raw)
    return _split_nested(frame, shape, payloads if include_raw else None, raw_runners)


def _decode_one_by_one(payloads: pl.Series, shape: PayloadShape, include_raw: bool) -> DecodedRaces:
    """Slow path for a batch with a malformed payload; the race's raw_json stays the original text."""
    decoded = decode_dicts([_loads(value) for value in payloads.to_list()], shape, include_raw)
    if not include_raw:
        return decoded
    races = decoded.races.with_columns(payloads.alias(RAW_JSON))
    return DecodedRaces(races, decoded.runners, decoded.odds)


def _loads(value: object) -> object:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return {}


def _split_nested(
    frame: pl.DataFrame,
    shape: PayloadShape,
    raw_races: pl.Series | None,
    raw_runners: pl.Series | None,
) -> DecodedRaces:
    frame = frame.with_columns(
        pl.int_range(pl.len(), dtype=pl.Int64).alias(RACE_IDX),
        pl.col("runners").list.len().fill_null(0).cast(pl.Int32).alias(RUNNER_COUNT),
    )
    race_columns = [*shape.race_keys, RACE_IDX, RUNNER_COUNT]
    races = frame.select(race_columns)
    if raw_races is not None:
        races = races.with_columns(raw_races.cast(pl.String).alias(RAW_JSON))

    nested = frame.select(RACE_IDX, "runners")
    if raw_runners is not None:
        nested = nested.with_columns(raw_runners.alias("_raw_runners"))
    nested = nested.filter(pl.col("runners").list.len() > 0)
    exploded_columns = ["runners", "_raw_runners"] if raw_runners is not None else ["runners"]
    runners = nested.explode(exploded_columns, keep_nulls=False)
    runners = runners.unnest("runners")
    if raw_runners is not None:
        runners = runners.rename({"_raw_runners": RAW_JSON})

    odds = None
    if shape.odds_keys is not None:
        odds = (
            runners.select(RACE_IDX, "horse_id", "odds")
            .filter(pl.col("odds").list.len() > 0)
            .explode("odds", keep_nulls=False)
            .unnest("odds")
        )
        runners = runners.drop("odds")
    runner_columns = [*shape.runner_keys, RACE_IDX] + ([RAW_JSON] if raw_runners is not None else [])
    return DecodedRaces(races, runners.select(runner_columns), odds)


def decode_payloads(source: PayloadSource, shape: PayloadShape, include_raw: bool = False) -> DecodedRaces:
    """Dispatch on the input form: list of dicts, Series of JSON text, or a frame with `payload`."""
    if isinstance(source, pl.DataFrame):
        source = source.get_column("payload")
    if isinstance(source, pl.Series):
        return decode_json(source, shape, include_raw)
    return decode_dicts(list(source), shape, include_raw)


def decode_flat(source: PayloadSource, keys: Sequence[str], include_raw: bool = False) -> pl.DataFrame:
    """Decode payloads that are single flat objects (e.g. horse profiles) into a text frame."""
    if isinstance(source, pl.DataFrame):
        source = source.get_column("payload")
    if not (isinstance(source, pl.Series) and source.dtype == pl.String):
        items = [_loads(value) for value in source]
        frame = _text_frame([_as_dict(item) for item in items], keys)
        raw = pl.Series(RAW_JSON, [_dumps(item) for item in items], dtype=pl.String) if include_raw else None
        return frame if raw is None else frame.with_columns(raw)
    try:
        frame = _read_ndjson(_ndjson_bytes(source), _text_schema(keys), source.len())
    except (pl.exceptions.PolarsError, ValueError):
        frame = _text_frame([_as_dict(_loads(value)) for value in source.to_list()], keys)
    return frame.with_columns(source.alias(RAW_JSON)) if include_raw else frame
