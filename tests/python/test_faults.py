"""Loads under faults: a crash at any point converges with one rerun, secrets are never kept,
two warehouses of one folder stay apart, and a second writer waits, then exits 4.

Small generated drops (20 students, one school, five days) keep every load a second or two."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from loaders.dlt_pipelines import pipelines_dir_for, scratch_dir_for
from loaders.fault_points import FAULT_ENV
from loaders.oneroster.pipeline import load_package
from loaders.secrets import is_secret_column, readable_fields
from loaders.writer_lock import EXIT_BUSY, TIMEOUT_ENV, connect_writer, writer_lock
from rollcall.settings import PROJECT_ROOT, duckdb_budget
from tests.python.support import query

DISTRICT = "demo-unified"
SMALL = {"students": 20, "schools": 1, "days": 5, "seed": 3}
# every phase of a load: files scanned (quarantine written), dlt extract / normalize / first
# job loaded, all rows landed (packages still there), first file verified
CRASH_POINTS = (
    "files_prepared",
    "dlt_extract_done",
    "dlt_normalize_done",
    "dlt_job_done",
    "dlt_landed",
    "file_verified",
)
LINEAGE_OF_A_RUN = {"_load_id", "_loaded_at"}  # differ between any two loads of the same files


def _cli_load(drop: Path, database: Path, district: str = DISTRICT, **env: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "rollcall.cli", "load", str(drop), "--district", district, "--database", str(database)],
        cwd=PROJECT_ROOT,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _edit_csv(path: Path, edit) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(edit(lines)), encoding="utf-8")


def _second_drop(first: Path, target: Path) -> Path:
    """The next day's drop: a student left, a name changed, a malformed row, a PowerSchool edit."""
    shutil.copytree(first, target)

    def users(lines: list[str]) -> list[str]:
        students = [i for i, line in enumerate(lines) if ",student," in line]
        changed = lines[students[0]].replace(",true,", ",false,", 1)
        kept = [line for i, line in enumerate(lines) if i not in (students[0], students[-1])]
        return [*kept, changed, "bad-row," + lines[students[1]]]  # one field too many: quarantined

    _edit_csv(target / "oneroster" / "users.csv", users)
    _edit_csv(target / "powerschool" / "students.csv", lambda lines: [*lines[:1], *lines[2:]])
    return target


def _copy_warehouse(database: Path, folder: Path) -> Path:
    folder.mkdir(parents=True)
    shutil.copy(database, folder / database.name)
    shutil.copytree(pipelines_dir_for(database), pipelines_dir_for(folder / database.name))
    return folder / database.name


def _snapshot(database: Path) -> dict[str, tuple[int, str]]:
    """Row count and a digest of the sorted rows of every raw table (lineage of the run left
    out), and of the quarantine: compared, never printed."""
    digests: dict[str, tuple[int, str]] = {}
    with duckdb.connect(str(database), read_only=True) as con:
        tables = con.execute(
            """select schema_name, table_name from duckdb_tables()
               where schema_name like 'raw\\_%' escape '\\' and table_name not like '\\_dlt%' escape '\\'"""
        ).fetchall()
        sources = {f"{s}.{t}": f"select * exclude ({', '.join(_present(con, s, t))}) from {s}.{t}" for s, t in tables}
        sources["audit.quarantined_rows"] = (
            "select file_name, file_sha256, row_number, error_type, reason, raw_line from audit.quarantined_rows"
        )
        for name, sql in sources.items():
            rows = sorted(repr(row) for row in con.execute(sql).fetchall())
            digests[name] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())
    return digests


