"""``rollcall check``: try an export before sending it, in a throwaway warehouse.

The drop is loaded with the normal loader into a new DuckDB file in a temporary folder (never
the real warehouse), dbt builds the staging models and roster bridges that the loaded files need
on it and runs their data tests (rollcall.check_dbt, in a process started before the load), and
every failed or warned test is phrased in plain words against the OneRoster file it is about.
The temporary folder is always removed.

Only file names, counts, column names and check wording are reported — never row contents
(student records are FERPA-protected).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from loaders.audit import FileResult
from loaders.oneroster.settings import FILE_ROW, spec_for_file_name
from loaders.package import PackageError
from loaders.registry import UnknownDistrictError, get_district
from rollcall.check_dbt import MESSAGE_PREFIX, NODES_FILE, RESULTS_FILE
from rollcall.codegen import STAGING_MODELS
from rollcall.settings import WORK_DIR

if TYPE_CHECKING:
    from loaders.oneroster.pipeline import LoadReport

DEFAULT_DISTRICT = "demo-unified"
EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2

# dbt builds and tests only what the files of the drop need, out of the seeds, the staging
# models and the roster bridges (rollcall.check_dbt.select_nodes).
DBT_TIMEOUT_SECONDS = 1800
DATABASE_FILE = "check.duckdb"
PARSE_CACHE_ENV = "ROLLCALL_CHECK_CACHE"

MODEL_TO_ENTITY = {model: entity for entity, model in STAGING_MODELS.items()}

_REF = re.compile(r"""ref\(\s*['"](\w+)['"]\s*\)""")
_FROM_FIELD = re.compile(r"\(from (\w+)\.(\w+)\)")
_BRIDGE_OF = re.compile(r"^Bridge of (\w+)\.(\w+)")
_ERROR_KIND = re.compile(r"\b((?:[A-Z][a-z]+ )+Error)\b")  # "Conversion Error", "Invalid Input Error"
_GENERIC_ERRORS = ("Runtime Error", "Database Error")
_WHAT = re.compile(r"^--\s*What:\s*(.*)$")
_COMMENT_KEY = re.compile(r"^--\s*[A-Z][\w ]*:")  # "-- When it matters:", "-- How to fix:"

Progress = Callable[[str], None]


class CheckUsageError(Exception):
    """The check cannot start: unknown district, missing or unreadable path."""


@dataclass
class Check:
    """One failed, warned or broken check, phrased for a district data engineer."""

    test: str  # kind of check: not_null, accepted_values, references_resolve, duplicate_sourced_id, ...
    severity: str  # "error" or "warning"
    failures: int | None  # dbt's failure count (rows; distinct values or keys for some tests); None: did not run
    message: str
    rows: int | None = None  # rows (or list entries) of the file concerned, when known
    model: str | None = None  # dbt model the check ran on (None for the loader-side checks)
    column: str | None = None  # OneRoster field (or model column) the check is about
    dbt_test: str | None = None  # dbt test name, for whoever wants to dig in the dbt project

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class FileCheck:
    """What happened to one file of the drop and which checks failed on it."""

    file: str
    entity: str | None
    status: str  # loaded | skipped | refused | failed
    mode: str | None  # bulk | delta | absent | None (manifest.csv, unknown files)
    rows_read: int
    rows_landed: int
    rows_quarantined: int
    error: str | None
    warnings: list[dict[str, Any]] = field(default_factory=list)  # loader warnings: code, detail, occurrences
    checks: list[Check] = field(default_factory=list)
    quarantine_reasons: dict[str, int] = field(default_factory=dict)  # error type -> rows

    @classmethod
    def from_result(cls, result: FileResult) -> FileCheck:
        return cls(
            file=result.file_name,
            entity=result.entity,
            status=result.status,
            mode=result.mode,
            rows_read=result.rows_read,
            rows_landed=result.rows_landed,
            rows_quarantined=result.rows_quarantined,
            error=result.error_text,
            warnings=[{"code": w.code, "detail": w.detail, "occurrences": w.occurrences} for w in result.warnings],
        )

    @property
    def is_refused(self) -> bool:
        return self.status in ("refused", "failed")

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["checks"] = [c.to_json() for c in self.checks]
        return data


@dataclass
class CheckReport:
    """The outcome of ``rollcall check``: per file, plus checks that belong to no single file."""

    path: str
    district_id: str
    oneroster_version: str
    files: list[FileCheck]
    other_checks: list[Check] = field(default_factory=list)
    checks_run: int = 0
    load_seconds: float = 0.0
    dbt_seconds: float | None = None  # None when dbt did not run (nothing was loaded)
    dbt_parse: str | None = None  # reused | partial | full (see DbtOutcome.parse)
    models_checked: list[str] = field(default_factory=list)  # models dbt built for the check

    @property
    def all_checks(self) -> list[Check]:
        return [c for f in self.files for c in f.checks] + self.other_checks

    @property
    def refused(self) -> int:
        return sum(f.is_refused for f in self.files)

    @property
    def errors(self) -> int:
        """Refused or failed files plus failed error-level checks."""
        return self.refused + sum(c.severity == "error" for c in self.all_checks)

    @property
    def warnings(self) -> int:
        """Warning-level checks, loader warnings, and files with quarantined rows."""
        return (
            sum(c.severity == "warning" for c in self.all_checks)
            + sum(len(f.warnings) for f in self.files)
            + sum(f.rows_quarantined > 0 for f in self.files)
        )

    @property
    def exit_code(self) -> int:
        """0 when no file was refused and no error-level check failed, 1 otherwise."""
        return EXIT_OK if self.errors == 0 else EXIT_PROBLEMS

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "district_id": self.district_id,
            "oneroster_version": self.oneroster_version,
            "files": [f.to_json() for f in self.files],
            "other_checks": [c.to_json() for c in self.other_checks],
            "summary": {
                "files": len(self.files),
                "errors": self.errors,
                "warnings": self.warnings,
                "refused": self.refused,
                "checks_run": self.checks_run,
                "exit_code": self.exit_code,
            },
            "dbt": {"parse": self.dbt_parse, "models": self.models_checked},
            "timings": {"load_seconds": round(self.load_seconds, 1), "dbt_seconds": _round(self.dbt_seconds)},
        }

    def write_json(self, destination: str | Path) -> None:
        Path(destination).write_text(json.dumps(self.to_json(), indent=2) + "\n", encoding="utf-8")

    def render(self) -> str:
        """The report as text: one block per file, other checks, then a one-line verdict."""
        lines = [
            f"rollcall check: {self.path} (OneRoster {self.oneroster_version}, {_count(len(self.files), 'file')})",
            "",
        ]
        for f in self.files:
            lines.append(_file_heading(f))
            for warning in f.warnings:
                lines.append(f"    warning  {warning['code']}: {warning['detail']}")
            if f.quarantine_reasons:
                reasons = ", ".join(f"{kind.replace('_', ' ')}: {n:,}" for kind, n in f.quarantine_reasons.items())
                verb = "was" if f.rows_quarantined == 1 else "were"
                lines.append(
                    f"    warning  {_rows(f.rows_quarantined)} could not be read and {verb} set aside ({reasons})"
                )
            for check in _ordered(f.checks):
                lines.append(f"    {check.severity:<8} {check.message}")
        if self.other_checks:
            lines += ["", "other checks (not about a single file)"]
            for check in _ordered(self.other_checks):
                where = f"{check.model}: " if check.model else ""  # singular checks name themselves
                lines.append(f"    {check.severity:<8} {where}{check.message}")
        lines.append("")
        if self.dbt_seconds is None:
            lines.append("data tests: not run (no file was loaded)")
        elif not self.models_checked and not any(c.test == "dbt" for c in self.other_checks):
            lines.append("data tests: none apply (no file loaded rows that the staging models read)")
        else:
            lines.append(
                f"data tests: {self.checks_run:,} checks on {_count(len(self.models_checked), 'model')} "
                f"run in {self.dbt_seconds:.0f} s (loading took {self.load_seconds:.0f} s)"
            )
        lines.append(self.verdict())
        return "\n".join(lines)

    def verdict(self) -> str:
        """One line: OK to send (exit 0) or NOT ready (exit 1), with what decided it."""
        if self.exit_code == EXIT_OK:
            notes = f" ({_count(self.warnings, 'warning')} to review)" if self.warnings else ""
            return f"verdict: OK to send: no file refused, no error-level check failed{notes}"
        problems = []
        if self.refused:
            problems.append(f"{_count(self.refused, 'file')} refused")
        failed = self.errors - self.refused
        if failed:
            problems.append(f"{_count(failed, 'error-level check')} failed")
        notes = f" ({_count(self.warnings, 'warning')} besides)" if self.warnings else ""
        return f"verdict: NOT ready: {', '.join(problems)}{notes}"


