"""Land mapped CSV exports (``config/formats``) into ``raw_<source>.<table>`` with dlt.

Called by ``loaders.oneroster.pipeline.load_package`` for every file of a drop that is not a
OneRoster file, so one drop may mix OneRoster files, SIS exports and vendor files, and every
file goes through the same audit spine (file_log, quarantined_rows, fingerprints).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import dlt
import duckdb
import pyarrow as pa

from loaders.audit import FileResult, utc_now
from loaders.dlt_pipelines import new_pipeline
from loaders.mapped.formats import FormatCatalog, HeaderMatch
from loaders.mapped.reader import (
    MAPPED_LINEAGE_COLUMNS,
    PRIMARY_KEY,
    MappedLineage,
    raw_table_ddl,
    read_mapped_csv,
)
from loaders.oneroster.csv_reader import table_columns
from loaders.package import PackageFile

# Formats of a snapshot land as "bulk" files (the latest file is the current state), event
# formats as "delta" files (every file adds rows) - the same words the audit tables use for OneRoster.
MODE_OF_KIND = {"snapshot": "bulk", "events": "delta"}


@dataclass
class MappedLanding:
    result: FileResult
    match: HeaderMatch
    table: pa.Table
    quarantined_keys: frozenset[tuple] = frozenset()  # keys of quarantined rows (snapshot layouts)


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


def known_schools(
    con: duckdb.DuckDBPyConnection, district_id: str, catalog: FormatCatalog, pending: list[MappedLanding]
) -> set[str]:
    """School ids the district has: its OneRoster orgs, and the school column of every format
    that defines schools (students, staff) - landed before or in this drop."""
    schools: set[str] = set()
    orgs = con.execute(
        """select distinct trim(value) from (
               select sourced_id as value from raw_oneroster.orgs
               where _district_id = ? and type is distinct from 'district'
               union all
               select identifier from raw_oneroster.orgs
               where _district_id = ? and type is distinct from 'district'
           ) where nullif(trim(value), '') is not null""",
        [district_id, district_id],
    ).fetchall()
    schools.update(row[0] for row in orgs)
    defining = [
        fmt
        for fmt in catalog.formats.values()
        if any(c.name == "school_id" and c.references is None for c in fmt.columns)
    ]
    for table in sorted({fmt.qualified_table for fmt in defining}):
        rows = con.execute(
            f"select distinct school_id from {table} where _district_id = ? and school_id is not null", [district_id]
        ).fetchall()
        schools.update(row[0] for row in rows)
    for landing in pending:
        if landing.match.format in defining:
            schools.update(v for v in landing.table.column("school_id").to_pylist() if v)
    return schools


def prepare_mapped_file(
    con: duckdb.DuckDBPyConnection,
    package_file: PackageFile,
    header: list[str],
    match: HeaderMatch,
    result: FileResult,
    district_id: str,
    load_id: str,
    started_at,
    schools: set[str] | None,
    already_landed,
) -> MappedLanding | None:
    """Parse one mapped file; None when an identical file already landed (skipped)."""
    fmt = match.format
    result.entity, result.raw_table, result.mode = fmt.name, fmt.qualified_table, MODE_OF_KIND[fmt.kind]
    previous = already_landed(con, district_id, fmt.name, package_file.sha256)
    if previous:
        result.status, result.finished_at = "skipped", utc_now()
        result.error_text = f"identical file already loaded by load {previous}"
        return None
    lineage = MappedLineage(district_id, package_file.name, package_file.sha256, fmt.name, load_id, started_at)
    keys: set[tuple] = set()
    table = read_mapped_csv(con, package_file.path, header, match, lineage, result, schools, keys)
    con.execute(  # leftovers of an earlier attempt at this file that failed mid-way
        f"delete from {fmt.qualified_table} where _district_id = ? and _file_sha256 = ?",
        [district_id, package_file.sha256],
    )
    return MappedLanding(result, match, table, frozenset(keys) if fmt.kind == "snapshot" else frozenset())


def keep_quarantined_current(
    con: duckdb.DuckDBPyConnection, landing: MappedLanding, district_id: str, load_id: str, loaded_at
) -> None:
    """A snapshot file replaces the district's previous one in staging; a record whose row in it
    was quarantined keeps its previous version: that row is copied into this file's rows with a
    negative row number (not counted as landed), and the file gets a ``tombstone_withheld``
    warning. Runs after ``verify_mapped``; a file that landed no row leaves the previous file
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
        by_schema.setdefault(fmt.source, {}).setdefault(fmt.table, []).append(landing.table)
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


def verify_mapped(con: duckdb.DuckDBPyConnection, landing: MappedLanding, load_id: str) -> None:
    """Count the file's rows back; rows read must equal landed + quarantined."""
    result = landing.result
    landed = con.execute(
        f"select count(*) from {landing.match.format.qualified_table} where _load_id = ? and _file_sha256 = ?",
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
