"""``rollcall`` command line: generate a sample district, load a drop, build, check, summarise.

Each command is one small function registered on the ``cli`` group; a module of its own adds a
command with ``cli.add_command``. Options are never abbreviated: an unknown or misspelt option is
a usage error (exit 2) that names it and suggests the closest one.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from pathlib import Path

import click

from loaders.writer_lock import EXIT_BUSY
from rollcall.console import Reporter
from rollcall.dashboard import dashboard_command
from rollcall.publish import publish_command
from rollcall.settings import DEFAULT_DATABASE, database_path

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_PARTIAL = 0, 1, 2, 3
EXIT_STOPPED = 130  # the shell's status for a command stopped by Ctrl-C (128 + SIGINT)

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 110}
BUSY_LINE = (
    f"{EXIT_BUSY}  another run kept the warehouse busy past $ROLLCALL_WRITER_TIMEOUT seconds (default 600);"
    " load, pulls, sync and build wait for each other"
)
USAGE_LINE = f"{EXIT_USAGE}  usage error: an unknown option, a missing argument, a path or district that is not there"


def exit_codes(*lines: str) -> str:
    """The ``Exit codes`` epilog of a command's help (the usage code last)."""
    codes = sorted((*lines, USAGE_LINE), key=lambda line: int(line.split()[0]))
    return "\b\nExit codes:\n" + "\n".join(f"  {line}" for line in codes)


def _database(value: str | None) -> Path:
    return Path(value) if value else database_path()


def database_option(function):
    return click.option(
        "--database",
        metavar="FILE",
        help=f"DuckDB file (default $ROLLCALL_DUCKDB_PATH or {DEFAULT_DATABASE})",
    )(function)


def lake_option(function):
    return click.option(
        "--lake",
        metavar="FOLDER",
        envvar="ROLLCALL_LAKE_PATH",
        help="also write the raw tables as parquet to this lake folder, for the spark target (docs/scale-out.md)",
    )(function)


def verbose_option(function):
    return click.option("-v", "--verbose", is_flag=True, help="print detail: each file as it goes, dbt's log")(function)


def _refused(command: str, message: str) -> int:
    click.echo(f"rollcall {command}: refused: {message}", err=True)
    return EXIT_USAGE


@click.group(
    context_settings=CONTEXT,
    epilog=exit_codes("0  ok", "1  failure", "3  partial (see each command)", BUSY_LINE),
)
@click.version_option(package_name="rollcall", message="rollcall %(version)s")
def cli() -> None:
    """rollcall: an open-source K-12 data warehouse (OneRoster+, dlt, DuckDB, dbt).

    \b
    Start with:  rollcall demo            (sample districts, loaded, built, summarised)
    Your data:   rollcall load DROP --district ID  then  rollcall build  then  rollcall summary
    Help on a command:  rollcall COMMAND --help
    """


# --- generate --------------------------------------------------------------------------------------


