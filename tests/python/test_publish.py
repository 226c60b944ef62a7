"""``rollcall publish`` on tiny hand-made projects and warehouses: a wrong declaration is refused
with the file, mart and reason, and nothing half-written is left behind."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from loaders.audit import DDL as AUDIT_DDL
from rollcall.publish import PublishError, declared_marts, publish

SCHOOLS_YAML = """
version: 2
models:
  - name: dim_schools
    config:
      meta: {{publish: {audience}}}
    columns:
      - name: school_id
      - name: {column}
        meta: {{pii: {pii}}}
"""


def _project(root: Path, audience: str, column: str = "school_name", pii: str = "null") -> Path:
    folder = root / "project" / "models" / "marts" / "core"
    folder.mkdir(parents=True)
    (folder / "_core__models.yml").write_text(SCHOOLS_YAML.format(audience=audience, column=column, pii=pii))
    return root / "project"


def _warehouse(root: Path, column: str) -> Path:
    database = root / "warehouse.duckdb"
    with duckdb.connect(str(database)) as con:
        con.execute(AUDIT_DDL)  # an empty load audit, as after `rollcall load`
        con.execute("create schema core")
        con.execute(f"create table core.dim_schools as select 's1' as school_id, 'x' as {column}")
    return database


def test_declared_marts_read_the_audience_and_pii_columns(tmp_path):
    marts = declared_marts(_project(tmp_path, "restricted", "principal_email", "direct"))
    assert [(mart.name, mart.audience, set(mart.pii_columns)) for mart in marts] == [
        ("dim_schools", "restricted", {"principal_email"})
    ]


def test_unknown_audience_is_refused_naming_the_file_and_mart(tmp_path):
    project = _project(tmp_path, "everyone")
    with pytest.raises(PublishError, match=r"models/marts/core/_core__models\.yml: dim_schools: unknown publish"):
        declared_marts(project)


def test_public_mart_with_a_pii_column_is_refused_and_nothing_is_left_behind(tmp_path):
    project = _project(tmp_path, "public", "principal_email", "direct")
    database = _warehouse(tmp_path, "principal_email")
    out = tmp_path / "published"
    with pytest.raises(
        PublishError, match="dim_schools is declared public but has PII-tagged columns: principal_email"
    ):
        publish(database, out, project)
    assert not (out / "public.duckdb").exists()
    assert not [path for path in out.iterdir() if path.suffix == ".tmp"]


def test_restricted_and_public_files_are_written_read_only(tmp_path):
    project = _project(tmp_path, "public")
    database = _warehouse(tmp_path, "school_name")
    paths = publish(database, tmp_path / "published", project)
    for audience, path in paths.items():
        assert path.stat().st_mode & 0o777 == 0o444
        with duckdb.connect(str(path), read_only=True) as con:
            assert con.execute("select audience, marts from published.about").fetchall() == [
                (audience, ["dim_schools"])
            ]
            assert con.execute("select school_id, school_name from core.dim_schools").fetchall() == [("s1", "x")]
    with duckdb.connect(str(paths["restricted"]), read_only=True) as con:
        assert con.execute("select count(*) from health.source_loads").fetchall() == [(0,)]


def test_a_warehouse_without_load_audit_is_refused_with_the_reason(tmp_path):
    project = _project(tmp_path, "restricted")
    database = tmp_path / "bare.duckdb"
    with duckdb.connect(str(database)) as con:
        con.execute("create schema core")
        con.execute("create table core.dim_schools as select 's1' as school_id, 'x' as school_name")
    with pytest.raises(PublishError, match="has no load audit"):
        publish(database, tmp_path / "published", project)
    assert not (tmp_path / "published" / "restricted.duckdb").exists()
