"""How rows reach the warehouse: dlt's working folder per warehouse file, no row data left in it,
row numbers of the single-pass landing (around quarantined rows, across row groups), and the
bulk guard reading the file the same way the landing does."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import dlt
import numpy as np
import pytest

import loaders.oneroster.csv_reader as csv_reader
from loaders.dlt_pipelines import pipelines_dir_for
from loaders.oneroster.csv_reader import row_number_runs, row_numbers
from loaders.oneroster.pipeline import load_package
from tests.python.support import PROJECT_ROOT, TINY_PACKAGE, USERS_HEADER, query, user_row, write_package

SEED_002 = PROJECT_ROOT / "tests" / "fixtures" / "sis_seed002"
ORGS = TINY_PACKAGE["orgs.csv"]
ROW_DATA_SUFFIXES = (".parquet", ".jsonl", ".insert_values", ".gz", ".model", ".csv")


def _users_package(folder: Path, numbers: list[int], mode: str = "bulk", **names: str) -> Path:
    rows = "".join(user_row(n, given_name=names.get(f"u{n:02d}")) for n in numbers)
    manifest = f"propertyName,value\noneroster.version,1.1\nfile.orgs,bulk\nfile.users,{mode}\n"
    return write_package(folder, {"manifest.csv": manifest, "orgs.csv": ORGS, "users.csv": USERS_HEADER + rows})


def _given_names(database: Path) -> set[str]:
    return {row[0] for row in query(database, "select given_name from raw_oneroster.users")}


def test_each_warehouse_file_has_its_own_dlt_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "warehouses"
    first, second = folder / "first.duckdb", folder / "second.duckdb"

    # a load into `first` dies inside dlt's load step: its package is left pending
    def crash(self, *args, **kwargs):
        raise RuntimeError("power cut")

    with monkeypatch.context() as patch:
        patch.setattr(dlt.Pipeline, "load", crash)
        crashed = load_package(_users_package(tmp_path / "a", [1, 2], u01="Leaky"), "demo-unified", first)
    assert crashed.status == "failed"
    assert pipelines_dir_for(first) == folder / ".first.duckdb.dlt"
    assert (folder / ".first.duckdb.dlt" / "rollcall_oneroster").is_dir()

    # the next load in the same folder, into another file, sees none of it
    other = load_package(_users_package(tmp_path / "b", [3, 4], u03="Bea", u04="Cy"), "demo-unified", second)
    assert other.status == "succeeded"
    assert _given_names(second) == {"Bea", "Cy"}
    assert (folder / ".second.duckdb.dlt").is_dir()
    assert not (folder / ".dlt_pipelines").exists()

    # the same drop into `first` again: the pending package is aborted, not replayed
    again = load_package(_users_package(tmp_path / "a", [1, 2], u01="Leaky"), "demo-unified", first)
    assert again.status == "succeeded"
    assert query(first, "select count(*), count(distinct _load_id) from raw_oneroster.users") == [(2, 1)]
    assert query(first, "select distinct _load_id from raw_oneroster.users") == [(again.load_id,)]
    assert _given_names(second) == {"Bea", "Cy"}


def test_no_row_data_stays_in_the_dlt_folder(tmp_path: Path) -> None:
    database = tmp_path / "w.duckdb"
    # OneRoster rows (SQL models), then tombstones (arrow -> parquet), then SIS exports (parquet)
    load_package(_users_package(tmp_path / "b1", [1, 2, 3, 4, 5], u05="Zebediah"), "demo-unified", database)
    second = load_package(_users_package(tmp_path / "b2", [1, 2, 3, 4]), "demo-unified", database, force=True)
    assert next(f for f in second.files if f.entity == "users").rows_tombstoned == 1
    sis = load_package(SEED_002, "demo-sis", database)
    assert all(f.status == "loaded" for f in sis.files)

    leftovers = [p for p in pipelines_dir_for(database).rglob("*") if p.is_file()]
    assert leftovers  # dlt's state and schemas stay
    assert not [p for p in leftovers if p.name.endswith(ROW_DATA_SUFFIXES)]
    for path in leftovers:
        data = path.read_bytes()
        for value in (b"Zebediah", b"Reyes", b"309482094", b"u05"):
            assert value not in data, (path, value)


def test_a_failed_landing_leaves_no_package_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    database = tmp_path / "w.duckdb"
    drop = _users_package(tmp_path / "b1", [1, 2], u01="Zebediah")
    with monkeypatch.context() as patch:  # the warehouse refuses the landing statement
        patch.setattr(csv_reader.CsvScan, "landing_query", lambda self, lineage: "select no_such_column from users")
        failed = load_package(drop, "demo-unified", database)
    assert failed.status == "failed"
    assert "landing failed" in failed.error_text
    leftovers = [p for p in pipelines_dir_for(database).rglob("*") if p.is_file()]
    assert not [p for p in leftovers if p.name.endswith(ROW_DATA_SUFFIXES)]

    again = load_package(drop, "demo-unified", database)
    assert again.status == "succeeded"
    assert query(database, "select count(*) from raw_oneroster.users") == [(2,)]


def test_row_numbers_follow_the_file_across_row_groups(tmp_path: Path) -> None:
    rows = 130_000  # more than one DuckDB row group (122,880 rows)
    lines = ["sourcedId,status,dateLastModified,userSourcedId,schoolSourcedId,classSourcedId,period,date,absenceCode"]
    lines += [f"att-{n:07d},,,stu-{n % 97:05d},school-001,,,2025-09-01,P" for n in range(1, rows + 1)]
    lines.insert(60_000, "att-bad,,,one,field,too,many,2025-09-01,P,X")  # row 60,001 is quarantined
    drop = write_package(tmp_path / "drop", {"attendance.csv": "\n".join(lines) + "\n"})
    database = tmp_path / "w.duckdb"

    report = load_package(drop, "demo-unified", database)

    attendance = report.files[0]
    assert (attendance.rows_read, attendance.rows_landed, attendance.rows_quarantined) == (rows + 1, rows, 1)
    assert query(database, "select row_number from audit.quarantined_rows") == [(60_001,)]
    # att-N sits on row N + 1 before the bad row and on row N + 2 after it
    misplaced = query(
        database,
        """select count(*) from raw_oneroster.attendance
           where _row_number <> cast(substr(sourced_id, 5) as bigint) + 1
                                + case when cast(substr(sourced_id, 5) as bigint) >= 60000 then 1 else 0 end""",
    )
    assert misplaced == [(0,)]


@pytest.mark.parametrize("seed", range(20))
def test_row_number_runs_number_rows_like_the_setdiff(seed: int) -> None:
    rng = random.Random(seed)
    total = rng.randint(1, 60)
    rejected = sorted(rng.sample(range(2, total + 2), rng.randint(0, total)))
    if seed % 5 == 4 and rejected:  # a reject reported beyond the records (a multi-line record)
        rejected[-1] = total + 5
    accepted = total - len(rejected)
    runs = row_number_runs(accepted, np.array(rejected, dtype=np.int64))

    def row_number(ordinal: int) -> int:
        shift = max((s for first, s in runs if first <= ordinal), default=0)
        return ordinal + 1 + shift

    expected = row_numbers(accepted, np.array(rejected, dtype=np.int64)).tolist()
    assert [row_number(ordinal) for ordinal in range(1, accepted + 1)] == expected


def test_many_runs_of_bad_rows_are_numbered_by_a_join(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(csv_reader, "MAX_CASE_RUNS", 1)
    good = "d1,,,Demo Unified,district,9900001,\n"
    bad = "x,,,Broken,school\n"
    body = good + bad + good.replace("d1", "s1") + bad + bad + good.replace("d1", "s2")
    files = {**TINY_PACKAGE, "orgs.csv": TINY_PACKAGE["orgs.csv"].splitlines(keepends=True)[0] + body}
    database = tmp_path / "w.duckdb"
    report = load_package(write_package(tmp_path / "drop", files), "demo-unified", database)
    orgs = next(f for f in report.files if f.file_name == "orgs.csv")
    assert (orgs.rows_read, orgs.rows_landed, orgs.rows_quarantined) == (6, 3, 3)
    landed = query(database, "select sourced_id, _row_number from raw_oneroster.orgs order by _row_number")
    assert landed == [("d1", 2), ("s1", 4), ("s2", 7)]


def test_invalid_utf8_row_is_quarantined_and_its_record_stays_current(tmp_path: Path) -> None:
    database = tmp_path / "w.duckdb"
    load_package(_users_package(tmp_path / "b1", [1, 2, 3]), "demo-unified", database)
    # u02's enabledUser is not UTF-8 in a UTF-8 file (u03 is José): the row is quarantined, and
    # u02, missing from the landed rows, is not tombstoned by this bulk file
    users = (USERS_HEADER + user_row(1) + user_row(2) + user_row(3, given_name="José")).encode()
    users = users.replace(b"u02,,,true,s1", b"u02,,,tru\xff,s1")
    manifest = "propertyName,value\noneroster.version,1.1\nfile.orgs,bulk\nfile.users,bulk\n"
    drop = write_package(tmp_path / "b2", {"manifest.csv": manifest, "orgs.csv": ORGS, "users.csv": users})

    report = load_package(drop, "demo-unified", database)

    result = next(f for f in report.files if f.entity == "users")
    assert (result.rows_read, result.rows_landed, result.rows_quarantined) == (3, 2, 1)
    assert result.rows_tombstoned == 0
    assert [(w.code, w.occurrences) for w in result.warnings if w.code == "tombstone_withheld"] == [
        ("tombstone_withheld", 1)
    ]
    assert query(database, "select count(*) from raw_oneroster.users where _change_kind = 'bulk_tombstone'") == [(0,)]
    assert query(database, "select error_type from audit.quarantined_rows") == [("invalid_encoding",)]


def test_a_quarantined_row_of_a_snapshot_export_keeps_its_previous_version(tmp_path: Path) -> None:
    database = tmp_path / "w.duckdb"
    first = load_package(SEED_002, "demo-sis", database)
    assert {f.status for f in first.files} == {"loaded"}
    # the next night's students.csv: student 487598475 on two rows as two people (both quarantined)
    nightly = tmp_path / "nightly"
    shutil.copytree(SEED_002, nightly)
    lines = (nightly / "students.csv").read_text().replace('"Ava"', '"Avery"').splitlines(keepends=True)
    noah = next(line for line in lines if line.startswith('"487598475"'))
    (nightly / "students.csv").write_text("".join(lines) + noah.replace('"Noah"', '"Nora"'))

    report = load_package(nightly, "demo-sis", database)

    result = next(f for f in report.files if f.file_name == "students.csv")
    assert result.status == "loaded"
    kinds = query(
        database,
        "select error_type, count(*) from audit.quarantined_rows where load_id = ? and file_name = ? group by 1",
        [report.load_id, "students.csv"],
    )
    assert ("conflicting_duplicate", 2) in kinds
    assert result.rows_read == result.rows_landed + result.rows_quarantined  # the kept row is not counted
    assert [(w.code, w.occurrences) for w in result.warnings if w.code == "tombstone_withheld"] == [
        ("tombstone_withheld", 1)
    ]
    latest = query(
        database,
        "select student_id, school_id, first_name, _row_number < 0 from raw_sis.students where _load_id = ?"
        " and student_id in ('487598475', '309482094') order by 1",
        [report.load_id],
    )
    assert latest == [("309482094", "001", "Avery", False), ("487598475", "314", "Noah", True)]