@cli.command(
    epilog=exit_codes("0  written", "1  failure"),
    short_help="write a deterministic sample district (OneRoster 1.1 + OneRoster+, SIS or four sources)",
)
@click.argument("out", type=click.Path(dir_okay=True, file_okay=True))
@click.option("--students", type=click.IntRange(min=1), default=500, show_default=True, help="students in the district")
@click.option("--schools", type=click.IntRange(min=1), default=4, show_default=True, help="schools in the district")
@click.option("--days", type=int, default=100, show_default=True, help="instructional days of attendance to generate")
@click.option(
    "--seed", type=int, default=42, show_default=True, help="random seed: the same seed writes the same files"
)
@click.option(
    "--school-year", type=int, default=2026, show_default=True, help="calendar year in which the school year ends"
)
@click.option("--zip", "as_zip", is_flag=True, help="write a zip file instead of a folder (oneroster layout only)")
@click.option(
    "--layout",
    type=click.Choice(["oneroster", "sis", "multi-source"]),
    default="oneroster",
    show_default=True,
    help="oneroster: OneRoster 1.1 + OneRoster+; sis: SchoolMessenger-style SIS exports; "
    "multi-source: OneRoster + PowerSchool + ClassLink + Star (docs/sample-districts.md)",
)
@click.option(
    "--guardian-layout",
    type=click.Choice(["two-file", "one-file", "three-file"]),
    default="two-file",
    show_default=True,
    help="sis only: how guardians are spread over files",
)
@click.option(
    "--attendance-style",
    type=click.Choice(["records", "one-field", "period-fields"]),
    default="records",
    show_default=True,
    help="sis only: how absences are written",
)
@click.option(
    "--powerschool-headers",
    type=click.Choice(["table", "plain"]),
    help="multi-source only: PowerSchool header style (default: by seed parity)",
)
@click.option(
    "--calendar/--no-calendar",
    default=True,
    show_default=True,
    help="sis only: write the schools, school year and school days beside the exports (OneRoster+ orgs.csv,"
    " academicSessions.csv, calendar.csv)",
)
@click.option("--truth", metavar="FOLDER", help="sis / multi-source: folder for the truth files (default OUT/../truth)")
@verbose_option
def generate(out: str, verbose: bool, **options) -> int:
    """Write a deterministic sample district to OUT (a folder, or a .zip path with --zip)."""
    reporter = Reporter(verbose)
    try:
        with reporter.progress() as bars:
            task = bars.add_task("building the district", total=None, unit="rows")

            def written(name: str, rows: int) -> None:
                bars.update(task, description=f"wrote {name}", advance=rows)
                reporter.detail(f"{name}: {rows:,} rows")

            summary = _generate(out, options, written)
    except ValueError as exc:
        click.echo(f"rollcall generate: {exc}", err=True)
        return EXIT_USAGE
    counts = ", ".join(f"{name} {rows:,}" for name, rows in summary.row_counts.items())
    if options["layout"] == "oneroster":
        click.echo(f"wrote {summary.path}: {counts}")
    else:
        click.echo(f"wrote {summary.path} ({summary.layout}): {counts}")
        click.echo(f"truth in {summary.truth_path}: {', '.join(summary.truth_counts)}")
    return EXIT_OK


def _generate(out: str, options: dict, written):
    from rollcall.sample import generate_district, generate_multi_source_district, generate_sis_district

    layout = options["layout"]
    common = {name: options[name] for name in ("students", "schools", "days", "seed", "school_year")}
    if layout == "oneroster":
        return generate_district(out, as_zip=options["as_zip"], progress=written, **common)
    if options["as_zip"]:
        raise ValueError(f"--zip is only for --layout oneroster; --layout {layout} writes a folder")
    if layout == "sis":
        return generate_sis_district(
            out,
            guardian_layout=options["guardian_layout"],
            attendance_style=options["attendance_style"],
            calendar=options["calendar"],
            truth_dir=options["truth"],
            **common,
        )
    return generate_multi_source_district(
        out, powerschool_headers=options["powerschool_headers"], truth_dir=options["truth"], **common
    )


# --- load -----------------------------------------------------------------------------------------


@cli.command(
    epilog=exit_codes(
        "0  everything landed (or was skipped as unchanged)",
        "1  failure: landing failed, nothing of the drop was kept",
        "2  nothing landed: an empty drop or every file refused (also a usage error)",
        "3  partial: a file was refused or rows were quarantined",
        BUSY_LINE,
    ),
    short_help="land a folder, .zip, .csv or sftp:// drop (OneRoster, SIS, PowerSchool, ClassLink, Star)",
)
@click.argument("path")
@click.option("--district", required=True, metavar="ID", help="district id from seeds/districts.csv")
@database_option
@click.option(
    "--max-tombstone-share",
    type=float,
    default=0.10,
    show_default=True,
    help="refuse a bulk file that would tombstone more than this share of the active records",
)
@click.option("--force", is_flag=True, help="apply bulk files even above --max-tombstone-share")
@click.option(
    "--brief",
    is_flag=True,
    help="list only files refused or with quarantined rows (warnings stay in audit.file_warnings), then the total",
)
@click.option(
    "--mapping",
    metavar="FILE",
    type=click.Path(exists=True, dir_okay=False),
    help="YAML with the district's own header spellings and file-to-layout assignments (docs/sis-formats.md)",
)
@click.option("--identity-file", metavar="KEY", help="sftp:// paths: private key file (key-pair authentication only)")
@click.option(
    "--known-hosts",
    metavar="FILE",
    help="sftp:// paths: known_hosts file with the server's host key (default ~/.ssh/known_hosts)",
)
@lake_option
@verbose_option
def load(path: str, district: str, database: str | None, brief: bool, verbose: bool, **options) -> int:
    """Land the drop at PATH (folder, .zip, .csv or sftp://user@host[:port]/path) for one district.

    Prints one line per file (loaded, skipped as unchanged, refused with the reason) and a total.
    """
    if path.lower().startswith("sftp://"):
        return _load_sftp(path, district, _database(database), options)
    from loaders.mapped.formats import FormatConfigError
    from loaders.oneroster.pipeline import load_package
    from loaders.package import PackageError
    from loaders.registry import UnknownDistrictError

    reporter = Reporter(verbose)
    target = _database(database)
    try:
        with reporter.progress() as bars:
            report = load_package(
                path,
                district,
                target,
                max_tombstone_share=options["max_tombstone_share"],
                force=options["force"],
                mapping=Path(options["mapping"]) if options["mapping"] else None,
                on_file=_file_progress(bars, reporter),
            )
    except (UnknownDistrictError, PackageError, FormatConfigError) as exc:
        return _refused("load", str(exc))
    code = _print_load_report(report, target, brief)
    if options["lake"] and code in (EXIT_OK, EXIT_PARTIAL):  # the load's own exit code stands
        _land_in_lake(target, options["lake"], [district])
    return code


