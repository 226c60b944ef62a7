"""A SIS daily-attendance export (the synthetic Contoso SIS file, 12,000 rows with 1,285
absences) loads as OneRoster+ attendance through the field table's header aliases, and —
with the district's codes, school year and schools beside it, and membership taken from
attendance records (no enrollments sent) — its rates add up to exactly what the file says."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from loaders.oneroster.pipeline import load_package
from loaders.registry import REGISTRY_PATH
from tests.python.support import SHARED_FIXTURES, query, run_dbt, write_package

pytestmark = [pytest.mark.needs_shared, pytest.mark.dbt]

CONTOSO = (
    SHARED_FIXTURES
    / "OpenEducationAnalytics__OpenEducationAnalytics"
    / "modules/module_catalog/Student_and_School_Data_Systems/test_data/batch1/studentattendance.csv"
)


@pytest.fixture(scope="module")
def contoso(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    root = tmp_path_factory.mktemp("contoso")
    with CONTOSO.open(newline="", encoding="utf-8") as handle:
        schools = sorted({row["school_id"] for row in csv.DictReader(handle)})
    orgs = "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\ncontoso,,,Contoso,district,,\n"
    orgs += "".join(f"{school},,,School {n},school,,contoso\n" for n, school in enumerate(schools, start=1))
    drop = write_package(
        root / "drop",
        {
            "orgs.csv": orgs,
            "academicSessions.csv": (
                "sourcedId,status,dateLastModified,title,type,startDate,endDate,parentSourcedId,schoolYear\n"
                "sy2022,,,2021-2022,schoolYear,2021-08-16,2022-06-17,,2022\n"
            ),
            # Contoso's codes: P present (PresenceFlag 1), A absent (PresenceFlag 0)
            "absenceCodes.csv": (
                "sourcedId,status,dateLastModified,code,description,absentValue,category,orgSourcedId\n"
                "ac-p,,,P,Present,0,present,\nac-a,,,A,Absent,1,unexcused,\n"
            ),
        },
    )
    shutil.copy(CONTOSO, drop / "studentattendance.csv")  # a link leaving the drop would be refused
    registry = root / "districts.csv"
    shutil.copy(REGISTRY_PATH, registry)
    with registry.open("a", encoding="utf-8") as handle:
        handle.write("contoso,,,,Contoso,,UTC\n")
    database = root / "warehouse.duckdb"
    report = load_package(drop, "contoso", database, registry=registry)
    result = run_dbt(
        "build",
        "--select",
        "+fct_school_absence_rates",
        "+dim_schools",
        "fct_attendance_exceptions",
        "--indirect-selection",
        "cautious",
        "--exclude-resource-type",
        "unit_test",
        "--vars",
        "{membership_from_attendance: true}",
        database=database,
    )
    assert result.returncode == 0, result.stdout[-4000:]
    return database, report


def test_the_export_lands_as_oneroster_plus_attendance(contoso):
    _, report = contoso
    attendance = next(f for f in report.files if f.entity == "attendance")
    assert (attendance.rows_read, attendance.rows_landed, attendance.rows_quarantined) == (12_000, 12_000, 0)
    aliases = {w.detail for w in attendance.warnings if w.code == "header_alias"}
    assert "column 'student_id' read as 'userSourcedId'" in aliases
    assert "column 'AttendanceCode' read as 'absenceCode'" in aliases


def test_rates_add_up_to_the_file(contoso):
    database, _ = contoso
    daily = query(
        database,
        "select count(*), sum(absent_day_value), count(distinct student_id),"
        " min(attendance_source), max(attendance_source)"
        " from attendance.fct_student_daily_attendance where district_id = 'contoso'",
    )[0]
    assert daily[0] == 12_000 and daily[1] == 1_285 and daily[2] == 600
    assert daily[3] == daily[4] == "daily"
    year = query(
        database,
        "select sum(membership_days), sum(absent_days), count(distinct student_id)"
        " from attendance.fct_student_absence_rates where district_id = 'contoso' and session_type = 'schoolYear'",
    )[0]
    assert year == (12_000, 1_285, 600)
    schools = query(
        database,
        "select sum(absent_days), sum(membership_days) from attendance.fct_school_absence_rates"
        " where district_id = 'contoso'",
    )[0]
    assert schools == (1_285, 12_000)
    exceptions = query(database, "select count(*) from quality.fct_attendance_exceptions where district_id = 'contoso'")
    assert exceptions == [(0,)]
