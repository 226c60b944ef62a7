"""The drop spine: one orchestrator for every format a drop may carry, in five stages.

    plan     every file is recognised by the first handler that claims it, by name and then by
             header; a file no handler claims is refused with each handler's reason
    gate     the district gate (``loaders.district_gate``) judges the evidence each handler reads
             from its files, before anything of them lands
    prepare  each handler parses its files in its own order into landings (bad rows quarantined);
             a refused file never stops the others
    land     each handler hands its landings to dlt; a failure fails every file of the load
    verify   every landing's rows are counted back: rows read = rows landed + rows quarantined

A format is a ``FormatHandler``: OneRoster(+) files (``loaders.oneroster.pipeline``) and the
layouts of ``config/formats`` (``loaders.mapped.pipeline``). Every decision is written to the
audit tables (``loaders.audit``) as it is made.
"""

from __future__ import annotations

import csv
import os
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import dlt
import duckdb

from loaders.audit import AuditLog, FileResult, utc_now
from loaders.district_gate import Evidence, judge_by_schools, judge_drop, record_decisions
from loaders.dlt_pipelines import clear_packages, discard_packages, load_scratch, pipelines_dir_for
from loaders.drop_checks import TEXT_SUFFIXES, prepare_texts
from loaders.fault_points import fault_point
from loaders.package import PackageFile, open_package
from loaders.registry import REGISTRY_PATH, get_district, load_registry
from loaders.text_input import FileRefused, read_header
from loaders.writer_lock import connect_writer, writer_lock

DEFAULT_MAX_TOMBSTONE_SHARE = 0.10

# dlt settings: arrow data (tombstones, mapped files) as parquet row groups DuckDB can scan in
# parallel, no compression (files are local and short-lived); SQL models land exactly the
# columns they select (no _dlt_load_id: rows carry _load_id); no telemetry (the warehouse may
# have no internet).
DLT_DEFAULTS = {
    "DATA_WRITER__ROW_GROUP_SIZE": "122880",
    "DATA_WRITER__COMPRESSION": "none",
    "NORMALIZE__MODEL_NORMALIZER__ADD_DLT_LOAD_ID": "false",
    "RUNTIME__DLTHUB_TELEMETRY": "false",
}
NOT_A_CSV_FILE = "not a CSV file (see docs/oneroster-plus.md, docs/sis-formats.md)"


@dataclass
class LoadReport:
    """Outcome of one load of a drop."""

    load_id: str
    district_id: str
    status: str
    oneroster_version: str = "1.1"
    files: list[FileResult] = field(default_factory=list)
    error_text: str | None = None

    @property
    def rows_landed(self) -> int:
        return sum(f.rows_landed for f in self.files)

    @property
    def rows_quarantined(self) -> int:
        return sum(f.rows_quarantined for f in self.files)


def new_load_id() -> str:
    return f"{utc_now():%Y%m%dT%H%M%S%fZ}-{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True)
class LoadOptions:
    """How a load treats its files: the options of ``rollcall load``, some of which pulls and
    ``rollcall check`` set."""

    max_tombstone_share: float = DEFAULT_MAX_TOMBSTONE_SHARE
    force: bool = False
    # the drop holds every file its manifest lists; pulls of a part of a drop pass False
    manifest_complete: bool = True
    # files whose references depend on a refused file are held back; `rollcall check` passes False
    hold_back_dependents: bool = True


@dataclass
class PlannedFile:
    """A file of the drop and what its handler recognised it as (``target``)."""

    package_file: PackageFile
    result: FileResult
    handler: FormatHandler | None = None
    target: object = None  # the handler's: a OneRoster FileSpec, a mapped HeaderMatch, ...
    header: list[str] | None = None  # read when the file had to be recognised by its header


@dataclass
class Landing:
    """A prepared file waiting for dlt: its result, its raw table (``schema.table``) and the SQL
    condition that picks the file's own rows there (not the events its landing adds)."""

    result: FileResult
    table: str
    file_rows: str = "true"


@dataclass
class DropContext:
    """One load of one drop, as every stage and handler sees it."""

    con: duckdb.DuckDBPyConnection
    audit: AuditLog
    district_id: str
    load_id: str
    started_at: datetime
    scratch: Path
    pipelines_dir: Path
    options: LoadOptions
    report: LoadReport
    handlers: Sequence[FormatHandler]
    files: list[PackageFile] = field(default_factory=list)
    pipelines: list[dlt.Pipeline] = field(default_factory=list)  # their packages are discarded at the end
    dlt_load_id: str | None = None  # the first dlt load of the drop (audit.load_log)

    def record(self, result: FileResult) -> None:
        self.audit.record_file(self.load_id, self.district_id, result)

    def known_schools(self) -> set[str]:
        """School ids the district has, landed before or prepared in this drop, by every handler."""
        return set().union(*(handler.schools(self) for handler in self.handlers))


