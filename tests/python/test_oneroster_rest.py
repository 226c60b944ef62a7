"""OneRoster REST pull source against a local OneRoster server (tests/python/oneroster_server.py).

The server serves a small generated district, checks OAuth 2 tokens or OAuth 1.0a signatures,
validates every body it sends against the official OneRoster 1.1 OpenAPI document (a
non-conforming body fails the test at teardown) and injects faults on request. The OpenAPI
document and FINT's sample responses are third-party fixtures (``../shared``): without them the
server sends its bodies unchecked, and the two tests that need them are skipped.
"""

from __future__ import annotations

import json
import math
import re
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from loaders.oneroster.pipeline import load_package
from loaders.oneroster_rest import RestAuthError, RestConfigError, RestPullError, RestSourceConfig, pull
from loaders.oneroster_rest.pipeline import plan_mode
from loaders.oneroster_rest.records import envelope_records, flatten_record, write_records
from loaders.oneroster_rest.state import EntityState
from loaders.registry import REGISTRY_PATH, UnknownDistrictError
from rollcall.cli import main
from rollcall.sample import generate_district
from tests.python.oneroster_server import (
    COLLECTIONS,
    INITIAL_MODIFIED,
    OneRosterServer,
    OpenApiValidator,
    default_validator,
    records_from_package,
)
from tests.python.support import SHARED_FIXTURES, query, run_dbt, run_rollcall

DISTRICT = "demo-unified"
SECRET_ENV = "ROLLCALL_TEST_SIS_SECRET"
FAST_RETRY = {"max_attempts": 4, "backoff_factor": 0.01, "max_delay": 0.05}
PAGE_SIZE = 20
FINT_DOCS = SHARED_FIXTURES / "FINTLabs__fint-oneroster-rest-provider" / "docs"


