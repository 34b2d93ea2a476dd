"""The deployments of docs/deploy.md hold together: every documented dagster.yaml loads into a real instance on a
real Postgres, each run launcher's and executor's config passes its own class's schema, the compose file and
the Helm values say what the guide says, the Dockerfile copies what exists and starts the real module, and a
multiprocess run keeps the `racing_api` pool across processes against the simulator."""

from __future__ import annotations

import os
import re
import shutil
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from darkhorses_assets.local.postgres import sqlalchemy_psycopg2_url

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEPLOY = PROJECT_ROOT / "deploy"
DOCKER_YAML = DEPLOY / "docker" / "dagster.yaml"
K8S_YAML = DEPLOY / "k8s" / "dagster.yaml"
CELERY_YAML = DEPLOY / "celery" / "dagster.yaml"
INSTANCE_YAMLS = [DOCKER_YAML, K8S_YAML, CELERY_YAML]
LOCATION_NAME = "darkhorses_assets.definitions"
POOL = "racing_api"


def _load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def _home_with(tmp_path: Path, source: Path, name: str = "home") -> Path:
    home = tmp_path / name
    home.mkdir()
    shutil.copyfile(source, home / "dagster.yaml")
    return home


@pytest.fixture
def storage_env(postgres_url, monkeypatch):
    """The documented instances read Dagster's storage URL from the environment, as in production."""
    monkeypatch.setenv("DARKHORSES_DAGSTER_STORAGE_URL", sqlalchemy_psycopg2_url(postgres_url))
    monkeypatch.setenv("DARKHORSES_DATABASE_URL", postgres_url)
    monkeypatch.setenv("DAGSTER_CELERY_BROKER_URL", "redis://redis:6379/0")
    monkeypatch.setenv("DAGSTER_CELERY_BACKEND_URL", "redis://redis:6379/1")
    return postgres_url


# -- the multiprocess run and the racing_api pool ------------------------------------------------------------


API_STEPS_JOB = "raw_api_steps"


def raw_api_steps_job():
    """A job of the code location's two daily API assets, rebuilt from the environment in every step process
    (reconstructable): the real assets, resources and pool."""
    from dagster import AssetSelection, Definitions, define_asset_job

    from darkhorses_assets.automation.freshness import freshness_checks
    from darkhorses_assets.definitions import defs

    # The assets with their own checks; not the freshness checks (separate steps that call no API).
    selection = (AssetSelection.assets(["raw", "raw_results"], ["raw", "raw_racecards"])
                 - AssetSelection.checks(*freshness_checks))
    job = define_asset_job(API_STEPS_JOB, selection=selection)
    return Definitions.merge(defs, Definitions(jobs=[job])).resolve_job_def(API_STEPS_JOB)


def _run_two_api_steps(home: Path, sim, first, last):
    """raw_results and raw_racecards over first..last in one run, each step in its own process (multiprocess
    executor, 2 at once allowed). Returns the run's result, its step windows {step: (start, end, pid)} and the
    simulator's requests during the run."""
    from dagster import DagsterEventType, DagsterInstance, execute_job, reconstructable

    before = len(sim.app.stats()["requests"])
    with DagsterInstance.from_config(str(home)) as instance:
        result = execute_job(
            reconstructable(raw_api_steps_job), instance=instance,
            tags={"dagster/asset_partition_range_start": first.isoformat(),
                  "dagster/asset_partition_range_end": last.isoformat()},
            run_config={"execution": {"config": {"multiprocess": {"max_concurrent": 2}}}},
        )
        windows: dict[str, list] = {}
        for record in instance.get_records_for_run(result.run_id).records:
            entry = record.event_log_entry
            event = entry.dagster_event
            if event is None or event.event_type not in (DagsterEventType.STEP_START, DagsterEventType.STEP_SUCCESS,
                                                          DagsterEventType.STEP_FAILURE):
                continue
            window = windows.setdefault(event.step_key, [None, None, None])
            if event.event_type == DagsterEventType.STEP_START:
                window[0], window[2] = entry.timestamp, event.pid
            else:
                window[1] = entry.timestamp
    requests_during = sim.app.stats()["requests"][before:]
    return result, {step: tuple(window) for step, window in windows.items()}, requests_during


