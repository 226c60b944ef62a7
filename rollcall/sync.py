"""``rollcall sync``: run each district source on its cadence, safe to call from cron every hour.

A district config (``config/districts/<district_id>.yml``) lists the district's sources; each
entity of a source has a cadence — ``once``, ``yearly``, ``daily``, ``hourly`` or ``never``.
An entity is due when it never succeeded, or when a new period began (in the district's time
zone) since its last success: a new clock hour, a new day, a new school year (from 1 July).
``once`` entities are loaded once and then only with ``--full``. A failed entity stays due, so
the next run retries it.

State lives in the warehouse: ``audit.sync_state`` (last success and last attempt per
district, source and entity, with the error of a failed attempt) and ``audit.sync_log`` (one
row per source run). An exclusive lock file next to the warehouse keeps two runs from loading at
once; a run that finds it held exits 0 without doing anything. A failing source is recorded and
the other sources still run; the exit code is 1 when anything failed.
"""

from __future__ import annotations

import fcntl
import importlib
import os
import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb

from loaders.audit import AUDIT_SCHEMA
from loaders.oneroster.settings import file_specs
from loaders.registry import UnknownDistrictError, get_district
from loaders.source_config import ConfigError, read_yaml
from loaders.writer_lock import WarehouseBusy, writer_transaction
from rollcall.settings import DISTRICTS_CONFIG_DIR

if TYPE_CHECKING:  # the source modules import dlt; a run that finds the lock held never needs it
    from loaders.sources import PullSource
    from loaders.spine import LoadReport

DEFAULT_CONFIG_DIR = DISTRICTS_CONFIG_DIR
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

CADENCES = ("once", "yearly", "daily", "hourly", "never")
CADENCE_ALIASES = {"one-time": "once", "onetime": "once", "one_time": "once", "annually": "yearly", "off": "never"}
# ARCHITECTURE.md "Cadences"; any other entity of the field table is daily unless configured.
DEFAULT_CADENCE = {
    "orgs": "once",
    "absenceCodes": "once",
    "academicSessions": "yearly",
    "courses": "yearly",
    "calendar": "yearly",
    "users": "daily",
    "classes": "daily",
    "enrollments": "daily",
    "demographics": "daily",
    "attendance": "hourly",
}
FALLBACK_CADENCE = "daily"
# Entities a source of each kind offers unless its cadence map adds others; None = every entity of
# the field table (file drops can carry any OneRoster or OneRoster+ file).
ROSTER_ENTITIES = ("orgs", "academicSessions", "courses", "classes", "users", "enrollments", "demographics")
KIND_ENTITIES: dict[str, tuple[str, ...] | None] = {
    "folder": None,
    "sftp": None,
    "oneroster_rest": ROSTER_ENTITIES,
    "clever": ROSTER_ENTITIES,
}
SCHOOL_YEAR_START_MONTH = 7  # a school year runs from 1 July to 30 June

# kind -> module whose ``SOURCE`` is the kind's ``loaders.sources.PullSource`` (or that offers a
# ``pull`` function: ``loaders.sources.source_of``); imported when used.
SOURCE_MODULES = {
    "folder": "loaders.folder_source",
    "sftp": "loaders.sftp",
    "oneroster_rest": "loaders.oneroster_rest",
    "clever": "loaders.clever",
}

