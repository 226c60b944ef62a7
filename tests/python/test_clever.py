"""Clever pull: the real recorded v1.1 responses of Clever's demo district replayed on 127.0.0.1
(paging, counts, rosters, identifiers, no password anywhere, idempotent re-pull, refused token),
and small synthetic v3.0 responses, validated against the v3.0 swagger, for the v3 mapping
(users by role, contacts and agents, several teachers, delta and bulk pulls, tenancy).

The recordings and the swagger are third-party fixtures (``../shared``): the tests that read
them are marked needs_shared; the v3 mapping tests run on their synthetic responses anyway."""

from __future__ import annotations

import copy
import json
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import duckdb
import jsonschema
import pytest
import yaml

from loaders.clever import CleverConfigError, CleverPullError, pull
from loaders.clever.settings import CleverSource, ceds_grade, resolve_entities
from loaders.registry import REGISTRY_PATH
from rollcall.cli import main as cli_main
from tests.python.clever_replay import ReplayServer
from tests.python.support import SHARED_FIXTURES, query, run_rollcall

CLEVER_RUBY = SHARED_FIXTURES / "Clever__clever-ruby"
CASSETTES = CLEVER_RUBY / "test" / "data" / "vcr_cassettes"
DERIVED_BODIES = CLEVER_RUBY / "_derived_json_bodies"
SWAGGER_V30 = SHARED_FIXTURES / "Clever__swagger-api" / "v3.0.yml"
TOKEN_ENV = "ROLLCALL_CLEVER_TOKEN"
RECORDED_TOKEN = "DEMO_TOKEN"  # the token the recordings were made with
V3_TOKEN = "v3-test-token-5d1e"
RAW_TABLES = ("orgs", "academic_sessions", "courses", "classes", "users", "enrollments", "demographics")


# --- helpers ---------------------------------------------------------------------------------


def recorded_items(collection: str) -> list[dict[str, Any]]:
    """The records of one recorded v1.1 list (all pages), read from the derived JSON bodies."""
    items = []
    for path in sorted(DERIVED_BODIES.glob(f"retrieves_all_{collection}__*.json")):
        body = json.loads(path.read_text(encoding="utf-8"))["body"]
        if isinstance(body.get("data"), list):
            items += [item["data"] for item in body["data"]]
    return items


def write_registry(folder: Path, rows: dict[str, tuple[str, str]]) -> Path:
    """A district registry with ``district id -> (NCES id, account ids)`` rows."""
    path = folder / "districts.csv"
    header = REGISTRY_PATH.read_text(encoding="utf-8").splitlines()[0]
    lines = [
        header,
        *(
            f"{district},{nces},,{accounts},{district} test district,,America/New_York"
            for district, (nces, accounts) in rows.items()
        ),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def raw_counts(database: Path) -> dict[str, int]:
    return {table: query(database, f"select count(*) from raw_oneroster.{table}")[0][0] for table in RAW_TABLES}


def texts_found(database: Path, needles: set[str]) -> dict[str, set[str]]:
    """Which needles occur in which table of the DuckDB file (every schema, table, view, column)."""
    texts = {}
    with duckdb.connect(str(database), read_only=True) as con:
        for schema, table in con.execute("select table_schema, table_name from information_schema.tables").fetchall():
            columns = con.execute(
                "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
                [schema, table],
            ).fetchall()
            row_text = "concat_ws(chr(9), " + ", ".join(f'cast("{c}" as varchar)' for (c,) in columns) + ")"
            texts[f"{schema}.{table}"] = con.execute(
                f'select coalesce(string_agg({row_text}, chr(10)), \'\') from "{schema}"."{table}"'
            ).fetchone()[0]
    everything = "\n".join(texts.values())
    present = {needle for needle in needles if needle in everything}
    return {
        table: {needle for needle in present if needle in text}
        for table, text in texts.items()
        if any(needle in text for needle in present)
    }


def files_containing(folder: Path, needles: set[str]) -> dict[str, set[str]]:
    found = {}
    for path in folder.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            hits = {needle for needle in needles if needle.encode("utf-8") in data}
            if hits:
                found[str(path)] = hits
    return found


def by_file(report) -> dict[str, Any]:
    return {f.file_name: f for f in report.files}


# --- the recorded v1.1 district --------------------------------------------------------------


@pytest.fixture(scope="module")
def recorded_server():
    with ReplayServer.from_cassettes(CASSETTES, DERIVED_BODIES) as server:
        yield server


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory, recorded_server: ReplayServer) -> dict[str, Any]:
    """The recorded district pulled twice (full), with the warehouse counts in between."""
    root = tmp_path_factory.mktemp("clever-v11")
    clever_id = recorded_items("district")[0]["id"]  # the Clever id registered as an account id
    registry = write_registry(root, {"clever-demo": ("", clever_id)})
    database, pipelines = root / "warehouse.duckdb", root / "pipelines"
    source = {"kind": "clever", "base_url": recorded_server.url, "api_version": "v1.1", "page_size": 100}
    # a temporary folder of this test's own: other runs on the machine use the system one
    temp = root / "tmp"
    temp.mkdir()
    recorded_server.seen.clear()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(TOKEN_ENV, RECORDED_TOKEN)
        patch.setattr(tempfile, "tempdir", str(temp))
        first = pull(
            source, district_id="clever-demo", database=database, full=True, registry=registry, pipelines_dir=pipelines
        )
        requests_first = list(recorded_server.seen)
        counts_first = raw_counts(database)
        second = pull(
            source, district_id="clever-demo", database=database, full=True, registry=registry, pipelines_dir=pipelines
        )
    return {
        "database": database,
        "pipelines": pipelines,
        "first": first,
        "second": second,
        "requests": requests_first,
        "counts_first": counts_first,
        "temp_left": set(temp.iterdir()),
        "registry": registry,
        "source": source,
    }


