"""``rollcall check``: a drop is loaded into a throwaway warehouse, dbt tests run, results in plain words.

Four dbt builds in all, one per package (module-scoped fixtures): a clean generated district, a
hand-made broken drop with known faults, a real vendor package (Moodle's OneRoster fixtures) and
SIS exports (a mapped layout). They share one dbt parse cache of their own: the first check of
the module parses the project, the others reuse it.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest

from rollcall.check import PARSE_CACHE_ENV, CheckReport, DbtOutcome, FileCheck, _add_dbt_checks
from rollcall.check_dbt import (
    PARSE_STATE,
    Selection,
    build_arguments,
    publish_parse_state,
    restore_parse_state,
    select_nodes,
)
from rollcall.cli import main
from rollcall.sample import generate_district
from rollcall.settings import PROJECT_ROOT
from tests.python.support import run_rollcall, write_package

MOODLE_FULL = (
    PROJECT_ROOT.parent
    / "shared"
    / "fixtures"
    / "external"
    / "catalyst__moodle-enrol_oneroster"
    / "tests"
    / "fixtures"
    / "csv_data"
    / "Test_full_data_set.zip"
)
SIS_SEED_002 = PROJECT_ROOT / "tests" / "fixtures" / "sis_seed002"

USERS_HEADER = (
    "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,"
    "middleName,identifier,email,sms,phone,agentSourcedIds,grades,password\n"
)

# Known faults: orgs.csv lacks the required `type` column (refused); users.csv repeats u1, gives u4
# a role outside the list and a grade nobody knows, leaves u3's givenName empty, and every user
# points at org s1 of the refused orgs.csv; enrollments.csv points at class c9 (no classes.csv),
# has one status in a bulk file, one line with a field too many (quarantined) and one without a sourcedId.
BROKEN_PACKAGE = {
    "manifest.csv": (
        "propertyName,value\nmanifest.version,1.0\noneroster.version,1.1\n"
        "file.orgs,bulk\nfile.users,bulk\nfile.enrollments,bulk\n"
    ),
    "orgs.csv": (
        "sourcedId,status,dateLastModified,name,identifier,parentSourcedId\n"
        "d1,,,Demo Unified,9900001,\n"
        "s1,,,Lincoln Elementary,990000100001,d1\n"
    ),
    "users.csv": USERS_HEADER
    + (
        "u1,,,true,s1,student,ada,{SIS:0001},Ada,Lovelace,,0001,ada@example.org,,,,05,hunter2\n"
        "u1,,,true,s1,student,ada,{SIS:0001},Ada,Lovelace,,0001,ada@example.org,,,,05,hunter2\n"
        "u2,,,true,s1,teacher,alan,,Alan,Turing,,,alan@example.org,,,,,swordfish\n"
        "u3,,,true,s1,student,hopper,,,Hopper,,0003,grace@example.org,,,,05,\n"
        "u4,,,true,s1,wizard,merlin,,Merlin,Ambrosius,,,merlin@example.org,,,,Q7,\n"
    ),
    "enrollments.csv": (
        "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,"
        "beginDate,endDate\n"
        "e1,,,c9,s1,u1,student,false,2025-09-01,2026-06-30\n"
        "e2,active,2025-09-01T00:00:00Z,c9,s1,u2,teacher,true,2025-09-01,2026-06-30\n"
        "e3,,,c9,s1,u3,student,false,2025-09-01,2026-06-30,EXTRA\n"
        " ,,,c9,s1,u4,student,false,2025-09-01,2026-06-30\n"
    ),
}


@dataclass
class CheckRun:
    """One ``rollcall check`` run through the CLI entry point, with what it printed and wrote."""

    code: int
    stdout: str
    stderr: str
    report: dict[str, Any] | None
    json_text: str
    leftovers: list[Path]  # anything left in the temp folder the run used

    def file(self, name: str) -> dict[str, Any]:
        assert self.report is not None
        return next(f for f in self.report["files"] if f["file"] == name)

    def check(self, file_name: str, test: str, column: str | None = None) -> dict[str, Any]:
        matches = [c for c in self.file(file_name)["checks"] if c["test"] == test and c["column"] == column]
        assert len(matches) == 1, (file_name, test, column, self.file(file_name)["checks"])
        return matches[0]


# How each check of this module that ran dbt read the project, in the order they ran.
PARSES: list[str] = []


@pytest.fixture(scope="module", autouse=True)
def parse_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A dbt parse cache for this module alone, so its first check parses the project whole."""
    folder = tmp_path_factory.mktemp("check-parse-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(PARSE_CACHE_ENV, str(folder))
        yield folder


def run_check(package: Path, root: Path, *args: str) -> CheckRun:
    """``rollcall check PACKAGE --json ...`` in-process, its temporary folder made under ``root/tmp``."""
    work = root / "tmp"
    work.mkdir(parents=True, exist_ok=True)
    json_path = root / "report.json"
    stdout, stderr = io.StringIO(), io.StringIO()
    with (
        pytest.MonkeyPatch.context() as patch,
        contextlib.redirect_stdout(stdout),
        contextlib.redirect_stderr(stderr),
    ):
        patch.setattr(tempfile, "tempdir", str(work))
        code = main(["check", str(package), "--json", str(json_path), *args])
    json_text = json_path.read_text(encoding="utf-8") if json_path.exists() else ""
    report = json.loads(json_text) if json_text else None
    if report and report["dbt"]["parse"]:
        PARSES.append(report["dbt"]["parse"])
    return CheckRun(code, stdout.getvalue(), stderr.getvalue(), report, json_text, sorted(work.iterdir()))


def person_names(users_csv_rows: list[dict[str, str]]) -> set[str]:
    return {row[key].strip() for row in users_csv_rows for key in ("givenName", "familyName") if row[key].strip()}


def assert_no_names(run: CheckRun, names: set[str]) -> None:
    """No given or family name of the input appears as a word in stdout, stderr or the JSON."""
    assert names
    for text in (run.stdout, run.stderr, run.json_text):
        words = set(re.findall(r"[\w'-]+", text))
        assert not names & words, names & words


# --- (a) a clean generated district -------------------------------------------------------------


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, CheckRun]:
    root = tmp_path_factory.mktemp("check-clean")
    package = root / "district"
    generate_district(package, students=60, schools=2, days=20)
    return package, run_check(package, root)


