"""A corpus of malformed inputs, each built here from one small generated OneRoster package, and
the outcome each must have: a clean refusal naming the file and the reason, quarantined rows, or
rows loaded with a recorded deviation - never a traceback, never a silent loss.

Cheap by construction: a refused file lands nothing, so its drop (that file alone) never reaches
dlt; the cases that land are grouped into a few drops of distinct files (one dlt run each).
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from loaders.audit import FileResult
from loaders.oneroster.pipeline import LoadReport, load_package
from loaders.package import PackageError, ZipLimits, open_package
from rollcall.sample import generate_district
from tests.python.support import query, run_rollcall

DISTRICT = "demo-unified"
Files = dict[str, bytes]


@dataclass(frozen=True)
class Case:
    id: str
    kind: str  # refused | quarantined | deviation
    file: str  # the file (drop path) whose outcome is checked
    build: Callable[[Files], Files]  # base files -> the case's files
    expect: str | int  # reason text (refused), rows quarantined, or warning code (deviation)


def _lines(data: bytes) -> list[bytes]:
    return data.split(b"\n")[:-1]


def _join(lines: list[bytes]) -> bytes:
    return b"\n".join(lines) + b"\n"


def _row(name: str, index: int, edit: Callable[[bytes], bytes]) -> Callable[[Files], Files]:
    """Edit data row ``index`` (1 = first after the header) of ``name``."""

    def build(base: Files) -> Files:
        lines = _lines(base[name])
        lines[index] = edit(lines[index])
        return {name: _join(lines)}

    return build


def _whole(name: str, edit: Callable[[bytes], bytes], target: str | None = None) -> Callable[[Files], Files]:
    return lambda base: {target or name: edit(base[name])}


def _redelimit(data: bytes, delimiter: str) -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\n").writerows(csv.reader(io.StringIO(data.decode())))
    return out.getvalue().encode()


def _drop_column(data: bytes, column: str) -> bytes:
    rows = list(csv.reader(io.StringIO(data.decode())))
    position = rows[0].index(column)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([r[:position] + r[position + 1 :] for r in rows])
    return out.getvalue().encode()


def _header(data: bytes, old: bytes, new: bytes) -> bytes:
    header, rest = data.split(b"\n", 1)
    return header.replace(old, new, 1) + b"\n" + rest


def _orgs(district_line: bytes) -> Callable[[Files], Files]:
    return lambda base: {"orgs.csv": _join([_lines(base["orgs.csv"])[0], district_line, *_lines(base["orgs.csv"])[2:]])}


def _unterminated(data: bytes, at: int, separator: bytes = b",") -> bytes:
    """Row ``at`` opens a quote that never closes: the rows after it are swallowed by the parser."""
    lines = _lines(data)
    lines[at] = lines[at].replace(separator * 3, separator * 3 + b'"', 1)
    return _join(lines)


CASES = [
    # -- refused: the file, by name, with the reason; nothing of it lands
    Case("empty-file", "refused", "users.csv", _whole("users.csv", lambda d: b""), "file is empty"),
    Case("blank-header", "refused", "users.csv", _whole("users.csv", lambda d: b"\n\n"), "file is empty"),
    Case(
        "missing-required-column",
        "refused",
        "users.csv",
        _whole("users.csv", lambda d: _drop_column(d, "role")),
        "missing required column(s): role",
    ),
    Case(
        "duplicated-oneroster-column",
        "refused",
        "users.csv",
        _whole("users.csv", lambda d: _header(d, b"middleName", b"givenName")),
        "both map to 'givenName'",
    ),
    Case(
        "not-any-encoding",
        "refused",
        "attendance.csv",
        _whole("attendance.csv", lambda d: _header(d, b"period", b"peri\x81od")),
        "not UTF-8, UTF-16 or Windows-1252 text (byte 0x81)",
    ),
    Case(
        "delimiter-tie",
        "refused",
        "users.csv",
        _whole("users.csv", lambda d: b"sourcedId;status,role\nu1;,student\n"),
        "delimiter unclear",
    ),
    Case(
        "no-line-break",
        "refused",
        "attendance.csv",
        _whole("attendance.csv", lambda d: b"sourcedId," + b"x" * (1 << 21)),
        "no line break in the first",
    ),
    Case(
        "semicolon-broken-quote",
        "refused",
        "courses.csv",
        _whole("courses.csv", lambda d: _unterminated(_redelimit(d, ";"), 3, b";")),
        "cannot be read as semicolon-separated",
    ),
    Case(
        "quote-reopened-later",
        "refused",
        "courses.csv",
        _whole("courses.csv", lambda d: _unterminated(d, 52)),  # a later quoted value re-opens it
        "record count check failed",
    ),
    Case(
        "nul-in-header",
        "refused",
        "users.csv",
        _whole("users.csv", lambda d: _header(d, b"username", b"user\x00name")),
        "missing required column(s): username",
    ),
    Case(
        "semicolons-damaged-utf8",
        "refused",
        "users.csv",
        _whole("users.csv", lambda d: _redelimit(d, ";").replace(b";;;", b";;;\xff", 1)),
        "must be valid text to convert",
    ),
    Case(
        "binary-named-csv",
        "refused",
        "users.csv",
        _whole("users.csv", lambda d: b"\x89PNG\r\n\x1a\n" + bytes(range(32, 127)) * 4),
        "missing required column(s)",
    ),
    Case(
        "unknown-layout",
        "refused",
        "roster.csv",
        lambda base: {"roster.csv": b"Pupil,Colour,Shoe size\nP1,red,7\n"},
        "unknown layout",
    ),
    Case(
        "partial-layout-match",
        "refused",
        "people.csv",
        lambda base: {"people.csv": b"Email,First Name,Last Name,Favourite,Other,More\na@b.org,A,B,x,y,z\n"},
        "unknown layout, closest: ",
    ),
    Case(
        "not-a-csv",
        "refused",
        "export.pdf",
        lambda base: {"export.pdf": b"%PDF-1.4\n"},
        "not a CSV file",
    ),
    Case(
        "manifest-names-missing-file",
        "refused",
        "classes.csv",
        lambda base: {"manifest.csv": b"propertyName,value\noneroster.version,1.1\nfile.classes,bulk\n"},
        "missing: the manifest lists file.classes as bulk",
    ),
    Case(
        "foreign-district-id",
        "refused",
        "orgs.csv",
        _orgs(b"d9,,,Riverton Unified,district,4100001,"),
        "district gate: district id '4100001'",
    ),
    Case(
        "foreign-district-lea",
        "refused",
        "orgs.csv",
        _orgs(b"d9,,,Riverton Unified,lea,4100001,"),
        "district gate: district id '4100001'",
    ),
    Case(
        "foreign-district-local",
        "refused",
        "orgs.csv",
        _orgs(b"d9,,,Riverton Unified,Local,4100001,"),
        "district gate: district id '4100001'",
    ),
    Case(
        "foreign-district-semicolons",
        "refused",
        "orgs.csv",
        lambda base: {"orgs.csv": _redelimit(_orgs(b"d9,,,Riverton Unified,district,4100001,")(base)["orgs.csv"], ";")},
        "district gate: district id '4100001'",
    ),
    Case(
        "foreign-district-windows-1252",
        "refused",
        "orgs.csv",
        _orgs(b"d9,,,Riverto\xf1 Unified,district,4100001,"),
        "district gate: district id '4100001'",
    ),
    Case(
        "foreign-district-utf16",
        "refused",
        "orgs.csv",
        lambda base: {
            "orgs.csv": codecs.BOM_UTF16_LE
            + _orgs(b"d9,,,Riverton Unified,district,4100001,")(base)["orgs.csv"].decode().encode("utf-16-le")
        },
        "district gate: district id '4100001'",
    ),
    Case(
        "similar-district-name",
        "refused",
        "orgs.csv",
        _orgs(b"d9,,,Demos Public Schools,district,,"),
        "district name 'Demos Public Schools' matches no registered district",
    ),
    Case(
        "damaged-utf8-evidence",
        "refused",
        "orgs.csv",
        _orgs(b"d9,,,Jos\xc3\xa9 \xff Unified,district,4100001,"),
        "district gate: district evidence unreadable: not valid UTF-8",
    ),
    # -- quarantined: the bad rows are in audit.quarantined_rows, the rest lands
    Case("extra-field", "quarantined", "users.csv", _row("users.csv", 3, lambda r: r + b",surplus"), 1),
    Case("missing-fields", "quarantined", "classes.csv", _row("classes.csv", 2, lambda r: r.split(b",")[0]), 1),
    Case(
        "unterminated-quote",
        "quarantined",
        "attendance.csv",
        _whole("attendance.csv", lambda d: _unterminated(d, 31)),  # swallows the last 3 rows
        4,
    ),
    Case(
        "quote-spanning-records",
        "quarantined",
        "courses.csv",
        _whole("courses.csv", lambda d: _unterminated(_unterminated(d, 3), 8)),  # closed 5 lines later
        6,
    ),
    Case(
        "invalid-utf8-byte",
        "quarantined",
        "enrollments.csv",
        lambda base: {
            "enrollments.csv": _join(
                [
                    line.replace(b"enr-0000004", b"enr-000000\xc3\xa9").replace(b"enr-0000009,", b"enr-000000\xff,")
                    for line in _lines(base["enrollments.csv"])
                ]
            )
        },
        1,
    ),
    Case("whitespace-line", "quarantined", "demographics.csv", _row("demographics.csv", 4, lambda r: b" \n" + r), 1),
    Case(
        "two-bad-rows",
        "quarantined",
        "academicSessions.csv",
        lambda base: _row("academicSessions.csv", 2, lambda r: r + b",x")(
            {"academicSessions.csv": _row("academicSessions.csv", 5, lambda r: r + b",y")(base)["academicSessions.csv"]}
        ),
        2,
    ),
    Case("short-row", "quarantined", "calendar.csv", _row("calendar.csv", 100, lambda r: r.rsplit(b",", 3)[0]), 1),
    Case(
        "stray-quote-field",
        "quarantined",
        "absenceCodes.csv",
        _row("absenceCodes.csv", 2, lambda r: r.replace(b",,,", b',,,"x"y', 1)),
        1,
    ),
    # -- loaded with a recorded deviation (audit.file_warnings)
    Case(
        "windows-1252",
        "deviation",
        "calendar.csv",
        _whole("calendar.csv", lambda d: d.replace(b"First day", b"First d\xe9y")),
        "encoding",
    ),
    Case(
        "utf16-bom",
        "deviation",
        "classes.csv",
        _whole("classes.csv", lambda d: codecs.BOM_UTF16_LE + d.decode().encode("utf-16-le")),
        "encoding",
    ),
    Case(
        "utf16-be-no-bom",
        "deviation",
        "absenceCodes.csv",
        _whole("absenceCodes.csv", lambda d: d.decode().encode("utf-16-be")),
        "encoding",
    ),
    Case(
        "utf8-bom", "deviation", "courses.csv", _whole("courses.csv", lambda d: codecs.BOM_UTF8 + d), "byte_order_mark"
    ),
    Case(
        "cr-only",
        "deviation",
        "enrollments.csv",
        _whole("enrollments.csv", lambda d: d.replace(b"\n", b"\r")),
        "line_endings",
    ),
    Case(
        "cr-and-lf",
        "deviation",
        "absenceCodes.csv",
        _whole("absenceCodes.csv", lambda d: d.replace(b"\n", b"\r", 3)),
        "line_endings",
    ),
    Case(
        "crlf-and-lf",
        "deviation",
        "demographics.csv",
        _whole("demographics.csv", lambda d: d.replace(b"\n", b"\r\n", 4)),
        "mixed_line_endings",
    ),
    Case(
        "semicolons",
        "deviation",
        "academicSessions.csv",
        _whole("academicSessions.csv", lambda d: _redelimit(d, ";")),
        "delimiter",
    ),
    Case("tabs", "deviation", "attendance.csv", _whole("attendance.csv", lambda d: _redelimit(d, "\t")), "delimiter"),
    Case(
        "semicolons-with-commas",
        "deviation",
        "classes.csv",
        _whole("classes.csv", lambda d: _redelimit(d, ";")),
        "delimiter",
    ),
    Case(
        "upper-case-header",
        "deviation",
        "calendar.csv",
        _whole("calendar.csv", lambda d: _header(d, b"sourcedId", b"SOURCEDID")),
        "header_case",
    ),
    Case(
        "unknown-column",
        "deviation",
        "absenceCodes.csv",
        lambda base: {
            "absenceCodes.csv": _join(
                [line + (b",note" if i == 0 else b",") for i, line in enumerate(_lines(base["absenceCodes.csv"]))]
            )
        },
        "extra_columns",
    ),
    Case(
        "trailing-empty-header",
        "deviation",
        "demographics.csv",
        _whole("demographics.csv", lambda d: _header(d, b"ResidenceStatus", b"ResidenceStatus,,")),
        "trailing_empty_header_columns",
    ),
    Case(
        "us-dates",
        "deviation",
        "enrollments.csv",
        _whole("enrollments.csv", lambda d: d.replace(b"2025-08-25", b"8/25/2025")),
        "date_format",
    ),
    Case(
        "enum-case",
        "deviation",
        "classes.csv",
        _whole("classes.csv", lambda d: d.replace(b",homeroom,", b",Homeroom,")),
        "enum_case",
    ),
    Case(
        "boolean-spelling",
        "deviation",
        "enrollments.csv",
        _whole("enrollments.csv", lambda d: d.replace(b",true,", b",TRUE,")),
        "boolean_spelling",
    ),
    Case(
        "deep-folder",
        "deviation",
        "a/b/c/courses.csv",
        _whole("courses.csv", lambda d: d, target="a/b/c/courses.csv"),
        "nested_folder",
    ),
]


def _landing_batches(cases: list[Case]) -> list[list[Case]]:
    """Landing cases grouped into drops of distinct OneRoster files (one dlt run per drop)."""
    batches: list[list[Case]] = []
    for case in cases:
        entity = Path(case.file).name.lower()
        home = next((b for b in batches if all(Path(c.file).name.lower() != entity for c in b)), None)
        if home is None:
            batches.append(home := [])
        home.append(case)
    return batches


def _write(folder: Path, files: Files) -> Path:
    for name, data in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return folder


def _result(report: LoadReport, name: str) -> FileResult:
    return next(f for f in report.files if f.file_name == name)


@pytest.fixture(scope="module")
def base_files(tmp_path_factory: pytest.TempPathFactory) -> Files:
    folder = tmp_path_factory.mktemp("fuzz-base") / "drop"
    generate_district(folder, students=12, schools=1, days=2, seed=3)
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.name != "manifest.csv"}


@pytest.fixture(scope="module")
def outcomes(base_files: Files, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[LoadReport, Path]]:
    """Every case loaded once: refusals alone, landing cases in batches."""
    root = tmp_path_factory.mktemp("fuzz")
    results: dict[str, tuple[LoadReport, Path]] = {}
    refusals = root / "refusals.duckdb"  # one warehouse: a refused file lands nothing
    for case in (c for c in CASES if c.kind == "refused"):
        drop = _write(root / case.id, case.build(base_files))
        results[case.id] = (load_package(drop, DISTRICT, refusals), refusals)
    landing = [c for c in CASES if c.kind != "refused"]
    for number, batch in enumerate(_landing_batches(landing)):
        files = {"orgs.csv": base_files["orgs.csv"]}
        for case in batch:
            files.update(case.build(base_files))
        database = root / f"batch-{number}.duckdb"
        report = load_package(_write(root / f"batch-{number}", files), DISTRICT, database)
        results.update({case.id: (report, database) for case in batch})
    return results


def test_the_corpus_is_large_and_covers_every_outcome() -> None:
    assert len(CASES) >= 40
    assert len({c.id for c in CASES}) == len(CASES)
    assert {c.kind for c in CASES} == {"refused", "quarantined", "deviation"}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_malformed_input_has_its_outcome(case: Case, outcomes, base_files: Files) -> None:
    report, _ = outcomes[case.id]
    result = _result(report, case.file)
    for f in report.files:  # the audit invariant holds for every file of the drop
        if f.status == "loaded":
            assert f.rows_read == f.rows_landed + f.rows_quarantined, f.file_name
    if case.kind == "refused":
        assert result.status == "refused", (result.status, result.error_text)
        assert case.expect in (result.error_text or ""), result.error_text
        assert result.rows_landed == 0
        if all(f.status == "refused" for f in report.files):
            assert report.status == "refused"  # `rollcall load` exits 2
        return
    assert result.status == "loaded", (result.status, result.error_text)
    if case.kind == "quarantined":
        assert result.rows_quarantined == case.expect
        assert result.rows_landed > 0
        return
    assert result.rows_quarantined == 0
    assert case.expect in {w.code for w in result.warnings}, [w.code for w in result.warnings]
    original = Path(case.file).name
    if original in base_files:  # every record of the file landed, whatever its form
        assert result.rows_landed == len(_lines(base_files[original])) - 1


def test_a_swallowed_record_is_counted_from_the_file_itself(outcomes, base_files: Files) -> None:
    report, database = outcomes["unterminated-quote"]
    attendance = _result(report, "attendance.csv")
    records = len(_lines(base_files["attendance.csv"])) - 1
    assert attendance.rows_read == records  # not the parser's count, which lost the swallowed rows
    kinds = query(
        database,
        "select error_type, count(*) from audit.quarantined_rows where file_name = ? group by 1 order by 1",
        ["attendance.csv"],
    )
    assert kinds == [("swallowed_record", 3), ("unquoted_value", 1)]


# -- whole drops --------------------------------------------------------------------------------


def test_an_empty_drop_lands_nothing_and_says_so(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    report = load_package(tmp_path / "empty", DISTRICT, tmp_path / "w.duckdb")
    assert (report.status, report.error_text, report.files) == ("refused", "the drop holds no files", [])
    archive = tmp_path / "empty.zip"
    zipfile.ZipFile(archive, "w").close()
    assert load_package(archive, DISTRICT, tmp_path / "w.duckdb").status == "refused"
    cli = run_rollcall("load", str(archive), "--district", DISTRICT, "--database", str(tmp_path / "w.duckdb"))
    assert cli.returncode == 2, cli.stderr[-2000:]
    assert f"for {DISTRICT}: refused; 0 rows landed" in cli.stdout
    load_help = run_rollcall("load", "--help")
    assert "2  nothing landed: an empty drop or every file refused" in load_help.stdout


def test_a_symlink_leaving_the_drop_is_refused_unread(tmp_path: Path, base_files: Files) -> None:
    outside = _write(tmp_path / "elsewhere", {"users.csv": base_files["users.csv"]})
    drop = _write(tmp_path / "drop", {"orgs.csv": base_files["orgs.csv"]})
    os.symlink(outside / "users.csv", drop / "users.csv")
    os.symlink(outside, drop / "more")
    with open_package(drop) as files:
        refusals = {f.name: f.refusal for f in files if f.refusal}
    assert set(refusals) == {"users.csv", "more"}
    assert all("symbolic link pointing outside the drop" in r for r in refusals.values())


def test_zip_limits_refuse_a_bomb_and_deep_members(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("users.csv", b"sourcedId\n" + b"0" * (8 << 20))
    with pytest.raises(PackageError, match="expands more than 200x"), open_package(bomb):
        pass
    with pytest.raises(PackageError, match="unpacks to more than 1,000 bytes"), open_package(bomb, ZipLimits(1000)):
        pass
    deep = tmp_path / "deep.zip"
    with zipfile.ZipFile(deep, "w") as archive:
        archive.writestr("/".join(["d"] * 20) + "/users.csv", b"sourcedId\n")
    with pytest.raises(PackageError, match="more than 16 folders deep"), open_package(deep):
        pass


# -- dates in a district's own format -------------------------------------------------------------

DAY_FIRST = (
    "Student ID Number,Absence Reason Code,Absence Date,Periods Missed\n"
    '"1001","ILL","08/25/2025",""\n"1002","ILL","26/08/2025",""\n"1003","ILL","27-Aug-2025",""\n'
)


def test_district_date_formats_come_from_the_mapping_file(tmp_path: Path) -> None:
    from loaders.mapped.formats import load_catalog

    mapping = tmp_path / "district.yml"
    mapping.write_text(
        'date_formats: ["%d/%m/%Y", "%d-%b-%Y"]\nformats:\n  - name: sis_students\n    date_formats: ["%Y%m%d"]\n'
    )
    catalog = load_catalog(mapping)
    assert catalog.formats["sis_attendance"].date_formats[:3] == ("%d/%m/%Y", "%d-%b-%Y", "%m/%d/%Y")
    assert catalog.formats["star_v2"].date_formats[:2] == ("%d/%m/%Y", "%d-%b-%Y")
    assert catalog.formats["sis_students"].date_formats == ("%Y%m%d",)  # its own, as the file says

    drop = _write(tmp_path / "drop", {"attendance.csv": DAY_FIRST.encode()})
    plain = load_package(drop, "demo-sis", tmp_path / "plain.duckdb")
    attendance = _result(plain, "attendance.csv")
    assert (attendance.rows_read, attendance.rows_landed, attendance.rows_quarantined) == (3, 1, 2)
    counted = [(w.code, w.occurrences) for w in attendance.warnings if w.code == "invalid_date"]
    assert counted == [("invalid_date", 2)]
    assert "Absence Date: 2 value(s)" in next(w.detail for w in attendance.warnings if w.code == "invalid_date")

    mapped = load_package(drop, "demo-sis", tmp_path / "mapped.duckdb", mapping=mapping)
    assert _result(mapped, "attendance.csv").rows_landed == 3
    dates = query(tmp_path / "mapped.duckdb", "select distinct absence_date from raw_sis.attendance order by 1")
    assert dates == [("2025-08-25",), ("2025-08-26",), ("2025-08-27",)]