@pytest.fixture(scope="module")
def district_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small generated district (OneRoster 1.1 CSV package)."""
    folder = tmp_path_factory.mktemp("district")
    generate_district(folder, students=30, schools=2, days=5)
    return folder


@pytest.fixture(scope="module")
def validator() -> OpenApiValidator | None:
    """The OneRoster 1.1 OpenAPI validator; None where the shared document is absent."""
    return default_validator()


@pytest.fixture
def serve(district_csv: Path, validator: OpenApiValidator | None):
    """Start OneRoster servers serving the district; at teardown every body they sent must have
    conformed to the OpenAPI document (when it is there to check them)."""
    servers: list[OneRosterServer] = []

    def start(**options) -> OneRosterServer:
        server = OneRosterServer({}, validator=validator, **options).__enter__()
        server.data = records_from_package(district_csv, server.api_root)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.__exit__(None, None, None)
    violations = [v for server in servers for v in server.violations]
    assert not violations, f"the OneRoster server sent bodies that do not conform to the OpenAPI: {violations}"


def source_for(server: OneRosterServer, monkeypatch: pytest.MonkeyPatch, **overrides) -> dict:
    """The source entry for ``server``, its secret in the environment, with fast retries."""
    monkeypatch.setenv(SECRET_ENV, server.client_secret)
    auth = {"type": server.auth, "client_id": server.client_id, "client_secret_env": SECRET_ENV}
    if server.auth == "oauth2":
        auth["token_url"] = server.token_url
    if server.auth == "oauth1":
        auth["signature_method"] = server.oauth1_method
    source = {
        "kind": "oneroster_rest",
        "base_url": server.base_url,
        "version_path": server.version_path,
        "auth": auth,
        "page_size": PAGE_SIZE,
        "retry": FAST_RETRY,
    }
    source.update(overrides)
    return source


def raw_count(database: Path, table: str, where: str = "true") -> int:
    return query(database, f"select count(*) from raw_oneroster.{table} where {where}")[0][0]


def cursors(database: Path) -> dict[str, tuple[str | None, object]]:
    rows = query(database, "select entity, cursor_value, last_full_pull_at from audit.rest_pull_state")
    return {entity: (cursor, full_at) for entity, cursor, full_at in rows}


def file_results(report) -> dict[str, object]:
    return {f.entity: f for f in report.files}


def students(server: OneRosterServer) -> list[str]:
    return [r["sourcedId"] for r in server.data["users"] if r["role"] == "student"]


# --- parsing real responses -------------------------------------------------------------------


@pytest.mark.needs_shared
def test_real_fint_responses_flatten_to_the_csv_columns_and_land(tmp_path: Path, validator: OpenApiValidator):
    """The FINT provider's sample responses: GUIDRefs (one href misspelt hhttp://) become the CSV
    binding's *SourcedId columns, lists become comma lists, metadata lands in _extras."""
    docs = {
        "orgs": "org.json",
        "academicSessions": "academicSession.json",
        "courses": "course.json",
        "classes": "class.json",
        "users": "user.json",
        "enrollments": "enrollment.json",
    }
    bodies = {entity: json.loads((FINT_DOCS / name).read_text(encoding="utf-8")) for entity, name in docs.items()}
    records = {entity: envelope_records(body, entity) for entity, body in bodies.items()}

    cls, _ = flatten_record("classes", records["classes"][0])
    assert cls["courseSourcedId"] == "VG1"  # from the GUIDRef whose href is hhttp://...
    assert cls["schoolSourcedId"] == "11004"
    assert cls["termSourcedIds"] == "64444dfe-d597-4fcc-be4b-09ebd639ec5e,559b775e-7f8a-407e-945c-71e7e27dc62a"
    assert cls["subjectCodes"] == "https://psi.udir.no/kl06/vg1"
    _, extras = flatten_record("classes", records["classes"][1])
    assert json.loads(extras["metadata"]) == {"additionalClassType": "mentor"}
    user, _ = flatten_record("users", records["users"][0])
    assert user["orgSourcedIds"] == "11004"
    assert user["userIds"] == "{Feide:brukernavn@feide.fylke.no}"
    assert user["enabledUser"] == "true"
    enrollment, _ = flatten_record("enrollments", records["enrollments"][1])
    assert (enrollment["userSourcedId"], enrollment["classSourcedId"], enrollment["schoolSourcedId"]) == (
        "002bb2de-e8b0-48f6-bd9e-ec7182dacd2a",
        "1002683",
        "11004",
    )
    district, _ = flatten_record("orgs", records["orgs"][0])
    school, _ = flatten_record("orgs", records["orgs"][1])
    assert ("parentSourcedId" in district, school["parentSourcedId"]) == (False, "971045600")
    course, _ = flatten_record("courses", records["courses"][0])
    assert course["orgSourcedId"] == "971045600"

    # the validator catches the one real deviation: FINT's courses lack the required courseCode
    problems = {entity: validator.errors(validator.schema_name(entity, 200), body) for entity, body in bodies.items()}
    assert {entity for entity, errors in problems.items() if errors} == {"courses"}
    assert "'courseCode' is a required property" in problems["courses"][0]

    package = tmp_path / "package"
    package.mkdir()
    for entity, entity_records in records.items():
        write_records(package, entity, entity_records)
    (package / "manifest.csv").write_text(
        "propertyName,value\noneroster.version,1.1\n" + "".join(f"file.{e},delta\n" for e in records),
        encoding="utf-8",
    )
    registry = tmp_path / "districts.csv"  # the FINT district org's identifier, registered
    registry.write_text(
        REGISTRY_PATH.read_text(encoding="utf-8") + "fint-county,,971045600,,Skoleeier,,Europe/Oslo\n", encoding="utf-8"
    )
    database = tmp_path / "fint.duckdb"
    report = load_package(package, "fint-county", database, registry=registry)
    assert report.status == "succeeded", [(f.file_name, f.status, f.error_text) for f in report.files]
    for entity, entity_records in records.items():
        table = {"academicSessions": "academic_sessions"}.get(entity, entity)
        assert raw_count(database, table) == len(entity_records)
    assert query(database, "select course_sourced_id from raw_oneroster.classes where sourced_id = '1002683'") == [
        ("VG1",)
    ]
    assert query(database, "select _extras from raw_oneroster.classes where sourced_id = '1002683_493666'")[0][0]


