"""The lake switch: a load also writes its district's raw tables as parquet for the Spark target."""

from __future__ import annotations

import duckdb

from loaders.lake import land_in_lake
from tests.python.support import TINY_PACKAGE, query, run_rollcall, write_package

DISTRICT = "demo-unified"


def lake_rows(lake, schema: str, table: str) -> int:
    return duckdb.sql(f"select count(*) from read_parquet('{lake / schema / table}/*.parquet')").fetchone()[0]


def test_load_with_lake_writes_the_district_raw_tables(tmp_path):
    database, lake = tmp_path / "w.duckdb", tmp_path / "lake"
    drop = write_package(tmp_path / "drop", TINY_PACKAGE)
    result = run_rollcall("load", str(drop), "--district", DISTRICT, "--lake", str(lake), database=database)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (lake / "raw_oneroster" / "users" / f"{DISTRICT}.parquet").is_file()
    landed = query(database, "select count(*) from raw_oneroster.users")[0][0]
    assert landed == 2
    assert lake_rows(lake, "raw_oneroster", "users") == landed
    catalog = duckdb.sql(f"select schema_name, table_name from '{lake}/_catalog/tables.parquet'").fetchall()
    assert ("raw_oneroster", "users") in catalog and ("raw_oneroster", "orgs") in catalog
    # the dlt bookkeeping tables carry no district and stay out of the lake
    assert not any(table.startswith("_dlt") for _schema, table in catalog)


def test_a_new_load_replaces_the_district_file(tmp_path):
    database, lake = tmp_path / "w.duckdb", tmp_path / "lake"
    first = write_package(tmp_path / "first", TINY_PACKAGE)
    assert run_rollcall("load", str(first), "--district", DISTRICT, database=database).returncode == 0
    land_in_lake(database, lake, [DISTRICT])
    assert lake_rows(lake, "raw_oneroster", "users") == 2
    users = TINY_PACKAGE["users.csv"] + "u3,,,true,s1,student,bo,,Bo,Diddley,,0003,bo@example.org,,,,05,pw\n"
    second = write_package(tmp_path / "second", {**TINY_PACKAGE, "users.csv": users})
    assert run_rollcall("load", str(second), "--district", DISTRICT, database=database).returncode == 0
    report = land_in_lake(database, lake, None)
    landed = query(database, "select count(*) from raw_oneroster.users")[0][0]
    assert landed == 5  # every version of every row, as landed
    assert lake_rows(lake, "raw_oneroster", "users") == landed
    assert ("raw_oneroster", "users", landed) in report.files
    assert not list(lake.rglob("*.tmp"))


def test_a_partial_load_with_a_lake_keeps_its_exit_code(tmp_path):
    database, lake = tmp_path / "w.duckdb", tmp_path / "lake"
    files = {**TINY_PACKAGE, "orgs.csv": "sourcedId,name\nd1,Demo\n"}  # a refused file: the load is partial
    drop = write_package(tmp_path / "drop", files)
    result = run_rollcall("load", str(drop), "--district", DISTRICT, "--lake", str(lake), database=database)
    assert result.returncode == 3, result.stdout + result.stderr
    assert (lake / "_catalog" / "tables.parquet").is_file()  # what did land still reaches the lake