def check_package(
    location: str | Path,
    district_id: str = DEFAULT_DISTRICT,
    *,
    work_root: str | Path | None = None,
    progress: Progress | None = None,
    selection: list[str] | None = None,
) -> CheckReport:
    """Load ``location`` into a temporary warehouse, run the staging data tests and report.

    ``district_id`` only labels the rows in the temporary warehouse; it must be in the registry.
    ``work_root`` is where the temporary folder is made (default: the system temp folder); the
    folder is removed whatever happens. Raises ``CheckUsageError`` for an unknown district or a
    drop that cannot be opened. ``selection`` (dbt ``--select`` / ``--exclude`` arguments) narrows
    the data tests to the nodes it selects.
    """
    say = progress or (lambda _message: None)
    try:
        get_district(district_id)  # refuse an unknown district before starting anything
    except UnknownDistrictError as exc:
        raise CheckUsageError(str(exc)) from exc
    with (
        tempfile.TemporaryDirectory(prefix="rollcall-check-", dir=work_root) as tmp,
        DbtProcess(Path(tmp), say, selection or []) as dbt,
    ):
        work = Path(tmp)
        database = work / DATABASE_FILE
        say("loading the files into a temporary warehouse (dbt reads the project meanwhile) ...")
        started = time.perf_counter()
        # imported here: the loader (dlt, pyarrow) takes a second or two to import, meanwhile dbt starts
        from loaders.oneroster.pipeline import load_package

        try:
            # every file's own problems are reported, also of files a refused file would hold back
            load = load_package(
                location, district_id, database, pipelines_dir=work / "dlt_pipelines", hold_back_dependents=False
            )
        except (UnknownDistrictError, PackageError) as exc:
            raise CheckUsageError(str(exc)) from exc
        report = CheckReport(
            path=str(location),
            district_id=district_id,
            oneroster_version=load.oneroster_version,
            files=[FileCheck.from_result(r) for r in load.files],
            load_seconds=time.perf_counter() - started,
        )
        say(f"loaded {_count(len(load.files), 'file')} in {report.load_seconds:.0f} s")
        _add_loader_checks(report, load, database)
        if not any(f.status == "loaded" for f in report.files):
            return report
        started = time.perf_counter()
        outcome = dbt.run(filled_tables(database))
        report.dbt_seconds = time.perf_counter() - started
        report.dbt_parse, report.models_checked = outcome.parse, sorted(outcome.models)
        say(f"dbt finished in {report.dbt_seconds:.0f} s")
        _add_dbt_checks(report, outcome, database)
        for f in report.files:
            f.checks = _ordered(f.checks)
        report.other_checks = _ordered(report.other_checks)
        return report


