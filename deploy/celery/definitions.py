"""DarkHorses with every step on Celery workers (docs/deploy.md): the project's definitions, unchanged, with the
Celery executor (dagster-celery) as the default executor of every asset job. Loaded by deploy/celery/workspace.yaml;
workers import the same file from the same image."""

from pathlib import Path

import yaml
from dagster import Definitions
from dagster_celery import celery_executor

from darkhorses_assets.definitions import defs as darkhorses_defs

CELERY_YAML = Path(__file__).with_name("celery.yaml")
CELERY_CONFIG = yaml.safe_load(CELERY_YAML.read_text())["execution"]["config"]

defs = Definitions.merge(
    darkhorses_defs,
    Definitions(executor=celery_executor.configured(CELERY_CONFIG, name="darkhorses_celery_executor")),
)
