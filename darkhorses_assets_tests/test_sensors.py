"""results_watch against the simulator over real HTTP, and raw_gap_filler against a real Dagster instance.

The sensors read the wall clock (`datetime.now(UK)`), so each tick travels there with time-machine and sets the
simulator's clock to the same instant; the simulator counts every request the sensor makes.
"""

from __future__ import annotations

import json
import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from dagster import (
    AssetMaterialization,
    DagsterInstance,
    DagsterRun,
    DagsterRunStatus,
    RunRequest,
    SensorResult,
    SkipReason,
    build_sensor_context,
    instance_for_test,
)
from dagster._core.remote_origin import InProcessCodeLocationOrigin, RemoteJobOrigin, RemoteRepositoryOrigin
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin

from darkhorses_assets.assets.raw import DAYS_PER_RUN, RACING_API_POOL, raw_results
from darkhorses_assets.automation.schedules import AUTOMATION_TAG, RAW_RACECARDS, RAW_RESULTS
from darkhorses_assets.automation.sensors import (
    GAP_FILLER_MAX_ATTEMPTS,
    MAX_POOL_WAIT,
    WatchCursor,
    missing_ranges,
    raw_gap_filler,
    results_watch,
)
from darkhorses_assets.racing_api.client import RacingApiResource
from darkhorses_assets.racing_api.errors import MISSING_CREDENTIALS, RacingApiAuthError
from darkhorses_assets.racing_api.simulator import SimulatorConfig, SimulatorServer
from darkhorses_assets.racing_api.simulator.faults import Faults

UK = ZoneInfo("Europe/London")
DAY = date(2025, 10, 18)
"""A Saturday of the seed-7 world: 40 races, the first off at 12:05 UK."""


def uk(day: date, h: int, mi: int = 0, s: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, h, mi, s, tzinfo=UK)


# -- results_watch ----------------------------------------------------------------------------------------------


def simulator(faults: Faults | None = None) -> SimulatorServer:
    config = SimulatorConfig(now=uk(DAY, 11), time_scale=0, rate_limit_per_s=1000, faults=faults or Faults())
    return SimulatorServer(config)


@pytest.fixture
def sim():
    with simulator() as server:
        yield server


def api(sim: SimulatorServer, **overrides) -> RacingApiResource:
    settings = {"base_url": sim.url, "username": sim.config.username, "password": sim.config.password,
                "requests_per_second": 1000, **overrides}
    return RacingApiResource(**settings)


def published(sim: SimulatorServer, at: datetime) -> int:
    """How many results of ``at``'s day the simulator lists at ``at`` (from its own timeline)."""
    return sum(1 for _, _, when in sim.app.race_day_timeline(at.date()) if when is not None and when <= at)


def near(asked_at: str, expected: datetime) -> bool:
    """The cursor's time is the travelled-to instant (time-machine lets the clock tick on from there)."""
    return timedelta(0) <= datetime.fromisoformat(asked_at) - expected < timedelta(seconds=10)


def after_nth_result(sim: SimulatorServer, n: int) -> datetime:
    """A minute after the n-th result of DAY was published."""
    times = sorted(when for _, _, when in sim.app.race_day_timeline(DAY) if when is not None)
    return times[n - 1] + timedelta(minutes=1)


class Tick:
    """One evaluation of results_watch: what it returned and how many API requests it made."""

    def __init__(self, sim: SimulatorServer, at: datetime, cursor: str | None, instance: DagsterInstance | None = None,
                 resource: RacingApiResource | None = None):
        sim.clock.set(at)
        before = sim.stats()["total"]
        with time_machine.travel(at, tick=True):
            with build_sensor_context(cursor=cursor, instance=instance or DagsterInstance.ephemeral(),
                                      resources={"racing_api": resource or api(sim)}) as context:
                self.result = results_watch(context)
        self.requests_made = sim.stats()["total"] - before
        assert isinstance(self.result, SensorResult)

    @property
    def run_requests(self) -> list[RunRequest]:
        return list(self.result.run_requests or [])

    @property
    def skip_reason(self) -> str | None:
        return self.result.skip_reason.skip_message if self.result.skip_reason else None

    @property
    def cursor(self) -> str:
        return self.result.cursor

    @property
    def seen(self) -> WatchCursor:
        cursor, warning = WatchCursor.parse(self.cursor)
        assert warning is None
        return cursor


