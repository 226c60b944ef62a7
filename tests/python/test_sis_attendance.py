"""A district that sends only SIS exports gets membership, absence rates and chronic counts through
the same intermediate models as OneRoster (docs/sis-formats.md "Calendar and membership").

One small `sis` sample district is loaded first without its calendar files: every absence is an
exception (no school day) and the summary names the district with that reason. The same district
(same seed, so the same exports) is then loaded with its OneRoster+ orgs.csv, academicSessions.csv
and calendar.csv beside the exports and built again: its current enrollments span the school year,
and every student x school x session of attendance.fct_student_absence_rates must equal a plain
Python recomputation from the CSV files and the documented rules, in exact fractions. The summary
then shows the district's current term by school with those figures.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import date, datetime
from fractions import Fraction
from pathlib import Path

import pytest

from rollcall.sample import generate_sis_district
from tests.python.support import PROJECT_ROOT, query, run_rollcall

pytestmark = pytest.mark.dbt

DISTRICT = "demo-sis"
SIZE = {"students": 60, "schools": 2, "days": 30, "seed": 5}
UNITS_PER_DAY = 27_720_000_000


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _us_date(text: str) -> date:
    return datetime.strptime(text, "%m/%d/%Y").date()


def _load_and_build(drop: Path, database: Path) -> None:
    load = run_rollcall("load", str(drop), "--district", DISTRICT, "--brief", database=database)
    assert load.returncode in (0, 3), load.stdout + load.stderr  # 3: the planted bad rows are quarantined
    build = run_rollcall("build", database=database)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("sis-attendance")
    database = root / "warehouse.duckdb"
    bare = generate_sis_district(root / "bare" / "drop", calendar=False, **SIZE)
    _load_and_build(bare.path, database)
    bare_summary = run_rollcall("summary", database=database)
    assert bare_summary.returncode == 0, bare_summary.stderr
    full = generate_sis_district(root / "full" / "drop", **SIZE)
    _load_and_build(full.path, database)
    summary = run_rollcall("summary", database=database)
    assert summary.returncode == 0, summary.stderr
    return {
        "database": database,
        "bare": bare,
        "full": full,
        "bare_summary": bare_summary.stdout,
        "summary": summary.stdout,
    }


def _quarantined_lines(truth: Path) -> dict[str, set[int]]:
    lines = defaultdict(set)
    for row in _csv(truth / "planted_rows.csv"):
        if row["expected"] == "quarantine":
            lines[row["file"]].add(int(row["line"]))
    return lines


def _kept(drop: Path, truth: Path, name: str) -> list[dict[str, str]]:
    """The rows of a file that land (the planted quarantined lines left out; line 1 is the header)."""
    skipped = _quarantined_lines(truth)[name]
    return [row for line, row in enumerate(_csv(drop / name), start=2) if line not in skipped]


def expected_sessions(drop: Path, truth: Path) -> dict[tuple[str, str, str], tuple[Fraction, Fraction, int]]:
    """(student, school, session) -> (membership days, absent days, membership day count), from the
    files by the documented rules: an SIS student's current sections (section and student known)
    enrol them at the sections' schools for the district's school year (academicSessions.csv),
    on the days calendar.csv makes instructional, up to the last absence date; two schools from
    the same begin date: the lower school id counts the day. A daily absence decides the day;
    period absences alone roll up by half_or_more (default vars) over the student's scheduled
    periods at the school (distinct periods of their enrollments.csv rows among those the school's
    absence rows list), or over the listed periods when there are more of those; codes from
    seeds/district_absence_codes.csv."""
    codes = {
        row["absence_code"]: Fraction(row["absent_value"])
        for row in _csv(PROJECT_ROOT / "seeds" / "district_absence_codes.csv")
        if row["district_id"] == DISTRICT
    }
    day_value = {
        (row["schoolSourcedId"], date.fromisoformat(row["date"])): Fraction(row["instructionalValue"])
        for row in _csv(drop / "calendar.csv")
        if Fraction(row["instructionalValue"]) > 0
    }
    sessions = [
        (row["sourcedId"], row["type"], date.fromisoformat(row["startDate"]), date.fromisoformat(row["endDate"]))
        for row in _csv(drop / "academicSessions.csv")
    ]
    (year_start, year_end) = next((start, end) for _, kind, start, end in sessions if kind == "schoolYear")
    sections = {(row["School ID#"], row["Section#"]) for row in _kept(drop, truth, "sections.csv")}
    students = {row["Student ID Number"] for row in _csv(drop / "students.csv")}
    absences = _csv(drop / "attendance.csv")
    # the periods each school takes attendance in: those its absence rows list
    taken = {(row["School ID Number"], p.strip()) for row in absences for p in row["Periods Missed"].split(",")}
    schools_of, scheduled = defaultdict(set), defaultdict(set)
    for row in _kept(drop, truth, "enrollments.csv"):
        if (row["School ID#"], row["Period"]) in taken:
            scheduled[(row["Student ID"], row["School ID#"])].add(row["Period"])
        if (row["School ID#"], row["Section#"]) in sections and row["Student ID"] in students:
            schools_of[row["Student ID"]].add(row["School ID#"])
    as_of = max(_us_date(row["Absence Date"]) for row in absences)
    daily, periods = {}, defaultdict(list)
    for row in absences:
        key = (row["Student ID Number"], row["School ID Number"], _us_date(row["Absence Date"]))
        value = codes.get(row["Absence Reason Code"], Fraction(0))
        if row["Periods Missed"]:
            periods[key].append(value)
        else:
            daily[key] = value
    totals = defaultdict(lambda: [Fraction(0), Fraction(0), 0])
    for student, schools in schools_of.items():
        days = sorted({day for school in schools for (s, day) in day_value if s == school})
        for day in days:
            if not (year_start <= day < year_end and day <= as_of):
                continue
            school = min(s for s in schools if (s, day) in day_value)
            key = (student, school, day)
            if key in daily:
                value = daily[key]
            elif key in periods:
                over = max(len(periods[key]), len(scheduled[(student, school)]))
                value = Fraction(1 if sum(periods[key]) * 2 >= over else 0)
            else:
                value = Fraction(0)
            for session, _, start, end in sessions:
                if start <= day < end:
                    totals[(student, school, session)][0] += day_value[(school, day)]
                    totals[(student, school, session)][1] += day_value[(school, day)] * value
                    totals[(student, school, session)][2] += 1
    return {key: tuple(value) for key, value in totals.items()}


def test_without_a_calendar_the_summary_names_the_district_and_the_reason(district) -> None:
    records = len(_csv(district["bare"].path / "attendance.csv"))  # records style: one record per row
    assert records > 0
    assert (
        f"No attendance counted for {DISTRICT}: all {records:,} records are exceptions"
        f" (non_instructional_day {records:,}): none falls on an instructional day" in district["bare_summary"]
    )
    assert "sends them beside its exports, docs/sis-formats.md" in district["bare_summary"]
    assert f"Current term for {DISTRICT}" not in district["bare_summary"]


def test_sis_enrollments_reach_membership_through_the_shared_models(district) -> None:
    database = district["database"]
    by_source = dict(
        query(
            database,
            "select source_system, count(*) from intermediate.int_enrollments_dated"
            " where district_id = ? and effective_begin_date is not null group by all",
            [DISTRICT],
        )
    )
    assert set(by_source) == {"sis"} and by_source["sis"] > 0
    schools = sorted(row["sourcedId"] for row in _csv(district["full"].path / "orgs.csv"))
    calendars = query(
        database,
        "select school_id, string_agg(distinct calendar_source) from intermediate.int_school_days_filtered"
        " where district_id = ? and school_id in ? group by all order by all",
        [DISTRICT, schools],
    )
    assert calendars == [(school, "school") for school in schools]  # calendar.csv, keyed by the SIS school codes
    sources = query(
        database,
        "select distinct membership_source from intermediate.int_membership_days_expanded where district_id = ?",
        [DISTRICT],
    )
    assert sources == [("enrollment",)]


def test_sis_rates_match_an_independent_computation(district) -> None:
    full = district["full"]
    expected = expected_sessions(full.path, full.truth_path)
    actual = {
        (student, school, session): (Fraction(str(membership)), Fraction(units, UNITS_PER_DAY), count, chronic)
        for student, school, session, membership, units, count, chronic in query(
            district["database"],
            "select student_id, school_id, academic_session_id, membership_days, absent_day_units,"
            " membership_day_count, is_chronically_absent from attendance.fct_student_absence_rates"
            " where district_id = ?",
            [DISTRICT],
        )
    }
    assert expected and set(actual) == set(expected)
    for key, (membership, absent, count) in expected.items():
        assert actual[key][:3] == (membership, absent, count), key
        assert actual[key][3] == (membership >= 10 and absent >= Fraction(1, 10) * membership), key
    assert any(absent > 0 for _, absent, _ in expected.values())


def test_summary_lists_the_sis_district_rates_by_school(district) -> None:
    full = district["full"]
    expected = expected_sessions(full.path, full.truth_path)
    absences = _csv(full.path / "attendance.csv")
    as_of = max(_us_date(row["Absence Date"]) for row in absences)
    term, title = next(
        (row["sourcedId"], row["title"])
        for row in _csv(full.path / "academicSessions.csv")
        if row["type"] == "term" and date.fromisoformat(row["startDate"]) <= as_of < date.fromisoformat(row["endDate"])
    )
    names = {row["sourcedId"]: row["name"] for row in _csv(full.path / "orgs.csv")}
    out = district["summary"]
    assert "No attendance counted for demo-sis" not in out
    assert f"Current term for {DISTRICT}: {title}" in out
    per_school = defaultdict(lambda: [Fraction(0), Fraction(0), set()])
    for (student, school, session), (membership, absent, _) in expected.items():
        if session == term:
            per_school[school][0] += membership
            per_school[school][1] += absent
            per_school[school][2].add(student)
    assert per_school
    lines = out.splitlines()
    for school, (membership, absent, students) in per_school.items():
        line = next(line for line in lines if line.strip().startswith(names[school]))
        cells = line[len("  ") + 32 :].split()
        assert cells[:3] == [f"{len(students):,}", f"{float(membership):,.1f}", f"{float(absent / membership):.1%}"]
