"""Marts leave out records whose references do not resolve, and quality lists them: an enrollment
of a class or a user the district never sent stays out of core.fct_enrollments and of membership
(so of every attendance mart), and is a row of quality.fct_unresolved_references."""

from __future__ import annotations

from pathlib import Path

import pytest

from loaders.oneroster.pipeline import load_package
from tests.python.support import TINY_PACKAGE, query, run_dbt, write_package

FILES = {
    **TINY_PACKAGE,
    "academicSessions.csv": "sourcedId,status,dateLastModified,title,type,startDate,endDate,parentSourcedId,"
    "schoolYear\nt1,,,Fall,term,2025-08-25,2026-01-20,,2026\n",
    "courses.csv": "sourcedId,status,dateLastModified,schoolYearSourcedId,title,courseCode,grades,orgSourcedId\n"
    "k1,,,t1,Math,M1,05,s1\n",
    "classes.csv": "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,"
    "schoolSourcedId,termSourcedIds\nc1,,,Math 5,05,k1,M5,scheduled,,s1,t1\n",
    "calendar.csv": "sourcedId,status,dateLastModified,schoolSourcedId,date,instructionalValue,dayType\n"
    "d1,,,s1,2025-09-02,1,instructional\nd2,,,s1,2025-09-03,1,instructional\n",
    # one attendance day: it sets the district's as-of date, up to which membership is counted
    "attendance.csv": "sourcedId,status,dateLastModified,userSourcedId,schoolSourcedId,classSourcedId,period,date,"
    "absenceCode\na1,,,u1,s1,,,2025-09-03,\n",
    "enrollments.csv": "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary\n"
    "e1,,,c1,s1,u1,student,\ne2,,,c9,s1,u1,student,\ne3,,,c1,s1,u9,student,\n",
}


@pytest.mark.dbt
def test_enrollments_whose_class_or_user_is_unknown_stay_out_of_the_marts(tmp_path: Path, warehouse: Path) -> None:
    files = dict(FILES)
    files["manifest.csv"] = "propertyName,value\noneroster.version,1.1\n" + "".join(
        f"file.{Path(name).stem},bulk\n" for name in files if name != "manifest.csv"
    )
    report = load_package(write_package(tmp_path / "drop", files), "demo-unified", warehouse)
    assert report.status == "succeeded", [(f.file_name, f.error_text) for f in report.files]

    selection = ("--select", "+fct_enrollments", "+fct_unresolved_references", "+int_membership_days_expanded")
    selection += ("--indirect-selection", "cautious")
    result = run_dbt("build", *selection, database=warehouse)
    assert result.returncode == 0, result.stdout[-3000:]

    assert query(warehouse, "select enrollment_id from core.fct_enrollments") == [("e1",)]
    unresolved = query(
        warehouse,
        "select record_id, reference_field, referenced_entity, referenced_id from quality.fct_unresolved_references"
        " order by record_id",
    )
    assert unresolved == [("e2", "classSourcedId", "classes", "c9"), ("e3", "userSourcedId", "users", "u9")]
    # membership counts the resolved enrollment only: u1's days at s1 come from e1, none from u9
    members = query(warehouse, "select distinct student_id from intermediate.int_membership_days_expanded")
    assert members == [("u1",)]
