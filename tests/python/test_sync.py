"""``rollcall sync``: cadences decide what is due, state survives between runs, one run at a time,
and a failing source neither stops the others nor goes unreported."""

from __future__ import annotations

import sys
import types
from datetime import datetime
from pathlib import Path

import pytest

from loaders.oneroster.pipeline import LoadReport
from rollcall import cli, sync
from rollcall.sample import generate_district
from rollcall.settings import PROJECT_ROOT
from rollcall.sync import load_config, run_sync, sync_lock
from tests.python.support import TINY_PACKAGE, query, run_rollcall, write_package

DISTRICT = "demo-unified"  # time zone America/New_York in seeds/districts.csv
CADENCE = """    cadence:
      orgs: once
      absenceCodes: once
      academicSessions: yearly
      courses: yearly
      calendar: yearly
      users: daily
      classes: daily
      enrollments: daily
      demographics: daily
      attendance: hourly
"""


def _write_config(config_dir: Path, sources: str) -> Path:
    config_dir.mkdir(parents=True, exist_ok=True)
    path = config_dir / f"{DISTRICT}.yml"
    path.write_text(f"district_id: {DISTRICT}\nsources:\n{sources}", encoding="utf-8")
    return path


def _folder_source(drop: Path, name: str = "nightly") -> str:
    return f"  - name: {name}\n    kind: folder\n    path: {drop}\n{CADENCE}"


@pytest.fixture
def drop(tmp_path: Path) -> Path:
    folder = tmp_path / "drop"
    generate_district(folder, students=12, schools=1, days=3, seed=11)
    return folder


def _sync(warehouse: Path, config_dir: Path, now: datetime, **options: object) -> tuple[int, list[str]]:
    lines: list[str] = []
    code = run_sync(warehouse, config_dir=config_dir, now=now, echo=lines.append, **options)
    return code, lines


def _last_due(warehouse: Path, source: str) -> set[str]:
    (due,) = query(
        warehouse, "select entities_due from audit.sync_log where source_name = ? order by as_of desc limit 1", [source]
    )[0]
    return set(due.split(","))


def _latest_load_files(warehouse: Path) -> dict[str, str]:
    rows = query(
        warehouse,
        "select file_name, status from audit.file_log where load_id = (select max(load_id) from audit.load_log)",
    )
    return dict(rows)


def test_cadences_decide_what_each_run_loads(tmp_path: Path, drop: Path, warehouse: Path) -> None:
    config_dir = tmp_path / "districts"
    cadence = load_config(_write_config(config_dir, _folder_source(drop))).sources[0].cadence
    by_cadence = {kind: {e for e, c in cadence.items() if c == kind} for kind in sync.CADENCES}

    code, _ = _sync(warehouse, config_dir, datetime(2026, 11, 22, 10, 0))
    assert code == 0
    files = _latest_load_files(warehouse)
    assert set(files.values()) == {"loaded"} and len(files) == len(list(drop.glob("*.csv")))
    states = query(warehouse, "select distinct last_status, last_success_at from audit.sync_state")
    assert states == [("succeeded", datetime.fromisoformat("2026-11-22T10:00-05:00"))]

    code, lines = _sync(warehouse, config_dir, datetime(2026, 11, 22, 11, 0), dry_run=True)
    assert code == 0
    assert any(line.split()[:3] == ["due", "attendance", "hourly"] and "a new hour" in line for line in lines)
    assert any(line.split()[:3] == ["not", "due", "users"] and "same day" in line for line in lines)
    code, lines = _sync(warehouse, config_dir, datetime(2026, 11, 22, 11, 0))
    assert code == 0 and _last_due(warehouse, "nightly") == {"attendance"}
    assert _latest_load_files(warehouse) == {"attendance.csv": "skipped", "manifest.csv": "skipped"}

    code, lines = _sync(warehouse, config_dir, datetime(2026, 11, 22, 11, 45))
    assert code == 0 and lines[0] == f"{DISTRICT} / nightly (folder): nothing due"

    _sync(warehouse, config_dir, datetime(2026, 11, 23, 6, 0))
    assert _last_due(warehouse, "nightly") == by_cadence["daily"] | by_cadence["hourly"]
    assert {"users", "classes", "enrollments", "attendance"} <= _last_due(warehouse, "nightly")

    _sync(warehouse, config_dir, datetime(2027, 7, 1, 6, 0))  # a new school year
    assert _last_due(warehouse, "nightly") == by_cadence["yearly"] | by_cadence["daily"] | by_cadence["hourly"]
    assert not {"orgs", "absenceCodes"} & _last_due(warehouse, "nightly")

    _sync(warehouse, config_dir, datetime(2027, 7, 1, 6, 30), full=True)
    assert {"orgs", "absenceCodes"} <= _last_due(warehouse, "nightly")


def test_state_survives_between_processes_and_overlapping_runs_are_prevented(
    tmp_path: Path, drop: Path, warehouse: Path
) -> None:
    config_dir = tmp_path / "districts"
    _write_config(config_dir, _folder_source(drop))
    options = ["--config-dir", str(config_dir), "--database", str(warehouse)]
    first = run_rollcall("sync", *options, "--now", "2026-11-22T10:00")
    assert first.returncode == 0, first.stderr
    assert "sync: 1 source run(s); all succeeded" in first.stdout

    code, lines = _sync(warehouse, config_dir, datetime(2026, 11, 22, 10, 30), dry_run=True)
    assert code == 0 and "0 of " in lines[0]
    assert any("attendance" in line and "same hour" in line for line in lines)

    runs_before = query(warehouse, "select count(*) from audit.sync_log")[0][0]
    with sync_lock(warehouse):
        busy = run_rollcall("sync", *options, "--now", "2026-11-22T11:00")
    assert busy.returncode == 0
    assert "another sync is running" in busy.stdout and "pid" in busy.stdout
    assert query(warehouse, "select count(*) from audit.sync_log")[0][0] == runs_before

    code, _ = _sync(warehouse, config_dir, datetime(2026, 11, 22, 11, 0))  # the lock is free again
    assert code == 0 and _last_due(warehouse, "nightly") == {"attendance"}