def _land_in_lake(database: Path, lake: str, districts: list[str] | None) -> int:
    """The districts' raw tables as parquet in the lake folder, for the Spark target (docs/scale-out.md)."""
    from loaders.lake import land_in_lake

    report = land_in_lake(database, Path(lake).resolve(), districts)
    click.echo(f"lake {report.lake}: {len(report.files)} file(s), {report.rows:,} rows")
    return EXIT_OK


@cli.command(
    "lake",
    epilog=exit_codes("0  the lake was written", "2  usage error (no lake folder)"),
    short_help="write the landed raw tables to a lake folder as parquet (the Spark target's landing)",
)
@database_option
@click.option(
    "--district", "districts", multiple=True, metavar="ID", help="only this district (repeatable; default all)"
)
@lake_option
def lake_command(database: str | None, districts: tuple[str, ...], lake: str | None) -> int:
    """Write every landed district's raw tables to the lake folder (LAKE/<schema>/<table>/<district>.parquet)."""
    if not lake:
        raise click.UsageError("no lake folder: --lake FOLDER or ROLLCALL_LAKE_PATH")
    return _land_in_lake(_database(database), lake, list(districts) or None)


def _file_progress(bars, reporter: Reporter):
    """A load_package ``on_file`` hook: a bar of files and one of rows read, with rates."""
    files = bars.add_task("files", total=None, unit="files")
    rows = bars.add_task("rows read", total=None, unit="rows")
    seen: set[str] = set()

    def on_file(result) -> None:
        if result.file_name not in seen:
            seen.add(result.file_name)
            bars.update(files, advance=1, description=f"files ({result.file_name})")
            bars.update(rows, advance=result.rows_read)
        reporter.detail(
            f"{result.file_name}: {result.status}, read {result.rows_read:,}, landed {result.rows_landed:,}"
        )

    return on_file


def _print_load_report(report, database: Path, brief: bool = False) -> int:
    from rollcall.sync import format_report_lines

    width = max((len(f.file_name) for f in report.files), default=10)
    for f, line in zip(report.files, format_report_lines(report), strict=True):
        if brief and f.status in ("loaded", "skipped") and not f.rows_quarantined:
            continue
        click.echo(line)
        if brief:
            continue
        for warning in f.warnings:
            if warning.code != "no_manifest":
                click.echo(f"  {'':<{width}}  warning   {warning.code}: {warning.detail}")
    warned = sum(any(w.code != "no_manifest" for w in f.warnings) for f in report.files)
    if brief and warned:
        click.echo(f"  {warned} file(s) with warnings: --verbose, or audit.file_warnings")
    if any(w.code == "no_manifest" for f in report.files for w in f.warnings):
        click.echo("  note: no manifest.csv in the drop; file modes were not stated")
    click.echo(
        f"load {report.load_id} for {report.district_id}: {report.status}; "
        f"{report.rows_landed:,} rows landed, {report.rows_quarantined:,} quarantined "
        f"(details: audit.file_log, audit.quarantined_rows in {database})"
    )
    return _status_code(report.status)