@pytest.mark.slow
def test_multiprocess_run_keeps_the_racing_api_pool_across_processes(storage_env, tmp_path, monkeypatch):
    """Two API steps of one run in two processes, on the Docker deployment's instance (its run launcher is not
    used: the run executes here, its steps in processes of their own): with the documented pool limit (1) they
    run one after the other and the simulator (2 requests/s per credential, like the API) never answers 429.
    The same run with the pool set to 2 slots overlaps them (so the check can fail): each process then paces
    only its own requests."""
    from darkhorses_assets.partitions import today_in_uk
    from darkhorses_assets.racing_api.simulator import SimulatorConfig, SimulatorServer

    last = today_in_uk() - timedelta(days=3)
    first = last - timedelta(days=6)
    home = _home_with(tmp_path, DOCKER_YAML)
    assert _load(home / "dagster.yaml")["concurrency"]["pools"]["default_limit"] == 1

    with SimulatorServer(SimulatorConfig(), host="127.0.0.1", port=0) as sim:
        monkeypatch.setenv("RACING_API_BASE_URL", sim.url)
        monkeypatch.setenv("RACING_API_USERNAME", sim.config.username)
        monkeypatch.setenv("RACING_API_PASSWORD", sim.config.password)
        monkeypatch.setenv("DARKHORSES_AUTOMATION", "off")
        result, windows, requests_made = _run_two_api_steps(home, sim, first, last)
        assert result.success
        assert set(windows) == {"raw__raw_results", "raw__raw_racecards"}, windows
        (a_start, a_end, a_pid), (b_start, b_end, b_pid) = sorted(windows.values())
        print(f"\npool limit 1: steps {a_start:.2f}-{a_end:.2f} (pid {a_pid}) and {b_start:.2f}-{b_end:.2f} "
              f"(pid {b_pid}); {len(requests_made)} requests, statuses "
              f"{sorted({status for _, _, status in requests_made})}")
        assert a_pid != b_pid and os.getpid() not in (a_pid, b_pid), "each step in a process of its own"
        assert a_end <= b_start, f"the steps overlapped although the pool allows one: {windows}"
        assert len(requests_made) >= 14
        assert all(status == 200 for _, _, status in requests_made), "a 429 with the pool at 1"

        # The control: two slots (set as `dagster instance concurrency set racing_api 2` does; changing
        # default_limit on a database where the pool exists fails runs on Postgres, dagster issue 33552).
        from dagster import DagsterInstance

        with DagsterInstance.from_config(str(home)) as instance:
            instance.event_log_storage.set_concurrency_slots(POOL, 2)
        result, windows, requests_made = _run_two_api_steps(home, sim, first, last)
        assert result.success
        (a_start, a_end, _), (b_start, b_end, _) = sorted(windows.values())
        statuses = [status for _, _, status in requests_made]
        print(f"pool limit 2: steps {a_start:.2f}-{a_end:.2f} and {b_start:.2f}-{b_end:.2f}; "
              f"{len(requests_made)} requests, {statuses.count(429)} answered 429")
        assert b_start < a_end, f"with two slots the steps should overlap: {windows}"


# -- every documented instance, against its own classes' schemas ---------------------------------------------


def _validated(config_schema, value):
    """`value` checked by Dagster's own config machinery against a class's schema, env sources resolved."""
    from dagster._config import Shape, process_config, validate_config

    schema = Shape(config_schema) if isinstance(config_schema, dict) else config_schema
    checked = validate_config(schema, value)
    assert checked.success, [error.message for error in checked.errors]
    processed = process_config(schema, value)
    assert processed.success, [error.message for error in processed.errors]
    return processed.value