@pytest.mark.dbt
def test_clean_district_passes(clean: tuple[Path, CheckRun]) -> None:
    _, run = clean
    assert run.code == 0, run.stdout
    report = run.report
    assert report is not None
    assert report["summary"]["errors"] == 0
    assert report["summary"]["refused"] == 0
    assert report["summary"]["checks_run"] > 100  # staging and roster-bridge tests ran
    assert [c for f in report["files"] for c in f["checks"] if c["severity"] == "error"] == []
    assert [c for c in report["other_checks"] if c["severity"] == "error"] == []
    assert {f["status"] for f in report["files"]} == {"loaded"}
    assert "verdict: OK to send" in run.stdout.splitlines()[-1]


@pytest.mark.dbt
def test_clean_district_json_lists_every_file_with_counts(clean: tuple[Path, CheckRun]) -> None:
    package, run = clean
    report = run.report
    assert report is not None
    assert set(report) >= {"path", "oneroster_version", "files", "other_checks", "summary"}
    assert report["path"] == str(package)
    assert report["oneroster_version"] == "1.1"
    assert sorted(f["file"] for f in report["files"]) == sorted(p.name for p in package.iterdir())
    assert report["summary"]["files"] == len(report["files"])
    users = run.file("users.csv")
    with (package / "users.csv").open(newline="", encoding="utf-8") as handle:
        expected_rows = sum(1 for _ in csv.DictReader(handle))
    assert (users["entity"], users["status"], users["mode"]) == ("users", "loaded", "bulk")
    assert users["rows_read"] == users["rows_landed"] == expected_rows
    assert users["rows_quarantined"] == 0
    for f in report["files"]:
        assert set(f) >= {
            "file",
            "entity",
            "status",
            "mode",
            "rows_read",
            "rows_landed",
            "rows_quarantined",
            "error",
            "warnings",
            "checks",
        }


@pytest.mark.dbt
def test_clean_district_leaves_no_temporary_files(clean: tuple[Path, CheckRun]) -> None:
    assert clean[1].leftovers == []


@pytest.mark.dbt
def test_clean_district_prints_no_student_names(clean: tuple[Path, CheckRun]) -> None:
    package, run = clean
    with (package / "users.csv").open(newline="", encoding="utf-8") as handle:
        assert_no_names(run, person_names(list(csv.DictReader(handle))))


