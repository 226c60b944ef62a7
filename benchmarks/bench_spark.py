"""DuckDB against a local Spark on the same district: dbt run (models) and dbt build (models and
every data test), both targets in the same run from the same landed raw data.

Generates one OneRoster district of STUDENTS students (rollcall generate), loads it once with the
lake switch (DuckDB warehouse and parquet lake), then times, each in its own process (wall time,
CPU seconds and peak RSS from /usr/bin/time; Spark's JVM outlives the dbt process that starts it,
so each dbt command runs under benchmarks/reap.py, which waits for it: its CPU seconds count, and
its memory in the peak, the largest single process; CPU seconds compare the two targets even on a
busy machine):
``dbt seed``, ``dbt run`` and ``dbt build`` (seeds, models and data tests; unit tests run on
DuckDB only) on target dev (DuckDB) and target spark (local[2]).

Usage: .venv/bin/python benchmarks/bench_spark.py --students 2000 [--students 20000] [--days 180]
       [--commands seed,run,build]
Needs the spark extra (uv sync --extra spark) and Java 17. Results go to
benchmarks/results/bench_spark.json; docs/scale-out.md quotes them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
from pathlib import Path

from bench_scale import BIN, DISTRICT, ROOT, timed

REAP = Path(__file__).with_name("reap.py")  # Spark's JVM outlives dbt: wait for it, count it


def measure(students: int, days: int, commands: list[str], work: Path) -> dict:
    env = {
        "ROLLCALL_DUCKDB_PATH": str(work / "rollcall.duckdb"),
        "ROLLCALL_LAKE_PATH": str(work / "lake"),
        "ROLLCALL_SPARK_WAREHOUSE": str(work / "spark"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_EXCLUDE_RESOURCE_TYPES": "unit_test",  # unit tests run on DuckDB only
    }
    rollcall = str(BIN / "rollcall")
    timed([rollcall, "generate", str(work / "drop"), "--students", str(students), "--days", str(days)], env)
    result: dict = {"students": students, "days": days}
    result["load"] = timed([rollcall, "load", str(work / "drop"), "--district", DISTRICT, "--brief"], env, output=False)
    # the lake export on its own (`rollcall load --lake` does the same after landing)
    result["lake"] = timed([rollcall, "lake"], env, output=False)
    for target in ("dev", "spark"):
        target_env = {**env, "DBT_TARGET_PATH": str(work / f"target-{target}")}
        for command in commands:
            dbt = [sys.executable, str(REAP), str(BIN / "dbt"), command, "--target", target, "--full-refresh"]
            result[f"{target}_{command}"] = timed(dbt, target_env, output=False)
            print(f"{students} students, {target} {command}: {result[f'{target}_{command}']}", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, action="append", help="district size (repeatable)")
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument(
        "--commands", default="seed,run,build", help="dbt commands timed on each target, in order (%(default)s)"
    )
    args = parser.parse_args()
    results = {"machine": f"{platform.machine()}, {os.cpu_count()} cores", "load_average_at_start": os.getloadavg()}
    results["runs"] = []
    for students in args.students or [2000]:
        with tempfile.TemporaryDirectory(prefix="bench-spark-") as folder:
            run = measure(students, args.days, args.commands.split(","), Path(folder))
        results["runs"].append(run)
        print(json.dumps(run), flush=True)
    results["load_average_at_end"] = os.getloadavg()
    out = ROOT / "benchmarks" / "results" / "bench_spark.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