def test_before_the_first_result_the_watch_asks_once_and_skips(sim):
    tick = Tick(sim, uk(DAY, 11, 30), None)
    assert tick.requests_made == 1
    assert not tick.run_requests
    assert tick.skip_reason == f"{DAY}: still 0 results"
    assert (tick.seen.day, tick.seen.total) == (DAY.isoformat(), 0)
    assert near(tick.seen.asked_at, uk(DAY, 11, 30))


def test_new_results_start_one_run_for_todays_partition_and_the_same_count_starts_none(sim):
    first = Tick(sim, uk(DAY, 11, 30), None)
    at = after_nth_result(sim, 4)
    total = published(sim, at)
    assert total >= 4
    grew = Tick(sim, at, first.cursor)
    assert grew.requests_made == 1
    [request] = grew.run_requests
    assert request.partition_key == DAY.isoformat()
    assert request.asset_selection == [RAW_RESULTS]
    assert str(total) in request.run_key and DAY.isoformat() in request.run_key
    assert set(request.asset_check_keys) == set(raw_results.check_keys)
    assert request.tags[AUTOMATION_TAG] == "results_watch"  # one tag value: runs filter by source
    assert grew.seen.total == total

    same = Tick(sim, at + timedelta(minutes=3), grew.cursor)  # no race finished in between
    assert published(sim, at + timedelta(minutes=3)) == total
    assert same.requests_made == 1
    assert not same.run_requests
    assert same.skip_reason == f"{DAY}: still {total} results"
    assert same.seen.total == total and same.seen.day == DAY.isoformat()

    later = after_nth_result(sim, total + 3)
    more = Tick(sim, later, same.cursor)
    [again] = more.run_requests
    assert more.seen.total == published(sim, later) > total
    assert again.run_key != request.run_key
    assert again.partition_key == DAY.isoformat()


def test_each_tick_asks_exactly_one_cheap_question(sim):
    cursor = None
    day_total = sum(1 for _, _, when in sim.app.race_day_timeline(DAY) if when is not None)
    for minutes in range(0, 11 * 60, 45):  # 11:00 … 21:45
        tick = Tick(sim, uk(DAY, 11) + timedelta(minutes=minutes), cursor)
        assert tick.requests_made == 1, minutes
        cursor = tick.cursor
    assert tick.seen.total == day_total  # by 21:45 every result is in
    paths = {path for _, path, _ in sim.stats()["requests"]}
    assert paths == {"/v1/results"}


@pytest.mark.parametrize("at", [uk(DAY, 10, 59), uk(DAY, 22, 1), uk(DAY, 3), uk(DAY, 23, 59), uk(DAY, 0, 30)])
def test_outside_racing_hours_no_request_is_made(sim, at):
    cursor = WatchCursor(day=DAY.isoformat(), total=12, asked_at=uk(DAY, 10).isoformat()).dump()
    tick = Tick(sim, at, cursor)
    assert tick.requests_made == 0
    assert not tick.run_requests
    assert tick.skip_reason.startswith("outside racing hours")
    assert f"{at:%H:%M}" in tick.skip_reason
    assert json.loads(tick.cursor) == json.loads(cursor)


@pytest.mark.parametrize("at", [uk(DAY, 11), uk(DAY, 21, 59, 50)])
def test_racing_hours_include_their_ends(sim, at):
    assert Tick(sim, at, None).requests_made == 1


def test_racing_hours_are_uk_hours_in_winter_and_summer():
    winter = date(2025, 1, 15)
    config = SimulatorConfig(now=uk(winter, 11), time_scale=0, rate_limit_per_s=1000)
    with SimulatorServer(config) as server:
        # 10:30 UTC is 10:30 GMT in January (outside) but would be 11:30 BST (inside) in summer
        assert Tick(server, uk(winter, 10, 30), None).requests_made == 0
        assert Tick(server, uk(winter, 11, 30), None).requests_made == 1
    with simulator() as server:
        assert Tick(server, uk(DAY, 10, 30), None).requests_made == 0  # 09:30 UTC
        assert Tick(server, uk(DAY, 21, 30), None).requests_made == 1  # 20:30 UTC