@pytest.mark.dbt
def test_clean_district_reports_progress_on_stderr(clean: tuple[Path, CheckRun]) -> None:
    _, run = clean
    report = run.report
    assert report is not None
    lines = run.stderr.splitlines()
    assert (
        lines[0] == "rollcall check: loading the files into a temporary warehouse (dbt reads the project meanwhile) ..."
    )
    assert any(re.fullmatch(r"rollcall check: loaded \d+ files in \d+ s", line) for line in lines)
    assert any(line.startswith("rollcall check: dbt read the project in ") for line in lines)
    models, checks = len(report["dbt"]["models"]), report["summary"]["checks_run"]
    assert (
        f"rollcall check: dbt builds the {models} models and runs the {checks} checks the loaded files need ..."
        in lines
    )
    done = [
        (int(m[1]), int(m[2])) for m in re.finditer(r"^rollcall check: dbt: (\d+) of (\d+) done$", run.stderr, re.M)
    ]
    assert done and done[-1][0] == done[-1][1] and done == sorted(done)
    assert re.fullmatch(r"rollcall check: dbt finished in \d+ s", lines[-1])
    assert "rollcall check: dbt" not in run.stdout  # progress goes to stderr, the report to stdout


@pytest.mark.dbt
def test_clean_district_builds_the_models_of_its_files_only(clean: tuple[Path, CheckRun]) -> None:
    package, run = clean
    assert run.report is not None
    models = set(run.report["dbt"]["models"])
    assert {"stg_oneroster__users", "stg_oneroster__attendance_records", "int_users_orgs_unnested"} <= models
    assert not (package / "lineItems.csv").exists() and "stg_oneroster__line_items" not in models
    assert not {m for m in models if m.startswith(("stg_star__", "stg_classlink__", "stg_powerschool__"))}
    assert not {m for m in models if not m.startswith(("stg_", "int_"))}  # marts never run in a check


@pytest.mark.dbt
def test_only_the_first_check_parses_the_project(
    clean: tuple[Path, CheckRun], broken: CheckRun, parse_cache: Path
) -> None:
    assert len(PARSES) >= 2
    assert PARSES[0] == "full"
    assert set(PARSES[1:]) == {"reused"}
    assert sorted(p.name for p in parse_cache.iterdir()) == [PARSE_STATE]
    for run in (clean[1], broken):
        assert run.report is not None
        if run.report["dbt"]["parse"] == "full":
            assert "parsed it whole because no earlier check saved its parse" in run.stderr
        else:
            assert "nothing changed since the last check, its parse was reused" in run.stderr


# --- (b) a hand-made broken drop ----------------------------------------------------------------


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> CheckRun:
    root = tmp_path_factory.mktemp("check-broken")
    return run_check(write_package(root / "drop", BROKEN_PACKAGE), root)


@pytest.mark.dbt
def test_broken_drop_fails_with_exit_1(broken: CheckRun) -> None:
    assert broken.code == 1
    assert broken.report is not None
    summary = broken.report["summary"]
    assert summary["refused"] == 1
    assert summary["errors"] == 3  # the refused orgs.csv, the duplicated and the missing sourcedId
    assert broken.stdout.splitlines()[-1].startswith("verdict: NOT ready: 1 file refused, 2 error-level checks failed")
    assert broken.leftovers == []


@pytest.mark.dbt
def test_broken_drop_reports_the_refused_file_and_its_reason(broken: CheckRun) -> None:
    orgs = broken.file("orgs.csv")
    assert orgs["status"] == "refused"
    assert orgs["error"] == "missing required column(s): type"
    assert orgs["checks"] == []
    assert "orgs.csv: refused: missing required column(s): type" in broken.stdout.splitlines()


@pytest.mark.dbt
def test_broken_drop_counts_rows_per_file(broken: CheckRun) -> None:
    enrollments = broken.file("enrollments.csv")
    assert (enrollments["rows_read"], enrollments["rows_landed"], enrollments["rows_quarantined"]) == (4, 3, 1)
    assert enrollments["quarantine_reasons"] == {"too_many_columns": 1}
    users = broken.file("users.csv")
    assert (users["status"], users["mode"], users["rows_read"], users["rows_landed"]) == ("loaded", "bulk", 5, 5)
    assert [w["code"] for w in users["warnings"]] == ["secret_dropped"]


