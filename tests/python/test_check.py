"""``rollcall check``: a drop is loaded into a throwaway warehouse, dbt tests run, results in plain words.

Three dbt runs in all, one per package (module-scoped fixtures): a clean generated district, a
hand-made broken drop with known faults, and a real vendor package (Moodle's OneRoster fixtures).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest

from rollcall.check import CheckReport, DbtOutcome, FileCheck, _add_dbt_checks
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
    return CheckRun(
        code,
        stdout.getvalue(),
        stderr.getvalue(),
        json.loads(json_text) if json_text else None,
        json_text,
        sorted(work.iterdir()),
    )


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
        "warning  secret_dropped: password column dropped: passwords are never stored",
    ]
    for line in expected:
        assert line in lines, line
    # each check is printed under its own file
    users_block = broken.stdout.split("users.csv: loaded")[1]
    assert "orgSourcedIds" in users_block and "classSourcedId" not in users_block


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
    with contextlib.redirect_stdout(stdout), pytest.raises(SystemExit):
        main(["check", "--help"])
    text = " ".join(stdout.getvalue().split())
    assert "--json FILE" in text and "--district DISTRICT" in text
    assert "only labels the rows in the temporary warehouse" in text


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
