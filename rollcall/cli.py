"""``rollcall`` command line: generate a sample district, load a drop, build, summarise."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rollcall.settings import DEFAULT_DATABASE, database_path

EXIT_OK, EXIT_PARTIAL, EXIT_USAGE = 0, 3, 2
EXIT_NOTHING_LANDED = 2  # `load`: an empty drop, or every file refused
GENERATE_PROGRESS_FROM = 1_000_000  # student-days: larger runs print a line per file written


def _progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _cmd_generate(args: argparse.Namespace) -> int:
    if args.layout != "oneroster":
        return _cmd_generate_sources(args)
    from rollcall.sample import generate_district

    large = args.students * args.days >= GENERATE_PROGRESS_FROM
    try:
        summary = generate_district(
            args.out,
            students=args.students,
            schools=args.schools,
            days=args.days,
            seed=args.seed,
            school_year=args.school_year,
            as_zip=args.zip,
            progress=_progress if large else None,
        )
    except ValueError as exc:
        print(f"rollcall generate: {exc}", file=sys.stderr)
        return EXIT_USAGE
    counts = ", ".join(f"{name} {rows:,}" for name, rows in summary.row_counts.items())
    print(f"wrote {summary.path}: {counts}")
    return EXIT_OK


def _cmd_generate_sources(args: argparse.Namespace) -> int:
    """``rollcall generate --layout sis|multi-source``: a drop in other layouts, with its truth folder."""
    from rollcall.sample import generate_multi_source_district, generate_sis_district

    common = {"students": args.students, "schools": args.schools, "days": args.days, "seed": args.seed}
    common.update(school_year=args.school_year, truth_dir=args.truth)
    try:
        if args.zip:
            raise ValueError(f"--zip is only for --layout oneroster; --layout {args.layout} writes a folder")
        if args.layout == "sis":
            summary = generate_sis_district(
                args.out, guardian_layout=args.guardian_layout, attendance_style=args.attendance_style, **common
            )
        else:
            summary = generate_multi_source_district(args.out, powerschool_headers=args.powerschool_headers, **common)
    except ValueError as exc:
        print(f"rollcall generate: {exc}", file=sys.stderr)
        return EXIT_USAGE
    counts = ", ".join(f"{name} {rows:,}" for name, rows in summary.row_counts.items())
    print(f"wrote {summary.path} ({summary.layout}): {counts}")
    print(f"truth in {summary.truth_path}: {', '.join(summary.truth_counts)}")
    return EXIT_OK


def _cmd_load_sftp(args: argparse.Namespace) -> int:
    """``rollcall load sftp://user@host[:port]/path``: pick up the new or changed files (key pair only)."""
    from loaders.registry import UnknownDistrictError
    from loaders.sftp import SftpError, parse_source

    database = Path(args.database) if args.database else database_path()
    source = {"kind": "sftp", "url": args.path, "identity_file": args.identity_file, "force": args.force}
    source["max_tombstone_share"] = args.max_tombstone_share
    if args.known_hosts:
        source["known_hosts"] = args.known_hosts
    try:
        parse_source(source)  # refuse a password or a missing key before importing dlt
        from loaders.sftp import pull
        from rollcall.sync import format_report_lines

        report = pull(source, district_id=args.district, database=database)
    except (SftpError, UnknownDistrictError) as exc:
        print(f"rollcall load: refused: {exc}", file=sys.stderr)
        return EXIT_USAGE
    for line in format_report_lines(report):
        print(line)
    loads = f"load {', '.join(report.load_ids)}" if report.load_ids else "nothing new to load"
    print(
        f"pickup from {report.source_label} for {report.district_id}: {report.status}; {loads}; "
        f"{len(report.downloaded)} file(s) downloaded, {report.rows_landed:,} rows landed, "
        f"{report.rows_quarantined:,} quarantined (details: audit.file_log, audit.sftp_files in {database})"
    )
    if report.status == "failed":
        return 1
    return EXIT_OK if report.status == "succeeded" else EXIT_PARTIAL


