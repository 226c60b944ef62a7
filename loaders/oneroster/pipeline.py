"""Land a OneRoster(+) drop (folder or zip) into ``raw_oneroster`` with dlt, file by file.

Flow per file: match its name to the field table -> read its mode from the manifest (bulk,
delta, absent) -> skip it if this exact file already landed -> parse with DuckDB (bad rows
quarantined) -> for a bulk file, work out which active records it no longer contains and refuse
it when that share is implausibly large (a truncated export) -> hand the landing to dlt: the
file's rows as a SQL model (``INSERT ... SELECT`` from DuckDB's CSV reader, run by dlt's duckdb
destination, so rows are written once and never held in memory) plus one ``bulk_tombstone``
event per record that disappeared.
Every decision is written to the audit tables; a refused file never stops the others.

dlt keeps its working folder beside the warehouse, one per warehouse file
(``<folder>/.<file name>.dlt``); completed load packages are deleted once the landed rows are
counted, so no copy of the rows stays outside the warehouse.
"""

from __future__ import annotations

import csv
import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import dlt
import duckdb
import numpy as np
import pyarrow as pa

from loaders.audit import AuditLog, FileResult, utc_now
from loaders.district_gate import (
    Evidence,
    distinct_values,
    is_district_org_type,
    judge_by_schools,
    judge_drop,
    record_decisions,
)
from loaders.dlt_pipelines import clear_packages, discard_packages, new_pipeline, pipelines_dir_for
from loaders.drop_checks import dependency_rank, held_back_reason, missing_from_manifest, prepare_texts
from loaders.fault_points import fault_point
from loaders.mapped.formats import FormatCatalog, HeaderMatch, detect_format, header_share, load_catalog
from loaders.mapped.pipeline import (
    MappedLanding,
    ensure_mapped_raw_tables,
    keep_quarantined_current,
    known_schools,
    prepare_mapped_file,
    run_dlt_mapped,
    verify_mapped,
)
from loaders.oneroster.csv_reader import (
    PRIMARY_KEY,
    CsvScan,
    FileRefused,
    Lineage,
    map_header,
    raw_table_ddl,
    read_header,
    reject_tables,
    scan_oneroster_csv,
    table_columns,
    with_lineage,
)
from loaders.oneroster.settings import (
    BULK_TOMBSTONE,
    EXTRAS_COLUMN,
    FILE_ROW,
    LINEAGE_COLUMNS,
    FileSpec,
    file_specs,
    spec_for_file_name,
)
from loaders.package import PackageFile, open_package
from loaders.registry import REGISTRY_PATH, get_district, load_registry
from loaders.writer_lock import connect_writer, writer_lock

RAW_SCHEMA = "raw_oneroster"
PIPELINE_NAME = "rollcall_oneroster"
DEFAULT_MAX_TOMBSTONE_SHARE = 0.10
FILE_MODES = ("bulk", "delta", "absent")

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
# DuckDB threads while dlt runs the landing models. Numbering rows in file order makes the
# insert one ordered stream; DuckDB's parallel order-preserving insert then spends about twice
# the CPU of a single thread on the same rows (docs/benchmarks.md).
LANDING_THREADS = 1

# The current state of one entity for one district, from its raw event history: the latest file
# row per record decides, unless a newer bulk_tombstone event removed the record.
ACTIVE_RECORDS_SQL = """
with events as (
    select
        trim(sourced_id) as sourced_id,
        _loaded_at,
        _row_number,
        _change_kind = '{tombstone}'
            or coalesce(lower(trim(status)) in ('tobedeleted', 'inactive'), false) as is_removed
    from {schema}.{table}
    where _district_id = $district_id and nullif(trim(sourced_id), '') is not null
),
ranked as (
    select
        *,
        row_number() over (partition by sourced_id order by _loaded_at desc, _row_number desc) as event_rank
    from events
)
select sourced_id from ranked where event_rank = 1 and not is_removed
"""