STATE_DDL = f"""
create schema if not exists {AUDIT_SCHEMA};
create table if not exists {AUDIT_SCHEMA}.sync_state (
    district_id varchar not null,
    source_name varchar not null,
    entity varchar not null,
    cadence varchar not null,
    last_success_at timestamptz,      -- as-of time of the last run that applied the entity
    last_success_load_id varchar,
    last_attempt_at timestamptz not null,
    last_status varchar not null,     -- succeeded | failed
    last_error varchar,               -- why the last attempt failed (null when it succeeded)
    primary key (district_id, source_name, entity)
);
create table if not exists {AUDIT_SCHEMA}.sync_log (
    run_id varchar not null,
    district_id varchar not null,
    source_name varchar not null,
    kind varchar not null,
    as_of timestamptz not null,
    started_at timestamptz not null,
    finished_at timestamptz not null,
    entities_due varchar not null,    -- comma-separated
    status varchar not null,          -- succeeded | partial | failed
    load_id varchar,
    error_text varchar,
    primary key (run_id, district_id, source_name)
);
"""

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class SyncConfigError(ConfigError):
    """A district config cannot be used; the message names the file, the key and the reason."""


class SourceUnavailable(Exception):
    """The module of a source kind cannot be imported."""


class SyncBusy(Exception):
    """Another ``rollcall sync`` holds the lock for this warehouse."""


@dataclass(frozen=True)
class SourceConfig:
    """One source of a district config."""

    name: str
    kind: str
    cadence: dict[str, str]  # every entity of the field table -> its cadence (``never`` = not synced)
    options: dict[str, Any]  # the source mapping as written (url, path, keys, ...)

    @property
    def entities(self) -> list[str]:
        return [entity for entity, cadence in self.cadence.items() if cadence != "never"]

    def asks_for_everything(self, due: list[str]) -> bool:
        """Whether ``due`` is every entity the kind offers, so the pull can be asked for all (``None``)."""
        return set(due) == set(self.cadence) == set(kind_entities(self.kind))


@dataclass(frozen=True)
class DistrictConfig:
    district_id: str
    path: Path
    sources: tuple[SourceConfig, ...]


@dataclass(frozen=True)
class EntityState:
    """What the warehouse remembers about one entity of one source."""

    last_success_at: datetime | None
    last_attempt_at: datetime
    last_status: str
    last_error: str | None


@dataclass(frozen=True)
class Decision:
    """Whether an entity is due now, and why."""

    entity: str
    cadence: str
    due: bool
    reason: str


@dataclass
class SourceRun:
    """The outcome of running one source."""

    district_id: str
    source: SourceConfig
    due: list[str]
    status: str = "succeeded"
    report: LoadReport | None = None
    error: str | None = None
    entity_errors: dict[str, str] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.status == "failed" or bool(self.entity_errors)


def all_entities() -> list[str]:
    """Canonical names of every entity of the field table (the manifest excluded)."""
    return [spec.name for spec in file_specs().values() if spec.name != "manifest"]


def kind_entities(kind: str) -> list[str]:
    """The entities a source of ``kind`` offers by default."""
    listed = KIND_ENTITIES.get(kind)
    return list(listed) if listed is not None else all_entities()


def _canonical_entity(name: Any, where: str, key: str) -> str:
    spec = file_specs().get(str(name).strip().lower())
    if spec is None or spec.name == "manifest":
        known = ", ".join(all_entities())
        raise SyncConfigError(f"unknown entity {name!r} in cadence (known: {known})", key=key, where=where)
    return spec.name


def _canonical_cadence(value: Any, where: str, key: str) -> str:
    text = CADENCE_ALIASES.get(str(value).strip().lower(), str(value).strip().lower()) if value is not None else ""
    if value is False:  # YAML reads a bare `off` as false
        text = "never"
    if text not in CADENCES:
        raise SyncConfigError(f"cadence {value!r} is not one of {', '.join(CADENCES)}", key=key, where=where)
    return text