# --- the main path: full pull, incremental pull, marts ------------------------------------------


@pytest.mark.dbt
def test_full_then_incremental_pull_with_oauth2_reaches_the_marts(serve, monkeypatch, warehouse: Path):
    server = serve(auth="oauth2")
    source = source_for(server, monkeypatch)

    first = pull(source, district_id=DISTRICT, database=warehouse)
    assert first.status == "succeeded"
    files = file_results(first)
    for entity, table in [
        ("orgs", "orgs"),
        ("academicSessions", "academic_sessions"),
        ("courses", "courses"),
        ("classes", "classes"),
        ("users", "users"),
        ("enrollments", "enrollments"),
        ("demographics", "demographics"),
    ]:
        assert files[entity].mode == "bulk"
        assert files[entity].rows_landed == len(server.data[entity]) == raw_count(warehouse, table)
    assert not any("filter" in r.params for r in server.requests)
    assert {cursor for cursor, _ in cursors(warehouse).values()} == {INITIAL_MODIFIED}
    # paging stopped on the short last page: no request past the end, no empty trailing page
    users_requests = server.served("users")
    assert len(users_requests) == math.ceil(len(server.data["users"]) / PAGE_SIZE)
    assert 0 < users_requests[-1].returned < PAGE_SIZE
    # lineage names the source; every file's rows are accounted for
    assert query(warehouse, "select source_path from audit.load_log") == [(server.base_url,)]
    assert query(
        warehouse, "select count(*) from audit.file_log where rows_read <> rows_landed + rows_quarantined"
    ) == [(0,)]

    changed = students(server)[:5]
    server.touch("users", changed, familyName="Changedname")
    requests_before = len(server.requests)
    second = pull(source, district_id=DISTRICT, database=warehouse)
    assert second.status == "succeeded"
    users_filtered = [r for r in server.requests[requests_before:] if r.collection == "users"]
    assert [(r.params["filter"], r.returned) for r in users_filtered] == [(f"dateLastModified>'{INITIAL_MODIFIED}'", 5)]
    files = file_results(second)
    assert (files["users"].mode, files["users"].rows_read, files["users"].rows_landed) == ("delta", 5, 5)
    assert all(files[e].rows_read == 0 for e in ("orgs", "courses", "classes", "enrollments", "demographics"))
    assert raw_count(warehouse, "users", "_file_mode = 'delta' and status = 'active'") == 5
    state = cursors(warehouse)
    assert state["users"][0] == max(r["dateLastModified"] for r in server.data["users"])
    assert state["orgs"][0] == INITIAL_MODIFIED

    result = run_dbt("build", "--select", "+dim_students", "--exclude-resource-type", "test", database=warehouse)
    assert result.returncode == 0, result.stdout[-3000:]
    marts = dict(query(warehouse, "select student_id, family_name from core.dim_students"))
    assert len(marts) == len(students(server))
    assert {student for student, family in marts.items() if family == "Changedname"} == set(changed)


@pytest.mark.parametrize("method", ["HMAC-SHA256", "HMAC-SHA1"])
def test_oauth1_signed_pull_signs_retries_afresh(serve, monkeypatch, warehouse: Path, method: str):
    server = serve(auth="oauth1", oauth1_method=method)
    server.inject("429", "users", min_offset=PAGE_SIZE)
    report = pull(source_for(server, monkeypatch), district_id=DISTRICT, database=warehouse, entities=["orgs", "users"])
    assert report.status == "succeeded"
    assert raw_count(warehouse, "users") == len(server.data["users"])
    assert {r.auth for r in server.requests} == {f"oauth1:{method}"}  # every request verified by oauthlib
    assert [r.status for r in server.served("users")].count(429) == 1
    assert server.replayed_nonces == 0  # the retry after the 429 carried a fresh nonce