def _status_code(status: str) -> int:
    if status == "failed":
        return EXIT_FAILED
    if status == "refused":  # an empty drop, or every file refused: nothing landed
        return EXIT_USAGE
    return EXIT_OK if status == "succeeded" else EXIT_PARTIAL


def _load_sftp(path: str, district: str, database: Path, options: dict) -> int:
    """``rollcall load sftp://user@host[:port]/path``: pick up the new or changed files (key pair only)."""
    from loaders.registry import UnknownDistrictError
    from loaders.sftp import SftpError, parse_source

    source = {"kind": "sftp", "url": path, "identity_file": options["identity_file"], "force": options["force"]}
    source["max_tombstone_share"] = options["max_tombstone_share"]
    if options["known_hosts"]:
        source["known_hosts"] = options["known_hosts"]
    try:
        parse_source(source)  # refuse a password or a missing key before importing dlt
        from loaders.sftp import pull
        from rollcall.sync import format_report_lines

        report = pull(source, district_id=district, database=database)
    except (SftpError, UnknownDistrictError) as exc:
        return _refused("load", str(exc))
    for line in format_report_lines(report):
        click.echo(line)
    loads = f"load {', '.join(report.load_ids)}" if report.load_ids else "nothing new to load"
    click.echo(
        f"pickup from {report.source_label} for {report.district_id}: {report.status}; {loads}; "
        f"{len(report.downloaded)} file(s) downloaded, {report.rows_landed:,} rows landed, "
        f"{report.rows_quarantined:,} quarantined (details: audit.file_log, audit.sftp_files in {database})"
    )
    return _status_code(report.status)


# --- build and check: dbt selection passed through ------------------------------------------------


class GreedyOption(click.Option):
    """An option that takes every value up to the next option, as dbt's ``--select a b`` does."""

    def add_to_parser(self, parser, ctx) -> None:
        super().add_to_parser(parser, ctx)
        option = next(parser._long_opt.get(name) or parser._short_opt.get(name) for name in self.opts)
        process = option.process

        def take_all(value, state) -> None:
            values = [value]
            while state.rargs and not state.rargs[0].startswith("-"):
                values.append(state.rargs.pop(0))
            process(tuple(values), state)

        option.process = take_all


def _flatten(_ctx, _param, value) -> list[str]:
    return [item for group in value or () for item in (group if isinstance(group, tuple) else (group,))]


def selection_options(function=None, *, selector: bool = True):
    """dbt's node selection, passed through as given (see ``dbt build --help``)."""
    if function is None:
        return lambda function: selection_options(function, selector=selector)
    for decorator in reversed(
        [
            click.option(
                "-s",
                "--select",
                cls=GreedyOption,
                multiple=True,
                type=tuple,
                callback=_flatten,
                metavar="SELECTOR...",
                help="dbt selectors of the nodes to include, e.g. -s marts.attendance+ tag:core",
            ),
            click.option(
                "--exclude",
                cls=GreedyOption,
                multiple=True,
                type=tuple,
                callback=_flatten,
                metavar="SELECTOR...",
                help="dbt selectors of the nodes to leave out",
            ),
            *(
                [click.option("--selector", metavar="NAME", help="a named dbt selector (selectors.yml)")]
                if selector
                else []
            ),
        ]
    ):
        function = decorator(function)
    return function


def _selection_args(select: list[str], exclude: list[str], selector: str | None) -> list[str]:
    args = ["--select", *select] if select else []
    args += ["--exclude", *exclude] if exclude else []
    return args + (["--selector", selector] if selector else [])