@pytest.mark.parametrize("kind", ["429", "503"])
def test_a_refused_request_skips_the_tick_keeps_the_cursor_and_is_not_retried(kind):
    with simulator(Faults(fail_first={kind: 1})) as server:
        cursor = WatchCursor(day=DAY.isoformat(), total=3, asked_at=uk(DAY, 13).isoformat()).dump()
        started = time.monotonic()
        tick = Tick(server, uk(DAY, 16), cursor)
        assert time.monotonic() - started < 5
        assert tick.requests_made == 1
        assert server.stats()["by_status"] == {kind: 1}
        assert not tick.run_requests
        assert "did not answer" in tick.skip_reason and kind in tick.skip_reason
        assert json.loads(tick.cursor) == json.loads(cursor)
        time.sleep(1.1)  # the Retry-After: 1 the client honours on a 429
        recovered = Tick(server, uk(DAY, 16), tick.cursor)
        assert recovered.run_requests and recovered.seen.total == published(server, uk(DAY, 16))


def test_the_rate_limit_skips_the_tick_without_an_exception():
    config = SimulatorConfig(now=uk(DAY, 14), time_scale=0, rate_limit_per_s=0.01, rate_limit_burst=1)
    with SimulatorServer(config) as server:
        first = Tick(server, uk(DAY, 14), None)
        assert first.run_requests
        limited = Tick(server, uk(DAY, 14, 3), first.cursor)
        assert server.stats()["by_status"] == {"200": 1, "429": 1}
        assert limited.requests_made == 1 and not limited.run_requests
        assert "429" in limited.skip_reason
        assert limited.cursor == first.cursor


def test_a_slow_answer_times_out_and_skips_the_tick():
    with simulator(Faults(fail_first={"slow": 1}, slow_seconds=3)) as server:
        cursor = WatchCursor(day=DAY.isoformat(), total=3, asked_at=uk(DAY, 13).isoformat()).dump()
        started = time.monotonic()
        tick = Tick(server, uk(DAY, 16), cursor, resource=api(server, timeout_s=0.5))
        assert time.monotonic() - started < 2.5
        assert not tick.run_requests
        assert "did not answer" in tick.skip_reason and "Timeout" in tick.skip_reason
        assert json.loads(tick.cursor) == json.loads(cursor)


def test_rejected_credentials_fail_the_tick_loudly(sim):
    with pytest.raises(RacingApiAuthError):
        Tick(sim, uk(DAY, 14), None, resource=api(sim, password="wrong"))


def test_without_credentials_the_tick_says_what_to_set_and_asks_nothing(sim):
    tick = Tick(sim, uk(DAY, 14), None, resource=api(sim, username="", password=""))
    assert tick.requests_made == 0 and not tick.run_requests
    assert tick.skip_reason == MISSING_CREDENTIALS


@pytest.mark.parametrize("old", ["5", "{not json", '{"day": "2025-10-18"}', '{"day": "2025-10-18", "total": "many"}',
                                 "[1, 2]", "null"])
def test_an_unreadable_cursor_is_reset_with_a_warning(sim, old, capfd):
    at = after_nth_result(sim, 2)
    tick = Tick(sim, at, old)
    assert tick.requests_made == 1
    [request] = tick.run_requests  # from a reset cursor every result is new
    assert tick.seen.total == published(sim, at) and tick.seen.day == DAY.isoformat()
    assert str(tick.seen.total) in request.run_key
    _, warning = WatchCursor.parse(old)
    assert warning and warning.startswith("reset an unreadable cursor")
    assert "results_watch: reset an unreadable cursor" in capfd.readouterr().err


def test_a_new_day_starts_counting_from_zero(sim):
    yesterday = WatchCursor(day=(DAY - timedelta(days=1)).isoformat(), total=45,
                            asked_at=uk(DAY - timedelta(days=1), 21, 57).isoformat()).dump()
    at = after_nth_result(sim, 3)
    tick = Tick(sim, at, yesterday)
    [request] = tick.run_requests  # 3 < 45, but they are today's
    assert request.partition_key == DAY.isoformat()
    assert tick.seen.day == DAY.isoformat() and tick.seen.total == published(sim, at)


def test_a_shrinking_count_starts_no_run_and_keeps_the_highest_seen(sim):
    at = after_nth_result(sim, 3)
    cursor = WatchCursor(day=DAY.isoformat(), total=published(sim, at) + 5, asked_at=uk(DAY, 13).isoformat()).dump()
    tick = Tick(sim, at, cursor)
    assert not tick.run_requests
    assert tick.seen.total == json.loads(cursor)["total"]


# -- results_watch and the racing_api pool ----------------------------------------------------------------------


