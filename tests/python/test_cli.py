"""The command line as a newcomer meets it: help, typos, exit codes, dbt pass-through, partial parse."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import click
import pytest

from rollcall import cli
from rollcall.check_dbt import Selection, build_arguments
from rollcall.settings import PROJECT_ROOT
from tests.python.support import dbt_env

README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
COMMANDS = sorted(cli.cli.commands)


def _help(*argv: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert cli.main([*argv, "--help"]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("name", COMMANDS)
def test_every_option_has_help_and_every_command_lists_its_exit_codes(name, capsys) -> None:
    command = cli.cli.commands[name]
    undocumented = [p.name for p in command.params if isinstance(p, click.Option) and not p.help]
    assert undocumented == []
    text = _help(name, capsys=capsys)
    codes = re.findall(r"^\s+(\d)  ", text.split("Exit codes:")[1], flags=re.MULTILINE)
    assert "0" in codes and "2" in codes, text
    documented = re.search(rf"^\| `rollcall {name}` \|(.*)\|$", README, flags=re.MULTILINE)
    assert documented, f"README's command table has no row for rollcall {name}"
    assert set(re.findall(r"\b(\d) ", documented.group(1))) == set(codes)


def test_top_level_help_is_plain_text(capsys) -> None:
    text = _help(capsys=capsys)
    assert "Exit codes:" in text and all(name in text for name in COMMANDS)
    assert "\x1b" not in text and not re.search(r"\[/?(bold|dim|italic|cyan|green|red|link)\b", text)  # no markup


@pytest.mark.parametrize(
    ("argv", "typo", "suggestion"),
    [
        (["build", "--selct", "marts"], "--selct", "--select"),
        (["load", "drop", "--distrct", "x"], "--distrct", "--district"),
        (["generate", "out", "--student", "50"], "--student", "--students"),
    ],
)
def test_a_misspelt_option_is_named_with_a_suggestion_and_never_abbreviated(
    argv, typo, suggestion, tmp_path, capsys, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)  # generate would write ./out
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert f"No such option '{typo}'" in err and suggestion in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_build_passes_dbt_selection_and_options_after_the_separator(monkeypatch, capsys) -> None:
    seen: dict[str, list[str]] = {}

    def plan(database, args):
        seen["args"] = args
        from rollcall.build_plan import BuildPlan

        return BuildPlan([], "nothing was loaded since the last build", nothing_to_build=True)

    monkeypatch.setattr("rollcall.build_plan.plan_build", plan)
    argv = ["build", "-s", "stg_oneroster__users+", "tag:core", "--exclude", "fct_x", "-f", "--", "--empty"]
    assert cli.main(argv) == 0
    selection = ["--select", "stg_oneroster__users+", "tag:core", "--exclude", "fct_x"]
    assert seen["args"] == [*selection, "--full-refresh", "--empty"]
    assert "nothing to build" in capsys.readouterr().out


def test_check_help_lists_the_selection_it_passes_to_dbt(capsys) -> None:
    text = _help("check", capsys=capsys)
    assert "-s, --select SELECTOR..." in text and "--exclude SELECTOR..." in text


def test_check_narrows_its_own_selection_to_the_users() -> None:
    selection = Selection(models=["model.rollcall.a", "model.rollcall.b"], seeds=[], tests=[], skipped_tests=[])
    fqn = {"model.rollcall.a": ["rollcall", "a"], "model.rollcall.b": ["rollcall", "b"]}
    assert build_arguments(selection, fqn)[:3] == ["--select", "fqn:rollcall.a", "fqn:rollcall.b"]
    narrowed = build_arguments(selection, fqn, ["--select", "tag:core", "--exclude", "b"])
    assert narrowed[: narrowed.index("--indirect-selection")] == [
        "--select",
        "fqn:rollcall.a,tag:core",
        "fqn:rollcall.b,tag:core",
    ]
    assert narrowed[-2:] == ["--exclude", "b"]


@pytest.mark.dbt
def test_plain_dbt_after_rollcall_keeps_the_partial_parse(tmp_path: Path, monkeypatch) -> None:
    """`rollcall build` runs dbt in-process (rollcall.dbt) with its plan in environment variables;
    a plain `dbt parse` in the project folder afterwards must not parse the project again."""
    from rollcall.build_plan import plan_build
    from rollcall.dbt import run_dbt

    monkeypatch.delenv("ROLLCALL_DUCKDB_PATH", raising=False)  # as a user's shell has it
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "target"))
    plan = plan_build(tmp_path / "no-warehouse.duckdb", [])
    assert plan.env["ROLLCALL_PLANNED_BUILD"] == "true"
    assert run_dbt(["parse"], env=plan.env) == 0
    dbt = Path(os.environ.get("VIRTUAL_ENV", PROJECT_ROOT / ".venv")) / "bin" / "dbt"
    dbt = dbt if dbt.exists() else PROJECT_ROOT / ".venv" / "bin" / "dbt"
    plain = subprocess.run(
        [str(dbt), "parse", "--debug", "--no-use-colors"], cwd=PROJECT_ROOT, capture_output=True, text=True
    )
    assert plain.returncode == 0, plain.stdout[-3000:]
    assert "Unable to do partial parsing" not in plain.stdout, plain.stdout[-3000:]
    assert "Partial parsing enabled" in plain.stdout


def test_summary_names_a_district_whose_attendance_all_became_exceptions(tmp_path: Path, capsys) -> None:
    import duckdb

    database = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(database)) as con:
        for schema in ("quality", "intermediate", "core", "attendance"):
            con.execute(f"create schema {schema}")
        con.execute(
            """create table intermediate.records as
               select * from (values ('all-out', false), ('all-out', false), ('counted', false), ('counted', false))
               as t(district_id, is_tombstoned)"""
        )
        con.execute("create view intermediate.int_attendance_records_unioned as select * from intermediate.records")
        con.execute(
            """create table quality.fct_attendance_exceptions as
               select * from (values ('all-out', 'unknown_code'), ('all-out', 'unknown_code'),
                                     ('counted', 'unknown_code')) as t(district_id, exception_reason)"""
        )
        con.execute(
            "create table core.dim_academic_sessions (district_id text, academic_session_id text, session_title text,"
            " session_type text, is_current boolean, start_date date)"
        )
        con.execute("create table attendance.fct_school_absence_rates (district_id text, academic_session_id text)")
        con.execute(
            "create table attendance.fct_attendance_metrics"
            " (metric_grain text, district_id text, academic_session_id text)"
        )
    assert cli.main(["summary", "--database", str(database)]) == 0
    out = capsys.readouterr().out
    assert "No attendance counted for all-out: all 2 records are exceptions (unknown_code 2)" in out
    assert "seeds/district_absence_codes.csv" in out
    assert "No attendance counted for counted" not in out  # half of its records count


def test_load_reports_each_file_as_it_is_recorded(tmp_path: Path, monkeypatch, capsys) -> None:
    from loaders.oneroster.pipeline import load_package
    from tests.python.support import TINY_PACKAGE, write_package

    seen: list[tuple[str, str]] = []
    drop = write_package(tmp_path / "drop", TINY_PACKAGE)
    report = load_package(
        drop, "demo-unified", tmp_path / "w.duckdb", on_file=lambda f: seen.append((f.file_name, f.status))
    )
    final = {name: status for name, status in seen}  # the last record of each file is its outcome
    assert final == {f.file_name: f.status for f in report.files} and final

    monkeypatch.setenv("ROLLCALL_DUCKDB_PATH", str(tmp_path / "v.duckdb"))
    assert cli.main(["load", str(drop), "--district", "demo-unified", "--verbose"]) == 0
    err = capsys.readouterr().err
    assert all(f"{name}: loaded" in err for name in final)  # --verbose: a line per file as it lands


@pytest.mark.dbt
def test_an_option_dbt_does_not_know_after_the_separator_is_a_usage_error(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("ROLLCALL_DUCKDB_PATH", str(tmp_path / "new.duckdb"))  # a first build: everything
    assert cli.main(["build", "--", "--bogus"]) == 2
    assert "dbt refused its options: No such option '--bogus'" in capsys.readouterr().err


@pytest.mark.dbt
def test_a_build_out_of_memory_names_the_model_and_the_setting(tmp_path: Path, monkeypatch, capsys) -> None:
    """DuckDB's own advice (`SET memory_limit`) is not a setting of rollcall's: the build names it."""
    monkeypatch.setenv("ROLLCALL_DUCKDB_PATH", str(tmp_path / "new.duckdb"))
    monkeypatch.setenv("ROLLCALL_DUCKDB_MEMORY_LIMIT", "1MB")  # too little for any model
    assert cli.main(["build", "--fail-fast", "--select", "dim_dates"]) == 1
    err = capsys.readouterr().err
    # dbt's own first queries may run out before the model does
    assert re.search(r"DuckDB ran out of memory( in dim_dates)? within ROLLCALL_DUCKDB_MEMORY_LIMIT=1MB: raise it", err)


@pytest.mark.dbt
def test_ctrl_c_stops_a_build_in_one_line_and_exits_130(tmp_path: Path) -> None:
    """Ctrl-C during a build: dbt cancels its queries; no stack trace; the shell's status for it."""
    env = dbt_env(tmp_path / "warehouse.duckdb", ("build",), cli=True)  # a first build: everything
    build = subprocess.Popen(
        [sys.executable, "-m", "rollcall.cli", "build", "--verbose"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        started = next((line for line in build.stdout if " START " in line), None)  # dbt has begun a node
        build.send_signal(signal.SIGINT)
        out, err = build.communicate(timeout=120)
    finally:
        build.kill()
    assert started is not None and build.returncode == cli.EXIT_STOPPED
    assert "stopped by Ctrl-C" in err and "Traceback" not in out + err