def _source_config(raw: Any, index: int, path: Path) -> SourceConfig:
    where, key = f"{path.name}: source {index + 1}", f"sources[{index}]"
    if not isinstance(raw, Mapping):
        raise SyncConfigError("not a mapping (name, kind, cadence, ...)", key=key, where=where)
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        reason = f"name must be letters, digits, '.', '_' or '-' (got {name!r})"
        raise SyncConfigError(reason, key=f"{key}.name", where=where)
    where = f"{path.name}: source {name!r}"
    kind = raw.get("kind")
    if kind not in SOURCE_MODULES:
        reason = f"kind must be one of {', '.join(SOURCE_MODULES)} (got {kind!r})"
        raise SyncConfigError(reason, key=f"{key}.kind", where=where)
    cadence = {entity: DEFAULT_CADENCE.get(entity, FALLBACK_CADENCE) for entity in kind_entities(kind)}
    configured = raw.get("cadence") or {}
    if not isinstance(configured, Mapping):
        reason = "cadence must map entities to once, yearly, daily, hourly or never"
        raise SyncConfigError(reason, key=f"{key}.cadence", where=where)
    for entity, value in configured.items():
        entity_key = f"{key}.cadence.{entity}"
        canonical = _canonical_entity(entity, where, entity_key)
        cadence[canonical] = _canonical_cadence(value, f"{where}, {entity}", entity_key)
    return SourceConfig(name, kind, cadence, dict(raw))


def load_config(path: Path) -> DistrictConfig:
    """Read and validate one district config file."""
    raw = read_yaml(path, SyncConfigError)
    where = path.name
    if not isinstance(raw, Mapping):
        raise SyncConfigError("expected district_id and sources", where=where)
    district_id = raw.get("district_id")
    if district_id != path.stem:
        reason = f"district_id {district_id!r} does not match the file name"
        raise SyncConfigError(reason, key="district_id", where=where)
    sources = raw.get("sources")
    if not isinstance(sources, list) or not sources:
        raise SyncConfigError("sources must be a non-empty list", key="sources", where=where)
    parsed = tuple(_source_config(source, index, path) for index, source in enumerate(sources))
    names = [source.name for source in parsed]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        reason = f"source names must be unique ({', '.join(duplicates)})"
        raise SyncConfigError(reason, key="sources", where=where)
    return DistrictConfig(district_id, path, parsed)


def config_paths(config_dir: Path, district: str | None) -> list[Path]:
    """The config file of ``district``, or every ``*.yml`` in ``config_dir``."""
    if district is not None:
        path = config_dir / f"{district}.yml"
        if not path.is_file():
            raise SyncConfigError(f"no config for district {district!r}: {path} not found")
        return [path]
    if not config_dir.is_dir():
        raise SyncConfigError(f"config folder {config_dir} not found")
    paths = sorted(config_dir.glob("*.yml"))
    if not paths:
        raise SyncConfigError(f"no district configs (*.yml) in {config_dir}")
    return paths


# --- cadences -------------------------------------------------------------------------------


def _period(cadence: str, moment: datetime) -> tuple[int, ...]:
    """The cadence period ``moment`` (local time) falls in, as a comparable key."""
    if cadence == "hourly":
        return (moment.year, moment.month, moment.day, moment.hour)
    if cadence == "daily":
        return (moment.year, moment.month, moment.day)
    if cadence == "yearly":  # the calendar year in which the school year ends
        return (moment.year + (moment.month >= SCHOOL_YEAR_START_MONTH),)
    return ()  # once: a single period


_NEW_PERIOD = {"hourly": "a new hour", "daily": "a new day", "yearly": "a new school year"}
_SAME_PERIOD = {"hourly": "same hour", "daily": "same day", "yearly": "same school year"}


