"""Where rollcall finds its dbt project, seeds and config, and keeps its warehouse: the one paths module.

In a checkout the project is the repository itself. Installed from a wheel (``pip install .``),
the dbt project, seeds and config ship inside the package (``rollcall/project``) and the
warehouse, dbt's ``target/`` and ``logs/`` live under the folder rollcall is started from.
One environment variable moves the warehouse.
"""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent
_CHECKOUT = _PACKAGE_DIR.parent
IS_CHECKOUT = (_CHECKOUT / "dbt_project.yml").is_file()
# the dbt project (dbt_project.yml, profiles.yml, models, macros, seeds, config)
PROJECT_ROOT = _CHECKOUT if IS_CHECKOUT else _PACKAGE_DIR / "project"
# where relative paths (the warehouse, folder sources) and dbt's artifacts resolve
WORK_DIR = _CHECKOUT if IS_CHECKOUT else Path.cwd()

SEEDS_DIR = PROJECT_ROOT / "seeds"
CONFIG_DIR = PROJECT_ROOT / "config"
REGISTRY_PATH = SEEDS_DIR / "districts.csv"
FIELD_TABLE_PATH = SEEDS_DIR / "oneroster_fields.csv"
GRADE_XWALK_PATH = SEEDS_DIR / "xwalk_grade_levels.csv"
FORMATS_DIR = CONFIG_DIR / "formats"
DISTRICTS_CONFIG_DIR = CONFIG_DIR / "districts"

DEFAULT_DATABASE = "warehouse/rollcall.duckdb"


def database_path() -> Path:
    """The DuckDB file: ``$ROLLCALL_DUCKDB_PATH`` or ``warehouse/rollcall.duckdb``, relative to WORK_DIR."""
    path = Path(os.environ.get("ROLLCALL_DUCKDB_PATH", DEFAULT_DATABASE))
    return path if path.is_absolute() else WORK_DIR / path


def duckdb_budget(database: str | Path) -> dict[str, str]:
    """DuckDB's memory budget for a process writing ``database``, the same as the build's
    (profiles.yml): ``$ROLLCALL_DUCKDB_MEMORY_LIMIT`` (default 6GB), spilling beyond it to
    ``$ROLLCALL_DUCKDB_TEMP_DIRECTORY`` (default: the warehouse path plus ``.tmp``)."""
    return {
        "memory_limit": os.environ.get("ROLLCALL_DUCKDB_MEMORY_LIMIT", "6GB"),
        "temp_directory": os.environ.get("ROLLCALL_DUCKDB_TEMP_DIRECTORY", f"{database}.tmp"),
    }


def work_path(path: str | Path) -> Path:
    """A path as given, relative ones against WORK_DIR."""
    path = Path(path)
    return path if path.is_absolute() else WORK_DIR / path