@pytest.mark.dbt
def test_broken_drop_checks_have_the_right_counts(broken: CheckRun) -> None:
    duplicate = broken.check("users.csv", "duplicate_sourced_id", "sourcedId")
    assert (duplicate["severity"], duplicate["failures"], duplicate["rows"]) == ("error", 1, 2)
    role = broken.check("users.csv", "accepted_values", "role")
    assert (role["severity"], role["failures"], role["rows"]) == ("warning", 1, 1)
    assert role["model"] == "stg_oneroster__users"
    given_name = broken.check("users.csv", "not_null", "givenName")
    assert (given_name["severity"], given_name["failures"]) == ("warning", 1)
    user_orgs = broken.check("users.csv", "references_resolve", "orgSourcedIds")
    assert user_orgs["failures"] == 4  # u1 (once: the last row wins), u2, u3, u4
    grades = broken.check("users.csv", "not_null", "grades")
    assert grades["failures"] == 1  # u4's grade Q7 maps to no grade level
    missing = broken.check("enrollments.csv", "missing_sourced_id", "sourcedId")
    assert (missing["severity"], missing["failures"], missing["rows"]) == ("error", 1, 1)
    classes = broken.check("enrollments.csv", "references_resolve", "classSourcedId")
    assert (classes["severity"], classes["failures"]) == ("warning", 2)
    schools = broken.check("enrollments.csv", "references_resolve", "schoolSourcedId")
    assert schools["failures"] == 2
    mode = broken.check("enrollments.csv", "status_matches_file_mode")
    assert mode["failures"] == 1
    assert broken.file("manifest.csv")["checks"] == []


@pytest.mark.dbt
def test_broken_drop_is_explained_in_plain_words(broken: CheckRun) -> None:
    lines = [line.strip() for line in broken.stdout.splitlines()]
    expected = [
        "error    1 sourcedId appears more than once (2 rows); only the last row of each would be kept",
        "warning  1 row has role outside the OneRoster list "
        "(administrator, aide, guardian, parent, proctor, relative, student, teacher)",
        "warning  1 row leaves required givenName empty",
        "warning  4 entries of orgSourcedIds name a sourcedId that is not in orgs.csv (orgs.csv was refused)",
        "warning  2 rows point at a classSourcedId that is not in classes.csv (classes.csv is not in the drop)",
        "warning  2 rows point at a schoolSourcedId that is not in orgs.csv (orgs.csv was refused)",
        "warning  1 row fills status or dateLastModified, which a bulk file leaves empty",
        "error    1 row has no sourcedId and would be left out",
        "warning  1 row could not be read and was set aside (too many columns: 1)",
        "warning  secret_dropped: secret column(s) not read: password; secrets are never stored",
    ]
    for line in expected:
        assert line in lines, line
    # each check is printed under its own file
    users_block = broken.stdout.split("users.csv: loaded")[1]
    assert "orgSourcedIds" in users_block and "classSourcedId" not in users_block


@pytest.mark.dbt
def test_broken_drop_builds_what_its_files_and_their_references_need(broken: CheckRun) -> None:
    assert broken.report is not None
    models = set(broken.report["dbt"]["models"])
    # the files that loaded rows, and the roster bridges of their list fields
    assert {"stg_oneroster__users", "stg_oneroster__enrollments", "stg_oneroster__manifest_properties"} <= models
    assert {"int_users_orgs_unnested", "int_users_grades_unnested"} <= models
    # built empty so that references into the refused orgs.csv and the missing classes.csv are counted
    assert {"stg_oneroster__orgs", "stg_oneroster__classes"} <= models
    # nothing of files the drop does not have
    absent = {"stg_oneroster__attendance_records", "stg_oneroster__calendar_days", "stg_oneroster__line_items"}
    assert not models & absent
    assert not models & {"stg_star__assessments", "stg_classlink__users", "int_classes_grades_unnested"}


@pytest.mark.dbt
def test_broken_drop_prints_no_row_contents(broken: CheckRun) -> None:
    rows = list(csv.DictReader(io.StringIO(BROKEN_PACKAGE["users.csv"])))
    assert_no_names(broken, person_names(rows))
    for text in (broken.stdout, broken.json_text):
        for secret in ("hunter2", "swordfish", "ada@example.org", "wizard", "Q7", "EXTRA", "Lincoln"):
            assert secret not in text


# --- (c) a real vendor package ------------------------------------------------------------------


@pytest.fixture(scope="module")
def moodle(tmp_path_factory: pytest.TempPathFactory) -> CheckRun:
    if not MOODLE_FULL.exists():
        pytest.skip(f"shared fixture missing: {MOODLE_FULL}")
    return run_check(MOODLE_FULL, tmp_path_factory.mktemp("check-moodle"))


@pytest.mark.dbt
@pytest.mark.needs_shared
def test_moodle_package_is_reported_without_traceback(moodle: CheckRun) -> None:
    assert "Traceback" not in moodle.stdout + moodle.stderr
    assert moodle.report is not None
    assert moodle.code == (1 if moodle.report["summary"]["errors"] else 0)
    assert sorted(f["file"] for f in moodle.report["files"]) == [
        "academicSessions.csv",
        "classes.csv",
        "enrollments.csv",
        "manifest.csv",
        "orgs.csv",
        "users.csv",
    ]
    assert {f["status"] for f in moodle.report["files"]} == {"loaded"}
    assert moodle.leftovers == []


