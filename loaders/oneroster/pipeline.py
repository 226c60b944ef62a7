"""OneRoster(+) files: the spine's handler for them, and ``load_package``, which loads a drop
(folder, zip or CSV) through the spine with the OneRoster and mapped-layout handlers.

Per OneRoster file: match its name to the field table -> read its mode from the manifest (bulk,
delta, absent) -> skip it if this exact file already landed -> parse with DuckDB (bad rows
quarantined) -> for a bulk file, work out which active records it no longer contains and refuse
it when that share is implausibly large (a truncated export) -> hand the landing to dlt: the
file's rows as a SQL model (``INSERT ... SELECT`` from DuckDB's CSV reader, run by dlt's duckdb
destination, so rows are written once and never held in memory) plus one ``bulk_tombstone``
event per record that disappeared. The stages around it (plan, gate, verify, audit) are the
spine's (``loaders.spine``).

dlt keeps its working folder beside the warehouse, one per warehouse file
(``<folder>/.<file name>.dlt``); completed load packages are deleted once the landed rows are
counted, so no copy of the rows stays outside the warehouse.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import dlt
import duckdb
import numpy as np
import pyarrow as pa

from loaders.audit import FileResult, utc_now
from loaders.district_gate import Evidence, distinct_values, is_district_org_type
from loaders.dlt_pipelines import new_pipeline
from loaders.drop_checks import dependency_rank, held_back_reason, missing_from_manifest
from loaders.mapped.formats import FormatCatalog, detect_format, header_share, load_catalog
from loaders.mapped.pipeline import MappedHandler
from loaders.oneroster.csv_reader import (
    CsvScan,
    FileRefused,
    Lineage,
    map_header,
    raw_table_ddl,
    read_header,
    reject_tables,
    scan_oneroster_csv,
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
from loaders.package import PackageFile
from loaders.raw_tables import PRIMARY_KEY, table_columns
from loaders.registry import REGISTRY_PATH
from loaders.spine import (  # LoadReport and the default share: where the loader's callers have found them
    DEFAULT_MAX_TOMBSTONE_SHARE,
    DropContext,
    FormatHandler,
    Landing,
    LoadOptions,
    LoadReport,
    PlannedFile,
    delete_leftovers,
    load_drop,
    skip_if_landed,
)

RAW_SCHEMA = "raw_oneroster"
PIPELINE_NAME = "rollcall_oneroster"
FILE_MODES = ("bulk", "delta", "absent")

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
    district gate (``loaders.district_gate``) before anything of it lands. The stages are the
    spine's (``loaders.spine.load_drop``), which documents ``pipelines_dir``, ``source_label``
    and ``on_file``; the options are ``loaders.spine.LoadOptions``.

    Raises ``UnknownDistrictError``, ``PackageError`` or ``FormatConfigError`` before anything is
    written when the district is not in ``registry``, the drop cannot be opened or the mapping
    file is malformed; ``WarehouseBusy`` when another writer keeps the warehouse past the
    timeout (``loaders.writer_lock``).
    """
    catalog = load_catalog(mapping)
    options = LoadOptions(max_tombstone_share, force, manifest_complete, hold_back_dependents)
    return load_drop(
        location,
        district_id,
        database,
        [OneRosterHandler(catalog), MappedHandler(catalog)],
        options=options,
        pipelines_dir=pipelines_dir,
        registry=registry,
        source_label=source_label,
        on_file=on_file,
    )


@dataclass
class _Landing(Landing):
    """A scanned OneRoster file waiting for dlt, with the tombstone events its bulk mode implies."""

    spec: FileSpec | None = None
    scan: CsvScan | None = None
    lineage: Lineage | None = None
    tombstones: pa.Table | None = None