@dataclass
class LoadReport:
    """Outcome of one ``rollcall load``."""

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


@dataclass
class _Landing:
    """A scanned file waiting for dlt, with the tombstone events its bulk mode implies."""

    result: FileResult
    spec: FileSpec
    scan: CsvScan
    lineage: Lineage
    tombstones: pa.Table | None = None


def new_load_id() -> str:
    return f"{utc_now():%Y%m%dT%H%M%S%fZ}-{uuid.uuid4().hex[:6]}"


def read_manifest(files: list[PackageFile]) -> dict[str, str]:
    """``file.users`` -> ``bulk`` etc. from manifest.csv, keys and values lower-cased."""
    for package_file in files:
        if Path(package_file.name).name.lower() == "manifest.csv":
            try:
                with package_file.path.open(newline="", encoding="utf-8-sig") as handle:
                    return {
                        row[0].strip().lower(): row[1].strip().lower() for row in csv.reader(handle) if len(row) >= 2
                    }
            except (UnicodeDecodeError, csv.Error):
                return {}
    return {}


def oneroster_version(manifest: dict[str, str], files: list[PackageFile]) -> str:
    """The OneRoster version whose required columns apply: the manifest's, else 1.2 when the
    drop carries 1.2-only files, else 1.0 (the spec's reading of a drop without a manifest)."""
    stated = manifest.get("oneroster.version", "")
    for version in ("1.2", "1.1", "1.0"):
        if stated.startswith(version):
            return version
    names = {Path(f.name).name.lower() for f in files}
    if names & {"roles.csv", "userprofiles.csv"}:
        return "1.2"
    return "1.1" if stated else "1.0"


def ensure_raw_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create every raw table of the field table that does not exist yet (empty), and add any
    lineage column a table created by an older rollcall lacks."""
    con.execute(f"create schema if not exists {RAW_SCHEMA}")
    present = table_columns(con, RAW_SCHEMA)
    for spec in file_specs().values():
        if spec.table not in present:
            con.execute(raw_table_ddl(RAW_SCHEMA, spec))
            continue
        for column in (*(f.column for f in spec.landed_fields), EXTRAS_COLUMN, *LINEAGE_COLUMNS):
            if column in present[spec.table]:
                continue
            column_type = {"_row_number": "bigint", "_loaded_at": "timestamp with time zone"}.get(column, "varchar")
            con.execute(f'alter table {RAW_SCHEMA}.{spec.table} add column if not exists "{column}" {column_type}')


def _file_mode(manifest: dict[str, str], spec: FileSpec, result: FileResult) -> str | None:
    """The manifest's mode for the file, or None when it has to be inferred from the rows."""
    if spec.name == "manifest":
        return None
    stated = manifest.get(f"file.{spec.name.lower()}")
    if stated in FILE_MODES:
        return stated
    if stated:
        result.warn("unknown_file_mode", f"manifest says {stated!r} for {spec.name}; mode inferred")
    elif manifest:
        result.warn("file_not_in_manifest", f"manifest does not list file.{spec.name}; mode inferred")
    return None


