"""Cross-source student identity resolution and the Star assessment mart, end to end on DuckDB.

One warehouse, one dbt build, three districts with a known truth:

* grand-bend (raw rows written by insert): twelve OneRoster students (the default anchor) and
  PowerSchool, ClassLink and Star records of them - matched by email, student number, name and
  birth date, fuzzy name - plus a ClassLink record whose email twins share (ambiguous) and a
  Star student nobody knows (unmatched). Every source is at or above its minimum match rate.
* belleville (insert): PowerSchool is the anchor (seeds/identity_sources.csv); ClassLink
  matches by email, Star by student number, but one Star student of three is unknown: Star is
  below its minimum, so the build fails on exactly that test.
* demo-unified: the real Star (SM, SR) and PowerSchool samples landed with `rollcall load`
  (mapped-format loader) next to a OneRoster roster carrying the same student numbers. Those
  samples are third-party fixtures (``../shared``): without them demo-unified gets a tiny
  OneRoster roster instead, and only the test of the real samples is skipped.
"""

from __future__ import annotations

import csv
import hashlib
import shutil
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from tests.python.support import (
    HAS_SHARED_FIXTURES,
    SHARED_FIXTURES,
    TINY_PACKAGE,
    query,
    run_dbt,
    run_rollcall,
    write_package,
)

pytestmark = pytest.mark.dbt

SELECTION = "+dim_student_identities+ +fct_identity_match_rates +fct_assessment_results"
# Tests of other OneRoster models that also read the selected ones stay out (those are not built).
CAUTIOUS = ("--indirect-selection", "cautious")
MATCH_RATE_TEST = "assert_identity_match_rate_at_least_minimum"
LOADED_AT = datetime(2025, 9, 15, 6, 0, tzinfo=UTC)

STAR_SAMPLES = (
    SHARED_FIXTURES
    / "PowerSchool-ETL-Assistant-Tool__ETL-Assistant-Tool/connector_etl/vendor/ren_learning/star/src/test/resource"
    / "sample_vendor_data/REN_LEARNING/STAR/0000/2018-2019/ALL/sources"
)
POWERSCHOOL_SAMPLE = (
    SHARED_FIXTURES / "mennotech__fsenrollment-pssync/data/examples/fs_powerschool_nonapi_report/students_example.csv"
)

# grand-bend's anchor: OneRoster students (id, given name, family name, student number, email, birth date).
ONEROSTER = [
    ("s01", "Ada", "Lovelace", "1001", "ada.lovelace@gb.org", "2012-03-04"),
    ("s02", "Alan", "Turing", "1002", "alan.turing@gb.org", "2011-06-23"),
    ("s03", "Grace", "Hopper", "1003", "grace.hopper@gb.org", "2012-12-09"),
    ("s04", "Jon", "Smith", "1004", None, "2012-05-05"),
    ("s05", "Edsger", "Dijkstra", "1005", "edsger.dijkstra@gb.org", "2011-05-11"),
    ("s06", "Barbara", "Liskov", "1006", "barbara.liskov@gb.org", "2012-11-07"),
    ("s07", "Donald", "Knuth", "1007", "donald.knuth@gb.org", "2011-01-10"),
    ("s08", "Frances", "Allen", "1008", "frances.allen@gb.org", "2012-08-04"),
    ("s09", "Radia", "Perlman", "1009", "radia.perlman@gb.org", "2011-12-18"),
    ("s10", "Ken", "Thompson", "1010", "ken.thompson@gb.org", "2012-02-04"),
    ("s11", "Sam", "Lee", "1011", "lee.family@gb.org", "2012-07-01"),
    ("s12", "Sara", "Lee", "1012", "lee.family@gb.org", "2012-07-01"),
]
ANCHOR = {row[0]: row for row in ONEROSTER}
# PowerSchool: (student number, first, last, email, birth date, expected anchor id, expected rule).
POWERSCHOOL = [
    ("1001", "Ada", "Lovelace", "  ADA.Lovelace@GB.org ", "2012-03-04", "s01", "email"),
    ("1002", "Alan", "Turing", "alan.turing@gb.org", "2011-06-23", "s02", "email"),
    ("9003", "Grace", "Hopper", None, "2012-12-09", "s03", "name_birth_date"),
    ("9004", "John", "Smith", None, "2012-05-05", "s04", "fuzzy_name_birth_date"),
    *[(a[3], a[1], a[2], a[4], a[5], a[0], "email") for a in ONEROSTER[4:10]],
]
# ClassLink students: (user id, first, last, email, student number, expected anchor id, rule, status).
CLASSLINK = [
    *[(f"cl-{a[0]}", a[1], a[2], a[4].upper(), None, a[0], "email", "matched") for a in ONEROSTER if a[4]][:9],
    # Twins share the family email: the email rule finds two anchor students, so the record is
    # ambiguous - even though its student number would single one of them out.
    ("cl-lee", "Sam", "Lee", "Lee.Family@gb.org", "1011", None, "email", "ambiguous"),
]
# Star students: (student identifier, first, last, expected anchor id, rule, status).
STAR = [
    *[(a[3], a[1], a[2], a[0], "student_number", "matched") for a in ONEROSTER[:9]],
    ("99999", "Zed", "Unknown", None, None, "unmatched"),
]
# belleville: PowerSchool anchor (student number, first, last, email); ClassLink by email; Star by number.
BELLEVILLE_POWERSCHOOL = [
    ("1001", "Maya", "Angelou", "maya.angelou@bps.org"),
    ("1002", "Toni", "Morrison", "toni.morrison@bps.org"),
    ("1003", "James", "Baldwin", "james.baldwin@bps.org"),
]
BELLEVILLE_STAR = [("1001", "Maya", "Angelou"), ("1002", "Toni", "Morrison"), ("77777", "Nobody", "Known")]


