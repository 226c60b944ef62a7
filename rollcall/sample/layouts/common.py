"""What the SIS and multi-source layouts share: drop files, planted rows, the truth folder."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from rollcall.sample.writers import write_rows

TRUTH_FOLDER = "truth"
PLANTED_ROW_FIELDS = ("file", "line", "field", "problem", "expected", "detail")
FILES_FIELDS = ("file", "format", "rows", "planted_rows")


@dataclass(frozen=True)
class SourcesSummary:
    """What ``generate_sis_district`` / ``generate_multi_source_district`` wrote."""

    layout: str  # "sis" or "multi-source"
    path: Path  # the drop folder
    truth_path: Path  # the truth folder (next to the drop)
    row_counts: dict[str, int]  # file path relative to the drop -> data rows (header excluded)
    truth_counts: dict[str, int]  # truth file name -> data rows
    seed: int
    details: dict[str, str] = field(default_factory=dict)  # layout options used


@dataclass
class DropFile:
    """One CSV file of a drop; ``style`` as in ``writers.write_rows`` (``sis``, ``quoted``, ``plain``)."""

    name: str  # path relative to the drop
    format: str  # the config/formats format it is meant for
    header: tuple[str, ...]
    rows: list[list[str]]
    style: str


@dataclass
class Planted:
    file: str
    row: list[str]  # the row object inside the file's rows (found by identity)
    field: str
    problem: str
    expected: str
    detail: str


def truth_dir(root: Path, truth: str | Path | None) -> Path:
    """``truth`` or ``<root>/../truth``; never inside the drop."""
    path = Path(truth) if truth is not None else root.parent / TRUTH_FOLDER
    resolved_root, resolved = root.resolve(), path.resolve()
    if resolved == resolved_root or resolved_root in resolved.parents:
        raise ValueError(f"the truth folder {path} must be outside the drop {root}")
    return path


def write_drop(root: Path, files: Iterable[DropFile]) -> dict[str, int]:
    counts = {}
    for item in files:
        write_rows(root / item.name, item.header, item.rows, item.style)
        counts[item.name] = len(item.rows)
    return counts


def write_planted(truth: Path, files: list[DropFile], planted: list[Planted]) -> dict[str, int]:
    """truth/planted_rows.csv (file, physical line, field, problem, expected, detail) and truth/files.csv."""
    by_name = {f.name: f for f in files}
    positions: dict[str, dict[int, int]] = {}
    rows = []
    for item in planted:
        if item.file not in positions:
            positions[item.file] = {id(r): i for i, r in enumerate(by_name[item.file].rows)}
        line = positions[item.file][id(item.row)] + 2  # line 1 is the header; no value spans lines
        rows.append([item.file, line, item.field, item.problem, item.expected, item.detail])
    rows.sort(key=lambda r: (r[0], r[1], r[2]))
    write_rows(truth / "planted_rows.csv", PLANTED_ROW_FIELDS, rows)
    quarantined = {f.name: len({r[1] for r in rows if r[0] == f.name and r[4] == "quarantine"}) for f in files}
    listing = [[f.name, f.format, str(len(f.rows)), str(quarantined[f.name])] for f in files]
    write_rows(truth / "files.csv", FILES_FIELDS, listing)
    return {"planted_rows.csv": len(rows), "files.csv": len(listing)}