@pytest.mark.dbt
@pytest.mark.needs_shared
def test_moodle_package_lists_its_dangling_references(moodle: CheckRun) -> None:
    # the manifest marks courses absent, yet both classes name a course
    courses = moodle.check("classes.csv", "references_resolve", "courseSourcedId")
    assert courses["failures"] == 2
    assert "not in courses.csv (courses.csv is not in the drop)" in courses["message"]
    # two terms name the school year as-syr-222-2023, which academicSessions.csv lacks
    assert moodle.check("academicSessions.csv", "references_resolve", "parentSourcedId")["failures"] == 2
    # the one org names a parent org that is not in orgs.csv
    assert moodle.check("orgs.csv", "references_resolve", "parentSourcedId")["failures"] == 1
    lines = [line.strip() for line in moodle.stdout.splitlines()]
    assert (
        "warning  2 rows point at a courseSourcedId that is not in courses.csv (courses.csv is not in the drop)"
        in lines
    )
    # files marked bulk in the manifest carry status and dateLastModified (delta-style) rows
    assert moodle.check("users.csv", "status_matches_file_mode")["failures"] == 5


@pytest.mark.dbt
@pytest.mark.needs_shared
def test_moodle_package_prints_no_person_names(moodle: CheckRun) -> None:
    with zipfile.ZipFile(MOODLE_FULL) as archive:
        text = archive.read("users.csv").decode("utf-8-sig")
    assert_no_names(moodle, person_names(list(csv.DictReader(io.StringIO(text)))))


# --- (d) SIS exports, a mapped layout ------------------------------------------------------------


@pytest.fixture(scope="module")
def sis(tmp_path_factory: pytest.TempPathFactory) -> CheckRun:
    return run_check(SIS_SEED_002, tmp_path_factory.mktemp("check-sis"))


@pytest.mark.dbt
def test_sis_exports_are_checked_with_the_sis_models(sis: CheckRun) -> None:
    assert sis.code == 0, sis.stdout
    report = sis.report
    assert report is not None
    assert {f["status"] for f in report["files"]} == {"loaded"}
    assert sis.file("teachers.csv")["quarantine_reasons"] == {"conflicting_duplicate": 4}
    assert sis.file("sections.csv")["quarantine_reasons"] == {"unknown_school": 1}
    models = set(report["dbt"]["models"])
    sis_files = ("students", "teachers", "sections", "enrollments", "attendance", "guardians")
    assert {f"stg_sis__{name}" for name in sis_files} <= models
    assert "stg_sis__guardian_links" in models  # read by the guardian bridge, though the drop has no links file
    assert not {m for m in models if m.startswith(("stg_star__", "stg_classlink__", "stg_powerschool__"))}
    assert "stg_oneroster__attendance_records" not in models
    assert report["summary"]["checks_run"] > 0
    assert sis.leftovers == []


@pytest.mark.dbt
def test_sis_exports_print_no_person_names(sis: CheckRun) -> None:
    names = set()
    for file_name in ("students.csv", "teachers.csv", "guardians.csv"):
        with (SIS_SEED_002 / file_name).open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                keys = ("First Name", "Last Name", "FirstName", "LastName")
                names |= {row[key].strip() for key in keys if (row.get(key) or "").strip()}
    assert_no_names(sis, names)


@pytest.mark.dbt
def test_a_drop_without_rows_runs_no_data_test(tmp_path: Path) -> None:
    run = run_check(write_package(tmp_path / "drop", {"users.csv": USERS_HEADER}), tmp_path)
    assert run.code == 0
    assert run.report is not None
    assert run.file("users.csv")["status"] == "loaded"
    assert (run.report["summary"]["checks_run"], run.report["dbt"]["models"], run.report["other_checks"]) == (0, [], [])
    assert "data tests: none apply (no file loaded rows that the staging models read)" in run.stdout.splitlines()
    assert "no data test applies" in run.stderr
    assert run.leftovers == []


# --- usage errors (no dbt run) ------------------------------------------------------------------


def test_unknown_district_is_a_usage_error(tmp_path: Path) -> None:
    package = write_package(tmp_path / "drop", {"orgs.csv": BROKEN_PACKAGE["orgs.csv"]})
    run = run_check(package, tmp_path, "--district", "atlantis")
    assert run.code == 2
    assert "'atlantis' is not in the registry" in run.stderr
    assert run.report is None and run.stdout == ""
    assert run.leftovers == []


