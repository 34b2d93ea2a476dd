"""DarkHorses: Dagster assets turning The Racing API into validated Postgres tables and point-in-time features."""

import warnings

from dagster import BetaWarning

from darkhorses_assets.instance_settings import apply_event_settings

# Deliberate uses of beta parameters with no stable equivalent (range backfills, lifetime history windows):
# without this every process loading the code (code server, each run and step worker) repeats 6 warnings.
warnings.filterwarnings(
    "ignore", category=BetaWarning,
    message=r"Parameter `(backfill_policy|allow_nonexistent_upstream_partitions)` of ",
)
apply_event_settings()
