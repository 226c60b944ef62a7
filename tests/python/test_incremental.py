"""Incremental builds give exactly the numbers of a full rebuild.

A small district is loaded and built (a copy of the session's sample warehouse, conftest.py), then
changed the ways districts change it — a new school day, late corrections, tombstones, a record
moved to another student and date, an enrollment back-dated a month (overlapping another school),
a changed calendar day and absence code, a student back after weeks away, a guardian's new email
address — each load followed by the incremental `rollcall build`.
After the sequence, every attendance model and mart must equal, row for row, a `--full-refresh`
build of a copy of the same warehouse.
"""

from __future__ import annotations

import csv
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.python.support import (
    SAMPLE_DISTRICT,
    SampleWarehouse,
    content_select,
    query,
    run_dbt,
    run_rollcall,
    write_package,
)

pytestmark = pytest.mark.dbt

DISTRICT = SAMPLE_DISTRICT
COMPARED = {
    "staging.stg_oneroster__attendance_records": "district_id, attendance_record_id",
    "intermediate.int_membership_days_expanded": "district_id, student_id, school_id, calendar_date",
    "intermediate.int_attendance_days_rolled_up": "district_id, student_id, school_id, attendance_date",
    "intermediate.int_attendance_segments_summed": "district_id, student_id, school_id, segment_id",
    "intermediate.int_attendance_sessions_summed": "district_id, student_id, school_id, academic_session_id",
    "attendance.fct_student_daily_attendance": "district_id, student_id, attendance_date",
    "attendance.fct_student_absence_rates": "district_id, student_id, school_id, academic_session_id",
    "attendance.fct_chronic_absenteeism": "rule_set_id, district_id, student_id, school_id, academic_session_id",
    "attendance.fct_student_early_warning": "district_id, student_id, attendance_date",
    "attendance.fct_school_absence_rates": "district_id, school_id, academic_session_id",
    "attendance.fct_published_absence_rates": "rule_set_id, district_id, school_id, academic_session_id, "
    "reporting_group_type, reporting_group_value",
    "quality.fct_attendance_exceptions": "district_id, attendance_record_id",
    "quality.fct_membership_overlaps": "district_id, student_id, school_id, counted_school_id",
    "messaging.fct_teacher_audiences": "k_teacher_audience",
}
# the full rebuild: every compared model and everything upstream of it, from scratch
FULL_REFRESH = ("run", "--full-refresh", "--select", *(f"+{table.split('.')[1]}" for table in COMPARED))
ATTENDANCE_HEADER = [
    "sourcedId",
    "status",
    "dateLastModified",
    "userSourcedId",
    "schoolSourcedId",
    "classSourcedId",
    "period",
    "date",
    "absenceCode",
]


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _delta_drop(folder: Path, files: dict[str, tuple[list[str], list[dict[str, str]]]]) -> Path:
    """A drop whose manifest marks every file delta; ``files`` maps entity -> (header, rows)."""
    manifest = "propertyName,value\nmanifest.version,1.0\noneroster.version,1.1\n"
    manifest += "".join(f"file.{entity},delta\n" for entity in files)
    texts = {"manifest.csv": manifest}
    for entity, (header, rows) in files.items():
        lines = [",".join(header)] + [",".join(row.get(column, "") for column in header) for row in rows]
        texts[f"{entity}.csv"] = "\n".join(lines) + "\n"
    return write_package(folder, texts)


def _active(row: dict[str, str], **changes: str) -> dict[str, str]:
    return {**row, "status": "active", "dateLastModified": "2026-01-15T12:00:00Z", **changes}


def _next_school_day(package: Path, after: date) -> date:
    days = sorted(
        date.fromisoformat(row["date"])
        for row in _rows(package / "calendar.csv")
        if float(row["instructionalValue"]) > 0 and date.fromisoformat(row["date"]) > after
    )
    return days[0]


def _new_day(package: Path, day: date, prefix: str) -> list[dict[str, str]]:
    """The last recorded day's records again, dated ``day``, with new ids and some absences; students
    with period records keep only those, so their day rolls up from periods (some partly absent)."""
    attendance = _rows(package / "attendance.csv")
    last_date = max(row["date"] for row in attendance)
    last = [row for row in attendance if row["date"] == last_date]
    with_periods = {row["userSourcedId"] for row in last if row["classSourcedId"]}
    rows = []
    for number, row in enumerate(last):
        if not row["classSourcedId"] and row["userSourcedId"] in with_periods:
            continue
        code = "UX" if number % 9 == 0 else ("EX" if number % 13 == 0 else row["absenceCode"])
        rows.append(_active(row, sourcedId=f"{prefix}-{number:05d}", date=day.isoformat(), absenceCode=code))
    return rows


