"""The run-failure sensor: every failed run becomes a row of `ops.run_failures`, a log line and, when
DARKHORSES_ALERT_WEBHOOK_URL is set, a JSON POST to that webhook — each with a hint of what to do.

`describe_failure` (building the record) and `failure_hint` (choosing the hint) are pure; the sensor only
gathers the run's facts, records, logs and posts. Error text is redacted before it is stored or sent:
URL passwords, `password=`/`token=` values and the values of the secret variables never leave the run.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from dagster import DagsterEvent, DagsterInstance, DagsterRun, RunFailureSensorContext, run_failure_sensor

from darkhorses_assets.automation.alerts import post_alert
from darkhorses_assets.automation.status import sensor_status
from darkhorses_assets.database_url import database_passwords
from darkhorses_assets.io.run_failures import RUN_FAILURES_TABLE, RunFailure, RunFailureStore
from darkhorses_assets.settings import ALERT_WEBHOOK_ENV, alert_webhook_url

if TYPE_CHECKING:
    from dagster._utils.error import SerializableErrorInfo

RUN_FAILURE_RESOURCE_KEY = "run_failures"
SECRET_ENV_VARS = ("RACING_API_PASSWORD", ALERT_WEBHOOK_ENV)
"""Variables whose whole values are secret; DARKHORSES_DATABASE_URL contributes only its password."""
MAX_ERROR_CHARS = 4000

FAILURE_REASON_TAG = "dagster/failure_reason"
PARTITION_TAG = "dagster/partition"
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"

_URL_PASSWORD = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@]*):[^\s@]*@")
_KEY_VALUE_SECRET = re.compile(
    r"(?P<head>\b(?:password|passwd|pwd|token|secret|api[_-]?key)\s*=\s*)(?:'[^']*'|\"[^\"]*\"|[^\s&'\",;)]+)",
    re.IGNORECASE,
)
_DAGSTER_WRAPPERS = re.compile(r"^Dagster\w*(Execution|UserCode)\w*Error$")
"""Dagster's wrappers around an exception raised in user code (op body, IO manager, resource): the cause is the news."""

_HINTS: tuple[tuple[str, re.Pattern[str], str], ...] = (
    # (kind, pattern over "error_class: error text", hint) — the first match wins
    ("no_credentials",
     re.compile(r"RacingApiCredentialsMissing|No Racing API credentials are set"),
     "set RACING_API_USERNAME and RACING_API_PASSWORD where Dagster runs (or start with `make dev` for the "
     "simulated API), then re-run the failed partitions"),
    ("credentials",
     re.compile(r"RacingApiAuthError|rejected the credentials|\((?:401|403)\)|HTTP (?:401|403)|"
                r"\bunauthori[sz]ed\b|\bforbidden\b", re.IGNORECASE),
     "check RACING_API_USERNAME / RACING_API_PASSWORD (and that the plan covers the endpoint), "
     "then re-run the failed partitions"),
    ("data_check",
     re.compile(r"DagsterAssetCheckFailedError|blocking asset check", re.IGNORECASE),
     "a blocking data check failed: open the asset's Checks tab in the Dagster UI to see which check failed "
     "and why; downstream assets were not run"),
    ("worse_answer",
     re.compile(r"worse than|fewer races|unreadable page", re.IGNORECASE),
     "the API's answer was worse than the stored data (fewer races, or unreadable pages), so nothing was "
     "written and the stored partition was kept: re-run later; the error says how to accept it if the API is "
     "right"),
    ("api_unreachable",
     re.compile(r"RacingApiUnreachable|Cannot reach the Racing API|RACING_API_BASE_URL"),
     "the Racing API could not be reached: check RACING_API_BASE_URL (unset = the real API; `make dev` points "
     "it at the simulator) and that the server there is running, then re-run the failed partitions"),
    ("bad_request",
     re.compile(r"RacingApiRequestError|refused GET .* \(4\d\d\)"),
     "the API refused the request itself (e.g. 422: a date outside the plan's window, a bad parameter): read "
     "the error's detail; re-running the same request will fail the same way"),
    ("incomplete",
     re.compile(r"RacingApiIncomplete|total changed from|implies \d+|skip may not exceed", re.IGNORECASE),
     "the API returned an incomplete day (fewer rows than its own total): re-run the partition later"),
    ("database",
     re.compile(r"cannot connect to Postgres|connection to server|could not connect to server|"
                r"server closed the connection|terminating connection|DARKHORSES_DATABASE_URL", re.IGNORECASE),
     "check DARKHORSES_DATABASE_URL and that Postgres is running, then re-run the failed partitions"),
    ("run_worker",
     re.compile(r"\breason: (?:UNEXPECTED_TERMINATION|RUN_WORKER_RESTART|START_TIMEOUT)\b"),
     "the run's process died or never started (machine restart, out of memory, kill): see the run's event "
     "log, then re-run the failed partitions"),
    ("schema_drift",
     re.compile(r"SchemaDriftError", re.IGNORECASE),
     "the asset's columns no longer match its stored table: migrate or drop the table as the error says, "
     "then re-run"),
    ("transient",
     re.compile(r"RacingApiUnavailable|did not answer|\b429\b|too many requests|timed? ?out|timeout|"
                r"HTTP 5\d\d|\(5\d\d\)|connection (?:refused|reset|aborted|error)|ConnectionError|"
                r"temporarily unavailable", re.IGNORECASE),
     "transient API or network failure: re-run the failed partitions (automatic when run retries are on); "
     "if it persists, check the API status"),
)
_FALLBACK_HINT = ("other", "open the run in the Dagster UI (Runs → the run id) for the full error and stack trace")


