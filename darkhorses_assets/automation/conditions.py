"""Declarative automation: every asset downstream of the API follows its upstream without a person clicking.

- **clean** tables follow the raw racecards and results of the same race day, for every day of the race week
  (yesterday … today+7), not only the newest partition. A day without racing (Christmas Day) has an empty,
  materialized raw partition, so it completes and never blocks a neighbour. Results are not required: a day
  ahead has declarations only.
- **race_outcomes** follow clean results of the same day.
- **runner_features** follow clean tables, at most once per half hour per day: every new result of today
  changes the features of all seven days ahead, and recomputing them after each race would read all history
  thirty times a day. Only the declared runners (same day) must exist; history partitions may be missing.
- **dimensions, statistics and the feature signal** are rebuilt once a night after the racing day (22:00 UK).
- **horse_profiles** parse each new batch of raw profiles as soon as it lands.

Each condition waits while anything it reads is being written (`any_deps_in_progress`) and never stacks a
second request on a running one (`in_progress`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from dagster import AssetKey, AssetsDefinition, AssetSelection, AssetSpec, AutomationCondition

from darkhorses_assets.assets.keys import clean_key, features_key, raw_key
from darkhorses_assets.partitions import RACE_TIMEZONE, RACECARD_DAYS_AHEAD

RACE_WEEK = timedelta(days=RACECARD_DAYS_AHEAD + 3)
"""Partitions automation looks after: the newest partition (today+7) back to yesterday, with a day's margin."""
FEATURES_CRON = "*/30 * * * *"
NIGHTLY_CRON = "0 22 * * *"
HISTORY_INPUTS = AssetSelection.assets(clean_key("races"), clean_key("results"))
"""Inputs read over all history: a missing old partition must not stop today's features."""
RAW_RESULTS = AssetSelection.assets(raw_key("raw_results"))


def _settled() -> AutomationCondition:
    return ~AutomationCondition.any_deps_in_progress() & ~AutomationCondition.in_progress()


def follows_race_days(optional_inputs: AssetSelection | None = None) -> AutomationCondition:
    """Any race-week partition whose inputs changed since it was last requested, once they are all present."""
    missing = AutomationCondition.any_deps_missing()
    if optional_inputs is not None:
        missing = missing.ignore(optional_inputs)
    return (
        AutomationCondition.in_latest_time_window(RACE_WEEK)
        & AutomationCondition.any_deps_updated().since_last_handled()
        & ~missing
        & _settled()
    ).with_label("follows the race week's upstream")


def follows_race_days_half_hourly() -> AutomationCondition:
    """`follows_race_days`, but requested at most once per half hour per partition."""
    return (
        AutomationCondition.in_latest_time_window(RACE_WEEK)
        & AutomationCondition.any_deps_updated().since_last_handled()
        & AutomationCondition.cron_tick_passed(FEATURES_CRON, RACE_TIMEZONE).since_last_handled()
        & ~AutomationCondition.any_deps_missing().ignore(HISTORY_INPUTS)
        & _settled()
    ).with_label("follows upstream, half-hourly")


def nightly(race_day_tables: AssetSelection) -> AutomationCondition:
    """Once after 22:00 UK, when nothing it reads is being written and its unpartitioned inputs exist.

    Race-day inputs are read over every stored partition, so a day never loaded does not hold it back.
    """
    return (
        AutomationCondition.cron_tick_passed(NIGHTLY_CRON, RACE_TIMEZONE).since_last_handled()
        & ~AutomationCondition.any_deps_missing().ignore(race_day_tables)
        & _settled()
    ).with_label("nightly after racing (22:00 UK)")


RUNNER_FEATURES = features_key("runner_features")
RAW_HORSE_PROFILES = raw_key("raw_horse_profiles")


def condition_for(spec: AssetSpec, parents: Sequence[AssetKey],
                  race_day_tables: AssetSelection) -> AutomationCondition | None:
    """The condition of one asset. Raw assets get none: schedules and sensors fetch them, because each request
    spends the API's budget and must be planned, not triggered."""
    if spec.key.path[0] == "raw":
        return None
    if spec.key == RUNNER_FEATURES:
        return follows_race_days_half_hourly()
    if spec.partitions_def is not None:
        return follows_race_days(optional_inputs=RAW_RESULTS)
    if RAW_HORSE_PROFILES in parents:
        return AutomationCondition.eager()
    return nightly(race_day_tables)


def with_automation(assets: Sequence[AssetsDefinition]) -> list[AssetsDefinition]:
    """The assets, each spec carrying its condition from `condition_for`."""
    race_day_tables = AssetSelection.assets(
        *[spec.key for asset in assets for spec in asset.specs if spec.partitions_def is not None]
    )

    def mapped(spec: AssetSpec) -> AssetSpec:
        parents = [dep.asset_key for dep in spec.deps]
        return spec.replace_attributes(automation_condition=condition_for(spec, parents, race_day_tables))

    return [asset.map_asset_specs(mapped) for asset in assets]