def _cmd_load(args: argparse.Namespace) -> int:
    if args.path.lower().startswith("sftp://"):
        return _cmd_load_sftp(args)
    from loaders.mapped.formats import FormatConfigError
    from loaders.oneroster.pipeline import load_package
    from loaders.package import PackageError
    from loaders.registry import UnknownDistrictError

    database = Path(args.database) if args.database else database_path()
    try:
        report = load_package(
            args.path,
            args.district,
            database,
            max_tombstone_share=args.max_tombstone_share,
            force=args.force,
            mapping=Path(args.mapping) if args.mapping else None,
        )
    except (UnknownDistrictError, PackageError, FormatConfigError) as exc:
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
    if report.status == "refused":
        return EXIT_NOTHING_LANDED
    return EXIT_OK if report.status == "succeeded" else EXIT_PARTIAL


def _cmd_build(args: argparse.Namespace) -> int:
    from rollcall.build_plan import plan_build
    from rollcall.dbt import run_dbt

    plan = plan_build(database_path(), args.extra)
    if plan.is_empty:
        print(f"rollcall build: {plan.reason}; nothing to build")
        return EXIT_OK
    changed = f" ({', '.join(s.removeprefix('source:') for s in plan.changed_sources)})" if plan.changed_sources else ""
    print(f"rollcall build: {plan.reason}{changed}")
    return run_dbt(["build", *plan.dbt_args])


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