# --- loader side ---------------------------------------------------------------------------------


def _add_loader_checks(report: CheckReport, load: LoadReport, database: Path) -> None:
    """Quarantine reasons per file, and sourcedId checks counted from the raw tables.

    Staging keeps the last row of each sourcedId and leaves out rows without one, so its
    primary-key tests cannot see either problem inside one file; the raw table still has every row.
    """
    by_name = {f.file: f for f in report.files}
    with duckdb.connect(str(database), read_only=True) as con:
        for file_name, error_type, rows in con.execute(
            """select file_name, error_type, count(*) from audit.quarantined_rows
               where load_id = ? group by file_name, error_type order by file_name, error_type""",
            [load.load_id],
        ).fetchall():
            if file_name in by_name:
                by_name[file_name].quarantine_reasons[error_type] = rows
        for result in load.files:
            spec = spec_for_file_name(result.file_name)
            if result.status != "loaded" or spec is None or "sourcedId" not in {f.name for f in spec.fields}:
                continue
            by_name[result.file_name].checks += _sourced_id_checks(con, spec.table, load.load_id, result.file_sha256)


def _sourced_id_checks(con: duckdb.DuckDBPyConnection, table: str, load_id: str, file_sha256: str) -> list[Check]:
    """Rows without a sourcedId and sourcedIds repeated within one file, from the raw table."""
    from loaders.oneroster.pipeline import RAW_SCHEMA

    empty, ids, rows = con.execute(
        f"""with file_rows as (
                select nullif(trim(sourced_id), '') as sourced_id from {RAW_SCHEMA}.{table}
                where _load_id = ? and _file_sha256 = ? and _change_kind = ?
            ),
            repeated as (
                select count(*) as n from file_rows where sourced_id is not null
                group by sourced_id having count(*) > 1
            )
            select
                (select count(*) from file_rows where sourced_id is null),
                (select count(*) from repeated),
                (select coalesce(sum(n), 0) from repeated)""",
        [load_id, file_sha256, FILE_ROW],
    ).fetchone()
    checks = []
    if empty:
        checks.append(
            Check(
                test="missing_sourced_id",
                severity="error",
                failures=empty,
                message=f"{_rows(empty)} {'has' if empty == 1 else 'have'} no sourcedId and would be left out",
                rows=empty,
                column="sourcedId",
            )
        )
    if ids:
        verb = "appears" if ids == 1 else "appear"
        checks.append(
            Check(
                test="duplicate_sourced_id",
                severity="error",
                failures=ids,
                message=(
                    f"{_count(ids, 'sourcedId')} {verb} more than once ({_rows(rows)}); "
                    "only the last row of each would be kept"
                ),
                rows=rows,
                column="sourcedId",
            )
        )
    return checks


