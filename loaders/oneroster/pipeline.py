"""Land a OneRoster(+) drop (folder or zip) into ``raw_oneroster`` with dlt, file by file.

Flow per file: match its name to the field table -> skip if this exact file (sha256) already
landed for the district -> parse with DuckDB (bad rows quarantined) -> hand arrow tables to dlt.
Every decision is written to the audit tables; a refused file never stops the others.
"""

from __future__ import annotations

import csv
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import dlt
import duckdb
import pyarrow as pa

from loaders.audit import AuditLog, FileResult, utc_now
from loaders.oneroster.csv_reader import PRIMARY_KEY, FileRefused, Lineage, raw_table_ddl, read_oneroster_csv
from loaders.oneroster.settings import FileSpec, file_specs, spec_for_file_name
from loaders.package import PackageFile, open_package
from loaders.registry import get_district

RAW_SCHEMA = "raw_oneroster"
PIPELINE_NAME = "rollcall_oneroster"
ARROW_SLICE_ROWS = 500_000

# dlt settings for the arrow fast path: row groups DuckDB can scan in parallel, no compression
# (files are local and short-lived), no telemetry (the warehouse may have no internet).
DLT_DEFAULTS = {
    "DATA_WRITER__ROW_GROUP_SIZE": "122880",
    "DATA_WRITER__COMPRESSION": "none",
    "RUNTIME__DLTHUB_TELEMETRY": "false",
}


@dataclass
class LoadReport:
    """Outcome of one ``rollcall load``."""

    load_id: str
    district_id: str
    status: str
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


def _read_manifest(files: list[PackageFile]) -> dict[str, str]:
    """``file.users`` -> ``bulk`` etc. from manifest.csv, lower-cased; empty without a manifest."""
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


def ensure_raw_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create every raw table of the field table that does not exist yet (empty)."""
    con.execute(f"create schema if not exists {RAW_SCHEMA}")
    for spec in file_specs().values():
        con.execute(raw_table_ddl(RAW_SCHEMA, spec))


def _table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            [RAW_SCHEMA, table],
        ).fetchone()[0]
    )


def _slices(table: pa.Table) -> Iterator[pa.Table]:
    for offset in range(0, table.num_rows, ARROW_SLICE_ROWS):
        yield table.slice(offset, ARROW_SLICE_ROWS)


def load_package(
    location: str | Path,
    district_id: str,
    database: str | Path,
    *,
    pipelines_dir: str | Path | None = None,
) -> LoadReport:
    """Load a folder/zip/CSV drop for ``district_id`` into the DuckDB file ``database``.

    Raises ``UnknownDistrictError`` or ``PackageError`` before anything is written when the
    district is not registered or the drop cannot be opened.
    """
    get_district(district_id)  # refuse unknown districts before touching the warehouse
    for key, value in DLT_DEFAULTS.items():
        os.environ.setdefault(key, value)
    database = Path(database)
    database.parent.mkdir(parents=True, exist_ok=True)
    pipelines_dir = Path(pipelines_dir or database.parent / ".dlt_pipelines")

    load_id = new_load_id()
    started_at = utc_now()
    with open_package(location) as files, duckdb.connect(str(database)) as con:
        audit = AuditLog(con)
        audit.start_load(load_id, district_id, str(location), started_at)
        report = LoadReport(load_id, district_id, "running")
        manifest = _read_manifest(files)
        seen_entities: dict[str, str] = {}
        to_land: dict[str, list[pa.Table]] = {}
        landing: list[tuple[FileResult, FileSpec]] = []

        for package_file in files:
            result = FileResult(package_file.name, package_file.sha256, package_file.path.stat().st_size)
            report.files.append(result)
            spec = spec_for_file_name(package_file.name)
            if spec is None:
                result.refuse("not a OneRoster or OneRoster+ file name (see docs/oneroster-plus.md)")
                audit.record_file(load_id, district_id, result)
                continue
            result.entity, result.raw_table = spec.name, spec.table
            result.mode = manifest.get(f"file.{spec.name.lower()}")
            if spec.name in seen_entities:
                result.refuse(f"a second {spec.name} file in one drop (first: {seen_entities[spec.name]})")
                audit.record_file(load_id, district_id, result)
                continue
            seen_entities[spec.name] = package_file.name
            if not manifest and spec.name != "manifest":
                result.warn("no_manifest", "no manifest.csv in the drop; file mode not stated")
            previous = audit.already_loaded(district_id, spec.name, package_file.sha256)
            if previous:
                result.status, result.finished_at = "skipped", utc_now()
                result.error_text = f"identical file already loaded by load {previous}"
                audit.record_file(load_id, district_id, result)
                continue
            lineage = Lineage(district_id, package_file.name, package_file.sha256, load_id, started_at)
            try:
                table = read_oneroster_csv(con, package_file.path, spec, lineage, result)
            except FileRefused as exc:
                result.refuse(str(exc))
                audit.record_file(load_id, district_id, result)
                continue
            if _table_exists(con, spec.table):  # leftovers of an earlier attempt that failed
                con.execute(
                    f"delete from {RAW_SCHEMA}.{spec.table} where _district_id = ? and _file_sha256 = ?",
                    [district_id, package_file.sha256],
                )
            to_land.setdefault(spec.table, []).append(table)
            landing.append((result, spec))
            audit.record_file(load_id, district_id, result)

        dlt_load_id = None
        try:
            if to_land:
                dlt_load_id = _run_dlt(con, to_land, pipelines_dir)
            ensure_raw_tables(con)
        except Exception as exc:  # dlt failures are reported per file, never swallowed
            message = f"landing failed: {type(exc).__name__}: {str(exc).splitlines()[0]}"
            for result, _ in landing:
                result.status, result.error_text, result.finished_at = "failed", message, utc_now()
                audit.record_file(load_id, district_id, result)
            report.status, report.error_text = "failed", message
            audit.finish_load(load_id, "failed", report.files, dlt_load_id, message)
            return report

        for result, spec in landing:
            landed = con.execute(
                f"select count(*) from {RAW_SCHEMA}.{spec.table} where _load_id = ? and _file_sha256 = ?",
                [load_id, result.file_sha256],
            ).fetchone()[0]
            result.rows_landed, result.finished_at = landed, utc_now()
            if result.rows_read == landed + result.rows_quarantined:
                result.status = "loaded"
            else:
                result.status = "failed"
                result.error_text = (
                    f"row accounting mismatch: read {result.rows_read}, landed {landed}, "
                    f"quarantined {result.rows_quarantined}"
                )
            audit.record_file(load_id, district_id, result)

        problems = any(f.status in ("refused", "failed") or f.rows_quarantined for f in report.files)
        report.status = "partial" if problems else "succeeded"
        audit.finish_load(load_id, report.status, report.files, dlt_load_id)
        return report


def _run_dlt(con: duckdb.DuckDBPyConnection, to_land: dict[str, list[pa.Table]], pipelines_dir: Path) -> str:
    """Land the parsed arrow tables with one dlt run; returns dlt's load id."""
    resources = [
        dlt.resource(
            (piece for table in tables for piece in _slices(table)),
            name=name,
            table_name=name,
            write_disposition="append",
            primary_key=PRIMARY_KEY,
        )
        for name, tables in to_land.items()
    ]
    pipeline = dlt.pipeline(
        pipeline_name=PIPELINE_NAME,
        pipelines_dir=str(pipelines_dir),
        destination=dlt.destinations.duckdb(con),
        dataset_name=RAW_SCHEMA,
    )
    info = pipeline.run(resources)
    info.raise_on_failed_jobs()
    return info.loads_ids[-1] if info.loads_ids else None