class FormatHandler:
    """What the spine asks of a format. Subclasses override what their format needs; a handler
    is made for one load and may keep that load's state (its landings, the files it has seen)."""

    name = "format"
    # why a file is not this format, when it claims no file by name (None: no reason to give)
    not_named: str | None = None

    def ensure_tables(self, con: duckdb.DuckDBPyConnection) -> None:
        """Create the raw tables of the format (empty), so models build before any file arrives."""

    def begin(self, ctx: DropContext) -> None:
        """Read what the whole drop says about the format (a manifest), before any file is planned."""

    def claims_name(self, ctx: DropContext, plan: PlannedFile) -> bool:
        """Claim the file by its name (set ``plan.target``); called also for files the package refused."""
        return False

    def keeps_named(self, ctx: DropContext, plan: PlannedFile) -> bool:
        """Whether a file claimed by name stays this format once it can be read."""
        return True

    def claims_header(self, ctx: DropContext, plan: PlannedFile) -> str | None:
        """Claim the file by ``plan.header`` (None) or say why it is not this format."""
        return self.not_named

    def unplanned(self, ctx: DropContext) -> list[FileResult]:
        """Refused results for files the drop should hold but lacks (a manifest's missing files)."""
        return []

    def evidence(self, ctx: DropContext, plan: PlannedFile, evidence: Evidence) -> None:
        """Add the district ids, names and school ids the file carries (``duckdb.Error``,
        ``csv.Error``, ``FileRefused`` and ``UnicodeDecodeError`` become the evidence's error)."""

    def schools(self, ctx: DropContext) -> set[str]:
        """School ids of the district in the format's raw tables and its landings of this drop."""
        return set()

    def order(self, plans: list[PlannedFile]) -> list[PlannedFile]:
        """The order in which the handler's files are prepared."""
        return plans

    def held_back(self, ctx: DropContext, plan: PlannedFile) -> str | None:
        """Why the file must not land because another file of the drop was refused (None: it may)."""
        return None

    def prepare(self, ctx: DropContext, plan: PlannedFile) -> Landing | None:
        """Parse the file into a landing, or None when it is skipped; raises ``FileRefused``."""
        raise NotImplementedError

    def land(self, ctx: DropContext, landings: list[Landing]) -> list[str]:
        """Hand the landings to dlt (append each pipeline to ``ctx.pipelines``); dlt's load ids."""
        raise NotImplementedError

    def verified(self, ctx: DropContext, landing: Landing) -> None:
        """Called once the landing's rows are counted back, before its result is recorded."""


def already_landed(con: duckdb.DuckDBPyConnection, district_id: str, entity: str, file_sha256: str) -> str | None:
    """The load that landed this exact file, if re-landing it would change nothing: the file is
    the latest one landed for the entity, or it is a delta file that was landed before."""
    row = con.execute(
        """with landed as (
               select load_id, file_sha256, mode,
                      row_number() over (order by started_at desc) as recency
               from audit.file_log
               where district_id = ? and entity = ? and status = 'loaded'
           )
           select load_id from landed
           where file_sha256 = ? and (recency = 1 or mode = 'delta')
           order by recency limit 1""",
        [district_id, entity, file_sha256],
    ).fetchone()
    return row[0] if row else None


def skip_if_landed(ctx: DropContext, result: FileResult, entity: str, mode: str | None) -> bool:
    """Mark the file ``skipped`` when an identical file already landed (``already_landed``)."""
    previous = already_landed(ctx.con, ctx.district_id, entity, result.file_sha256)
    if previous:
        result.mode, result.status, result.finished_at = mode, "skipped", utc_now()
        result.error_text = f"identical file already loaded by load {previous}"
    return bool(previous)


def delete_leftovers(ctx: DropContext, table: str, file_sha256: str) -> None:
    """Delete what an earlier attempt at this file that failed mid-way left in ``table``."""
    ctx.con.execute(f"delete from {table} where _district_id = ? and _file_sha256 = ?", [ctx.district_id, file_sha256])


def verify_landing(ctx: DropContext, landing: Landing) -> None:
    """Count the file's rows back from its raw table; rows read must equal landed + quarantined."""
    result = landing.result
    landed = ctx.con.execute(
        f"select count(*) from {landing.table} where _load_id = ? and _file_sha256 = ? and {landing.file_rows}",
        [ctx.load_id, result.file_sha256],
    ).fetchone()[0]
    result.rows_landed, result.finished_at = landed, utc_now()
    if result.rows_read == landed + result.rows_quarantined:
        result.status = "loaded"
    else:
        result.status = "failed"
        result.error_text = (
            f"row accounting mismatch: read {result.rows_read}, landed {landed}, quarantined {result.rows_quarantined}"
        )