# --- dbt side ------------------------------------------------------------------------------------


@dataclass
class DbtOutcome:
    """A finished dbt run: its return code, output and artifacts (None when dbt wrote none)."""

    returncode: int
    output: str
    run_results: dict[str, Any] | None
    manifest: dict[str, Any] | None
    parse: str | None = None  # reused | partial | full: how much of the project dbt had to parse
    models: list[str] = field(default_factory=list)  # the models built for the check
    error: str | None = None  # what stopped dbt itself (the project did not parse, ...)


def parse_cache_dir() -> Path:
    """Where dbt's parse state is kept between checks: ``$ROLLCALL_CHECK_CACHE`` or ``target/check``."""
    return Path(os.environ.get(PARSE_CACHE_ENV) or WORK_DIR / "target" / "check")


def filled_tables(database: Path) -> list[tuple[str, str]]:
    """(schema, table) of every table of the temporary warehouse that holds a row after the load."""
    with duckdb.connect(str(database), read_only=True) as con:
        tables = con.execute("select schema_name, table_name from duckdb_tables() order by 1, 2").fetchall()
        return [
            (schema, table)
            for schema, table in tables
            if con.execute(f'select exists (select 1 from "{schema}"."{table}")').fetchone()[0]
        ]


class DbtProcess:
    """The dbt side of one check (``rollcall.check_dbt``) in a subprocess of its own.

    Started before the load, so dbt is imported and reads the project while the files land;
    ``run`` then tells it which tables the load filled and relays its progress. Its
    artifacts and logs stay inside ``work``; ``close`` stops it if it is still running.
    """

    def __init__(self, work: Path, progress: Progress, selection: list[str] | None = None) -> None:
        self.say = progress
        self.target = work / "target"
        env = {
            **os.environ,
            # relative to the working folder: one profile, hence one parse state, for every check
            "ROLLCALL_DUCKDB_PATH": DATABASE_FILE,
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            # the checks' messages count rows from the failing tests' stored rows (dbt_project.yml)
            "ROLLCALL_STORE_FAILURES": "true",
        }
        self.process = subprocess.Popen(
            # -P: the working folder (the check's temporary files) is not put on the module path
            [
                sys.executable,
                "-P",
                "-m",
                "rollcall.check_dbt",
                str(self.target),
                str(parse_cache_dir()),
                *(selection or []),
            ],
            cwd=work,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
        )

    def __enter__(self) -> DbtProcess:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()

    def run(self, tables: list[tuple[str, str]]) -> DbtOutcome:
        """Build and test what the load that filled ``tables`` needs; wait for the artifacts."""
        timed_out = threading.Event()

        def stop() -> None:
            timed_out.set()
            self.process.kill()

        timer = threading.Timer(DBT_TIMEOUT_SECONDS, stop)
        timer.start()
        output: list[str] = []
        outcome = DbtOutcome(0, "", None, None)
        assert self.process.stdin is not None and self.process.stdout is not None
        try:
            with contextlib.suppress(OSError):  # dbt may have stopped already (the project did not parse)
                self.process.stdin.write(json.dumps({"filled_tables": tables}) + "\n")
                self.process.stdin.close()
            for line in self.process.stdout:
                if line.startswith(MESSAGE_PREFIX):
                    self._on_message(json.loads(line[len(MESSAGE_PREFIX) :]), outcome)
                else:
                    output.append(line)
            outcome.returncode = self.process.wait()
        finally:
            timer.cancel()
        if timed_out.is_set():
            output.append(f"dbt was stopped after {DBT_TIMEOUT_SECONDS} s\n")

        def artifact(name: str) -> dict[str, Any] | None:
            path = self.target / name
            return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None

        outcome.output = "".join(output)
        if outcome.run_results is None:  # set already when nothing was to be built
            outcome.run_results = artifact(RESULTS_FILE)
            outcome.manifest = artifact(NODES_FILE) if outcome.run_results else None
        return outcome

    def _on_message(self, message: dict[str, Any], outcome: DbtOutcome) -> None:
        event = message["event"]
        if event == "parsed":
            outcome.parse = message["mode"]
            how = {
                "reused": "nothing changed since the last check, its parse was reused",
                "partial": "only the files changed since the last check were parsed again",
            }.get(message["mode"], f"parsed it whole because {message['reason']}; the next check reuses that")
            self.say(f"dbt read the project in {message['seconds']:.0f} s: {how}")
        elif event == "selected":
            outcome.models = message["models"]
            if not outcome.models:
                self.say("no file loaded rows that the staging models read: no data test applies")
                outcome.run_results, outcome.manifest = {"results": []}, {"nodes": {}}
                return
            self.say(
                f"dbt builds the {_count(len(message['models']), 'model')} and runs the "
                f"{_count(message['tests'], 'check')} the loaded files need ..."
            )
        elif event == "failed":
            outcome.error = message["error"]
        elif event == "progress":
            done, total = message["done"], message["total"]
            if done == total or done * 4 // total > (done - 1) * 4 // total:  # at each quarter
                self.say(f"dbt: {done} of {total} done")


