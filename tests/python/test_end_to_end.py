"""End to end on a fresh DuckDB: generate -> load (two districts) -> dbt build -> marts and summary.

The sample district comes as four sources (OneRoster, PowerSchool, ClassLink, Star). Its
absence rates are recomputed here in plain Python from the generated OneRoster CSVs and must
match the mart exactly for every student and school; every record of every source must resolve
to the person (or the review-queue status) the generator's truth file says.

The warehouse is the session's ``sample_warehouse`` (conftest.py), built once and only read here;
Grand Bend's real sample is its second district when the shared fixtures are there.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from tests.python.support import SAMPLE_SIZE, SampleWarehouse, query, run_rollcall

pytestmark = pytest.mark.dbt

STUDENTS, SCHOOLS = SAMPLE_SIZE["students"], SAMPLE_SIZE["schools"]


@pytest.fixture(scope="module")
def built(sample_warehouse: SampleWarehouse) -> tuple[Path, Path]:
    return sample_warehouse.package, sample_warehouse.database


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def expected_rates(package: Path) -> dict[tuple[str, str, str], tuple[Decimal, Decimal]]:
    """Membership and absent days per (student, school, academic session), from the raw CSVs."""
    day_value = {
        (row["schoolSourcedId"], date.fromisoformat(row["date"])): Decimal(row["instructionalValue"])
        for row in _rows(package / "calendar.csv")
        if Decimal(row["instructionalValue"]) > 0
    }
    absent_value = {row["code"]: Decimal(row["absentValue"]) for row in _rows(package / "absenceCodes.csv")}
    attendance = _rows(package / "attendance.csv")
    as_of = max(date.fromisoformat(row["date"]) for row in attendance)
    daily_code = {
        (row["userSourcedId"], row["schoolSourcedId"], date.fromisoformat(row["date"])): row["absenceCode"]
        for row in attendance
        if not row["classSourcedId"]
    }
    spans = defaultdict(list)
    for row in _rows(package / "enrollments.csv"):
        if row["role"] == "student":
            spans[(row["userSourcedId"], row["schoolSourcedId"])].append(
                (date.fromisoformat(row["beginDate"]), date.fromisoformat(row["endDate"]))
            )
    sessions = [
        (row["sourcedId"], date.fromisoformat(row["startDate"]), date.fromisoformat(row["endDate"]))
        for row in _rows(package / "academicSessions.csv")
    ]
    expected = {}
    for (student, school), ranges in spans.items():
        member_days = {
            day
            for (cal_school, day) in day_value
            if cal_school == school and day <= as_of and any(begin <= day < end for begin, end in ranges)
        }
        for session, start, end in sessions:
            days = {day for day in member_days if start <= day < end}
            if not days:
                continue
            membership = sum(day_value[(school, day)] for day in days)
            absent = sum(
                day_value[(school, day)] * absent_value[daily_code[(student, school, day)]]
                for day in days
                if (student, school, day) in daily_code
            )
            expected[(student, school, session)] = (membership, absent)
    return expected


def test_rates_match_an_independent_computation_for_every_session(built):
    """Every student x school x session (year, semesters, terms): exact membership and absent days."""
    package, database = built
    expected = expected_rates(package)
    actual = {
        (student, school, session): (Decimal(str(membership)), Decimal(str(absent)), chronic)
        for student, school, session, membership, absent, chronic in query(
            database,
            "select student_id, school_id, academic_session_id, membership_days, absent_days, is_chronically_absent"
            " from attendance.fct_student_absence_rates where district_id = 'demo-unified'",
        )
    }
    assert len({key[:2] for key in expected}) >= STUDENTS  # transfers add a second school for some students
    assert set(actual) == set(expected)
    for key, (membership, absent) in expected.items():
        assert actual[key][:2] == (membership, absent), key
        assert actual[key][2] == (membership >= 10 and absent >= Decimal("0.10") * membership), key
    chronic = sum(1 for value in actual.values() if value[2])
    assert 0 < chronic < len(actual)


def test_transfer_students_have_a_row_at_each_school(built):
    _, database = built
    movers = query(
        database,
        "select student_id, count(*) from attendance.fct_student_absence_rates"
        " where district_id = 'demo-unified' and session_type = 'schoolYear'"
        " group by student_id having count(*) > 1",
    )
    assert movers, "the sample district should contain mid-year transfers"
    # never two schools on the same day for one student
    overlaps = query(
        database,
        "select student_id, attendance_date from attendance.fct_student_daily_attendance"
        " group by student_id, attendance_date having count(*) > 1",
    )
    assert overlaps == []


def test_roster_marts_hold_the_sample_district(built):
    _, database = built
    counts = dict(query(database, "select district_id, count(*) from core.dim_schools group by 1"))
    assert counts["demo-unified"] == SCHOOLS
    students = dict(query(database, "select district_id, count(*) from core.dim_students group by 1"))
    assert students["demo-unified"] == STUDENTS


@pytest.mark.needs_shared
def test_roster_marts_hold_both_districts(built):
    _, database = built
    counts = dict(
        query(database, "select district_id, count(*) from core.dim_schools group by 1"),
    )
    assert counts == {"demo-unified": SCHOOLS, "grand-bend": 1}
    students = dict(query(database, "select district_id, count(*) from core.dim_students group by 1"))
    assert students["demo-unified"] == STUDENTS
    assert students["grand-bend"] == 8
    grand_bend = query(
        database,
        "select (select count(*) from core.dim_classes where district_id = 'grand-bend'),"
        " (select count(*) from core.fct_enrollments where district_id = 'grand-bend'),"
        " (select count(*) from core.dim_academic_sessions where district_id = 'grand-bend'),"
        " (select min(grade_level) from core.dim_students where district_id = 'grand-bend')",
    )[0]
    assert grand_bend == (2, 24, 3, "09")


def test_marts_columns_are_all_documented(built):
    _, database = built
    import json
    import os

    from rollcall.settings import PROJECT_ROOT

    target = Path(os.environ.get("DBT_TARGET_PATH") or PROJECT_ROOT / "target")
    manifest = json.loads((target / "manifest.json").read_text())
    documented = {
        (node["schema"], node["name"]): set(node["columns"])
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
    }
    actual = defaultdict(set)
    for schema, table, column in query(
        database,
        "select table_schema, table_name, column_name from information_schema.columns"
        " where table_schema in"
        " ('staging', 'intermediate', 'core', 'attendance', 'quality', 'messaging', 'assessment')",
    ):
        actual[(schema, table)].add(column)
    assert set(actual) == set(documented)
    for key, columns in actual.items():
        assert columns == documented[key], key


def test_summary_shows_current_term_rates_per_school(built):
    _, database = built
    result = run_rollcall("summary", database=database)
    assert result.returncode == 0, result.stderr
    assert "Rows per mart" in result.stdout
    assert "Current term for demo-unified" in result.stdout
    school_names = [
        row[0] for row in query(database, "select school_name from core.dim_schools where district_id = 'demo-unified'")
    ]
    for name in school_names:
        assert name in result.stdout
    assert "%" in result.stdout


def test_every_source_record_resolves_as_the_truth_says(built) -> None:
    package, database = built
    truth = _rows(package.parent.parent / "truth" / "identity_truth.csv")
    resolved = {
        (source, record): (status, rule, person_key, anchor)
        for source, record, status, rule, person_key, anchor in query(
            database,
            "select source_system, source_record_id, match_status, matched_rule, person_key, anchor_record_id"
            " from core.dim_student_identities where district_id = 'demo-unified'",
        )
    }
    person_of_anchor = {anchor: key for (source, _), (_, _, key, anchor) in resolved.items() if source == "oneroster"}
    assert len(resolved) == len(truth)
    for row in truth:
        status, rule, person_key, _ = resolved[(row["source_system"], row["source_record_id"])]
        expected_status = "anchor" if row["expected_rule"] == "anchor" else row["expected_status"]
        assert status == expected_status, row
        if row["expected_status"] == "matched":
            assert person_key == person_of_anchor[row["true_person"]], row
            assert (rule or "anchor") == row["expected_rule"], row
        else:
            assert person_key is None, row
    queued = query(
        database,
        "select source_system, source_record_id, match_status from quality.fct_identity_review_queue"
        " where district_id = 'demo-unified' order by all",
    )
    assert queued == sorted(
        (r["source_system"], r["source_record_id"], r["expected_status"])
        for r in truth
        if r["expected_status"] in ("ambiguous", "unmatched")
    )
    assert any(status == "ambiguous" for *_, status in queued)  # the planted same-name, same-birth-date pair


def test_match_rates_are_exact(built) -> None:
    package, database = built
    truth = _rows(package.parent.parent / "truth" / "identity_truth.csv")
    expected = defaultdict(lambda: [0, 0])
    for row in truth:
        if row["source_system"] != "oneroster":
            expected[row["source_system"]][0] += 1
            expected[row["source_system"]][1] += row["expected_status"] == "matched"
    rates = query(
        database,
        "select source_system, any_value(source_records), any_value(source_matched_records)"
        " from quality.fct_identity_match_rates where district_id = 'demo-unified' and not is_anchor_source"
        " group by source_system",
    )
    assert {source: [records, matched] for source, records, matched in rates} == dict(expected)
