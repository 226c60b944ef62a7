"""What `rollcall build` builds: only what the loads since the last build touched.

Every dbt build records itself in ``audit.build_log`` (the project's on-run-end hook). A build
that covered every change (no selection of its own, or a selection planned here) is the point
the next plan starts from: the raw tables that loads changed since it began, plus the models
that read the clock when the date has moved, are selected with everything downstream of them.
Anything that could make that selection incomplete — no earlier build, a changed project file
or seed, different vars, a user's own selection or ``--full-refresh`` — builds everything (or
exactly what the user asked for).
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
PROJECT_INPUTS = ("dbt_project.yml", "profiles", "models", "macros", "seeds", "tests/dbt")
# dbt options that choose nodes themselves: the user's selection wins over the plan.
SELECTION_OPTIONS = ("-s", "--select", "-m", "--models", "--exclude", "--selector", "--full-refresh", "-f")
CLOCK_TAG = "reads_clock"


@dataclass
class BuildPlan:
    """The dbt arguments of one build and why."""

    dbt_args: list[str]
    reason: str
    changed_sources: list[str] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return self.dbt_args == []


def project_fingerprint(extra_vars: dict | None = None) -> str:
    """SHA-256 over every project file that decides what dbt builds, and the vars passed."""
    digest = hashlib.sha256()
    for name in PROJECT_INPUTS:
        root = PROJECT_ROOT / name
        paths = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
        for path in paths:
            digest.update(str(path.relative_to(PROJECT_ROOT)).encode())
            digest.update(path.read_bytes())
    digest.update(yaml.safe_dump(extra_vars or {}, sort_keys=True).encode())
    return digest.hexdigest()


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
    exists = con.execute(
        "select count(*) from information_schema.tables where table_schema = 'audit' and table_name = 'build_log'"
    ).fetchone()[0]
    if not exists:
        return None
    return con.execute(
        """select started_at, project_fingerprint, build_date from audit.build_log
           where status = 'success' and covers_all_changes
           order by started_at desc limit 1"""
    ).fetchone()


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
    plan_vars = {**given_vars, "rollcall_project_fingerprint": fingerprint}
    if any(arg.split("=", 1)[0] in SELECTION_OPTIONS for arg in rest):
        return BuildPlan([*rest, "--vars", yaml.safe_dump(plan_vars)], "your own selection")
    full = [*rest, "--vars", yaml.safe_dump({**plan_vars, "rollcall_planned_build": True})]
    if not database.exists():
        return BuildPlan(full, "first build")
    with duckdb.connect(str(database), read_only=True) as con:
        last = _last_complete_build(con)
        if last is None:
            return BuildPlan(full, "no earlier complete build")
        started_at, last_fingerprint, build_date = last
        if last_fingerprint != fingerprint:
            return BuildPlan(full, "the project, its seeds or the vars changed since the last build")
        changed = _changed_sources(con, started_at)
    selectors = [f"{source}+" for source in changed]
    if build_date != (today or date.today()):
        selectors.append(f"tag:{CLOCK_TAG}+")
    if not selectors:
        return BuildPlan([], "nothing was loaded since the last build")
    # the tests of incremental models check the rows this build writes (docs/performance.md)
    scoped = [
        *rest,
        "--vars",
        yaml.safe_dump({**plan_vars, "rollcall_planned_build": True, "rollcall_test_scope": "changed"}),
    ]
    return BuildPlan([*scoped, "--select", *selectors], "what the loads since the last build changed", changed)