def _assert_project_policies(instance):
    """What every deployment keeps from the project's dagster.yaml: the pool, the run limit, monitoring of
    dead runs and retries of dead runs only."""
    from dagster._core.run_coordinator import QueuedRunCoordinator

    concurrency = instance.get_concurrency_config()
    assert concurrency.pool_config.default_pool_limit == 1
    assert concurrency.run_queue_config.max_concurrent_runs == 4
    assert isinstance(instance.run_coordinator, QueuedRunCoordinator)
    assert instance.run_monitoring_enabled
    assert instance.run_retries_enabled and instance.run_retries_max_retries == 2
    assert instance.run_retries_retry_on_asset_or_op_failure is False
    assert instance.get_settings("run_monitoring")["free_slots_after_run_end_seconds"] == 30
    # The storage answers: Postgres, the test's database.
    assert instance.get_runs() == []
    instance.event_log_storage.set_concurrency_slots(POOL, 1)
    assert instance.event_log_storage.get_concurrency_info(POOL).slot_count == 1


def test_docker_instance_loads_with_its_docker_run_launcher(storage_env, tmp_path):
    from dagster import DagsterInstance
    from dagster_docker import DockerRunLauncher

    launcher_config = _load(DOCKER_YAML)["run_launcher"]
    assert (launcher_config["module"], launcher_config["class"]) == ("dagster_docker", "DockerRunLauncher")
    _validated(DockerRunLauncher.config_type(), launcher_config["config"])
    with DagsterInstance.from_config(str(_home_with(tmp_path, DOCKER_YAML))) as instance:
        assert type(instance.event_log_storage).__module__.startswith("dagster_postgres")
        _assert_project_policies(instance)
        launcher = instance.run_launcher  # built here: needs no Docker daemon until a run starts
        assert isinstance(launcher, DockerRunLauncher)
        assert launcher.networks == ["darkhorses"]
        assert launcher.supports_check_run_worker_health
        assert instance.get_settings("run_monitoring").get("max_resume_run_attempts") == 0


def test_k8s_instance_rendered_by_the_helm_values_loads_and_its_launcher_config_builds_a_launcher(
        storage_env, tmp_path, monkeypatch):
    """The chart's instance has `postgres_db` (host, user, password from a secret): checked against
    dagster-postgres's schema, then pointed at the test's database to load the rest for real. K8sRunLauncher
    loads a kube config when built, so it is built from the same config with a kubeconfig file of our own
    (`load_incluster_config` needs a pod)."""
    from dagster import DagsterInstance
    from dagster_k8s import K8sRunLauncher
    from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage, PostgresScheduleStorage

    monkeypatch.setenv("DAGSTER_PG_PASSWORD", "secret")
    monkeypatch.setenv("DAGSTER_HOME", "/opt/dagster/dagster_home")
    monkeypatch.setenv("DAGSTER_K8S_INSTANCE_CONFIG_MAP", "darkhorses-dagster-instance")
    monkeypatch.setenv("DAGSTER_K8S_PG_PASSWORD_SECRET", "dagster-postgresql-secret")
    monkeypatch.setenv("DAGSTER_K8S_PIPELINE_RUN_ENV_CONFIGMAP", "darkhorses-dagster-pipeline-env")
    config = _load(K8S_YAML)
    for key, storage_class in (("run_storage", PostgresRunStorage), ("event_log_storage", PostgresEventLogStorage),
                               ("schedule_storage", PostgresScheduleStorage)):
        postgres_db = _validated(storage_class.config_type(), config[key]["config"])["postgres_db"]
        assert postgres_db["scheme"] == "postgresql+psycopg2" and postgres_db["password"] == "secret"
        config[key]["config"] = {"postgres_url": {"env": "DARKHORSES_DAGSTER_STORAGE_URL"}}
    launcher_config = _validated(K8sRunLauncher.config_type(), config["run_launcher"]["config"])

    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    with DagsterInstance.from_config(str(home)) as instance:
        _assert_project_policies(instance)
        ref = instance.get_ref()
        assert ref.run_launcher_data.module_name == "dagster_k8s"
        assert ref.run_launcher_data.class_name == "K8sRunLauncher"

    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "test",
        "clusters": [{"name": "test", "cluster": {"server": "https://127.0.0.1:6443"}}],
        "users": [{"name": "test", "user": {"token": "t"}}],
        "contexts": [{"name": "test", "context": {"cluster": "test", "user": "test"}}],
    }))
    launcher = K8sRunLauncher(**{**launcher_config, "load_incluster_config": False,
                                 "kubeconfig_file": str(kubeconfig)})
    assert launcher.job_namespace == "darkhorses"
    assert launcher.env_secrets == ["darkhorses-env"]
    assert launcher.supports_check_run_worker_health