def _stamp(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")


def decide(entity: str, cadence: str, state: EntityState | None, now: datetime, tz: ZoneInfo, full: bool) -> Decision:
    """Whether ``entity`` is due at ``now`` (aware), given what the warehouse remembers."""
    failed = ""
    if state is not None and state.last_status == "failed":
        failed = f"; last attempt failed: {state.last_error or 'unknown error'}"
    if cadence == "never":
        return Decision(entity, cadence, False, "not synced from this source (cadence never)")
    if full:
        return Decision(entity, cadence, True, "--full")
    if state is None or state.last_success_at is None:
        return Decision(entity, cadence, True, f"never loaded{failed}")
    last = f"last success {_stamp(state.last_success_at, tz)}"
    if cadence == "once":
        return Decision(entity, cadence, False, f"loaded once ({last}); only --full loads it again")
    then, current = _period(cadence, state.last_success_at.astimezone(tz)), _period(cadence, now.astimezone(tz))
    if current > then:
        return Decision(entity, cadence, True, f"{last}, {_NEW_PERIOD[cadence]} has begun{failed}")
    return Decision(entity, cadence, False, f"{last}, {_SAME_PERIOD[cadence]}")


def plan(
    source: SourceConfig, states: Mapping[tuple[str, str], EntityState], now: datetime, tz: ZoneInfo, full: bool
) -> list[Decision]:
    """A decision for every entity the source syncs."""
    return [
        decide(entity, cadence, states.get((source.name, entity)), now, tz, full)
        for entity, cadence in source.cadence.items()
        if cadence != "never"
    ]


# --- state in the warehouse ---------------------------------------------------------------


def read_state(database: Path, district_id: str) -> dict[tuple[str, str], EntityState]:
    """``(source, entity) -> EntityState`` for the district; empty for a new warehouse."""
    if not database.exists():
        return {}
    try:
        with duckdb.connect(str(database), read_only=True) as con:
            exists = con.execute(
                "select count(*) from information_schema.tables where table_schema = ? and table_name = 'sync_state'",
                [AUDIT_SCHEMA],
            ).fetchone()[0]
            if not exists:
                return {}
            rows = con.execute(
                f"""select source_name, entity, last_success_at, last_attempt_at, last_status, last_error
                    from {AUDIT_SCHEMA}.sync_state where district_id = ?""",
                [district_id],
            ).fetchall()
    except duckdb.IOException as exc:
        raise SyncConfigError(f"cannot read the warehouse {database}: {str(exc).splitlines()[0]}") from None
    return {(row[0], row[1]): EntityState(*row[2:]) for row in rows}


def record_run(database: Path, run_id: str, now: datetime, started_at: datetime, run: SourceRun) -> None:
    """Write the source run to ``audit.sync_log`` and each due entity's outcome to ``audit.sync_state``."""
    database.parent.mkdir(parents=True, exist_ok=True)
    load_id = run.report.load_id if run.report is not None and run.report.load_id else None
    with writer_transaction(database, STATE_DDL) as con:
        for entity in run.due:
            error = run.error if run.status == "failed" else run.entity_errors.get(entity)
            con.execute(
                f"""insert into {AUDIT_SCHEMA}.sync_state as s values (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    on conflict (district_id, source_name, entity) do update set
                        cadence = excluded.cadence,
                        last_success_at = coalesce(excluded.last_success_at, s.last_success_at),
                        last_success_load_id = coalesce(excluded.last_success_load_id, s.last_success_load_id),
                        last_attempt_at = excluded.last_attempt_at,
                        last_status = excluded.last_status,
                        last_error = excluded.last_error""",
                [
                    run.district_id,
                    run.source.name,
                    entity,
                    run.source.cadence[entity],
                    None if error else now,
                    None if error else load_id,
                    now,
                    "failed" if error else "succeeded",
                    error,
                ],
            )
        con.execute(
            f"insert into {AUDIT_SCHEMA}.sync_log values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                run_id,
                run.district_id,
                run.source.name,
                run.source.kind,
                now,
                started_at,
                datetime.now(UTC),
                ",".join(run.due),
                run.status,
                load_id,
                run.error,
            ],
        )


# --- lock -----------------------------------------------------------------------------------


def lock_path(database: Path) -> Path:
    return database.with_name(f"{database.name}.sync.lock")


