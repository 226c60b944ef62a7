"""The loader: landing, lineage, idempotency, refusals, quarantine and the audit spine."""

from __future__ import annotations

import zipfile
from pathlib import Path

import duckdb
import pytest

from loaders.oneroster.csv_reader import ISO_DATE, ISO_DATETIME, _deviation_checks
from loaders.oneroster.pipeline import load_package
from loaders.oneroster.settings import file_specs
from loaders.package import PackageError
from loaders.registry import UnknownDistrictError
from tests.python.support import GRAND_BEND_11, TINY_PACKAGE, query, run_rollcall, write_package


def _file_log(database: Path, load_id: str) -> dict[str, tuple]:
    rows = query(
        database,
        "select file_name, status, rows_read, rows_landed, rows_quarantined, error_text"
        " from audit.file_log where load_id = ?",
        [load_id],
    )
    return {row[0]: row[1:] for row in rows}


def test_tiny_package_lands_with_lineage_on_every_row(tmp_path, warehouse):
    package = write_package(tmp_path / "drop", TINY_PACKAGE)
    report = load_package(package, "demo-unified", warehouse)

    assert report.status == "succeeded"
    assert {f.file_name: f.status for f in report.files} == {
        "manifest.csv": "loaded",
        "orgs.csv": "loaded",
        "users.csv": "loaded",
    }
    rows = query(
        warehouse,
        "select sourced_id, _district_id, _source_file, _file_sha256, _load_id, _row_number"
        " from raw_oneroster.users order by _row_number",
    )
    assert [(r[0], r[1], r[2], r[5]) for r in rows] == [
        ("u1", "demo-unified", "users.csv", 2),
        ("u2", "demo-unified", "users.csv", 3),
    ]
    assert all(len(r[3]) == 64 and r[4] == report.load_id for r in rows)
    # every raw table exists, even for files this district never sent
    tables = {
        r[0] for r in query(warehouse, "select table_name from duckdb_tables() where schema_name = 'raw_oneroster'")
    }
    assert {"attendance", "calendar", "absence_codes", "enrollments", "results"} <= tables


def test_passwords_are_never_stored(tmp_path, warehouse):
    package = write_package(tmp_path / "drop", TINY_PACKAGE)
    report = load_package(package, "demo-unified", warehouse)
    columns = {r[0] for r in query(warehouse, "select column_name from duckdb_columns() where table_name = 'users'")}
    assert "password" not in columns
    everything = query(warehouse, "select * from raw_oneroster.users")
    assert not any("hunter2" in str(value) or "swordfish" in str(value) for row in everything for value in row)
    users = next(f for f in report.files if f.file_name == "users.csv")
    assert [w.code for w in users.warnings] == ["secret_dropped"]


def test_same_package_twice_changes_nothing(tmp_path, warehouse):
    package = write_package(tmp_path / "drop", TINY_PACKAGE)
    first = load_package(package, "demo-unified", warehouse)
    before = query(warehouse, "select count(*) from raw_oneroster.users")[0][0]
    second = load_package(package, "demo-unified", warehouse)

    assert {f.status for f in second.files} == {"skipped"}
    assert all(first.load_id in f.error_text for f in second.files)
    assert query(warehouse, "select count(*) from raw_oneroster.users")[0][0] == before == 2
    assert query(warehouse, "select count(*) from audit.load_log")[0][0] == 2


def test_same_file_for_another_district_is_not_skipped(tmp_path, warehouse):
    # users.csv alone carries no district evidence, so the operator's --district decides
    package = write_package(tmp_path / "drop", {"users.csv": TINY_PACKAGE["users.csv"]})
    load_package(package, "demo-unified", warehouse)
    other = load_package(package, "grand-bend", warehouse)
    assert {f.status for f in other.files} == {"loaded"}
    by_district = query(warehouse, "select _district_id, count(*) from raw_oneroster.users group by 1 order by 1")
    assert by_district == [("demo-unified", 2), ("grand-bend", 2)]