def test_celery_instance_loads_and_the_executor_config_passes_the_celery_schema(storage_env, tmp_path):
    from dagster import DagsterInstance
    from dagster._core.launcher import DefaultRunLauncher
    from dagster_celery import celery_executor
    from dagster_celery.cli import get_validated_config

    with DagsterInstance.from_config(str(_home_with(tmp_path, CELERY_YAML))) as instance:
        _assert_project_policies(instance)
        assert isinstance(instance.run_launcher, DefaultRunLauncher)

    executor_config = _load(DEPLOY / "celery" / "celery.yaml")["execution"]["config"]
    processed = _validated(celery_executor.config_schema.config_type, executor_config)
    assert processed["broker"] == "redis://redis:6379/0" and processed["backend"] == "redis://redis:6379/1"
    assert "enabled" in processed["retries"], "step retry policies must keep working on the workers"
    # What `dagster-celery worker start -y deploy/celery/celery.yaml` reads, through its own loader.
    assert get_validated_config(str(DEPLOY / "celery" / "celery.yaml"))["broker"] == "redis://redis:6379/0"


def test_celery_definitions_give_every_job_the_celery_executor(storage_env):
    import runpy

    defs = runpy.run_path(str(DEPLOY / "celery" / "definitions.py"))["defs"]
    jobs = defs.resolve_all_job_defs()
    assert jobs
    for job in jobs:
        assert job.executor_def.name == "darkhorses_celery_executor", job.name
    from darkhorses_assets.definitions import defs as project_defs

    def keys(d):
        return {spec.key for spec in d.resolve_all_asset_specs()}

    assert keys(defs) == keys(project_defs), "the project's assets, unchanged"


# -- the compose file, the Helm values, the Dockerfile and the extras -----------------------------------------


def _compose() -> dict:
    return _load(DEPLOY / "docker" / "compose.yaml")


def _required_env(value: str) -> bool:
    return bool(re.fullmatch(r"\$\{\w+:\?[^}]+\}", value))


def test_compose_file_runs_code_server_webserver_and_daemon_as_the_docker_instance_expects():
    compose = _compose()
    services = compose["services"]
    assert {"code", "webserver", "daemon"} <= set(services)
    launcher = _load(DOCKER_YAML)["run_launcher"]["config"]
    workspace = _load(DEPLOY / "docker" / "workspace.yaml")["load_from"][0]["grpc_server"]

    # The code server: the project's module under the location name, on the port the workspace dials.
    code = services["code"]
    command = code["command"]
    assert command[:3] == ["dagster", "code-server", "start"]
    assert command[command.index("-m") + 1] == LOCATION_NAME
    assert command[command.index("--location-name") + 1] == workspace["location_name"] == LOCATION_NAME
    assert str(workspace["port"]) == command[command.index("-p") + 1] and workspace["host"] == "code"
    assert (DEPLOY / "docker" / code["build"]["context"] / code["build"]["dockerfile"]).resolve() \
        == PROJECT_ROOT / "Dockerfile"
    assert code["build"]["args"]["EXTRAS"] == "docker"
    # Runs start from the code server's image (DockerRunLauncher has no image of its own).
    assert "image" not in launcher and code["environment"]["DAGSTER_CURRENT_IMAGE"] == code["image"]

    for name in ("webserver", "daemon"):
        service = services[name]
        assert service["image"] == code["image"], name
        workspace_file = service["command"][service["command"].index("-w") + 1]
        mounts = {volume.split(":")[1]: volume.split(":")[0] for volume in service["volumes"]}
        assert mounts[workspace_file] == "./workspace.yaml", name
        assert mounts["/opt/dagster/dagster_home/dagster.yaml"] == "./dagster.yaml", name
        assert mounts["/var/run/docker.sock"] == "/var/run/docker.sock", f"{name} starts/stops run containers"
        assert service["environment"]["DAGSTER_HOME"] == "/opt/dagster/dagster_home"
        # DockerRunLauncher copies each listed variable from the launching process: unset ones fail the launch.
        missing = [var for var in launcher["env_vars"] if "=" not in var and var not in service["environment"]]
        assert not missing, f"{name} lacks {missing}"
        assert "code" in service["depends_on"]
    assert services["webserver"]["command"][0] == "dagster-webserver"
    assert services["webserver"]["ports"] == ["3000:3000"]
    assert services["daemon"]["command"][:2] == ["dagster-daemon", "run"]

    # Secrets and the database are required from the operator's environment, never defaulted.
    env = services["daemon"]["environment"]
    for var in ("DARKHORSES_DATABASE_URL", "DARKHORSES_DAGSTER_STORAGE_URL", "RACING_API_USERNAME",
                "RACING_API_PASSWORD"):
        assert _required_env(env[var]), var

    # Run containers join the compose network and the compute-log volume by their fixed names.
    assert launcher["network"] == compose["networks"]["darkhorses"]["name"]
    for service in ("code", "webserver", "daemon"):
        assert services[service]["networks"] == ["darkhorses"]
    run_volume = launcher["container_kwargs"]["volumes"][0].split(":")[0]
    assert compose["volumes"][run_volume]["name"] == run_volume
    assert any(volume.startswith(f"{run_volume}:") for volume in services["webserver"]["volumes"])

    # Only for trying it out: the local Postgres and the simulator are behind profiles.
    assert services["postgres"]["profiles"] == ["local"]
    assert services["simulator"]["profiles"] == ["simulator"]
    sim_command = services["simulator"]["command"]
    assert sim_command[2] == "darkhorses_assets.racing_api.simulator" and "0.0.0.0" in sim_command