@cli.command(
    epilog=exit_codes(
        "0  built (warnings allowed)",
        "1  a model, test or seed failed",
        BUSY_LINE,
        f"{EXIT_STOPPED}  stopped by Ctrl-C (a plain `rollcall build` carries on)",
    ),
    short_help="dbt build of what the loads changed (dbt selection options pass through)",
)
@selection_options
@click.option("-f", "--full-refresh", is_flag=True, help="rebuild incremental models from scratch")
@click.option("--vars", metavar="YAML", help="dbt vars, e.g. '{period_rollup_rule: fraction}'")
@click.option(
    "--resource-type",
    cls=GreedyOption,
    multiple=True,
    type=tuple,
    callback=_flatten,
    metavar="TYPE...",
    help="only these dbt resource types (model, test, seed, unit_test, ...)",
)
@click.option("-x", "--fail-fast", is_flag=True, help="stop at the first failure")
@click.option("--threads", type=click.IntRange(min=1), help="dbt threads (default 2, profiles.yml)")
@click.argument("dbt_args", nargs=-1, type=click.UNPROCESSED, metavar="[-- DBT_OPTIONS...]")
@verbose_option
def build(select, exclude, selector, full_refresh, vars, resource_type, fail_fast, threads, dbt_args, verbose) -> int:
    """dbt build on the warehouse: by default only what the loads since the last build changed.

    Any selection of your own (-s/--exclude/--selector) builds exactly that; --full-refresh
    everything from scratch. Any other dbt option goes after `--`, e.g. `rollcall build -- --empty`.
    Quiet by default (a progress bar on a terminal, dbt's errors, a summary); --verbose prints
    dbt's log. `dbt` itself works in the project folder too, with the same profile and parse.
    """
    from loaders.writer_lock import writer_lock
    from rollcall.build_plan import plan_build

    args = _selection_args(select, exclude, selector)
    args += ["--full-refresh"] if full_refresh else []
    args += ["--vars", vars] if vars else []
    args += ["--resource-type", *resource_type] if resource_type else []
    args += ["--fail-fast"] if fail_fast else []
    args += ["--threads", str(threads)] if threads else []
    with writer_lock(database_path()):
        plan = plan_build(database_path(), [*args, *dbt_args])
        if plan.is_empty:
            click.echo(f"rollcall build: {plan.reason}; nothing to build")
            return EXIT_OK
        changed = ", ".join(s.removeprefix("source:") for s in plan.changed_sources)
        click.echo(f"rollcall build: {plan.reason}{f' ({changed})' if changed else ''}")
        return run_dbt_build(plan.dbt_args, plan.env, Reporter(verbose))


OK_STATUSES = {"success": "ok", "pass": "ok"}  # dbt's words for a model or seed built, a test passed


def run_dbt_build(dbt_args: list[str], env: dict[str, str], reporter: Reporter) -> int:
    """``dbt build`` with a bar of nodes; quiet unless verbose; a one-line summary."""
    from rollcall.dbt import invoke_dbt, stopped_by_user

    output = [] if reporter.verbose else ["--quiet"]
    started = time.perf_counter()
    starved: list[str] = []  # nodes DuckDB ran out of memory in
    with reporter.progress() as bars:
        nodes = bars.add_task("dbt build", total=None, unit="nodes")

        def on_event(msg) -> None:
            if msg.info.name == "LogStartLine" and bars.tasks[0].total is None:
                bars.update(nodes, total=msg.data.total)
            elif msg.info.name == "NodeFinished":
                bars.update(nodes, advance=1, description=f"dbt build ({msg.data.node_info.node_name})")
                if "Out of Memory Error" in msg.data.run_result.message:
                    starved.append(msg.data.node_info.node_name)

        result = invoke_dbt(["build", *dbt_args, *output], env, [on_event])
    if type(result.exception).__name__ == "DbtUsageException":  # an option after `--` dbt does not know
        click.echo(f"rollcall build: dbt refused its options: {result.exception}", err=True)
        return EXIT_USAGE
    if stopped_by_user(result.exception):
        click.echo(
            f"rollcall build: stopped by Ctrl-C after {time.perf_counter() - started:.0f} s; `rollcall build`"
            " carries on, keeping the incremental models this one finished",
            err=True,
        )
        return EXIT_STOPPED
    statuses = Counter(OK_STATUSES.get(str(r.status), str(r.status)) for r in getattr(result.result, "results", []))
    counts = ", ".join(f"{n:,} {status}" for status, n in sorted(statuses.items()))
    outcome = "succeeded" if result.success else "failed"
    click.echo(f"rollcall build: {outcome}; {counts or 'no nodes'} in {time.perf_counter() - started:.0f} s")
    if statuses.get("warn") and not reporter.verbose:
        click.echo("  warnings are listed by `rollcall build --verbose` (and kept in the test_failures schema)")
    if starved or "Out of Memory Error" in str(result.exception):  # in a model or test, or in dbt's own queries
        _hint_memory_budget(starved)
    return EXIT_OK if result.success else EXIT_FAILED


