"""The UI tells the story, checked in a real browser (Debian's Chromium driven by Playwright).

`darkhorses dev` starts as a user starts it — embedded Postgres and the simulated Racing API in a state folder of
its own, on a free port — then one small range (raw + clean, 2 days) is materialized through the webserver's
GraphQL API, as the UI's Materialize button does. The test then opens what a user looks at and asserts what they
must see there:

* the asset lineage, collapsed to groups, reading left to right in the order data flows;
* a clean asset (`clean/runners`): description, group, kinds, owner, the column schema with a description for
  every column, its partitions with one row count for the range (the rows in Postgres), a preview, and its checks
  with counts;
* Automation: every schedule and sensor listed, running — except `raw_gap_filler`, which ships stopped;
* Runs: the range run, succeeded.

Screenshots of every page go to `ui_screenshots/` (git-ignored) for a person to look at.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
import requests

from darkhorses_assets.column_schemas import table_schema
from darkhorses_assets.definitions import defs
from darkhorses_assets.partitions import today_in_uk
from darkhorses_assets_tests.dagster_dev import free_port

pytestmark = pytest.mark.slow

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = PROJECT_ROOT / "ui_screenshots"
LOCATION = "darkhorses_assets.definitions"
STARTUP_TIMEOUT_S = 180
RUN_TIMEOUT_S = 600
PAGE_TIMEOUT_MS = 60_000
GROUPS_IN_FLOW_ORDER = ("raw", "clean", "dimensions", "horse_profiles")
"""Each group strictly right of the one before; `features` and `statistics` right of `clean`."""
RANGE_ASSETS = [["raw", "raw_racecards"], ["raw", "raw_results"],
                *(["clean", name] for name in ("races", "runners", "results", "non_runners", "runner_odds",
                                               "quarantine"))]
UNSET_FOR_EMBEDDED_DEFAULTS = (
    "DARKHORSES_DATABASE_URL", "DARKHORSES_DAGSTER_STORAGE_URL", "RACING_API_USERNAME", "RACING_API_PASSWORD",
    "RACING_API_BASE_URL", "DAGSTER_HOME", "DARKHORSES_AUTOMATION", "DARKHORSES_HOST", "DARKHORSES_PORT",
    "DARKHORSES_RECORD_DIR", "DARKHORSES_ALERT_WEBHOOK_URL",
)


# --- set-up: Chromium, `darkhorses dev`, one materialized range ------------------------------------------------


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's Chromium, installed with apt-get when missing (Playwright's own download is not reachable)."""
    path = shutil.which("chromium")
    if path:
        return path
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        pytest.skip("Chromium is not installed and cannot be: apt-get needs root (run `apt-get install -y chromium`)")
    attempts = []
    for command in (["apt-get", "install", "-y", "chromium"], ["apt-get", "update"],
                    ["apt-get", "install", "-y", "chromium"]):
        result = subprocess.run(command, capture_output=True, text=True, timeout=900,
                                env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        attempts.append(f"$ {' '.join(command)} → {result.returncode}\n{result.stderr[-1000:]}")
        if command[1] == "install" and result.returncode == 0 and shutil.which("chromium"):
            return shutil.which("chromium")
    pytest.skip("apt-get could not install chromium:\n" + "\n".join(attempts))


@dataclass
class DarkhorsesDev:
    process: subprocess.Popen
    port: int
    state_dir: Path
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        response = requests.post(f"{self.base_url}/graphql", json={"query": query, "variables": variables or {}},
                                 timeout=120)
        response.raise_for_status()
        body = response.json()
        assert "errors" not in body, body["errors"]
        return body["data"]

    def database_url(self) -> str:
        """The embedded Postgres `darkhorses dev` started (reused, not started again)."""
        from darkhorses_assets.local.postgres import start_local_postgres

        return start_local_postgres(self.state_dir / "pgdata").url()


def _darkhorses_command() -> list[str]:
    script = Path(sys.executable).parent / "darkhorses"
    return [str(script)] if script.exists() else [sys.executable, "-m", "darkhorses_assets.cli"]


def _answers(url: str) -> bool:
    try:
        return requests.get(f"{url}/server_info", timeout=2).ok
    except requests.RequestException:
        return False


def _pids_with_env(name: str, value: str) -> list[int]:
    needle = f"{name}={value}".encode()
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            if needle in (proc / "environ").read_bytes().split(b"\0"):
                pids.append(int(proc.name))
        except OSError:
            continue
    return pids


def _stop(dev: DarkhorsesDev) -> list[int]:
    """Ctrl-C to `darkhorses dev` (it stops dagster dev, the simulator and its Postgres); what outlives a minute
    is killed by pid and returned (the test then fails on it)."""
    if dev.process.poll() is None:
        os.killpg(dev.process.pid, signal.SIGINT)
        try:
            dev.process.wait(90)
        except subprocess.TimeoutExpired:
            os.killpg(dev.process.pid, signal.SIGKILL)
            dev.process.wait(10)
    home = str(dev.state_dir / "dagster_home")
    deadline = time.monotonic() + 20
    while (left := _pids_with_env("DAGSTER_HOME", home)) and time.monotonic() < deadline:
        time.sleep(0.5)
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    if (dev.state_dir / "pgdata" / "postmaster.pid").exists():
        from darkhorses_assets.local.postgres import stop_local_postgres

        stop_local_postgres(dev.state_dir / "pgdata")
        left.append(-1)  # the Postgres server outlived darkhorses dev
    return left


@pytest.fixture(scope="module")
def darkhorses_dev() -> Iterator[DarkhorsesDev]:
    """`darkhorses dev --port <free>` with nothing set but an isolated DARKHORSES_STATE_DIR: embedded Postgres,
    the simulator, shipped automation. The state folder lives outside pytest's temporary base (a concurrent
    pytest session resets that base's mode, cutting the Postgres server's user off)."""
    state_dir = Path(tempfile.mkdtemp(prefix="dh-ui-"))
    port = free_port()
    env = {name: value for name, value in os.environ.items() if name not in UNSET_FOR_EMBEDDED_DEFAULTS}
    env["DARKHORSES_STATE_DIR"] = str(state_dir)
    log = state_dir / "darkhorses_dev.log"
    with log.open("wb") as out:
        process = subprocess.Popen([*_darkhorses_command(), "dev", "--port", str(port)], cwd=PROJECT_ROOT,
                                   env=env, stdout=out, stderr=subprocess.STDOUT, process_group=0)
    dev = DarkhorsesDev(process, port, state_dir, log)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not _answers(dev.base_url):
            assert process.poll() is None, f"darkhorses dev exited with {process.returncode}:\n{dev.output()[-5000:]}"
            assert time.monotonic() < deadline, f"no UI within {STARTUP_TIMEOUT_S} s:\n{dev.output()[-5000:]}"
            time.sleep(1)
        yield dev
    finally:
        left = _stop(dev)
        output = dev.output()
        if SCREENSHOTS.exists():
            shutil.copyfile(log, SCREENSHOTS / "darkhorses_dev.log")
        shutil.rmtree(state_dir, ignore_errors=True)
    assert not left, f"left running after darkhorses dev stopped (killed now): {left}\n{output[-3000:]}"


LAUNCH_RUN = """mutation($params: ExecutionParams!) { launchRun(executionParams: $params) {
  __typename ... on LaunchRunSuccess { run { runId } } ... on Error { message } } }"""
RUN_STATUS = """query($runId: ID!) { runOrError(runId: $runId) { ... on Run { status } } }"""


@dataclass
class MaterializedRange:
    run_id: str
    start: str
    end: str


@pytest.fixture(scope="module")
def materialized_range(darkhorses_dev) -> MaterializedRange:
    """raw + clean for two finished race days, in one range run launched through the webserver."""
    start, end = (str(today_in_uk() - timedelta(days=offset)) for offset in (4, 3))
    params = {
        "selector": {"repositoryLocationName": LOCATION, "repositoryName": "__repository__",
                     "jobName": "__ASSET_JOB", "assetSelection": [{"path": key} for key in RANGE_ASSETS]},
        "mode": "default",
        "runConfigData": {},
        "executionMetadata": {"tags": [{"key": "dagster/asset_partition_range_start", "value": start},
                                       {"key": "dagster/asset_partition_range_end", "value": end}]},
    }
    launched = darkhorses_dev.graphql(LAUNCH_RUN, {"params": params})["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]
    deadline = time.monotonic() + RUN_TIMEOUT_S
    status = None
    while time.monotonic() < deadline:
        status = darkhorses_dev.graphql(RUN_STATUS, {"runId": run_id})["runOrError"]["status"]
        if status in ("SUCCESS", "FAILURE", "CANCELED"):
            break
        time.sleep(2)
    assert status == "SUCCESS", f"run {run_id} ended {status}:\n{darkhorses_dev.output()[-5000:]}"
    return MaterializedRange(run_id, start, end)


@pytest.fixture(scope="module")
def page(chromium, darkhorses_dev):
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(exist_ok=True)
    darkhorses_dev.graphql("mutation { setNuxSeen }")  # what "Skip" on the first-visit community dialog does
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium,
                                             args=["--no-sandbox", "--disable-dev-shm-usage"])
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        page.set_default_timeout(PAGE_TIMEOUT_MS)
        yield page
        browser.close()


def _open(page, dev: DarkhorsesDev, path: str, ready: str) -> str:
    """Open `path` (dismissing Dagster's first-visit dialog if it still shows), wait for `ready`; the page's text."""
    page.goto(f"{dev.base_url}{path}", wait_until="networkidle", timeout=PAGE_TIMEOUT_MS)
    skip = page.get_by_role("button", name="Skip")
    if skip.count():
        skip.first.click()
    page.get_by_text(ready, exact=True).first.wait_for()
    page.wait_for_load_state("networkidle")
    return page.inner_text("body")


def _shot(page, name: str) -> Path:
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _value_after(text: str, label: str) -> str:
    """The first non-empty line after the line `label` (how the UI lays out a metadata entry)."""
    lines = _lines(text)
    return lines[lines.index(label) + 1]


# --- the pages -----------------------------------------------------------------------------------------------


def test_lineage_groups_read_left_to_right(page, darkhorses_dev, materialized_range):
    _open(page, darkhorses_dev, "/asset-groups", "Global asset lineage")
    groups = {spec.group_name for spec in defs.resolve_all_asset_specs()}
    for group in groups:
        page.get_by_text(group, exact=True).last.wait_for()
    assert groups <= set(_lines(page.inner_text("body")))
    # the graph's node of a group is the right-most element with its name (the left one is the sidebar's)
    x = {group: max(box["x"] for box in (page.get_by_text(group, exact=True).nth(i).bounding_box()
                                         for i in range(page.get_by_text(group, exact=True).count())) if box)
         for group in groups}
    fetching = page.get_by_text("(fetching statuses)", exact=False)
    deadline = time.monotonic() + 30
    while fetching.count() and time.monotonic() < deadline:  # group nodes show their assets' states once loaded
        page.wait_for_timeout(500)
    _shot(page, "lineage")
    order = [x[group] for group in GROUPS_IN_FLOW_ORDER]
    assert order == sorted(order) and len(set(order)) == len(order), x
    assert x["features"] > x["clean"] and x["statistics"] > x["clean"], x


def test_clean_asset_overview_tells_what_the_table_is(page, darkhorses_dev, materialized_range):
    text = _open(page, darkhorses_dev, "/assets/clean/runners", "Columns")
    page.get_by_text("The Racing API's race id", exact=False).first.wait_for()
    text = page.inner_text("body")
    _shot(page, "asset_overview")
    spec = next(s for s in defs.resolve_all_asset_specs() if s.key.to_user_string() == "clean/runners")
    assert spec.description.split(":")[0] in text  # "Declared runners, one row per race_id × horse_id"
    for label in ("Group", "clean", "Owners", "darkhorses", "Kinds", "Polars", "Postgres"):
        assert label in _lines(text), label
    schema = table_schema("runners")
    missing = [c.name for c in schema.columns if c.name not in _lines(text)]
    assert not missing, f"columns not shown: {missing}"
    undescribed = [c.name for c in schema.columns if not c.description or c.description.split("(")[0].strip()
                   .replace("`", "") not in text]
    assert not undescribed, f"column descriptions not shown: {undescribed}"
    assert "non-nullable" in text


def test_clean_asset_partitions_show_one_row_count_and_a_preview(page, darkhorses_dev, materialized_range):
    rng = materialized_range
    text = _open(page, darkhorses_dev, f"/assets/clean/runners?view=partitions&partition={rng.end}",
                 "dagster/row_count")
    materialized = re.search(r"Materialized \((\d+)\)", text)
    assert materialized and int(materialized[1]) >= 2, text[:2000]  # (the automation may add race-week days)
    assert "Materialized" in _lines(text)  # the selected partition's state
    assert _value_after(text, "partitions") == f"{rng.start}..{rng.end}"
    with psycopg.connect(darkhorses_dev.database_url()) as conn:
        rows = conn.execute("SELECT count(*) FROM clean.runners WHERE race_date BETWEEN %s AND %s",
                            (rng.start, rng.end)).fetchone()[0]
    assert rows > 0
    assert int(_value_after(text, "dagster/row_count").replace(",", "")) == rows
    assert "range_rows" not in text
    _shot(page, "asset_partition")
    page.get_by_text("[Show Markdown]").last.click()  # the preview, the last entry
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("horse_id", exact=True).first.wait_for()
    assert "race_id" in dialog.inner_text()
    _shot(page, "asset_preview")


def test_clean_asset_checks_show_results_with_counts(page, darkhorses_dev, materialized_range):
    rng = materialized_range
    text = _open(page, darkhorses_dev, "/assets/clean/runners?view=checks", "Checks (3)")
    for check in ("runners_hard_rules", "runners_soft_rules", "runners_reconciliation"):
        assert check in text
    page.get_by_text("runners_soft_rules", exact=True).first.click()
    page.get_by_text("failing_rules", exact=True).first.wait_for()
    text = page.inner_text("body")
    _shot(page, "asset_checks")
    assert _value_after(text, "partition_range") == f"{rng.start}..{rng.end}"
    for label in ("input_rows", "valid_rows", "quarantined_rows", "failing_rules", "examples", "failing_rows_by_rule"):
        assert label in _lines(text), label
    page.get_by_text("[Show Markdown]").first.click()  # the examples
    dialog = page.get_by_role("dialog")
    dialog.wait_for()
    examples = dialog.inner_text()
    failing = _value_after(text, "failing_rules")
    assert ("No failing rows." in examples) == (failing == "none"), (failing, examples)
    _shot(page, "asset_check_examples")


def test_automation_lists_every_schedule_and_sensor_running(page, darkhorses_dev, materialized_range):
    from playwright.sync_api import expect

    repository = defs.get_repository_def()
    names = {s.name for s in repository.schedule_defs} | {s.name for s in repository.sensor_defs}
    _open(page, darkhorses_dev, "/automation", "run_failure_alerts")
    stopped_by_design = {"raw_gap_filler"}
    states = {}
    for name in sorted(names):
        row = page.locator(f"xpath=//*[normalize-space(text())='{name}']/ancestor::*[@data-index][1]")
        assert row.count() == 1, f"{name} is not listed"
        # A row loads its state after it is drawn: until then it holds only its (disabled) selection box, and
        # its on/off switch, the second box, is not there yet.
        boxes = row.locator("input[type=checkbox]")
        expect(boxes).to_have_count(2, timeout=PAGE_TIMEOUT_MS)
        states[name] = boxes.nth(1).is_checked()
    _shot(page, "automation")
    assert {name for name, running in states.items() if not running} == stopped_by_design, states


def test_runs_page_shows_the_range_run_succeeded(page, darkhorses_dev, materialized_range):
    short_id = materialized_range.run_id[:8]
    _open(page, darkhorses_dev, "/runs", short_id)
    row = page.locator(f"xpath=//*[normalize-space(text())='{short_id}']"  # its row: the nearest with a View link
                       "/ancestor::*[.//*[normalize-space(text())='View']][1]")
    assert row.count() == 1
    row_text = row.inner_text()
    _shot(page, "runs")
    assert "Success" in row_text, row_text
    assert "clean / runners" in row_text or "raw / raw_results" in row_text or "more" in row_text, row_text
    _open(page, darkhorses_dev, f"/runs/{materialized_range.run_id}", "RUN_SUCCESS")
    _shot(page, "run")


def test_no_beta_warning_of_ours_in_the_logs(darkhorses_dev, materialized_range):
    """Every process (code server, daemon, run workers of the range run) logs into darkhorses dev's output."""
    output = darkhorses_dev.output()
    assert "RUN_SUCCESS" in output or "Dagster UI on" in output  # the log is the one the processes write to
    assert "BetaWarning" not in output, [line for line in output.splitlines() if "BetaWarning" in line][:5]