# Keys the official chart's schema allows under runLauncher.config.k8sRunLauncher (it forbids others).
CHART_K8S_RUN_LAUNCHER_KEYS = {
    "image", "imagePullPolicy", "jobNamespace", "loadInclusterConfig", "kubeconfigFile", "envConfigMaps",
    "envSecrets", "envVars", "volumeMounts", "volumes", "labels", "failPodOnRunFailure", "resources",
    "schedulerName", "securityContext", "runK8sConfig",
}


def test_helm_values_render_the_documented_k8s_instance():
    """The values and deploy/k8s/dagster.yaml say the same thing, mapped the way the chart's templates map
    them (concurrency, run monitoring, run retries via additionalInstanceConfig, launcher, Postgres)."""
    values = _load(DEPLOY / "k8s" / "values.yaml")
    instance = _load(K8S_YAML)

    assert values["postgresql"]["enabled"] is False and values["generatePostgresqlPasswordSecret"] is False
    postgres_db = instance["run_storage"]["config"]["postgres_db"]
    assert postgres_db["hostname"] == values["postgresql"]["postgresqlHost"]
    assert postgres_db["username"] == values["postgresql"]["postgresqlUsername"]
    assert postgres_db["db_name"] == values["postgresql"]["postgresqlDatabase"]
    assert postgres_db["port"] == values["postgresql"]["service"]["port"]
    assert postgres_db["params"] == values["postgresql"]["postgresqlParams"]
    assert postgres_db["scheme"] == values["postgresql"]["postgresqlScheme"] == "postgresql+psycopg2"
    assert postgres_db["password"] == {"env": "DAGSTER_PG_PASSWORD"}

    assert values["concurrency"]["enabled"] is True
    assert instance["concurrency"]["pools"]["default_limit"] == values["concurrency"]["pools"]["defaultLimit"] == 1
    assert instance["concurrency"]["runs"]["max_concurrent_runs"] == values["concurrency"]["runs"]["maxConcurrentRuns"]
    # The chart refuses maxConcurrentRuns in both places.
    assert "maxConcurrentRuns" not in values["dagsterDaemon"]["runCoordinator"]["config"]["queuedRunCoordinator"]

    monitoring = values["dagsterDaemon"]["runMonitoring"]
    assert instance["run_monitoring"] == {
        "enabled": monitoring["enabled"], "start_timeout_seconds": monitoring["startTimeoutSeconds"],
        "max_resume_run_attempts": monitoring["maxResumeRunAttempts"],
        "poll_interval_seconds": monitoring["pollIntervalSeconds"],
        "free_slots_after_run_end_seconds": monitoring["freeSlotsAfterRunEndSeconds"]}
    assert values["dagsterDaemon"]["runRetries"]["enabled"] is False, "else the chart writes run_retries twice"
    assert instance["run_retries"] == values["additionalInstanceConfig"]["run_retries"]
    assert instance["run_retries"]["retry_on_asset_or_op_failure"] is False

    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    k8s = values["runLauncher"]["config"]["k8sRunLauncher"]
    assert set(k8s) <= CHART_K8S_RUN_LAUNCHER_KEYS, set(k8s) - CHART_K8S_RUN_LAUNCHER_KEYS
    launcher = instance["run_launcher"]["config"]
    assert launcher["load_incluster_config"] == k8s["loadInclusterConfig"]
    assert launcher["image_pull_policy"] == k8s["imagePullPolicy"]
    assert launcher["env_secrets"] == [secret["name"] for secret in k8s["envSecrets"]]
    assert launcher["resources"] == k8s["resources"]

    (deployment,) = values["dagster-user-deployments"]["deployments"]
    args = deployment["codeServerArgs"]
    assert args[args.index("-m") + 1] == LOCATION_NAME
    assert args[args.index("--location-name") + 1] == LOCATION_NAME
    assert [secret["name"] for secret in deployment["envSecrets"]] == launcher["env_secrets"]
    assert deployment["includeConfigInLaunchedRuns"]["enabled"] is True
    assert values["telemetry"]["enabled"] is instance["telemetry"]["enabled"] is False