def _assert_same(incremental: Path, full: Path) -> None:
    for table, key in COMPARED.items():
        select = content_select(full, table, key)
        expected, actual = query(full, select), query(incremental, select)
        assert expected, f"{table} is empty: the scenario tests nothing"
        assert actual == expected, f"{table}: incremental differs from a full rebuild"


@pytest.fixture(scope="module")
def sequence(tmp_path_factory: pytest.TempPathFactory, sample_warehouse: SampleWarehouse) -> dict:
    root = tmp_path_factory.mktemp("incremental")
    # the session's sample district, loaded and built by `rollcall build` on an empty warehouse:
    # that first build is this sequence's initial one, and its OneRoster package the drop changed below
    package = sample_warehouse.package
    database = sample_warehouse.copy(root / "warehouse")
    steps = {"initial": sample_warehouse.build_output}

    def load_and_build(drop: Path, label: str, *build_args: str) -> None:
        load = run_rollcall("load", str(drop), "--district", DISTRICT, database=database)
        assert load.returncode == 0, load.stdout + load.stderr
        build = run_rollcall("build", "--verbose", *build_args, database=database)  # with dbt's log
        assert build.returncode == 0, build.stdout[-3000:]
        steps[label] = build.stdout

    attendance = _rows(package / "attendance.csv")
    as_of = max(date.fromisoformat(row["date"]) for row in attendance)
    by_day = sorted({row["date"] for row in attendance})

    # 1. a new school day, two late corrections and a tombstone
    day_one = _next_school_day(package, as_of)
    early = [row for row in attendance if row["date"] == by_day[4]]
    corrections = [_active(early[0], absenceCode="UX"), _active(early[1], absenceCode="P")]
    tombstone = [_active(early[2], status="tobedeleted")]
    drop = _delta_drop(
        root / "drop-1", {"attendance": (ATTENDANCE_HEADER, _new_day(package, day_one, "d1") + corrections + tombstone)}
    )
    load_and_build(drop, "new day, corrections, tombstone")

    # 2. a record moved to another student and date; an enrollment back-dated a month at another
    #    school; a calendar day turned into a half day and another into a holiday; a code's value;
    #    a student who left in the first weeks and comes back on the second new day (step 3), more
    #    than a month after the last day before it: the year-to-date totals carry across the gap;
    #    a guardian's new email address (the district's teacher audiences are rewritten)
    enrollments = _rows(package / "enrollments.csv")
    day_two = _next_school_day(package, day_one)
    back_date = as_of - timedelta(days=30)
    mover = next(
        row
        for row in enrollments
        if row["role"] == "student"
        and row["schoolSourcedId"] == "school-001"
        and date.fromisoformat(row["beginDate"]) < back_date
        and (not row["endDate"] or date.fromisoformat(row["endDate"]) > day_one)
    )
    other_school = next(row["schoolSourcedId"] for row in enrollments if row["schoolSourcedId"] != "school-001")
    other_class = next(row["classSourcedId"] for row in enrollments if row["schoolSourcedId"] == other_school)
    back_dated = _active(
        mover,
        sourcedId="enr-backdated",
        classSourcedId=other_class,
        schoolSourcedId=other_school,
        beginDate=back_date.isoformat(),
        endDate="",
    )
    moved = _active(early[3], userSourcedId=early[5]["userSourcedId"], date=by_day[7])
    returning = next(
        row["userSourcedId"]
        for row in enrollments
        if row["role"] == "student"
        and row["userSourcedId"] not in {mover["userSourcedId"], early[3]["userSourcedId"], early[5]["userSourcedId"]}
        and date.fromisoformat(row["beginDate"]) < date.fromisoformat(by_day[2])
    )
    left = [_active(row, endDate=by_day[5]) for row in enrollments if row["userSourcedId"] == returning]
    came_back = _active(left[0], sourcedId="enr-returning", beginDate=day_two.isoformat(), endDate="")
    users = _rows(package / "users.csv")
    guardian = next(row for row in users if row["role"] in ("guardian", "parent") and row["email"])
    new_email = _active(guardian, email="new.address@example.org")
    calendar = _rows(package / "calendar.csv")
    half_day = next(row for row in calendar if row["date"] == by_day[10] and row["schoolSourcedId"] == "school-001")
    holiday = next(row for row in calendar if row["date"] == by_day[12] and row["schoolSourcedId"] == "school-002")
    codes = _rows(package / "absenceCodes.csv")
    early_departure = next(row for row in codes if row["code"] == "ED")
    drop = _delta_drop(
        root / "drop-2",
        {
            "attendance": (ATTENDANCE_HEADER, [moved]),
            "enrollments": (list(mover), [back_dated, *left, came_back]),
            "users": (list(guardian), [new_email]),
            "calendar": (
                list(half_day),
                [
                    _active(half_day, instructionalValue="0.5", dayType="halfDay"),
                    _active(holiday, instructionalValue="0", dayType="holiday"),
                ],
            ),
            "absenceCodes": (list(early_departure), [_active(early_departure, absentValue="0.25")]),
        },
    )
    load_and_build(drop, "moved record, back-dated enrollment, calendar, code")

    # 3. another school day
    drop = _delta_drop(
        root / "drop-3",
        {"attendance": (ATTENDANCE_HEADER, _new_day(package, day_two, "d2"))},
    )
    load_and_build(drop, "second new day")

    full = root / "full" / "warehouse.duckdb"
    full.parent.mkdir()
    shutil.copy(database, full)
    rebuilt = run_dbt(*FULL_REFRESH, database=full)
    assert rebuilt.returncode == 0, rebuilt.stdout[-3000:]
    return {
        "incremental": database,
        "full": full,
        "steps": steps,
        "mover": mover["userSourcedId"],
        "returning": (returning, day_two),
    }


