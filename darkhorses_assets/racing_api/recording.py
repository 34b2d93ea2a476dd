"""Recorded API responses: the file format the client writes in record mode (`DARKHORSES_RECORD_DIR`) and the
simulator's replay mode reads (`simulator/replay.py`).

One JSON file per request::

    {"path": "/v1/results",
     "params": {"start_date": "2025-10-07", "region": ["gb", "ire"], "limit": "50", "skip": "0"},
     "status": 200,
     "body": {...}}            # or "body_text": "..." when the answer was not JSON

Requests match on path + params regardless of parameter order; a multi-valued parameter is a list, a single
value a string, and ``{"region": "gb"}`` matches ``{"region": ["gb"]}``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Params = Mapping[str, Any]


def canonical_params(params: Params | None) -> dict[str, list[str]]:
    """Every value as a sorted list of strings, keys sorted: the form requests are matched on."""
    out: dict[str, list[str]] = {}
    for key, value in (params or {}).items():
        if value is None:
            continue
        values = value if isinstance(value, list | tuple | set | frozenset) else [value]
        out[str(key)] = sorted(str(v) for v in values)
    return dict(sorted(out.items()))


def request_key(path: str, params: Params | None) -> str:
    return json.dumps([path, canonical_params(params)], sort_keys=True, separators=(",", ":"))


def describe_request(path: str, params: Params | None) -> str:
    query = "&".join(f"{k}={v}" for k, values in canonical_params(params).items() for v in values)
    return f"{path}?{query}" if query else path


def record_filename(path: str, params: Params | None) -> str:
    """A stable file name: a readable slug of the request plus a hash of its canonical form."""
    canonical = canonical_params(params)
    slug_source = path.strip("/").replace("/", "_") + "".join(
        f"_{k}-{'-'.join(v)}" for k, v in canonical.items() if k in ("date", "start_date", "skip")
    )
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", slug_source)[:80]
    digest = hashlib.sha256(request_key(path, params).encode()).hexdigest()[:16]
    return f"{slug}_{digest}.json"


def _plain_params(params: Params | None) -> dict[str, str | list[str]]:
    plain: dict[str, str | list[str]] = {}
    for key, value in (params or {}).items():
        if value is None:
            continue
        if isinstance(value, list | tuple | set | frozenset):
            plain[str(key)] = [str(v) for v in value]
        else:
            plain[str(key)] = str(value)
    return plain


def write_recording(
    directory: str | os.PathLike,
    path: str,
    params: Params | None,
    status: int,
    body: Any = None,
    body_text: str | None = None,
) -> Path:
    """Write one recording atomically and return its file. ``body`` wins over ``body_text`` when both set."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    record: dict[str, Any] = {"path": path, "params": _plain_params(params), "status": int(status)}
    if body is not None:
        record["body"] = body
    else:
        record["body_text"] = body_text or ""
    target = folder / record_filename(path, params)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".rec-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(record, handle, ensure_ascii=False, indent=1)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


@dataclass(frozen=True)
class Recording:
    path: str
    params: dict[str, str | list[str]]
    status: int
    body: Any = None
    body_text: str | None = None

    @property
    def is_json(self) -> bool:
        return self.body is not None or self.body_text is None

    def payload(self) -> bytes:
        if not self.is_json:
            return (self.body_text or "").encode("utf-8")
        return json.dumps(self.body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def read_recording(file: Path) -> Recording:
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
        return Recording(data["path"], data.get("params") or {}, int(data["status"]), data.get("body"),
                         data.get("body_text"))
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{file} is not a recording ({exc}); expected path, params, status, body") from exc


def load_recordings(directory: str | os.PathLike) -> dict[str, Recording]:
    """All recordings in ``directory`` keyed by :func:`request_key`; a non-recording raises ValueError."""
    found: dict[str, Recording] = {}
    for file in sorted(Path(directory).glob("*.json")):
        recording = read_recording(file)
        found[request_key(recording.path, recording.params)] = recording
    return found
