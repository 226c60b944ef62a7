"""How rows reach the warehouse: dlt's working folder per warehouse file, no row data left in it."""

from __future__ import annotations

from pathlib import Path

import dlt
import pytest

from loaders.dlt_pipelines import pipelines_dir_for
from loaders.oneroster.pipeline import load_package
from tests.python.support import PROJECT_ROOT, TINY_PACKAGE, USERS_HEADER, query, user_row, write_package

SEED_002 = PROJECT_ROOT / "tests" / "fixtures" / "sis_seed002"
ORGS = TINY_PACKAGE["orgs.csv"]
ROW_DATA_SUFFIXES = (".parquet", ".jsonl", ".insert_values", ".gz", ".model", ".csv")


def _users_package(folder: Path, numbers: list[int], mode: str = "bulk", **names: str) -> Path:
    rows = "".join(user_row(n, given_name=names.get(f"u{n:02d}")) for n in numbers)
    manifest = f"propertyName,value\noneroster.version,1.1\nfile.orgs,bulk\nfile.users,{mode}\n"
    return write_package(folder, {"manifest.csv": manifest, "orgs.csv": ORGS, "users.csv": USERS_HEADER + rows})


def _given_names(database: Path) -> set[str]:
    return {row[0] for row in query(database, "select given_name from raw_oneroster.users")}


def test_each_warehouse_file_has_its_own_dlt_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "warehouses"
    first, second = folder / "first.duckdb", folder / "second.duckdb"

    # a load into `first` dies inside dlt's load step: its package is left pending
    def crash(self, *args, **kwargs):
        raise RuntimeError("power cut")

    with monkeypatch.context() as patch:
        patch.setattr(dlt.Pipeline, "load", crash)
        crashed = load_package(_users_package(tmp_path / "a", [1, 2], u01="Leaky"), "demo-unified", first)
    assert crashed.status == "failed"
    assert pipelines_dir_for(first) == folder / ".first.duckdb.dlt"
    assert (folder / ".first.duckdb.dlt" / "rollcall_oneroster").is_dir()

    # the next load in the same folder, into another file, sees none of it
    other = load_package(_users_package(tmp_path / "b", [3, 4], u03="Bea", u04="Cy"), "demo-unified", second)
    assert other.status == "succeeded"
    assert _given_names(second) == {"Bea", "Cy"}
    assert (folder / ".second.duckdb.dlt").is_dir()
    assert not (folder / ".dlt_pipelines").exists()

    # the same drop into `first` again: the pending package is aborted, not replayed
    again = load_package(_users_package(tmp_path / "a", [1, 2], u01="Leaky"), "demo-unified", first)
    assert again.status == "succeeded"
    assert query(first, "select count(*), count(distinct _load_id) from raw_oneroster.users") == [(2, 1)]
    assert query(first, "select distinct _load_id from raw_oneroster.users") == [(again.load_id,)]
    assert _given_names(second) == {"Bea", "Cy"}


def test_no_row_data_stays_in_the_dlt_folder(tmp_path: Path) -> None:
    database = tmp_path / "w.duckdb"
    # OneRoster rows (SQL models), then tombstones (arrow -> parquet), then SIS exports (parquet)
    load_package(_users_package(tmp_path / "b1", [1, 2, 3, 4, 5], u05="Zebediah"), "demo-unified", database)
    second = load_package(_users_package(tmp_path / "b2", [1, 2, 3, 4]), "demo-unified", database, force=True)
    assert next(f for f in second.files if f.entity == "users").rows_tombstoned == 1
    sis = load_package(SEED_002, "demo-unified", database)
    assert all(f.status == "loaded" for f in sis.files)

    leftovers = [p for p in pipelines_dir_for(database).rglob("*") if p.is_file()]
    assert leftovers  # dlt's state and schemas stay
    assert not [p for p in leftovers if p.name.endswith(ROW_DATA_SUFFIXES)]
    for path in leftovers:
        data = path.read_bytes()
        for value in (b"Zebediah", b"Reyes", b"309482094", b"u05"):
            assert value not in data, (path, value)