def _hint_memory_budget(starved: list[str]) -> None:
    """Name the setting that gives DuckDB more memory: its own hint, ``SET memory_limit``, is not
    one a user of rollcall can run."""
    from rollcall.settings import duckdb_budget

    limit = duckdb_budget(database_path())["memory_limit"]
    click.echo(
        f"  DuckDB ran out of memory{' in ' + ', '.join(starved) if starved else ''}"
        f" within ROLLCALL_DUCKDB_MEMORY_LIMIT={limit}:"
        " raise it (docs/performance.md: a 1,000,000-student district needs 10GB)",
        err=True,
    )


@cli.command(
    epilog=exit_codes("0  no file refused and no error-level check failed", "1  a file was refused or a check failed"),
    short_help="check an export before sending it: load it into a throwaway warehouse and run the data tests",
)
@click.argument("path")
@click.option("--json", "json_file", metavar="FILE", help="also write the report as JSON to FILE")
@click.option(
    "--district",
    default="demo-unified",
    show_default=True,
    metavar="DISTRICT",
    help="district id from seeds/districts.csv; it only labels the rows in the temporary warehouse and does not "
    "change the checks",
)
@selection_options(selector=False)
def check(path: str, json_file: str | None, district: str, select, exclude) -> int:
    """Check the export at PATH (folder, .zip or .csv) without touching the warehouse.

    Loads the files into a new temporary DuckDB file (never the warehouse), runs the staging data
    tests that the loaded files need on it, and reports per file what loaded and what failed, in
    plain words. -s/--select and --exclude narrow the checks to those dbt nodes. Progress goes to
    stderr. dbt's parse of the project is kept in target/check (or $ROLLCALL_CHECK_CACHE) and
    reused by the next check. How long a check takes, measured on the demo drop (rollcall generate
    DIR --layout multi-source --days 120): see docs/check.md.
    """
    from rollcall.check import CheckUsageError, check_package

    if json_file and not Path(json_file).resolve().parent.is_dir():
        click.echo(f"rollcall check: cannot write {json_file}: its folder does not exist", err=True)
        return EXIT_USAGE
    try:
        report = check_package(
            path,
            district,
            progress=lambda message: click.echo(f"rollcall check: {message}", err=True),
            selection=_selection_args(select, exclude, None),
        )
    except CheckUsageError as exc:
        return _refused("check", str(exc))
    click.echo(report.render())
    if json_file:
        report.write_json(json_file)
    return report.exit_code


# --- pulls and sync ------------------------------------------------------------------------------


def entities_option(example: str):
    return click.option("--entities", metavar="LIST", help=f"comma-separated, e.g. {example}")


def _entities(value: str | None) -> list[str] | None:
    return [name.strip() for name in value.split(",") if name.strip()] if value else None


@cli.command(
    "pull-clever",
    epilog=exit_codes(
        "0  everything landed",
        "1  the pull failed (token refused, HTTP error); nothing loaded",
        "3  a file was refused",
        BUSY_LINE,
    ),
    short_help="pull a district from the Clever API and land it as OneRoster (docs/clever.md)",
)
@click.option("--district", required=True, metavar="ID", help="district id from seeds/districts.csv")
@click.option("--source", metavar="FILE", help="YAML file with the source entry (kind: clever, base_url, ...)")
@click.option("--base-url", metavar="URL", help="API host (default https://api.clever.com)")
@click.option("--api-version", metavar="VERSION", help="v3.0 (default), v3.1 or v1.1")
@click.option("--token-env", metavar="NAME", help="variable holding the token (default ROLLCALL_CLEVER_TOKEN)")
@click.option("--page-size", type=click.IntRange(min=1), help="records per page (default 100)")
@entities_option("users,classes,enrollments (default: all)")
@click.option("--full", is_flag=True, help="land bulk snapshots: records Clever no longer returns are tombstoned")
@database_option
@verbose_option
def pull_clever(district, source, entities, full, database, verbose, **overrides) -> int:
    """Pull a district from the Clever API (token from $ROLLCALL_CLEVER_TOKEN or --token-env) and
    land it like a OneRoster drop."""
    from loaders.clever import CleverConfigError, CleverPullError, pull, read_source_file
    from loaders.registry import UnknownDistrictError

    def entry() -> dict:
        found = read_source_file(source) if source else {"kind": "clever"}
        page_size = overrides.pop("page_size")
        found.update({key: value for key, value in overrides.items() if value})
        if page_size is not None:
            found["page_size"] = page_size
        return found

    where = {"district_id": district, "database": _database(database), "entities": _entities(entities), "full": full}
    errors = ((CleverConfigError, UnknownDistrictError), CleverPullError)
    return _run_pull("pull-clever", lambda: pull(entry(), **where), errors, verbose, show_read=False)


