"""Declarative automation: every asset downstream of the API follows its upstream without a person clicking.

- **clean** tables follow the raw racecards and results of the same race day, for every day of the race week
  (yesterday … today+7), not only the newest partition. A day without racing (Christmas Day) has an empty,
  materialized raw partition, so it completes and never blocks a neighbour. Results are not required: a day
  ahead has declarations only.
- **race_outcomes** follow clean results of the same day; **speed_figures** too, and the clean races of earlier
  days (their standards), of which a missing old partition does not hold them back.
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


def since_requested(trigger: AutomationCondition) -> AutomationCondition:
    """`trigger` has been true since the asset was last requested."""
    return trigger.since(AutomationCondition.newly_requested())


def upstream_updated() -> AutomationCondition:
    """An input partition was updated after this partition was last requested and after it was last updated.

    Not Dagster's `any_deps_updated().since_last_handled()`: in dagster 1.13 an OR (its reset is one, and so is
    `any_deps_updated`) drops the timestamps `since` uses to order a trigger and a reset seen in the same tick,
    and the reset wins. An upstream update seen in the tick right after the asset's own request or update was
    lost until the next one (`test_raceday`: results up to 21 minutes late with the automation ticking every 3
    minutes). Two timed `since`s instead, each with a single reset, so a later input update wins both:
    - since the last request: a request that failed or never ran is not repeated until new input arrives;
    - since the last update: a run that updated an input and this asset together (or a person's own
      materialization) leaves nothing to do.
    """
    input_updated = AutomationCondition.any_deps_match(AutomationCondition.newly_updated())
    return (
        input_updated.since(AutomationCondition.newly_requested())
        & input_updated.since(AutomationCondition.newly_updated())
    ).with_label("an input updated since the last request and update")


def _inputs_changed() -> AutomationCondition:
    """`upstream_updated`, or an input is requested in this same tick (the asset rides along in its run)."""
    return upstream_updated() | AutomationCondition.any_deps_match(AutomationCondition.will_be_requested())


def _settled() -> AutomationCondition:
    return ~AutomationCondition.any_deps_in_progress() & ~AutomationCondition.in_progress()


def follows_race_days(optional_inputs: AssetSelection | None = None) -> AutomationCondition:
    """Any race-week partition whose inputs changed since it was last requested, once they are all present."""
    missing = AutomationCondition.any_deps_missing()
    if optional_inputs is not None:
        missing = missing.ignore(optional_inputs)
    return (
        AutomationCondition.in_latest_time_window(RACE_WEEK)
        & _inputs_changed()
        & ~missing
        & _settled()
    ).with_label("follows the race week's upstream")


def follows_race_days_half_hourly() -> AutomationCondition:
    """`follows_race_days`, but requested at most once per half hour per partition."""
    return (
        AutomationCondition.in_latest_time_window(RACE_WEEK)
        & _inputs_changed()
        & since_requested(AutomationCondition.cron_tick_passed(FEATURES_CRON, RACE_TIMEZONE))
        & ~AutomationCondition.any_deps_missing().ignore(HISTORY_INPUTS)
        & _settled()
    ).with_label("follows upstream, half-hourly")


def nightly(race_day_tables: AssetSelection) -> AutomationCondition:
    """Once after 22:00 UK, when nothing it reads is being written and its unpartitioned inputs exist.

    Race-day inputs are read over every stored partition, so a day never loaded does not hold it back.
    """
    return (
        since_requested(AutomationCondition.cron_tick_passed(NIGHTLY_CRON, RACE_TIMEZONE))
        & ~AutomationCondition.any_deps_missing().ignore(race_day_tables)
        & _settled()
    ).with_label("nightly after racing (22:00 UK)")


RUNNER_FEATURES = features_key("runner_features")
SPEED_FIGURES = features_key("speed_figures")
RAW_HORSE_PROFILES = raw_key("raw_horse_profiles")


def condition_for(spec: AssetSpec, parents: Sequence[AssetKey],
                  race_day_tables: AssetSelection) -> AutomationCondition | None:
    """The condition of one asset. Raw assets get none: schedules and sensors fetch them, because each request
    spends the API's budget and must be planned, not triggered."""
    if spec.key.path[0] == "raw":
        return None
    if spec.key == RUNNER_FEATURES:
        return follows_race_days_half_hourly()
    if spec.key == SPEED_FIGURES:
        return follows_race_days(optional_inputs=RAW_RESULTS | AssetSelection.assets(clean_key("races")))
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
