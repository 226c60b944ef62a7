"""State-scale run (not part of CI): one district of 1,000,000 students, generated, loaded and built
whole, with the rates mart checked against the hand-written baseline query.

Each step runs in its own process under /usr/bin/time: wall seconds, CPU seconds (user + system:
less sensitive than wall time to other work on a shared machine) and peak RSS, each within one
DuckDB memory budget (``--memory-limit``, default 10GB: the default 6GB cannot stage the records
at this size), spilling beyond it; the build runs one model at a time (``--threads``, default 1:
two attendance models spilling at once outgrew the disk). Disk is the limit at this size (about
30 GB of CSV), so the steps are ordered to need the CSV files and the warehouse together only
during the load and the baseline query: load, baseline query, then the
attendance file is deleted (``--keep-csv`` keeps it) before the build. Run again with the same
arguments, it resumes: after the load it goes straight to the build; with the package written, to
the load; after a stopped build (Ctrl-C, a full disk), to ``rollcall build`` without
``--full-refresh``, which keeps the incremental models the stopped one finished (the build's
figures are then the sums of its parts).

    .venv/bin/python benchmarks/bench_state.py --students 1000000 --work /path/with/80GB/free
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bench_scale import BIN, DISTRICT, ROOT, python_step, rates_equal, timed

# the baseline query under the same memory budget as a build or a load (rollcall.settings), spilling beyond it
BASELINE_RATES = """
import duckdb, sys
from rollcall.settings import duckdb_budget
con = duckdb.connect(sys.argv[1], config={**duckdb_budget(sys.argv[1]), "preserve_insertion_order": False})
con.execute("set variable package = ?", [sys.argv[2]])
con.execute(open(sys.argv[3]).read())
con.execute("create table rates as select * from baseline_rates")
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=1_000_000)
    parser.add_argument("--schools", type=int, default=40)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--work", required=True, help="an empty folder with room for the CSVs and the warehouse")
    parser.add_argument("--keep-csv", action="store_true", help="keep attendance.csv after the load")
    # staging the records at this size asks DuckDB for blocks the default 6GB cannot hold (docs/benchmarks.md)
    parser.add_argument("--memory-limit", default="10GB", help="DuckDB's budget for each step (default 10GB)")
    # two attendance models building at once spilled 46 GB at 1,000,000 students: one at a time spills less
    parser.add_argument("--threads", type=int, default=1, help="dbt threads for the build (default 1)")
    # at 1,000,000 students the query's spill outgrew 40 GB of free disk beside the CSV and the warehouse
    parser.add_argument("--no-baseline", dest="baseline", action="store_false", help="skip the baseline rates query")
    parser.add_argument(
        "--resume-select",
        nargs="+",
        metavar="SELECTOR",
        help="resume a stopped build with `rollcall build --select SELECTOR...`: the nodes it had not finished,"
        " when a model changed since it stopped (the planned build would then rebuild everything from scratch)",
    )
    args = parser.parse_args()

    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    package, warehouse = work / "package", work / "warehouse.duckdb"
    env = {"ROLLCALL_DUCKDB_PATH": str(warehouse), "ROLLCALL_DUCKDB_MEMORY_LIMIT": args.memory_limit}
    results: dict = {"students": args.students, "schools": args.schools, "days": args.days}
    results["memory_limit"] = args.memory_limit
    out = ROOT / "benchmarks" / "results" / "bench_state.json"
    out.parent.mkdir(exist_ok=True)

    def step(name: str, command: list[str], step_env: dict[str, str] | None = None) -> None:
        results[name] = timed(command, step_env, output=False)
        out.write_text(json.dumps(results, indent=2) + "\n")  # progress survives an interrupted run
        print(name, results[name], flush=True)

    earlier = json.loads(out.read_text()) if out.exists() else {}
    if any(earlier.get(key) != results[key] for key in ("students", "schools", "days")):
        earlier = {}  # another size's figures
    stopped_builds: list[dict] = []
    if "load" in earlier and warehouse.exists():  # resume after the load: the raw tables are there
        parts = earlier.get("build_parts", [])
        stopped_builds = parts if parts and parts[-1]["exit_status"] != 0 else []  # resumed, not redone
        results.update(
            {
                key: earlier[key]
                for key in ("generate", "attendance_csv_gib", "load", "baseline_rates")
                if key in earlier
            }
        )
    else:
        if "generate" in earlier and (package / "attendance.csv").exists():  # resume: the package is written
            results["generate"] = earlier["generate"]
        else:
            generate = [str(BIN / "rollcall"), "generate", str(package), "--students", str(args.students)]
            step("generate", [*generate, "--schools", str(args.schools), "--days", str(args.days)])
        results["attendance_csv_gib"] = round((package / "attendance.csv").stat().st_size / 2**30, 2)
        step("load", [str(BIN / "rollcall"), "load", str(package), "--district", DISTRICT], env)
        if args.baseline:
            rates_sql = str(ROOT / "benchmarks" / "baseline_rates.sql")
            baseline = python_step(BASELINE_RATES, str(work / "baseline_rates.duckdb"), str(package), rates_sql)
            step("baseline_rates", baseline, env)
        if not args.keep_csv:
            (package / "attendance.csv").unlink()
    results["threads"] = args.threads
    if not run_build(results, stopped_builds, args.threads, env, out, args.resume_select):
        return 1
    results["warehouse_gib"] = round(warehouse.stat().st_size / 2**30, 2)
    if "baseline_rates" in results:
        results["rates_vs_baseline"] = rates_equal(warehouse, work / "baseline_rates.duckdb")
        build, baseline = results["build"]["seconds"], results["baseline_rates"]["seconds"]
        results["ratio_build_vs_baseline_query"] = round(build / baseline, 2)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    return 0


def run_build(
    results: dict, parts: list[dict], threads: int, env: dict[str, str], out: Path, resume_select: list[str] | None
) -> bool:
    """``rollcall build --full-refresh``; after a stopped one (Ctrl-C, a full disk), ``rollcall build``
    without it, which keeps the incremental models the stopped build finished (or, with
    ``resume_select``, only those nodes). Each part is kept, with its selection; the build's
    figures are their sums (peak RSS: the largest)."""
    selection = ["--select", *resume_select] if parts and resume_select else []
    options = selection or ([] if parts else ["--full-refresh"])
    command = [str(BIN / "rollcall"), "build", *options, "--threads", str(threads)]
    part = timed(command, env, output=False, check=False)
    parts = [*parts, {**part, "select": resume_select} if selection else part]
    results["build_parts"] = parts
    if parts[-1]["exit_status"] == 0:
        results["build"] = {
            "seconds": round(sum(part["seconds"] for part in parts), 1),
            "cpu_seconds": round(sum(part["cpu_seconds"] or 0 for part in parts), 1),
            "peak_rss_gib": max(part["peak_rss_gib"] or 0 for part in parts),
            "parts": len(parts),
        }
    out.write_text(json.dumps(results, indent=2) + "\n")
    print("build", parts[-1], flush=True)
    if parts[-1]["exit_status"] != 0:
        print(f"the build stopped (exit {parts[-1]['exit_status']}): run again with the same arguments to resume it")
    return parts[-1]["exit_status"] == 0


if __name__ == "__main__":
    raise SystemExit(main())