def test_every_incremental_build_selected_only_what_changed(sequence):
    assert "no earlier complete build" in sequence["steps"]["initial"]
    for label in ("new day, corrections, tombstone", "second new day"):
        assert "what the loads since the last build changed (raw_oneroster.attendance" in sequence["steps"][label]
        assert "model attendance.fct_student_daily_attendance" in sequence["steps"][label]  # dbt's log
        assert "model core.dim_students" not in sequence["steps"][label]  # rosters were not loaded


def test_incremental_builds_equal_a_full_rebuild(sequence):
    _assert_same(sequence["incremental"], sequence["full"])


def test_the_scenario_changed_what_it_meant_to(sequence):
    database = sequence["incremental"]
    overlaps = query(
        database,
        "select student_id, overlap_day_count from quality.fct_membership_overlaps where district_id = ?",
        [DISTRICT],
    )
    assert [row[0] for row in overlaps] == [sequence["mover"]] and overlaps[0][1] > 0
    half_days = query(
        database,
        "select count(*) from attendance.fct_student_daily_attendance where membership_value = 0.5",
    )[0][0]
    assert half_days > 0
    returning, day_two = sequence["returning"]
    ((last_before, back, carried),) = query(
        database,
        """select
               max(attendance_date) filter (where attendance_date < ?),
               count(*) filter (where attendance_date = ?),
               max(ytd_membership_days) filter (where attendance_date = ?)
           from attendance.fct_student_early_warning where district_id = ? and student_id = ?""",
        [day_two, day_two, day_two, DISTRICT, returning],
    )
    assert back == 1 and (day_two - last_before).days > 31 and carried > 1
    emailed = query(
        database,
        "select count(*) from messaging.fct_teacher_audiences where contact_point = 'new.address@example.org'",
    )[0][0]
    assert emailed > 0


def test_a_changed_var_rebuilds_the_incremental_models(sequence, tmp_path):
    """--vars changes the attendance rules: the incremental models must follow, not keep old rows."""
    database = tmp_path / "vars" / "warehouse.duckdb"  # the one name: see support.stable_path
    database.parent.mkdir()
    shutil.copy(sequence["incremental"], database)
    args = ("--vars", "{period_rollup_rule: fraction}")
    result = run_rollcall("build", *args, database=database)
    assert result.returncode == 0, result.stdout[-3000:]
    full = tmp_path / "full" / "warehouse.duckdb"
    full.parent.mkdir()
    shutil.copy(database, full)
    rebuilt = run_dbt(*FULL_REFRESH, *args, database=full)
    assert rebuilt.returncode == 0, rebuilt.stdout[-3000:]
    _assert_same(database, full)
    fraction_days = query(
        database,
        "select count(*) from attendance.fct_student_daily_attendance"
        " where attendance_source = 'period_rollup' and absent_value not in (0, 1)",
    )[0][0]
    assert fraction_days > 0
