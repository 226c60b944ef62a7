"""Fixtures shared by the test modules (helpers live in support.py)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    """A DuckDB file path in a fresh temporary folder (not created yet)."""
    return tmp_path / "warehouse" / "test.duckdb"
