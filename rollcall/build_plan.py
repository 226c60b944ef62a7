"""What `rollcall build` builds: only what the loads since the last build touched.

Every dbt build records itself in ``audit.build_log`` (the project's on-run-end hook). A build
that covered every change (no selection of its own, or a selection planned here) is the point
the next plan starts from: the raw tables that loads changed since it began, plus the models
that read the clock when the date has moved, are selected with everything downstream of them —
except that attendance alone leaves the clock-reading models (messaging rosters) for a new day or
a moved as-of date. Unit tests check the code, not the rows: they run in full builds only.
Anything that could make that selection incomplete — no earlier build, a changed project file
or seed, different vars, a user's own selection or ``--full-refresh`` — builds everything (or
exactly what the user asked for). A changed model, macro or seed also rebuilds the incremental
models from scratch (``--full-refresh``): their kept rows were computed by the old code.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, date
from pathlib import Path

import duckdb
import yaml

from rollcall.settings import PROJECT_ROOT

# Folders and files whose content decides what dbt builds.
PROJECT_INPUTS = ("dbt_project.yml", "profiles.yml", "models", "macros", "seeds", "tests/dbt")
# dbt options that choose nodes themselves: the user's selection wins over the plan.
SELECTION_OPTIONS = {"-s", "--select", "-m", "--models", "--exclude", "--selector", "--full-refresh", "-f"}
REFRESH_OPTIONS = {"--full-refresh", "-f"}
CLOCK_TAG = "reads_clock"
# raw tables whose rows reach the clock-reading models only through the as-of date
ATTENDANCE_SOURCES = {"source:raw_oneroster.attendance", "source:raw_oneroster.manifest"}


@dataclass
class BuildPlan:
    """The dbt arguments of one build and why."""

    dbt_args: list[str]
    reason: str
    changed_sources: list[str] = field(default_factory=list)
    # ROLLCALL_PROJECT_FINGERPRINT / ROLLCALL_PLANNED_BUILD for the build_log hook: environment
    # variables, not vars, so that a plain `dbt` in between keeps dbt's partial parse
    env: dict[str, str] = field(default_factory=dict)

    nothing_to_build: bool = False

    @property
    def is_empty(self) -> bool:
        return self.nothing_to_build


def code_fingerprint() -> str:
    """SHA-256 over every project file that decides what dbt builds."""
    digest = hashlib.sha256()
    for name in PROJECT_INPUTS:
        root = PROJECT_ROOT / name
        paths = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
        for path in paths:
            digest.update(str(path.relative_to(PROJECT_ROOT)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def project_fingerprint(extra_vars: dict | None = None) -> str:
    """``<code fingerprint>:<vars fingerprint>``: the project files and the vars passed."""
    vars_digest = hashlib.sha256(yaml.safe_dump(extra_vars or {}, sort_keys=True).encode()).hexdigest()
    return f"{code_fingerprint()}:{vars_digest}"


def _code_part(fingerprint: str | None) -> str | None:
    return fingerprint.split(":", 1)[0] if fingerprint else None


def split_vars(args: list[str]) -> tuple[list[str], dict]:
    """The dbt arguments without ``--vars``, and the vars given (YAML), merged."""
    rest, given = [], {}
    iterator = iter(args)
    for arg in iterator:
        if arg == "--vars":
            given.update(yaml.safe_load(next(iterator, "") or "{}") or {})
        elif arg.startswith("--vars="):
            given.update(yaml.safe_load(arg.split("=", 1)[1]) or {})
        else:
            rest.append(arg)
    return rest, given


def _source_name(raw_table: str) -> str:
    """``attendance`` (a OneRoster file) or ``raw_sis.students`` -> dbt source selector."""
    return f"source:{raw_table}" if "." in raw_table else f"source:raw_oneroster.{raw_table}"


def _last_complete_build(con: duckdb.DuckDBPyConnection) -> tuple | None:
    if not _exists(con, "audit", "build_log"):
        return None
    return con.execute(
        """select started_at, project_fingerprint, build_date from audit.build_log
           where status = 'success' and covers_all_changes
           order by started_at desc limit 1"""
    ).fetchone()


def _latest_build_fingerprint(con: duckdb.DuckDBPyConnection) -> str | None:
    """The fingerprint of the latest build of any outcome (its incremental rows are still there)."""
    if not _exists(con, "audit", "build_log"):
        return None
    row = con.execute(
        """select project_fingerprint from audit.build_log
           where project_fingerprint is not null order by started_at desc limit 1"""
    ).fetchone()
    return row[0] if row else None


def _changed_sources(con: duckdb.DuckDBPyConnection, since) -> list[str]:
    rows = con.execute(
        """select distinct raw_table from audit.file_log
           where status = 'loaded' and raw_table is not null and coalesce(finished_at, started_at) >= ?
           order by raw_table""",
        [since.replace(tzinfo=UTC)],  # build_log keeps UTC without a zone
    ).fetchall()
    return [_source_name(row[0]) for row in rows]


def plan_build(database: Path, args: list[str], today: date | None = None) -> BuildPlan:
    """The dbt ``build`` arguments for this warehouse given the user's extra ``args``."""
    rest, given_vars = split_vars(args)
    fingerprint = project_fingerprint(given_vars)
    own = {"ROLLCALL_PROJECT_FINGERPRINT": fingerprint, "ROLLCALL_PLANNED_BUILD": "false"}
    planned = {**own, "ROLLCALL_PLANNED_BUILD": "true"}
    options = {arg.split("=", 1)[0] for arg in rest}
    full = [*rest, "--vars", yaml.safe_dump(given_vars)] if given_vars else rest

    def plan(dbt_args: list[str], reason: str, changed: list[str] | None = None) -> BuildPlan:
        return BuildPlan(dbt_args, reason, changed or [], planned)

    if options & REFRESH_OPTIONS and not options & (SELECTION_OPTIONS - REFRESH_OPTIONS):
        return plan(full, "--full-refresh: everything from scratch")
    if options & SELECTION_OPTIONS:
        return BuildPlan(full, "your own selection", env=own)
    if not database.exists():
        return plan(full, "first build")
    with duckdb.connect(str(database), read_only=True) as con:
        built_code = _code_part(_latest_build_fingerprint(con))
        if built_code is not None and built_code != _code_part(fingerprint):
            return plan(
                [*full, "--full-refresh"],
                "the project's models, macros or seeds changed since the last build; rebuilding from scratch",
            )
        last = _last_complete_build(con)
        if last is None:
            return plan(full, "no earlier complete build")
        started_at, last_fingerprint, build_date = last
        if last_fingerprint != fingerprint:
            return plan(full, "the vars changed since the last build")
        changed = _changed_sources(con, started_at)
        new_day = build_date != (today or date.today())
        keep_clock = new_day or not set(changed) <= ATTENDANCE_SOURCES or _as_of_may_move(con, started_at)
    selectors = [f"{source}+" for source in changed]
    if new_day:
        selectors.append(f"tag:{CLOCK_TAG}+")
    if not selectors:
        return BuildPlan([], "nothing was loaded since the last build", env=planned, nothing_to_build=True)
    # attendance reaches the models that read the clock (the messaging rosters) only through the
    # as-of date: they wait for a new day or a moved as-of date
    exclude = [] if keep_clock else ["--exclude", f"tag:{CLOCK_TAG}+"]
    # unit tests check the code, which passed them in the last complete build and has not changed
    exclude += ["--exclude-resource-type", "unit_test"]
    return plan([*full, "--select", *selectors, *exclude], "what the loads since the last build changed", changed)


