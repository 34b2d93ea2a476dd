"""Every `DARKHORSES_*` setting (and `RACING_API_BASE_URL`), read and validated in one place.

One function per setting reads it from the environment (or from the mapping it is given), applies the
default and checks the value. A bad value raises `SettingsError` naming the variable, its value (passwords
and webhook tokens shown as `***`) and an example of a good one. An empty value counts as unset.

`load_settings()` reads them all and reports every bad one at once: the code location calls it when it is
loaded and `darkhorses dev` before it starts anything, so a typo fails at once, not hours later in a run.
The Racing API credentials are read by Dagster through `EnvVar` (never logged); here only whether both or
neither are set is checked.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from darkhorses_assets.database_url import database_url_problem, redact_url

DATABASE_URL_ENV = "DARKHORSES_DATABASE_URL"
DAGSTER_STORAGE_URL_ENV = "DARKHORSES_DAGSTER_STORAGE_URL"
START_DATE_ENV = "DARKHORSES_START_DATE"
RACECARDS_HISTORY_FROM_ENV = "DARKHORSES_RACECARDS_HISTORY_FROM"
RESULTS_HISTORY_FROM_ENV = "DARKHORSES_RESULTS_HISTORY_FROM"
RECORD_DIR_ENV = "DARKHORSES_RECORD_DIR"
HOST_ENV = "DARKHORSES_HOST"
PORT_ENV = "DARKHORSES_PORT"
STATE_DIR_ENV = "DARKHORSES_STATE_DIR"
AUTOMATION_ENV = "DARKHORSES_AUTOMATION"
SIMULATOR_PORT_ENV = "DARKHORSES_SIMULATOR_PORT"
ALERT_WEBHOOK_ENV = "DARKHORSES_ALERT_WEBHOOK_URL"
SIM_FAULT_PREFIX = "DARKHORSES_SIM_FAULT_"
RACING_API_BASE_URL_ENV = "RACING_API_BASE_URL"
CREDENTIAL_ENVS = ("RACING_API_USERNAME", "RACING_API_PASSWORD")

DEFAULT_START_DATE = date(2015, 1, 1)
PRO_RACECARDS_FROM = date(2023, 1, 23)
"""The first day `/v1/racecards/pro` has racecards for ("Historical racecards are available from 2023-01-23, when
our tracking began", the API's own documentation)."""
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 3000
DEFAULT_RACING_API_BASE_URL = "https://api.theracingapi.com"
SIM_FAULT_FIELDS = {
    "429": "rate_429",
    "5XX": "rate_5xx",
    "SLOW": "rate_slow",
    "SLOW_SECONDS": "slow_seconds",
    "TRUNCATED": "rate_truncated",
    "MALFORMED": "rate_malformed",
    "EXTRA_FIELDS": "rate_extra_fields",
    "MISSING_FIELDS": "rate_missing_fields",
    "SEED": "seed",
}
"""`DARKHORSES_SIM_FAULT_<suffix>` → the simulator's `Faults` field it sets."""
_UK = ZoneInfo("Europe/London")
_AUTOMATION_ON, _AUTOMATION_OFF = ("on", "1", "true", "yes"), ("off", "0", "false", "no")
_DATABASE_URL_EXAMPLE = "postgresql://darkhorses:secret@localhost:5432/darkhorses"
_HOSTNAME = re.compile(r"^[A-Za-z0-9._:\-\[\]]+$")
_log = logging.getLogger(__name__)

Environ = Mapping[str, str]


class SettingsError(ValueError):
    """A setting with a bad value. The message names the variable, its value with secrets as `***`, what is
    wrong and an example of a good value; `variables` lists every variable at fault."""

    retryable = False
    """A run meeting a bad setting fails at once (`darkhorses_assets.fail_fast`): a retry reads the same value."""

    def __init__(self, message: str, variables: tuple[str, ...] = ()):
        super().__init__(message)
        self.variables = variables

    @classmethod
    def bad_value(cls, variable: str, shown: str | None, problem: str, example: str) -> SettingsError:
        """`shown` is the value as it may be printed (secrets already `***`); None means the variable is unset."""
        subject = f"{variable} is not set" if shown is None else f"{variable}={shown!r}"
        return cls(f"{subject} {problem}; e.g. {variable}={example}", (variable,))


# --- one function per setting -----------------------------------------------------------------------------


def database_url(environ: Environ | None = None) -> str | None:
    """DARKHORSES_DATABASE_URL: an existing Postgres (libpq URL) instead of the embedded one; None when unset, and
    then the resources and Dagster's storage use the embedded Postgres of `make dev` (`<state dir>/pgdata`), started
    on first use (`local.postgres.embedded_database_url`, `local.dagster_storage`)."""
    value = _get(environ, DATABASE_URL_ENV)
    return None if value is None else check_database_url(value, DATABASE_URL_ENV)


def dagster_storage_url(environ: Environ | None = None) -> str | None:
    """DARKHORSES_DAGSTER_STORAGE_URL: Dagster's storage (dagster.yaml), a `postgresql+psycopg2://` URL that
    `darkhorses dev` derives from the database URL; None when unset, and then dagster.yaml's storage follows
    DARKHORSES_DATABASE_URL, else the embedded Postgres (`local.dagster_storage`)."""
    value = _get(environ, DAGSTER_STORAGE_URL_ENV)
    if value is None:
        return None
    return check_database_url(value, DAGSTER_STORAGE_URL_ENV, schemes=("postgresql+psycopg2",),
                              example="postgresql+psycopg2://darkhorses:secret@localhost:5432/darkhorses")


def start_date(environ: Environ | None = None, *, today: date | None = None) -> date:
    """DARKHORSES_START_DATE: the first race day of the daily partitions (default 2015-01-01), not after today
    (UK), which would leave no partition at all."""
    value = _past_date(environ, START_DATE_ENV, today, "there would be no race day to fetch")
    return DEFAULT_START_DATE if value is None else value


def racecards_history_from(environ: Environ | None = None, *, today: date | None = None) -> date:
    """DARKHORSES_RACECARDS_HISTORY_FROM: the first day `raw_racecards` asks the API for (default 2023-01-23,
    where the real API's pro racecards begin); earlier partitions are materialized empty without a request.
    The simulator serves racecards from 2015: set 2015-01-01 to backfill them offline. Not after today."""
    value = _past_date(environ, RACECARDS_HISTORY_FROM_ENV, today, "no past racecard would ever be fetched",
                       example=PRO_RACECARDS_FROM.isoformat())
    return PRO_RACECARDS_FROM if value is None else value


def results_history_from(environ: Environ | None = None, *, today: date | None = None) -> date | None:
    """DARKHORSES_RESULTS_HISTORY_FROM: the first day `raw_results` asks the API for; earlier partitions are
    materialized empty without a request. For plans whose results reach back only so far (the Standard plan:
    12 months). None when unset: every day is asked for. Not after today."""
    return _past_date(environ, RESULTS_HISTORY_FROM_ENV, today, "no result would ever be fetched",
                      example="2025-01-01")


def record_dir(environ: Environ | None = None) -> Path | None:
    """DARKHORSES_RECORD_DIR: record every API response into this folder (replay format); None when unset."""
    return _folder(environ, RECORD_DIR_ENV, example="recordings/2025-10")


def host(environ: Environ | None = None) -> str:
    """DARKHORSES_HOST: the address the Dagster UI binds to (default 127.0.0.1)."""
    value = _get(environ, HOST_ENV)
    if value is None:
        return DEFAULT_HOST
    if not _HOSTNAME.fullmatch(value):
        raise SettingsError.bad_value(HOST_ENV, value, "is not a host name or IP address",
                                      "127.0.0.1 (this machine only) or 0.0.0.0 (every interface)")
    return value


def port(environ: Environ | None = None) -> int:
    """DARKHORSES_PORT: the TCP port of the Dagster UI (default 3000)."""
    return _port(environ, PORT_ENV, default=DEFAULT_PORT, lowest=1, example="3000")


def state_dir(environ: Environ | None = None) -> Path:
    """DARKHORSES_STATE_DIR: where local state lives (pgdata, dagster home); default `.darkhorses/` in the
    working directory. Always an absolute path."""
    folder = _folder(environ, STATE_DIR_ENV, example="/var/lib/darkhorses")
    return folder if folder is not None else (Path.cwd() / ".darkhorses").resolve()


def automation_enabled(environ: Environ | None = None) -> bool:
    """DARKHORSES_AUTOMATION: `on` (default) ships schedules and sensors RUNNING, `off` STOPPED."""
    value = _get(environ, AUTOMATION_ENV)
    if value is None or value.lower() in _AUTOMATION_ON:
        return True
    if value.lower() in _AUTOMATION_OFF:
        return False
    raise SettingsError.bad_value(AUTOMATION_ENV, value, "is not understood: use 'on' (the default) or 'off'",
                                  "off")


def simulator_port(environ: Environ | None = None) -> int:
    """DARKHORSES_SIMULATOR_PORT: the simulated API's port under `darkhorses dev` (default 0: any free port)."""
    return _port(environ, SIMULATOR_PORT_ENV, default=0, lowest=0, example="8765")


def alert_webhook_url(environ: Environ | None = None) -> str | None:
    """DARKHORSES_ALERT_WEBHOOK_URL: where run-failure alerts are POSTed; None when unset. Its path and query
    usually hold a token, so an error shows only scheme and host."""
    value = _get(environ, ALERT_WEBHOOK_ENV)
    if value is None:
        return None
    parts = urlsplit(value)
    shown = f"{parts.scheme}://{parts.hostname or ''}/***" if parts.scheme else "***"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError.bad_value(ALERT_WEBHOOK_ENV, shown, "is not an http(s) URL with a host",
                                      "https://hooks.example.com/services/T000/B000/XXXX")
    return value


def racing_api_base_url(environ: Environ | None = None) -> str:
    """RACING_API_BASE_URL: The Racing API, or the simulator (`darkhorses dev` sets it); default the real API."""
    value = _get(environ, RACING_API_BASE_URL_ENV)
    if value is None:
        return DEFAULT_RACING_API_BASE_URL
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError.bad_value(RACING_API_BASE_URL_ENV, redact_url(value), "is not an http(s) URL with a host",
                                      f"{DEFAULT_RACING_API_BASE_URL} (or http://127.0.0.1:8765 for the simulator)")
    return value


def racing_api_credentials_set(environ: Environ | None = None) -> bool:
    """True when RACING_API_USERNAME and RACING_API_PASSWORD are both set (the real API), False when neither
    is (the simulator); one without the other is an error."""
    username, password = (_get(environ, name) for name in CREDENTIAL_ENVS)
    if (username is None) != (password is None):
        missing = CREDENTIAL_ENVS[1] if username else CREDENTIAL_ENVS[0]
        given = CREDENTIAL_ENVS[0] if username else CREDENTIAL_ENVS[1]
        raise SettingsError.bad_value(
            missing, None, f"while {given} is: set both to use the real API, or neither to use the simulator",
            "<from theracingapi.com, My Account>")
    return username is not None


def sim_faults(environ: Environ | None = None) -> dict[str, float | int]:
    """DARKHORSES_SIM_FAULT_*: the simulator's fault settings as `Faults` keyword arguments (rates 0..1,
    SLOW_SECONDS ≥ 0, SEED an integer). An unknown suffix is refused: a misspelt fault would silently not happen."""
    environ = os.environ if environ is None else environ
    faults: dict[str, float | int] = {}
    for name in sorted(environ):
        if not name.startswith(SIM_FAULT_PREFIX):
            continue
        suffix = name.removeprefix(SIM_FAULT_PREFIX)
        value = _get(environ, name)
        if suffix not in SIM_FAULT_FIELDS:
            known = ", ".join(SIM_FAULT_PREFIX + known for known in SIM_FAULT_FIELDS)
            raise SettingsError(f"{name}={value or ''!r} is not a fault setting (a misspelt name?): use one of "
                                f"{known}; e.g. {SIM_FAULT_PREFIX}5XX=0.1", (name,))
        if value is None:
            continue
        field = SIM_FAULT_FIELDS[suffix]
        if field == "seed":
            if not re.fullmatch(r"[+-]?\d+", value):
                raise SettingsError.bad_value(name, value, "is not an integer", "7")
            faults[field] = int(value)
            continue
        try:
            number = float(value)
        except ValueError:
            number = float("nan")
        if field == "slow_seconds":
            if not number >= 0:
                raise SettingsError.bad_value(name, value, "is not a number of seconds (0 or more)", "25")
        elif not 0 <= number <= 1:
            raise SettingsError.bad_value(name, value, "is not a rate between 0 and 1", "0.1")
        faults[field] = number
    return faults


# --- all at once ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    database_url: str | None
    dagster_storage_url: str | None
    start_date: date
    racecards_history_from: date
    results_history_from: date | None
    record_dir: Path | None
    host: str
    port: int
    state_dir: Path
    automation_enabled: bool
    simulator_port: int
    alert_webhook_url: str | None
    racing_api_base_url: str
    racing_api_credentials_set: bool
    sim_faults: dict[str, float | int]


def load_settings(environ: Environ | None = None, *, today: date | None = None) -> Settings:
    """Every setting, validated; one SettingsError listing each bad variable (one line each) otherwise.
    Variables starting with DARKHORSES_ that no setting knows are logged as a warning (a typo?)."""
    environ = os.environ if environ is None else environ
    readers = {
        "database_url": database_url,
        "dagster_storage_url": dagster_storage_url,
        "start_date": lambda env: start_date(env, today=today),
        "racecards_history_from": lambda env: racecards_history_from(env, today=today),
        "results_history_from": lambda env: results_history_from(env, today=today),
        "record_dir": record_dir,
        "host": host,
        "port": port,
        "state_dir": state_dir,
        "automation_enabled": automation_enabled,
        "simulator_port": simulator_port,
        "alert_webhook_url": alert_webhook_url,
        "racing_api_base_url": racing_api_base_url,
        "racing_api_credentials_set": racing_api_credentials_set,
        "sim_faults": sim_faults,
    }
    values, errors = {}, []
    for field, read in readers.items():
        try:
            values[field] = read(environ)
        except SettingsError as error:
            errors.append(error)
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise SettingsError("\n".join(str(error) for error in errors),
                            tuple(variable for error in errors for variable in error.variables))
    unknown = sorted(name for name in environ if name.startswith("DARKHORSES_") and name not in KNOWN_VARIABLES
                     and not name.startswith(SIM_FAULT_PREFIX))
    if unknown:
        _log.warning("unknown settings %s are ignored (known: %s)", ", ".join(unknown),
                     ", ".join(sorted(KNOWN_VARIABLES)))
    return Settings(**values)


KNOWN_VARIABLES = frozenset({
    DATABASE_URL_ENV, DAGSTER_STORAGE_URL_ENV, START_DATE_ENV, RACECARDS_HISTORY_FROM_ENV, RESULTS_HISTORY_FROM_ENV,
    RECORD_DIR_ENV, HOST_ENV, PORT_ENV, STATE_DIR_ENV,
    AUTOMATION_ENV, SIMULATOR_PORT_ENV, ALERT_WEBHOOK_ENV, RACING_API_BASE_URL_ENV, *CREDENTIAL_ENVS,
    *(SIM_FAULT_PREFIX + suffix for suffix in SIM_FAULT_FIELDS),
})


# --- shared checks ----------------------------------------------------------------------------------------


def check_database_url(url: str, variable: str = DATABASE_URL_ENV, *, schemes: tuple[str, ...] = (
        "postgresql", "postgres"), example: str = _DATABASE_URL_EXAMPLE) -> str:
    """`url` if it is a Postgres URL libpq can use, with a scheme among `schemes`; otherwise a SettingsError
    naming `variable` and showing the URL with its password as `***` (libpq's own messages would show it)."""
    shown = redact_url(url)
    scheme, sep, _ = url.partition("://")
    if not sep or scheme.lower() not in schemes:
        wanted = " or ".join(f"{s}://" for s in schemes)
        raise SettingsError.bad_value(variable, shown, f"is not a URL starting with {wanted}", example)
    problem = database_url_problem(url)
    if problem is not None:
        raise SettingsError.bad_value(variable, shown, f"is malformed: {problem}", example)
    return url


def _get(environ: Environ | None, name: str) -> str | None:
    value = (os.environ if environ is None else environ).get(name)
    value = value.strip() if value is not None else None
    return value or None


def _past_date(environ: Environ | None, name: str, today: date | None, consequence: str, *,
               example: str = DEFAULT_START_DATE.isoformat()) -> date | None:
    """The variable as a date written YYYY-MM-DD, not after today (UK); None when unset."""
    value = _get(environ, name)
    if value is None:
        return None
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise SettingsError.bad_value(name, value, "is not a date written YYYY-MM-DD", example)
    try:
        parsed = date.fromisoformat(value)
    except ValueError as error:
        raise SettingsError.bad_value(name, value, f"is not a calendar date ({error})", example) from None
    today = today or datetime.now(_UK).date()
    if parsed > today:
        raise SettingsError.bad_value(
            name, value, f"is after today ({today.isoformat()}, UK): {consequence}; use a past date", example)
    return parsed


def _port(environ: Environ | None, name: str, *, default: int, lowest: int, example: str) -> int:
    value = _get(environ, name)
    if value is None:
        return default
    if not value.isdigit() or not lowest <= int(value) <= 65535:
        raise SettingsError.bad_value(name, value, f"is not a TCP port ({lowest} to 65535)", example)
    return int(value)


def _folder(environ: Environ | None, name: str, *, example: str) -> Path | None:
    value = _get(environ, name)
    if value is None:
        return None
    path = Path(value).expanduser().resolve()
    if path.exists() and not path.is_dir():
        raise SettingsError.bad_value(name, value, f"is a file, not a folder ({path})", example)
    return path
