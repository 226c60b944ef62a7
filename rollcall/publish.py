"""``rollcall publish``: copy the marts BI users may see into read-only DuckDB files of their own.

Which mart goes to which audience is declared once, in the marts' dbt YAML
(``config: meta: {publish: public|restricted}``); columns tagged ``meta: {pii: ...}`` never reach
the public file. Each file is written under a temporary name and renamed over the old one, so a
reader never sees a half-written file and a dashboard holding it open never blocks a load.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import click
import duckdb
import yaml

from rollcall.settings import PROJECT_ROOT, database_path

AUDIENCES = ("restricted", "public")  # restricted holds the public marts too
MART_SCHEMAS = ("core", "attendance", "messaging", "assessment", "quality")

# Data health for the dashboard, from the load audit: counts and names of files, never row contents.
HEALTH_SQL = {
    "source_loads": """
        select
            district_id,
            case when raw_table like 'raw\\_%.%' escape '\\' then split_part(raw_table, '.', 1)
                 else 'raw_oneroster' end as source,
            max(finished_at) filter (where status = 'loaded') as last_loaded_at,
            count(*) filter (where status = 'loaded') as files_loaded,
            count(*) filter (where status in ('refused', 'failed')) as files_refused,
            cast(coalesce(sum(rows_landed), 0) as bigint) as rows_landed,
            cast(coalesce(sum(rows_quarantined), 0) as bigint) as rows_quarantined
        from src.audit.file_log
        group by all
    """,
    "quarantined_rows": """
        select district_id, file_name, error_type, count(*) as quarantined_rows, max(quarantined_at) as last_at
        from src.audit.quarantined_rows
        group by all
    """,
    "refused_files": """
        select district_id, file_name, status, error_text as reason, finished_at
        from src.audit.rejected_files
    """,
}


class PublishError(Exception):
    """The warehouse cannot be published (missing, busy, or a PII column bound for the public file)."""


@dataclass(frozen=True)
class Mart:
    name: str
    audience: str
    pii_columns: frozenset[str] = field(default_factory=frozenset)


def declared_marts(project: Path = PROJECT_ROOT) -> list[Mart]:
    """The marts with ``meta.publish`` in their YAML config, with their PII-tagged columns."""
    marts = []
    for path in sorted((project / "models" / "marts").glob("*/_*.yml")):
        for model in (yaml.safe_load(path.read_text()) or {}).get("models", []):
            audience = ((model.get("config") or {}).get("meta") or {}).get("publish")
            if audience is None:
                continue
            if audience not in AUDIENCES:
                raise PublishError(
                    f"{path.relative_to(project)}: {model['name']}: unknown publish audience {audience!r}"
                )
            pii = {c["name"] for c in model.get("columns", []) if (c.get("meta") or {}).get("pii")}
            marts.append(Mart(model["name"], audience, frozenset(pii)))
    return marts


def published_paths(database: Path, out_dir: Path | None = None) -> dict[str, Path]:
    """``{audience: file}``: ``<warehouse folder>/published/<audience>.duckdb`` unless told otherwise."""
    folder = out_dir or database.parent / "published"
    return {audience: folder / f"{audience}.duckdb" for audience in AUDIENCES}


def publish(database: Path, out_dir: Path | None = None, project: Path = PROJECT_ROOT) -> dict[str, Path]:
    """Write both audiences' files from ``database``; returns them."""
    if not database.exists():
        raise PublishError(f"no warehouse at {database}: run `rollcall load` and `rollcall build` first")
    marts = declared_marts(project)
    paths = published_paths(database, out_dir)
    for audience, path in paths.items():
        wanted = [m for m in marts if audience == "restricted" or m.audience == "public"]
        _write_atomically(database, path, audience, wanted)
    return paths


def _write_atomically(database: Path, path: Path, audience: str, marts: list[Mart]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.unlink(missing_ok=True)
    try:
        with duckdb.connect(str(temporary)) as con:
            _attach(con, database)
            for mart in marts:
                _copy_mart(con, mart, audience)
            if audience == "restricted":
                _write_health(con, database)
            _write_about(con, audience, marts)
            con.execute("detach src")
            con.execute("checkpoint")
        temporary.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)  # 0444: readers only
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _attach(con: duckdb.DuckDBPyConnection, database: Path) -> None:
    try:
        quoted = str(database).replace("'", "''")
        con.execute(f"attach '{quoted}' as src (read_only)")
    except duckdb.IOException as exc:
        raise PublishError(f"cannot read {database} (a load or build may hold it; try again): {exc}") from exc


def _copy_mart(con: duckdb.DuckDBPyConnection, mart: Mart, audience: str) -> None:
    found = con.execute(
        "select schema_name from duckdb_tables() where database_name = 'src' and table_name = ? and schema_name in ?",
        [mart.name, list(MART_SCHEMAS)],
    ).fetchall()
    if not found:
        raise PublishError(f"mart {mart.name} is not in the warehouse: run `rollcall build` first")
    schema = found[0][0]
    columns = [
        row[0]
        for row in con.execute(
            "select column_name from duckdb_columns() where database_name = 'src' and schema_name = ?"
            " and table_name = ? order by column_index",
            [schema, mart.name],
        ).fetchall()
    ]
    if audience == "public" and mart.pii_columns & set(columns):
        leaking = ", ".join(sorted(mart.pii_columns & set(columns)))
        raise PublishError(f"{mart.name} is declared public but has PII-tagged columns: {leaking}")
    select = ", ".join(f'"{column}"' for column in columns)
    con.execute(f'create schema if not exists "{schema}"')
    con.execute(f'create table "{schema}"."{mart.name}" as select {select} from src."{schema}"."{mart.name}"')


def _write_health(con: duckdb.DuckDBPyConnection, database: Path) -> None:
    con.execute("create schema health")
    for table, sql in HEALTH_SQL.items():
        try:
            con.execute(f"create table health.{table} as {sql}")
        except duckdb.CatalogException as exc:
            raise PublishError(f"{database} has no load audit (audit schema): run `rollcall load` first") from exc


def _write_about(con: duckdb.DuckDBPyConnection, audience: str, marts: list[Mart]) -> None:
    con.execute("create schema if not exists published")
    con.execute("create table published.about (audience varchar, published_at timestamptz, marts varchar[])")
    con.execute(
        "insert into published.about values (?, ?, ?)",
        [audience, datetime.now(UTC), [mart.name for mart in marts]],
    )


EPILOG = (
    "\b\nExit codes:\n  0  published\n"
    "  2  no warehouse, a warehouse busy or without marts, or a PII column bound for the public file"
)


@click.command("publish", epilog=EPILOG, short_help="write the published files BI tools and the dashboard read")
@click.option("--database", metavar="FILE", help="DuckDB warehouse (default $ROLLCALL_DUCKDB_PATH)")
@click.option(
    "--out", metavar="FOLDER", help="folder for restricted.duckdb and public.duckdb (default <warehouse>/published)"
)
def publish_command(database: str | None, out: str | None) -> int:
    """Copy the marts BI users may see into read-only DuckDB files: restricted.duckdb (school staff)
    and public.duckdb (aggregates only), each swapped in atomically. See docs/bi.md."""
    try:
        paths = publish(Path(database) if database else database_path(), Path(out) if out else None)
    except PublishError as exc:
        click.echo(f"rollcall publish: {exc}", err=True)
        return 2
    for audience, path in paths.items():
        click.echo(f"published {audience:<10} {path}")
    click.echo("open the dashboard with: .venv/bin/rollcall dashboard   (then http://127.0.0.1:8501)")
    return 0