def failure_hint(error_class: str | None, error: str, failure_reason: str | None = None) -> tuple[str, str]:
    """(kind, what to do) for an error, judged by its class name, its text and the run's failure reason
    (Dagster's `dagster/failure_reason` tag, e.g. STEP_FAILURE or UNEXPECTED_TERMINATION)."""
    text = f"{error_class or ''}: {error} (reason: {failure_reason or 'unknown'})"
    for kind, pattern, hint in _HINTS:
        if pattern.search(text):
            return kind, hint
    return _FALLBACK_HINT


def redact_secrets(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` without URL passwords (`scheme://user:***@`), `password=`/`token=`-style values or any of
    `secrets` (each replaced by `***`, longest first)."""
    for secret in sorted({secret for secret in secrets if secret}, key=len, reverse=True):
        text = text.replace(secret, "***")
    text = _URL_PASSWORD.sub(r"\g<head>:***@", text)
    return _KEY_VALUE_SECRET.sub(r"\g<head>***", text)


def known_secrets(environ: Mapping[str, str] | None = None) -> list[str]:
    """The secret values present in the environment: whole secret variables, the webhook URL's path and
    query (where its token usually is), the database URL's password (however malformed the URL)."""
    environ = os.environ if environ is None else environ
    secrets = [environ.get(name, "") for name in SECRET_ENV_VARS]
    webhook = urlsplit(environ.get(ALERT_WEBHOOK_ENV, ""))
    if webhook.path not in ("", "/") or webhook.query:
        secrets.append(webhook.path + (f"?{webhook.query}" if webhook.query else ""))
    secrets.extend(database_passwords(environ.get("DARKHORSES_DATABASE_URL", "")))
    return [secret for secret in secrets if secret]


def failure_partitions(tags: Mapping[str, str]) -> str | None:
    """The run's partition key, `start..end` for a range run, or None for an unpartitioned run."""
    if PARTITION_TAG in tags:
        return tags[PARTITION_TAG]
    start, end = tags.get(RANGE_START_TAG), tags.get(RANGE_END_TAG)
    if start and end:
        return start if start == end else f"{start}..{end}"
    return None


def _news(error: SerializableErrorInfo) -> SerializableErrorInfo:
    """The user's exception inside Dagster's `Error occurred while executing op ...` wrappers."""
    while _DAGSTER_WRAPPERS.match(error.cls_name or "") and error.cause is not None:
        error = error.cause
    return error


def _message(error: SerializableErrorInfo) -> str:
    """The error's own message, without the `module.ClassName: ` prefix Dagster adds."""
    message = error.message.strip()
    prefix, sep, rest = message.partition(": ")
    if sep and error.cls_name and prefix.rsplit(".", 1)[-1] == error.cls_name:
        return rest.strip()
    return message


def describe_failure(
    run: DagsterRun,
    step_failures: Sequence[DagsterEvent],
    run_failure: DagsterEvent | None,
    failed_at: datetime,
    secrets: Iterable[str] = (),
) -> RunFailure:
    """The redacted record of a failed run, from the run, its STEP_FAILURE events (in order) and RUN_FAILURE event.

    The first failed step's error is the news; a run that failed outside any step reports the run failure's
    own error, or its message.
    """
    error_class: str | None = None
    error = ""
    if step_failures:
        info = step_failures[0].step_failure_data.error
        if info is not None:
            info = _news(info)
            error_class, error = info.cls_name, _message(info)
    elif run_failure is not None:
        data = run_failure.job_failure_data
        if data is not None and data.error is not None:
            info = _news(data.error)
            error_class, error = info.cls_name, _message(info)
        else:
            error = run_failure.message or ""
    error = redact_secrets(error or "the run failed without an error message", secrets)
    if len(error) > MAX_ERROR_CHARS:
        error = error[: MAX_ERROR_CHARS - 1] + "…"
    kind, hint = failure_hint(error_class, error, run.tags.get(FAILURE_REASON_TAG))
    failed_steps = tuple(dict.fromkeys(event.step_key for event in step_failures if event.step_key))
    return RunFailure(
        run_id=run.run_id,
        job_name=run.job_name,
        partitions=failure_partitions(run.tags),
        step_key=failed_steps[0] if failed_steps else None,
        failed_steps=failed_steps,
        error_class=error_class,
        error=error,
        kind=kind,
        hint=hint,
        failed_at=failed_at,
    )


def run_failed_at(instance: DagsterInstance, run_id: str) -> datetime:
    """When the run ended, from its run record (now, if the record has no end time)."""
    record = instance.get_run_record_by_id(run_id)
    if record is not None and record.end_time is not None:
        return datetime.fromtimestamp(record.end_time, UTC)
    return datetime.now(UTC)


@run_failure_sensor(
    name="run_failure_alerts",
    description=(
        f"Every failed run becomes a row of {RUN_FAILURES_TABLE} (run id, job, partitions, first failed step, "
        "redacted error, a hint of what to do, time) and an error log line; when "
        f"{ALERT_WEBHOOK_ENV} is set, the same JSON is POSTed to that webhook once per run."
    ),
    default_status=sensor_status(),
    minimum_interval_seconds=30,
)
def run_failure_alerts(context: RunFailureSensorContext, run_failures: RunFailureStore) -> None:
    run = context.dagster_run
    failure = describe_failure(
        run,
        context.get_step_failure_events(),
        context.failure_event,
        run_failed_at(context.instance, run.run_id),
        known_secrets(),
    )
    context.log.error(
        "run %s of job %s failed (partitions: %s, step: %s, %s): %s",
        failure.run_id, failure.job_name, failure.partitions or "none", failure.step_key or "none",
        failure.error_class or failure.kind, failure.hint,
    )
    try:
        is_new = run_failures.record(failure)
    except Exception:
        _alert(context, failure)  # the table is down, the webhook may not be
        raise
    if not is_new:
        context.log.info("run %s was already in %s: not alerting again", failure.run_id, RUN_FAILURES_TABLE)
        return
    _alert(context, failure)


def _alert(context: RunFailureSensorContext, failure: RunFailure) -> None:
    url = alert_webhook_url()
    if url is not None:
        post_alert(url, failure.as_json(), log=context.log)
