"""Incremental state of REST pulls, kept in the warehouse next to the audit tables.

``audit.rest_pull_state`` holds one row per district, source and entity: the greatest
``dateLastModified`` landed so far (the next pull asks for records modified after it) and when
the entity was last pulled in full. A row is written only after ``load_package`` reported the
entity's file as landed (or as unchanged), so a failed pull never moves a cursor.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from loaders.audit import AUDIT_SCHEMA, utc_now
from loaders.writer_lock import writer_transaction

STATE_TABLE = f"{AUDIT_SCHEMA}.rest_pull_state"

DDL = f"""
create schema if not exists {AUDIT_SCHEMA};
create table if not exists {STATE_TABLE} (
    district_id varchar not null,
    source_url varchar not null,       -- base_url of the source
    entity varchar not null,           -- OneRoster file entity (users, orgs, ...)
    cursor_value varchar,              -- greatest dateLastModified landed, as the server wrote it
    last_full_pull_at timestamptz,     -- last time the entity was pulled in full (bulk)
    last_pull_at timestamptz not null,
    last_load_id varchar not null,     -- audit.load_log.load_id of the load that moved the row
    primary key (district_id, source_url, entity)
);
"""


@dataclass(frozen=True)
class EntityState:
    """Where the last successful pull of one entity left off."""

    cursor_value: str | None
    last_full_pull_at: datetime | None


def read_state(database: Path, district_id: str, source_url: str) -> dict[str, EntityState]:
    """Entity -> state for the district and source; empty when nothing was pulled yet."""
    if not Path(database).exists():
        return {}
    with duckdb.connect(str(database), read_only=True) as con:
        exists = con.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            [AUDIT_SCHEMA, STATE_TABLE.split(".")[1]],
        ).fetchone()[0]
        if not exists:
            return {}
        rows = con.execute(
            f"""select entity, cursor_value, last_full_pull_at from {STATE_TABLE}
                where district_id = ? and source_url = ?""",
            [district_id, source_url],
        ).fetchall()
    return {entity: EntityState(cursor, full_at) for entity, cursor, full_at in rows}


def save_state(
    database: Path,
    district_id: str,
    source_url: str,
    load_id: str,
    updates: dict[str, tuple[str | None, bool]],
) -> None:
    """Record ``entity -> (cursor_value, was_full_pull)`` for the entities whose rows landed.

    A cursor never moves backwards: an entity whose pull brought no newer record keeps its value.
    """
    if not updates:
        return
    now = utc_now()
    with writer_transaction(database, DDL) as con:
        for entity, (cursor_value, full) in updates.items():
            previous = con.execute(
                f"""select cursor_value, last_full_pull_at from {STATE_TABLE}
                    where district_id = ? and source_url = ? and entity = ?""",
                [district_id, source_url, entity],
            ).fetchone()
            old_cursor, old_full = previous if previous else (None, None)
            con.execute(
                f"insert or replace into {STATE_TABLE} values (?, ?, ?, ?, ?, ?, ?)",
                [
                    district_id,
                    source_url,
                    entity,
                    _later(old_cursor, cursor_value),
                    now if full else old_full,
                    now,
                    load_id,
                ],
            )


def parse_instant(value: object) -> datetime | None:
    """A dateLastModified string as an aware datetime (no offset = UTC); None when unreadable."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _later(old: str | None, new: str | None) -> str | None:
    """The later of two dateLastModified strings (compared as instants; unparseable ones lose)."""
    if old is None or new is None:
        return new or old
    old_at, new_at = parse_instant(old), parse_instant(new)
    if new_at is None:
        return old
    if old_at is None:
        return new
    return new if new_at >= old_at else old
