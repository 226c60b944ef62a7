"""The same dbt project on Apache Spark builds the same marts as on DuckDB (docs/scale-out.md).

`make demo`'s two districts are generated and loaded once, landing in the DuckDB warehouse and,
through the loader's lake switch, as parquet in a lake folder. dbt builds the project on DuckDB
(target dev) and on a local Spark (target spark, a SparkSession in the dbt process) with every
data test; then every mart is compared row for row. Spark's tables are parquet files in its
warehouse folder, read here by DuckDB, so no second SparkSession is needed.

Marked ``needs_spark``: `make test` leaves these out; `make test-spark` installs the ``spark``
extra and runs them (CI does both). dbt's unit tests give rows in DuckDB's spellings and run on
DuckDB only.
"""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import jinja2
import pytest

from rollcall.cli import DEMO_DISTRICTS
from rollcall.settings import PROJECT_ROOT
from tests.python.support import SKIP_UNIT_TESTS, query, run_dbt, run_rollcall

pytestmark = [pytest.mark.needs_spark, pytest.mark.dbt]

# The schemas of the marts (dbt_project.yml: models.marts.*.+schema).
MART_SCHEMAS = ("core", "attendance", "quality", "messaging", "assessment")
# When a row was written: the build's own start, different in every build.
BUILD_TIME_COLUMNS = {"built_at"}
# Doubles are compared rounded to this many decimal places (both engines sum in a different order).
FLOAT_DECIMALS = 9
FLOAT_TYPES = ("DOUBLE", "FLOAT")