def _add_dbt_checks(report: CheckReport, outcome: DbtOutcome, database: Path) -> None:
    """Turn every warned, failed or broken dbt node into a Check on its file (or under other checks)."""
    if outcome.run_results is None or outcome.manifest is None:
        last = [line.strip() for line in outcome.output.splitlines() if line.strip()]
        detail = outcome.error or (last[-1] if last else "-")
        report.other_checks.append(
            Check(
                test="dbt",
                severity="error",
                failures=None,
                message=f"dbt could not run the checks (exit {outcome.returncode}): {detail}",
            )
        )
        return
    results = outcome.run_results["results"]
    report.checks_run = sum(r["unique_id"].startswith("test.") and r["status"] != "skipped" for r in results)
    with duckdb.connect(str(database), read_only=True) as con:
        context = _Context(outcome.manifest["nodes"], _FileIndex(report.files), con)
        for result in results:
            node = context.nodes.get(result["unique_id"])
            if node and node["resource_type"] == "test" and result["status"] == "skipped":
                model = _attached_model(node) or ""
                context.skipped_tests[model] = context.skipped_tests.get(model, 0) + 1
        for result in results:
            node = context.nodes.get(result["unique_id"])
            if node is None or result["status"] in ("pass", "success", "skipped"):
                continue
            target = context.files.for_entity(context.entity_of_node(node))
            check = _describe(node, result, context, target)
            (target.checks if target else report.other_checks).append(check)


class _FileIndex:
    """Files of the drop by entity, for attaching checks and naming referenced files."""

    def __init__(self, files: list[FileCheck]) -> None:
        self.by_entity: dict[str, FileCheck] = {}
        for f in files:  # the file that loaded wins over a refused second copy
            if f.entity and (f.entity not in self.by_entity or f.status == "loaded"):
                self.by_entity[f.entity] = f

    def for_entity(self, entity: str | None) -> FileCheck | None:
        return self.by_entity.get(entity) if entity else None

    def name(self, entity: str) -> str:
        f = self.by_entity.get(entity)
        return Path(f.file).name if f else f"{entity}.csv"

    def note(self, entity: str) -> str:
        """Why references to ``entity`` dangle, when the drop explains it."""
        f = self.by_entity.get(entity)
        if f is None:
            return f" ({entity}.csv is not in the drop)"
        if f.is_refused:
            return f" ({Path(f.file).name} was refused)"
        if f.status == "skipped":
            return f" ({Path(f.file).name} was skipped)"
        return ""