def test_oauth1_wrong_secret_is_a_clear_error_and_writes_nothing(serve, monkeypatch, warehouse: Path):
    server = serve(auth="oauth1")
    source = source_for(server, monkeypatch)
    monkeypatch.setenv(SECRET_ENV, "not-the-secret")
    with pytest.raises(RestAuthError) as caught:
        pull(source, district_id=DISTRICT, database=warehouse, entities=["users"])
    message = str(caught.value)
    assert f"{server.api_root}/users" in message and "HTTP 401" in message and "\n" not in message
    assert "not-the-secret" not in message
    assert not warehouse.exists()


# --- OAuth 2 tokens ---------------------------------------------------------------------------


def test_expired_token_is_refreshed_once_and_the_call_retried(serve, monkeypatch, warehouse: Path):
    server = serve(auth="oauth2")
    server.inject("expire_token", "users", min_offset=2 * PAGE_SIZE)
    report = pull(source_for(server, monkeypatch), district_id=DISTRICT, database=warehouse, entities=["users"])
    assert report.status == "succeeded"
    assert server.token_requests == 2
    statuses = [(r.params["offset"], r.status) for r in server.served("users")]
    assert (str(2 * PAGE_SIZE), 401) in statuses and (str(2 * PAGE_SIZE), 200) in statuses
    assert raw_count(warehouse, "users") == len(server.data["users"])


def test_token_refused_after_refresh_is_not_refreshed_again(serve, monkeypatch, warehouse: Path):
    server = serve(auth="oauth2")
    server.inject("expire_token", "users", times=2)  # the refreshed token is revoked as well
    with pytest.raises(RestAuthError, match=r"/users: HTTP 401"):
        pull(source_for(server, monkeypatch), district_id=DISTRICT, database=warehouse, entities=["users"])
    assert server.token_requests == 2
    assert not warehouse.exists()


def test_token_endpoint_refusal_names_the_token_url(serve, monkeypatch, warehouse: Path):
    server = serve(auth="oauth2")
    source = source_for(server, monkeypatch)
    monkeypatch.setenv(SECRET_ENV, "wrong")
    with pytest.raises(RestAuthError) as caught:
        pull(source, district_id=DISTRICT, database=warehouse, entities=["orgs"])
    assert f"token endpoint {server.token_url} answered HTTP 401" in str(caught.value)
    assert server.served("orgs") == []


def test_a_wrong_version_path_is_a_404_naming_the_endpoint(serve, monkeypatch, warehouse: Path):
    server = serve(auth="none")
    source = {"base_url": server.base_url, "version_path": "v1p2", "auth": {"type": "none"}, "retry": FAST_RETRY}
    with pytest.raises(RestPullError, match=rf"GET {server.base_url}/v1p2/orgs: HTTP 404 — no such endpoint"):
        pull(source, district_id=DISTRICT, database=warehouse)
    assert [r.status for r in server.requests] == [404]


# --- faults -----------------------------------------------------------------------------------


def test_429s_and_a_500_mid_paging_are_retried(serve, monkeypatch, warehouse: Path):
    server = serve(auth="oauth2")
    server.inject("429", "users", times=2)
    server.inject("500", "users", min_offset=3 * PAGE_SIZE)
    report = pull(source_for(server, monkeypatch), district_id=DISTRICT, database=warehouse, entities=["users"])
    assert report.status == "succeeded"
    statuses = [(int(r.params["offset"]), r.status) for r in server.served("users")]
    assert statuses[:3] == [(0, 429), (0, 429), (0, 200)]
    assert (3 * PAGE_SIZE, 500) in statuses and statuses[statuses.index((3 * PAGE_SIZE, 500)) + 1] == (
        3 * PAGE_SIZE,
        200,
    )
    assert raw_count(warehouse, "users") == len(server.data["users"])