def spark_env(tmp: Path, lake: Path) -> dict[str, str]:
    return {
        **os.environ,
        "ROLLCALL_LAKE_PATH": str(lake),
        "ROLLCALL_SPARK_WAREHOUSE": str(tmp / "spark"),
        "DBT_TARGET_PATH": str(tmp / "target-spark"),
        "DBT_LOG_PATH": str(tmp / "logs-spark"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        **SKIP_UNIT_TESTS,
    }


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Both districts loaded, then built on DuckDB and on Spark: (warehouse, spark folder, results)."""
    tmp = tmp_path_factory.mktemp("spark")
    database, lake = tmp / "rollcall.duckdb", tmp / "lake"
    for district, folder, options in DEMO_DISTRICTS:
        drop = tmp / folder / "drop"
        generated = run_rollcall("generate", str(drop), *options)
        assert generated.returncode == 0, generated.stderr
        loaded = run_rollcall(
            "load", str(drop), "--district", district, "--brief", "--lake", str(lake), database=database
        )
        assert loaded.returncode in (0, 3), loaded.stdout + loaded.stderr  # demo-sis is partial by design
        assert "lake " in loaded.stdout
    duck = run_dbt("build", database=database)
    spark = subprocess.run(
        [str(Path(sys.executable).parent / "dbt"), "build", "--target", "spark"],
        cwd=PROJECT_ROOT,
        env=spark_env(tmp, lake),
        capture_output=True,
        text=True,
        timeout=3600,
    )
    return database, tmp / "spark", duck, spark


def marts(database: Path) -> list[tuple[str, str]]:
    return query(
        database,
        "select table_schema, table_name from information_schema.tables "
        f"where table_schema in {MART_SCHEMAS} and table_type = 'BASE TABLE' order by 1, 2",
    )


def test_every_data_test_passes_on_both(built):
    _database, _spark, duck, spark = built
    assert duck.returncode == 0, duck.stdout[-4000:]
    assert spark.returncode == 0, spark.stdout[-4000:]
    for result in (duck, spark):
        summary = result.stdout.strip().splitlines()[-1]
        assert "ERROR=0" in summary and "WARN=" in summary, summary


def test_marts_are_equal_row_for_row(built):
    database, spark_folder, duck, spark = built
    assert duck.returncode == 0 and spark.returncode == 0, "a build failed: see the data-test result"
    tables = marts(database)
    assert len(tables) > 20, tables
    compared_rows = 0
    differences = []
    with duckdb.connect(str(database), read_only=True) as con:
        for schema, table in tables:
            folder = spark_folder / f"{schema}.db" / table
            assert folder.is_dir(), f"{schema}.{table} was not built on Spark"
            columns = con.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = ? and table_name = ? order by ordinal_position",
                [schema, table],
            ).fetchall()
            compared = [(name, data_type) for name, data_type in columns if name not in BUILD_TIME_COLUMNS]
            expressions = ", ".join(
                f'round("{name}", {FLOAT_DECIMALS})'
                if data_type in ("DOUBLE", "FLOAT")
                else f'cast("{name}" as {data_type})'
                for name, data_type in compared
            )
            duck_rows = f'select {expressions} from "{schema}"."{table}"'
            files = sorted(str(path) for path in folder.rglob("*.parquet"))
            if files:
                spark_relation = f"read_parquet({files}, hive_partitioning = true, hive_types_autocast = false)"
            else:  # Spark writes no file for an empty table
                spark_relation = f'(select * from "{schema}"."{table}" where false)'
            spark_rows = f"select {expressions} from {spark_relation}"
            count = con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]
            only_duck = con.execute(f"select count(*) from ({duck_rows} except all {spark_rows})").fetchone()[0]
            only_spark = con.execute(f"select count(*) from ({spark_rows} except all {duck_rows})").fetchone()[0]
            compared_rows += count
            if only_duck or only_spark:
                # counts only: the rows are students' records
                differences.append(f"{schema}.{table}: {only_duck} row(s) only on DuckDB, {only_spark} only on Spark")
    assert not differences, "\n".join(differences)
    assert compared_rows > 10_000
    # the comparison covers identity's fuzzy rule: the demo has records it matched
    assert query(database, "select count(name_similarity) from core.dim_student_identities")[0][0] > 0


def jaro_winkler_pairs() -> list[tuple[str | None, str | None]]:
    """Textbook pairs, every pair of some short names, and random strings with swapped letters."""
    names = ["martha", "marhta", "dwayne", "duane", "dixon", "dicksonx", "jellyfish", "smellyfish", "crate", "trace"]
    names += ["a", "ab", "ba", "abc", "abcd", "aaaa", "aaab", "jones", "johnson", "maria", "mario", "jon", "john"]
    pairs: list[tuple[str | None, str | None]] = [(left, right) for left in names for right in names]
    generator = random.Random(7)
    for _ in range(3000):
        left = "".join(generator.choice("abcdeino") for _ in range(generator.randint(1, 12)))
        right = list(left) if generator.random() < 0.5 else [generator.choice("abcdeino") for _ in range(12)]
        if generator.random() < 0.5 and len(right) > 2:
            at = generator.randrange(len(right) - 1)
            right[at], right[at + 1] = right[at + 1], right[at]
        pairs.append((left, "".join(right)))
    return [*pairs, (None, "x"), ("x", None)]


def test_spark_jaro_winkler_equals_duckdb():
    """Identity's fuzzy rule: the Spark SQL spelling scores every pair as DuckDB's built-in does."""
    from pyspark.sql import SparkSession

    text = (PROJECT_ROOT / "macros" / "identity.sql").read_text()
    macro = re.search(r"\{% macro spark_jaro_winkler.*?\{%- endmacro %\}", text, re.S).group(0)
    expression = jinja2.Environment().from_string(macro + "{{ spark_jaro_winkler('a', 'b') }}").render()
    pairs = jaro_winkler_pairs()
    with duckdb.connect() as con:
        con.execute("create table pairs (a varchar, b varchar)")
        con.executemany("insert into pairs values (?, ?)", pairs)
        expected = con.execute("select jaro_winkler_similarity(a, b) from pairs").fetchall()
    spark = SparkSession.builder.master("local[1]").config("spark.ui.enabled", "false").getOrCreate()
    try:
        spark.createDataFrame(pairs, "a string, b string").createOrReplaceTempView("pairs")
        scored = spark.sql(f"select {expression} as score from pairs").collect()
    finally:
        spark.stop()
    assert len(scored) == len(expected) == len(pairs) > 3000
    for (left, right), (duck,), row in zip(pairs, expected, scored, strict=True):
        if duck is None:
            assert row.score is None, (left, right)
        else:
            assert row.score == pytest.approx(duck, abs=1e-9), (left, right)
    assert any(0 < duck < 1 for (duck,) in expected if duck is not None)
