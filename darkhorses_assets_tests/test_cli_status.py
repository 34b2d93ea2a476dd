"""`darkhorses status` on a real instance (a temporary DAGSTER_HOME): the latest materialized partition and the
missing ranges per asset, failing checks, runs in flight, every schedule and sensor; exit code 1 while the latest
evaluation of a blocking check failed, 0 otherwise.

Materializations and check evaluations are recorded in the instance with Dagster's API for externally run
assets (`report_runless_asset_event`): the command reads the instance, whoever wrote to it."""

import pytest
from dagster import (
    AssetCheckEvaluation,
    AssetCheckSeverity,
    AssetKey,
    AssetMaterialization,
    DagsterInstance,
    DagsterRunStatus,
)

from darkhorses_assets.cli import main
from darkhorses_assets.definitions import defs

RAW_RESULTS = AssetKey(["raw", "raw_results"])
RUNNERS = AssetKey(["clean", "runners"])


@pytest.fixture
def home(tmp_path, monkeypatch, postgres_url):
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("DARKHORSES_DATABASE_URL", postgres_url)
    return home


def _check(instance, name: str, passed: bool, severity=AssetCheckSeverity.ERROR) -> None:
    instance.report_runless_asset_event(AssetCheckEvaluation(
        asset_key=RUNNERS, check_name=name, passed=passed, severity=severity, metadata={"failing_rows": 3}))


def _status(capsys) -> tuple[int, dict[str, str]]:
    code = main(["status"])
    out = capsys.readouterr().out
    rows = {line.split("│")[1].strip(): line for line in out.splitlines() if line.count("│") > 3}
    return code, out, rows


def test_status_exit_code_follows_the_blocking_checks(home, capsys):
    with DagsterInstance.from_config(str(home)) as instance:
        for day in ("2025-06-01", "2025-06-02", "2025-06-04"):
            instance.report_runless_asset_event(AssetMaterialization(asset_key=RAW_RESULTS, partition=day))
        _check(instance, "runners_soft_rules", passed=False, severity=AssetCheckSeverity.WARN)
        job = defs.resolve_implicit_global_asset_job_def().get_subset(asset_selection={RAW_RESULTS})
        queued = instance.create_run_for_job(job, asset_selection={RAW_RESULTS}, status=DagsterRunStatus.NOT_STARTED,
                                             tags={"dagster/partition": "2025-06-05"})

        code, out, rows = _status(capsys)
        assert code == 0, out  # a failing warning check does not fail the status
        assert "2025-06-04" in rows["raw/raw_results"]
        assert "2015-01-01…2025-05-31" in rows["raw/raw_results"] and "2025-06-03," in rows["raw/raw_results"]
        assert f"{queued.run_id[:8]} NOT_STARTED 2025-06-05" in rows["raw/raw_results"]
        assert "never" in rows["clean/races"]
        assert "runners_soft_rules" in rows["clean/runners"] and "(blocking)" not in rows["clean/runners"]
        for name in ("racecards_week_ahead", "results_final", "results_watch", "raw_gap_filler",
                     "run_failure_alerts"):
            assert name in rows, out
        assert "STOPPED (default)" in rows["raw_gap_filler"]  # ships stopped: it spends API budget
        assert "Daemon: not running" in out

        _check(instance, "runners_hard_rules", passed=False)
        code, out, rows = _status(capsys)
        assert code == 1, out
        assert "runners_hard_rules (blocking)" in rows["clean/runners"]
        assert "FAILING blocking checks: clean/runners:runners_hard_rules" in out

        _check(instance, "runners_hard_rules", passed=True)  # fixed: the latest evaluation passes
        code, out, rows = _status(capsys)
        assert code == 0, out
        assert "runners_hard_rules" not in rows["clean/runners"]


def test_status_without_a_reachable_instance_is_one_line_and_exit_code_2(tmp_path, monkeypatch, capsys):
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text(
        "storage:\n  postgres:\n    postgres_url: postgresql+psycopg2://nobody:secret@127.0.0.1:1/dagster\n")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    assert main(["status"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("darkhorses: cannot open the Dagster instance"), err
    assert "secret" not in err