@dataclass
class _Context:
    """What phrasing a result needs beyond its own node: the manifest, the drop, the temp warehouse."""

    nodes: dict[str, Any]
    files: _FileIndex
    con: duckdb.DuckDBPyConnection
    skipped_tests: dict[str, int] = field(default_factory=dict)  # model -> tests that did not run

    def __post_init__(self) -> None:
        self.models = {n["name"]: n for n in self.nodes.values() if n["resource_type"] == "model"}

    def entity_of(self, model: str) -> str | None:
        """The OneRoster file a model is about: its own for a staging model; for a bridge, the
        file of the one staging model it reads (seeds aside); else None."""
        if model in MODEL_TO_ENTITY:
            return MODEL_TO_ENTITY[model]
        node = self.models.get(model)
        parents = [p for p in node["depends_on"]["nodes"] if not p.startswith("seed.")] if node else []
        if len(parents) == 1 and parents[0].split(".")[-1] in MODEL_TO_ENTITY:
            return MODEL_TO_ENTITY[parents[0].split(".")[-1]]
        return None

    def entity_of_node(self, node: dict[str, Any]) -> str | None:
        """The OneRoster file a dbt result is about: that of a model, of the model a generic test
        is attached to, or of the models a singular test reads when they agree on one file."""
        if node["resource_type"] != "test":
            return self.entity_of(node["name"])
        model = _attached_model(node)
        if model:
            return self.entity_of(model)
        parents = [p.split(".")[-1] for p in node.get("depends_on", {}).get("nodes", []) if p.startswith("model.")]
        entities = {self.entity_of(p) for p in parents}
        return entities.pop() if len(entities) == 1 else None

    def field_name(self, model: str | None, column: str | None) -> str | None:
        """The OneRoster field behind a staging column (``given_name`` -> ``givenName``, read from the
        generated column docs "... (from users.givenName)"), else the column itself."""
        node = self.models.get(model or "")
        if column is None or node is None:
            return column
        match = _FROM_FIELD.search((node.get("columns", {}).get(column) or {}).get("description") or "")
        return match.group(2) if match else column

    def list_field(self, model: str | None) -> str | None:
        """The list field a roster bridge unnests ("Bridge of users.orgSourcedIds ..." -> orgSourcedIds)."""
        node = self.models.get(model or "")
        match = _BRIDGE_OF.search((node or {}).get("description") or "")
        return match.group(2) if match else None

    def stored_sum(self, node: dict[str, Any], column: str) -> int | None:
        """Sum of a count column of the test's stored failures: the rows behind distinct values/keys."""
        relation = node.get("relation_name")
        if not relation:
            return None
        try:
            row = self.con.execute(f"select sum({column}) from {relation}").fetchone()
        except duckdb.Error:
            return None
        return int(row[0]) if row and row[0] is not None else None


def _attached_model(node: dict[str, Any]) -> str | None:
    """Name of the model a test is attached to (None for singular tests)."""
    attached = node.get("attached_node")
    return attached.split(".")[-1] if attached else None


def _describe(node: dict[str, Any], result: dict[str, Any], context: _Context, file: FileCheck | None) -> Check:
    """Phrase one non-passing dbt result; counts, field and file names only, never row values."""
    if node["resource_type"] != "test":  # a model or seed that could not be built
        skipped = context.skipped_tests.get(node["name"], 0)
        tail = f"; {_count(skipped, 'check')} on it did not run" if skipped else ""
        return Check(
            test="build",
            severity="error",
            failures=None,
            message=f"{node['name']} could not be built ({_error_kind(result)}){tail}",
            model=node["name"],
        )
    metadata = node.get("test_metadata") or {}
    kind = metadata.get("name") or "singular"
    if kind == "singular":
        return _describe_singular(node, result)
    kwargs = metadata.get("kwargs") or {}
    model = _attached_model(node)
    column = kwargs.get("column_name") or node.get("column_name")
    list_field = context.list_field(model) if model not in MODEL_TO_ENTITY else None
    field_name = list_field or context.field_name(model, column)
    base = {"test": kind, "model": model, "column": field_name, "dbt_test": node["name"]}
    if result["status"] == "error":
        message = f"the {kind} check{_on(field_name)} could not run ({_error_kind(result)})"
        return Check(severity="error", failures=None, message=message, **base)
    severity = "error" if result["status"] == "fail" else "warning"
    failures = int(result.get("failures") or 0)
    if list_field:
        message, rows = _phrase_bridge(kind, failures, list_field, column, kwargs, node, context)
    else:
        message, rows = _phrase(kind, failures, field_name, kwargs, node, context, file)
    return Check(severity=severity, failures=failures, message=message, rows=rows, **base)