@pytest.mark.parametrize(
    ("fault", "times", "expected"),
    [
        ("500", FAST_RETRY["max_attempts"], r"/enrollments: HTTP 500 after 4 attempts"),
        (
            "missing_envelope",
            1,
            r"/enrollments \(offset 0\): the response has no 'enrollments' list \(keys found: data\)",
        ),
    ],
)
def test_a_failed_pull_writes_nothing_and_keeps_the_cursor(
    serve, monkeypatch, warehouse: Path, fault: str, times: int, expected: str
):
    server = serve(auth="oauth2")
    source = source_for(server, monkeypatch)
    entities = ["users", "enrollments"]
    assert pull(source, district_id=DISTRICT, database=warehouse, entities=entities).status == "succeeded"

    def snapshot() -> tuple:
        return (
            raw_count(warehouse, "users"),
            query(warehouse, "select count(*) from audit.load_log"),
            cursors(warehouse),
        )

    before = snapshot()

    changed = students(server)[:5]
    server.touch("users", changed, familyName="Changedname")
    server.touch("enrollments", [server.data["enrollments"][0]["sourcedId"]])
    server.inject(fault, "enrollments", times=times)
    with pytest.raises(RestPullError, match=expected):
        pull(source, district_id=DISTRICT, database=warehouse, entities=entities)
    # users were fetched fine, but nothing of the pull landed and no cursor moved
    assert snapshot() == before

    retry = pull(source, district_id=DISTRICT, database=warehouse, entities=entities)
    assert retry.status == "succeeded"
    assert file_results(retry)["users"].rows_landed == 5  # the changes were not lost
    assert file_results(retry)["enrollments"].rows_landed == 1


def test_short_page_with_a_total_count_refuses_the_full_pull(serve, monkeypatch, warehouse: Path):
    server = serve(auth="oauth2", send_total_count=True)
    server.inject("short_page", "users", min_offset=PAGE_SIZE)
    total = len(server.data["users"])
    with pytest.raises(RestPullError, match=rf"announced {total} records \(X-Total-Count\) but returned 30"):
        pull(source_for(server, monkeypatch), district_id=DISTRICT, database=warehouse, entities=["users"])
    assert not warehouse.exists()


def test_short_page_without_headers_is_caught_by_the_truncation_guard(serve, monkeypatch, warehouse: Path):
    server = serve(auth="oauth2")
    source = source_for(server, monkeypatch)
    pull(source, district_id=DISTRICT, database=warehouse, entities=["orgs", "users"])
    full_before = cursors(warehouse)["users"]

    server.inject("short_page", "users", min_offset=PAGE_SIZE)  # the listing ends early at 30 users
    report = pull(source, district_id=DISTRICT, database=warehouse, entities=["orgs", "users"], full=True)
    users = file_results(report)["users"]
    assert (report.status, users.status) == ("partial", "refused")
    assert "truncated export" in users.error_text
    assert raw_count(warehouse, "users", "_change_kind = 'bulk_tombstone'") == 0
    state = cursors(warehouse)
    assert state["users"] == full_before  # the refused entity's state did not move
    assert state["orgs"][1] > full_before[1]  # the entity that landed did


def test_full_pull_tombstones_what_disappeared_and_deltas_carry_deletions(serve, monkeypatch, warehouse: Path):
    server = serve(auth="oauth2")
    source = source_for(server, monkeypatch)
    pull(source, district_id=DISTRICT, database=warehouse, entities=["users"])
    gone, deleted, later = students(server)[:2], students(server)[2], students(server)[3]

    server.remove("users", gone)
    server.touch("users", [deleted], status="tobedeleted")
    report = pull(source, district_id=DISTRICT, database=warehouse, entities=["users"], full=True)
    users = file_results(report)["users"]
    assert (users.mode, users.rows_tombstoned) == ("bulk", 3)
    tombstoned = query(warehouse, "select sourced_id from raw_oneroster.users where _change_kind = 'bulk_tombstone'")
    assert sorted(row[0] for row in tombstoned) == sorted([*gone, deleted])
    # bulk files follow the CSV binding: status and dateLastModified left blank
    assert raw_count(warehouse, "users", "_file_mode = 'bulk' and (status <> '' or date_last_modified <> '')") == 0

    server.touch("users", [later], status="tobedeleted")
    delta = pull(source, district_id=DISTRICT, database=warehouse, entities=["users"])
    assert file_results(delta)["users"].mode == "delta"
    assert query(warehouse, "select sourced_id, status from raw_oneroster.users where _file_mode = 'delta'") == [
        (later, "tobedeleted")
    ]