class OneRosterHandler(FormatHandler):
    """OneRoster 1.0-1.2 and OneRoster+ files, recognised by name (``seeds/oneroster_fields.csv``)."""

    name = "oneroster"
    not_named = "not a OneRoster file name"

    def __init__(self, catalog: FormatCatalog) -> None:
        self.catalog = catalog  # a OneRoster-named file may be a mapped layout (_mapped_instead)
        self.manifest: dict[str, str] = {}
        self.version = "1.1"
        self.seen_entities: dict[str, str] = {}

    def ensure_tables(self, con: duckdb.DuckDBPyConnection) -> None:
        ensure_raw_tables(con)

    def begin(self, ctx: DropContext) -> None:
        self.manifest = read_manifest(ctx.files)
        self.version = ctx.report.oneroster_version = oneroster_version(self.manifest, ctx.files)

    def claims_name(self, ctx: DropContext, plan: PlannedFile) -> bool:
        plan.target = spec_for_file_name(plan.package_file.name)
        if plan.target is None:
            return False
        plan.result.entity, plan.result.raw_table = plan.target.name, plan.target.table
        return True

    def keeps_named(self, ctx: DropContext, plan: PlannedFile) -> bool:
        return not _mapped_instead(plan, self.catalog, self.version)

    def unplanned(self, ctx: DropContext) -> list[FileResult]:
        return missing_from_manifest(self.manifest, ctx.files) if ctx.options.manifest_complete else []

    def evidence(self, ctx: DropContext, plan: PlannedFile, evidence: Evidence) -> None:
        _oneroster_evidence(ctx.con, plan, evidence)

    def schools(self, ctx: DropContext) -> set[str]:
        """School ids of the district's OneRoster orgs (any org that is not the district)."""
        rows = ctx.con.execute(
            f"""select distinct trim(value) from (
                   select sourced_id as value from {RAW_SCHEMA}.orgs
                   where _district_id = $district and type is distinct from 'district'
                   union all
                   select identifier from {RAW_SCHEMA}.orgs
                   where _district_id = $district and type is distinct from 'district'
               ) where nullif(trim(value), '') is not null""",
            {"district": ctx.district_id},
        ).fetchall()
        return {row[0] for row in rows}

    def order(self, plans: list[PlannedFile]) -> list[PlannedFile]:
        """Files with fewer prerequisites first, so a refusal is known before its dependents."""
        return sorted(plans, key=lambda plan: dependency_rank(plan.target.name))

    def held_back(self, ctx: DropContext, plan: PlannedFile) -> str | None:
        return held_back_reason(plan.target.name, _refused_entities(ctx.report.files))

    def prepare(self, ctx: DropContext, plan: PlannedFile) -> Landing | None:
        return _prepare_file(ctx, plan, self.manifest, self.version, self.seen_entities)

    def land(self, ctx: DropContext, landings: list[Landing]) -> list[str]:
        load_id = _run_dlt(ctx.con, landings, ctx.pipelines_dir, ctx.scratch, ctx.pipelines)
        return [load_id] if load_id else []


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


def _refused_entities(files: list[FileResult]) -> dict[str, FileResult]:
    """OneRoster entities of the drop whose only files were refused, by lower-case name (a file
    the manifest lists but the drop lacks holds nothing back: the previous state stays)."""
    refused = {f.entity.lower(): f for f in files if f.status == "refused" and f.entity and f.file_sha256}
    for f in files:
        if f.status != "refused" and f.entity:
            refused.pop(f.entity.lower(), None)
    return refused


def _mapped_instead(plan: PlannedFile, catalog: FormatCatalog, version: str) -> bool:
    """True when a OneRoster-named file lacks OneRoster's required columns but fits a mapped
    layout better than OneRoster's own field names (recorded as a ``read_as_layout`` warning).
    A OneRoster header with a fault (a duplicated column) stays OneRoster, and is refused."""
    try:
        header = read_header(plan.package_file.path)
    except FileRefused:
        return False
    try:
        map_header(header, plan.target, FileResult(plan.package_file.name, "", 0), version)
        return False
    except FileRefused:
        match, _ = detect_format(catalog, plan.package_file.name, header)
    if match is None:
        return False
    known = plan.target.lookup()
    oneroster_share = sum(1 for h in header if h.strip().lower() in known) / max(len(header), 1)
    if oneroster_share >= header_share(match, header):
        return False
    plan.result.warn(
        "read_as_layout",
        f"named like OneRoster {plan.target.name}.csv, but its header is the {match.format.name} layout "
        f"({len(match.columns)}/{len(match.format.columns)} columns)",
    )
    return True


def _oneroster_evidence(con: duckdb.DuckDBPyConnection, plan: PlannedFile, evidence: Evidence) -> None:
    if plan.target.name in ("classes", "enrollments"):  # school ids only: the parser refuses an unreadable file
        try:
            header = [h.strip().lower() for h in read_header(plan.package_file.path)]
            if "schoolsourcedid" in header:
                position = header.index("schoolsourcedid")
                evidence.schools.update(*distinct_values(con, plan.package_file.path, [position], len(header)))
        except (FileRefused, duckdb.Error):
            pass
    if plan.target.name != "orgs":
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


def _prepare_file(
    ctx: DropContext,
    plan: PlannedFile,
    manifest: dict[str, str],
    version: str,
    seen_entities: dict[str, str],
) -> _Landing | None:
    """Decide what happens to one file; returns what to land, or None (skipped). Raises FileRefused."""
    package_file, result, spec = plan.package_file, plan.result, plan.target
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
    if skip_if_landed(ctx, result, spec.name, mode):
        return None
    _drop_unverified_attempts(ctx.con, spec, ctx.district_id, package_file.sha256)
    lineage = Lineage(ctx.district_id, package_file.name, package_file.sha256, ctx.load_id, ctx.started_at, mode)
    scan = scan_oneroster_csv(ctx.con, package_file.path, spec, lineage, result, version)
    tombstones = None
    if result.mode == "bulk" and spec.name != "manifest":
        options = ctx.options
        tombstones = _tombstone_events(ctx.con, spec, scan, lineage, result, options.max_tombstone_share, options.force)
    table = f"{RAW_SCHEMA}.{spec.table}"
    delete_leftovers(ctx, table, package_file.sha256)
    return _Landing(result, table, f"_change_kind = '{FILE_ROW}'", spec, scan, lineage, tombstones)


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