@pytest.fixture
def pool_instance():
    """An instance with the project's pool setting: one racing_api step at a time."""
    with instance_for_test(overrides={"concurrency": {"pools": {"default_limit": 1}}}) as instance:
        assert instance.event_log_storage.supports_global_concurrency_limits
        yield instance


def hold_pool(instance: DagsterInstance) -> None:
    """What a running raw step does: claim the racing_api slot."""
    storage = instance.event_log_storage
    storage.initialize_concurrency_limit_to_default(RACING_API_POOL)
    claim = storage.claim_concurrency_slot(RACING_API_POOL, "run-holding-the-pool", "raw__raw_results")
    assert claim.is_claimed
    assert storage.get_concurrency_info(RACING_API_POOL).active_slot_count == 1


def test_while_a_run_holds_the_api_pool_the_watch_waits_but_not_forever(sim, pool_instance):
    at = uk(DAY, 15)
    free = Tick(sim, at, None, instance=pool_instance)
    assert free.requests_made == 1 and free.run_requests

    hold_pool(pool_instance)
    busy = Tick(sim, at + timedelta(minutes=3), free.cursor, instance=pool_instance)
    assert busy.requests_made == 0 and not busy.run_requests
    assert "racing_api pool" in busy.skip_reason
    assert busy.cursor == free.cursor

    overdue = Tick(sim, at + MAX_POOL_WAIT + timedelta(minutes=1), busy.cursor, instance=pool_instance)
    assert overdue.requests_made == 1  # ten minutes without asking: ask even though the pool is busy
    assert near(overdue.seen.asked_at, at + MAX_POOL_WAIT + timedelta(minutes=1))

    pool_instance.event_log_storage.free_concurrency_slot_for_step("run-holding-the-pool", "raw__raw_results")
    assert Tick(sim, at + MAX_POOL_WAIT + timedelta(minutes=3), overdue.cursor,
                instance=pool_instance).requests_made == 1


@pytest.mark.parametrize("asked_at", ["at lunchtime", "2025-10-18T14:58:00"])
def test_an_unreadable_asked_at_is_reset_not_a_crash_while_the_pool_is_busy(sim, pool_instance, asked_at):
    hold_pool(pool_instance)
    cursor = json.dumps({"day": DAY.isoformat(), "total": 3, "asked_at": asked_at})
    tick = Tick(sim, uk(DAY, 15), cursor, instance=pool_instance)
    assert tick.requests_made == 1  # asked, as with no record of when it last asked
    assert near(tick.seen.asked_at, uk(DAY, 15))


# -- raw_gap_filler ------------------------------------------------------------------------------------------------

GAP_NOW = uk(date(2015, 3, 10), 12)
"""Ten weeks after the partitions' start (2015-01-01): yesterday is 2015-03-09."""
FIRST, YESTERDAY = date(2015, 1, 1), date(2015, 3, 9)


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


@pytest.fixture
def instance():
    with instance_for_test() as instance:
        yield instance


def stored(instance: DagsterInstance, asset, first: date, last: date) -> None:
    for day in days(first, last):
        instance.report_runless_asset_event(AssetMaterialization(asset_key=asset, partition=day.isoformat()))


def fill(instance: DagsterInstance, cursor: str | None = None) -> SensorResult | SkipReason:
    with time_machine.travel(GAP_NOW, tick=True):
        return raw_gap_filler(build_sensor_context(instance=instance, cursor=cursor))


def ranges(result) -> dict:
    """{asset: (first, last)} of the run requests."""
    assert isinstance(result, SensorResult)
    found = {}
    for request in result.run_requests or []:
        [asset] = request.asset_selection
        assert request.partition_key is None
        assert request.tags[AUTOMATION_TAG] == "raw_gap_filler"
        found[asset] = (request.tags[ASSET_PARTITION_RANGE_START_TAG], request.tags[ASSET_PARTITION_RANGE_END_TAG])
    return found


def test_nothing_stored_asks_the_first_31_days_of_each_asset_in_one_tick(instance):
    result = fill(instance)
    assert ranges(result) == {RAW_RESULTS: ("2015-01-01", "2015-01-31"), RAW_RACECARDS: ("2015-01-01", "2015-01-31")}
    assert DAYS_PER_RUN == 31
    run_keys = [r.run_key for r in result.run_requests]
    # the sensor daemon starts one run per run key and tick: equal keys would drop the racecards range
    assert len(set(run_keys)) == len(run_keys) == 2


