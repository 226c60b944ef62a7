"""The district gate against the drops that used to cross districts: a name one letter off another
district's, a district org typed ``lea``, and an SIS drop without district ids loaded under the
wrong district. (Unreadable, semicolon, Windows-1252 and UTF-16 evidence: test_fuzz_inputs.py.)"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from loaders.district_gate import Evidence, is_district_org_type, judge_file
from loaders.oneroster.pipeline import load_package
from loaders.registry import load_registry
from tests.python.support import PROJECT_ROOT, TINY_PACKAGE, query, write_package

REGISTRY = PROJECT_ROOT / "seeds" / "districts.csv"
SEED_002 = PROJECT_ROOT / "tests" / "fixtures" / "sis_seed002"

# (name in a file, district it must be read as; None = refused)
NAMES = [
    ("Rollcall Demo Unified School District", "demo-unified"),
    ("ROLLCALL DEMO USD", "demo-unified"),
    ("Demo Unified", "demo-unified"),
    ("Belleville Public Schools", "belleville"),
    ("Bellevile School District", "belleville"),  # one letter missing
    ("Harbour View SD", "demo-sis"),  # one letter more
    ("Grand Bend Independent School District", "grand-bend"),
    ("Demos Public Schools", None),  # another district's name, one letter off a short name
    ("Demo Unified 2", None),  # a number the registry does not have
    ("Bellevue School District", None),
    ("Grand Blanc ISD", None),
    ("Harbor Springs Public Schools", None),
    ("East Harbor View", None),
    ("Grand Bend Elementary", None),
    ("Springfield Public Schools", None),
]


@pytest.mark.parametrize(("name", "district"), NAMES, ids=[n for n, _ in NAMES])
def test_a_name_is_read_as_its_district_or_refused(name: str, district: str | None) -> None:
    registry = load_registry(REGISTRY)
    with duckdb.connect() as con:
        for target in registry.values():
            decision = judge_file(con, Evidence(names={name}), target, registry)
            assert decision is not None
            assert decision.accepted == (target.district_id == district), (target.district_id, decision.reason)


@pytest.mark.parametrize("spelling", ["district", "District", "lea", "LEA", "local", "Local Education Agency"])
def test_district_org_type_spellings(spelling: str) -> None:
    assert is_district_org_type(spelling)


@pytest.mark.parametrize("spelling", ["school", "department", "state", "national", ""])
def test_other_org_types_are_not_districts(spelling: str) -> None:
    assert not is_district_org_type(spelling)


def test_a_district_org_typed_lea_proves_its_district(tmp_path: Path, warehouse: Path) -> None:
    files = dict(TINY_PACKAGE)
    files["orgs.csv"] = files["orgs.csv"].replace(",district,9900001,", ",LEA,9900001,")
    report = load_package(write_package(tmp_path / "drop", files), "demo-unified", warehouse)
    assert {f.file_name: f.status for f in report.files} == dict.fromkeys(files, "loaded")
    evidence = query(
        warehouse, "select evidence_kind, evidence_value from audit.district_checks where file_name = ?", ["orgs.csv"]
    )
    assert evidence == [("id", "9900001")]


def _foreign_sis_drop(folder: Path) -> Path:
    """The seed drop with every school id changed: another district's export."""
    shutil.copytree(SEED_002, folder)
    for path in folder.glob("*.csv"):
        text = path.read_text()
        for school in ("001", "227", "314", "423"):
            text = text.replace(f'"{school}"', f'"9{school}"')
        path.write_text(text)
    return folder


def test_a_drop_without_district_ids_must_share_schools_with_the_district(tmp_path: Path, warehouse: Path) -> None:
    first = load_package(SEED_002, "demo-sis", warehouse)
    assert {f.status for f in first.files} == {"loaded"}
    notes = [w.detail for f in first.files for w in f.warnings if w.code == "district_first_load"]
    assert len(notes) == 1 and "its first load" in notes[0]

    foreign = load_package(_foreign_sis_drop(tmp_path / "foreign"), "demo-sis", warehouse)
    assert foreign.status == "refused"
    for f in foreign.files:
        assert f.status == "refused"
        assert "none of its" in f.error_text and "known schools of demo-sis" in f.error_text
    kinds = query(
        warehouse,
        "select distinct evidence_kind, decision from audit.district_checks where load_id = ?",
        [foreign.load_id],
    )
    assert kinds == [("schools", "refused")]
    assert query(warehouse, "select count(distinct _load_id) from raw_sis.students") == [(1,)]
