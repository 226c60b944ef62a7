"""District-scale benchmark: load, dbt run, dbt build and an hourly increment, against baselines
measured in the same run.

Generates a district (default 100,000 students x 180 days), holds its last school day back, and
measures, each step in its own process (wall time and peak RSS from /usr/bin/time):

* baseline load: DuckDB ``create table as select * from read_csv(attendance.csv)`` on the base drop;
* baseline rates: benchmarks/baseline_rates.sql, one hand-written DuckDB query from the CSVs to
  student x school x session absence rates and chronic flags (its result must equal the mart);
* rollcall load of the base drop, ``dbt run --full-refresh`` (models only) and
  ``rollcall build --full-refresh`` (models and every test);
* the increment: the held-back day as a delta attendance file, ``rollcall load`` then the planned
  ``rollcall build`` — and the marts checked against the baseline query over all days.

Usage: .venv/bin/python benchmarks/bench_scale.py [--students 100000] [--days 180] [--keep DIR]
Results go to benchmarks/results/bench_scale.json; docs/benchmarks.md quotes them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DISTRICT = "demo-unified"
RATE_COLUMNS = "student_id, school_id, academic_session_id, membership_days, absent_days, is_chronically_absent"


def timed(command: list[str], env: dict[str, str] | None = None, output: bool = True, check: bool = True) -> dict:
    """Run ``command`` under /usr/bin/time: wall and CPU (user + system) seconds, peak RSS (GiB) and,
    with ``output``, its stdout. Fails loudly, unless ``check`` is off: then its exit status is kept
    (a step stopped by a signal may leave no CPU or memory figures: they are None)."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        started = time.perf_counter()
        result = subprocess.run(
            ["/usr/bin/time", "-o", report.name, "-f", "%M %U %S", *command],
            cwd=ROOT,
            env={**os.environ, **(env or {})},
            capture_output=True,
            text=True,
        )
        seconds = time.perf_counter() - started
        figures = Path(report.name).read_text().split()[-3:]
    if check and result.returncode != 0:
        raise SystemExit(
            f"{' '.join(command)} exited {result.returncode}:\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
        )
    measured = len(figures) == 3 and all(figure.replace(".", "").isdigit() for figure in figures)
    peak_kib, user, system = figures if measured else (None, None, None)
    return {
        "seconds": round(seconds, 1),
        "cpu_seconds": round(float(user) + float(system), 1) if measured else None,
        "peak_rss_gib": round(int(peak_kib) / 2**20, 2) if measured else None,
        **({"stdout": result.stdout} if output else {}),
        **({} if check else {"exit_status": result.returncode}),
    }


def python_step(code: str, *args: str) -> list[str]:
    return [sys.executable, "-c", code, *args]


BASELINE_LOAD = """
import duckdb, sys
con = duckdb.connect(sys.argv[1])
con.execute("create table attendance as select * from read_csv(?)", [sys.argv[2]])
"""

BASELINE_RATES = """
import duckdb, sys
con = duckdb.connect(sys.argv[1])
con.execute("set variable package = ?", [sys.argv[2]])
con.execute(open(sys.argv[3]).read())
con.execute("create table rates as select * from baseline_rates")
"""


def split_package(package: Path, base: Path, increment: Path) -> str:
    """base: the package without its last attendance day; increment: that day as a delta file."""
    shutil.copytree(package, base)
    increment.mkdir()
    source = package / "attendance.csv"
    with duckdb.connect() as con:
        last_day = con.execute(f"select max(date) from read_csv('{source}', all_varchar = true)").fetchone()[0]
        for target, condition in ((base, "<"), (increment, "=")):
            con.execute(
                f"copy (select * from read_csv('{source}', all_varchar = true) where date {condition} '{last_day}')"
                f" to '{target / 'attendance.csv'}' (header, quote '\"')"
            )
    (increment / "manifest.csv").write_text(
        "propertyName,value\nmanifest.version,1.0\noneroster.version,1.1\nfile.attendance,delta\n"
    )
    return last_day


