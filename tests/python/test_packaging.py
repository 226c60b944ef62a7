"""A wheel of rollcall works without the repository: the dbt project, seeds and config ship inside
it, and generate + load run from the installed package in any folder.

The wheel is unpacked ahead of the repository on the module path (its dependencies come from
this environment): the same files ``pip install .`` puts in site-packages.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from rollcall.settings import PROJECT_ROOT

PATHS = ("PROJECT_ROOT", "SEEDS_DIR", "REGISTRY_PATH", "FIELD_TABLE_PATH", "GRADE_XWALK_PATH", "FORMATS_DIR")
SHOW_PATHS = f"""
import json, rollcall, loaders.registry, rollcall.settings as s
print(json.dumps({{"package": rollcall.__file__, "checkout": s.IS_CHECKOUT, "work": str(s.WORK_DIR),
    "registry": str(loaders.registry.REGISTRY_PATH),
    **{{name: str(getattr(s, name)) for name in {PATHS!r}}}}}))
"""


def _uv() -> str:
    uv = PROJECT_ROOT / ".tools" / "bin" / "uv"
    return str(uv) if uv.exists() else shutil.which("uv") or pytest.fail("uv not found: run `make setup`")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built once and unpacked: the folder that would be site-packages."""
    root = tmp_path_factory.mktemp("wheel")
    built = subprocess.run(
        [_uv(), "build", "--wheel", "--out-dir", str(root / "dist"), str(PROJECT_ROOT)],
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = (root / "dist").glob("rollcall-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(root / "site")
    return root / "site"


def _run(site: Path, work: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(site)}
    env.pop("ROLLCALL_DUCKDB_PATH", None)
    # -P: the working folder is not on the module path; the wheel comes before the checkout
    return subprocess.run([sys.executable, "-P", *args], cwd=work, env=env, capture_output=True, text=True)


@pytest.mark.dbt
def test_the_wheel_finds_its_project_inside_the_package(installed: Path, tmp_path: Path) -> None:
    shown = _run(installed, tmp_path, "-c", SHOW_PATHS)
    assert shown.returncode == 0, shown.stderr[-3000:]
    paths = json.loads(shown.stdout)
    assert paths["package"].startswith(str(installed)) and paths["checkout"] is False
    assert paths["work"] == str(tmp_path)
    for name in (*PATHS, "registry"):
        assert paths[name].startswith(str(installed / "rollcall" / "project")), name
        assert Path(paths[name]).exists(), name
    project = installed / "rollcall" / "project"
    for part in ("dbt_project.yml", "profiles.yml", "models/marts", "macros", "tests/dbt", "config/districts"):
        assert (project / part).exists(), part


@pytest.mark.dbt
def test_generate_and_load_run_from_the_installed_package(installed: Path, tmp_path: Path) -> None:
    generated = _run(installed, tmp_path, "-m", "rollcall.cli", "generate", "drop", "--students", "20", "--days", "3")
    assert generated.returncode == 0, generated.stderr[-3000:]
    loaded = _run(installed, tmp_path, "-m", "rollcall.cli", "load", "drop", "--district", "demo-unified")
    assert loaded.returncode == 0, loaded.stdout[-3000:] + loaded.stderr[-3000:]
    assert "demo-unified: succeeded" in loaded.stdout
    assert (tmp_path / "warehouse" / "rollcall.duckdb").is_file()  # under the folder it ran in
    assert not (installed / "rollcall" / "project" / "warehouse").exists()
