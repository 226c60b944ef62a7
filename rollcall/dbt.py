"""Run dbt against this project with its bundled profile."""

from __future__ import annotations

import os
from pathlib import Path

from rollcall.settings import PROJECT_ROOT, database_path


def run_dbt(args: list[str]) -> int:
    """Invoke dbt in-process; returns 0 on success, 1 otherwise."""
    from dbt.cli.main import dbtRunner

    os.environ["ROLLCALL_DUCKDB_PATH"] = str(database_path())  # absolute: dbt may run from any folder
    Path(os.environ["ROLLCALL_DUCKDB_PATH"]).parent.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    result = dbtRunner().invoke(
        [*args, "--project-dir", str(PROJECT_ROOT), "--profiles-dir", str(PROJECT_ROOT / "profiles")]
    )
    return 0 if result.success else 1