def person_key(district: str, anchor_source: str, anchor_id: str) -> str:
    """md5 of district | anchor source | anchor id (gen_skey): the same in every run."""
    return hashlib.md5(f"{district}|{anchor_source}|{anchor_id}".encode()).hexdigest()


def gb_key(anchor_id: str) -> str:
    return person_key("grand-bend", "oneroster", anchor_id)


def insert(con: duckdb.DuckDBPyConnection, table: str, district: str, rows: list[dict], **lineage: object) -> None:
    """Insert rows (dicts of raw columns) as one landed file, rows numbered from 2."""
    for number, row in enumerate(rows, start=2):
        values = {
            **row,
            "_district_id": district,
            "_source_file": lineage.get("file", f"{table}.csv"),
            "_file_sha256": lineage.get("sha", f"{district}-{table}"),
            "_load_id": lineage.get("load_id", "load-1"),
            "_row_number": number,
            "_loaded_at": lineage.get("loaded_at", LOADED_AT),
            **lineage.get("extra", {}),
        }
        names = ", ".join(f'"{name}"' for name in values)
        con.execute(f"insert into {table} ({names}) values ({', '.join('?' * len(values))})", list(values.values()))


def star_rows(students: list[tuple], first_id: int) -> list[dict]:
    return [
        {
            "student_identifier": student[0],
            "first_name": student[1],
            "last_name": student[2],
            "assessment_id": str(first_id + position),
            "assessment_number": "1",
            "assessment_type": "Enterprise",
            "assessment_subject": "math",
            "completed_at": "2025-09-10 10:47:31",
            "scaled_score": str(400 + position),
        }
        for position, student in enumerate(students)
    ]