def test_a_drop_proving_another_district_is_refused_whole(tmp_path, warehouse):
    # orgs.csv names the district by NCES id 9900001 (demo-unified): loading it as grand-bend is refused
    package = write_package(tmp_path / "drop", TINY_PACKAGE)
    report = load_package(package, "grand-bend", warehouse)
    assert {f.file_name: f.status for f in report.files} == {
        "manifest.csv": "refused",
        "orgs.csv": "refused",
        "users.csv": "refused",
    }
    assert "district id '9900001' in the file belongs to demo-unified, not grand-bend" in report.files[1].error_text
    assert query(warehouse, "select count(*) from raw_oneroster.users")[0][0] == 0


def test_missing_required_column_refuses_that_file_only(tmp_path, warehouse):
    files = dict(TINY_PACKAGE)
    # the `role` column deleted from header and rows
    files["users.csv"] = "sourcedId,enabledUser,orgSourcedIds,username,givenName,familyName\nu1,true,s1,ada,Ada,L\n"
    report = load_package(write_package(tmp_path / "drop", files), "demo-unified", warehouse)

    log = _file_log(warehouse, report.load_id)
    assert log["users.csv"][0] == "refused"
    assert log["users.csv"][4] == "missing required column(s): role"
    assert log["orgs.csv"][:4] == ("loaded", 2, 2, 0)
    assert report.status == "partial"
    assert query(warehouse, "select count(*) from raw_oneroster.users")[0][0] == 0
    assert query(warehouse, "select file_name from audit.rejected_files") == [("users.csv",)]


def test_files_depending_on_a_refused_file_are_held_back(tmp_path, warehouse):
    files = dict(TINY_PACKAGE)
    files["orgs.csv"] = "sourcedId,status,dateLastModified,name,identifier,parentSourcedId\nd1,,,Demo,9900001,\n"
    report = load_package(write_package(tmp_path / "drop", files), "demo-unified", warehouse)

    log = _file_log(warehouse, report.load_id)
    assert log["orgs.csv"][4] == "missing required column(s): type"
    assert log["users.csv"][0] == "refused"
    assert log["users.csv"][4].startswith("held back: orgs.csv, which it refers to, was refused (missing required")
    assert query(warehouse, "select count(*) from raw_oneroster.users")[0][0] == 0


def test_bad_rows_are_quarantined_and_counted(tmp_path, warehouse):
    files = dict(TINY_PACKAGE)
    files["orgs.csv"] = (
        "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\n"
        "d1,,,Demo Unified,district,9900001,\n"
        "s1,,,Lincoln, Elementary,school,990000100001,d1\n"  # unquoted comma: one field too many
        "s2,,,Grant Middle,school\n"  # fields missing
        "s3,,,Hoover High,school,990000100003,d1\n"
    )
    report = load_package(write_package(tmp_path / "drop", files), "demo-unified", warehouse)

    orgs = next(f for f in report.files if f.file_name == "orgs.csv")
    assert (orgs.status, orgs.rows_read, orgs.rows_landed, orgs.rows_quarantined) == ("loaded", 4, 2, 2)
    quarantined = query(
        warehouse,
        "select row_number, error_type, reason, raw_line from audit.quarantined_rows"
        " where file_name = 'orgs.csv' order by row_number",
    )
    assert [(r[0], r[1]) for r in quarantined] == [(3, "too_many_columns"), (4, "missing_columns")]
    assert "Expected Number of Columns: 7 Found: 8" in quarantined[0][2]
    assert quarantined[0][3].startswith("s1,,,Lincoln")
    # surviving rows keep their own row numbers
    landed = query(warehouse, "select sourced_id, _row_number from raw_oneroster.orgs order by _row_number")
    assert landed == [("d1", 2), ("s3", 5)]
    # the audit totals agree with the invariant
    totals = query(
        warehouse,
        "select rows_read, rows_landed, rows_quarantined from audit.load_log where load_id = ?",
        [report.load_id],
    )[0]
    assert totals[0] == totals[1] + totals[2]