def _tombstone_events(
    con: duckdb.DuckDBPyConnection,
    spec: FileSpec,
    scan: CsvScan,
    lineage: Lineage,
    result: FileResult,
    max_share: float,
    force: bool,
) -> pa.Table | None:
    """For a bulk file: tombstone events for the district's active records the file lacks.

    Refuses the file (``FileRefused``) when they exceed ``max_share`` of the active records,
    unless ``force``: a truncated export must not wipe a district's roster.
    """
    active_sql = ACTIVE_RECORDS_SQL.format(schema=RAW_SCHEMA, table=spec.table, tombstone=BULK_TOMBSTONE)
    active = con.execute(f"select count(*) from ({active_sql})", {"district_id": lineage.district_id}).fetchone()[0]
    if not active:  # the first bulk file of the entity for this district
        return None
    # the file's records, read again from the file; unless the file is plain ASCII, the hash
    # reads every landed column so that DuckDB skips exactly the rows the scan quarantined
    every_column = ""
    if not scan.ascii_only:
        every_column = "and hash(" + ", ".join(f'parsed."{c}"' for c in scan.columns) + ") is not null"
    rejects = reject_tables()
    try:
        missing = [
            row[0]
            for row in con.execute(
                f"""select sourced_id from ({active_sql}) as active
                    where sourced_id not in (
                        select trim(parsed.sourced_id) from {scan.parsed_sql(rejects=rejects)}
                        where parsed.sourced_id is not null {every_column}
                    )
                    order by sourced_id""",
                {"district_id": lineage.district_id},
            ).fetchall()
        ]
    except duckdb.Error as exc:
        raise FileRefused(f"cannot be parsed as CSV: {str(exc).splitlines()[0]}") from exc
    finally:
        con.execute(f"drop table if exists {rejects[0]}; drop table if exists {rejects[1]}")
    withheld = [record for record in missing if record in scan.quarantined_ids]
    if withheld:
        result.warn(
            "tombstone_withheld",
            f"{len(withheld):,} record(s) kept current: their rows in this file were quarantined, not removed",
            len(withheld),
        )
        missing = [record for record in missing if record not in scan.quarantined_ids]
    if not missing:
        return None
    share = len(missing) / active
    if share > max_share and not force:
        raise FileRefused(
            f"bulk file would remove {len(missing):,} of {active:,} active {spec.name} records ({share:.1%}), "
            f"more than the {max_share:.0%} limit — a truncated export? Re-send the complete file, "
            "or load with --force if the removals are real"
        )
    if share > max_share:
        result.warn(
            "mass_tombstone_forced", f"{len(missing):,} of {active:,} records removed ({share:.1%}) with --force"
        )
    columns = {f.column: pa.nulls(len(missing), pa.string()) for f in spec.landed_fields}
    columns["sourced_id"] = pa.array(missing, type=pa.string())
    columns[EXTRAS_COLUMN] = pa.nulls(len(missing), pa.string())
    events = with_lineage(
        pa.table(columns),
        -np.arange(1, len(missing) + 1, dtype=np.int64),
        lineage,
        "bulk",
        BULK_TOMBSTONE,
    )
    result.rows_tombstoned = len(missing)
    return events


def _already_landed(con: duckdb.DuckDBPyConnection, district_id: str, entity: str, file_sha256: str) -> str | None:
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


@dataclass
class _Planned:
    """A file of the drop with what it was recognised as (OneRoster spec or mapped format)."""

    package_file: PackageFile
    result: FileResult
    spec: FileSpec | None = None
    match: HeaderMatch | None = None
    header: list[str] | None = None