@cli.command(
    "pull-rest",
    epilog=exit_codes(
        "0  everything landed", "1  the pull failed (HTTP, auth); nothing loaded", "3  a file was refused", BUSY_LINE
    ),
    short_help="pull a district from a OneRoster 1.1 REST API (docs/rest.md)",
)
@click.option("--source", required=True, metavar="FILE", help="YAML file with the source entry (kind: oneroster_rest)")
@click.option("--name", metavar="NAME", help="which oneroster_rest entry of the file's sources list to use")
@click.option("--district", required=True, metavar="ID", help="district id from seeds/districts.csv")
@entities_option("users,enrollments (default: all seven)")
@click.option("--full", is_flag=True, help="pull everything; records no longer listed are tombstoned")
@database_option
@verbose_option
def pull_rest(source, name, district, entities, full, database, verbose) -> int:
    """Pull a district's roster from a OneRoster 1.1 REST API and land it like a OneRoster drop: in
    full the first time, with --full or every full_pull_every_days, otherwise only the records
    changed since the last pull."""
    from loaders.oneroster_rest import RestConfigError, RestPullError, pull, read_source_file
    from loaders.registry import UnknownDistrictError

    where = {"district_id": district, "database": _database(database), "entities": _entities(entities), "full": full}
    errors = ((RestConfigError, UnknownDistrictError), RestPullError)

    def run():
        return pull(read_source_file(source, name), **where)

    return _run_pull("pull-rest", run, errors, verbose, show_read=True)


def _run_pull(command: str, run, errors: tuple, verbose: bool, show_read: bool) -> int:
    """One pull with its progress, its report, and its errors as exit codes: a configuration or
    district error is a usage error (2), a failed pull (HTTP, auth) 1 with nothing loaded."""
    config_errors, pull_error = errors
    try:
        with PullProgress(command, verbose):
            report = run()
    except config_errors as exc:
        return _refused(command, str(exc))
    except pull_error as exc:
        click.echo(f"rollcall {command}: failed, nothing loaded: {exc}", err=True)
        return EXIT_FAILED
    return _print_pull_report(report, show_read=show_read)