def test_quarantined_rows_of_password_files_withhold_the_raw_line(tmp_path, warehouse):
    files = dict(TINY_PACKAGE)
    files["users.csv"] = TINY_PACKAGE["users.csv"] + "u3,,,true,s1,student,eve,,Eve,X,,,,,,,05,secret!,extra\n"
    load_package(write_package(tmp_path / "drop", files), "demo-unified", warehouse)
    rows = query(warehouse, "select row_number, raw_line from audit.quarantined_rows where file_name = 'users.csv'")
    assert rows == [(4, None)]


def test_unterminated_quote_does_not_stop_the_file(tmp_path, warehouse):
    files = dict(TINY_PACKAGE)
    files["orgs.csv"] = (
        'sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\nd1,,,"Demo Unified,district,9900001,\n'
    )
    report = load_package(write_package(tmp_path / "drop", files), "demo-unified", warehouse)
    orgs = next(f for f in report.files if f.file_name == "orgs.csv")
    assert orgs.rows_read == orgs.rows_landed + orgs.rows_quarantined
    assert orgs.rows_quarantined == 1
    assert next(f for f in report.files if f.file_name == "users.csv").status == "loaded"


def test_tolerates_bom_crlf_case_aliases_and_extra_columns(tmp_path, warehouse):
    files = {
        "ORGS.CSV": (
            "\ufeffsourceID,Status,dateLastModified,name,type,identifier,parentSourcedId,metadata.city\r\n"
            "d1,,,Demo Unified,district,9900001,,Springfield\n"
        ).encode("utf-8"),
    }
    report = load_package(write_package(tmp_path / "drop", files), "demo-unified", warehouse)
    orgs = report.files[0]
    assert orgs.status == "loaded" and orgs.entity == "orgs"
    codes = sorted(w.code for w in orgs.warnings)
    assert codes == [
        "byte_order_mark",
        "extra_columns",
        "header_alias",
        "header_case",
        "mixed_line_endings",
        "mode_inferred",
        "no_manifest",
    ]
    assert orgs.mode == "bulk"
    rows = query(warehouse, "select sourced_id, name, _extras from raw_oneroster.orgs")
    assert rows == [("d1", "Demo Unified", '{"metadata.city":"Springfield"}')]


def test_zip_with_nested_folder_and_unknown_file(tmp_path, warehouse):
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        for name, text in TINY_PACKAGE.items():
            handle.writestr(f"district-export/{name}", text)
        handle.writestr("district-export/readme.txt", "hello")
        handle.writestr("__MACOSX/district-export/._users.csv", "junk")
    report = load_package(archive, "demo-unified", warehouse)
    statuses = {f.file_name: f.status for f in report.files}
    assert statuses == {
        "district-export/manifest.csv": "loaded",
        "district-export/orgs.csv": "loaded",
        "district-export/users.csv": "loaded",
        "district-export/readme.txt": "refused",
    }
    assert query(warehouse, "select count(*) from raw_oneroster.users")[0][0] == 2


def test_empty_and_undecodable_files_are_refused_with_reasons(tmp_path, warehouse):
    files = dict(TINY_PACKAGE)
    files["courses.csv"] = ""
    files["classes.csv"] = b"sourcedId,title\x81\n"  # neither UTF-8 nor Windows-1252
    report = load_package(write_package(tmp_path / "drop", files), "demo-unified", warehouse)
    reasons = {f.file_name: f.error_text for f in report.files if f.status == "refused"}
    assert reasons == {
        "courses.csv": "file is empty: no header row",
        "classes.csv": "not UTF-8, UTF-16 or Windows-1252 text (byte 0x81)",
    }