def test_missing_path_is_a_usage_error_without_traceback(tmp_path: Path) -> None:
    result = run_rollcall("check", str(tmp_path / "nowhere.zip"))
    assert result.returncode == 2
    assert "no such file or folder" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_json_into_a_missing_folder_is_refused_before_loading(tmp_path: Path) -> None:
    package = write_package(tmp_path / "drop", {"orgs.csv": BROKEN_PACKAGE["orgs.csv"]})
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        code = main(["check", str(package), "--json", str(tmp_path / "no" / "such" / "report.json")])
    assert code == 2
    assert "folder does not exist" in stderr.getvalue()


def test_help_says_the_district_only_labels_rows() -> None:
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        assert main(["check", "--help"]) == 0
    text = " ".join(stdout.getvalue().split())
    assert "--json FILE" in text and "--district DISTRICT" in text
    assert "only labels the rows in the temporary warehouse" in text
    assert "Progress goes to stderr" in text
    assert "kept in target/check (or $ROLLCALL_CHECK_CACHE) and reused by the next check" in text
    assert "--layout multi-source" in text and "see docs/check.md" in text  # where the time was measured


# --- dbt failures other than failing tests (synthetic dbt artifacts, no dbt run) ----------------


def test_broken_models_are_reported_by_error_class_only(tmp_path: Path) -> None:
    database = tmp_path / "empty.duckdb"
    duckdb.connect(str(database)).close()
    users = FileCheck("users.csv", "users", "loaded", "bulk", 2, 2, 0, None)
    report = CheckReport("drop", "demo-unified", "1.1", [users], dbt_seconds=1.0)
    model_id = "model.rollcall.stg_oneroster__users"
    nodes = {
        model_id: {"resource_type": "model", "name": "stg_oneroster__users", "depends_on": {"nodes": []}},
        "test.rollcall.not_null_given_name": {
            "resource_type": "test",
            "name": "not_null_given_name",
            "attached_node": model_id,
            "test_metadata": {"name": "not_null", "kwargs": {"column_name": "given_name"}},
        },
        "test.rollcall.assert_something": {"resource_type": "test", "name": "assert_something", "attached_node": None},
        "test.rollcall.assert_users_rule": {
            "resource_type": "test",
            "name": "assert_users_rule",
            "attached_node": None,
            "depends_on": {"nodes": [model_id]},
            "raw_code": "-- What: every user has a rule\n--   spread over two lines (OneRoster 1.1: ...).\n"
            "-- When it matters: always.\nselect 1",
        },
    }
    results = [  # dbt error messages can quote row values: only their class may be shown
        {
            "unique_id": model_id,
            "status": "error",
            "message": "Runtime Error in model stg_oneroster__users\n  Conversion Error: Could not convert 'Lovelace'",
        },
        {"unique_id": "test.rollcall.not_null_given_name", "status": "skipped", "message": None},
        {"unique_id": "test.rollcall.assert_something", "status": "error", "message": "Binder Error: 'Lovelace'"},
        {"unique_id": "test.rollcall.assert_users_rule", "status": "warn", "failures": 2, "message": "Got 2 results"},
    ]
    _add_dbt_checks(report, DbtOutcome(1, "", {"results": results}, {"nodes": nodes}), database)
    assert [(c.test, c.severity, c.message) for c in users.checks] == [
        ("build", "error", "stg_oneroster__users could not be built (Conversion Error); 1 check on it did not run"),
        ("singular", "warning", "2 rows break the rule: every user has a rule spread over two lines"),
    ]
    assert [c.message for c in report.other_checks] == ["the check assert_something could not run (Binder Error)"]
    assert "    error    the check assert_something could not run (Binder Error)" in report.render().splitlines()
    assert report.exit_code == 1
    assert "Lovelace" not in report.render() + json.dumps(report.to_json())


def test_dbt_that_cannot_start_is_an_error_not_a_crash(tmp_path: Path) -> None:
    users = FileCheck("users.csv", "users", "loaded", "bulk", 2, 2, 0, None)
    report = CheckReport("drop", "demo-unified", "1.1", [users], dbt_seconds=1.0)
    _add_dbt_checks(report, DbtOutcome(2, "Compilation Error in model x\n", None, None), tmp_path / "none.duckdb")
    assert [(c.test, c.severity) for c in report.other_checks] == [("dbt", "error")]
    assert "Compilation Error in model x" in report.other_checks[0].message
    assert report.exit_code == 1