def test_the_first_missing_range_of_each_asset_is_asked(instance):
    stored(instance, RAW_RESULTS, FIRST, date(2015, 1, 10))
    stored(instance, RAW_RESULTS, date(2015, 1, 15), YESTERDAY)
    stored(instance, RAW_RACECARDS, FIRST, date(2015, 2, 28))
    assert ranges(fill(instance)) == {RAW_RESULTS: ("2015-01-11", "2015-01-14"),
                                      RAW_RACECARDS: ("2015-03-01", "2015-03-09")}


def test_everything_stored_up_to_yesterday_asks_nothing(instance):
    stored(instance, RAW_RESULTS, FIRST, YESTERDAY)
    stored(instance, RAW_RACECARDS, FIRST, YESTERDAY)
    result = fill(instance)  # today … today+7 are missing, but they are the schedules' business
    assert isinstance(result, SensorResult) and not result.run_requests
    assert result.skip_reason.skip_message == "no missing raw race days"


def test_one_asset_complete_the_other_asked(instance):
    stored(instance, RAW_RESULTS, FIRST, YESTERDAY)
    stored(instance, RAW_RACECARDS, date(2015, 1, 2), YESTERDAY)
    assert ranges(fill(instance)) == {RAW_RACECARDS: ("2015-01-01", "2015-01-01")}


def run_with_status(instance: DagsterInstance, job_name: str, status: DagsterRunStatus, source: str) -> DagsterRun:
    """A run record tagged like the automation's, in ``status`` (as the run storage holds it while a run waits
    in the queue, starts, runs or is being cancelled)."""
    location = InProcessCodeLocationOrigin(LoadableTargetOrigin(module_name="darkhorses_assets.definitions"))
    origin = RemoteJobOrigin(RemoteRepositoryOrigin(location, "__repository__"), job_name)
    run = instance.run_storage.add_run(DagsterRun(job_name=job_name, status=status, tags={AUTOMATION_TAG: source},
                                                  remote_job_origin=origin))
    assert instance.get_run_by_id(run.run_id).status == status
    return run


@pytest.mark.parametrize("status", [DagsterRunStatus.QUEUED, DagsterRunStatus.NOT_STARTED, DagsterRunStatus.STARTING,
                                    DagsterRunStatus.STARTED, DagsterRunStatus.CANCELING])
def test_waits_while_its_own_run_is_unfinished_and_only_its_own(instance, status):
    stored(instance, RAW_RACECARDS, FIRST, YESTERDAY)
    cursor = json.dumps({"attempts": {"raw_results:2015-01-01..2015-01-31": 1}})
    other = run_with_status(instance, "__ASSET_JOB", status, "results_final")
    assert ranges(fill(instance, cursor)) == {RAW_RESULTS: ("2015-01-01", "2015-01-31")}  # not its run

    # a queued run (QueuedRunCoordinator, waiting for a slot) is as unfinished as a running one
    mine = run_with_status(instance, "__ASSET_JOB", status, "raw_gap_filler")
    assert other.run_id != mine.run_id
    waiting = fill(instance, cursor)
    assert isinstance(waiting, SkipReason)
    assert mine.run_id in waiting.skip_message

    instance.report_run_failed(mine)
    assert instance.get_run_by_id(mine.run_id).status == DagsterRunStatus.FAILURE
    again = fill(instance, cursor)
    assert ranges(again) == {RAW_RESULTS: ("2015-01-01", "2015-01-31")}
    assert json.loads(again.cursor)["attempts"]["raw_results:2015-01-01..2015-01-31"] == 2


