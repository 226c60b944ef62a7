"""SIS exports in the SchoolMessenger layouts: seed 002's sample rows (bad rows included), the
three guardian layouts, contacts and opt-outs, messaging audiences, and the district gate."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from loaders.oneroster.pipeline import load_package
from tests.python.support import PROJECT_ROOT, query, run_dbt, write_package

SEED_002 = PROJECT_ROOT / "tests" / "fixtures" / "sis_seed002"
MESSAGING_MODELS = (
    "+fct_teacher_audiences",
    "+fct_school_audiences",
    "assert_teacher_audiences_within_active_sections",
)

# the models (and the seeds they read) upstream of a selection, without their tests
MODELS_AND_SEEDS = ("build", "--exclude-resource-type", "test", "unit_test", "--select")


def _quarantined(database: Path) -> list[tuple]:
    return query(
        database, "select file_name, row_number, error_type from audit.quarantined_rows order by file_name, row_number"
    )


def test_seed_002_bad_rows_are_quarantined_with_reasons(tmp_path: Path) -> None:
    database = tmp_path / "w.duckdb"
    report = load_package(SEED_002, "demo-unified", database)
    by_file = {f.file_name: f for f in report.files}
    for result in report.files:
        assert result.status == "loaded", (result.file_name, result.error_text)
        assert result.rows_read == result.rows_landed + result.rows_quarantined
    assert by_file["sections.csv"].entity == "sis_sections"
    assert by_file["enrollments.csv"].entity == "sis_enrollments"  # a OneRoster name, an SIS header
    assert _quarantined(database) == [
        ("attendance.csv", 5, "invalid_date"),
        ("enrollments.csv", 6, "unknown_school"),  # "001","ENG913-5","10038": shifted a column
        ("sections.csv", 6, "unknown_school"),
        ("teachers.csv", 2, "conflicting_duplicate"),  # 10081 is Albert Anderson and Mary Thomas
        ("teachers.csv", 3, "conflicting_duplicate"),  # 10034 is John Smith and Bill Williams
        ("teachers.csv", 4, "conflicting_duplicate"),
        ("teachers.csv", 5, "conflicting_duplicate"),
    ]
    reasons = dict(query(database, "select file_name, reason from audit.quarantined_rows where row_number = 6"))
    assert "School ID# 'ENG913-5' is not a school of this district" in reasons["sections.csv"]
    assert query(database, "select teacher_id from raw_sis.teachers order by 1") == [("10024",), ("10080",), ("10083",)]
    phones = query(database, "select student_id, phone_digits, phone_is_valid from raw_sis.students order by 1")
    assert phones == [
        ("309482094", "2015550143", True),  # (201) 555-0143
        ("487598475", "9735550101", True),  # +1 973 555 0101
        ("57646463", "9735550123", True),
        ("93824729", None, False),  # 555-0199: seven digits, flagged and kept
    ]
    assert query(database, "select absence_date from raw_sis.attendance order by 1") == [
        ("2025-09-15",),
        ("2025-09-16",),
        ("2025-09-17",),
    ]


def test_reloading_the_same_export_lands_nothing(tmp_path: Path) -> None:
    database = tmp_path / "w.duckdb"
    load_package(SEED_002, "demo-unified", database)
    again = load_package(SEED_002, "demo-unified", database)
    assert {f.status for f in again.files} == {"skipped"}
    assert query(database, "select count(*) from raw_sis.sections") == [(4,)]


GUARDIAN_LAYOUTS = {
    "two-file": {
        "guardians.csv": (
            "Associated Student ID Number,Guardian ID Number,Guardian Category,First Name,Last Name,"
            "Phone Number w/ Area Code\n"
            "309482094,G-1,Mother,Ana,Reyes,(201) 555-0111\n309482094,G-2,Grandmother,Rosa,Reyes,201-555-0112\n"
        ),
    },
    "three-file": {
        "guardians.csv": (
            "Guardian ID Number,First Name,Last Name,Phone Number w/ Area Code\n"
            "G-1,Ana,Reyes,(201) 555-0111\nG-2,Rosa,Reyes,201-555-0112\n"
        ),
        "student_guardians.csv": (
            "Student ID Number,Associated Guardian ID Number,Guardian Category\n"
            "309482094,G-1,Mother\n309482094,G-2,Grandmother\n"
        ),
    },
}


def _sis_drop(folder: Path, guardian_files: dict[str, str], wide: bool = False) -> Path:
    shutil.copytree(SEED_002, folder)
    (folder / "guardians.csv").unlink()
    if wide:
        (folder / "students.csv").write_text(
            "Student ID Number,Student First Name,Student Last Name,School ID,Guardian 1 ID Number,"
            "Guardian 1 First Name,Guardian 1 Last Name,Guardian 1 Category,Guardian 1 Phone Number w/ Area Code,"
            "Guardian 2 ID Number,Guardian 2 First Name,Guardian 2 Last Name,Guardian 2 Category,"
            "Guardian 2 Phone Number w/ Area Code\n"
            "309482094,Ava,Reyes,001,G-1,Ana,Reyes,Mother,(201) 555-0111,G-2,Rosa,Reyes,Grandmother,201-555-0112\n"
            "487598475,Noah,Kim,314,,,,,,,,,,\n93824729,Mia,Patel,423,,,,,,,,,,\n57646463,Liam,Okafor,227,,,,,,,,,,\n"
        )
    return write_package(folder, guardian_files)


def _registry(path: Path, districts: list[str]) -> Path:
    """A registry of throwaway districts (one per roster), none carrying ids or names to check."""
    rows = "".join(f"{d},,,,{d},,UTC\n" for d in districts)
    path.write_text("district_id,nces_id,state_id,account_ids,official_name,aliases,time_zone\n" + rows)
    return path


@pytest.mark.dbt
def test_three_guardian_layouts_give_the_same_links(tmp_path: Path) -> None:
    database = tmp_path / "w.duckdb"
    layouts = [*GUARDIAN_LAYOUTS, "one-file"]
    registry = _registry(tmp_path / "districts.csv", layouts)
    for layout in layouts:
        drop = _sis_drop(tmp_path / layout, GUARDIAN_LAYOUTS.get(layout, {}), wide=layout == "one-file")
        report = load_package(drop, layout, database, registry=registry)
        assert all(f.status == "loaded" for f in report.files), [(f.file_name, f.error_text) for f in report.files]
    build = run_dbt("run", "--select", "+int_user_agents_unioned", database=database)
    assert build.returncode == 0, build.stdout[-3000:]
    links = query(
        database,
        "select district_id, student_id, related_user_id, relationship, related_user_role"
        " from intermediate.int_user_agents_unioned order by all",
    )
    expected = [("309482094", "G-1", "Mother", "parent"), ("309482094", "G-2", "Grandmother", "relative")]
    assert links == [(layout, *link) for layout in sorted(layouts) for link in expected]


@pytest.mark.dbt
def test_opt_out_survives_the_nightly_roster_and_audiences_honour_it(tmp_path: Path) -> None:
    database = tmp_path / "w.duckdb"
    load_package(SEED_002, "demo-unified", database)
    opt_out = write_package(
        tmp_path / "optouts",
        {"opt_outs.csv": "Phone Number,Channel,Action,Date,Reason\n(201) 555-0143,sms,opt-out,10/01/2025,STOP reply\n"},
    )
    assert load_package(opt_out, "demo-unified", database).files[0].status == "loaded"
    nightly = tmp_path / "nightly"
    shutil.copytree(SEED_002, nightly)
    students = (nightly / "students.csv").read_text().replace('"Ava"', '"Avery"')  # a changed roster
    (nightly / "students.csv").write_text(students)
    assert {f.file_name: f.status for f in load_package(nightly, "demo-unified", database).files}["students.csv"] == (
        "loaded"
    )
    build = run_dbt(*MODELS_AND_SEEDS, "+fct_teacher_audiences", "+fct_school_audiences", database=database)
    assert build.returncode == 0, build.stdout[-3000:]
    contacts = dict(
        query(
            database,
            "select channel || ':' || contact_point, is_contactable from messaging.dim_contacts"
            " where user_id in ('309482094', 'G-5001')",
        )
    )
    assert contacts["sms:2015550143"] is False  # opted out (student and mother share the number)
    assert contacts["voice:2015550143"] is True  # only the sms channel was opted out
    assert query(database, "select given_name from intermediate.int_users_unioned where user_id = '309482094'") == [
        ("Avery",)
    ]
    audience = query(
        database,
        "select teacher_id, recipient_user_id, channel, contact_point, language_code"
        " from messaging.fct_teacher_audiences where class_id = '314:PE980-3' order by all",
    )
    assert audience == [
        ("10083", "487598475", "email", "noah.kim@example.org", "en"),
        ("10083", "487598475", "sms", "9735550101", "en"),
        ("10083", "487598475", "voice", "9735550101", "en"),
        ("10083", "G-5003", "email", "dkim@example.org", "en"),
        ("10083", "G-5003", "sms", "9735550102", "en"),
        ("10083", "G-5003", "voice", "9735550102", "en"),
    ]
    # teacher 10081's record was quarantined (one id, two people): no audience until the SIS fixes it
    assert query(database, "select count(*) from messaging.fct_teacher_audiences where teacher_id = '10081'") == [(0,)]
    assert ("sms", "2015550143") not in {
        (channel, point)
        for channel, point in query(database, "select channel, contact_point from messaging.fct_teacher_audiences")
    }


roster = st.tuples(
    st.lists(st.tuples(st.integers(0, 5), st.integers(0, 3), st.integers(0, 2)), min_size=1, max_size=25),
    st.lists(st.integers(0, 2), min_size=4, max_size=4),  # the teacher of each of the four sections
)


def _roster_files(enrollments: list[tuple[int, int, int]], teachers: list[int]) -> dict[str, str]:
    """Four sections taught at three schools, six students, enrollments as drawn (student, section, school)."""
    sections = "Staff ID,School ID#,Section#,Period,Course Name\n" + "".join(
        f"T{teachers[s]},S{school},SEC{s},{s + 1},Course {s}\n" for s in range(4) for school in range(3)
    )
    students = "Student ID Number,First Name,Last Name,Phone Number,School ID Number\n" + "".join(
        f"P{n},First{n},Last{n},(312) 555-01{n:02d},S{n % 3}\n" for n in range(6)
    )
    teacher_rows = "Teacher ID,First Name,Last Name,User Name,Email\n" + "".join(
        f"T{t},T{t},Teacher,t{t},t{t}@example.org\n" for t in range(3)
    )
    enrolled = "Student ID,School ID#,Section#\n" + "".join(f"P{p},S{school},SEC{s}\n" for p, s, school in enrollments)
    return {
        "sections.csv": sections,
        "students.csv": students,
        "teachers.csv": teacher_rows,
        "enrollments.csv": enrolled,
    }


# Each example costs a dbt run: a fixed, reproducible draw of examples and no shrinking.
@pytest.mark.dbt
@settings(
    max_examples=2,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(drawn=st.lists(roster, min_size=4, max_size=4))
def test_teacher_audiences_never_leave_the_teachers_sections(tmp_path_factory: pytest.TempPathFactory, drawn) -> None:
    """Property: every student in a teacher's audience is enrolled in one of that teacher's sections
    (four random rosters per example, one district each, one dbt run)."""
    root = tmp_path_factory.mktemp("audiences")
    districts = [f"roster-{n}" for n in range(len(drawn))]
    registry = _registry(root / "districts.csv", districts)
    database = root / "w.duckdb"
    for district, (enrollments, teachers) in zip(districts, drawn, strict=True):
        load_package(
            write_package(root / district, _roster_files(enrollments, teachers)), district, database, registry=registry
        )
    build = run_dbt(*MODELS_AND_SEEDS, "+fct_teacher_audiences", database=database)
    assert build.returncode == 0, build.stdout[-3000:]
    allowed = {
        (district, f"T{teachers[s]}", f"P{p}")
        for district, (enrollments, teachers) in zip(districts, drawn, strict=True)
        for p, s, _school in enrollments
    }
    audience = set(
        query(
            database,
            "select district_id, teacher_id, student_id from messaging.fct_teacher_audiences"
            " where recipient_role = 'student'",
        )
    )
    assert audience <= allowed
    assert audience == allowed  # every student has a valid phone: nobody is left out either


# District gate ----------------------------------------------------------------------------------

ORGS_HEADER = "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\n"
USERS_FILE = (
    "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,"
    "middleName,identifier,email,sms,phone,agentSourcedIds,grades\nu1,,,true,s1,student,ada,,Ada,L,,1,,,,,05\n"
)
STAR_HEADER = "RenaissanceClientID,StudentIdentifier,DistrictName,AssessmentID,CompletedDate,ScaledScore\n"


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    path = tmp_path / "districts.csv"
    path.write_text(
        "district_id,nces_id,state_id,account_ids,official_name,aliases,time_zone\n"
        "belleville,3401350,,107873,BELLEVILLE SCHOOL DISTRICT,Belleville Public Schools|Belleville PD,"
        "America/New_York\n"
        "belleville-il,1705220,,,Belleville Public School District,,America/Chicago\n"
        "riverton,4100001,,,Riverton Unified School District,Riverton USD,America/Denver\n"
    )
    return path


def _gate(tmp_path: Path, registry: Path, files: dict[str, str], district: str = "belleville"):
    database = tmp_path / "w.duckdb"
    report = load_package(write_package(tmp_path / "drop", files), district, database, registry=registry)
    return {f.file_name: f for f in report.files}, database


def _raw_rows(database: Path, table: str) -> int:
    return query(database, f"select count(*) from {table}")[0][0]


def test_gate_accepts_a_matching_id_and_the_bundle_inherits_it(tmp_path: Path, registry: Path) -> None:
    files, database = _gate(
        tmp_path,
        registry,
        {
            "orgs.csv": ORGS_HEADER + "d1,,,Belleville Public Schools,district,3401350,\ns1,,,High,school,,d1\n",
            "users.csv": USERS_FILE,
        },
    )
    assert files["orgs.csv"].status == files["users.csv"].status == "loaded"
    checks = dict(query(database, "select file_name, reason from audit.district_checks"))
    assert "inherited from the drop (orgs.csv)" in checks["users.csv"]


def test_gate_refuses_a_wrong_nces_id_and_the_rest_of_the_bundle(tmp_path: Path, registry: Path) -> None:
    files, database = _gate(
        tmp_path,
        registry,
        {"orgs.csv": ORGS_HEADER + "d1,,,Riverton USD,district,4100001,\n", "users.csv": USERS_FILE},
    )
    assert files["orgs.csv"].status == "refused"
    assert "district id '4100001' in the file belongs to riverton, not belleville" in files["orgs.csv"].error_text
    assert files["users.csv"].status == "refused"  # no district of its own; the bundle's evidence disagrees
    assert _raw_rows(database, "raw_oneroster.orgs") == _raw_rows(database, "raw_oneroster.users") == 0
    rejected = query(
        database, "select file_name, district_id, finished_at is not null from audit.rejected_files order by 1"
    )
    assert rejected == [("orgs.csv", "belleville", True), ("users.csv", "belleville", True)]


def test_gate_refuses_an_unregistered_id(tmp_path: Path, registry: Path) -> None:
    files, _ = _gate(tmp_path, registry, {"orgs.csv": ORGS_HEADER + "d1,,,Belleville,district,9999999,\n"})
    assert "is not registered for any district" in files["orgs.csv"].error_text


def test_gate_matches_a_name_variant_fuzzily(tmp_path: Path, registry: Path) -> None:
    files, database = _gate(
        tmp_path,
        registry,
        {"SM.csv": STAR_HEADER + "1,0042,Rivertn Unified Schools,A1,2025-10-01,500\n"},
        "riverton",
    )
    assert files["SM.csv"].status == "loaded", files["SM.csv"].error_text
    assert _raw_rows(database, "raw_star.assessments") == 1


def test_gate_refuses_an_unknown_name(tmp_path: Path, registry: Path) -> None:
    files, database = _gate(
        tmp_path, registry, {"SM.csv": STAR_HEADER + "1,0042,Springfield Public Schools,A1,2025-10-01,500\n"}
    )
    assert files["SM.csv"].status == "refused"
    assert "matches no registered district" in files["SM.csv"].error_text
    assert _raw_rows(database, "raw_star.assessments") == 0


def test_gate_refuses_an_ambiguous_name(tmp_path: Path, registry: Path) -> None:
    # "Belleville Schools" fits Belleville Public Schools (NJ) and Belleville Public School District (IL)
    files, database = _gate(
        tmp_path, registry, {"SR.csv": STAR_HEADER + "1,0042,Belleville Schools,A1,2025-10-01,500\n"}
    )
    assert files["SR.csv"].status == "refused"
    assert "is ambiguous" in files["SR.csv"].error_text
    assert _raw_rows(database, "raw_star.assessments") == 0


def test_gate_refuses_a_name_of_another_district(tmp_path: Path, registry: Path) -> None:
    files, _ = _gate(tmp_path, registry, {"SM.csv": STAR_HEADER + "1,0042,Riverton USD,A1,2025-10-01,500\n"})
    assert "is riverton" in files["SM.csv"].error_text


def test_gate_lets_the_operator_decide_when_no_file_says(tmp_path: Path, registry: Path) -> None:
    files, database = _gate(tmp_path, registry, {"users.csv": USERS_FILE})
    assert files["users.csv"].status == "loaded"
    assert query(database, "select evidence_kind from audit.district_checks") == [("operator",)]


# A district's own spellings ---------------------------------------------------------------------


def test_a_mapping_file_adds_header_spellings_and_names_layouts(tmp_path: Path) -> None:
    drop = write_package(
        tmp_path / "drop",
        {
            "students.csv": "Pupil,First Name,Last Name,Building\nP1,Ada,L,S1\nP2,Alan,T,S1\n",
            "Section Export.csv": "Staff ID,Building,Section#,Period,Course Name\nT1,S1,SEC1,1,Maths\n",
        },
    )
    mapping = tmp_path / "riverton.yml"
    mapping.write_text(
        "formats:\n"
        "  - name: sis_students\n"
        "    columns:\n"
        "      - {name: student_id, headers: [Pupil]}\n"
        "      - {name: school_id, headers: [Building]}\n"
        "  - name: sis_sections\n"
        "    columns:\n"
        "      - {name: school_id, headers: [Building]}\n"
        "files:\n"
        '  "Section Export*.csv": sis_sections\n'
    )
    database = tmp_path / "w.duckdb"
    without = load_package(drop, "demo-unified", database)
    assert {f.file_name: f.status for f in without.files} == {
        "Section Export.csv": "refused",
        "students.csv": "refused",
    }
    report = load_package(drop, "demo-unified", database, mapping=mapping)
    assert {f.file_name: (f.status, f.entity) for f in report.files} == {
        "Section Export.csv": ("loaded", "sis_sections"),
        "students.csv": ("loaded", "sis_students"),
    }
    assert query(database, "select student_id, school_id from raw_sis.students order by 1") == [
        ("P1", "S1"),
        ("P2", "S1"),
    ]


def test_a_malformed_mapping_file_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    from loaders.mapped.formats import FormatConfigError

    mapping = tmp_path / "bad.yml"
    mapping.write_text("formats:\n  - name: sis_students\n    columns:\n      - {name: birth_date, type: datetime}\n")
    database = tmp_path / "w.duckdb"
    with pytest.raises(FormatConfigError, match="unknown type 'datetime'"):
        load_package(SEED_002, "demo-unified", database, mapping=mapping)
    assert not database.exists()


def test_star_v2_dates_with_two_digit_years_are_read(tmp_path: Path, registry: Path) -> None:
    files, database = _gate(
        tmp_path,
        registry,
        {
            "SM.csv": STAR_HEADER
            + "1,0042,Riverton USD,A1,10/30/18 10:47:31,500\n1,0043,Riverton USD,A2,2018-10-31,480\n"
        },
        "riverton",
    )
    assert files["SM.csv"].status == "loaded", files["SM.csv"].error_text
    assert query(database, "select student_identifier, completed_at, assessment_subject from raw_star.assessments") == [
        ("0042", "2018-10-30 10:47:31", "math"),
        ("0043", "2018-10-31 00:00:00", "math"),
    ]
