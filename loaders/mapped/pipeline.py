"""Mapped CSV exports (``config/formats``: SIS, PowerSchool, ClassLink, Star, opt-outs): the
spine's handler for them, landing into ``raw_<source>.<table>`` with dlt.

A drop may mix OneRoster files, SIS exports and vendor files: every file goes through the same
spine (``loaders.spine``: plan, gate, prepare, land, verify) and the same audit tables
(file_log, quarantined_rows, fingerprints). A file is this format when its header fits a layout
with confidence (``loaders.mapped.formats.detect_format``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import dlt
import duckdb
import pyarrow as pa

from loaders.district_gate import Evidence, distinct_values
from loaders.dlt_pipelines import new_pipeline
from loaders.mapped.formats import FormatCatalog, HeaderMatch, detect_format
from loaders.mapped.reader import MAPPED_LINEAGE_COLUMNS, MappedLineage, raw_table_ddl, read_mapped_csv
from loaders.raw_tables import PRIMARY_KEY, table_columns
from loaders.spine import DropContext, FormatHandler, Landing, PlannedFile, delete_leftovers, skip_if_landed

# Formats of a snapshot land as "bulk" files (the latest file is the current state), event
# formats as "delta" files (every file adds rows) - the same words the audit tables use for OneRoster.
MODE_OF_KIND = {"snapshot": "bulk", "events": "delta"}


@dataclass
class MappedLanding(Landing):
    match: HeaderMatch | None = None
    rows: pa.Table | None = None  # the file's landed rows with their lineage
    quarantined_keys: frozenset[tuple] = frozenset()  # keys of quarantined rows (snapshot layouts)


class MappedHandler(FormatHandler):
    """Any CSV whose header fits a layout of the catalog (``config/formats`` plus a district's
    mapping file)."""

    name = "mapped"

    def __init__(self, catalog: FormatCatalog) -> None:
        self.catalog = catalog
        self.prepared: list[MappedLanding] = []  # this drop's landings: their schools count as known

    def ensure_tables(self, con: duckdb.DuckDBPyConnection) -> None:
        ensure_mapped_raw_tables(con, self.catalog)

    def claims_header(self, ctx: DropContext, plan: PlannedFile) -> str | None:
        match, why = detect_format(self.catalog, plan.package_file.name, plan.header)
        if match is None:
            return why
        plan.target = match
        plan.result.entity, plan.result.raw_table = match.format.name, match.format.qualified_table
        return None

    def evidence(self, ctx: DropContext, plan: PlannedFile, evidence: Evidence) -> None:
        """The layout's district id and name columns, and its school columns."""
        fmt, match, path = plan.target.format, plan.target, plan.package_file.path
        id_positions = [match.columns[c] for c in fmt.district_id_columns if c in match.columns]
        name_positions = [match.columns[c] for c in fmt.district_name_columns if c in match.columns]
        school_positions = [
            position
            for column, position in match.columns.items()
            if any(c.name == column and (c.name == "school_id" or c.references == "school") for c in fmt.columns)
        ]
        width = len(plan.header or [])
        for values in distinct_values(ctx.con, path, id_positions, width):
            evidence.ids.update(values)
        for values in distinct_values(ctx.con, path, name_positions, width):
            evidence.names.update(values)
        for values in distinct_values(ctx.con, path, school_positions, width):
            evidence.schools.update(values)

    def schools(self, ctx: DropContext) -> set[str]:
        """The school column of every format that defines schools (students, staff): landed before
        or prepared in this drop."""
        defining = [
            fmt
            for fmt in self.catalog.formats.values()
            if any(c.name == "school_id" and c.references is None for c in fmt.columns)
        ]
        schools: set[str] = set()
        for table in sorted({fmt.qualified_table for fmt in defining}):
            rows = ctx.con.execute(
                f"select distinct school_id from {table} where _district_id = ? and school_id is not null",
                [ctx.district_id],
            ).fetchall()
            schools.update(row[0] for row in rows)
        for landing in self.prepared:
            if landing.match.format in defining:
                schools.update(v for v in landing.rows.column("school_id").to_pylist() if v)
        return schools

    def order(self, plans: list[PlannedFile]) -> list[PlannedFile]:
        """Formats that point at schools go last: this drop's student and staff files define them."""
        return sorted(plans, key=lambda plan: any(c.references for c in plan.target.format.columns))

    def prepare(self, ctx: DropContext, plan: PlannedFile) -> Landing | None:
        """Parse one mapped file; None when an identical file already landed (skipped)."""
        match, result, package_file = plan.target, plan.result, plan.package_file
        fmt = match.format
        result.entity, result.raw_table, result.mode = fmt.name, fmt.qualified_table, MODE_OF_KIND[fmt.kind]
        if skip_if_landed(ctx, result, fmt.name, result.mode):
            return None
        needs_schools = any(c.references == "school" for c in fmt.columns)
        schools = ctx.known_schools() if needs_schools else None
        lineage = MappedLineage(
            ctx.district_id, package_file.name, package_file.sha256, fmt.name, ctx.load_id, ctx.started_at
        )
        keys: set[tuple] = set()
        rows = read_mapped_csv(ctx.con, package_file.path, plan.header, match, lineage, result, schools, keys)
        delete_leftovers(ctx, fmt.qualified_table, package_file.sha256)
        landing = MappedLanding(
            result,
            fmt.qualified_table,
            match=match,
            rows=rows,
            quarantined_keys=frozenset(keys) if fmt.kind == "snapshot" else frozenset(),
        )
        self.prepared.append(landing)
        return landing

    def land(self, ctx: DropContext, landings: list[Landing]) -> list[str]:
        return run_dlt_mapped(ctx.con, landings, ctx.pipelines_dir, ctx.pipelines)

    def verified(self, ctx: DropContext, landing: Landing) -> None:
        keep_quarantined_current(ctx.con, landing, ctx.district_id, ctx.load_id, ctx.started_at)