def write_grand_bend(con: duckdb.DuckDBPyConnection) -> None:
    district, oneroster = "grand-bend", {"extra": {"_file_mode": "bulk", "_change_kind": "file_row"}}
    users = [
        {"sourced_id": i, "role": "student", "given_name": g, "family_name": f, "identifier": n, "email": e}
        for i, g, f, n, e, _ in ONEROSTER
    ]
    users.append({"sourced_id": "t01", "role": "teacher", "given_name": "Ada", "family_name": "Lovelace"})
    for user in users:
        user.update(enabled_user="true", username=user["sourced_id"])
    insert(con, "raw_oneroster.users", district, users, **oneroster)
    demographics = [{"sourced_id": i, "birth_date": b} for i, *_, b in ONEROSTER]
    insert(con, "raw_oneroster.demographics", district, demographics, **oneroster)
    # An older PowerSchool snapshot: its extra student is gone from the latest file.
    old = [{"student_number": "5555", "first_name": "Old", "last_name": "Snapshot"}]
    insert(
        con,
        "raw_powerschool.students",
        district,
        old,
        load_id="load-0",
        sha="old",
        loaded_at=datetime(2025, 9, 1, tzinfo=UTC),
    )
    powerschool = [
        {"student_number": n, "first_name": f, "last_name": la, "email": e, "birth_date": b}
        for n, f, la, e, b, *_ in POWERSCHOOL
    ]
    insert(con, "raw_powerschool.students", district, powerschool)
    classlink = [
        {"sourced_id": i, "first_name": f, "last_name": la, "email": e, "student_number": n, "role": "Student"}
        for i, f, la, e, n, *_ in CLASSLINK
    ]
    classlink.append({"sourced_id": "cl-t", "first_name": "Ada", "email": "ada.lovelace@gb.org", "role": "Teacher"})
    insert(con, "raw_classlink.users", district, classlink)
    insert(con, "raw_star.assessments", district, star_rows(STAR, 100))
    # Ada's reading test comes in a second file.
    reading = star_rows(STAR[:1], 500)
    reading[0].update(assessment_subject="reading", completed_at="2025-09-12 09:00:00")
    insert(con, "raw_star.assessments", district, reading, file="SR.csv", sha="gb-sr", load_id="load-2")


def write_belleville(con: duckdb.DuckDBPyConnection) -> None:
    district = "belleville"
    students = [
        {"student_number": n, "first_name": f, "last_name": la, "email": e} for n, f, la, e in BELLEVILLE_POWERSCHOOL
    ]
    insert(con, "raw_powerschool.students", district, students)
    classlink = [
        {"sourced_id": f"cl{n}", "first_name": f, "last_name": la, "email": f" {e.upper()}", "role": "student"}
        for n, f, la, e in BELLEVILLE_POWERSCHOOL
    ]
    insert(con, "raw_classlink.users", district, classlink)
    insert(con, "raw_star.assessments", district, star_rows(BELLEVILLE_STAR, 700))


def land_real_samples(database: Path, folder: Path) -> list[dict[str, str]]:
    """The real PowerSchool and Star samples, and a OneRoster roster of the same students, landed
    in one drop with `rollcall load` for demo-unified. Returns the PowerSchool rows."""
    with POWERSCHOOL_SAMPLE.open(newline="", encoding="utf-8") as handle:
        powerschool = list(csv.DictReader(handle))
    users = [
        "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,givenName,familyName,identifier"
    ]
    demographics = ["sourcedId,status,dateLastModified,birthDate"]
    roster = [(r["Student_Number"], r["First_Name"], r["Last_Name"], r["DOB"]) for r in powerschool]
    for position, (number, first, last, dob) in enumerate([*roster, ("049074", "Taylor", "Richards", "")], 1):
        born = datetime.strptime(dob, "%m/%d/%Y").date().isoformat() if dob else ""
        users.append(f"u{position},,,true,sch1,student,u{position},{first},{last},{number}")
        demographics.append(f"u{position},,,{born}")
    drop = write_package(
        folder / "drop",
        {
            "manifest.csv": "propertyName,value\nmanifest.version,1.0\noneroster.version,1.1\n"
            "file.orgs,bulk\nfile.users,bulk\nfile.demographics,bulk\n",
            "orgs.csv": "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\n"
            "d1,,,Demo Unified,district,9900001,\nsch1,,,Example Elementary School,school,0204,d1\n",
            "users.csv": "\n".join(users) + "\n",
            "demographics.csv": "\n".join(demographics) + "\n",
        },
    )
    shutil.copy(POWERSCHOOL_SAMPLE, drop / POWERSCHOOL_SAMPLE.name)
    for name in ("TEST_1819_SM.csv", "TEST_1819_SR.csv"):
        # The sample's DistrictStateID (1966) names no registered district, so the district gate
        # would refuse it for demo-unified: that one column is cleared in the copy.
        with (STAR_SAMPLES / name).open(newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
        column = rows[0].index("DistrictStateID")
        for row in rows[1:]:
            row[column] = ""
        with (drop / name).open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle, quoting=csv.QUOTE_ALL).writerows(rows)
    result = run_rollcall("load", str(drop), "--district", "demo-unified", database=database)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return powerschool