@contextmanager
def sync_lock(database: Path) -> Iterator[Path]:
    """Hold an exclusive lock on ``<warehouse>.sync.lock``; raises ``SyncBusy`` when another run has it.

    The lock is released by the operating system when the process ends, even after a crash.
    """
    path = lock_path(database)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip()
            raise SyncBusy(f"another sync is running ({holder or 'lock'} holds {path}); nothing done") from None
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(f"pid {os.getpid()} since {datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}")
            handle.flush()
            yield path
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


# --- running --------------------------------------------------------------------------------


def format_report_lines(report: LoadReport) -> list[str]:
    """One line per file: name, status, counts or reason (never row contents)."""
    width = max((len(f.file_name) for f in report.files), default=10)
    lines = []
    for f in report.files:
        line = f"  {f.file_name:<{width}}  {f.status:<8}"
        if f.status in ("loaded", "failed"):
            line += f"  {f.mode or '':<5}  read {f.rows_read:,}  landed {f.rows_landed:,}"
            line += f"  quarantined {f.rows_quarantined:,}"
            if f.rows_tombstoned:
                line += f"  tombstoned {f.rows_tombstoned:,}"
        if f.error_text:
            line += f"  — {f.error_text}"
        lines.append(line)
    return lines


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def pull_source(kind: str) -> PullSource:
    """The ``loaders.sources.PullSource`` of a source kind (its module is imported now)."""
    module_name = SOURCE_MODULES[kind]
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise SourceUnavailable(f"source kind {kind!r} is not available ({module_name}: {_one_line(exc)})") from None
    from loaders.sources import source_of  # imports the spine (dlt): only when a source runs

    return source_of(kind, module)


def run_source(
    source: SourceConfig, district_id: str, database: Path, due: list[str], send_all: bool, full: bool
) -> SourceRun:
    """Pull ``due`` entities (``None`` when ``send_all``) from the source; never raises."""
    run = SourceRun(district_id, source, due)
    try:
        report = pull_source(source.kind).pull(
            source.options, district_id=district_id, database=database, entities=None if send_all else due, full=full
        )
    except Exception as exc:  # a failing source must not stop the others
        # rollcall's own errors (loaders.*, SourceUnavailable) carry messages written for operators
        own = type(exc).__module__.startswith("loaders.") or isinstance(exc, SourceUnavailable)
        run.status, run.error = "failed", (str(exc).strip().splitlines() or [""])[0] if own else _one_line(exc)
        return run
    run.report = report
    if report.status == "failed":
        run.status, run.error = "failed", report.error_text or "the load failed"
        return run
    wanted = {entity.lower(): entity for entity in due}
    for f in report.files:
        entity = wanted.get((f.entity or "").lower())
        if entity and f.status in ("refused", "failed"):
            run.entity_errors[entity] = f"{f.file_name} {f.status}: {f.error_text or 'no reason given'}"
    if run.entity_errors or report.status in ("partial", "refused"):
        run.status = "partial"
    return run


def parse_now(text: str) -> datetime:
    """``--now``: an ISO date-time; without an offset it is read in each district's time zone."""
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise SyncConfigError(f"--now {text!r} is not an ISO date-time such as 2026-11-22T10:00") from None


def _zone(district_id: str) -> ZoneInfo:
    name = get_district(district_id).time_zone
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise SyncConfigError(f"district {district_id!r} has an unknown time zone {name!r}") from None


def run_sync(
    database: Path,
    *,
    config_dir: Path = DEFAULT_CONFIG_DIR,
    district: str | None = None,
    now: datetime | None = None,
    dry_run: bool = False,
    full: bool = False,
    echo: Callable[[str], None] = print,
) -> int:
    """Run every due source of the configured districts; returns the exit code.

    0: everything due ran (or nothing was due, or another sync holds the lock); 1: a source or
    entity failed, or a district config was unusable; 2: usage error (no config, bad ``--now``).
    Raises ``SyncConfigError`` for the usage errors.
    """
    paths = config_paths(config_dir, district)
    configs: list[DistrictConfig] = []
    failed = False
    for path in paths:
        try:
            configs.append(load_config(path))
        except SyncConfigError as exc:
            if district is not None:
                raise
            echo(f"sync: skipped {exc}")
            failed = True
    if dry_run:
        return _dry_run(database, configs, now, full, echo) or (EXIT_FAILED if failed else EXIT_OK)
    try:
        with sync_lock(database):
            failed = _run_locked(database, configs, now, full, echo) or failed
    except SyncBusy as exc:
        echo(f"sync: {exc}")
        return EXIT_OK
    return EXIT_FAILED if failed else EXIT_OK


