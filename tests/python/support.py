"""Test helpers: tiny OneRoster packages, warehouse queries, CLI runs, shared fixture paths."""

from __future__ import annotations

import contextlib
import hashlib
import io
import itertools
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from rollcall.settings import PROJECT_ROOT

# Third-party fixtures beside the repository (not part of it): tests that read them are marked
# needs_shared and skipped when the folder is absent (see conftest.py).
SHARED_FIXTURES = PROJECT_ROOT.parent / "shared" / "fixtures" / "external"
HAS_SHARED_FIXTURES = SHARED_FIXTURES.is_dir()
GRAND_BEND_11 = SHARED_FIXTURES / "Ed-Fi-Exchange-OSS__LMS-Toolkit" / "docs" / "sample-in" / "OneRoster 1.1 Sample Data"

TINY_PACKAGE = {
    "manifest.csv": (
        "propertyName,value\nmanifest.version,1.0\noneroster.version,1.1\nfile.orgs,bulk\nfile.users,bulk\n"
    ),
    "orgs.csv": (
        "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\n"
        "d1,,,Demo Unified,district,9900001,\n"
        "s1,,,Lincoln Elementary,school,990000100001,d1\n"
    ),
    "users.csv": (
        "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,"
        "middleName,identifier,email,sms,phone,agentSourcedIds,grades,password\n"
        "u1,,,true,s1,student,ada,{SIS:0001},Ada,Lovelace,,0001,ada@example.org,,,,05,hunter2\n"
        "u2,,,true,s1,teacher,alan,,Alan,Turing,,,alan@example.org,,,,,swordfish\n"
    ),
}


def spark_unavailable_reason() -> str | None:
    """Why the Spark target cannot run here (None when it can): pyspark and a Java runtime."""
    import importlib.util

    if importlib.util.find_spec("pyspark") is None or importlib.util.find_spec("dbt.adapters.spark") is None:
        return "the spark extra is not installed (uv sync --extra spark, or make test-spark)"
    if not shutil.which("java") and not os.environ.get("JAVA_HOME"):
        return "no Java runtime (java on PATH or JAVA_HOME); Spark needs Java 17"
    return None