def test_a_project_that_does_not_parse_is_named_in_the_report(tmp_path: Path) -> None:
    users = FileCheck("users.csv", "users", "loaded", "bulk", 2, 2, 0, None)
    report = CheckReport("drop", "demo-unified", "1.1", [users], dbt_seconds=1.0)
    error = "Compilation Error in model stg_oneroster__users (models/staging/oneroster/stg_oneroster__users.sql)"
    outcome = DbtOutcome(2, "  line 38\n", None, None, error=error)
    _add_dbt_checks(report, outcome, tmp_path / "none.duckdb")
    assert [c.message for c in report.other_checks] == [f"dbt could not run the checks (exit 2): {error}"]
    assert "data tests: 0 checks on 0 models run in 1 s (loading took 0 s)" in report.render().splitlines()


# --- what a check builds and tests (synthetic dbt graph, no dbt run) --------------------------------


def _model(path: str, *parents: str) -> dict[str, Any]:
    return {"resource_type": "model", "path": path, "depends_on": list(parents), "attached_node": None}


def _test(attached: str | None, *parents: str) -> dict[str, Any]:
    return {
        "resource_type": "test",
        "path": "models/staging/_models.yml",
        "depends_on": list(parents),
        "attached_node": attached,
    }


GRAPH = {
    "seed.p.xwalk": {"resource_type": "seed", "path": "seeds/xwalk.csv", "depends_on": [], "attached_node": None},
    "seed.p.districts": {
        "resource_type": "seed",
        "path": "seeds/districts.csv",
        "depends_on": [],
        "attached_node": None,
    },
    "model.p.stg_users": _model("models/staging/stg_users.sql", "source.p.raw.users"),
    "model.p.stg_orgs": _model("models/staging/stg_orgs.sql", "source.p.raw.orgs"),
    "model.p.stg_classes": _model("models/staging/stg_classes.sql", "source.p.raw.classes"),
    "model.p.stg_sis_students": _model("models/staging/stg_sis_students.sql", "source.p.raw_sis.students"),
    "model.p.int_users_orgs": _model(
        "models/intermediate/roster/int_users_orgs.sql", "model.p.stg_users", "seed.p.xwalk"
    ),
    "model.p.int_users_unioned": _model(
        "models/intermediate/roster/int_users_unioned.sql", "model.p.stg_users", "model.p.stg_sis_students"
    ),
    "model.p.int_classes_terms": _model("models/intermediate/roster/int_classes_terms.sql", "model.p.stg_classes"),
    "model.p.int_attendance": _model("models/intermediate/attendance/int_attendance.sql", "model.p.stg_users"),
    "model.p.fct_users": _model("models/marts/fct_users.sql", "model.p.stg_users"),
    # on the drop's rows
    "test.p.not_null_users": _test("model.p.stg_users", "model.p.stg_users"),
    "test.p.users_orgs_resolve": _test("model.p.stg_users", "model.p.stg_orgs", "model.p.stg_users"),
    "test.p.bridge_orgs_resolve": _test("model.p.int_users_orgs", "model.p.stg_orgs", "model.p.int_users_orgs"),
    "test.p.assert_users_in_classes": _test(None, "model.p.stg_users", "model.p.stg_classes"),
    # on tables without a row of the drop
    "test.p.not_null_orgs": _test("model.p.stg_orgs", "model.p.stg_orgs"),
    "test.p.orgs_users_resolve": _test("model.p.stg_orgs", "model.p.stg_users", "model.p.stg_orgs"),
    "test.p.not_null_sis_students": _test("model.p.stg_sis_students", "model.p.stg_sis_students"),
    "test.p.not_null_classes": _test("model.p.stg_classes", "model.p.stg_classes"),
    "test.p.unique_xwalk": _test("seed.p.xwalk", "seed.p.xwalk"),
    "test.p.assert_classes_rule": _test(None, "model.p.stg_classes"),
    # outside what a check runs
    "test.p.not_null_fct_users": _test("model.p.fct_users", "model.p.fct_users"),
    "test.p.not_null_attendance": _test("model.p.int_attendance", "model.p.int_attendance"),
}
SOURCES = {
    f"source.p.{schema}.{table}": {"schema": schema, "identifier": table}
    for schema, table in [("raw", "users"), ("raw", "orgs"), ("raw", "classes"), ("raw_sis", "students")]
}