def land_tiny_roster(database: Path, folder: Path) -> None:
    """Without the shared samples: a tiny OneRoster drop for demo-unified (it creates every raw table)."""
    result = run_rollcall(
        "load", str(write_package(folder / "drop", TINY_PACKAGE)), "--district", "demo-unified", database=database
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, str]] | None]:
    folder = tmp_path_factory.mktemp("identity")
    database = folder / "warehouse.duckdb"
    if HAS_SHARED_FIXTURES:
        powerschool = land_real_samples(database, folder)
    else:
        land_tiny_roster(database, folder)
        powerschool = None
    # The load created every raw table (OneRoster and config/formats); the other districts are inserted.
    with duckdb.connect(str(database)) as con:
        write_grand_bend(con)
        write_belleville(con)
    # store_failures: a test below reads the failing test's rows
    result = run_dbt("build", "--select", SELECTION, *CAUTIOUS, database=database, store_failures=True)
    # Belleville's Star is below its minimum: that test, and nothing else, fails the build.
    assert result.returncode == 1, result.stdout[-5000:]
    assert "ERROR=1 SKIP=0" in result.stdout, result.stdout[-5000:]
    assert f"Failure in test {MATCH_RATE_TEST}" in result.stdout, result.stdout[-5000:]
    return database, powerschool


def identities(database: Path, district: str) -> dict[tuple[str, str], tuple]:
    rows = query(
        database,
        "select source_system, source_record_id, person_key, match_status, matched_rule, candidate_count"
        " from core.dim_student_identities where district_id = ?",
        [district],
    )
    return {(system, record): tuple(rest) for system, record, *rest in rows}


def test_every_record_resolves_to_its_person(built):
    expected = {("oneroster", i): (gb_key(i), "anchor", "anchor", 1) for i in ANCHOR}
    for number, *_, anchor, rule in POWERSCHOOL:
        expected[("powerschool", number)] = (gb_key(anchor), "matched", rule, 1)
    for user_id, *_, anchor, rule, status in CLASSLINK:
        expected[("classlink", user_id)] = (gb_key(anchor) if anchor else None, status, rule, 1 if anchor else 2)
    for identifier, _, _, anchor, rule, status in STAR:
        expected[("star", identifier)] = (gb_key(anchor) if anchor else None, status, rule, 1 if anchor else 0)
    assert identities(built[0], "grand-bend") == expected


def test_a_district_anchor_defines_its_people(built):
    key = {n: person_key("belleville", "powerschool", n) for n, *_ in BELLEVILLE_POWERSCHOOL}
    expected = {("powerschool", n): (key[n], "anchor", "anchor", 1) for n in key}
    expected |= {("classlink", f"cl{n}"): (key[n], "matched", "email", 1) for n in key}
    expected |= {("star", n): (key[n], "matched", "student_number", 1) for n in ("1001", "1002")}
    expected[("star", "77777")] = (None, "unmatched", None, 0)
    assert identities(built[0], "belleville") == expected


def test_ambiguous_and_unmatched_records_are_queued(built):
    rows = query(
        built[0],
        "select source_system, source_record_id, match_status, candidate_count, candidate_person_keys,"
        " candidate_anchor_record_ids, review_reason from quality.fct_identity_review_queue"
        " where district_id = 'grand-bend' order by 1",
    )
    assert rows == [
        (
            "classlink",
            "cl-lee",
            "ambiguous",
            2,
            f"{gb_key('s11')}, {gb_key('s12')}",
            "s11, s12",
            "2 oneroster students found by rule email; not merged with any of them",
        ),
        ("star", "99999", "unmatched", 0, None, None, "no enabled rule found a oneroster student"),
    ]


def test_match_rates_are_exact(built):
    rows = query(
        built[0],
        "select source_system, rule_name, records, matched_records, ambiguous_records, unmatched_records,"
        " match_rate, source_match_rate, min_match_rate, is_below_min_match_rate"
        " from quality.fct_identity_match_rates where district_id = 'grand-bend'"
        " order by source_system, rule_order nulls last",
    )
    d = Decimal
    assert rows == [
        ("classlink", "email", 10, 9, 1, 0, d("0.9000"), d("0.9000"), d("0.9000"), False),
        ("oneroster", "anchor", 12, 12, 0, 0, d("1.0000"), d("1.0000"), None, False),
        ("powerschool", "email", 8, 8, 0, 0, d("0.8000"), d("1.0000"), d("0.9000"), False),
        ("powerschool", "name_birth_date", 1, 1, 0, 0, d("0.1000"), d("1.0000"), d("0.9000"), False),
        ("powerschool", "fuzzy_name_birth_date", 1, 1, 0, 0, d("0.1000"), d("1.0000"), d("0.9000"), False),
        ("star", "student_number", 9, 9, 0, 0, d("0.9000"), d("0.9000"), d("0.9000"), False),
        ("star", "none", 1, 0, 0, 1, d("0.0000"), d("0.9000"), d("0.9000"), False),
    ]