def _describe_singular(node: dict[str, Any], result: dict[str, Any]) -> Check:
    """A singular test (tests/dbt), phrased from the rule in its "-- What:" header comment."""
    base = {"test": "singular", "model": None, "column": None, "dbt_test": node["name"]}
    if result["status"] == "error":
        message = f"the check {node['name']} could not run ({_error_kind(result)})"
        return Check(severity="error", failures=None, message=message, **base)
    n = int(result.get("failures") or 0)
    rule = _rule_of(node.get("raw_code") or "")
    verb = "breaks" if n == 1 else "break"
    message = f"{_rows(n)} {verb} the rule: {rule}" if rule else f"{_rows(n)} {verb} the check {node['name']}"
    severity = "error" if result["status"] == "fail" else "warning"
    return Check(severity=severity, failures=n, message=message, rows=n, **base)


def _rule_of(sql: str) -> str | None:
    """The rule a singular test checks, from its header: ``-- What: <rule> (<source>) ...``,
    continued on indented comment lines; cut at the first parenthesis or dash aside."""
    lines = [line.strip() for line in sql.splitlines()]
    for index, line in enumerate(lines):
        match = _WHAT.match(line)
        if not match:
            continue
        parts = [match.group(1)]
        for following in lines[index + 1 :]:
            if not following.startswith("--") or _COMMENT_KEY.match(following):
                break
            parts.append(following[2:].strip())
        rule = re.split(r" \(| — ", " ".join(parts), maxsplit=1)[0].strip().rstrip(".")
        return rule or None
    return None


def _phrase(
    kind: str,
    n: int,
    field_name: str | None,
    kwargs: dict[str, Any],
    node: dict[str, Any],
    context: _Context,
    file: FileCheck | None,
) -> tuple[str, int | None]:
    """Plain words for a failed check on a file's rows, and the number of rows it concerns.

    ``n`` is dbt's failure count: rows for most tests, distinct values for accepted_values,
    distinct keys for the uniqueness test (their rows are summed from the stored failures).
    """
    one = n == 1
    if kind == "not_null":
        return f"{_rows(n)} {'leaves' if one else 'leave'} required {field_name} empty", n
    if kind == "accepted_values":
        shown = _allowed(kwargs)
        rows = context.stored_sum(node, "n_records")
        if rows is None:
            verb = "is" if one else "are"
            return f"{_count(n, 'distinct value')} of {field_name} {verb} outside the OneRoster list ({shown})", None
        distinct = f" in {_count(n, 'distinct value')}" if n not in (1, rows) else ""
        verb = "has" if rows == 1 else "have"
        return f"{_rows(rows)} {verb} {field_name} outside the OneRoster list ({shown}){distinct}", rows
    if kind in ("references_resolve", "relationships"):
        where = _referenced(kwargs, context)
        verb = "points" if one else "point"
        return f"{_rows(n)} {verb} at {_article(field_name)} {field_name} that is not in {where}", n
    if kind == "unique_combination_of_columns":
        model = _attached_model(node)
        names = [context.field_name(model, c) or c for c in kwargs.get("combination") or [] if c != "district_id"]
        if len(names) == 1:
            label = names[0] + ("" if one else "s")
        else:
            label = f"{'combination' if one else 'combinations'} of ({', '.join(names)})"
        rows = context.stored_sum(node, "occurrences")
        extra = f" ({_rows(rows)})" if rows is not None else ""
        return f"{n:,} {label} {'appears' if one else 'appear'} more than once{extra}", rows
    if kind == "status_matches_file_mode":
        mode = file.mode if file else None
        if mode == "bulk":
            verb = "fills" if one else "fill"
            return f"{_rows(n)} {verb} status or dateLastModified, which a bulk file leaves empty", n
        if mode == "delta":
            verb = "leaves" if one else "leave"
            return f"{_rows(n)} {verb} status or dateLastModified empty, which a delta file must fill", n
        verb = "has" if one else "have"
        return f"{_rows(n)} {verb} status/dateLastModified that do not match the file's bulk/delta mode", n
    if kind == "value_between":
        bounds = f"{kwargs.get('min_value')}-{kwargs.get('max_value')}"
        return f"{_rows(n)} {'has' if one else 'have'} {field_name} outside {bounds}", n
    return f"{_rows(n)} {'fails' if one else 'fail'} the {kind} check{_on(field_name)}", n