def load_package(
    location: str | Path,
    district_id: str,
    database: str | Path,
    *,
    pipelines_dir: str | Path | None = None,
    max_tombstone_share: float = DEFAULT_MAX_TOMBSTONE_SHARE,
    force: bool = False,
    registry: Path = REGISTRY_PATH,
    source_label: str | None = None,
    mapping: Path | None = None,
    on_file: Callable[[FileResult], None] | None = None,
    manifest_complete: bool = True,
    hold_back_dependents: bool = True,
) -> LoadReport:
    """Load a folder/zip/CSV drop for ``district_id`` into the DuckDB file ``database``.

    OneRoster(+) files are recognised by name; any other CSV by its header against the layouts
    in ``config/formats`` (plus the district's ``mapping`` override file). Every file passes the
    district gate (``loaders.district_gate``) before anything of it lands.

    ``source_label`` is what ``audit.load_log.source_path`` records (default: ``location``); pull
    sources that materialise a package in a temporary folder pass the URL they pulled from.

    ``pipelines_dir`` is dlt's working folder (default: ``pipelines_dir_for(database)``).
    ``on_file`` (progress) is called with a file's result each time it is recorded in the audit.

    ``manifest_complete``: the drop holds every file its manifest lists as bulk or delta, and a
    missing one is reported as refused; pulls of a part of a drop pass False.
    ``hold_back_dependents``: files whose references depend on a refused file are held back
    (refused with the reason); `rollcall check` passes False to report every file's own problems.

    Raises ``UnknownDistrictError``, ``PackageError`` or ``FormatConfigError`` before anything is
    written when the district is not in ``registry``, the drop cannot be opened or the mapping
    file is malformed; ``WarehouseBusy`` when another writer keeps the warehouse past the
    timeout (``loaders.writer_lock``).
    """
    target = get_district(district_id, registry)  # refuse unknown districts before touching the warehouse
    districts = load_registry(registry)
    catalog = load_catalog(mapping)
    for key, value in DLT_DEFAULTS.items():
        os.environ.setdefault(key, value)
    database = Path(database).resolve()  # a symlinked warehouse keeps its dlt state beside the real file
    database.parent.mkdir(parents=True, exist_ok=True)
    pipelines_dir = Path(pipelines_dir or pipelines_dir_for(database))

    load_id = new_load_id()
    started_at = utc_now()
    with (
        writer_lock(database),
        open_package(location) as files,
        connect_writer(database) as con,
        tempfile.TemporaryDirectory(prefix="rollcall-load-") as scratch,
    ):
        audit = AuditLog(con)
        audit.mark_interrupted()  # loads still 'running' died: we hold the writer lock
        clear_packages(pipelines_dir)  # and whatever packages they left
        _report_files(audit, on_file)
        ensure_raw_tables(con)
        ensure_mapped_raw_tables(con, catalog)
        audit.start_load(load_id, district_id, source_label or str(location), started_at)
        fault_point("load_started")
        files = prepare_texts(files, Path(scratch))
        manifest = read_manifest(files)
        version = oneroster_version(manifest, files)
        report = LoadReport(load_id, district_id, "running", version)

        planned = _plan_files(files, catalog, report, version)
        report.files += missing_from_manifest(manifest, files) if manifest_complete else []
        for result in report.files:
            if result.status == "refused":
                audit.record_file(load_id, district_id, result)
        candidates = [plan for plan in planned if plan.result.status != "refused"]
        evidence = {plan.package_file.name: _evidence(con, plan) for plan in candidates}
        decisions = judge_drop(con, evidence, target, districts)
        drop_schools = set().union(*(e.schools for e in evidence.values()))
        first_load = judge_by_schools(decisions, drop_schools, known_schools(con, district_id, catalog, []), target)
        record_decisions(con, load_id, district_id, decisions)
        for plan in candidates:
            decision = decisions[plan.package_file.name]
            if not decision.accepted:
                plan.result.refuse(f"district gate: {decision.reason}")
                audit.record_file(load_id, district_id, plan.result)
        accepted = [plan for plan in candidates if decisions[plan.package_file.name].accepted]
        if first_load and accepted:  # shown once, on the drop's first file
            accepted[0].result.warn("district_first_load", first_load[0])

        seen_entities: dict[str, str] = {}
        landings: list[_Landing] = []
        for plan in sorted((p for p in accepted if p.spec is not None), key=lambda p: dependency_rank(p.spec.name)):
            held_back = hold_back_dependents and held_back_reason(plan.spec.name, _refused_entities(report))
            if held_back:
                plan.result.refuse(held_back)
                audit.record_file(load_id, district_id, plan.result)
                continue
            try:
                landing = _prepare_file(
                    con,
                    plan.package_file,
                    plan.result,
                    manifest,
                    version,
                    seen_entities,
                    district_id,
                    load_id,
                    started_at,
                    max_tombstone_share,
                    force,
                    Path(scratch),
                )
            except FileRefused as exc:
                plan.result.refuse(str(exc))
                landing = None
            if landing is not None:
                landings.append(landing)
            audit.record_file(load_id, district_id, plan.result)

        mapped: list[MappedLanding] = []
        # formats that point at schools go last: this drop's student and staff files define them
        mapped_plans = sorted(
            (p for p in accepted if p.match is not None),
            key=lambda p: any(c.references for c in p.match.format.columns),
        )
        for plan in mapped_plans:
            try:
                needs_schools = any(c.references == "school" for c in plan.match.format.columns)
                schools = known_schools(con, district_id, catalog, mapped) if needs_schools else None
                landing = prepare_mapped_file(
                    con,
                    plan.package_file,
                    plan.header,
                    plan.match,
                    plan.result,
                    district_id,
                    load_id,
                    started_at,
                    schools,
                    _already_landed,
                )
            except FileRefused as exc:
                plan.result.refuse(str(exc))
                landing = None
            if landing is not None:
                mapped.append(landing)
            audit.record_file(load_id, district_id, plan.result)

        fault_point("files_prepared")
        dlt_load_id = None
        pipelines: list[dlt.Pipeline] = []
        try:
            if landings:
                dlt_load_id = _run_dlt(con, landings, pipelines_dir, Path(scratch), pipelines)
            if mapped:
                mapped_load_ids = run_dlt_mapped(con, mapped, pipelines_dir, pipelines)
                dlt_load_id = dlt_load_id or next(iter(mapped_load_ids), None)
        except Exception as exc:  # dlt failures are reported per file, never swallowed
            message = f"landing failed: {type(exc).__name__}: {str(exc).splitlines()[0]}"
            for result in [landing.result for landing in landings] + [landing.result for landing in mapped]:
                result.status, result.error_text = "failed", message
                result.finished_at = utc_now()
                audit.record_file(load_id, district_id, result)
            report.status, report.error_text = "failed", message
            audit.finish_load(load_id, "failed", report.files, dlt_load_id, message, version)
            for pipeline in pipelines:
                discard_packages(pipeline)
            return report

        fault_point("dlt_landed")
        for landing in landings:
            _verify_landed(con, landing, load_id)
            audit.record_file(load_id, district_id, landing.result)
            fault_point("file_verified")
        for landing in mapped:
            verify_mapped(con, landing, load_id)
            keep_quarantined_current(con, landing, district_id, load_id, started_at)
            audit.record_file(load_id, district_id, landing.result)
        for pipeline in pipelines:
            discard_packages(pipeline)
        fault_point("packages_discarded")

        problems = any(f.status in ("refused", "failed") or f.rows_quarantined for f in report.files)
        report.status = "partial" if problems else "succeeded"
        if all(f.status == "refused" for f in report.files):  # nothing landed: an empty or refused drop
            report.status = "refused"
            report.error_text = "every file was refused" if report.files else "the drop holds no files"
        audit.finish_load(load_id, report.status, report.files, dlt_load_id, report.error_text, version)
        fault_point("load_finished")
        return report


