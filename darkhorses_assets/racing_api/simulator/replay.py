"""The simulator's replay mode: serve recorded responses (format: `darkhorses_assets.racing_api.recording`)."""

from __future__ import annotations

import os
from pathlib import Path

from darkhorses_assets.racing_api.recording import (
    Params,
    Recording,
    load_recordings,
    read_recording,
    request_key,
)


class ReplayStore:
    """The recordings of one directory, re-read when a request misses so files added later are served.

    A broken file at start-up fails at once (naming it). One added while serving is skipped and remembered in
    ``problems``, so every other recording keeps being served and a miss can say which file was unreadable.
    """

    def __init__(self, directory: str | os.PathLike):
        self.directory = Path(directory)
        self._recordings = load_recordings(self.directory) if self.directory.exists() else {}
        self.problems: dict[str, str] = {}

    def _reload(self) -> None:
        recordings, problems = {}, {}
        for file in sorted(self.directory.glob("*.json")):
            try:
                recording = read_recording(file)
            except ValueError as exc:
                problems[file.name] = str(exc)
                continue
            recordings[request_key(recording.path, recording.params)] = recording
        self._recordings, self.problems = recordings, problems

    def find(self, path: str, params: Params | None) -> Recording | None:
        key = request_key(path, params)
        found = self._recordings.get(key)
        if found is None and self.directory.exists():
            self._reload()
            found = self._recordings.get(key)
        return found
