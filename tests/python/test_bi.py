"""The layer for people who read the numbers: contracts and publication declared in the marts'
YAML, the published files (audiences, no PII in the public one, suppressed cells unreadable,
readable while a load holds the warehouse, swapped atomically), the metrics against the marts,
and the dashboard and the dbt docs site in a headless Chromium.

Built on the session's ``sample_warehouse`` (only read here); screenshots go to
target/test-artifacts/browser/.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from rollcall.publish import AUDIENCES, declared_marts, publish
from tests.python import browser
from tests.python.support import SAMPLE_DISTRICT, SampleWarehouse, dbt_target_path, query, run_rollcall

pytestmark = pytest.mark.dbt

SUPPRESSED_NUMBERS = ("student_count", "eligible_student_count", "chronically_absent_count", "absence_rate")
MIN_CELL_SIZE = 10  # publication_min_cell_size in dbt_project.yml
HOLD_WRITE_CONNECTION = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])
con.execute("begin transaction")
con.execute("create table audit.held_by_test as select 1 as one")
print("holding", flush=True)
sys.stdin.readline()
con.execute("rollback")
"""


@pytest.fixture(scope="module")
def manifest(sample_warehouse: SampleWarehouse) -> dict:
    """dbt's manifest of the sample warehouse's build."""
    return json.loads((dbt_target_path(cli=True) / "manifest.json").read_text())