def test_gives_up_on_a_range_after_three_attempts_and_moves_on(instance, capfd):
    stored(instance, RAW_RACECARDS, FIRST, YESTERDAY)
    stored(instance, RAW_RESULTS, FIRST, date(2015, 1, 10))
    stored(instance, RAW_RESULTS, date(2015, 1, 15), date(2015, 1, 31))
    stored(instance, RAW_RESULTS, date(2015, 2, 4), YESTERDAY)
    cursor, run_keys = None, []
    for attempt in range(1, GAP_FILLER_MAX_ATTEMPTS + 1):
        result = fill(instance, cursor)
        assert ranges(result) == {RAW_RESULTS: ("2015-01-11", "2015-01-14")}, attempt
        run_keys.append(result.run_requests[0].run_key)
        cursor = result.cursor
        assert json.loads(cursor)["attempts"] == {"raw_results:2015-01-11..2015-01-14": attempt}
    assert len(set(run_keys)) == GAP_FILLER_MAX_ATTEMPTS  # a retry is a new run, not a duplicate
    fourth = fill(instance, cursor)
    assert ranges(fourth) == {RAW_RESULTS: ("2015-02-01", "2015-02-03")}
    logged = capfd.readouterr().err
    assert "gave up after 3 attempts" in logged and "raw_results:2015-01-11..2015-01-14" in logged

    stored(instance, RAW_RESULTS, date(2015, 2, 1), date(2015, 2, 3))  # the second range succeeded
    done = fill(instance, fourth.cursor)
    assert not done.run_requests  # the given-up range stays given up
    assert json.loads(done.cursor)["attempts"]["raw_results:2015-01-11..2015-01-14"] == GAP_FILLER_MAX_ATTEMPTS


def test_a_partly_filled_range_is_a_new_range_with_fresh_attempts(instance):
    stored(instance, RAW_RACECARDS, FIRST, YESTERDAY)
    stored(instance, RAW_RESULTS, date(2015, 2, 1), YESTERDAY)
    cursor = json.dumps({"attempts": {"raw_results:2015-01-01..2015-01-31": 3}})
    assert not fill(instance, cursor).run_requests
    stored(instance, RAW_RESULTS, FIRST, date(2015, 1, 5))
    assert ranges(fill(instance, cursor)) == {RAW_RESULTS: ("2015-01-06", "2015-01-31")}


@pytest.mark.parametrize("cursor", ["garbage", "[]", '{"attempts": {"raw_results:x": "three"}}'])
def test_an_unreadable_gap_cursor_starts_over(instance, cursor):
    stored(instance, RAW_RACECARDS, FIRST, YESTERDAY)
    result = fill(instance, cursor)
    assert ranges(result) == {RAW_RESULTS: ("2015-01-01", "2015-01-31")}
    assert json.loads(result.cursor) == {"attempts": {"raw_results:2015-01-01..2015-01-31": 1}}


# -- missing_ranges ------------------------------------------------------------------------------------------------


def iso(*values: date) -> set[str]:
    return {d.isoformat() for d in values}


def d(day: int, month: int = 1) -> date:
    return date(2015, month, day)


@pytest.mark.parametrize(
    ("all_days", "have", "max_days", "expected"),
    [
        ([], set(), 31, []),
        (days(d(1), d(10)), iso(*days(d(1), d(10))), 31, []),
        (days(d(1), d(10)), set(), 31, [(d(1), d(10))]),
        (days(d(1), d(10)), iso(d(5)), 31, [(d(1), d(4)), (d(6), d(10))]),
        (days(d(1), d(10)), iso(d(1), d(10)), 31, [(d(2), d(9))]),
        (days(d(1), d(31)), set(), 31, [(d(1), d(31))]),  # exactly the limit: one range
        (days(d(1), d(1, 2)), set(), 31, [(d(1), d(31)), (d(1, 2), d(1, 2))]),  # one more: a second range
        (days(d(1), d(6, 3)), set(), 31, [(d(1), d(31)), (d(1, 2), d(3, 3)), (d(4, 3), d(6, 3))]),
        (days(d(1), d(5)), set(), 2, [(d(1), d(2)), (d(3), d(4)), (d(5), d(5))]),
        (days(d(1), d(5)), iso(d(2), d(4)), 1, [(d(1), d(1)), (d(3), d(3)), (d(5), d(5))]),
        # non-consecutive input days are never joined into one range
        ([d(1), d(3), d(4)], set(), 31, [(d(1), d(1)), (d(3), d(4))]),
    ],
)
def test_missing_ranges(all_days, have, max_days, expected):
    found = missing_ranges(all_days, have, max_days)
    assert found == expected
    for first, last in found:
        assert 1 <= (last - first).days + 1 <= max_days
        assert first.isoformat() not in have and last.isoformat() not in have


def test_missing_ranges_cover_exactly_the_missing_days():
    all_days = days(FIRST, YESTERDAY)
    have = iso(*all_days[::3], *all_days[40:50])
    found = missing_ranges(all_days, have, 7)
    covered = [day for first, last in found for day in days(first, last)]
    assert covered == [day for day in all_days if day.isoformat() not in have]
    assert all((last - first).days < 7 for first, last in found)
