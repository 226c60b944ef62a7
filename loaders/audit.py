"""The audit spine: every load, every file and every quarantined row, in schema ``audit``.

Invariant kept for every file: ``rows_read = rows_landed + rows_quarantined``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb

AUDIT_SCHEMA = "audit"

DDL = f"""
create schema if not exists {AUDIT_SCHEMA};
create table if not exists {AUDIT_SCHEMA}.load_log (
    load_id varchar primary key,
    district_id varchar not null,
    source_path varchar not null,
    started_at timestamptz not null,
    finished_at timestamptz,
    status varchar not null,          -- running | succeeded | partial | failed | refused | interrupted
    files_seen integer,
    files_loaded integer,
    files_skipped integer,
    files_refused integer,
    rows_read bigint,
    rows_landed bigint,
    rows_quarantined bigint,
    dlt_load_id varchar,
    error_text varchar,
    oneroster_version varchar         -- version whose required columns applied (manifest, else inferred)
);
alter table {AUDIT_SCHEMA}.load_log add column if not exists oneroster_version varchar;
create table if not exists {AUDIT_SCHEMA}.file_log (
    load_id varchar not null,
    district_id varchar not null,
    file_name varchar not null,
    entity varchar,                   -- canonical OneRoster(+) file name; null when unknown
    raw_table varchar,
    file_sha256 varchar not null,
    file_bytes bigint,
    mode varchar,                     -- bulk | delta | absent from the manifest; null when not stated
    started_at timestamptz not null,
    finished_at timestamptz,
    status varchar not null,          -- running | loaded | skipped | refused | failed | interrupted
    rows_read bigint,
    rows_landed bigint,
    rows_quarantined bigint,
    error_text varchar,
    rows_tombstoned bigint,           -- records a bulk file no longer contains (tombstoned)
    primary key (load_id, file_name)
);
alter table {AUDIT_SCHEMA}.file_log add column if not exists rows_tombstoned bigint;
create table if not exists {AUDIT_SCHEMA}.file_warnings (
    load_id varchar not null,
    district_id varchar not null,
    file_name varchar not null,
    file_sha256 varchar not null,
    warning_code varchar not null,
    detail varchar,
    occurrences bigint not null
);
create table if not exists {AUDIT_SCHEMA}.quarantined_rows (
    load_id varchar not null,
    district_id varchar not null,
    file_name varchar not null,
    file_sha256 varchar not null,
    row_number bigint not null,       -- record position in the file, header = 1
    error_type varchar not null,
    reason varchar not null,
    raw_line varchar,                 -- PII; files with a secret column: readable fields as JSON, or null
    quarantined_at timestamptz not null
);
comment on column {AUDIT_SCHEMA}.quarantined_rows.raw_line is
    'pii: direct — the line as read, or for a file with a secret column its readable fields (loaders.secrets)';
create or replace view {AUDIT_SCHEMA}.rejected_files as
    select * from {AUDIT_SCHEMA}.file_log where status in ('refused', 'failed');
