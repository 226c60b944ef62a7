"""Every documented attendance var can be overridden: the build passes and the marts change as
the docs say (README "Attendance rules", docs/dbt/attendance_rules.md).

One small district is built with the defaults, then again (on copies) with two groups of
non-default values whose effects can be told apart; those two builds select the models that read
the attendance vars and everything downstream of them (the rest cannot differ from the default
build, which ran every model and test). The package is adjusted first so each rule
has something to act on: some secondary days keep only their period records (period roll-up),
the tardy code carries an absent value, one student has attendance but no enrollment, and one
student gets an enrollment at a second school that overlaps the first. For the default build and
the one with the fraction roll-up, every student x school x session is also recomputed here in
plain Python from the CSVs and the documented rules, in exact fractions, and must equal the mart.
"""

from __future__ import annotations

import csv
import shutil
from collections import defaultdict
from datetime import date, timedelta
from fractions import Fraction
from pathlib import Path

import pytest

from tests.python.support import content_select, dbt_target_path, query, run_rollcall

pytestmark = pytest.mark.dbt

DISTRICT = "demo-unified"
# the models reading the attendance vars (directly or through macros/attendance/attendance_rules.sql)
# are these and their descendants; int_attendance_input_fingerprints holds every attendance var
VAR_READERS = ("int_districts_as_of_dates+", "int_attendance_input_fingerprints+", "int_membership_days_expanded+")
UNITS_PER_DAY = 27_720_000_000


def _rewrite(path: Path, keep=lambda row: True, change=lambda row: row, extra=()) -> None:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        header, rows = reader.fieldnames, [change(dict(row)) for row in reader if keep(row)]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, header)
        writer.writeheader()
        writer.writerows([*rows, *extra])