@pytest.mark.needs_shared
def test_replay_server_serves_recordings_only_with_the_token(recorded_server):
    url = f"{recorded_server.url}//v1.1/schools"
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url, timeout=10)
    assert refused.value.code == 401
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {RECORDED_TOKEN}"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        body = json.load(answer)
    assert [item["data"]["name"] for item in body["data"]] == [
        "Clever High School",
        "Clever Elementary School",
        "Clever Middle School",
    ]


@pytest.mark.needs_shared
def test_recorded_district_lands_exact_counts(replayed):
    database, report = replayed["database"], replayed["first"]
    assert report.status == "succeeded"
    assert query(database, "select type, count(*) from raw_oneroster.orgs group by type order by type") == [
        ("district", 1),
        ("school", 3),
    ]
    assert query(database, "select role, count(*) from raw_oneroster.users group by role order by role") == [
        ("student", 1004),
        ("teacher", 89),
    ]
    assert replayed["counts_first"] == {
        "orgs": 4,
        "academic_sessions": 3,  # Y1, S1 and S2, read from the sections
        "courses": 347,  # number + name at a school (course numbers repeat across names)
        "classes": 379,
        "users": 1093,
        "enrollments": 9342,
        "demographics": 1004,
    }
    files = by_file(report)
    assert set(files) == {f"{name}.csv" for name in resolve_entities(None)} | {"manifest.csv"}
    for name, result in files.items():
        assert result.status == "loaded", (name, result.error_text)
        assert result.rows_read == result.rows_landed and not result.warnings, name
        assert result.mode == (None if name == "manifest.csv" else "bulk")
    assert (
        query(database, "select source_path from audit.load_log") == [(replayed["source"]["base_url"] + "/v1.1",)] * 2
    )


@pytest.mark.needs_shared
def test_enrollments_equal_the_section_rosters(replayed):
    sections = recorded_items("section")
    expected = {(s["id"], s["teacher"], "teacher") for s in sections} | {
        (s["id"], student, "student") for s in sections for student in s["students"]
    }
    landed = query(
        replayed["database"], "select class_sourced_id, user_sourced_id, role from raw_oneroster.enrollments"
    )
    assert len(landed) == len(expected) == 379 + 8963
    assert set(landed) == expected
    primary = query(
        replayed["database"],
        """select class_sourced_id, user_sourced_id from raw_oneroster.enrollments
           where role = 'teacher' and "primary" = 'true'""",
    )
    assert dict(primary) == {s["id"]: s["teacher"] for s in sections}
    assert query(
        replayed["database"],
        """select count(*) from raw_oneroster.enrollments where role = 'student'
                                          and coalesce("primary", '') <> ''""",
    ) == [(0,)]


@pytest.mark.needs_shared
def test_paging_follows_the_next_links(replayed):
    requests = replayed["requests"]
    assert all(status == 200 for _, status in requests)
    students = [target for target, _ in requests if "/students" in target]
    recorded_next = [
        link["uri"]
        for path in sorted(DERIVED_BODIES.glob("retrieves_all_student__*.json"))
        for link in json.loads(path.read_text(encoding="utf-8"))["body"]["links"]
        if link["rel"] == "next"
    ]
    assert students == ["/v1.1/students?limit=100", *recorded_next]
    assert len(students) == 11 and sum("/sections" in target for target, _ in requests) == 4
    assert [target.split("?")[0] for target, _ in requests][:3] == [
        "/v1.1/districts",
        "/v1.1/schools",
        "/v1.1/sections",
    ]