def _phrase_bridge(
    kind: str,
    n: int,
    list_field: str,
    column: str | None,
    kwargs: dict[str, Any],
    node: dict[str, Any],
    context: _Context,
) -> tuple[str, int | None]:
    """Plain words for a failed check on a roster bridge: one row per entry of a list field."""
    one = n == 1
    entries = f"{_count(n, 'entry', 'entries')} of {list_field}"
    if kind == "not_null":
        return f"{entries} could not be mapped ({column} is empty)", n
    if kind == "accepted_values":
        rows = context.stored_sum(node, "n_records")
        count = rows if rows is not None else n
        entries = f"{_count(count, 'entry', 'entries')} of {list_field}"
        verb = "has" if count == 1 else "have"
        return f"{entries} {verb} {column} outside the OneRoster list ({_allowed(kwargs)})", rows
    if kind in ("references_resolve", "relationships"):
        return f"{entries} {'names' if one else 'name'} a sourcedId that is not in {_referenced(kwargs, context)}", n
    if kind == "unique_combination_of_columns":
        rows = context.stored_sum(node, "occurrences")
        records = _count(n, "record")
        return f"{records} {'lists' if one else 'list'} the same {list_field} entry more than once", rows
    return f"{entries} {'fails' if one else 'fail'} the {kind} check{_on(column)}", n


def _allowed(kwargs: dict[str, Any]) -> str:
    """The accepted values of an accepted_values test, shortened when long."""
    values = [str(v) for v in kwargs.get("values") or []]
    return ", ".join(values if len(values) <= 8 else [*values[:6], "..."])


def _referenced(kwargs: dict[str, Any], context: _Context) -> str:
    """The file a reference test looks in, with why the reference dangles when the drop tells."""
    match = _REF.search(str(kwargs.get("to", "")))
    target = MODEL_TO_ENTITY.get(match.group(1)) if match else None
    if target:
        return context.files.name(target) + context.files.note(target)
    return match.group(1) if match else "the referenced file"


def _error_kind(result: dict[str, Any]) -> str:
    """The class of a dbt/DuckDB error ("Conversion Error"), never its text: it may quote data."""
    kinds = _ERROR_KIND.findall(result.get("message") or "")
    specific = [kind for kind in kinds if kind not in _GENERIC_ERRORS]
    return (specific or kinds or ["dbt error"])[0]


def _on(field_name: str | None) -> str:
    return f" on {field_name}" if field_name else ""


def _article(word: str | None) -> str:
    return "an" if word and word[0].lower() in "aeiou" else "a"


def _count(n: int, singular: str, plural: str | None = None) -> str:
    return f"{n:,} {singular if n == 1 else plural or singular + 's'}"


def _rows(n: int) -> str:
    return _count(n, "row")


def _round(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 1)


def _ordered(checks: list[Check]) -> list[Check]:
    """Errors first, then by kind of check and field, so reports of the same drop compare line by line."""
    return sorted(checks, key=lambda c: (c.severity != "error", c.test, c.column or "", c.message))


def _file_heading(f: FileCheck) -> str:
    if f.status in ("loaded", "failed"):
        counts = f"read {f.rows_read:,}, landed {f.rows_landed:,}, quarantined {f.rows_quarantined:,}"
        line = f"{f.file}: {', '.join(filter(None, [f.status, f.mode]))}; {counts}"
    else:
        line = f"{f.file}: {f.status}"
    return f"{line}: {f.error}" if f.error else line