def _present(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[str]:
    columns = {r[0] for r in con.execute(f"select column_name from (describe {schema}.{table})").fetchall()}
    return sorted(LINEAGE_OF_A_RUN & columns)


def _loaded_files(database: Path) -> list[tuple]:
    """Per file of the last drop: the one verified landing and its accounting."""
    return sorted(
        query(
            database,
            """select file_name, file_sha256, rows_read, rows_landed, rows_quarantined, rows_tombstoned
               from audit.file_log where status = 'loaded'""",
        )
    )


def _package_files(database: Path) -> list[Path]:
    """Files of dlt load packages (extracted, normalized or loaded) left in the warehouse's dlt folder."""
    root = pipelines_dir_for(database)
    return [
        path
        for path in root.rglob("*")
        if path.is_file() and path.relative_to(root).parts[1] in ("load", "normalize") and path.name != ".version"
    ]


@pytest.fixture(scope="module")
def full_drop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample district in four systems (OneRoster, PowerSchool, ClassLink, Star)."""
    from rollcall.sample import generate_multi_source_district

    drop = tmp_path_factory.mktemp("fault-drops") / "full" / "drop"
    generate_multi_source_district(drop, **SMALL)
    return drop


@pytest.fixture(scope="module")
def drops(full_drop: Path) -> tuple[Path, Path]:
    """Two days' drops of OneRoster and PowerSchool files (two dlt pipelines: files landed as
    SQL models, and as arrow tables)."""
    first = full_drop.parent.parent / "a" / "drop"
    for system in ("oneroster", "powerschool"):
        shutil.copytree(full_drop / system, first / system)
    return first, _second_drop(first, full_drop.parent.parent / "b" / "drop")


@pytest.fixture(scope="module")
def after_first(drops, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse with the first drop loaded."""
    database = tmp_path_factory.mktemp("after-first") / "wh.duckdb"
    assert load_package(drops[0], DISTRICT, database).status == "succeeded"
    return database


@pytest.fixture(scope="module")
def clean_second(drops, after_first, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, list, str]:
    """The second drop loaded without a fault: snapshot, verified files, status."""
    database = _copy_warehouse(after_first, tmp_path_factory.mktemp("clean") / "w")
    report = load_package(drops[1], DISTRICT, database)
    assert report.status == "partial"  # the planted malformed row is quarantined
    return _snapshot(database), _loaded_files(database), report.status


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_one_rerun_after_a_kill_converges_to_the_clean_load(point, drops, after_first, clean_second, tmp_path):
    database = _copy_warehouse(after_first, tmp_path / "w")
    temp = tmp_path / "tmp"
    temp.mkdir()
    killed = _cli_load(drops[1], database, TMPDIR=str(temp), **{FAULT_ENV: point})
    killed.communicate(timeout=300)
    assert killed.returncode == -signal.SIGKILL, f"the load did not reach {point}"
    # what the killed load had in its scratch folder stays beside the warehouse, not in the temp folder
    assert [p for p in temp.rglob("*") if p.is_file()] == []
    assert query(database, "select count(*) from audit.load_log where status = 'running'") == [(1,)]

    verified_before = {r[0] for r in query(database, "select file_name from audit.file_log where status = 'loaded'")}

    report = load_package(drops[1], DISTRICT, database)

    snapshot, verified, status = clean_second
    assert {f.file_name for f in report.files if f.status == "skipped"} <= verified_before
    if point != "file_verified":  # else the file verified before the kill is skipped, not counted again
        assert report.status == status
    assert _snapshot(database) == snapshot
    assert _loaded_files(database) == verified
    statuses = query(database, "select status from audit.load_log order by started_at")
    assert statuses == [("succeeded",), ("interrupted",), (report.status,)]
    assert _package_files(database) == []
    assert not scratch_dir_for(database).exists()  # the rerun emptied and removed it


