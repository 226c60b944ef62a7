"""Load-speed benchmark: rollcall's loader against DuckDB's own read_csv on the same file.

Generates a sample district large enough for >= 1M attendance rows (or takes an existing
attendance file with ``--csv``), then times, in one run and alternating so both see the same
machine state, each run in a fresh child process (its peak RSS is the child's):

* baseline: DuckDB ``create table ... as select * from read_csv(attendance.csv)`` into a new file;
* rollcall: ``load_package`` of a drop holding only that attendance.csv into a new file
  (header mapping, quarantine scan, lineage columns, dlt landing, audit, landed-row count);
* dbt: ``rollcall build`` (dbt build with all tests) on the whole district.

Reports medians, the ratio rollcall / baseline, peak RSS and CPU seconds; ``--phases`` adds one
more rollcall run timed phase by phase. Usage:

    .venv/bin/python benchmarks/bench_load.py [--students 2200] [--repeats 3] [--skip-dbt] [--phases]
    .venv/bin/python benchmarks/bench_load.py --csv path/to/attendance.csv --repeats 3
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULT_MARK = "\nbench-result: "


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child_baseline(csv_path: Path, work: Path) -> dict:
    import duckdb

    database = work / "baseline.duckdb"
    database.unlink(missing_ok=True)
    cpu, started = _cpu_seconds(), time.perf_counter()
    with duckdb.connect(str(database)) as con:
        con.execute(f"create table attendance as select * from read_csv('{csv_path}')")
    result = {"seconds": time.perf_counter() - started, "cpu_seconds": _cpu_seconds() - cpu}
    database.unlink()
    return result


PHASES = {  # module, function, label: what --phases times
    "loaders.oneroster.pipeline": {
        "ensure_raw_tables": "raw tables",
        "scan_oneroster_csv": "scan: parse, quarantine, counts",
        "_tombstone_events": "bulk tombstone check",
        "_run_dlt": "dlt run (landing)",
    },
    "loaders.spine": {"verify_landing": "landed-row count"},
    "loaders.package": {"sha256_of": "sha256 of the file"},
    "loaders.drop_checks": {"prepare_text": "text decisions: encoding, line endings, delimiter"},
}


def child_rollcall(drop: Path, work: Path, phases: bool) -> dict:
    import importlib

    from loaders.dlt_pipelines import pipelines_dir_for
    from loaders.oneroster.pipeline import load_package

    timings: dict[str, float] = {}
    if phases:
        for module_name, functions in PHASES.items():
            module = importlib.import_module(module_name)
            for name, label in functions.items():
                original = getattr(module, name)

                def timed(*args, _original=original, _label=label, **kwargs):
                    started = time.perf_counter()
                    try:
                        return _original(*args, **kwargs)
                    finally:
                        timings[_label] = timings.get(_label, 0.0) + time.perf_counter() - started

                setattr(module, name, timed)
    database = work / "rollcall.duckdb"
    database.unlink(missing_ok=True)
    shutil.rmtree(pipelines_dir_for(database), ignore_errors=True)
    cpu, started = _cpu_seconds(), time.perf_counter()
    report = load_package(drop, "demo-unified", database)
    result = {"seconds": time.perf_counter() - started, "cpu_seconds": _cpu_seconds() - cpu}
    assert report.status == "succeeded", report
    result["rows"] = report.rows_landed
    if phases:
        timings["other: audit, district gate, commit"] = result["seconds"] - sum(timings.values())
        result["phases"] = {label: round(seconds, 2) for label, seconds in timings.items()}
    database.unlink()
    return result


def run_child(*args: str) -> dict:
    """Run this script as a child measuring one thing; its JSON result plus its peak RSS."""
    process = subprocess.Popen([sys.executable, __file__, "--child", *args], stdout=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(process.pid, 0)
    output = process.stdout.read()
    process.stdout.close()
    if os.waitstatus_to_exitcode(status) != 0 or RESULT_MARK not in output:
        raise SystemExit(f"child {args[0]} failed")
    result = json.loads(output[output.rindex(RESULT_MARK) + len(RESULT_MARK) :].splitlines()[0])
    result["peak_rss_mb"] = usage.ru_maxrss / 1024
    return result


def time_dbt(package: Path, work: Path) -> float:
    from loaders.oneroster.pipeline import load_package

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
    if sys.argv[1:2] == ["--child"]:
        kind, path, work = sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4])
        result = child_baseline(path, work) if kind == "baseline" else child_rollcall(path, work, kind == "phases")
        print(RESULT_MARK + json.dumps(result))  # on its own line: DuckDB may draw a progress bar
        return 0

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=2200)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--csv", type=Path, help="an existing attendance.csv (no district generated, no dbt)")
    parser.add_argument("--skip-dbt", action="store_true")
    parser.add_argument("--phases", action="store_true", help="one more rollcall run, timed phase by phase")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="rollcall-bench-") as tmp:
        work = Path(tmp)
        drop = work / "attendance-only"
        drop.mkdir()
        csv_path = drop / "attendance.csv"
        package = work / "district"
        if args.csv:
            try:  # a hard link: no copy of a multi-GB file
                os.link(args.csv.resolve(), csv_path)
            except OSError:
                shutil.copy(args.csv, csv_path)
        else:
            from rollcall.sample import generate_district

            generate_district(package, students=args.students, days=args.days)
            shutil.copy(package / "attendance.csv", csv_path)

        runs: dict[str, list[dict]] = {"baseline": [], "rollcall": []}
        for repeat in range(args.repeats):
            for kind, target in (("baseline", csv_path), ("rollcall", drop)):
                runs[kind].append(run_child(kind, str(target), str(work)))
            base, ours = runs["baseline"][-1]["seconds"], runs["rollcall"][-1]["seconds"]
            print(f"run {repeat + 1}: baseline {base:.2f} s, rollcall {ours:.2f} s, ratio {ours / base:.2f}")

        def median(kind: str, key: str) -> float:
            return statistics.median(run[key] for run in runs[kind])

        results: dict = {
            "students": None if args.csv else args.students,
            "attendance_rows": runs["rollcall"][-1]["rows"],
            "attendance_csv_mb": round(csv_path.stat().st_size / 1e6, 1),
            "repeats": args.repeats,
            "duckdb_read_csv_s": round(median("baseline", "seconds"), 2),
            "rollcall_load_s": round(median("rollcall", "seconds"), 2),
        }
        results["ratio"] = round(results["rollcall_load_s"] / results["duckdb_read_csv_s"], 2)
        pairs = zip(runs["baseline"], runs["rollcall"], strict=True)
        results["ratios_per_run"] = [round(ours["seconds"] / base["seconds"], 2) for base, ours in pairs]
        results["duckdb_read_csv_cpu_s"] = round(median("baseline", "cpu_seconds"), 2)
        results["rollcall_load_cpu_s"] = round(median("rollcall", "cpu_seconds"), 2)
        results["duckdb_read_csv_peak_rss_mb"] = round(max(run["peak_rss_mb"] for run in runs["baseline"]))
        results["rollcall_load_peak_rss_mb"] = round(max(run["peak_rss_mb"] for run in runs["rollcall"]))
        if args.phases:
            results["rollcall_phases_s"] = run_child("phases", str(drop), str(work))["phases"]
        if not args.csv and not args.skip_dbt:
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