@pytest.mark.needs_shared
def test_identifiers_grades_terms_and_demographics(replayed):
    database = replayed["database"]
    student = next(s for s in recorded_items("student") if s["grade"] == "Kindergarten")
    row = query(
        database,
        "select role, identifier, user_ids, grades, org_sourced_ids, username, email from raw_oneroster.users "
        "where sourced_id = ?",
        [student["id"]],
    )[0]
    assert row == (
        "student",
        student["sis_id"],
        f"{{sis_id:{student['sis_id']}}},{{student_number:{student['student_number']}}},"
        f"{{state_id:{student['state_id']}}}",
        "KG",
        student["school"],
        student["email"],
        student["email"],
    )
    assert {g for (g,) in query(database, "select grades from raw_oneroster.users where role = 'student'")} == {
        "KG",
        *(f"{n:02d}" for n in range(1, 13)),
    }
    usernames = dict(query(database, "select sourced_id, username from raw_oneroster.users"))
    people = recorded_items("student") + recorded_items("teacher")
    assert usernames == {p["id"]: p["email"] for p in people}  # never the credentials' login name
    teacher = recorded_items("teacher")[0]
    assert query(database, "select user_ids from raw_oneroster.users where sourced_id = ?", [teacher["id"]]) == [
        (f"{{sis_id:{teacher['sis_id']}}},{{teacher_number:{teacher['teacher_number']}}}",)
    ]
    assert sorted(
        query(database, "select title, type, start_date, end_date, school_year from raw_oneroster.academic_sessions")
    ) == [
        ("S1", "term", "2012-08-01", "2012-12-01", "2013"),
        ("S2", "term", "2012-12-02", "2013-06-01", "2013"),
        ("Y1", "term", "2012-08-01", "2013-06-01", "2013"),
    ]
    assert query(
        database,
        "select class_type, count(*) from raw_oneroster.classes group by class_type order by class_type",
    ) == [("homeroom", 60), ("scheduled", 319)]
    month, day, year = (int(part) for part in student["dob"].split("/"))  # Clever sends M/D/YYYY
    assert query(
        database,
        "select sex, birth_date, black_or_african_american, white, hispanic_or_latino_ethnicity "
        "from raw_oneroster.demographics where sourced_id = ?",
        [student["id"]],
    )[0] == (
        {"M": "male", "F": "female"}[student["gender"]],
        f"{year:04d}-{month:02d}-{day:02d}",
        "true" if student["race"] == "Black or African American" else "false",
        "true" if student["race"] == "Caucasian" else "false",
        {"Y": "true", "N": "false"}[student["hispanic_ethnicity"]],
    )


@pytest.mark.needs_shared
def test_no_password_or_token_reaches_the_warehouse(replayed):
    passwords = {p["credentials"]["district_password"] for p in recorded_items("student") + recorded_items("teacher")}
    assert len(passwords) == 933
    secrets = passwords | {RECORDED_TOKEN}
    assert texts_found(replayed["database"], secrets) == {}
    email = recorded_items("student")[0]["email"]  # the scan does find what is there
    assert "raw_oneroster.users" in texts_found(replayed["database"], {email})
    assert files_containing(replayed["pipelines"], secrets) == {}
    assert replayed["temp_left"] == set()  # the temporary package folder is gone
    columns = {c for (c,) in query(replayed["database"], "select column_name from information_schema.columns")}
    assert not any("password" in c.lower() for c in columns)


@pytest.mark.needs_shared
def test_repull_of_the_same_data_lands_nothing(replayed):
    second = replayed["second"]
    assert second.status == "succeeded" and second.rows_landed == 0
    assert {f.status for f in second.files} == {"skipped"}
    assert all("identical file already loaded" in f.error_text for f in second.files)
    assert raw_counts(replayed["database"]) == replayed["counts_first"]


@pytest.mark.needs_shared
def test_refused_or_missing_token_is_one_clear_line(replayed, recorded_server, tmp_path, monkeypatch):
    database = tmp_path / "never.duckdb"
    monkeypatch.setenv(TOKEN_ENV, "not-the-token")
    with pytest.raises(CleverPullError) as refused:
        pull(replayed["source"], district_id="clever-demo", database=database, registry=replayed["registry"])
    message = str(refused.value)
    assert "\n" not in message and "not-the-token" not in message
    assert f"GET {recorded_server.url}/v1.1/districts answered 401" in message and f"${TOKEN_ENV}" in message
    monkeypatch.delenv(TOKEN_ENV)
    with pytest.raises(CleverConfigError, match=f"environment variable {TOKEN_ENV} is not set"):
        pull(replayed["source"], district_id="clever-demo", database=database, registry=replayed["registry"])
    assert not database.exists()