def write_package(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return folder


def query(database: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


# columns that record when or from what a row was built, not what it says
BOOKKEEPING_COLUMNS = frozenset(
    {"changed_at", "load_id", "loaded_at", "previous_slices", "source_file", "file_sha256", "extras", "built_at"}
)


def content_select(database: Path, table: str, order_by: str = "all") -> str:
    """A query of ``schema.table``'s columns in ``database`` less the bookkeeping ones, ordered: the
    same rows of two warehouses built differently compare equal."""
    columns = [
        name
        for (name,) in query(
            database,
            "select column_name from information_schema.columns where table_schema = ? and table_name = ?"
            " order by ordinal_position",
            table.split("."),
        )
        if name not in BOOKKEEPING_COLUMNS
    ]
    return f"select {', '.join(columns)} from {table} order by {order_by}"


def stable_path(database: Path) -> Path:
    """One path for every test warehouse of this pytest run: a symlink re-pointed at ``database``.

    dbt's profile holds the warehouse path and the catalog named after its file; a new path or
    file name per test would make dbt parse the whole project again instead of re-using its
    partial parse (about 8 CPU seconds each time): the warehouses the tests build with dbt are all
    named warehouse.duckdb, each in its own folder.
    """
    # same file name as the target: DuckDB names the catalog after the file it opens
    link = Path(tempfile.gettempdir()) / f"rollcall-tests-{os.getpid()}" / Path(database).name
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(Path(database).resolve())
    return link


def dbt_target_path(args: tuple[str, ...] = (), *, cli: bool = False, store_failures: bool = False) -> Path:
    """Where a test's dbt run keeps its artifacts and partial parse.

    dbt parses the whole project again whenever a run's command-line vars (or the environment
    variables its project reads) differ from the last run's in the same target folder, and every
    `rollcall build` passes vars of its own (the project's fingerprint). So each kind of run keeps
    its own folder: rollcall commands (``cli``) the usual one (``$DBT_TARGET_PATH`` or ``target``),
    plain dbt runs ``dbt/`` inside it, runs storing test failures ``store-failures/`` inside those,
    and runs given ``--vars`` one folder per vars text inside those.
    """
    folder = Path(os.environ.get("DBT_TARGET_PATH") or PROJECT_ROOT / "target")
    if not cli:
        folder = folder / "dbt"
    if store_failures:
        folder = folder / "store-failures"
    given = [value for option, value in itertools.pairwise(args) if option == "--vars"]
    if given:
        folder = folder / f"vars-{hashlib.sha256(chr(0).join(given).encode()).hexdigest()[:12]}"
    return folder


def _seed_partial_parse(folder: Path) -> None:
    """A new target folder starts from the partial parse this worker saved last, in any folder.

    dbt checks a saved parse against the run's vars, profile and project (and re-reads files whose
    environment variables changed): where they match, as between a `rollcall build --vars V` and a
    plain `dbt run --vars V`, it keeps the parse instead of parsing the project from scratch
    (about 8 CPU seconds); where they do not, it parses from scratch, as it would have anyway."""
    saved = folder / "partial_parse.msgpack"
    if saved.exists():
        return
    root = Path(os.environ.get("DBT_TARGET_PATH") or PROJECT_ROOT / "target")
    earlier = sorted(root.rglob(saved.name), key=lambda path: path.stat().st_mtime) if root.is_dir() else []
    if earlier:
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(earlier[-1], saved)


# dbt's unit tests check the project's code, the same in every build of a pytest run: they run in the
# session's sample build (conftest.py) and wherever a test asks for them, not in every test build.
SKIP_UNIT_TESTS = {"DBT_EXCLUDE_RESOURCE_TYPES": "unit_test"}


def dbt_env(
    database: Path,
    args: tuple[str, ...],
    *,
    cli: bool = False,
    unit_tests: bool = False,
    store_failures: bool = False,
    artifacts: bool = False,
) -> dict[str, str]:
    """The environment of a dbt run, or of a rollcall command (``cli``), on ``database``.

    Every data test still runs and still fails the build as configured; only the table of its
    failing rows in ``test_failures`` is left out (ROLLCALL_STORE_FAILURES, dbt_project.yml),
    unless the test reads those tables (``store_failures``): writing one table per data test
    is about a third of a small build's time. `rollcall check` always stores them (it reads them).
    dbt's debug log file and its JSON artifacts (manifest, run results) are left out too, unless
    a test reads the artifacts (``artifacts``): together about a tenth of a small build's CPU.
    The partial parse is always written; what dbt prints is captured as always.
    """
    target = dbt_target_path(args, cli=cli, store_failures=store_failures)
    _seed_partial_parse(target)
    return dict(
        os.environ,
        ROLLCALL_DUCKDB_PATH=str(stable_path(database)),
        DBT_TARGET_PATH=str(target),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
        DBT_LOG_LEVEL_FILE="none",
        DBT_WRITE_JSON=str(artifacts).lower(),
        ROLLCALL_STORE_FAILURES=str(store_failures).lower(),
        **({} if unit_tests else SKIP_UNIT_TESTS),
    )


# The commands a test runs inside its own pytest process instead of a child process: dbt and the
# loader are imported once per worker, not once per command (about 4 CPU seconds of every dbt
# command). The CLI's own behaviour as a process (exit status, stdout, stderr) is the same; the
# tests of that behaviour (test_cli.py, test_faults.py) start real processes themselves.
IN_PROCESS_COMMANDS = frozenset({"build", "load", "publish", "summary"})


def in_process(run: Callable[[], int], args: tuple[str, ...], env: dict[str, str]) -> subprocess.CompletedProcess:
    """``run()`` with ``env`` as the whole environment, in the project folder, its stdout and
    stderr captured; the environment and folder are restored after."""
    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    out, err = io.StringIO(), io.StringIO()
    os.environ.clear()
    os.environ.update(env)
    os.chdir(PROJECT_ROOT)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = run()
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
    return subprocess.CompletedProcess(list(args), code, out.getvalue(), err.getvalue())


def run_rollcall(
    *args: str,
    database: Path | None = None,
    unit_tests: bool = False,
    store_failures: bool = False,
    artifacts: bool = False,
) -> subprocess.CompletedProcess:
    """Run the CLI as a user would (dbt's unit tests and the tables of failing test rows only when
    asked for; see ``dbt_env``): the IN_PROCESS_COMMANDS on a given warehouse in this process,
    anything else in a subprocess."""
    env = (
        dict(os.environ)
        if database is None
        else dbt_env(
            database, args, cli=True, unit_tests=unit_tests, store_failures=store_failures, artifacts=artifacts
        )
    )
    if database is not None and args and args[0] in IN_PROCESS_COMMANDS:
        from rollcall.cli import main

        return in_process(lambda: main(list(args)), ("rollcall", *args), env)
    return subprocess.run(
        [sys.executable, "-m", "rollcall.cli", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def run_dbt(*args: str, database: Path, store_failures: bool = False) -> subprocess.CompletedProcess:
    """Run dbt on this project against ``database``, as `rollcall build` does: in this process,
    through dbt's programmatic runner. The exit status is a dbt command's: 0 success, 1 a node
    failed, 2 dbt could not run.

    No JSON artifacts, no debug log file and failing test rows only when asked for (``dbt_env``)."""
    return dbt_in_process(args, dbt_env(database, args, store_failures=store_failures))


def dbt_in_process(args: tuple[str, ...], env: dict[str, str]) -> subprocess.CompletedProcess:
    """A dbt command on this project in this process with ``env``; the exit status is a dbt
    command's: 0 success, 1 a node failed, 2 dbt could not run."""
    from rollcall.dbt import invoke_dbt

    def run() -> int:
        result = invoke_dbt(list(args))
        return 0 if result.success else 2 if result.exception is not None else 1

    return in_process(run, ("dbt", *args), env)


USERS_HEADER = (
    "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,"
    "middleName,identifier,email,sms,phone,agentSourcedIds,grades\n"
)


def user_row(number: int, *, status: str = "", modified: str = "", given_name: str | None = None) -> str:
    """One users.csv student row; bulk rows leave status and dateLastModified blank."""
    name = given_name or f"Student{number:02d}"
    return f"u{number:02d},{status},{modified},true,s1,student,user{number:02d},,{name},Tester,,{number:05d},,,,,05\n"


# The sample district every dbt-building end-to-end module shares (conftest's ``sample_warehouse``).
SAMPLE_DISTRICT = "demo-unified"
SAMPLE_SIZE = {"students": 160, "schools": 4, "days": 45, "seed": 7}


@dataclass(frozen=True)
class SampleWarehouse:
    """A generated multi-source district loaded (with Grand Bend beside it when the shared fixtures
    are there) and built once per session. ``database`` is shared: query it, never write to it;
    ``copy`` gives a module its own warehouse to change."""

    drop: Path  # the multi-source drop: oneroster/, powerschool/, classlink/, star/
    truth: Path  # the generator's truth folder (identity_truth.csv, ...)
    database: Path
    build_output: str  # what the first `rollcall build` printed
    districts: tuple[str, ...]

    @property
    def package(self) -> Path:
        """The OneRoster package of the drop."""
        return self.drop / "oneroster"

    def copy(self, folder: Path) -> Path:
        """A copy of the built warehouse (and the dlt state beside it) in ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / self.database.name
        shutil.copy(self.database, target)
        from loaders.dlt_pipelines import pipelines_dir_for

        pipelines = pipelines_dir_for(self.database)
        if pipelines.is_dir():
            shutil.copytree(pipelines, pipelines_dir_for(target))
        return target
