"""What was picked up from an SFTP source, remembered in the warehouse (``audit.sftp_files``).

One row per member of a remote file — the file itself for a CSV, each CSV inside it for a zip —
with the remote file's fingerprint (size, modification time, SHA-256 after download) and what
became of the member: ``loaded``, ``skipped`` (identical to what the warehouse has), ``refused``,
``failed``, or ``not_due`` (left out because its entity was not asked for). A remote file whose
size and modification time match the remembered ones is not downloaded again unless one of the
members asked for is still ``not_due`` or ``failed``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from loaders.audit import AUDIT_SCHEMA, utc_now
from loaders.writer_lock import connect_writer, writer_lock, writer_transaction

TABLE = f"{AUDIT_SCHEMA}.sftp_files"

DDL = f"""
create schema if not exists {AUDIT_SCHEMA};
create table if not exists {TABLE} (
    district_id varchar not null,
    source_url varchar not null,      -- sftp://user@host[:port]/path, never a password
    remote_name varchar not null,     -- file name relative to the source folder
    member_name varchar not null,     -- the CSV (inside the zip, for a zip)
    entity varchar,                   -- OneRoster(+) entity of the member; null when not recognised
    remote_size bigint not null,
    remote_mtime timestamptz not null,
    remote_sha256 varchar not null,
    status varchar not null,          -- loaded | skipped | refused | failed | not_due
    load_id varchar,                  -- the load that applied the member (null when not_due)
    recorded_at timestamptz not null,
    primary key (district_id, source_url, remote_name, member_name)
);
"""

# Members applied for good: an unchanged remote file holding only these is not downloaded again.
SETTLED = frozenset({"loaded", "skipped", "refused"})


@dataclass(frozen=True)
class MemberPrint:
    """The remembered fingerprint of one member of a remote file."""

    remote_name: str
    member_name: str
    entity: str | None
    remote_size: int
    remote_mtime: datetime
    remote_sha256: str
    status: str
    load_id: str | None

    def same_listing(self, size: int, mtime: datetime) -> bool:
        return self.remote_size == size and self.remote_mtime == mtime


def read_prints(database: Path, district_id: str, source_url: str) -> dict[str, list[MemberPrint]]:
    """Remembered members by remote file name; empty when the warehouse or table does not exist."""
    if not database.exists():
        return {}
    with writer_lock(database), connect_writer(database) as con:
        exists = con.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = 'sftp_files'",
            [AUDIT_SCHEMA],
        ).fetchone()[0]
        if not exists:
            return {}
        rows = con.execute(
            f"""select remote_name, member_name, entity, remote_size, remote_mtime, remote_sha256, status, load_id
                from {TABLE} where district_id = ? and source_url = ? order by remote_name, member_name""",
            [district_id, source_url],
        ).fetchall()
    prints: dict[str, list[MemberPrint]] = {}
    for row in rows:
        prints.setdefault(row[0], []).append(MemberPrint(*row))
    return prints


def write_prints(database: Path, district_id: str, source_url: str, prints: Iterable[MemberPrint]) -> None:
    """Replace the remembered members of every remote file named in ``prints``."""
    prints = list(prints)
    if not prints:
        return
    recorded_at = utc_now()
    with writer_transaction(database, DDL) as con:
        for remote_name in sorted({p.remote_name for p in prints}):
            con.execute(
                f"delete from {TABLE} where district_id = ? and source_url = ? and remote_name = ?",
                [district_id, source_url, remote_name],
            )
        con.executemany(
            f"insert into {TABLE} values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                [
                    district_id,
                    source_url,
                    p.remote_name,
                    p.member_name,
                    p.entity,
                    p.remote_size,
                    p.remote_mtime,
                    p.remote_sha256,
                    p.status,
                    p.load_id,
                    recorded_at,
                ]
                for p in prints
            ],
        )