def _prepare(package: Path) -> dict:
    attendance = package / "attendance.csv"
    with attendance.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    with_periods = {(row["userSourcedId"], row["date"]) for row in rows if row["classSourcedId"]}
    dates = sorted({row["date"] for row in rows})
    period_only = {key for key in with_periods if dates.index(key[1]) % 2 == 0}
    last_day = rows[-1]
    stranger = {**last_day, "sourcedId": "att-stranger", "userSourcedId": "stu-no-enrollment", "classSourcedId": ""}
    stranger.update(period="", absenceCode="P")
    _rewrite(
        attendance,
        keep=lambda row: row["classSourcedId"] or (row["userSourcedId"], row["date"]) not in period_only,
        extra=[stranger],
    )
    _rewrite(
        package / "absenceCodes.csv",
        change=lambda row: {**row, "absentValue": "0.25"} if row["code"] == "T" else row,
    )
    with (package / "enrollments.csv").open(newline="", encoding="utf-8") as handle:
        enrollments = list(csv.DictReader(handle))
    mover = next(e for e in enrollments if e["role"] == "student" and e["endDate"] >= dates[-1])
    other = next(e for e in enrollments if e["schoolSourcedId"] != mover["schoolSourcedId"])
    overlap = {
        **mover,
        "sourcedId": "enr-overlap",
        "classSourcedId": other["classSourcedId"],
        "schoolSourcedId": other["schoolSourcedId"],
        "beginDate": dates[len(dates) // 2],
    }
    _rewrite(package / "enrollments.csv", extra=[overlap])
    as_of = date.fromisoformat(dates[-1])
    return {"as_of": as_of, "earlier": (as_of - timedelta(days=7)).isoformat(), "package": package}


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def expected_sessions(package: Path, defaults: bool) -> dict[tuple[str, str, str], tuple[Fraction, Fraction, int]]:
    """(student, school, session) -> (membership days, absent days, membership day count) by the
    documented rules, exactly: with the defaults, or with group b's vars (fraction roll-up, tardy
    codes never absent, membership from daily attendance records)."""
    day_value = {
        (row["schoolSourcedId"], date.fromisoformat(row["date"])): Fraction(row["instructionalValue"])
        for row in _csv(package / "calendar.csv")
        if Fraction(row["instructionalValue"]) > 0
    }
    codes = {
        row["code"]: Fraction(0) if row["category"] == "tardy" and not defaults else Fraction(row["absentValue"])
        for row in _csv(package / "absenceCodes.csv")
    }
    records = _csv(package / "attendance.csv")
    as_of = max(date.fromisoformat(row["date"]) for row in records)
    daily, periods = {}, defaultdict(list)
    for row in records:
        key = (row["userSourcedId"], row["schoolSourcedId"], date.fromisoformat(row["date"]))
        value = codes.get(row["absenceCode"], Fraction(0))
        if row["classSourcedId"]:
            periods[key].append(value)
        else:
            daily[key] = value
    # every school a student is enrolled at each day, with the latest begin date covering it
    candidates = defaultdict(dict)
    for row in _csv(package / "enrollments.csv"):
        if row["role"] != "student":
            continue
        begin, end = date.fromisoformat(row["beginDate"]), date.fromisoformat(row["endDate"])
        for (school, day), _ in day_value.items():
            if school == row["schoolSourcedId"] and begin <= day < end and day <= as_of:
                latest = candidates[(row["userSourcedId"], day)].get(school)
                candidates[(row["userSourcedId"], day)][school] = max(begin, latest) if latest else begin
    if not defaults:  # membership_from_attendance: a daily record on an instructional day, after enrollments
        for student, school, day in daily:
            if (school, day) in day_value and day <= as_of and school not in candidates[(student, day)]:
                candidates[(student, day)].setdefault(school, date.min)
    sessions = [
        (row["sourcedId"], date.fromisoformat(row["startDate"]), date.fromisoformat(row["endDate"]))
        for row in _csv(package / "academicSessions.csv")
    ]
    totals = defaultdict(lambda: [Fraction(0), Fraction(0), 0])
    for (student, day), schools in candidates.items():
        school = min(schools, key=lambda s: (-schools[s].toordinal(), s))  # began last, then lowest id
        key = (student, school, day)
        if key in daily:
            value = daily[key]
        elif key in periods:
            values = periods[key]
            share = sum(values) / len(values)
            value = Fraction(1 if share >= Fraction(1, 2) else 0) if defaults else share
        else:
            value = Fraction(0)
        for session, start, end in sessions:
            if start <= day < end:
                totals[(student, school, session)][0] += day_value[(school, day)]
                totals[(student, school, session)][1] += day_value[(school, day)] * value
                totals[(student, school, session)][2] += 1
    return {key: tuple(value) for key, value in totals.items()}


def _build(database: Path, *args: str) -> None:
    result = run_rollcall("build", *args, database=database)
    assert result.returncode == 0, result.stdout[-3000:]


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("vars")
    package = root / "package"
    result = run_rollcall("generate", str(package), "--students", "60", "--days", "30", "--seed", "5")
    assert result.returncode == 0, result.stderr
    facts = _prepare(package)
    default = root / "default" / "warehouse.duckdb"  # the one name: see support.stable_path
    load = run_rollcall("load", str(package), "--district", DISTRICT, database=default)
    assert load.returncode == 0, load.stdout + load.stderr
    _build(default)
    groups = {
        "a": {
            "chronic_absence_threshold": 0.2,
            "chronic_absence_min_days": 20,
            "publication_min_cell_size": 0,
            "attendance_as_of_date": facts["earlier"],
        },
        "b": {
            "period_rollup_rule": "fraction",
            "tardy_absent_value": "zero",
            "chronic_minimum_days_basis": "enrolled_days",
            "membership_from_attendance": True,
        },
    }
    databases = {"default": default}
    for name, values in groups.items():
        database = root / name / "warehouse.duckdb"
        database.parent.mkdir()
        shutil.copy(default, database)
        inline = "{" + ", ".join(f"{key}: {value}" for key, value in values.items()) + "}"
        _build(database, "--vars", inline.replace("True", "true"), "--select", *VAR_READERS)
        databases[name] = database
    return {**databases, **facts}


def test_threshold_and_minimum_days_decide_the_flag(builds):
    rows = query(
        builds["a"],
        "select membership_days, absent_day_units, meets_minimum_days, is_chronically_absent"
        " from attendance.fct_student_absence_rates",
    )
    assert rows
    for membership, units, meets, chronic in rows:
        assert meets == (membership >= 20)
        assert chronic == (membership >= 20 and units * 10 >= 2 * membership * UNITS_PER_DAY)
    assert any(chronic for *_, chronic in rows)


def test_as_of_date_stops_membership(builds):
    latest = query(builds["a"], "select max(attendance_date) from attendance.fct_student_daily_attendance")[0][0]
    assert latest <= date.fromisoformat(builds["earlier"])
    default_latest = query(
        builds["default"], "select max(attendance_date) from attendance.fct_student_daily_attendance"
    )
    assert default_latest[0][0] == builds["as_of"]


def test_cell_size_zero_publishes_every_cell(builds):
    assert query(builds["default"], "select count(*) from attendance.fct_published_absence_rates where is_suppressed")[
        0
    ][0]
    assert query(builds["a"], "select count(*) from attendance.fct_published_absence_rates where is_suppressed") == [
        (0,)
    ]


def test_fraction_rule_gives_partial_days(builds):
    sql = (
        "select count(*) from intermediate.int_attendance_days_rolled_up where attendance_source = 'period_rollup'"
        f" and absent_units not in (0, {UNITS_PER_DAY})"
    )
    assert query(builds["default"], sql) == [(0,)]
    assert query(builds["b"], sql)[0][0] > 0


def test_tardy_rule(builds):
    sql = (
        "select count(*), count(*) filter (where absent_units > 0) from intermediate.int_attendance_days_rolled_up"
        " where attendance_category = 'tardy' and attendance_source = 'daily'"
    )
    tardy_days, counted = query(builds["default"], sql)[0]
    assert tardy_days > 0 and counted == tardy_days  # as coded: the tardy code's 0.25
    assert query(builds["b"], sql)[0][1] == 0


def test_minimum_days_basis(builds):
    rows = query(
        builds["b"],
        "select membership_day_count, meets_minimum_days from attendance.fct_student_absence_rates",
    )
    assert rows and all(meets == (count >= 10) for count, meets in rows)


def test_membership_from_attendance(builds):
    sql = "select count(*) from intermediate.int_membership_days_expanded where student_id = 'stu-no-enrollment'"
    assert query(builds["default"], sql) == [(0,)]
    assert query(builds["b"], sql) == [(1,)]


@pytest.mark.parametrize("build", ["default", "b"])
def test_marts_match_an_independent_computation(builds, build):
    expected = expected_sessions(builds["package"], defaults=build == "default")
    actual = {
        (student, school, session): (Fraction(str(membership)), Fraction(units, UNITS_PER_DAY), count, chronic)
        for student, school, session, membership, units, count, chronic in query(
            builds[build],
            "select student_id, school_id, academic_session_id, membership_days, absent_day_units,"
            " membership_day_count, is_chronically_absent from attendance.fct_student_absence_rates",
        )
    }
    assert set(actual) == set(expected)
    for key, (membership, absent, count) in expected.items():
        assert actual[key][:3] == (membership, absent, count), key
        minimum_days = membership if build == "default" else count
        assert actual[key][3] == (minimum_days >= 10 and absent >= Fraction(1, 10) * membership), key
    if build == "b":  # the fraction rule made some days partly absent
        assert any(absent.denominator > 2 for _, absent, _ in expected.values())


def test_segments_summed_in_passes_equal_one_pass(builds, tmp_path):
    """From scratch, a daily fact of more than aggregation_rows_per_pass rows is summed into weekly
    segments one hash bucket of students at a time (macros/aggregation_passes.sql): the same rows."""
    database = tmp_path / "passes" / "warehouse.duckdb"  # the one name: see support.stable_path
    database.parent.mkdir()
    shutil.copy(builds["default"], database)
    args = ("--vars", "{aggregation_rows_per_pass: 100}", "--select", "int_attendance_segments_summed+")
    _build(database, *args, "--full-refresh")
    daily_rows = query(database, "select count(*) from attendance.fct_student_daily_attendance")[0][0]
    compiled = dbt_target_path(args, cli=True) / "run" / "rollcall" / "models" / "intermediate" / "attendance"
    passes = (compiled / "int_attendance_segments_summed.sql").read_text().count("union all") + 1
    assert passes == -(-daily_rows // 100) > 1
    for table in ("intermediate.int_attendance_segments_summed", "attendance.fct_student_absence_rates"):
        select = content_select(database, table)
        in_passes, one_pass = query(database, select), query(builds["default"], select)
        assert in_passes and in_passes == one_pass, table