def test_two_warehouses_of_one_folder_loaded_at_once_stay_apart(drops, after_first, tmp_path):
    from rollcall.sample import generate_sis_district

    sis_drop = tmp_path / "sis" / "drop"
    generate_sis_district(sis_drop, students=20, schools=1, days=5, seed=3)
    alone = tmp_path / "alone" / "sis.duckdb"
    sis_status = load_package(sis_drop, "demo-sis", alone).status

    folder = tmp_path / "shared-folder"
    first, second = folder / "x.duckdb", folder / "y.duckdb"
    runs = [_cli_load(drops[0], first), _cli_load(sis_drop, second, "demo-sis")]
    codes = [run.wait(timeout=300) for run in runs]
    assert codes == [0, 0 if sis_status == "succeeded" else 3]
    assert _snapshot(first) == _snapshot(after_first)
    assert _snapshot(second) == _snapshot(alone)
    for database, district in ((first, DISTRICT), (second, "demo-sis")):
        assert query(database, "select distinct district_id from audit.file_log") == [(district,)]
    assert pipelines_dir_for(first) != pipelines_dir_for(second)


def test_a_second_writer_waits_then_exits_4_without_a_traceback(drops, tmp_path):
    database = tmp_path / "w" / "wh.duckdb"
    busy = {TIMEOUT_ENV: "1"}
    with writer_lock(database):  # another load or build holds the warehouse
        load = _cli_load(drops[0], database, **busy)
        _, load_err = load.communicate(timeout=120)
        build = subprocess.run(
            [sys.executable, "-m", "rollcall.cli", "build"],
            cwd=PROJECT_ROOT,
            env={**os.environ, **busy, "ROLLCALL_DUCKDB_PATH": str(database)},
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert (load.returncode, build.returncode) == (EXIT_BUSY, EXIT_BUSY)
    for stderr in (load_err, build.stderr):
        assert "waiting for" in stderr and "another run is writing it" in stderr
        assert "warehouse busy" in stderr and "Traceback" not in stderr
    assert not database.exists()  # the load gave up before opening the warehouse

    with duckdb.connect(str(database)):  # another program (a DuckDB shell) holds the file
        load = _cli_load(drops[0], database, **busy)
        _, load_err = load.communicate(timeout=120)
    assert load.returncode == EXIT_BUSY
    assert "open in another program" in load_err and "Traceback" not in load_err


# ---------------------------------------------------------------------------------------------
# Secrets

SECRET_HEADERS = (
    "password",
    "Password",
    "PASSWORD",
    "userPassword",
    "user_password",
    "User-Password",
    "User Password",
    "initialPassword",
    "Student_Web_Password",
    "Parent_Web_Password",
    "webPassword",
    "password_hash",
    "pwd",
    "PWD",
    "passwd",
    "Pass",
    "passcode",
    "passphrase",
    "PIN",
    "pin",
    "studentPIN",
    "Student_PIN",
    "pin_number",
    "PINCode",
    "secret",
    "clientSecret",
    "client_secret",
    "token",
    "access_token",
    "AccessToken",
    "api_key",
    "apiKey",
    "credential",
    "Credentials",
)
NOT_SECRET_HEADERS = (
    "sourcedId",
    "givenName",
    "username",
    "email",
    "identifier",
    "credentialType",
    "passport_number",
    "pinned",
    "shipping",
    "opinion",
    "compass",
    "Spine",
    "Student_Number",
)


@pytest.mark.parametrize("name", SECRET_HEADERS)
def test_secret_header_spellings_are_secrets(name):
    assert is_secret_column(name)


@pytest.mark.parametrize("name", NOT_SECRET_HEADERS)
def test_ordinary_headers_are_not_secrets(name):
    assert not is_secret_column(name)


def test_readable_fields_of_a_line_leave_secrets_out():
    header = ["sourcedId", "givenName", "userPassword"]
    assert readable_fields(header, "u1,Ada,hunter2") == '{"sourcedId": "u1", "givenName": "Ada"}'
    assert readable_fields(header, "u1,Ada,extra,hunter2") is None  # a field too many: any could be the secret


def test_api_records_lose_their_secrets_at_any_depth():
    from loaders.oneroster_rest.records import flatten_record

    record = {
        "sourcedId": "u1",
        "givenName": "Ada",
        "password": "Sx1q-a",
        "metadata": {"pin": "Sx2q-b", "note": "kept", "logins": [{"token": "Sx3q-c", "at": "2025"}]},
        "userPIN": "Sx4q-d",
    }
    fields, extras = flatten_record("users", record)
    assert fields["givenName"] == "Ada" and "kept" in extras["metadata"] and "2025" in extras["metadata"]
    assert "Sx" not in repr((fields, extras))


def _add_column(path: Path, name: str, values: list[str], malformed_value: str | None = None) -> None:
    """Append a column to a CSV file, one planted value per row; optionally a malformed copy of
    the first row carrying ``malformed_value`` in that column plus a field too many."""

    def edit(lines: list[str]) -> list[str]:
        header, rows = lines[0].rstrip("\r\n"), [line.rstrip("\r\n") for line in lines[1:]]
        edited = [f"{header},{name}\n"] + [f"{row},{values[i % len(values)]}\n" for i, row in enumerate(rows)]
        if malformed_value is not None:
            edited.append(f"{rows[0]},{malformed_value},one-too-many\n")
        return edited

    _edit_csv(path, edit)


def _unreadable_first_birth_date(lines: list[str]) -> list[str]:
    rows = list(csv.reader(lines))
    rows[1][rows[0].index("DOB")] = "31/31/2014"
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return [buffer.getvalue()]


def test_no_secret_value_stays_anywhere_after_a_load(full_drop, tmp_path):
    drop = tmp_path / "drop"
    shutil.copytree(full_drop, drop)
    planted = [f"Sx{n}q-{word}" for n, word in enumerate(("hunter", "swordfish", "letmein", "P@ssword123", "7391"))]
    _add_column(drop / "oneroster" / "users.csv", "userPassword", planted[:2], malformed_value=planted[2])
    _add_column(drop / "oneroster" / "users.csv", "PIN", planted[4:5])
    _add_column(drop / "classlink" / "users.csv", "Password", planted[3:4], malformed_value=planted[0])
    _add_column(drop / "powerschool" / "students.csv", "Student_Web_Password", planted[1:2])
    _edit_csv(drop / "powerschool" / "students.csv", _unreadable_first_birth_date)
    _add_column(drop / "star" / "SM.csv", "pwd", planted[2:3])
    database = tmp_path / "w" / "wh.duckdb"
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    run = _cli_load(drop, database, TMPDIR=str(scratch))
    stdout, stderr = run.communicate(timeout=300)
    assert run.returncode == 3, stderr[-2000:]  # the malformed rows are quarantined

    markers = [value.encode() for value in planted]
    with duckdb.connect(str(database), read_only=True) as con:
        columns = con.execute(
            """select schema_name, table_name, column_name from duckdb_columns()
               where database_name = current_database() and not internal"""
        ).fetchall()
        assert len(columns) > 100
        hits = [
            f"{schema}.{table}.{column}"
            for schema, table, column in columns
            if con.execute(
                f"""select count(*) from {schema}."{table}"
                    where regexp_matches(cast("{column}" as varchar), 'Sx\\d+q-')"""
            ).fetchone()[0]
        ]
        quarantined = con.execute(
            "select count(*), count(raw_line) from audit.quarantined_rows where file_name like '%users.csv'"
        ).fetchone()
        dropped = con.execute(
            "select sum(occurrences) from audit.file_warnings where warning_code = 'secret_dropped'"
        ).fetchone()[0]
        kept = con.execute(
            "select raw_line from audit.quarantined_rows where file_name like 'powerschool/%' and raw_line is not null"
        ).fetchall()
    assert hits == []
    assert quarantined == (2, 0)  # kept, without the line: a field too many may hide the secret anywhere
    # a row of the right width that breaks a rule keeps its readable fields, the secret left out
    assert len(kept) == 1
    fields = json.loads(kept[0][0])
    assert {"Student_Number", "DOB"} <= set(fields) and "Student_Web_Password" not in fields
    assert dropped == 5
    leftovers = [p for p in [*database.parent.rglob("*"), *scratch.rglob("*")] if p.is_file()]
    assert database in leftovers
    assert [str(p) for p in leftovers if any(m in p.read_bytes() for m in markers)] == []
    # nor any copy of the rows outside the warehouse file: no email address of the drop
    with (drop / "oneroster" / "users.csv").open(encoding="utf-8", newline="") as handle:
        emails = [row["email"].encode() for row in csv.DictReader(handle) if row["email"]]
    assert len(emails) > 20
    outside = [p for p in leftovers if p.name != database.name]
    assert [str(p) for p in outside if any(e in p.read_bytes() for e in emails)] == []
    assert not any(value in stdout + stderr for value in planted)
    assert _package_files(database) == []


def test_a_rerun_after_a_failed_landing_converges_to_the_clean_load(drops, after_first, clean_second, tmp_path):
    """dlt landed every row and tombstone, then the run failed: the rerun starts from the clean history."""
    from loaders.oneroster import pipeline

    database = _copy_warehouse(after_first, tmp_path / "w")
    land = pipeline._run_dlt

    def land_then_fail(*args, **kwargs):
        land(*args, **kwargs)
        raise RuntimeError("destination went away")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pipeline, "_run_dlt", land_then_fail)
        assert load_package(drops[1], DISTRICT, database).status == "failed"
    assert query(database, "select count(*) from raw_oneroster.users where _change_kind = 'bulk_tombstone'") != [(0,)]

    report = load_package(drops[1], DISTRICT, database)

    snapshot, verified, status = clean_second
    assert report.status == status
    raw = {name: digest for name, digest in _snapshot(database).items() if name.startswith("raw_")}
    assert raw == {name: digest for name, digest in snapshot.items() if name.startswith("raw_")}
    assert _loaded_files(database) == verified
    # the failed load's quarantine stays on record beside the rerun's: it was a real attempt
    assert report.rows_quarantined == snapshot["audit.quarantined_rows"][0]