def _as_of_may_move(con: duckdb.DuckDBPyConnection, since) -> bool:
    """True unless the OneRoster attendance loaded since ``since`` is all dated on or before each
    district's current as-of date, removes nothing and moves no record off that date (so the
    as-of date stays where it is)."""
    if not _exists(con, "intermediate", "int_districts_as_of_dates"):
        return True
    since = since.replace(tzinfo=UTC)  # build_log keeps UTC without a zone
    # the day read as staging reads it
    new_rows = """new_rows as (
               select
                   _district_id as district_id, trim(sourced_id) as record_id, _change_kind, status,
                   coalesce(try_cast(left(trim(date), 10) as date), try_strptime(trim(date), '%m/%d/%Y')::date)
                       as day
               from raw_oneroster.attendance where _loaded_at >= $since
           )"""
    later_or_removed = con.execute(
        f"""with {new_rows}
           select count(*) from new_rows
           left join intermediate.int_districts_as_of_dates as as_of using (district_id)
           where as_of.as_of_date is null or new_rows.day > as_of.as_of_date
              or _change_kind = 'bulk_tombstone' or lower(trim(status)) in ('tobedeleted', 'inactive')""",
        {"since": since},
    ).fetchone()[0]
    if later_or_removed:
        return True
    # a correction that moves a record off the as-of date may leave that date without records
    # (staging still holds each record's version from before these loads)
    if not _exists(con, "staging", "stg_oneroster__attendance_records"):
        return True
    moved_off = con.execute(
        f"""with {new_rows}
           select count(*) from staging.stg_oneroster__attendance_records as earlier
           inner join intermediate.int_districts_as_of_dates as as_of
               on earlier.district_id = as_of.district_id and earlier.attendance_date = as_of.as_of_date
           inner join new_rows
               on earlier.district_id = new_rows.district_id and earlier.attendance_record_id = new_rows.record_id
           where new_rows.day is distinct from as_of.as_of_date""",
        {"since": since},
    ).fetchone()[0]
    return moved_off > 0


def _exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchone()[0]
    )