def test_a_source_below_its_minimum_match_rate_fails_the_build(built):
    failures = query(
        built[0],
        "select district_id, source_system, source_records, source_matched_records, source_match_rate,"
        f" min_match_rate from test_failures.{MATCH_RATE_TEST}",
    )
    assert failures == [("belleville", "star", 3, 2, Decimal("0.6667"), Decimal("0.9000"))]


def test_assessment_results_link_to_the_person(built):
    rows = query(
        built[0],
        "select district_id, student_identifier, assessment_subject, person_key, anchor_student_id, k_student,"
        " identity_match_status, is_student_matched, school_year, completed_date::varchar"
        " from assessment.fct_assessment_results where district_id <> 'demo-unified'",
    )
    got = {(row[0], row[1], row[2]): row[3:] for row in rows}
    assert len(got) == len(rows) == len(STAR) + 1 + len(BELLEVILLE_STAR)
    ada = hashlib.md5(b"grand-bend|s01").hexdigest()  # dim_students.k_student of s01
    assert got[("grand-bend", "1001", "math")] == (gb_key("s01"), "s01", ada, "matched", True, 2026, "2025-09-10")
    assert got[("grand-bend", "1001", "reading")][:3] == (gb_key("s01"), "s01", ada)
    assert got[("grand-bend", "99999", "math")] == (None, None, None, "unmatched", False, 2026, "2025-09-10")
    maya = person_key("belleville", "powerschool", "1001")
    assert got[("belleville", "1001", "math")][:5] == (maya, "1001", None, "matched", True)


def test_stale_snapshot_rows_are_left_out(built):
    rows = query(built[0], "select count(*) from staging.stg_powerschool__students where district_id = 'grand-bend'")
    assert rows == [(len(POWERSCHOOL),)]


@pytest.mark.needs_shared
def test_real_star_and_powerschool_exports_reach_their_people(built):
    """The Star SM/SR samples (historical layout) and the PowerSchool report export, landed for
    a district whose OneRoster roster carries the same student numbers."""
    database, powerschool = built
    star = query(
        database,
        "select assessment_subject, count(*), min(student_identifier), min(completed_at)::varchar,"
        " min(school_year), count(person_key), min(identity_matched_rule)"
        " from assessment.fct_assessment_results where district_id = 'demo-unified' group by 1 order by 1",
    )
    assert star == [
        ("math", 4, "049074", "2018-10-30 10:47:31", 2019, 4, "student_number"),
        ("reading", 4, "049074", "2018-10-29 11:19:04", 2019, 4, "student_number"),
    ]
    first_math = query(
        database,
        "select scaled_score, percentile_rank, grade_equivalent, standard_error, grade_placement, current_sgp"
        " from assessment.fct_assessment_results where district_id = 'demo-unified' and assessment_id = '2091'",
    )
    assert first_math == [(456, 7, "2.50", Decimal("30.00"), Decimal("4.19"), 90)]

    staged = query(
        database,
        "select student_number, first_name, last_name, birth_date::varchar, grade_level, home_phone_digits"
        " from staging.stg_powerschool__students where district_id = 'demo-unified'",
    )
    first = powerschool[0]
    born = datetime.strptime(first["DOB"], "%m/%d/%Y").date().isoformat()
    assert len(staged) == len(powerschool)
    digits = "".join(c for c in first["Home_Phone"] if c.isdigit())
    assert (
        first["Student_Number"],
        first["First_Name"],
        first["Last_Name"],
        born,
        first["Grade_Level"],
        digits,
    ) in staged

    rates = query(
        database,
        "select source_system, source_records, source_matched_records from quality.fct_identity_match_rates"
        " where district_id = 'demo-unified' and not is_anchor_source group by all order by 1",
    )
    assert rates == [("powerschool", len(powerschool), len(powerschool)), ("star", 1, 1)]