def load_drop(
    location: str | Path,
    district_id: str,
    database: str | Path,
    handlers: Sequence[FormatHandler],
    *,
    options: LoadOptions = LoadOptions(),
    pipelines_dir: str | Path | None = None,
    registry: Path = REGISTRY_PATH,
    source_label: str | None = None,
    on_file: Callable[[FileResult], None] | None = None,
) -> LoadReport:
    """Load a folder/zip/CSV drop for ``district_id`` into the DuckDB file ``database`` through
    ``handlers`` (tried in their order when a file is recognised).

    ``source_label`` is what ``audit.load_log.source_path`` records (default: ``location``);
    ``pipelines_dir`` is dlt's working folder (default: ``pipelines_dir_for(database)``);
    ``on_file`` (progress) is called with a file's result each time it is recorded in the audit.

    Raises ``UnknownDistrictError`` or ``PackageError`` before anything is written when the
    district is not in ``registry`` or the drop cannot be opened; ``WarehouseBusy`` when another
    writer keeps the warehouse past the timeout (``loaders.writer_lock``).
    """
    target = get_district(district_id, registry)  # refuse unknown districts before touching the warehouse
    districts = load_registry(registry)
    for key, value in DLT_DEFAULTS.items():
        os.environ.setdefault(key, value)
    database = Path(database).resolve()  # a symlinked warehouse keeps its dlt state beside the real file
    database.parent.mkdir(parents=True, exist_ok=True)

    load_id = new_load_id()
    started_at = utc_now()
    with (
        writer_lock(database),
        open_package(location) as files,
        connect_writer(database) as con,
        load_scratch(database) as scratch,
    ):
        audit = AuditLog(con)
        audit.mark_interrupted()  # loads still 'running' died: we hold the writer lock
        ctx = DropContext(
            con,
            audit,
            district_id,
            load_id,
            started_at,
            scratch,
            Path(pipelines_dir or pipelines_dir_for(database)),
            options,
            LoadReport(load_id, district_id, "running"),
            handlers,
        )
        clear_packages(ctx.pipelines_dir)  # and whatever packages they left
        _report_files(audit, on_file)
        for handler in handlers:
            handler.ensure_tables(con)
        audit.start_load(load_id, district_id, source_label or str(location), started_at)
        fault_point("load_started")
        ctx.files = prepare_texts(files, ctx.scratch)
        for handler in handlers:
            handler.begin(ctx)

        planned = _plan(ctx)
        accepted = _gate(ctx, planned, target, districts)
        landings = _prepare(ctx, accepted)
        fault_point("files_prepared")
        if not _land(ctx, landings):
            return ctx.report
        fault_point("dlt_landed")
        for handler, handler_landings in landings.items():
            for landing in handler_landings:
                verify_landing(ctx, landing)
                handler.verified(ctx, landing)
                ctx.record(landing.result)
                fault_point("file_verified")
        for pipeline in ctx.pipelines:
            discard_packages(pipeline)
        fault_point("packages_discarded")
        _finish(ctx)
        fault_point("load_finished")
        return ctx.report


# --- the stages ----------------------------------------------------------------------------------


def _plan(ctx: DropContext) -> list[PlannedFile]:
    """Recognise every file: by name (a handler may give a named file up once it reads the
    header), else by header. The package's notes become warnings, its refusals (escaping links,
    undecidable text) refused files; results are recorded for the refused ones."""
    planned = []
    for package_file in ctx.files:
        size = package_file.path.stat().st_size if not package_file.refusal else 0
        result = FileResult(package_file.name, package_file.sha256, size)
        ctx.report.files.append(result)
        plan = PlannedFile(package_file, result)
        planned.append(plan)
        for note in package_file.notes:
            result.warn(*note)
        plan.handler = next((h for h in ctx.handlers if h.claims_name(ctx, plan)), None)
        if package_file.refusal:
            result.refuse(package_file.refusal)
            continue
        if plan.handler is not None and plan.handler.keeps_named(ctx, plan):
            continue
        plan.handler = plan.target = result.entity = result.raw_table = None
        reasons = [h.not_named for h in ctx.handlers if h.not_named]
        if not package_file.name.lower().endswith(TEXT_SUFFIXES):
            result.refuse(", and ".join([*reasons, NOT_A_CSV_FILE]))
            continue
        try:
            plan.header = read_header(package_file.path)
        except FileRefused as exc:
            result.refuse(str(exc))
            continue
        reasons = []
        for handler in ctx.handlers:
            reason = handler.claims_header(ctx, plan)
            if reason is None:
                plan.handler = handler
                break
            reasons.append(reason)
        else:
            result.refuse(", and ".join(reasons))
    for handler in ctx.handlers:
        ctx.report.files += handler.unplanned(ctx)
    for result in ctx.report.files:
        if result.status == "refused":
            ctx.record(result)
    return [plan for plan in planned if plan.result.status != "refused"]