class PullProgress:
    """A pull's log records (per entity and page: counts, never record contents) as a spinner, or
    as lines with --verbose."""

    def __init__(self, command: str, verbose: bool) -> None:
        self.command, self.reporter = command, Reporter(verbose)

    def __enter__(self):
        import logging

        self.bars = self.reporter.progress()
        progress = self.bars.__enter__()
        task = progress.add_task(self.command, total=None, unit="steps")
        reporter, command = self.reporter, self.command

        class Handler(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                progress.update(task, advance=1, description=f"{command}: {record.getMessage()}")
                reporter.detail(f"rollcall {command}: {record.getMessage()}")

        self.handler, self.loggers = (
            Handler(),
            [logging.getLogger(name) for name in ("rollcall.rest", "loaders.clever")],
        )
        for logger in self.loggers:
            logger.addHandler(self.handler)
            logger.setLevel(logging.INFO)
        return self

    def __exit__(self, *exc) -> None:
        for logger in self.loggers:
            logger.removeHandler(self.handler)
        self.bars.__exit__(*exc)


def _print_pull_report(report, show_read: bool) -> int:
    """One line per file a pull landed (counts only, never record contents); the exit code."""
    for f in report.files:
        read = f"read {f.rows_read:,}  " if show_read else ""
        line = f"  {f.file_name:<22}  {f.status:<8}  {f.mode or '':<5}  {read}landed {f.rows_landed:,}"
        line += f"  tombstoned {f.rows_tombstoned:,}" if f.rows_tombstoned else ""
        click.echo(line + (f"  — {f.error_text}" if f.error_text else ""))
    click.echo(f"pull {report.load_id} for {report.district_id}: {report.status}; {report.rows_landed:,} rows landed")
    return _status_code(report.status)


@cli.command(
    epilog=exit_codes(
        "0  everything due ran (or nothing was due, or another sync holds the lock)", "1  a source or entity failed"
    ),
    short_help="run each configured source whose entities are due (hourly from cron or a systemd timer)",
)
@click.option("--district", metavar="ID", help="only this district (default: every config file)")
@click.option("--config-dir", metavar="FOLDER", help="folder of district configs (default config/districts)")
@database_option
@click.option("--now", metavar="DATETIME", help="run as of this ISO date-time (district time zone unless offset given)")
@click.option("--dry-run", is_flag=True, help="print what is due and why; load nothing")
@click.option("--full", is_flag=True, help="treat every entity as due, once entities included")
def sync(district, config_dir, database, now, dry_run, full) -> int:
    """Read config/districts/<district>.yml, work out which entities of each source are due under
    their cadences (once, yearly, daily, hourly), pull them, and remember the outcome in the
    warehouse. A second run while one is going exits 0 without loading. See docs/sync.md."""
    from rollcall.sync import DEFAULT_CONFIG_DIR, SyncConfigError, parse_now, run_sync

    try:
        return run_sync(
            _database(database),
            config_dir=Path(config_dir) if config_dir else DEFAULT_CONFIG_DIR,
            district=district,
            now=parse_now(now) if now else None,
            dry_run=dry_run,
            full=full,
        )
    except SyncConfigError as exc:
        click.echo(f"rollcall sync: {exc}", err=True)
        return EXIT_USAGE


# --- summary and demo ----------------------------------------------------------------------------


@cli.command(
    epilog=exit_codes("0  printed", "1  failure"),
    short_help="print rows per mart, identity match rates and current-term absence by school",
)
@database_option
def summary(database: str | None) -> int:
    """Print rows per mart, identity match rates and current-term absence by school, and name any
    district whose attendance all fell into exceptions."""
    from rollcall.summary import print_summary

    return print_summary(_database(database))


DEMO_DISTRICTS = (  # (district, folder under warehouse/, generate options)
    ("demo-unified", "sample-district", ["--layout", "multi-source", "--days", "120"]),
    ("demo-sis", "sample-sis", ["--layout", "sis", "--days", "120"]),
)


@cli.command(
    epilog=exit_codes("0  the demo ran", "1  a step failed"),
    short_help="generate the sample districts, load them, build, write the dbt docs, summary, publish",
)
def demo() -> int:
    """Generate the two sample districts into warehouse/ (demo-unified: OneRoster + PowerSchool +
    ClassLink + Star; demo-sis: SIS exports with planted bad rows, so its load is partial, and its
    calendar as OneRoster+ files beside them), load
    them, build, write the dbt docs (target/), print the summary and publish the marts for BI tools
    and `rollcall dashboard` (docs/bi.md). `make demo` runs this."""
    import shutil

    from rollcall.dbt import run_dbt
    from rollcall.settings import WORK_DIR

    for _district, folder, options in DEMO_DISTRICTS:
        shutil.rmtree(WORK_DIR / "warehouse" / folder, ignore_errors=True)
        drop = str(WORK_DIR / "warehouse" / folder / "drop")
        if _step("generate", drop, *options) != EXIT_OK:
            return EXIT_FAILED
    for district, folder, _ in DEMO_DISTRICTS:
        if _step("load", str(WORK_DIR / "warehouse" / folder / "drop"), "--district", district, "--brief") not in (
            0,
            3,
        ):
            return EXIT_FAILED
    if _step("build") != EXIT_OK or run_dbt(["docs", "generate", "--quiet"]) != EXIT_OK:
        return EXIT_FAILED
    click.echo(f"dbt docs written to {WORK_DIR / 'target'}; browse them with `dbt docs serve`")
    summary = _step("summary")
    return _step("publish") or summary  # the published files for BI tools and `rollcall dashboard`


cli.add_command(publish_command)
cli.add_command(dashboard_command)


def _step(*argv: str) -> int:
    """One command of the CLI, as a step of another."""
    return main(list(argv))


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code (usage errors print click's message and return 2)."""
    from loaders.writer_lock import WarehouseBusy

    try:
        return cli.main(args=argv, prog_name="rollcall", standalone_mode=False) or EXIT_OK
    except WarehouseBusy as exc:
        click.echo(f"rollcall: warehouse busy: {exc}", err=True)
        return EXIT_BUSY
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.Abort:
        click.echo("rollcall: aborted", err=True)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