def test_full_pulls_come_first_on_request_and_on_schedule():
    entry = {"base_url": "https://sis.example/ims/oneroster", "auth": {"type": "none"}}
    weekly = RestSourceConfig.from_source({**entry, "full_pull_every_days": 7})
    on_request_only = RestSourceConfig.from_source({**entry, "full_pull_every_days": None})
    now = datetime.now(UTC)
    recent = EntityState(INITIAL_MODIFIED, now - timedelta(days=1))
    stale = EntityState(INITIAL_MODIFIED, now - timedelta(days=8))
    assert plan_mode(None, False, weekly) == ("bulk", None)  # never pulled
    assert plan_mode(recent, False, weekly) == ("delta", INITIAL_MODIFIED)
    assert plan_mode(recent, True, weekly) == ("bulk", None)  # --full
    assert plan_mode(stale, False, weekly) == ("bulk", None)  # a week since the last full pull
    assert plan_mode(stale, False, on_request_only) == ("delta", INITIAL_MODIFIED)


def test_envelope_variants_endpoint_overrides_and_no_password(serve, monkeypatch, warehouse: Path):
    """/schools answers with orgs, /students and /teachers with users, /terms with academicSessions;
    a singular envelope key is tolerated; a password the server sends is never landed."""
    server = serve(auth="oauth2")
    server.touch("users", students(server)[:3], password="hunter2-secret")
    server.inject("singular_envelope", "teachers")
    source = source_for(
        server,
        monkeypatch,
        endpoints={"orgs": "schools", "users": ["students", "teachers"], "academicSessions": "/terms"},
    )
    report = pull(source, district_id=DISTRICT, database=warehouse, entities=["orgs", "users", "academicSessions"])
    assert report.status == "succeeded"
    expected = {
        "orgs": sum(r["type"] == "school" for r in server.data["orgs"]),
        "users": sum(r["role"] in ("student", "teacher") for r in server.data["users"]),
        "academic_sessions": sum(r["type"] == "term" for r in server.data["academicSessions"]),
    }
    assert {table: raw_count(warehouse, table) for table in expected} == expected
    assert {r.collection for r in server.requests} == {"schools", "students", "teachers", "terms"}
    assert "singular_envelope" in [f for r in server.served("teachers") for f in r.faults]
    columns = {row[0] for row in query(warehouse, "describe raw_oneroster.users")}
    assert "password" not in columns
    assert raw_count(warehouse, "users", "_extras like '%hunter2%'") == 0


# --- the server double conforms ---------------------------------------------------------------


def test_the_server_answers_every_endpoint(serve):
    """Without the OpenAPI document too: every collection pages, a bad filter is a 400."""
    import requests

    server = serve(auth="none")
    for collection in COLLECTIONS:
        response = requests.get(f"{server.api_root}/{collection}", params={"limit": 500}, timeout=10)
        assert response.status_code == 200, collection
        assert isinstance(response.json()[COLLECTIONS[collection][1]], list), collection
    assert requests.get(f"{server.api_root}/users", params={"filter": "bogus"}, timeout=10).status_code == 400


@pytest.mark.needs_shared
def test_the_server_conforms_on_every_endpoint_and_refuses_a_nonconforming_body(serve, validator):
    import requests

    server = serve(auth="none")
    for collection in COLLECTIONS:
        response = requests.get(f"{server.api_root}/{collection}", params={"limit": 500}, timeout=10)
        assert response.status_code == 200, collection
    assert requests.get(f"{server.api_root}/users", params={"filter": "bogus"}, timeout=10).status_code == 400
    assert server.violations == []

    server.inject("nonconforming", "users")
    response = requests.get(f"{server.api_root}/users", timeout=10)
    assert response.status_code == 500
    assert len(server.violations) == 1 and "'deleted' is not one of" in server.violations[0]
    server.violations.clear()  # expected here; any other test's violation fails it at teardown

    user = dict(server.data["users"][0])
    del user["orgs"]
    assert validator.errors("Users.Type", {"users": [user]})  # a required property is enforced


