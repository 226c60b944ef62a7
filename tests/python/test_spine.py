"""The loader spine: a format handler plugs into the drop orchestrator (plan, gate, prepare, land,
verify), and line endings are decided in one place."""

from __future__ import annotations

from pathlib import Path

from loaders.mapped.formats import load_catalog
from loaders.oneroster.pipeline import OneRosterHandler
from loaders.spine import DropContext, FormatHandler, Landing, PlannedFile, load_drop
from loaders.text_input import FileRefused, prepare_text
from tests.python.support import TINY_PACKAGE, query, write_package

DISTRICT = "demo-unified"
TALLY_TABLE = "raw_tally.tallies"


class TallyHandler(FormatHandler):
    """A made-up format: ``tally*.csv`` files with a ``count`` column, landed with plain SQL.
    ``drop_rows`` rows of every file are left out of the landing, to show the spine's count-back."""

    name = "tally"

    def __init__(self, drop_rows: int = 0, fail_landing: bool = False) -> None:
        self.drop_rows, self.fail_landing = drop_rows, fail_landing
        self.prepared: list[str] = []

    def ensure_tables(self, con) -> None:
        con.execute("create schema if not exists raw_tally")
        con.execute(
            f"create table if not exists {TALLY_TABLE} (count varchar, _district_id varchar,"
            " _file_sha256 varchar, _load_id varchar, _row_number bigint)"
        )

    def claims_name(self, ctx: DropContext, plan: PlannedFile) -> bool:
        if not plan.package_file.name.startswith("tally"):
            return False
        plan.result.entity, plan.result.raw_table = "tally", TALLY_TABLE
        return True

    def claims_header(self, ctx: DropContext, plan: PlannedFile) -> str | None:
        return "its header is not a tally's (count)"

    def order(self, plans: list[PlannedFile]) -> list[PlannedFile]:
        return sorted(plans, key=lambda plan: plan.package_file.name, reverse=True)

    def prepare(self, ctx: DropContext, plan: PlannedFile) -> Landing | None:
        rows = plan.package_file.path.read_text(encoding="utf-8").splitlines()[1:]
        if not all(row.isdigit() for row in rows):
            raise FileRefused("a count that is not a number")
        self.prepared.append(plan.package_file.name)
        plan.result.rows_read = len(rows)
        return Landing(plan.result, TALLY_TABLE)

    def land(self, ctx: DropContext, landings: list[Landing]) -> list[str]:
        if self.fail_landing:
            raise OSError("the destination went away")
        for landing in landings:
            path = next(f.path for f in ctx.files if f.name == landing.result.file_name)
            counts = path.read_text(encoding="utf-8").splitlines()[1:]
            ctx.con.executemany(
                f"insert into {TALLY_TABLE} values (?, ?, ?, ?, ?)",
                [
                    [count, ctx.district_id, landing.result.file_sha256, ctx.load_id, number]
                    for number, count in enumerate(counts[self.drop_rows :], start=2)
                ],
            )
        return []


def _tally_drop(folder: Path, **files: str) -> Path:
    return write_package(folder, {f"{name}.csv": text for name, text in files.items()})


def test_a_format_handler_plugs_into_the_spine(tmp_path: Path, warehouse: Path) -> None:
    drop = _tally_drop(tmp_path / "drop", tally_a="count\n1\n2\n3\n", tally_b="count\n4\nfour\n", other="x,y\n1,2\n")
    handler = TallyHandler()
    report = load_drop(drop, DISTRICT, warehouse, [handler])

    files = {f.file_name: f for f in report.files}
    assert (files["tally_a.csv"].status, files["tally_a.csv"].rows_landed) == ("loaded", 3)
    refused = files["tally_b.csv"]
    assert (refused.status, refused.error_text) == ("refused", "a count that is not a number")
    assert files["other.csv"].error_text == "its header is not a tally's (count)"
    assert handler.prepared == ["tally_a.csv"]
    assert report.status == "partial"
    logged = query(warehouse, "select file_name, entity, status, rows_landed from audit.file_log order by file_name")
    assert logged == [
        ("other.csv", None, "refused", 0),
        ("tally_a.csv", "tally", "loaded", 3),
        ("tally_b.csv", "tally", "refused", 0),
    ]
    assert query(warehouse, f"select count(*) from {TALLY_TABLE}") == [(3,)]


def test_a_handler_beside_oneroster_and_the_spine_counting_back(tmp_path: Path, warehouse: Path) -> None:
    drop = write_package(tmp_path / "drop", {**TINY_PACKAGE, "tally.csv": "count\n1\n2\n", "odd.csv": "x,y\n1,2\n"})
    report = load_drop(drop, DISTRICT, warehouse, [OneRosterHandler(load_catalog()), TallyHandler(drop_rows=1)])

    files = {f.file_name: f for f in report.files}
    assert {name: files[name].status for name in ("manifest.csv", "orgs.csv", "users.csv")} == dict.fromkeys(
        ("manifest.csv", "orgs.csv", "users.csv"), "loaded"
    )
    # the spine verifies every landing, whichever handler landed it
    assert files["tally.csv"].status == "failed"
    assert files["tally.csv"].error_text == "row accounting mismatch: read 2, landed 1, quarantined 0"
    # a file no handler claims is refused with each handler's reason
    assert files["odd.csv"].error_text == "not a OneRoster file name, and its header is not a tally's (count)"
    assert report.oneroster_version == "1.1" and report.status == "partial"


def test_a_failed_landing_fails_every_file_of_the_load(tmp_path: Path, warehouse: Path) -> None:
    drop = _tally_drop(tmp_path / "drop", tally_a="count\n1\n", tally_b="count\n2\n")
    report = load_drop(drop, DISTRICT, warehouse, [TallyHandler(fail_landing=True)])
    assert report.status == "failed"
    assert report.error_text == "landing failed: OSError: the destination went away"
    assert {f.status for f in report.files} == {"failed"}
    assert query(warehouse, "select status from audit.load_log") == [("failed",)]


def test_line_endings_and_byte_order_marks_are_decided_once(tmp_path: Path) -> None:
    source = tmp_path / "users.csv"
    source.write_bytes(b"\xef\xbb\xbfsourcedId,status\r\nu1,\r\nu2,\nu3,\n")
    prepared = prepare_text(source, tmp_path)
    assert prepared.notes == [
        ("byte_order_mark", "file starts with a UTF-8 byte-order mark", 1),
        ("mixed_line_endings", "2 CRLF and 2 LF line endings", 4),
    ]
    assert prepared.path != source and prepared.path.read_bytes() == b"\xef\xbb\xbfsourcedId,status\nu1,\nu2,\nu3,\n"

    crlf_only = tmp_path / "orgs.csv"
    crlf_only.write_bytes(b"sourcedId,status\r\no1,\r\n")
    assert (prepare_text(crlf_only, tmp_path).path, prepare_text(crlf_only, tmp_path).notes) == (crlf_only, [])