def _refused_entities(report: LoadReport) -> dict[str, FileResult]:
    """OneRoster entities of the drop whose only files were refused, by lower-case name (a file
    the manifest lists but the drop lacks holds nothing back: the previous state stays)."""
    refused = {f.entity.lower(): f for f in report.files if f.status == "refused" and f.entity and f.file_sha256}
    for f in report.files:
        if f.status != "refused" and f.entity:
            refused.pop(f.entity.lower(), None)
    return refused


def _plan_files(files: list[PackageFile], catalog: FormatCatalog, report: LoadReport, version: str) -> list[_Planned]:
    """Recognise every file: a OneRoster(+) name, else a mapped layout by its header. A file with
    a OneRoster name whose header is not OneRoster's but fits a mapped layout (an SIS export
    called ``enrollments.csv``) is read as that layout. The package's notes become warnings, its
    refusals (escaping links, undecidable text) refused files."""
    planned = []
    for package_file in files:
        size = package_file.path.stat().st_size if not package_file.refusal else 0
        result = FileResult(package_file.name, package_file.sha256, size)
        report.files.append(result)
        plan = _Planned(package_file, result)
        planned.append(plan)
        for code, detail in package_file.notes:
            result.warn(code, detail)
        plan.spec = spec_for_file_name(package_file.name)
        if plan.spec is not None:
            result.entity, result.raw_table = plan.spec.name, plan.spec.table
        if package_file.refusal:
            result.refuse(package_file.refusal)
            continue
        if plan.spec is not None and not _mapped_instead(plan, catalog, version):
            continue
        result.entity = result.raw_table = None
        plan.spec = None
        if not package_file.name.lower().endswith((".csv", ".txt")):
            result.refuse(
                "not a OneRoster file name, and not a CSV file (see docs/oneroster-plus.md, docs/sis-formats.md)"
            )
            continue
        try:
            plan.header = read_header(package_file.path)
        except FileRefused as exc:
            result.refuse(str(exc))
            continue
        plan.match, why = detect_format(catalog, package_file.name, plan.header)
        if plan.match is None:
            result.refuse(f"not a OneRoster file name, and {why}")
        else:
            result.entity = plan.match.format.name
            result.raw_table = plan.match.format.qualified_table
    return planned


