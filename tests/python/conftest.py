"""Fixtures shared by the test modules (helpers live in support.py), and the suite's markers.

Markers (registered in pyproject.toml):

* ``needs_shared``: reads third-party fixtures from ``../shared/fixtures/external`` beside the
  repository; skipped, with one reason, when that folder is absent (a plain clone).
* ``needs_sshd``: starts a real OpenSSH server; skipped when sshd or ssh-keygen is missing.
* ``needs_chromium``: drives the system Chromium headless (Playwright); skipped when Chromium or
  playwright is missing.
* ``needs_spark``: builds on a local Apache Spark; skipped when pyspark (``uv sync --extra spark``)
  or Java is missing. Left out of ``make test``; ``make test-spark`` runs them.
* ``dbt``: runs dbt (``pytest -m "not dbt"`` is the quick loop; ``make test`` runs everything).

With ``ROLLCALL_TESTS_REQUIRE_ALL=1`` (set by ``.ci/run``) a run that skipped any test fails,
listing what it skipped: CI has the shared fixtures and sshd, so it must run every test.

``make test`` runs the suite on three pytest-xdist workers (two cores), a module at a time (``--dist loadfile``),
the modules on the session's sample warehouse together, the longest modules first.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.python.browser import chromium_unavailable_reason
from tests.python.sshd_server import sshd_unavailable_reason
from tests.python.support import (
    GRAND_BEND_11,
    HAS_SHARED_FIXTURES,
    PROJECT_ROOT,
    SAMPLE_DISTRICT,
    SAMPLE_SIZE,
    SHARED_FIXTURES,
    SampleWarehouse,
    run_rollcall,
    spark_unavailable_reason,
)

REQUIRE_ALL_ENV = "ROLLCALL_TESTS_REQUIRE_ALL"
# the modules on the session's sample_warehouse: under pytest-xdist they run on one worker
SAMPLE_WAREHOUSE_MODULES = ("test_end_to_end.py", "test_incremental.py", "test_bi.py")
SHARED_REASON = f"needs_shared: third-party fixtures not found at {SHARED_FIXTURES}"


def pytest_configure(config: pytest.Config) -> None:
    worker = getattr(config, "workerinput", {}).get("workerid")
    if worker:
        # pytest-xdist (make test): each worker keeps its own dbt artifacts, partial parse and logs
        os.environ["DBT_TARGET_PATH"] = str(PROJECT_ROOT / "target" / worker)
        os.environ["DBT_LOG_PATH"] = str(PROJECT_ROOT / "logs" / worker)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    sshd_reason = sshd_unavailable_reason() if any(item.get_closest_marker("needs_sshd") for item in items) else None
    needs_chromium = any(item.get_closest_marker("needs_chromium") for item in items)
    chromium_reason = chromium_unavailable_reason() if needs_chromium else None
    for item in items:
        if not HAS_SHARED_FIXTURES and item.get_closest_marker("needs_shared"):
            item.add_marker(pytest.mark.skip(reason=SHARED_REASON))
        if sshd_reason and item.get_closest_marker("needs_sshd"):
            item.add_marker(pytest.mark.skip(reason=f"needs_sshd: {sshd_reason}"))
        if chromium_reason and item.get_closest_marker("needs_chromium"):
            item.add_marker(pytest.mark.skip(reason=f"needs_chromium: {chromium_reason}"))
        if item.get_closest_marker("needs_spark") and (spark_reason := spark_unavailable_reason()):
            item.add_marker(pytest.mark.skip(reason=f"needs_spark: {spark_reason}"))
    if hasattr(config, "workerinput"):
        # pytest-xdist hands the modules out in this order: the longest first (the sample
        # warehouse's, then those running dbt), so that no worker is left with one at the end
        with_dbt = {item.path for item in items if item.get_closest_marker("dbt")}
        items.sort(key=lambda item: (item.path.name not in SAMPLE_WAREHOUSE_MODULES, item.path not in with_dbt))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """``--dist loadfile`` (make test), with the modules on the session's sample warehouse as one
    unit: it is built once, on one worker."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class SampleWarehouseScheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = super()._split_scope(nodeid)
            return "sample_warehouse" if Path(module).name in SAMPLE_WAREHOUSE_MODULES else module

    return SampleWarehouseScheduling(config, log)


def _require_all(config: pytest.Config) -> bool:
    return os.environ.get(REQUIRE_ALL_ENV, "") not in ("", "0")


def _skipped(config: pytest.Config) -> list[pytest.TestReport]:
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    reports = reporter.stats.get("skipped", []) if reporter is not None else []
    return [report for report in reports if not hasattr(report, "wasxfail")]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _require_all(session.config) and _skipped(session.config) and exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    skipped = _skipped(config)
    if not (_require_all(config) and skipped):
        return
    terminalreporter.section(f"{REQUIRE_ALL_ENV}=1: skipped tests fail this run", red=True, bold=True)
    for report in skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        reason = reason.removeprefix("Skipped: ")
        terminalreporter.line(f"SKIPPED {report.nodeid}: {reason}", red=True)


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    """A DuckDB file path in a fresh temporary folder (not created yet)."""
    return tmp_path / "warehouse" / "warehouse.duckdb"


@pytest.fixture(scope="session")
def sample_warehouse(tmp_path_factory: pytest.TempPathFactory) -> SampleWarehouse:
    """The sample district (four sources) generated, loaded and built once for the whole run.

    Grand Bend's real OneRoster 1.1 sample is loaded beside it when the shared fixtures are there,
    as a second district (tests asserting on it are marked needs_shared).
    """
    from loaders.oneroster.pipeline import load_package
    from rollcall.sample import generate_multi_source_district

    root = tmp_path_factory.mktemp("sample-warehouse")
    drop = root / "sample" / "drop"
    generate_multi_source_district(drop, **SAMPLE_SIZE)
    database = root / "warehouse" / "warehouse.duckdb"
    districts = [SAMPLE_DISTRICT]
    assert load_package(drop, SAMPLE_DISTRICT, database).status == "succeeded"
    if HAS_SHARED_FIXTURES:
        assert load_package(GRAND_BEND_11, "grand-bend", database).status == "succeeded"
        districts.append("grand-bend")
    # the run's one build with dbt's unit tests (they check code, not rows; a failing one fails it),
    # and with dbt's manifest.json, which test_bi and test_end_to_end read
    result = run_rollcall("build", database=database, unit_tests=True, artifacts=True)
    assert result.returncode == 0, result.stdout[-4000:]
    return SampleWarehouse(drop, root / "sample" / "truth", database, result.stdout, tuple(districts))