def _gate(ctx: DropContext, candidates: list[PlannedFile], target, districts) -> list[PlannedFile]:
    """The district gate over every candidate file; refused files are recorded."""
    evidence = {plan.package_file.name: _evidence(ctx, plan) for plan in candidates}
    decisions = judge_drop(ctx.con, evidence, target, districts)
    drop_schools = set().union(*(e.schools for e in evidence.values()))
    first_load = judge_by_schools(decisions, drop_schools, ctx.known_schools(), target)
    record_decisions(ctx.con, ctx.load_id, ctx.district_id, decisions)
    for plan in candidates:
        decision = decisions[plan.package_file.name]
        if not decision.accepted:
            plan.result.refuse(f"district gate: {decision.reason}")
            ctx.record(plan.result)
    accepted = [plan for plan in candidates if decisions[plan.package_file.name].accepted]
    if first_load and accepted:  # shown once, on the drop's first file
        accepted[0].result.warn("district_first_load", first_load[0])
    return accepted


def _evidence(ctx: DropContext, plan: PlannedFile) -> Evidence:
    """District ids and names the file carries, and its school ids; a read failure is the
    evidence's ``error``."""
    evidence = Evidence()
    try:
        plan.handler.evidence(ctx, plan, evidence)
    except UnicodeDecodeError as exc:
        evidence.error = f"not valid UTF-8 at byte {exc.start} of a line"
    except (csv.Error, FileRefused, duckdb.Error) as exc:
        evidence.error = str(exc).splitlines()[0]
    return evidence


def _prepare(ctx: DropContext, accepted: list[PlannedFile]) -> dict[FormatHandler, list[Landing]]:
    """Each handler's files in its order: held back, refused, skipped or prepared; every result
    is recorded as it is decided."""
    landings: dict[FormatHandler, list[Landing]] = {}
    for handler in ctx.handlers:
        prepared = landings.setdefault(handler, [])
        for plan in handler.order([p for p in accepted if p.handler is handler]):
            held_back = ctx.options.hold_back_dependents and handler.held_back(ctx, plan)
            if held_back:
                plan.result.refuse(held_back)
                ctx.record(plan.result)
                continue
            try:
                landing = handler.prepare(ctx, plan)
            except FileRefused as exc:
                plan.result.refuse(str(exc))
                landing = None
            if landing is not None:
                prepared.append(landing)
            ctx.record(plan.result)
    return landings


def _land(ctx: DropContext, landings: dict[FormatHandler, list[Landing]]) -> bool:
    """Every handler's landings through dlt; False (the load failed and is recorded) on any error."""
    try:
        for handler, handler_landings in landings.items():
            if handler_landings:
                load_ids = handler.land(ctx, handler_landings)
                ctx.dlt_load_id = ctx.dlt_load_id or next(iter(load_ids), None)
    except Exception as exc:  # dlt failures are reported per file, never swallowed
        message = f"landing failed: {type(exc).__name__}: {str(exc).splitlines()[0]}"
        for landing in (landing for handler_landings in landings.values() for landing in handler_landings):
            landing.result.status, landing.result.error_text = "failed", message
            landing.result.finished_at = utc_now()
            ctx.record(landing.result)
        ctx.report.status, ctx.report.error_text = "failed", message
        ctx.audit.finish_load(
            ctx.load_id, "failed", ctx.report.files, ctx.dlt_load_id, message, ctx.report.oneroster_version
        )
        for pipeline in ctx.pipelines:
            discard_packages(pipeline)
        return False
    return True


def _finish(ctx: DropContext) -> None:
    report = ctx.report
    problems = any(f.status in ("refused", "failed") or f.rows_quarantined for f in report.files)
    report.status = "partial" if problems else "succeeded"
    if all(f.status == "refused" for f in report.files):  # nothing landed: an empty or refused drop
        report.status = "refused"
        report.error_text = "every file was refused" if report.files else "the drop holds no files"
    ctx.audit.finish_load(
        ctx.load_id, report.status, report.files, ctx.dlt_load_id, report.error_text, report.oneroster_version
    )


def _report_files(audit: AuditLog, on_file: Callable[[FileResult], None] | None) -> None:
    """Progress hook: ``on_file`` sees every file result the audit records."""
    if on_file is None:
        return
    record_file = audit.record_file

    def record_and_report(load_id: str, district_id: str, result: FileResult) -> None:
        record_file(load_id, district_id, result)
        on_file(result)

    audit.record_file = record_and_report