def rates_equal(warehouse: Path, baseline: Path) -> dict:
    with duckdb.connect() as con:
        con.execute(f"attach '{warehouse}' as w (read_only)")
        con.execute(f"attach '{baseline}' as b (read_only)")
        mart = f"select {RATE_COLUMNS} from w.attendance.fct_student_absence_rates"
        expected = f"select {RATE_COLUMNS} from b.rates"
        only_mart = con.execute(f"select count(*) from ({mart} except all {expected})").fetchone()[0]
        only_baseline = con.execute(f"select count(*) from ({expected} except all {mart})").fetchone()[0]
        rows, chronic = con.execute("select count(*), count(*) filter (is_chronically_absent) from b.rates").fetchone()
    return {"rows": rows, "chronic": chronic, "only_in_mart": only_mart, "only_in_baseline": only_baseline}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--keep", help="work in this folder and keep it (default: a temporary folder)")
    args = parser.parse_args()

    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="rollcall-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    results: dict = {"students": args.students, "days": args.days}
    try:
        package = work / "package"
        shutil.rmtree(package, ignore_errors=True)
        step = timed(
            [
                str(BIN / "rollcall"),
                "generate",
                str(package),
                "--students",
                str(args.students),
                "--days",
                str(args.days),
            ]
        )
        results["generate"] = {k: v for k, v in step.items() if k != "stdout"}
        for folder in ("base", "increment"):
            shutil.rmtree(work / folder, ignore_errors=True)
        results["increment_day"] = split_package(package, work / "base", work / "increment")
        results["attendance_csv_gib"] = round((work / "base" / "attendance.csv").stat().st_size / 2**30, 2)

        for name in ("baseline_load.duckdb", "baseline_rates.duckdb", "baseline_rates_all.duckdb", "warehouse.duckdb"):
            (work / name).unlink(missing_ok=True)
        results["baseline_load"] = timed(
            python_step(BASELINE_LOAD, str(work / "baseline_load.duckdb"), str(work / "base" / "attendance.csv"))
        )
        results["baseline_rates"] = timed(
            python_step(
                BASELINE_RATES,
                str(work / "baseline_rates.duckdb"),
                str(work / "base"),
                str(ROOT / "benchmarks" / "baseline_rates.sql"),
            )
        )
        env = {"ROLLCALL_DUCKDB_PATH": str(work / "warehouse.duckdb")}
        shutil.rmtree(work / ".warehouse.duckdb.dlt", ignore_errors=True)
        results["load"] = timed([str(BIN / "rollcall"), "load", str(work / "base"), "--district", DISTRICT], env)
        dbt = [str(BIN / "dbt"), "--project-dir", str(ROOT), "--profiles-dir", str(ROOT)]
        timed([*dbt[:1], "seed", *dbt[1:]], env)
        results["dbt_run"] = timed([*dbt[:1], "run", "--full-refresh", *dbt[1:]], env)
        results["dbt_build"] = timed([str(BIN / "rollcall"), "build", "--full-refresh"], env)
        results["rates_vs_baseline"] = rates_equal(work / "warehouse.duckdb", work / "baseline_rates.duckdb")
        if args.keep:  # to measure the increment again: copy it back over warehouse.duckdb
            shutil.copy(work / "warehouse.duckdb", work / "warehouse.before-increment.duckdb")

        results["increment_load"] = timed(
            [str(BIN / "rollcall"), "load", str(work / "increment"), "--district", DISTRICT], env
        )
        results["increment_build"] = timed([str(BIN / "rollcall"), "build"], env)
        timed(
            python_step(
                BASELINE_RATES,
                str(work / "baseline_rates_all.duckdb"),
                str(package),
                str(ROOT / "benchmarks" / "baseline_rates.sql"),
            )
        )
        results["rates_after_increment_vs_baseline"] = rates_equal(
            work / "warehouse.duckdb", work / "baseline_rates_all.duckdb"
        )
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    for step in results.values():
        if isinstance(step, dict):
            step.pop("stdout", None)
    base_load, base_rates = results["baseline_load"]["seconds"], results["baseline_rates"]["seconds"]
    increment = results["increment_load"]["seconds"] + results["increment_build"]["seconds"]
    results["ratios"] = {
        "load_vs_read_csv": round(results["load"]["seconds"] / base_load, 2),
        "dbt_run_vs_baseline_query": round(results["dbt_run"]["seconds"] / base_rates, 2),
        "dbt_build_vs_baseline_query": round(results["dbt_build"]["seconds"] / base_rates, 2),
        "increment_seconds": round(increment, 1),
        "increment_share_of_full_build": round(increment / results["dbt_build"]["seconds"], 3),
    }
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    (out / "bench_scale.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