def _mapped_instead(plan: _Planned, catalog: FormatCatalog, version: str) -> bool:
    """True when a OneRoster-named file lacks OneRoster's required columns but fits a mapped
    layout better than OneRoster's own field names (recorded as a ``read_as_layout`` warning).
    A OneRoster header with a fault (a duplicated column) stays OneRoster, and is refused."""
    try:
        header = read_header(plan.package_file.path)
    except FileRefused:
        return False
    try:
        map_header(header, plan.spec, FileResult(plan.package_file.name, "", 0), version)
        return False
    except FileRefused:
        match, _ = detect_format(catalog, plan.package_file.name, header)
    if match is None:
        return False
    known = plan.spec.lookup()
    oneroster_share = sum(1 for h in header if h.strip().lower() in known) / max(len(header), 1)
    if oneroster_share >= header_share(match, header):
        return False
    plan.result.warn(
        "read_as_layout",
        f"named like OneRoster {plan.spec.name}.csv, but its header is the {match.format.name} layout "
        f"({len(match.columns)}/{len(match.format.columns)} columns)",
    )
    return True


def _evidence(con: duckdb.DuckDBPyConnection, plan: _Planned) -> Evidence:
    """District ids and names the file carries (OneRoster district orgs; a layout's district
    columns), and its school ids; a read failure is the evidence's ``error``."""
    evidence = Evidence()
    try:
        if plan.spec is not None:
            _oneroster_evidence(con, plan, evidence)
        else:
            _mapped_evidence(con, plan, evidence)
    except UnicodeDecodeError as exc:
        evidence.error = f"not valid UTF-8 at byte {exc.start} of a line"
    except (csv.Error, FileRefused, duckdb.Error) as exc:
        evidence.error = str(exc).splitlines()[0]
    return evidence


def _oneroster_evidence(con: duckdb.DuckDBPyConnection, plan: _Planned, evidence: Evidence) -> None:
    if plan.spec.name in ("classes", "enrollments"):  # school ids only: the parser refuses an unreadable file
        try:
            header = [h.strip().lower() for h in read_header(plan.package_file.path)]
            if "schoolsourcedid" in header:
                position = header.index("schoolsourcedid")
                evidence.schools.update(*distinct_values(con, plan.package_file.path, [position], len(header)))
        except (FileRefused, duckdb.Error):
            pass
    if plan.spec.name != "orgs":
        return
    with plan.package_file.path.open(newline="", encoding="utf-8-sig") as handle:
        for row in csv.DictReader(handle):
            lowered = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items() if isinstance(v, str)}
            org_type = lowered.get("type", "")
            if org_type.lower() == "school":
                evidence.schools.update(v for v in (lowered.get("sourcedid"), lowered.get("identifier")) if v)
            if not is_district_org_type(org_type):
                continue
            if lowered.get("identifier"):
                evidence.ids.add(lowered["identifier"])
            if lowered.get("sourcedid"):
                evidence.soft_ids.add(lowered["sourcedid"])
            if lowered.get("name"):
                evidence.names.add(lowered["name"])


