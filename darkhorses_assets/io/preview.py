"""A small markdown table of a frame's first rows for the Dagster UI (no pandas needed)."""

from __future__ import annotations

import polars as pl

PREVIEW_ROWS = 5
MAX_CELL_CHARS = 40


def markdown_preview(frame: pl.DataFrame, rows: int = PREVIEW_ROWS, max_chars: int = MAX_CELL_CHARS) -> str:
    """First `rows` rows as a GitHub-markdown table; long values are cut to `max_chars` with an ellipsis."""
    header = "| " + " | ".join(_cell(name, max_chars) for name in frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = [
        "| " + " | ".join(_cell(value, max_chars) for value in row) + " |"
        for row in frame.head(rows).iter_rows()
    ]
    footer = [f"\n_{frame.height - rows} more row(s)_"] if frame.height > rows else []
    return "\n".join([header, rule, *body, *footer])


def _cell(value: object, max_chars: int) -> str:
    if value is None:
        return ""
    text = " ".join(str(value).split())
    if len(text) > max_chars:
        text = text[: max_chars - 1] + "…"
    return text.replace("\\", "\\\\").replace("|", "\\|")