def _cmd_pull_clever(args: argparse.Namespace) -> int:
    from loaders.clever import CleverConfigError, CleverPullError, pull, read_source_file
    from loaders.registry import UnknownDistrictError

    database = Path(args.database) if args.database else database_path()
    try:
        source = read_source_file(args.source) if args.source else {"kind": "clever"}
        overrides = {"base_url": args.base_url, "api_version": args.api_version, "token_env": args.token_env}
        source.update({key: value for key, value in overrides.items() if value})
        if args.page_size is not None:
            source["page_size"] = args.page_size
        entities = [name for name in args.entities.split(",") if name.strip()] if args.entities else None
        report = pull(source, district_id=args.district, database=database, entities=entities, full=args.full)
    except (CleverConfigError, UnknownDistrictError) as exc:
        print(f"rollcall pull-clever: refused: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except CleverPullError as exc:
        print(f"rollcall pull-clever: failed, nothing loaded: {exc}", file=sys.stderr)
        return 1
    return _print_pull_report(report, show_read=False)


def _print_pull_report(report, show_read: bool) -> int:
    """One line per file a pull landed (counts only, never record contents); the exit code."""
    for f in report.files:
        read = f"read {f.rows_read:,}  " if show_read else ""
        line = f"  {f.file_name:<22}  {f.status:<8}  {f.mode or '':<5}  {read}landed {f.rows_landed:,}"
        line += f"  tombstoned {f.rows_tombstoned:,}" if f.rows_tombstoned else ""
        print(line + (f"  — {f.error_text}" if f.error_text else ""))
    print(f"pull {report.load_id} for {report.district_id}: {report.status}; {report.rows_landed:,} rows landed")
    if report.status == "failed":
        return 1
    return EXIT_OK if report.status == "succeeded" else EXIT_PARTIAL


def _cmd_sync(args: argparse.Namespace) -> int:
    from rollcall.sync import DEFAULT_CONFIG_DIR, SyncConfigError, parse_now, run_sync

    database = Path(args.database) if args.database else database_path()
    try:
        return run_sync(
            database,
            config_dir=Path(args.config_dir) if args.config_dir else DEFAULT_CONFIG_DIR,
            district=args.district,
            now=parse_now(args.now) if args.now else None,
            dry_run=args.dry_run,
            full=args.full,
        )
    except SyncConfigError as exc:
        print(f"rollcall sync: {exc}", file=sys.stderr)
        return EXIT_USAGE


def _cmd_pull_rest(args: argparse.Namespace) -> int:
    import logging

    from loaders.oneroster_rest import RestConfigError, RestPullError, pull, read_source_file
    from loaders.registry import UnknownDistrictError

    progress = logging.StreamHandler(sys.stderr)  # per-entity counts, never record contents
    progress.setFormatter(logging.Formatter("rollcall pull-rest: %(message)s"))
    logger = logging.getLogger("rollcall.rest")
    logger.addHandler(progress)
    logger.setLevel(logging.INFO)
    database = Path(args.database) if args.database else database_path()
    entities = [name.strip() for name in args.entities.split(",") if name.strip()] if args.entities else None
    try:
        source = read_source_file(args.source, args.name)
        report = pull(source, district_id=args.district, database=database, entities=entities, full=args.full)
    except (RestConfigError, UnknownDistrictError) as exc:
        print(f"rollcall pull-rest: refused: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except RestPullError as exc:
        print(f"rollcall pull-rest: failed, nothing loaded: {exc}", file=sys.stderr)
        return 1
    finally:
        logger.removeHandler(progress)
    return _print_pull_report(report, show_read=True)


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
    generate.add_argument(
        "--layout",
        choices=("oneroster", "sis", "multi-source"),
        default="oneroster",
        help="oneroster (default): OneRoster 1.1 + OneRoster+; sis: SchoolMessenger-style SIS exports; "
        "multi-source: OneRoster + PowerSchool + ClassLink + Star (docs/sample-districts.md)",
    )
    generate.add_argument(
        "--guardian-layout", choices=("two-file", "one-file", "three-file"), default="two-file", help="sis only"
    )
    generate.add_argument(
        "--attendance-style", choices=("records", "one-field", "period-fields"), default="records", help="sis only"
    )
    generate.add_argument(
        "--powerschool-headers", choices=("table", "plain"), help="multi-source only (default: by seed parity)"
    )
    generate.add_argument("--truth", help="sis / multi-source: folder for the truth files (default OUT/../truth)")
    generate.set_defaults(func=_cmd_generate)

    load = commands.add_parser(
        "load",
        help="land a folder, .zip or .csv of OneRoster(+) files",
        description="Land a drop. Exit 0 when every file loaded or was skipped as unchanged, 3 when a file was "
        "refused or rows were quarantined, 2 when nothing landed (an empty drop, every file refused, an unknown "
        "district or an unreadable path), 1 when the landing failed. See docs/loading.md.",
    )
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
    load.add_argument(
        "--mapping",
        metavar="FILE",
        help="YAML with the district's own header spellings and file-to-layout assignments (docs/sis-formats.md)",
    )
    load.add_argument("--identity-file", help="sftp:// paths: private key file (key-pair authentication only)")
    load.add_argument(
        "--known-hosts", help="sftp:// paths: known_hosts file with the server's host key (default ~/.ssh/known_hosts)"
    )
    load.set_defaults(func=_cmd_load)

    build = commands.add_parser("build", help="run dbt build on the warehouse (extra args go to dbt)")
    build.set_defaults(func=_cmd_build)

    check = commands.add_parser(
        "check",
        help="check an export before sending it: load it into a throwaway warehouse and run the data tests",
        description=(
            "Load a folder, .zip or .csv of OneRoster(+) files into a new temporary DuckDB file (never the "
            "warehouse), run the staging data tests that the loaded files need on it, and report per file what "
            "loaded and what failed, in plain words. Exit 0 when no file was refused and no error-level check "
            "failed, 1 otherwise, 2 when the export cannot be opened. Progress goes to stderr. dbt's parse of the "
            "project is kept in target/check (or $ROLLCALL_CHECK_CACHE) and reused by the next check. On the demo "
            "drop (rollcall generate DIR --layout multi-source --days 120: 16 files) a check took a median of "
            "31 s (28-38 s) on a 2-core machine shared with other jobs; see docs/check.md."
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

    pull_clever = commands.add_parser(
        "pull-clever",
        help="pull a district from the Clever API and land it as OneRoster (see docs/clever.md)",
        description="Pull a district from the Clever API (token from $ROLLCALL_CLEVER_TOKEN or --token-env) and "
        "land it like a OneRoster drop. Exit 0 when everything landed, 3 when a file was refused, 2 when the "
        "configuration, token variable or district is wrong, 1 when the pull failed (token refused, HTTP error).",
    )
    pull_clever.add_argument("--district", required=True, help="district id from seeds/districts.csv")
    pull_clever.add_argument("--source", help="YAML file with the source entry (kind: clever, base_url, ...)")
    pull_clever.add_argument("--base-url", help="API host (default https://api.clever.com)")
    pull_clever.add_argument("--api-version", help="v3.0 (default), v3.1 or v1.1")
    pull_clever.add_argument("--token-env", help="variable holding the token (default ROLLCALL_CLEVER_TOKEN)")
    pull_clever.add_argument("--page-size", type=int, help="records per page (default 100)")
    pull_clever.add_argument("--entities", help="comma-separated, e.g. users,classes,enrollments (default: all)")
    pull_clever.add_argument(
        "--full", action="store_true", help="land bulk snapshots: records Clever no longer returns are tombstoned"
    )
    pull_clever.add_argument("--database", help=f"DuckDB file (default $ROLLCALL_DUCKDB_PATH or {DEFAULT_DATABASE})")
    pull_clever.set_defaults(func=_cmd_pull_clever)

    sync = commands.add_parser(
        "sync",
        help="run each configured source whose entities are due (hourly from cron or a systemd timer)",
        description=(
            "Read config/districts/<district>.yml, work out which entities of each source are due under their "
            "cadences (once, yearly, daily, hourly), pull them, and remember the outcome in the warehouse. "
            "A second run while one is going exits 0 without loading. Exit 0 when everything due ran, 1 when a "
            "source or entity failed, 2 on a usage error. See docs/sync.md."
        ),
    )
    sync.add_argument("--district", help="only this district (default: every config file)")
    sync.add_argument("--config-dir", help="folder of district configs (default config/districts in the project)")
    sync.add_argument("--database", help=f"DuckDB file (default $ROLLCALL_DUCKDB_PATH or {DEFAULT_DATABASE})")
    sync.add_argument("--now", help="run as of this ISO date-time (district time zone unless an offset is given)")
    sync.add_argument("--dry-run", action="store_true", help="print what is due and why; load nothing")
    sync.add_argument("--full", action="store_true", help="treat every entity as due, once entities included")
    sync.set_defaults(func=_cmd_sync)

    pull_rest = commands.add_parser(
        "pull-rest",
        help="pull a district from a OneRoster 1.1 REST API (see docs/rest.md)",
        description="Pull a district's roster from a OneRoster 1.1 REST API and land it like a OneRoster drop: in "
        "full the first time, with --full or every full_pull_every_days, otherwise only the records changed since "
        "the last pull. Exit 0 when everything landed, 3 when a file was refused, 1 when the pull failed (HTTP, "
        "auth; nothing loaded), 2 for a configuration mistake.",
    )
    pull_rest.add_argument("--source", required=True, help="YAML file with the source entry (kind: oneroster_rest)")
    pull_rest.add_argument("--name", help="which oneroster_rest entry of the file's sources list to use")
    pull_rest.add_argument("--district", required=True, help="district id from seeds/districts.csv")
    pull_rest.add_argument("--entities", help="comma-separated, e.g. users,enrollments (default: all seven)")
    pull_rest.add_argument(
        "--full", action="store_true", help="pull everything; records no longer listed are tombstoned"
    )
    pull_rest.add_argument("--database", help=f"DuckDB file (default $ROLLCALL_DUCKDB_PATH or {DEFAULT_DATABASE})")
    pull_rest.set_defaults(func=_cmd_pull_rest)

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