def test_selection_builds_the_files_models_and_what_their_tests_read() -> None:
    # tables that no source reads (the audit log, dlt's own) do not matter
    selection = select_nodes(GRAPH, SOURCES, [("RAW", "Users"), ("audit", "file_log"), ("raw", "_dlt_loads")])
    assert selection.tests == [
        "test.p.assert_users_in_classes",
        "test.p.bridge_orgs_resolve",
        "test.p.not_null_users",
        "test.p.users_orgs_resolve",
    ]
    assert selection.models == [
        "model.p.int_users_orgs",
        "model.p.int_users_unioned",
        "model.p.stg_classes",  # read by a singular test about users
        "model.p.stg_orgs",  # looked up by the orgSourcedIds references, though orgs has no row
        "model.p.stg_sis_students",  # read by the users bridge
        "model.p.stg_users",
    ]
    assert selection.seeds == ["seed.p.xwalk"]
    # tests dbt would add for models built only to be read: their tables hold no row of the drop
    assert selection.skipped_tests == [
        "test.p.assert_classes_rule",
        "test.p.not_null_classes",
        "test.p.not_null_orgs",
        "test.p.not_null_sis_students",
        "test.p.orgs_users_resolve",
        "test.p.unique_xwalk",
    ]


def test_selection_of_a_drop_with_no_rows_is_empty() -> None:
    assert select_nodes(GRAPH, SOURCES, [("audit", "load_log")]) == Selection()


def test_selection_of_every_file_runs_every_test_in_scope() -> None:
    selection = select_nodes(GRAPH, SOURCES, [(s["schema"], s["identifier"]) for s in SOURCES.values()])
    outside = {"model.p.fct_users", "model.p.int_attendance"}  # marts and the attendance chain never run
    assert set(selection.models) == {uid for uid, n in GRAPH.items() if n["resource_type"] == "model"} - outside
    assert set(selection.tests) == {
        uid for uid, n in GRAPH.items() if n["resource_type"] == "test" and n["attached_node"] != "seed.p.xwalk"
    } - {"test.p.not_null_fct_users", "test.p.not_null_attendance"}
    assert selection.skipped_tests == ["test.p.unique_xwalk"]


def test_build_arguments_select_models_and_exclude_the_skipped_tests() -> None:
    selection = Selection(
        models=["model.p.stg_users", "model.p.stg_orgs"],
        seeds=["seed.p.xwalk"],
        tests=["test.p.not_null_users"],
        skipped_tests=["test.p.not_null_orgs"],
    )
    fqn = {
        "model.p.stg_users": ["p", "staging", "stg_users"],
        "model.p.stg_orgs": ["p", "staging", "stg_orgs"],
        "seed.p.xwalk": ["p", "xwalk"],
        "test.p.not_null_users": ["p", "staging", "not_null_users"],
        "test.p.not_null_orgs": ["p", "staging", "not_null_orgs"],
    }
    assert build_arguments(selection, fqn) == [
        "--select",
        "fqn:p.xwalk",
        "fqn:p.staging.stg_users",
        "fqn:p.staging.stg_orgs",
        "--indirect-selection",
        "cautious",
        "--exclude-resource-type",
        "unit_test",
        "--exclude",
        "fqn:p.staging.not_null_orgs",
    ]


# --- dbt's parse state kept between checks (no dbt run) ---------------------------------------------


def test_parse_state_is_handed_on_whole_and_only_when_dbt_wrote_a_new_one(tmp_path: Path) -> None:
    cache, first = tmp_path / "cache", tmp_path / "first" / "target"
    assert restore_parse_state(cache, first) is None  # no earlier check
    (first / PARSE_STATE).write_bytes(b"parsed once")
    assert publish_parse_state(first, cache, None)
    assert (cache / PARSE_STATE).read_bytes() == b"parsed once"

    second = tmp_path / "second" / "target"
    restored = restore_parse_state(cache, second)
    assert restored is not None and (second / PARSE_STATE).read_bytes() == b"parsed once"
    assert not publish_parse_state(second, cache, restored)  # dbt kept it: nothing to hand on
    (second / PARSE_STATE).write_bytes(b"parsed again after a change")
    os.utime(second / PARSE_STATE, ns=(restored[1] + 1, restored[1] + 1))
    assert publish_parse_state(second, cache, restored)
    assert (cache / PARSE_STATE).read_bytes() == b"parsed again after a change"
    assert sorted(p.name for p in cache.iterdir()) == [PARSE_STATE]  # no partial copy left behind


def test_a_cache_that_cannot_be_written_is_not_an_error(tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.mkdir()
    (target / PARSE_STATE).write_bytes(b"parsed")
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder should be", encoding="utf-8")
    assert not publish_parse_state(target, blocked, None)
    assert restore_parse_state(blocked, tmp_path / "next") is None
