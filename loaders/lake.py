"""Landing for Spark: the raw tables of the warehouse as parquet files in a lake folder.

A load lands and audits into the DuckDB warehouse as always; with a lake folder (``rollcall load
--lake``, ``rollcall lake`` or ``$ROLLCALL_LAKE_PATH``) the raw tables of the loaded district are
then written to ``<lake>/<schema>/<table>/<district>.parquet``, one file per district and table,
which the dbt project registers as Spark tables when it builds on the ``spark`` target
(macros/lake.sql). A district's files are rewritten whole after each of its loads, written beside
the old file and renamed over it, so a reader sees either the old or the new rows of a district,
never a part. See docs/scale-out.md.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

# The raw schemas the dbt sources read (models/staging/*/_*__sources.yml).
RAW_SCHEMA_PATTERN = "raw\\_%"
DISTRICT_COLUMN = "_district_id"
LAKE_ENV = "ROLLCALL_LAKE_PATH"
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


@dataclass(frozen=True)
class LakeReport:
    """What one export wrote: (schema, table, rows) per file."""

    lake: Path
    files: tuple[tuple[str, str, int], ...]

    @property
    def rows(self) -> int:
        return sum(rows for _schema, _table, rows in self.files)


def lake_path(given: str | os.PathLike | None = None) -> Path | None:
    """The lake folder: ``given``, else ``$ROLLCALL_LAKE_PATH``, else none (no Spark landing)."""
    value = given or os.environ.get(LAKE_ENV)
    return Path(value).resolve() if value else None


def raw_tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """(schema, table) of every raw table with a district column (dlt's own tables have none)."""
    return con.execute(
        """
        select table_schema, table_name
        from information_schema.columns
        where table_schema like ? escape '\\' and column_name = ?
        order by 1, 2
        """,
        [RAW_SCHEMA_PATTERN, DISTRICT_COLUMN],
    ).fetchall()


def _checked(name: str) -> str:
    if not _SAFE_NAME.match(name):
        raise ValueError(f"not a plain name for a lake file: {name!r}")
    return name


def export_districts(database: Path, lake: Path, districts: list[str] | None = None) -> LakeReport:
    """Write every raw table's rows of ``districts`` (default: every district landed) to ``lake``."""
    files = []
    with duckdb.connect(str(database), read_only=True) as con:
        tables = raw_tables(con)
        if districts is None:
            found: set[str] = set()
            for schema, table in tables:
                found.update(
                    row[0]
                    for row in con.execute(f'select distinct {DISTRICT_COLUMN} from "{schema}"."{table}"').fetchall()
                )
            districts = sorted(found)
        for district in districts:
            for schema, table in tables:
                folder = lake / _checked(schema) / _checked(table)
                folder.mkdir(parents=True, exist_ok=True)
                final = folder / f"{_checked(district)}.parquet"
                partial = folder / f".{district}.parquet.tmp"
                relation = f'"{schema}"."{table}"'
                # every district gets a file, an empty one too: Spark reads a table's columns from its files
                rows = f"select * from {relation} where {DISTRICT_COLUMN} = '{district}'"
                con.execute(f"copy ({rows}) to '{partial}' (format parquet)")
                count = con.execute(f"select count(*) from ({rows})").fetchone()[0]
                partial.replace(final)
                files.append((schema, table, count))
    return LakeReport(lake=lake, files=tuple(files))


def write_catalog(lake: Path) -> None:
    """List the lake's tables in ``<lake>/_catalog/tables.parquet`` (schema_name, table_name, location).

    The dbt project's Spark target registers these as tables when a build starts
    (macros/lake.sql): SQL cannot list a folder, but it can read a parquet file.
    """
    tables = sorted(
        (schema.name, table.name, str(table))
        for schema in lake.iterdir()
        if schema.is_dir() and not schema.name.startswith("_")
        for table in schema.iterdir()
        if table.is_dir() and any(table.glob("*.parquet"))
    )
    folder = lake / "_catalog"
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / ".tables.parquet.tmp"
    with duckdb.connect() as con:
        con.execute("create table tables (schema_name varchar, table_name varchar, location varchar)")
        if tables:
            con.executemany("insert into tables values (?, ?, ?)", tables)
        con.execute(f"copy tables to '{partial}' (format parquet)")
    partial.replace(folder / "tables.parquet")


def land_in_lake(database: Path, lake: Path, districts: list[str] | None = None) -> LakeReport:
    """Export ``districts`` (default: all) to ``lake`` and refresh its catalog."""
    report = export_districts(database, lake, districts)
    write_catalog(lake)
    return report
