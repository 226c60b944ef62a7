"""What `rollcall build` plans from audit.build_log and audit.file_log (no dbt run)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from rollcall.build_plan import code_fingerprint, plan_build, project_fingerprint

TODAY = date(2026, 3, 2)


def _warehouse(tmp_path: Path, fingerprint: str, status: str = "success") -> Path:
    database = tmp_path / "rollcall.duckdb"
    with duckdb.connect(str(database)) as con:
        con.execute("create schema audit")
        con.execute(
            """create table audit.build_log (invocation_id varchar, started_at timestamp, finished_at timestamp,
               status varchar, covers_all_changes boolean, project_fingerprint varchar, build_date date,
               nodes_run integer, nodes_failed integer)"""
        )
        con.execute(
            "insert into audit.build_log values ('i', ?, ?, ?, true, ?, ?, 10, 0)",
            [datetime(2026, 3, 2, 8), datetime(2026, 3, 2, 9), status, fingerprint, TODAY],
        )
        con.execute(
            """create table audit.file_log (status varchar, raw_table varchar, started_at timestamptz,
               finished_at timestamptz)"""
        )
    return database


def test_nothing_loaded_since_the_last_build_builds_nothing(tmp_path: Path) -> None:
    plan = plan_build(_warehouse(tmp_path, project_fingerprint()), [], today=TODAY)
    assert plan.is_empty, plan


def test_changed_vars_build_everything_incrementally(tmp_path: Path) -> None:
    plan = plan_build(_warehouse(tmp_path, project_fingerprint()), ["--vars", "{chronic_absence_min_days: 20}"], TODAY)
    assert plan.reason == "the vars changed since the last build"
    assert "--full-refresh" not in plan.dbt_args and "--select" not in plan.dbt_args


@pytest.mark.parametrize("status", ["success", "failed"])
def test_changed_project_code_rebuilds_incremental_models_from_scratch(tmp_path: Path, status: str) -> None:
    # the latest build ran older models (even a failed one left their incremental rows behind)
    old = f"{'0' * 64}:{project_fingerprint().split(':')[1]}"
    assert old.split(":")[0] != code_fingerprint()
    plan = plan_build(_warehouse(tmp_path, old, status), [], today=TODAY)
    assert "--full-refresh" in plan.dbt_args and "--select" not in plan.dbt_args, plan


def test_full_refresh_is_a_planned_build_passed_in_the_environment(tmp_path: Path) -> None:
    # the plan travels in environment variables, never vars: a plain `dbt` keeps dbt's partial parse
    database = _warehouse(tmp_path, project_fingerprint())
    refresh = plan_build(database, ["--full-refresh"], today=TODAY)
    assert refresh.dbt_args == ["--full-refresh"]
    assert refresh.env == {"ROLLCALL_PROJECT_FINGERPRINT": project_fingerprint(), "ROLLCALL_PLANNED_BUILD": "true"}
    own = plan_build(database, ["--full-refresh", "-s", "dim_schools"], today=TODAY)
    assert own.reason == "your own selection" and own.env["ROLLCALL_PLANNED_BUILD"] == "false"
    assert "--vars" not in own.dbt_args


def test_an_attendance_load_selects_its_raw_table_downstream_without_unit_tests(tmp_path: Path) -> None:
    database = _warehouse(tmp_path, project_fingerprint())
    with duckdb.connect(str(database)) as con:
        con.execute("insert into audit.file_log values ('loaded', 'attendance', ?, ?)", [datetime(2026, 3, 2, 10)] * 2)
    plan = plan_build(database, [], today=TODAY)
    assert plan.changed_sources == ["source:raw_oneroster.attendance"]
    args = plan.dbt_args
    assert args[args.index("--select") + 1] == "source:raw_oneroster.attendance+"
    assert args[args.index("--exclude-resource-type") + 1] == "unit_test"


def _attendance_since_the_build(tmp_path: Path, earlier: list[tuple], loaded: list[tuple]) -> Path:
    """A warehouse whose last build (08:00) set demo's as-of date to TODAY; ``earlier`` records
    (sourcedId, ISO date) were loaded and staged before it, ``loaded`` at 10:00."""
    database = _warehouse(tmp_path, project_fingerprint())
    with duckdb.connect(str(database)) as con:
        con.execute("insert into audit.file_log values ('loaded', 'attendance', ?, ?)", [datetime(2026, 3, 2, 10)] * 2)
        con.execute("create schema raw_oneroster")
        con.execute(
            """create table raw_oneroster.attendance (_district_id varchar, sourced_id varchar, date varchar,
               status varchar, _change_kind varchar, _loaded_at timestamptz)"""
        )
        for hour, records in ((7, earlier), (10, loaded)):
            for sourced_id, day in records:
                con.execute(
                    "insert into raw_oneroster.attendance values ('demo', ?, ?, 'active', 'upsert', ?)",
                    [sourced_id, day, datetime(2026, 3, 2, hour)],
                )
        # staging holds each record's version from before the new loads
        con.execute("create schema staging")
        con.execute(
            """create table staging.stg_oneroster__attendance_records
               (district_id varchar, attendance_record_id varchar, attendance_date date)"""
        )
        for sourced_id, day in earlier:
            staged = "insert into staging.stg_oneroster__attendance_records values ('demo', ?, ?)"
            con.execute(staged, [sourced_id, day])
        con.execute("create schema intermediate")
        con.execute(
            "create table intermediate.int_districts_as_of_dates as select 'demo' as district_id, ?::date as_of_date",
            [TODAY],
        )
    return database


def _keeps_the_clock_models(plan) -> bool:
    return "tag:reads_clock+" not in plan.dbt_args[plan.dbt_args.index("--select") :]


def test_attendance_before_the_as_of_date_leaves_the_clock_models_for_a_new_day(tmp_path: Path) -> None:
    # a new record and a correction of an earlier day: the as-of date (the latest day) stays
    earlier = [("a1", "2026-03-02"), ("a2", "2026-02-27")]
    loaded = [("a2", "2026-02-26"), ("a3", "2026-02-27")]
    database = _attendance_since_the_build(tmp_path, earlier=earlier, loaded=loaded)
    assert not _keeps_the_clock_models(plan_build(database, [], today=TODAY))


def test_a_correction_moving_a_record_off_the_as_of_date_builds_the_clock_models(tmp_path: Path) -> None:
    # a1 was the as-of date's only record: moved to an earlier day, the as-of date may move back
    database = _attendance_since_the_build(
        tmp_path, earlier=[("a1", "2026-03-02"), ("a2", "2026-02-27")], loaded=[("a1", "02/27/2026")]
    )
    assert _keeps_the_clock_models(plan_build(database, [], today=TODAY))


def test_attendance_after_the_as_of_date_builds_the_clock_models(tmp_path: Path) -> None:
    database = _attendance_since_the_build(tmp_path, earlier=[("a1", "2026-03-02")], loaded=[("a2", "2026-03-03")])
    assert _keeps_the_clock_models(plan_build(database, [], today=TODAY))
