"""Where rollcall keeps things. One environment variable moves the warehouse."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATABASE = "warehouse/rollcall.duckdb"


def database_path() -> Path:
    """The DuckDB file: ``$ROLLCALL_DUCKDB_PATH`` or ``warehouse/rollcall.duckdb`` (project-relative)."""
    path = Path(os.environ.get("ROLLCALL_DUCKDB_PATH", DEFAULT_DATABASE))
    return path if path.is_absolute() else PROJECT_ROOT / path