def _as_of(now: datetime | None, tz: ZoneInfo) -> datetime:
    if now is None:
        return datetime.now(UTC)
    return now.replace(tzinfo=tz) if now.tzinfo is None else now


def _dry_run(database: Path, configs: list[DistrictConfig], now: datetime | None, full: bool, echo: Callable) -> int:
    for config in configs:
        try:
            tz = _zone(config.district_id)
        except (SyncConfigError, UnknownDistrictError) as exc:
            echo(f"sync: {config.district_id}: {exc}")
            return EXIT_FAILED
        as_of = _as_of(now, tz)
        states = read_state(database, config.district_id)
        for source in config.sources:
            decisions = plan(source, states, as_of, tz, full)
            due = [d.entity for d in decisions if d.due]
            echo(
                f"{config.district_id} / {source.name} ({source.kind}) at {_stamp(as_of, tz)}: "
                f"{len(due)} of {len(decisions)} entities due"
            )
            width = max((len(d.entity) for d in decisions), default=8)
            for d in decisions:
                echo(f"  {'due' if d.due else 'not due':<8} {d.entity:<{width}}  {d.cadence:<7} {d.reason}")
    return EXIT_OK


def _run_locked(
    database: Path, configs: list[DistrictConfig], now: datetime | None, full: bool, echo: Callable
) -> bool:
    """Run the due sources of every district; returns True when anything failed."""
    run_id = f"{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}-{uuid.uuid4().hex[:6]}"
    failed = False
    runs = 0
    for config in configs:
        try:
            tz = _zone(config.district_id)
        except (SyncConfigError, UnknownDistrictError) as exc:
            echo(f"sync: {config.district_id}: {exc}")
            failed = True
            continue
        as_of = _as_of(now, tz)
        try:
            states = read_state(database, config.district_id)
        except SyncConfigError as exc:
            echo(f"sync: {config.district_id}: {exc}")
            failed = True
            continue
        for source in config.sources:
            decisions = plan(source, states, as_of, tz, full)
            due = [d.entity for d in decisions if d.due]
            header = f"{config.district_id} / {source.name} ({source.kind})"
            if not due:
                echo(f"{header}: nothing due")
                continue
            send_all = source.asks_for_everything(due)
            echo(f"{header}: due {', '.join(due)}")
            started_at = datetime.now(UTC)
            run = run_source(source, config.district_id, database, due, send_all, full)
            try:
                record_run(database, run_id, as_of, started_at, run)
            except (duckdb.Error, WarehouseBusy) as exc:  # the load ran; only its bookkeeping could not be written
                echo(f"  could not record the outcome in {database}: {_one_line(exc)}")
                failed = True
            runs += 1
            failed = failed or run.failed
            if run.report is not None:
                for line in format_report_lines(run.report):
                    echo(line)
            if run.status == "failed":
                echo(f"  FAILED: {run.error}")
            else:
                for entity, error in run.entity_errors.items():
                    echo(f"  FAILED {entity}: {error}")
                landed = run.report.rows_landed if run.report else 0
                load_id = (run.report.load_id if run.report else "") or "none: nothing new"
                echo(f"  {run.status}: {landed:,} rows landed (load {load_id})")
    echo(f"sync: {runs} source run(s); {'something failed' if failed else 'all succeeded'}")
    return failed