"""


def qualified(raw_table: str) -> str:
    """``file_log.raw_table`` as ``schema.table`` (OneRoster files record the bare table name)."""
    return raw_table if "." in raw_table else f"raw_oneroster.{raw_table}"


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Warning_:
    code: str
    detail: str
    occurrences: int = 1


@dataclass
class FileResult:
    """What happened to one file of a drop."""

    file_name: str
    file_sha256: str
    file_bytes: int
    entity: str | None = None
    raw_table: str | None = None
    mode: str | None = None
    status: str = "running"
    rows_read: int = 0
    rows_landed: int = 0
    rows_quarantined: int = 0
    rows_tombstoned: int = 0
    error_text: str | None = None
    warnings: list[Warning_] = field(default_factory=list)
    started_at: datetime = field(default_factory=utc_now)
    finished_at: datetime | None = None

    def refuse(self, reason: str) -> None:
        self.status, self.error_text, self.finished_at = "refused", reason, utc_now()

    def warn(self, code: str, detail: str, occurrences: int = 1) -> None:
        self.warnings.append(Warning_(code, detail, occurrences))


class AuditLog:
    """Writes the audit tables through the loader's DuckDB connection."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        con.execute(DDL)

    def mark_interrupted(self) -> int:
        """Mark loads (and their files) left ``running`` by a process that died as
        ``interrupted``; returns how many loads. Call only while holding the writer lock."""
        stale = self.con.execute(f"select load_id from {AUDIT_SCHEMA}.load_log where status = 'running'").fetchall()
        if not stale:
            return 0
        ids = [row[0] for row in stale]
        reason = "interrupted: the load stopped before it finished; its files land again on the next load"
        self.con.execute(
            f"""update {AUDIT_SCHEMA}.load_log set status = 'interrupted', finished_at = ?,
                error_text = coalesce(error_text, ?) where list_contains(?, load_id)""",
            [utc_now(), reason, ids],
        )
        self.con.execute(
            f"""update {AUDIT_SCHEMA}.file_log set status = 'interrupted', finished_at = ?,
                error_text = coalesce(error_text, ?)
                where status = 'running' and list_contains(?, load_id)""",
            [utc_now(), reason, ids],
        )
        self._purge_unverified(ids)
        return len(ids)

    def _purge_unverified(self, load_ids: list[str]) -> None:
        """Delete what interrupted loads landed of files they had not verified (raw rows,
        tombstone events, quarantined rows): those files land again, in full, next time."""
        unverified = self.con.execute(
            f"""select load_id, file_sha256, raw_table from {AUDIT_SCHEMA}.file_log
                where list_contains(?, load_id) and status <> 'loaded'""",
            [load_ids],
        ).fetchall()
        for load_id, sha256, raw_table in unverified:
            self.con.execute(
                f"delete from {AUDIT_SCHEMA}.quarantined_rows where load_id = ? and file_sha256 = ?",
                [load_id, sha256],
            )
            if raw_table and self._table_exists(qualified(raw_table)):
                self.con.execute(
                    f"delete from {qualified(raw_table)} where _load_id = ? and _file_sha256 = ?", [load_id, sha256]
                )

    def _table_exists(self, table: str) -> bool:
        schema, name = table.split(".", 1)
        return bool(
            self.con.execute(
                """select count(*) from duckdb_tables()
                   where database_name = current_database() and schema_name = ? and table_name = ?""",
                [schema, name],
            ).fetchone()[0]
        )

    def start_load(self, load_id: str, district_id: str, source_path: str, started_at: datetime) -> None:
        self.con.execute(
            f"insert into {AUDIT_SCHEMA}.load_log (load_id, district_id, source_path, started_at, status)"
            " values (?, ?, ?, ?, 'running')",
            [load_id, district_id, source_path, started_at],
        )

    def finish_load(
        self,
        load_id: str,
        status: str,
        files: list[FileResult],
        dlt_load_id: str | None = None,
        error_text: str | None = None,
        oneroster_version: str | None = None,
    ) -> None:
        self.con.execute(
            f"""update {AUDIT_SCHEMA}.load_log set finished_at = ?, status = ?, files_seen = ?,
                files_loaded = ?, files_skipped = ?, files_refused = ?, rows_read = ?,
                rows_landed = ?, rows_quarantined = ?, dlt_load_id = ?, error_text = ?,
                oneroster_version = ?
                where load_id = ?""",
            [
                utc_now(),
                status,
                len(files),
                sum(f.status == "loaded" for f in files),
                sum(f.status == "skipped" for f in files),
                sum(f.status in ("refused", "failed") for f in files),
                sum(f.rows_read for f in files),
                sum(f.rows_landed for f in files),
                sum(f.rows_quarantined for f in files),
                dlt_load_id,
                error_text,
                oneroster_version,
                load_id,
            ],
        )

    def record_file(self, load_id: str, district_id: str, result: FileResult) -> None:
        """Insert or replace the file's row and its warnings."""
        self.con.execute(
            f"delete from {AUDIT_SCHEMA}.file_log where load_id = ? and file_name = ?",
            [load_id, result.file_name],
        )
        self.con.execute(
            f"""insert into {AUDIT_SCHEMA}.file_log (load_id, district_id, file_name, entity, raw_table,
                file_sha256, file_bytes, mode, started_at, finished_at, status, rows_read, rows_landed,
                rows_quarantined, error_text, rows_tombstoned)
                values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [
                load_id,
                district_id,
                result.file_name,
                result.entity,
                result.raw_table,
                result.file_sha256,
                result.file_bytes,
                result.mode,
                result.started_at,
                result.finished_at,
                result.status,
                result.rows_read,
                result.rows_landed,
                result.rows_quarantined,
                result.error_text,
                result.rows_tombstoned,
            ],
        )
        self.con.execute(
            f"delete from {AUDIT_SCHEMA}.file_warnings where load_id = ? and file_name = ?",
            [load_id, result.file_name],
        )
        if result.warnings:
            self.con.executemany(
                f"insert into {AUDIT_SCHEMA}.file_warnings values (?, ?, ?, ?, ?, ?, ?)",
                [
                    [load_id, district_id, result.file_name, result.file_sha256, w.code, w.detail, w.occurrences]
                    for w in result.warnings
                ],
            )


QuarantinedRow = tuple[int, str, str, str | None]  # row number, error type, reason, stored line


def record_quarantined(con: duckdb.DuckDBPyConnection, lineage, rows: Iterable[QuarantinedRow]) -> None:
    """Record rows that could not be placed — (row number, error type, reason, stored line) each —
    under the file's lineage (``load_id``, ``district_id``, ``source_file``, ``file_sha256``,
    ``loaded_at``). The stored line is what may be kept of the row (``loaders.secrets.kept_line``)."""
    con.executemany(
        f"insert into {AUDIT_SCHEMA}.quarantined_rows values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            [lineage.load_id, lineage.district_id, lineage.source_file, lineage.file_sha256, *row, lineage.loaded_at]
            for row in rows
        ],
    )
