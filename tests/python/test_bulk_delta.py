"""OneRoster file modes end to end: bulk -> delta (update, delete, reactivate) -> bulk with
missing records (tombstoned) -> truncated bulk (refused by the guard) -> same drop twice
(no change) -> a record reappearing in a bulk file (reactivated). Marts are rebuilt and
checked after each step."""

from __future__ import annotations

from pathlib import Path

import pytest

from loaders.oneroster.pipeline import load_package
from tests.python.support import USERS_HEADER, query, run_dbt, user_row, write_package

ORGS = (
    "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\n"
    "d1,,,Demo,district,,\ns1,,,Lincoln,school,,d1\n"
)


def manifest(mode: str) -> str:
    return f"propertyName,value\noneroster.version,1.1\nfile.orgs,bulk\nfile.users,{mode}\n"


def bulk(folder: Path, numbers: list[int], **names: str) -> Path:
    rows = "".join(user_row(n, given_name=names.get(f"u{n:02d}")) for n in numbers)
    return write_package(folder, {"manifest.csv": manifest("bulk"), "orgs.csv": ORGS, "users.csv": USERS_HEADER + rows})


def delta(folder: Path, rows: str) -> Path:
    return write_package(folder, {"manifest.csv": manifest("delta"), "users.csv": USERS_HEADER + rows})


@pytest.fixture(scope="module")
def warehouse_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("modes") / "warehouse.duckdb"


def students(database: Path) -> dict[str, str]:
    """Rebuild the roster marts and return the student ids and given names they hold."""
    result = run_dbt(
        "build", "--select", "+dim_students", "--exclude-resource-type", "test", "unit_test", database=database
    )
    assert result.returncode == 0, result.stdout[-3000:]
    return dict(
        query(database, "select student_id, given_name from core.dim_students where district_id = 'demo-unified'")
    )


def users_file(report) -> object:
    return next(f for f in report.files if f.entity == "users")


@pytest.mark.dbt
def test_file_modes_tombstones_and_guard(tmp_path, warehouse_path):
    db = warehouse_path

    # 1. first bulk: 40 students
    first = load_package(bulk(tmp_path / "b1", list(range(1, 41))), "demo-unified", db)
    assert users_file(first).mode == "bulk" and users_file(first).rows_tombstoned == 0
    assert len(students(db)) == 40

    # 2. delta: update u01, delete u02, add u41
    report = load_package(
        delta(
            tmp_path / "d1",
            user_row(1, status="active", modified="2025-10-01T12:00:00Z", given_name="Renamed")
            + user_row(2, status="tobedeleted", modified="2025-10-01T12:00:00Z")
            + user_row(41, status="active", modified="2025-10-01T12:00:00Z"),
        ),
        "demo-unified",
        db,
    )
    assert users_file(report).mode == "delta"
    state = students(db)
    assert len(state) == 40 and state["u01"] == "Renamed" and "u02" not in state and "u41" in state
    tombstone = query(
        db,
        "select is_tombstoned, tombstoned_at from staging.stg_oneroster__users where user_id = 'u02'",
    )[0]
    assert tombstone[0] is True and tombstone[1].isoformat().startswith("2025-10-01T12:00:00")

    # 3. delta reactivates u02 (inactive is read as tobedeleted, so use active)
    load_package(
        delta(tmp_path / "d2", user_row(2, status="active", modified="2025-10-02T08:00:00Z")), "demo-unified", db
    )
    assert "u02" in students(db)

    # 4. bulk without u03 and u04: 2 of 41 active records (4.9%) are tombstoned
    keep = [n for n in range(1, 42) if n not in (3, 4)]
    report = load_package(bulk(tmp_path / "b2", keep, u01="Renamed"), "demo-unified", db)
    assert users_file(report).status == "loaded" and users_file(report).rows_tombstoned == 2
    state = students(db)
    assert len(state) == 39 and "u03" not in state and "u04" not in state
    audit = query(
        db,
        "select rows_read, rows_landed, rows_tombstoned from audit.file_log where load_id = ? and entity = 'users'",
        [report.load_id],
    )
    assert audit == [(39, 39, 2)]

    # 5. a truncated bulk of u01-u10 would remove 31 of the 39 active users (79.5%): refused as a whole
    truncated = bulk(tmp_path / "b3", list(range(1, 11)))
    report = load_package(truncated, "demo-unified", db)
    refused = users_file(report)
    assert refused.status == "refused"
    assert "would remove 31 of 39 active users records (79.5%), more than the 10% limit" in refused.error_text
    assert len(students(db)) == 39

    # 6. the same drop twice changes nothing
    again = load_package(tmp_path / "b2", "demo-unified", db)
    assert {f.status for f in again.files} == {"skipped"}
    assert len(students(db)) == 39

    # 7. u03 comes back in the next bulk: reactivated; u04 stays tombstoned
    report = load_package(bulk(tmp_path / "b4", [*keep, 3], u01="Renamed"), "demo-unified", db)
    assert users_file(report).rows_tombstoned == 0
    state = students(db)
    assert "u03" in state and "u04" not in state and len(state) == 40

    # the truncated file goes through when the operator forces it (u04 reappears in it)
    forced = load_package(truncated, "demo-unified", db, force=True)
    assert users_file(forced).status == "loaded" and users_file(forced).rows_tombstoned == 31
    assert "mass_tombstone_forced" in {w.code for w in users_file(forced).warnings}
    assert sorted(students(db)) == [f"u{n:02d}" for n in range(1, 11)]


def test_mode_inference_and_absent_files(tmp_path, warehouse):
    no_manifest = write_package(
        tmp_path / "nomanifest",
        {"users.csv": USERS_HEADER + user_row(1, status="active", modified="2025-10-01T00:00:00Z")},
    )
    report = load_package(no_manifest, "demo-unified", warehouse)
    users = users_file(report)
    assert users.mode == "delta"
    assert {w.code for w in users.warnings} >= {"no_manifest", "mode_inferred"}

    absent = write_package(
        tmp_path / "absent",
        {"manifest.csv": manifest("absent"), "users.csv": USERS_HEADER + user_row(2)},
    )
    report = load_package(absent, "demo-unified", warehouse)
    users = users_file(report)
    assert users.status == "skipped" and "absent" in users.error_text
    assert query(warehouse, "select count(*) from raw_oneroster.users where sourced_id = 'u02'") == [(0,)]