@pytest.mark.needs_shared
def test_cli_refused_or_missing_token_is_one_line(recorded_server, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(TOKEN_ENV, "not-the-token")
    options = ["--district", "demo-unified", "--base-url", recorded_server.url, "--api-version", "v1.1"]
    result = run_rollcall("pull-clever", *options, database=tmp_path / "cli.duckdb")  # the real entry point
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0 and "not-the-token" not in result.stderr
    assert result.stderr.startswith("rollcall pull-clever: failed, nothing loaded: GET http://127.0.0.1:")
    assert "/v1.1/districts answered 401 Unauthorized" in result.stderr
    monkeypatch.delenv(TOKEN_ENV)
    assert cli_main(["pull-clever", *options, "--database", str(tmp_path / "cli.duckdb")]) == 2
    assert capsys.readouterr().err == (
        f"rollcall pull-clever: refused: environment variable {TOKEN_ENV} is not set: it must hold the Clever token\n"
    )
    assert not (tmp_path / "cli.duckdb").exists()


# --- synthetic v3.0 responses ----------------------------------------------------------------


def _item(kind: str, record: dict[str, Any]) -> dict[str, Any]:
    return {"data": record, "uri": f"/v3.0/{kind}/{record['id']}"}


def _page(kind: str, records: list[dict[str, Any]], next_uri: str | None = None) -> dict[str, Any]:
    links = [{"rel": "self", "uri": f"/v3.0/{kind}"}]
    if next_uri:
        links.append({"rel": "next", "uri": next_uri})
    return {"data": [_item(kind, r) for r in records], "links": links}


def _user(user_id: str, first: str, last: str, email: str | None, roles: dict[str, Any]) -> dict[str, Any]:
    user = {
        "id": user_id,
        "district": "d-v3",
        "name": {"first": first, "last": last, "middle": ""},
        "created": "2025-07-01T10:00:00.000Z",
        "last_modified": f"2025-08-{10 + len(user_id):02d}T10:00:00.000Z",
        "roles": roles,
    }
    if email:
        user["email"] = email
    return user


V3_PASSWORDS = {"Tr0ub4dor-st1", "Tr0ub4dor-st2", "Tr0ub4dor-te1"}


def v3_collections() -> dict[str, list[dict[str, Any]]]:
    """A small district shaped by the v3.0 swagger: 2 schools, 1 term, 1 course, 2 sections (one
    with two teachers), 3 students, 2 teachers (one also a parent) and 3 other contacts."""

    def student(sis: str, grade: str, school: str, dob: str, gender: str, race: str, hispanic: str, password: str):
        return {
            "sis_id": sis,
            "student_number": f"N{sis}",
            "state_id": f"ST{sis}",
            "grade": grade,
            "school": school,
            "schools": [school],
            "dob": dob,
            "gender": gender,
            "race": race,
            "hispanic_ethnicity": hispanic,
            "credentials": {"district_username": f"login{sis}", "district_password": password},
        }

    contact_te2 = {
        "sis_id": "P-9",
        "student_relationships": [{"student": "st3", "relationship": "Parent", "type": "Family"}],
    }
    return {
        "districts": [
            {
                "id": "d-v3",
                "name": "Demo Unified (Clever)",
                "nces_id": "9900001",
                "last_sync": "2025-09-01T06:00:00.000Z",
            }
        ],
        "schools": [
            {
                "id": "sch-hs",
                "district": "d-v3",
                "name": "Bayview High School",
                "nces_id": "990000100001",
                "low_grade": "9",
                "high_grade": "12",
                "sis_id": "HS1",
                "school_number": "100",
                "last_modified": "2025-08-01T00:00:00.000Z",
            },
            {
                "id": "sch-es",
                "district": "d-v3",
                "name": "Fern Hill Elementary School",
                "low_grade": "PreKindergarten",
                "high_grade": "5",
                "sis_id": "ES1",
                "school_number": "200",
                "last_modified": "2025-08-02T00:00:00.000Z",
            },
        ],
        "terms": [
            {
                "id": "t-fall",
                "district": "d-v3",
                "name": "Fall 2025",
                "start_date": "2025-08-20T00:00:00.000Z",
                "end_date": "2025-12-19T00:00:00.000Z",
            }
        ],
        "courses": [{"id": "c-alg", "district": "d-v3", "name": "Algebra I", "number": "MA101"}],
        "sections": [
            {
                "id": "sec-alg",
                "district": "d-v3",
                "school": "sch-hs",
                "course": "c-alg",
                "term_id": "t-fall",
                "name": "Algebra I - Period 1",
                "section_number": "MA101-1",
                "sis_id": "9001",
                "grade": "9",
                "subject": "math",
                "period": "1",
                "teacher": "te1",
                "teachers": ["te1", "te2"],
                "students": ["st1", "st2"],
                "last_modified": "2025-08-25T00:00:00.000Z",
            },
            {
                "id": "sec-hr",
                "district": "d-v3",
                "school": "sch-es",
                "term_id": "t-fall",
                "name": "Kindergarten Homeroom",
                "sis_id": "9002",
                "grade": "Kindergarten",
                "subject": "homeroom/advisory",
                "teacher": "te2",
                "teachers": ["te2"],
                "students": ["st3"],
                "last_modified": "2025-08-26T00:00:00.000Z",
            },
        ],
        "students": [
            _user(
                "st1",
                "Ada",
                "Byron",
                "ada@example.org",
                {"student": student("1001", "9", "sch-hs", "9/14/2010", "F", "Asian", "N", "Tr0ub4dor-st1")},
            ),
            _user(
                "st2",
                "Grace",
                "Hopper",
                None,
                {"student": student("1002", "9", "sch-hs", "12/9/2010", "F", "Caucasian", "Y", "Tr0ub4dor-st2")},
            ),
            _user(
                "st3",
                "Alan",
                "Kay",
                None,
                {"student": student("1003", "Kindergarten", "sch-es", "3/2/2020", "X", "Two or More Races", "", "")},
            ),
        ],
        "teachers": [
            _user(
                "te1",
                "Edsger",
                "Dijkstra",
                "ed@example.org",
                {
                    "teacher": {
                        "sis_id": "T-1",
                        "teacher_number": "501",
                        "school": "sch-hs",
                        "schools": ["sch-hs"],
                        "credentials": {"district_username": "edsger", "district_password": "Tr0ub4dor-te1"},
                    }
                },
            ),
            _user(
                "te2",
                "Barbara",
                "Liskov",
                "bl@example.org",
                {
                    "teacher": {
                        "sis_id": "T-2",
                        "teacher_number": "502",
                        "school": "sch-es",
                        "schools": ["sch-es", "sch-hs"],
                    },
                    "contact": contact_te2,
                },
            ),
        ],
        "contacts": [
            _user(
                "co1",
                "Annabella",
                "Byron",
                "ab@example.org",
                {
                    "contact": {
                        "sis_id": "P-1",
                        "phone": "(206) 555-0101",
                        "phone_type": "Cell",
                        "student_relationships": [
                            {"student": "st1", "relationship": "Parent", "type": "Parent/Guardian"}
                        ],
                    }
                },
            ),
            _user(
                "co2",
                "Mary",
                "Hopper",
                None,
                {
                    "contact": {
                        "sis_id": "P-2",
                        "phone": "(206) 555-0102",
                        "phone_type": "Home",
                        "student_relationships": [
                            {"student": "st1", "relationship": "Grandparent", "type": "Emergency"},
                            {"student": "st2", "relationship": "Grandparent", "type": "Emergency"},
                        ],
                    }
                },
            ),
            _user(
                "co3",
                "Walter",
                "Murray",
                None,
                {
                    "contact": {
                        "sis_id": "P-3",
                        "student_relationships": [
                            {"student": "st2", "relationship": "Other", "type": "Parent/Guardian"}
                        ],
                    }
                },
            ),
            _user("te2", "Barbara", "Liskov", "bl@example.org", {"contact": contact_te2}),
        ],
    }


def v3_bodies(collections: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Response bodies by request target; students come in pages of two with a next link."""
    bodies = {}
    for name in ("districts", "schools", "terms", "courses", "sections"):
        bodies[f"/v3.0/{name}"] = _page(name, collections[name])
    students = collections["students"]
    bodies["/v3.0/users?role=student"] = _page(
        "users", students[:2], f"/v3.0/users?limit=2&role=student&starting_after={students[1]['id']}"
    )
    bodies[f"/v3.0/users?role=student&starting_after={students[1]['id']}"] = _page("users", students[2:])
    bodies["/v3.0/users?role=teacher"] = _page("users", collections["teachers"])
    bodies["/v3.0/users?role=contact"] = _page("users", collections["contacts"])
    return bodies


def v3_source(server: ReplayServer) -> dict[str, Any]:
    return {"kind": "clever", "base_url": server.url, "api_version": "v3.0", "token_env": TOKEN_ENV, "page_size": 2}


@pytest.mark.needs_shared
def test_v3_payloads_follow_the_swagger():
    swagger = yaml.safe_load(SWAGGER_V30.read_text(encoding="utf-8"))
    responses = {
        "districts": "DistrictsResponse",
        "schools": "SchoolsResponse",
        "terms": "TermsResponse",
        "courses": "CoursesResponse",
        "sections": "SectionsResponse",
        "users": "UsersResponse",
    }
    bodies = v3_bodies(v3_collections())
    for target, body in bodies.items():
        kind = target.split("?")[0].rsplit("/", 1)[1]
        schema = {"$ref": f"#/definitions/{responses[kind]}", "definitions": swagger["definitions"]}
        jsonschema.Draft4Validator(schema).validate(body)
    bad = copy.deepcopy(bodies["/v3.0/sections"])
    bad["data"][0]["data"]["grade"] = "Grade 9"  # not a Clever grade: the check has teeth
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(
            {"$ref": "#/definitions/SectionsResponse", "definitions": swagger["definitions"]}
        ).validate(bad)


@pytest.fixture(scope="module")
def v3_delta(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The synthetic district pulled twice without ``full`` (delta files)."""
    root = tmp_path_factory.mktemp("clever-v3")
    registry = write_registry(root, {"v3-demo": ("9900001", "")})
    database = root / "warehouse.duckdb"
    server = ReplayServer.from_bodies(v3_bodies(v3_collections()), V3_TOKEN, ignore_limit=2)
    with server, pytest.MonkeyPatch.context() as patch:
        patch.setenv(TOKEN_ENV, V3_TOKEN)
        options = {
            "district_id": "v3-demo",
            "database": database,
            "registry": registry,
            "pipelines_dir": root / "p",
        }
        report = pull(v3_source(server), **options)
        seen = list(server.seen)
        counts = raw_counts(database)
        again = pull(v3_source(server), **options)
    return {"database": database, "report": report, "seen": seen, "counts": counts, "again": again}


def test_v3_users_contacts_and_agents(v3_delta):
    database = v3_delta["database"]
    assert v3_delta["report"].status == "succeeded"
    users = {
        row[0]: row[1:]
        for row in query(
            database,
            "select sourced_id, role, org_sourced_ids, username, user_ids, agent_sourced_ids, grades, phone, sms "
            "from raw_oneroster.users",
        )
    }
    assert users == {
        "st1": (
            "student",
            "sch-hs",
            "ada@example.org",
            "{sis_id:1001},{student_number:N1001},{state_id:ST1001}",
            "co1,co2",
            "09",
            None,
            None,
        ),
        "st2": (
            "student",
            "sch-hs",
            "1002",
            "{sis_id:1002},{student_number:N1002},{state_id:ST1002}",
            "co2,co3",
            "09",
            None,
            None,
        ),
        "st3": (
            "student",
            "sch-es",
            "1003",
            "{sis_id:1003},{student_number:N1003},{state_id:ST1003}",
            "te2",
            "KG",
            None,
            None,
        ),
        "te1": ("teacher", "sch-hs", "ed@example.org", "{sis_id:T-1},{teacher_number:501}", None, None, None, None),
        "te2": (
            "teacher",
            "sch-es,sch-hs",
            "bl@example.org",
            "{sis_id:T-2},{teacher_number:502}",
            "st3",
            None,
            None,
            None,
        ),
        "co1": ("parent", "d-v3", "ab@example.org", "{sis_id:P-1}", "st1", None, "(206) 555-0101", "(206) 555-0101"),
        "co2": ("relative", "d-v3", "P-2", "{sis_id:P-2}", "st1,st2", None, "(206) 555-0102", None),
        "co3": ("guardian", "d-v3", "P-3", "{sis_id:P-3}", "st2", None, None, None),
    }
    paging = [target for target, _ in v3_delta["seen"] if "role=student" in target]
    assert paging == ["/v3.0/users?limit=2&role=student", "/v3.0/users?limit=2&role=student&starting_after=st2"]


def test_v3_sections_terms_courses_and_orgs(v3_delta):
    database = v3_delta["database"]
    assert sorted(
        query(database, 'select class_sourced_id, user_sourced_id, role, "primary" from raw_oneroster.enrollments')
    ) == [
        ("sec-alg", "st1", "student", None),
        ("sec-alg", "st2", "student", None),
        ("sec-alg", "te1", "teacher", "true"),
        ("sec-alg", "te2", "teacher", "false"),
        ("sec-hr", "st3", "student", None),
        ("sec-hr", "te2", "teacher", "true"),
    ]
    assert sorted(
        query(
            database,
            "select sourced_id, class_type, grades, course_sourced_id, class_code, term_sourced_ids, subjects, periods "
            "from raw_oneroster.classes",
        )
    ) == [
        ("sec-alg", "scheduled", "09", "c-alg", "MA101-1", "t-fall", "math", "1"),
        ("sec-hr", "homeroom", "KG", None, "9002", "t-fall", "homeroom/advisory", None),
    ]
    assert query(
        database, "select sourced_id, type, start_date, end_date, school_year from raw_oneroster.academic_sessions"
    ) == [("t-fall", "term", "2025-08-20", "2025-12-19", "2026")]
    assert query(database, "select sourced_id, title, course_code, org_sourced_id from raw_oneroster.courses") == [
        ("c-alg", "Algebra I", "MA101", "d-v3")
    ]
    assert sorted(
        query(database, "select sourced_id, type, identifier, parent_sourced_id from raw_oneroster.orgs")
    ) == [
        ("d-v3", "district", "9900001", None),
        ("sch-es", "school", None, "d-v3"),
        ("sch-hs", "school", "990000100001", "d-v3"),
    ]
    assert sorted(
        query(
            database,
            "select sourced_id, sex, birth_date, asian, white, demographic_race_two_or_more_races, "
            "hispanic_or_latino_ethnicity from raw_oneroster.demographics",
        )
    ) == [
        ("st1", "female", "2010-09-14", "true", "false", "false", "false"),
        ("st2", "female", "2010-12-09", "false", "true", "false", "true"),
        ("st3", "other", "2020-03-02", "false", "false", "true", None),
    ]


def test_v3_delta_rows_carry_status_and_modification_time(v3_delta):
    database = v3_delta["database"]
    files = by_file(v3_delta["report"])
    assert {name: f.mode for name, f in files.items() if name != "manifest.csv"} == dict.fromkeys(
        [f"{n}.csv" for n in resolve_entities(None)], "delta"
    )
    for table in RAW_TABLES:
        assert query(
            database,
            f"select count(*) from raw_oneroster.{table} "
            "where status is distinct from 'active' or date_last_modified is null",
        ) == [(0,)], table
    # terms and courses carry no modification time in v3: they take the district's last sync
    assert query(database, "select date_last_modified from raw_oneroster.academic_sessions") == [
        ("2025-09-01T06:00:00.000Z",)
    ]
    assert query(
        database, "select date_last_modified from raw_oneroster.enrollments where sourced_id = 'sec-hr-st3'"
    ) == [("2025-08-26T00:00:00.000Z",)]
    assert texts_found(database, V3_PASSWORDS | {V3_TOKEN, "login1001", "edsger"}) == {}
    again = v3_delta["again"]  # the same data pulled again: every delta file is skipped as identical
    assert again.status == "succeeded" and {f.status for f in again.files} == {"skipped"}
    assert raw_counts(database) == v3_delta["counts"]


def test_v3_full_pull_tombstones_what_clever_no_longer_returns(tmp_path, monkeypatch):
    registry = write_registry(tmp_path, {"v3-demo": ("9900001", "")})
    database = tmp_path / "warehouse.duckdb"
    monkeypatch.setenv(TOKEN_ENV, V3_TOKEN)
    collections = v3_collections()
    with ReplayServer.from_bodies(v3_bodies(collections), V3_TOKEN, ignore_limit=2) as server:
        first = pull(v3_source(server), district_id="v3-demo", database=database, full=True, registry=registry)
    assert first.status == "succeeded"
    collections["students"].pop(1)  # st2 left the district
    collections["sections"][0]["students"].remove("st2")
    for contact in collections["contacts"]:
        contact["roles"]["contact"]["student_relationships"] = [
            link for link in contact["roles"]["contact"]["student_relationships"] if link["student"] != "st2"
        ]
    bodies = v3_bodies(collections)
    bodies["/v3.0/users?role=student"]["links"].pop()  # two students now fit one page
    with ReplayServer.from_bodies(bodies, V3_TOKEN, ignore_limit=2) as server:
        source = {**v3_source(server), "max_tombstone_share": 0.5}
        refused = pull(v3_source(server), district_id="v3-demo", database=database, full=True, registry=registry)
        second = pull(source, district_id="v3-demo", database=database, full=True, registry=registry)
    assert refused.status == "partial"  # 1 of 3 students gone is more than the default 10% guard
    assert "would remove 1 of 8 active users records" in by_file(refused)["users.csv"].error_text
    assert second.status == "succeeded"
    tombstoned = query(
        database,
        "select sourced_id from raw_oneroster.users where _change_kind = 'bulk_tombstone' union all "
        "select sourced_id from raw_oneroster.enrollments where _change_kind = 'bulk_tombstone' union all "
        "select sourced_id from raw_oneroster.demographics where _change_kind = 'bulk_tombstone' order by 1",
    )
    assert tombstoned == [("sec-alg-st2",), ("st2",), ("st2",)]
    assert query(
        database, "select status, date_last_modified from raw_oneroster.users where sourced_id = 'st1' limit 1"
    ) == [(None, None)]  # bulk rows leave both blank


@pytest.mark.needs_shared
def test_token_of_another_district_is_refused(tmp_path, monkeypatch, recorded_server):
    registry = write_registry(tmp_path, {"v3-demo": ("9900001", ""), "grand-bend": ("4812345", "")})
    monkeypatch.setenv(TOKEN_ENV, V3_TOKEN)
    server = ReplayServer.from_bodies(v3_bodies(v3_collections()), V3_TOKEN, ignore_limit=2)
    with server, pytest.raises(CleverPullError) as refused:
        pull(v3_source(server), district_id="grand-bend", database=tmp_path / "w.duckdb", registry=registry)
    assert "district id '9900001' in the file belongs to v3-demo, not grand-bend" in str(refused.value)
    assert server.seen == [("/v3.0/districts?limit=2", 200)]  # refused before any roster is requested
    # the recorded district has no NCES id: its name must match, or its Clever id be registered
    monkeypatch.setenv(TOKEN_ENV, RECORDED_TOKEN)
    source = {"kind": "clever", "base_url": recorded_server.url, "api_version": "v1.1"}
    with pytest.raises(CleverPullError) as unproven:
        pull(source, district_id="grand-bend", database=tmp_path / "w.duckdb", entities=["users"], registry=registry)
    assert "district name 'Demo District' matches no registered district" in str(unproven.value)
    assert "add the Clever district id 4fd43cc56d11340000000005 to its account_ids" in str(unproven.value)
    assert not (tmp_path / "w.duckdb").exists()


def test_entities_choose_files_and_endpoints(tmp_path, monkeypatch, caplog):
    registry = write_registry(tmp_path, {"v3-demo": ("9900001", "")})
    monkeypatch.setenv(TOKEN_ENV, V3_TOKEN)
    caplog.set_level("INFO")
    with ReplayServer.from_bodies(v3_bodies(v3_collections()), V3_TOKEN, ignore_limit=2) as server:
        report = pull(
            v3_source(server),
            district_id="v3-demo",
            database=tmp_path / "w.duckdb",
            entities=["Terms"],
            registry=registry,
        )
        with pytest.raises(CleverPullError, match="unknown entity 'attendance'"):
            pull(v3_source(server), district_id="v3-demo", database=tmp_path / "w.duckdb", entities=["attendance"])
    assert set(by_file(report)) == {"manifest.csv", "academicSessions.csv"}
    assert [target.split("?")[0] for target, _ in server.seen] == ["/v3.0/districts", "/v3.0/terms"]
    assert query(
        tmp_path / "w.duckdb",
        "select property_name, value from raw_oneroster.manifest where property_name "
        "in ('file.academicSessions', 'file.users', 'file.attendance') order by 1",
    ) == [
        ("file.academicSessions", "delta"),
        ("file.attendance", "absent"),
        ("file.users", "absent"),
    ]
    assert V3_TOKEN not in caplog.text and "Fall 2025" not in caplog.text
    assert resolve_entities(["students", "sections"]) == ["classes", "users", "enrollments", "demographics"]


def test_source_entries_are_checked_before_any_request():
    assert CleverSource.from_entry({"kind": "clever"}) == CleverSource()
    bad_entries = {
        "holds a token": {"kind": "clever", "token": "abc"},
        "api_version 'v2.0' is not supported": {"api_version": "v2.0"},
        "page_size must be between 1 and 10,000": {"page_size": 0},
        "source kind is 'oneroster'": {"kind": "oneroster"},
        "is not an http(s) URL": {"base_url": "api.clever.com"},
        "unknown key(s) in the Clever source entry: secret": {"secret": "x"},
    }
    for expected, entry in bad_entries.items():
        with pytest.raises(CleverConfigError) as error:
            CleverSource.from_entry(entry)
        assert expected in str(error.value), entry
    assert [ceds_grade(g) for g in ("Kindergarten", "1", "PreKindergarten", "12", "PostGraduate", "Grade X")] == [
        "KG",
        "01",
        "PK",
        "12",
        "PS",
        "Grade X",
    ]


def test_cli_pulls_from_a_source_file(tmp_path, monkeypatch, capsys):
    database = tmp_path / "cli.duckdb"
    monkeypatch.setenv("CLI_CLEVER", V3_TOKEN)
    with ReplayServer.from_bodies(v3_bodies(v3_collections()), V3_TOKEN, ignore_limit=2) as server:
        source_file = tmp_path / "clever.yml"
        entry = {"kind": "clever", "base_url": server.url, "api_version": "v3.0", "token_env": "CLI_CLEVER"}
        source_file.write_text(yaml.safe_dump(entry), encoding="utf-8")
        argv = ["pull-clever", "--district", "demo-unified", "--source", str(source_file), "--page-size", "2"]
        exit_code = cli_main([*argv, "--entities", "sections,users", "--database", str(database)])
    out = capsys.readouterr()
    assert exit_code == 0, out.err
    lines = out.out.splitlines()
    assert [line.split()[:3] for line in lines[:-1]] == [
        ["classes.csv", "loaded", "delta"],
        ["enrollments.csv", "loaded", "delta"],
        ["manifest.csv", "loaded", "landed"],
        ["users.csv", "loaded", "delta"],
    ]
    assert "for demo-unified: succeeded;" in lines[-1] and V3_TOKEN not in out.out + out.err
    assert query(database, "select count(*) from raw_oneroster.users") == [(8,)]