def test_a_load_writes_within_the_builds_memory_budget(tmp_path, monkeypatch):
    """The loader's DuckDB connection has the build's memory limit and spills beside the warehouse
    (profiles.yml), so a state-sized file slows a load down instead of taking the machine's memory."""
    database = tmp_path / "warehouse.duckdb"
    monkeypatch.delenv("ROLLCALL_DUCKDB_TEMP_DIRECTORY", raising=False)
    monkeypatch.setenv("ROLLCALL_DUCKDB_MEMORY_LIMIT", "300MB")
    with connect_writer(database) as con:
        settings = "select current_setting('memory_limit'), current_setting('temp_directory')"
        limit, spill = con.execute(settings).fetchone()
    assert limit == "286.1 MiB"  # DuckDB reports 300 MB in MiB
    assert spill == f"{database}.tmp"
    monkeypatch.delenv("ROLLCALL_DUCKDB_MEMORY_LIMIT")
    with connect_writer(database) as con:
        assert con.execute("select current_setting('memory_limit')").fetchone()[0] == "5.5 GiB"  # 6GB


def test_a_load_and_a_build_default_to_one_memory_budget(monkeypatch):
    """The loader's default budget (rollcall.settings) is the one profiles.yml gives dbt."""
    monkeypatch.delenv("ROLLCALL_DUCKDB_MEMORY_LIMIT", raising=False)
    profile = (PROJECT_ROOT / "profiles.yml").read_text()
    defaults = re.findall(r"env_var\('ROLLCALL_DUCKDB_MEMORY_LIMIT', '([^']+)'\)", profile)
    assert defaults == [duckdb_budget("warehouse.duckdb")["memory_limit"]]
