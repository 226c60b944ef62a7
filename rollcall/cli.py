"""``rollcall`` command line: generate a sample district, load a drop, build, summarise."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rollcall.settings import DEFAULT_DATABASE, database_path

EXIT_OK, EXIT_PARTIAL, EXIT_USAGE = 0, 3, 2


def _cmd_generate(args: argparse.Namespace) -> int:
    from rollcall.generator import generate_district

    try:
        summary = generate_district(
            args.out,
            students=args.students,
            schools=args.schools,
            days=args.days,
            seed=args.seed,
            school_year=args.school_year,
            as_zip=args.zip,
        )
    except ValueError as exc:
        print(f"rollcall generate: {exc}", file=sys.stderr)
        return EXIT_USAGE
    counts = ", ".join(f"{name} {rows:,}" for name, rows in summary.row_counts.items())
    print(f"wrote {summary.path}: {counts}")
    return EXIT_OK


def _cmd_load(args: argparse.Namespace) -> int:
    from loaders.oneroster.pipeline import load_package
    from loaders.package import PackageError
    from loaders.registry import UnknownDistrictError

    database = Path(args.database) if args.database else database_path()
    try:
        report = load_package(
            args.path, args.district, database, max_tombstone_share=args.max_tombstone_share, force=args.force
        )
    except (UnknownDistrictError, PackageError) as exc:
        print(f"rollcall load: refused: {exc}", file=sys.stderr)
        return EXIT_USAGE
    width = max((len(f.file_name) for f in report.files), default=10)
    for f in report.files:
        line = f"  {f.file_name:<{width}}  {f.status:<8}"
        if f.status in ("loaded", "failed"):
            line += f"  {f.mode or '':<5}  read {f.rows_read:,}  landed {f.rows_landed:,}"
            line += f"  quarantined {f.rows_quarantined:,}"
            if f.rows_tombstoned:
                line += f"  tombstoned {f.rows_tombstoned:,}"
        if f.error_text:
            line += f"  — {f.error_text}"
        print(line)
        for warning in f.warnings:
            if warning.code != "no_manifest":
                print(f"  {'':<{width}}  warning   {warning.code}: {warning.detail}")
    if any(w.code == "no_manifest" for f in report.files for w in f.warnings):
        print("  note: no manifest.csv in the drop; file modes were not stated")
    print(
        f"load {report.load_id} for {report.district_id}: {report.status}; "
        f"{report.rows_landed:,} rows landed, {report.rows_quarantined:,} quarantined "
        f"(details: audit.file_log, audit.quarantined_rows in {database})"
    )
    if report.status == "failed":
        return 1
    return EXIT_OK if report.status == "succeeded" else EXIT_PARTIAL


def _cmd_build(args: argparse.Namespace) -> int:
    from rollcall.dbt import run_dbt

    return run_dbt(["build", *args.extra])


def _cmd_check(args: argparse.Namespace) -> int:
    from rollcall.check import CheckUsageError, check_package

    if args.json and not Path(args.json).resolve().parent.is_dir():
        print(f"rollcall check: cannot write {args.json}: its folder does not exist", file=sys.stderr)
        return EXIT_USAGE
    try:
        report = check_package(
            args.path, args.district, progress=lambda message: print(f"rollcall check: {message}", file=sys.stderr)
        )
    except CheckUsageError as exc:
        print(f"rollcall check: refused: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(report.render())
    if args.json:
        report.write_json(args.json)
    return report.exit_code


def _cmd_summary(args: argparse.Namespace) -> int:
    from rollcall.summary import print_summary

    database = Path(args.database) if args.database else database_path()
    return print_summary(database)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rollcall", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    generate = commands.add_parser(
        "generate", help="write a deterministic sample district (OneRoster 1.1 + OneRoster+)"
    )
    generate.add_argument("out", help="folder to write (or .zip path with --zip)")
    generate.add_argument("--students", type=int, default=500)
    generate.add_argument("--schools", type=int, default=4)
    generate.add_argument("--days", type=int, default=100, help="instructional days of attendance to generate")
    generate.add_argument("--seed", type=int, default=42)
    generate.add_argument("--school-year", type=int, default=2026, help="calendar year in which the school year ends")
    generate.add_argument("--zip", action="store_true", help="write a zip file instead of a folder")
    generate.set_defaults(func=_cmd_generate)

    load = commands.add_parser("load", help="land a folder, .zip or .csv of OneRoster(+) files")
    load.add_argument("path")
    load.add_argument("--district", required=True, help="district id from seeds/districts.csv")
    load.add_argument("--database", help=f"DuckDB file (default $ROLLCALL_DUCKDB_PATH or {DEFAULT_DATABASE})")
    load.add_argument(
        "--max-tombstone-share",
        type=float,
        default=0.10,
        help="refuse a bulk file that would tombstone more than this share of the active records (default 0.10)",
    )
    load.add_argument("--force", action="store_true", help="apply bulk files even above --max-tombstone-share")
    load.set_defaults(func=_cmd_load)

    build = commands.add_parser("build", help="run dbt build on the warehouse (extra args go to dbt)")
    build.set_defaults(func=_cmd_build)

    check = commands.add_parser(
        "check",
        help="check an export before sending it: load it into a throwaway warehouse and run the data tests",
        description=(
            "Load a folder, .zip or .csv of OneRoster(+) files into a new temporary DuckDB file (never the "
            "warehouse), run the staging data tests on it, and report per file what loaded and what failed, in "
            "plain words. Exit 0 when no file was refused and no error-level check failed, 1 otherwise, 2 when "
            "the export cannot be opened."
        ),
    )
    check.add_argument("path", help="folder, .zip or .csv to check")
    check.add_argument("--json", metavar="FILE", help="also write the report as JSON to FILE")
    check.add_argument(
        "--district",
        default="demo-unified",
        help="district id from seeds/districts.csv (default demo-unified); it only labels the rows in the "
        "temporary warehouse and does not change the checks",
    )
    check.set_defaults(func=_cmd_check)

    summary = commands.add_parser("summary", help="print rows per mart and current-term absence by school")
    summary.add_argument("--database")
    summary.set_defaults(func=_cmd_summary)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command != "build":  # only `build` passes unknown options on (to dbt)
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.extra = extra
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