# --- configuration mistakes and the command line ----------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"base_url": None}, "base_url is missing"),
        ({"base_url": "ftp://sis.example/ims"}, "is not an http(s) URL"),
        ({"auth": {"type": "basic"}}, "auth.type is 'basic'"),
        (
            {"auth": {"type": "oauth2", "client_id": "x", "client_secret": "s3cr3t"}},
            "must not be written in the config",
        ),
        (
            {"auth": {"type": "oauth1", "client_id": "x", "client_secret_env": "ROLLCALL_UNSET_VAR"}},
            "ROLLCALL_UNSET_VAR",
        ),
        ({"auth": {"type": "oauth2", "client_id": "x", "client_secret_env": SECRET_ENV}}, "auth.token_url"),
        ({"page_size": 0}, "page_size must be at least 1"),
        ({"colour": "blue"}, "unknown setting(s) colour"),
    ],
)
def test_configuration_mistakes_are_one_line_errors(monkeypatch, warehouse: Path, change: dict, message: str):
    monkeypatch.setenv(SECRET_ENV, "value")
    monkeypatch.delenv("ROLLCALL_UNSET_V", raising=False)
    source = {
        "kind": "oneroster_rest",
        "base_url": "http://127.0.0.1:9/ims/oneroster",
        "auth": {"type": "oauth1", "client_id": "x", "client_secret_env": SECRET_ENV},
        **change,
    }
    with pytest.raises(RestConfigError) as caught:
        pull(source, district_id=DISTRICT, database=warehouse)
    assert message in str(caught.value) and "\n" not in str(caught.value)
    assert "s3cr3t" not in str(caught.value)


def test_unknown_district_entity_and_unreachable_server(monkeypatch, warehouse: Path):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv(SECRET_ENV, "value")
    source = {
        "base_url": f"http://127.0.0.1:{port}/ims/oneroster",
        "auth": {"type": "oauth1", "client_id": "client-1", "client_secret_env": SECRET_ENV},
        "retry": {**FAST_RETRY, "max_attempts": 2},
    }
    with pytest.raises(UnknownDistrictError):
        pull(source, district_id="no-such-district", database=warehouse)
    with pytest.raises(RestConfigError, match="unknown entity 'pupils'"):
        pull(source, district_id=DISTRICT, database=warehouse, entities=["pupils"])
    with pytest.raises(RestPullError, match=rf"GET http://127.0.0.1:{port}/ims/oneroster/v1p1/orgs: cannot reach"):
        pull(source, district_id=DISTRICT, database=warehouse, entities=["orgs", "attendance"])
    assert not warehouse.exists()


def test_cli_pull_rest(serve, monkeypatch, capsys, tmp_path: Path, warehouse: Path):
    server = serve(auth="oauth2")
    source = source_for(server, monkeypatch)
    config = tmp_path / "sources.yml"
    config.write_text(yaml.safe_dump({"sources": [{"name": "sis", **source}]}), encoding="utf-8")
    arguments = ["pull-rest", "--source", str(config), "--district", DISTRICT, "--database", str(warehouse)]

    assert main([*arguments, "--entities", "orgs,users", "--verbose"]) == 0
    out, err = capsys.readouterr()
    assert "users.csv" in out and "succeeded" in out
    assert "users: full listing from /users" in err
    given_names = {r["givenName"] for r in server.data["users"]}
    assert not any(re.search(rf"\b{re.escape(name)}\b", out + err) for name in given_names)  # counts, never names
    assert raw_count(warehouse, "users") == len(server.data["users"])

    monkeypatch.delenv(SECRET_ENV)
    assert main(arguments) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        f"rollcall pull-rest: refused: environment variable {SECRET_ENV} (named by auth.client_secret_env) is not set"
    ]

    monkeypatch.setenv(SECRET_ENV, "wrong")
    refused = run_rollcall(*arguments)  # as a user runs it: one line, no traceback
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines() == [
        f"rollcall pull-rest: failed, nothing loaded: token endpoint {server.token_url} answered HTTP 401 to the "
        "client-credentials request; check auth.client_id and the secret"
    ]