def _mapped_evidence(con: duckdb.DuckDBPyConnection, plan: _Planned, evidence: Evidence) -> None:
    fmt, match = plan.match.format, plan.match
    id_positions = [match.columns[c] for c in fmt.district_id_columns if c in match.columns]
    name_positions = [match.columns[c] for c in fmt.district_name_columns if c in match.columns]
    school_positions = [
        position
        for column, position in match.columns.items()
        if any(c.name == column and (c.name == "school_id" or c.references == "school") for c in fmt.columns)
    ]
    width = len(plan.header or [])
    for values in distinct_values(con, plan.package_file.path, id_positions, width):
        evidence.ids.update(values)
    for values in distinct_values(con, plan.package_file.path, name_positions, width):
        evidence.names.update(values)
    for values in distinct_values(con, plan.package_file.path, school_positions, width):
        evidence.schools.update(values)


def _prepare_file(
    con: duckdb.DuckDBPyConnection,
    package_file: PackageFile,
    result: FileResult,
    manifest: dict[str, str],
    version: str,
    seen_entities: dict[str, str],
    district_id: str,
    load_id: str,
    started_at,
    max_tombstone_share: float,
    force: bool,
    scratch: Path,
) -> _Landing | None:
    """Decide what happens to one file; returns what to land, or None (skipped). Raises FileRefused."""
    spec = spec_for_file_name(package_file.name)
    assert spec is not None  # recognised in _plan_files
    result.entity, result.raw_table = spec.name, spec.table
    if spec.name in seen_entities:
        raise FileRefused(f"a second {spec.name} file in one drop (first: {seen_entities[spec.name]})")
    seen_entities[spec.name] = package_file.name
    if not manifest and spec.name != "manifest":
        result.warn("no_manifest", "no manifest.csv in the drop; file mode inferred from the rows")
    mode = _file_mode(manifest, spec, result)
    if mode == "absent":
        result.mode, result.status, result.finished_at = "absent", "skipped", utc_now()
        result.error_text = f"manifest marks {spec.name} as absent: the file is not applied"
        return None
    previous = _already_landed(con, district_id, spec.name, package_file.sha256)
    if previous:
        result.mode, result.status, result.finished_at = mode, "skipped", utc_now()
        result.error_text = f"identical file already loaded by load {previous}"
        return None
    _drop_unverified_attempts(con, spec, district_id, package_file.sha256)
    lineage = Lineage(district_id, package_file.name, package_file.sha256, load_id, started_at, mode)
    scan = scan_oneroster_csv(con, package_file.path, spec, lineage, result, version, scratch)
    tombstones = None
    if result.mode == "bulk" and spec.name != "manifest":
        tombstones = _tombstone_events(con, spec, scan, lineage, result, max_tombstone_share, force)
    con.execute(  # leftovers of an earlier attempt at this file that failed mid-way
        f"delete from {RAW_SCHEMA}.{spec.table} where _district_id = ? and _file_sha256 = ?",
        [district_id, package_file.sha256],
    )
    return _Landing(result, spec, scan, lineage, tombstones)


def _drop_unverified_attempts(con: duckdb.DuckDBPyConnection, spec: FileSpec, district_id: str, sha256: str) -> None:
    """Delete what earlier attempts at this file that were never verified (a failed landing)
    left: before the bulk tombstones are worked out, so that they start from the clean history."""
    attempts = con.execute(
        """select count(*) from audit.file_log where district_id = ? and file_sha256 = ?
           and status in ('failed', 'interrupted', 'running')""",
        [district_id, sha256],
    ).fetchone()[0]
    if not attempts:  # the usual case: no scan of the raw table
        return
    con.execute(
        f"""delete from {RAW_SCHEMA}.{spec.table}
            where _district_id = $district and _file_sha256 = $sha and _load_id not in (
                select load_id from audit.file_log
                where district_id = $district and file_sha256 = $sha and status = 'loaded'
            )""",
        {"district": district_id, "sha": sha256},
    )