@pytest.fixture
def fake_kinds(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """Two injected source kinds: ``recording`` (remembers its calls) and ``broken`` (always raises)."""
    calls: list[dict] = []

    def recording_pull(source, *, district_id, database, entities=None, full=False):
        calls.append({"source": source["name"], "entities": entities, "full": full, "district_id": district_id})
        return LoadReport("fake-load", district_id, "succeeded")

    def broken_pull(source, *, district_id, database, entities=None, full=False):
        raise ConnectionError("district API answered 503")

    for kind, pull in (("recording", recording_pull), ("broken", broken_pull)):
        module = types.ModuleType(f"rollcall_test_{kind}_source")
        module.pull = pull
        monkeypatch.setitem(sys.modules, module.__name__, module)
        monkeypatch.setitem(sync.SOURCE_MODULES, kind, module.__name__)
        monkeypatch.setitem(sync.KIND_ENTITIES, kind, ("users", "attendance"))
    return calls


def test_dispatch_and_a_failing_source_does_not_stop_the_others(
    tmp_path: Path, drop: Path, warehouse: Path, fake_kinds: list[dict]
) -> None:
    config_dir = tmp_path / "districts"
    _write_config(
        config_dir,
        "  - name: api\n    kind: broken\n"
        + _folder_source(drop)
        + "  - name: vendor\n    kind: recording\n    cadence: {users: daily, attendance: hourly}\n",
    )
    code, lines = _sync(warehouse, config_dir, datetime(2026, 11, 22, 10, 0))
    assert code == 1
    assert "  FAILED: ConnectionError: district API answered 503" in lines
    assert set(_latest_load_files(warehouse).values()) == {"loaded"}  # the folder source still ran
    assert fake_kinds == [{"source": "vendor", "entities": None, "full": False, "district_id": DISTRICT}]
    failed = query(
        warehouse,
        "select entity, last_status, last_success_at, last_error from audit.sync_state "
        "where source_name = 'api' order by entity",
    )
    assert failed == [
        ("attendance", "failed", None, "ConnectionError: district API answered 503"),
        ("users", "failed", None, "ConnectionError: district API answered 503"),
    ]
    assert query(warehouse, "select source_name, status from audit.sync_log order by source_name") == [
        ("api", "failed"),
        ("nightly", "succeeded"),
        ("vendor", "succeeded"),
    ]

    code, lines = _sync(warehouse, config_dir, datetime(2026, 11, 22, 10, 30), dry_run=True)
    retry = [line for line in lines if "users" in line.split()[:3] and "last attempt failed" in line]
    assert code == 0 and retry and retry[0].split()[0] == "due"  # the failed source is retried
    code, _ = _sync(warehouse, config_dir, datetime(2026, 11, 22, 11, 0))
    assert code == 1
    assert fake_kinds[-1] == {"source": "vendor", "entities": ["attendance"], "full": False, "district_id": DISTRICT}

    _sync(warehouse, config_dir, datetime(2026, 11, 22, 11, 5), full=True)
    assert fake_kinds[-1]["entities"] is None and fake_kinds[-1]["full"] is True


def test_a_refused_file_fails_its_entity_only(tmp_path: Path, warehouse: Path) -> None:
    drop = write_package(tmp_path / "drop", {**TINY_PACKAGE, "users.csv": "sourcedId,status\nu1,\n"})
    config_dir = tmp_path / "districts"
    _write_config(config_dir, _folder_source(drop))
    code, lines = _sync(warehouse, config_dir, datetime(2026, 11, 22, 10, 0))
    assert code == 1
    assert any(line.startswith("  FAILED users: users.csv refused") for line in lines)
    states = dict(
        query(warehouse, "select entity, last_status from audit.sync_state where entity in ('orgs', 'users')")
    )
    assert states == {"orgs": "succeeded", "users": "failed"}


def test_config_mistakes_get_one_line_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config_dir = tmp_path / "districts"
    config_dir.mkdir()
    assert cli.main(["sync", "--config-dir", str(config_dir), "--district", "nowhere-usd"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("rollcall sync: no config for district 'nowhere-usd'") and "\n" not in err

    _write_config(config_dir, "  - name: nightly\n    kind: folder\n    path: x\n    cadence: {attendance: weekly}\n")
    assert cli.main(["sync", "--config-dir", str(config_dir), "--district", DISTRICT]) == 2
    err = capsys.readouterr().err.strip()
    assert "cadence 'weekly' is not one of once, yearly, daily, hourly, never" in err and "\n" not in err

    assert cli.main(["sync", "--config-dir", str(config_dir), "--now", "next tuesday"]) == 2
    assert "is not an ISO date-time" in capsys.readouterr().err


def test_the_documented_example_config_is_valid() -> None:
    config = load_config(PROJECT_ROOT / "config" / "districts" / "demo-unified.yml")
    (source,) = config.sources
    assert (config.district_id, source.kind) == (DISTRICT, "folder")
    assert source.options["path"] == "warehouse/sample-district/drop"
    assert source.cadence["attendance"] == "hourly" and source.cadence["orgs"] == "once"
