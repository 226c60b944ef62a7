"""Load-speed benchmark: rollcall's loader against DuckDB's own read_csv on the same file.

Generates a sample district large enough for >= 1M attendance rows, then times, in one run
and alternating so both see the same machine state:

* baseline: DuckDB ``create table ... as select * from read_csv(attendance.csv)`` into a new file;
* rollcall: ``load_package`` of a drop holding only that attendance.csv into a new file
  (header mapping, quarantine scan, lineage columns, dlt arrow landing, audit, row check);
* dbt: ``rollcall build`` (dbt build with all tests) on the whole district.

Reports medians and the ratio rollcall / baseline. Usage:

    .venv/bin/python benchmarks/bench_load.py [--students 2200] [--repeats 3] [--skip-dbt]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from loaders.dlt_pipelines import pipelines_dir_for  # noqa: E402
from loaders.oneroster.pipeline import load_package  # noqa: E402
from rollcall.generator import generate_district  # noqa: E402


def time_baseline(csv_path: Path, work: Path) -> float:
    database = work / "baseline.duckdb"
    database.unlink(missing_ok=True)
    started = time.perf_counter()
    with duckdb.connect(str(database)) as con:
        con.execute(f"create table attendance as select * from read_csv('{csv_path}')")
    return time.perf_counter() - started


def time_rollcall(drop: Path, work: Path) -> tuple[float, int]:
    database = work / "rollcall.duckdb"
    database.unlink(missing_ok=True)
    shutil.rmtree(pipelines_dir_for(database), ignore_errors=True)
    started = time.perf_counter()
    report = load_package(drop, "demo-unified", database)
    elapsed = time.perf_counter() - started
    assert report.status == "succeeded", report
    return elapsed, report.rows_landed


def time_dbt(package: Path, work: Path) -> float:
    database = work / "dbt.duckdb"
    database.unlink(missing_ok=True)
    load_package(package, "demo-unified", database)
    env = dict(os.environ, ROLLCALL_DUCKDB_PATH=str(database))
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "rollcall.cli", "build"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(result.stdout[-3000:])
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=2200)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-dbt", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="rollcall-bench-") as tmp:
        work = Path(tmp)
        package = work / "district"
        generate_district(package, students=args.students, days=args.days)
        drop = work / "attendance-only"
        drop.mkdir()
        shutil.copy(package / "attendance.csv", drop / "attendance.csv")
        csv_path = drop / "attendance.csv"
        size_mb = csv_path.stat().st_size / 1e6

        baseline, rollcall = [], []
        rows = 0
        for _ in range(args.repeats):
            baseline.append(time_baseline(csv_path, work))
            elapsed, rows = time_rollcall(drop, work)
            rollcall.append(elapsed)
        results = {
            "students": args.students,
            "attendance_rows": rows,
            "attendance_csv_mb": round(size_mb, 1),
            "repeats": args.repeats,
            "duckdb_read_csv_s": round(statistics.median(baseline), 2),
            "rollcall_load_s": round(statistics.median(rollcall), 2),
        }
        results["ratio"] = round(results["rollcall_load_s"] / results["duckdb_read_csv_s"], 2)
        if not args.skip_dbt:
            results["dbt_build_s"] = round(time_dbt(package, work), 1)

    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    (out / "bench_load.json").write_text(json.dumps(results, indent=2) + "\n")
    width = max(len(k) for k in results)
    for key, value in results.items():
        print(f"{key:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