@pytest.fixture(scope="module")
def published(sample_warehouse: SampleWarehouse, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("published")
    database = str(sample_warehouse.database)
    result = run_rollcall("publish", "--database", database, "--out", str(out), database=sample_warehouse.database)
    assert result.returncode == 0, result.stderr
    assert "rollcall dashboard" in result.stdout
    return {audience: out / f"{audience}.duckdb" for audience in AUDIENCES}


def _marts(manifest: dict) -> list[dict]:
    return [
        node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["original_file_path"].startswith("models/marts/")
    ]


def _tables(path: Path) -> dict[str, list[str]]:
    sql = "select table_name, column_name from duckdb_columns() where not internal and schema_name <> 'published'"
    rows = query(path, sql)
    tables: dict[str, list[str]] = {}
    for table, column in rows:
        tables.setdefault(table, []).append(column)
    return tables


def test_every_mart_has_an_enforced_contract_access_and_an_owner(manifest):
    groups = {group["name"] for group in manifest["groups"].values()}
    for mart in _marts(manifest):
        assert mart["config"]["contract"]["enforced"], mart["name"]
        assert mart["access"] in ("public", "protected"), mart["name"]
        assert mart["group"] in groups, mart["name"]
        untyped = [name for name, column in mart["columns"].items() if not column.get("data_type")]
        assert not untyped, (mart["name"], untyped)
    exposures = {exposure["name"] for exposure in manifest["exposures"].values()}
    assert {"attendance_dashboard", "rollcall_summary", "rollcall_check"} <= exposures


def test_publication_is_declared_once_in_the_marts_config(manifest):
    in_manifest = {
        mart["name"]: mart["config"]["meta"]["publish"]
        for mart in _marts(manifest)
        if "publish" in mart["config"]["meta"]
    }
    assert in_manifest == {mart.name: mart.audience for mart in declared_marts()}
    assert set(in_manifest.values()) == set(AUDIENCES)
    for mart in _marts(manifest):
        if in_manifest.get(mart["name"]) == "public":
            assert mart["access"] == "public", mart["name"]


def test_public_file_has_only_public_marts_and_no_pii_column(published, manifest):
    marts = {mart["name"]: mart for mart in _marts(manifest)}
    tagged = {
        name: {c for c, column in mart["columns"].items() if column["meta"].get("pii")} for name, mart in marts.items()
    }
    # names that identify a person wherever they appear: direct PII of any mart, and student keys
    identifying = {
        c for mart in marts.values() for c, column in mart["columns"].items() if column["meta"].get("pii") == "direct"
    }
    identifying |= {"student_id", "k_student", "person_key"}
    public_marts = {mart.name for mart in declared_marts() if mart.audience == "public"}
    tables = _tables(published["public"])
    assert set(tables) == public_marts
    for table, columns in tables.items():
        assert set(columns) == set(marts[table]["columns"]), table  # every column is declared (and tagged)
        assert not set(columns) & (tagged[table] | identifying), table
    assert query(published["public"], "select audience from published.about") == [("public",)]


def test_no_suppressed_cell_count_or_rate_is_readable_in_the_public_file(published):
    numbers = ", ".join((*SUPPRESSED_NUMBERS, "chronic_absence_rate"))
    (suppressed, readable, small_shown) = query(
        published["public"],
        f"""
        select
            count(*) filter (where is_suppressed),
            count(*) filter (where is_suppressed and coalesce({numbers}) is not null),
            count(*) filter (where not is_suppressed and student_count < {MIN_CELL_SIZE})
        from attendance.fct_published_absence_rates
        """,
    )[0]
    assert suppressed > 0  # the sample district has small cells, so the check bites
    assert readable == 0
    assert small_shown == 0
    # complementary suppression: no group type has exactly one suppressed cell, which the
    # all-students cell minus the others would give away
    lone = query(
        published["public"],
        """
        select count(*) from (
            select count(*) filter (where is_suppressed) as suppressed
            from attendance.fct_published_absence_rates
            where reporting_group_type <> 'all'
            group by rule_set_id, district_id, school_id, academic_session_id, reporting_group_type
        ) where suppressed = 1
        """,
    )
    assert lone == [(0,)]


def test_restricted_file_holds_the_student_level_marts_and_data_health(published):
    tables = _tables(published["restricted"])
    assert {mart.name for mart in declared_marts()} <= set(tables)
    assert {"source_loads", "quarantined_rows", "refused_files"} <= set(tables)
    assert "given_name" in tables["dim_students"]
    assert query(published["restricted"], "select audience from published.about") == [("restricted",)]
    loads = query(
        published["restricted"], "select count(*) from health.source_loads where district_id = ?", [SAMPLE_DISTRICT]
    )
    assert loads[0][0] == 4  # oneroster, powerschool, classlink, star


def test_published_file_is_readable_while_a_load_holds_the_warehouse(published, sample_warehouse):
    database = sample_warehouse.database
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_WRITE_CONNECTION, str(database)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        with pytest.raises(duckdb.IOException):  # the lock is real: the warehouse itself cannot be opened
            duckdb.connect(str(database), read_only=True)
        metrics = query(published["restricted"], "select count(*) from attendance.fct_attendance_metrics")
        assert metrics[0][0] > 0
        refused = run_rollcall("publish", "--database", str(database), "--out", str(published["public"].parent))
        assert refused.returncode == 2
        assert "cannot read" in refused.stderr and "Traceback" not in refused.stderr
    finally:
        holder.communicate("\n", timeout=30)
    assert holder.returncode == 0


def test_publish_swaps_the_file_under_an_open_reader(published, sample_warehouse):
    path = published["restricted"]
    with duckdb.connect(str(path), read_only=True) as reader:
        before = reader.execute("select published_at from published.about").fetchone()[0]
        publish(sample_warehouse.database, path.parent)
        # the open reader keeps the file it opened; a new one sees the new file, whole
        assert reader.execute("select published_at from published.about").fetchone()[0] == before
        assert reader.execute("select count(*) from core.dim_students").fetchone()[0] > 0
    after = query(path, "select published_at from published.about")[0][0]
    assert after > before
    assert not [name for name in path.parent.iterdir() if name.suffix == ".tmp"]


def test_metrics_equal_the_marts(sample_warehouse):
    database = sample_warehouse.database
    mismatches = query(
        database,
        """
        with metrics as (
            select district_id, school_id, academic_session_id,
                   max(metric_value) filter (where metric_name = 'enrolled_students') as students,
                   max(metric_value) filter (where metric_name = 'membership_days') as membership_days,
                   max(metric_value) filter (where metric_name = 'absence_rate') as absence_rate
            from attendance.fct_attendance_metrics where metric_grain = 'school_session' group by all
        )
        select count(*) from attendance.fct_school_absence_rates as rates
        full join metrics using (district_id, school_id, academic_session_id)
        where metrics.students is distinct from rates.student_count
           or metrics.membership_days is distinct from rates.membership_days
           or abs(metrics.absence_rate - rates.absence_rate) > 1e-9
           or (metrics.absence_rate is null) <> (rates.absence_rate is null)
        """,
    )
    assert mismatches == [(0,)]
    chronic = query(
        database,
        """
        with marts as (
            select district_id, school_id, academic_session_id, rule_set_id,
                   count(*) filter (where is_chronically_absent) as chronic,
                   count(*) filter (where meets_minimum_days) as eligible
            from attendance.fct_chronic_absenteeism group by all
        ),
        metrics as (
            select district_id, school_id, academic_session_id, rule_set_id,
                   max(metric_value) filter (where metric_name = 'chronically_absent_students') as chronic,
                   max(metric_value) filter (where metric_name = 'eligible_students') as eligible
            from attendance.fct_attendance_metrics where metric_grain = 'school_rule_set' group by all
        )
        select count(*), count(*) filter (where marts.chronic is distinct from metrics.chronic
                                          or marts.eligible is distinct from metrics.eligible)
        from marts full join metrics
            on marts.district_id = metrics.district_id and marts.school_id is not distinct from metrics.school_id
            and marts.academic_session_id = metrics.academic_session_id and marts.rule_set_id = metrics.rule_set_id
        """,
    )
    assert chronic[0][0] > 0 and chronic[0][1] == 0


# --- in a real browser -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def page():
    browser.ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with browser.browser() as page:
        yield page


@pytest.fixture(scope="module")
def dashboard_url(published, tmp_path_factory):
    log = tmp_path_factory.mktemp("dashboard") / "streamlit.log"
    with browser.dashboard(published["restricted"], "restricted", log) as url:
        yield url


def _expected_pages(path: Path) -> tuple[list[list[str]], dict[str, list[str]]]:
    """The figures each page must show, read from the marts of the published file."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        term = con.execute(
            "select academic_session_id from core.dim_academic_sessions where district_id = ? and session_type = 'term'"
            " and is_current",
            [SAMPLE_DISTRICT],
        ).fetchone()[0]
        district = dict(
            con.execute(
                "select metric_name, metric_value from attendance.fct_attendance_metrics"
                " where metric_grain = 'district_session' and district_id = ? and academic_session_id = ?",
                [SAMPLE_DISTRICT, term],
            ).fetchall()
        )
        school = con.execute(
            "select rates.absence_rate, rates.student_count, rates.membership_days"
            " from attendance.fct_school_absence_rates as rates join core.dim_schools using (district_id, school_id)"
            " where district_id = ? and academic_session_id = ? order by school_name limit 1",
            [SAMPLE_DISTRICT, term],
        ).fetchone()
        projected = con.execute(
            "select count(*) from (select * from attendance.fct_student_early_warning where district_id = ?"
            " qualify row_number() over (partition by student_id order by attendance_date desc) = 1)"
            " where is_projected_chronically_absent",
            [SAMPLE_DISTRICT],
        ).fetchone()[0]
        rule_set_rows = con.execute(
            "select rule_set_id,"
            " max(metric_value) filter (where metric_name = 'chronically_absent_students'),"
            " max(metric_value) filter (where metric_name = 'eligible_students'),"
            " max(metric_value) filter (where metric_name = 'chronic_absence_rate')"
            " from attendance.fct_attendance_metrics where metric_grain = 'district_rule_set'"
            " and district_id = ? and academic_session_id = ? group by rule_set_id order by rule_set_id",
            [SAMPLE_DISTRICT, term],
        ).fetchall()
        quarantined = con.execute(
            "select coalesce(sum(quarantined_rows), 0) from health.quarantined_rows where district_id = ?",
            [SAMPLE_DISTRICT],
        ).fetchone()[0]
    finally:
        con.close()
    rule_sets = [
        [rule_set, f"{chronic:,.0f}", f"{eligible:,.0f}", f"{rate:.1%}" if rate is not None else "—"]
        for rule_set, chronic, eligible, rate in rule_set_rows
    ]
    return rule_sets, {
        "": [
            f"{district['absence_rate']:.1%}",
            f"{district['enrolled_students']:,.0f}",
            f"{district['membership_days']:,.1f}",
            f"{district['absent_days']:,.1f}",
        ],
        "school": [f"{school[0]:.1%}", f"{school[1]:,}", f"{float(school[2]):,.1f}"],
        "early-warning": [f"{projected:,}"],
        "health": [f"{quarantined:,}"],
    }


@pytest.mark.needs_chromium
def test_dashboard_pages_show_the_marts_figures(page, dashboard_url, published):
    from playwright.sync_api import expect

    rule_sets, pages = _expected_pages(published["restricted"])
    for path, figures in pages.items():
        page.goto(f"{dashboard_url}/{path}")
        metrics = page.locator('[data-testid="stMetricValue"]')
        expect(metrics.first).to_be_visible(timeout=60_000)
        expect(page.locator('[data-testid="stApp"]')).to_have_attribute("data-test-script-state", "notRunning")
        page.wait_for_timeout(500)  # let the charts draw before the screenshot
        page.screenshot(path=str(browser.ARTIFACTS / f"dashboard-{path or 'overview'}.png"), full_page=True)
        assert page.locator('[data-testid="stException"]').count() == 0, path
        shown = metrics.all_inner_texts()
        assert shown[: len(figures)] == figures, path
        if not path:  # the overview's rule-set table: chronic and eligible students of each rule set
            body = page.locator('[data-testid="stTable"]').first.locator("tbody tr")
            rows = [[cell.strip() for cell in row.locator("th, td").all_inner_texts()] for row in body.all()]
            assert rows == rule_sets


@pytest.mark.needs_chromium
def test_dbt_docs_site_shows_the_marts_and_exposures(page, manifest, tmp_path):
    from dbt.task.docs import DOCS_INDEX_FILE_PATH
    from playwright.sync_api import expect

    # the site as `dbt docs generate --static` writes it, here with an empty catalog
    catalog = {"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/catalog/v1.json"}}
    catalog.update(nodes={}, sources={}, errors=None)
    html = Path(DOCS_INDEX_FILE_PATH).read_text()
    html = html.replace('"MANIFEST.JSON INLINE DATA"', json.dumps(manifest))
    html = html.replace('"CATALOG.JSON INLINE DATA"', json.dumps(catalog))
    site = tmp_path / "static_index.html"
    site.write_text(html)
    page.goto(f"{site.as_uri()}#!/exposure/exposure.rollcall.attendance_dashboard")
    expect(page.get_by_text("Attendance dashboard").first).to_be_visible(timeout=60_000)
    expect(page.get_by_text("fct_attendance_metrics").first).to_be_visible()
    page.goto(f"{site.as_uri()}#!/model/model.rollcall.fct_attendance_metrics")
    expect(page.get_by_text("metric_value").first).to_be_visible(timeout=60_000)
    page.screenshot(path=str(browser.ARTIFACTS / "dbt-docs-metrics.png"), full_page=True)


@pytest.mark.needs_chromium
def test_public_dashboard_shows_only_the_published_aggregates(page, published, tmp_path):
    from playwright.sync_api import expect

    path = published["public"]
    term = query(
        path,
        "select academic_session_id from core.dim_academic_sessions"
        " where district_id = ? and session_type = 'term' and is_current",
        [SAMPLE_DISTRICT],
    )[0][0]
    suppressed = query(
        path,
        "select count(*) from attendance.fct_published_absence_rates"
        " where district_id = ? and academic_session_id = ? and is_suppressed",
        [SAMPLE_DISTRICT, term],
    )[0][0]
    with browser.dashboard(path, "public", tmp_path / "streamlit.log") as url:
        page.goto(url)
        metrics = page.locator('[data-testid="stMetricValue"]')
        expect(metrics.first).to_be_visible(timeout=60_000)
        expect(page.locator('[data-testid="stApp"]')).to_have_attribute("data-test-script-state", "notRunning")
        page.screenshot(path=str(browser.ARTIFACTS / "dashboard-public.png"), full_page=True)
        assert page.locator('[data-testid="stException"]').count() == 0
        assert metrics.all_inner_texts() == [f"{suppressed:,}"]
        assert page.get_by_text("Early warning").count() == 0