def test_unknown_district_is_refused_before_anything_is_written(tmp_path, warehouse):
    package = write_package(tmp_path / "drop", TINY_PACKAGE)
    with pytest.raises(UnknownDistrictError, match="'nowhere' is not in the registry"):
        load_package(package, "nowhere", warehouse)
    assert not warehouse.exists()


def test_missing_path_is_a_clear_error(tmp_path, warehouse):
    with pytest.raises(PackageError, match="no such file or folder"):
        load_package(tmp_path / "missing", "demo-unified", warehouse)


def test_cli_reports_refusals_without_traceback(tmp_path, warehouse):
    files = dict(TINY_PACKAGE)
    files["orgs.csv"] = "sourcedId,name\nd1,Demo\n"
    package = write_package(tmp_path / "drop", files)

    result = run_rollcall("load", str(package), "--district", "demo-unified", database=warehouse)
    assert result.returncode == 3, result.stderr
    assert "orgs.csv" in result.stdout and "missing required column(s): type" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    assert "hunter2" not in result.stdout + result.stderr

    unknown = run_rollcall("load", str(package), "--district", "nowhere", database=warehouse)
    assert unknown.returncode == 2
    assert "refused: district 'nowhere' is not in the registry" in unknown.stderr
    assert "Traceback" not in unknown.stderr


@pytest.mark.needs_shared
def test_grand_bend_oneroster_11_sample_lands_with_deviations_recorded(warehouse):
    report = load_package(GRAND_BEND_11, "grand-bend", warehouse)
    assert report.status == "succeeded"
    landed = {f.file_name: f.rows_landed for f in report.files}
    assert landed == {
        "academicSessions.csv": 3,
        "classes.csv": 2,
        "courses.csv": 2,
        "demographics.csv": 8,
        "enrollments.csv": 24,
        "manifest.csv": 17,
        "orgs.csv": 2,
        "users.csv": 10,
    }
    warnings = query(warehouse, "select file_name, warning_code from audit.file_warnings order by 1, 2")
    assert ("orgs.csv", "extra_columns") in warnings
    assert ("users.csv", "secret_dropped") in warnings


DEVIATION_SAMPLES = [
    "2025-01-01",
    " 2025-01-01",
    "2025-01-01  ",
    "\t2025-01-01",
    "2025-01-01\n",
    "\u00a02025-01-01",
    "\u20032025-01-01\u3000",
    "",
    " ",
    "\u00a0",
    "\t",
    "01/02/2025",
    "2025-1-1",
    None,
    "x2025-01-01",
    "\u200b2025-01-01",
    "\u16802025-01-01",
    "2025-01-01T10:00:00Z",
    " 2025-01-01 10:00 ",
    "true",
    " TRUE",
    "1",
]


@pytest.mark.parametrize(("data_type", "pattern"), [("date", ISO_DATE), ("datetime", ISO_DATETIME), ("boolean", None)])
def test_deviation_checks_count_what_trim_then_match_counts(data_type, pattern):
    """The checks fold DuckDB's trim into the pattern; they must count exactly the present values
    whose trimmed text breaks the standard form."""
    spec, field = next(
        (spec, field) for spec in file_specs().values() for field in spec.landed_fields if field.data_type == data_type
    )
    condition = next(c for _, name, c in _deviation_checks(spec) if name == field.name)
    trimmed = f'trim("{field.column}")'
    breaks = (
        f"{trimmed} not in ('true', 'false')" if pattern is None else f"not regexp_full_match({trimmed}, '{pattern}')"
    )
    with duckdb.connect() as con:
        con.execute(f'create table t ("{field.column}" varchar)')
        con.executemany("insert into t values (?)", [[v] for v in DEVIATION_SAMPLES])
        rows = con.execute(
            f"""select "{field.column}", coalesce({condition}, false),
                       coalesce(nullif({trimmed}, '') is not null and {breaks}, false) from t"""
        ).fetchall()
    assert [r for r in rows if r[1] != r[2]] == []