def _dockerfile_instructions() -> list[tuple[str, str]]:
    text = (PROJECT_ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1].strip())
            for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_dockerfile_copies_what_exists_and_starts_the_code_location():
    import json
    import tomllib

    instructions = _dockerfile_instructions()
    args = dict(value.split("=", 1) for kind, value in instructions if kind == "ARG")
    extras = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert args["EXTRAS"] in extras
    assert (PROJECT_ROOT / args["DAGSTER_YAML"]) in INSTANCE_YAMLS
    ignored = {line.strip() for line in (PROJECT_ROOT / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")}
    for kind, value in instructions:
        if kind == "COPY":
            *sources, _ = value.split()
            for source in sources:
                assert (PROJECT_ROOT / source).exists(), source
                assert source not in ignored, f"{source} is in .dockerignore"
    (cmd,) = [json.loads(value) for kind, value in instructions if kind == "CMD"]
    assert cmd[:3] == ["dagster", "code-server", "start"]
    assert cmd[cmd.index("-m") + 1] == LOCATION_NAME and cmd[cmd.index("--location-name") + 1] == LOCATION_NAME
    assert {".venv", ".darkhorses", ".git", "**/.env"} <= ignored, "no secrets or local state in the image"


def test_scale_out_extras_are_dagsters_own_libraries_on_its_release_line():
    import tomllib
    from importlib.metadata import version

    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    assert extras["docker"] == ["dagster-docker==0.29.27"]
    assert extras["k8s"] == ["dagster-k8s==0.29.27"]
    assert extras["celery"] == ["dagster-celery[redis]==0.29.27"]
    assert "dagster-dg-cli==1.13.27" in extras["dev"]
    assert "darkhorses_assets[docker,k8s,celery]" in extras["dev"], "make test installs what this module checks"
    assert "dagster==1.13.27" in project["dependencies"]
    # Installed together without moving dagster (each library pins core exactly).
    assert version("dagster") == "1.13.27"
    for library in ("dagster-docker", "dagster-k8s", "dagster-celery", "dagster-postgres"):
        assert version(library) == "0.29.27", library
    assert version("dagster-dg-cli") == "1.13.27"


# -- a real Celery run: two API steps on a Celery worker, the pool held across processes ---------------------

CELERY_TEST_YAML_ENV = "DARKHORSES_TEST_CELERY_YAML"  # read only by this test module's job function


def celery_api_steps_job():
    """The two API assets with deploy/celery's executor config, its broker swapped for kombu's filesystem
    transport (no Redis here): the worker process runs the steps, the run worker here claims the pool."""
    from dagster import Definitions
    from dagster_celery import celery_executor

    job = raw_api_steps_job()
    config = yaml.safe_load(Path(os.environ[CELERY_TEST_YAML_ENV]).read_text())["execution"]["config"]
    executor = celery_executor.configured(config, name="darkhorses_celery_executor")
    return Definitions(jobs=[job.with_executor_def(executor)]).resolve_job_def(API_STEPS_JOB)


@pytest.mark.slow
def test_celery_worker_runs_api_steps_one_at_a_time(storage_env, tmp_path, monkeypatch):
    """deploy/celery's instance and executor settings, a real `dagster-celery worker` process (two worker
    slots), a broker on the file system: both API steps run on the worker, one after the other, 0 x 429."""
    import subprocess
    import threading
    import time

    from darkhorses_assets.partitions import today_in_uk
    from darkhorses_assets.racing_api.simulator import SimulatorConfig, SimulatorServer

    broker, results = tmp_path / "broker", tmp_path / "results"
    broker.mkdir()
    results.mkdir()
    config = _load(DEPLOY / "celery" / "celery.yaml")
    config["execution"]["config"]["broker"] = "filesystem://"
    config["execution"]["config"]["backend"] = f"file://{results}"
    config["execution"]["config"]["config_source"]["broker_transport_options"] = {
        "data_folder_in": str(broker), "data_folder_out": str(broker),
        "control_folder": str(tmp_path / "control")}  # kombu's default is ./control, in the project root
    celery_yaml = tmp_path / "celery.yaml"
    celery_yaml.write_text(yaml.safe_dump(config))
    monkeypatch.setenv(CELERY_TEST_YAML_ENV, str(celery_yaml))
    home = _home_with(tmp_path, CELERY_YAML)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("PYTHONPATH", str(PROJECT_ROOT))
    last = today_in_uk() - timedelta(days=3)
    first = last - timedelta(days=6)

    with SimulatorServer(SimulatorConfig(), host="127.0.0.1", port=0) as sim:
        monkeypatch.setenv("RACING_API_BASE_URL", sim.url)
        monkeypatch.setenv("RACING_API_USERNAME", sim.config.username)
        monkeypatch.setenv("RACING_API_PASSWORD", sim.config.password)
        monkeypatch.setenv("DARKHORSES_AUTOMATION", "off")
        log = tmp_path / "worker.log"
        bin_dir = Path(sys.executable).parent
        env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}  # it runs `celery`
        with log.open("wb") as out:
            worker = subprocess.Popen(
                [str(bin_dir / "dagster-celery"), "worker", "start", "-A", "dagster_celery.app",
                 "-y", str(celery_yaml), "-q", "dagster", "--", "--concurrency", "2"],
                cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, process_group=0)
        try:
            deadline = time.monotonic() + 90
            while "ready." not in log.read_text(errors="replace"):
                assert worker.poll() is None and time.monotonic() < deadline, log.read_text(errors="replace")[-5000:]
                time.sleep(0.5)
            # The Celery execution loop waits on the broker without a deadline: run it in a thread, so a
            # worker that dies fails this test instead of hanging it.
            outcome: list = []
            runner = threading.Thread(target=lambda: outcome.append(_run_celery(home, sim, first, last)), daemon=True)
            runner.start()
            runner.join(300)
            assert outcome, f"the Celery run did not finish in 300 s:\n{log.read_text(errors='replace')[-5000:]}"
            result, windows, requests_made = outcome[0]
        finally:
            _stop_group(worker)
        worker_log = log.read_text(errors="replace")
    assert result.success, worker_log[-5000:]
    assert set(windows) == {"raw__raw_results", "raw__raw_racecards"}, windows
    (a_start, a_end, a_pid), (b_start, b_end, b_pid) = sorted(windows.values())
    print(f"\ncelery: steps {a_start:.2f}-{a_end:.2f} (pid {a_pid}) and {b_start:.2f}-{b_end:.2f} (pid {b_pid}); "
          f"{len(requests_made)} requests, statuses {sorted({status for _, _, status in requests_made})}")
    assert os.getpid() not in (a_pid, b_pid), "the steps ran on the Celery worker"
    assert a_end <= b_start, f"the steps overlapped although the pool allows one: {windows}"
    assert all(status == 200 for _, _, status in requests_made), "a 429 with the pool at 1"


def _stop_group(process) -> None:
    """SIGTERM to the worker's process group (dagster-celery, celery and its pool), SIGKILL to whatever is left
    after 30 s: nothing of the worker outlives the test."""
    import signal
    import subprocess
    import time

    def alive() -> bool:
        try:
            os.killpg(process.pid, 0)
            return True
        except ProcessLookupError:
            return False

    os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    while alive() and time.monotonic() < deadline:
        process.poll()
        time.sleep(0.5)
    if alive():
        os.killpg(process.pid, signal.SIGKILL)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        pass


def _run_celery(home, sim, first, last):
    from dagster import DagsterEventType, DagsterInstance, execute_job, reconstructable

    before = len(sim.app.stats()["requests"])
    with DagsterInstance.from_config(str(home)) as instance:
        result = execute_job(
            reconstructable(celery_api_steps_job), instance=instance,
            tags={"dagster/asset_partition_range_start": first.isoformat(),
                  "dagster/asset_partition_range_end": last.isoformat()},
        )
        windows: dict[str, list] = {}
        for record in instance.get_records_for_run(result.run_id).records:
            entry, event = record.event_log_entry, record.event_log_entry.dagster_event
            if event is None or event.event_type not in (DagsterEventType.STEP_START, DagsterEventType.STEP_SUCCESS,
                                                          DagsterEventType.STEP_FAILURE):
                continue
            window = windows.setdefault(event.step_key, [None, None, None])
            if event.event_type == DagsterEventType.STEP_START:
                window[0], window[2] = entry.timestamp, event.pid
            else:
                window[1] = entry.timestamp
    return result, {step: tuple(window) for step, window in windows.items()}, sim.app.stats()["requests"][before:]


# -- why docs/deploy.md has the pool set by hand ------------------------------------------------------------


def _pool_job():
    from dagster import job, op

    @op(pool=POOL)
    def calls_the_api():
        return 1

    @job
    def one_api_step():
        calls_the_api()

    return one_api_step


def test_a_changed_default_limit_fails_runs_on_postgres_unless_the_pool_is_set(storage_env, tmp_path):
    """Dagster 1.13.27 on Postgres (dagster issue 33552): once the pool's row exists, an instance whose
    `default_limit` differs re-initialises it with an INSERT that aborts the transaction, and the run fails.
    A limit set as `dagster instance concurrency set racing_api 1` does is never re-initialised."""
    from dagster import DagsterEventType, DagsterInstance

    first = _home_with(tmp_path, DOCKER_YAML, "first")
    changed = _home_with(tmp_path, DOCKER_YAML, "changed")
    config = _load(changed / "dagster.yaml")
    config["concurrency"]["pools"]["default_limit"] = 2
    (changed / "dagster.yaml").write_text(yaml.safe_dump(config))

    with DagsterInstance.from_config(str(first)) as instance:
        assert _pool_job().execute_in_process(instance=instance).success
        assert instance.event_log_storage.get_concurrency_info(POOL).slot_count == 1
    with DagsterInstance.from_config(str(changed)) as instance:
        result = _pool_job().execute_in_process(instance=instance, raise_on_error=False)
        assert not result.success, "dagster issue 33552 fixed? then docs/deploy.md can drop the manual step"
        (failure,) = instance.get_records_for_run(result.run_id, of_type=DagsterEventType.RUN_FAILURE).records
        assert "InFailedSqlTransaction" in str(failure.event_log_entry.dagster_event.event_specific_data.error)

        instance.event_log_storage.set_concurrency_slots(POOL, 1)  # = dagster instance concurrency set racing_api 1
        assert _pool_job().execute_in_process(instance=instance).success
        assert instance.event_log_storage.get_concurrency_info(POOL).slot_count == 1