def _verify_landed(con: duckdb.DuckDBPyConnection, landing: _Landing, load_id: str) -> None:
    """Count the file's rows back from the raw table; rows read must equal landed + quarantined."""
    result = landing.result
    landed = con.execute(
        f"""select count(*) from {RAW_SCHEMA}.{landing.spec.table}
            where _load_id = ? and _file_sha256 = ? and _change_kind = '{FILE_ROW}'""",
        [load_id, result.file_sha256],
    ).fetchone()[0]
    result.rows_landed, result.finished_at = landed, utc_now()
    if result.rows_read == landed + result.rows_quarantined:
        result.status = "loaded"
    else:
        result.status = "failed"
        result.error_text = (
            f"row accounting mismatch: read {result.rows_read}, landed {landed}, quarantined {result.rows_quarantined}"
        )


def _dlt_columns(spec: FileSpec) -> dict[str, dict]:
    """dlt column hints of a raw table (a SQL model carries no types of its own)."""
    columns: dict[str, dict] = {
        column: {"data_type": "text", "nullable": column not in PRIMARY_KEY}
        for column in (*(f.column for f in spec.landed_fields), EXTRAS_COLUMN, *LINEAGE_COLUMNS)
    }
    columns["_row_number"] = {"data_type": "bigint", "nullable": False}
    columns["_loaded_at"] = {"data_type": "timestamp", "timezone": True, "nullable": True}
    return columns


@contextmanager
def _duckdb_threads(con: duckdb.DuckDBPyConnection, threads: int) -> Iterator[None]:
    previous = con.execute("select current_setting('threads')").fetchone()[0]
    con.execute(f"set threads = {threads}")
    try:
        yield
    finally:
        con.execute(f"set threads = {previous}")


def _run_dlt(
    con: duckdb.DuckDBPyConnection,
    landings: list[_Landing],
    pipelines_dir: Path,
    scratch: Path,
    pipelines: list[dlt.Pipeline],
) -> str | None:
    """Land the scanned files with one dlt run; returns dlt's load id.

    Each file is one SQL model imported into the load package: dlt's duckdb destination runs it
    as ``INSERT INTO raw_oneroster.<table> SELECT ... FROM read_csv(...)``. Tombstone events are
    small arrow tables."""
    items: dict[str, list] = {}
    specs: dict[str, FileSpec] = {}
    for number, landing in enumerate(landings):
        model = scratch / f"{landing.spec.table}.{number}.model"
        model.write_text(f"dialect: duckdb\n{landing.scan.landing_query(landing.lineage)}\n", encoding="utf-8")
        table_items = items.setdefault(landing.spec.table, [])
        table_items.append(dlt.mark.with_file_import(str(model), "model", landing.scan.accepted))
        specs[landing.spec.table] = landing.spec
        if landing.tombstones is not None:
            table_items.append(landing.tombstones)
    resources = [
        dlt.resource(
            table_items,
            name=name,
            table_name=name,
            write_disposition="append",
            primary_key=PRIMARY_KEY,
            columns=_dlt_columns(specs[name]),
        )
        for name, table_items in items.items()
    ]
    pipeline = new_pipeline(con, PIPELINE_NAME, pipelines_dir, RAW_SCHEMA)
    pipelines.append(pipeline)
    with _duckdb_threads(con, LANDING_THREADS):
        info = pipeline.run(resources)
    info.raise_on_failed_jobs()
    return info.loads_ids[-1] if info.loads_ids else None


def _report_files(audit: AuditLog, on_file: Callable[[FileResult], None] | None) -> None:
    """Progress hook: ``on_file`` sees every file result the audit records."""
    if on_file is None:
        return
    record_file = audit.record_file

    def record_and_report(load_id: str, district_id: str, result: FileResult) -> None:
        record_file(load_id, district_id, result)
        on_file(result)

    audit.record_file = record_and_report