def ensure_mapped_raw_tables(con: duckdb.DuckDBPyConnection, catalog: FormatCatalog) -> None:
    """Create every raw table of every format (empty), and add columns a newer config defines."""
    present: dict[str, dict[str, set[str]]] = {}
    for formats in catalog.raw_tables().values():
        schema = formats[0].schema
        if schema not in present:
            con.execute(f"create schema if not exists {schema}")
            present[schema] = table_columns(con, schema)
        if formats[0].table not in present[schema]:
            con.execute(raw_table_ddl(formats[0]))
        existing = present[schema].get(formats[0].table, set())
        for fmt in formats:
            for column in fmt.landed_columns():
                if column in existing:
                    continue
                column_type = "boolean" if column.endswith("_is_valid") else "varchar"
                con.execute(f'alter table {fmt.qualified_table} add column if not exists "{column}" {column_type}')


def keep_quarantined_current(
    con: duckdb.DuckDBPyConnection, landing: MappedLanding, district_id: str, load_id: str, loaded_at
) -> None:
    """A snapshot file replaces the district's previous one in staging; a record whose row in it
    was quarantined keeps its previous version: that row is copied into this file's rows with a
    negative row number (not counted as landed), and the file gets a ``tombstone_withheld``
    warning. Runs after the spine verified the file; a file that landed no row leaves the previous file
    current anyway."""
    fmt, result = landing.match.format, landing.result
    if not landing.quarantined_keys or result.status != "loaded" or not result.rows_landed:
        return
    key = [f'"{k}"' for k in fmt.key]
    columns = [
        row[0]
        for row in con.execute(
            "select column_name from duckdb_columns() where database_name = current_database()"
            " and schema_name = ? and table_name = ? order by column_index",
            [fmt.schema, fmt.table],
        ).fetchall()
    ]
    lineage = {
        "_source_file": "$file_name",
        "_file_sha256": "$sha",
        "_format": "$format",
        "_load_id": "$load_id",
        "_row_number": "-row_number() over ()",
        "_loaded_at": "$loaded_at",
    }
    select = ", ".join(lineage.get(c, f"previous.{c}") for c in (f'"{c}"' if c not in lineage else c for c in columns))
    view = "rollcall_quarantined_keys"
    keys = pa.table({k: pa.array([v[i] for v in landing.quarantined_keys], pa.string()) for i, k in enumerate(fmt.key)})
    con.register(view, keys)
    try:
        same = " and ".join(f"previous.{k} is not distinct from {{other}}.{k}" for k in key)
        kept = con.execute(
            f"""insert into {fmt.qualified_table} ({", ".join(f'"{c}"' for c in columns)})
                with ranked as (
                    select
                        *, dense_rank() over (order by _loaded_at desc, _load_id desc, _file_sha256 desc) as file_rank
                    from {fmt.qualified_table}
                    where _district_id = $district_id and _file_sha256 <> $sha
                )
                select {select} from ranked as previous
                where previous.file_rank = 1
                    and exists (select 1 from {view} as wanted where {same.format(other="wanted")})
                    and not exists (
                        select 1 from {fmt.qualified_table} as current
                        where current._district_id = $district_id and current._file_sha256 = $sha
                            and {same.format(other="current")}
                    )""",
            {
                "district_id": district_id,
                "file_name": result.file_name,
                "sha": result.file_sha256,
                "format": fmt.name,
                "load_id": load_id,
                "loaded_at": loaded_at,
            },
        ).fetchone()[0]
    finally:
        con.unregister(view)
    if kept:
        result.warn(
            "tombstone_withheld",
            f"{kept:,} record(s) kept current from the previous file: their rows in this file were quarantined",
            kept,
        )


def run_dlt_mapped(
    con: duckdb.DuckDBPyConnection,
    landings: list[MappedLanding],
    pipelines_dir: Path,
    pipelines: list[dlt.Pipeline] | None = None,
) -> list[str]:
    """One dlt run per raw schema; returns dlt's load ids. Appends the pipelines it ran to
    ``pipelines`` (their completed packages are the caller's to discard)."""
    by_schema: dict[str, dict[str, list[pa.Table]]] = {}
    for landing in landings:
        fmt = landing.match.format
        by_schema.setdefault(fmt.source, {}).setdefault(fmt.table, []).append(landing.rows)
    load_ids = []
    for source, tables in sorted(by_schema.items()):
        resources = []
        for name, pieces in tables.items():
            columns = list(dict.fromkeys(c for piece in pieces for c in piece.column_names))
            aligned = [_align(piece, columns) for piece in pieces]
            resources.append(
                dlt.resource(
                    iter(aligned), name=name, table_name=name, write_disposition="append", primary_key=PRIMARY_KEY
                )
            )
        pipeline = new_pipeline(con, f"rollcall_{source}", pipelines_dir, f"raw_{source}")
        if pipelines is not None:
            pipelines.append(pipeline)
        info = pipeline.run(resources)
        info.raise_on_failed_jobs()
        load_ids += list(info.loads_ids)
    return load_ids


def _align(table: pa.Table, columns: list[str]) -> pa.Table:
    """Same columns in the same order for every piece of one raw table (missing ones null)."""
    for name in columns:
        if name not in table.column_names:
            table = table.append_column(name, pa.nulls(table.num_rows, pa.string()))
    data = [c for c in columns if c not in MAPPED_LINEAGE_COLUMNS]
    return table.select([*data, *MAPPED_LINEAGE_COLUMNS])
