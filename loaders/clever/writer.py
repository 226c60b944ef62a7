"""Write mapped rows as a OneRoster 1.1 CSV package (the files ``load_package`` reads).

Columns are the OneRoster 1.1 columns of the field table (``seeds/oneroster_fields.csv``) minus
secret ones: the package has no password column at all. The manifest marks each written file
``bulk`` (a full pull: records missing from it are tombstoned) or ``delta`` (upserted, nothing
removed) and every other file ``absent``. Bulk rows leave ``status`` and ``dateLastModified``
blank, delta rows fill both, as OneRoster 1.1 asks.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from pathlib import Path

from loaders.clever.mapping import Row
from loaders.oneroster.settings import file_specs

ONEROSTER_VERSION = "1.1"
FILE_MODES = ("bulk", "delta")


def oneroster_columns(file_name: str) -> list[str]:
    """The field table's OneRoster 1.1 columns of a file, in order, without secret columns."""
    spec = file_specs()[file_name.lower()]
    return [f.name for f in spec.landed_fields if ONEROSTER_VERSION in f.versions]


def manifest_files() -> list[str]:
    """Every file a OneRoster 1.1 (+ OneRoster+) manifest lists."""
    return [
        spec.name
        for key, spec in file_specs().items()
        if key != "manifest" and any(ONEROSTER_VERSION in f.versions for f in spec.fields)
    ]


def apply_mode(rows: list[Row], mode: str, fallback_modified: str = "") -> list[Row]:
    """Set ``status``/``dateLastModified`` for the file mode. A delta row Clever gives no
    modification time takes the file's latest one, else ``fallback_modified`` (the district's
    last sync), so the same data always gives the same file."""
    if mode not in FILE_MODES:
        raise ValueError(f"file mode must be one of {FILE_MODES}, not {mode!r}")
    file_latest = max((row.get("dateLastModified", "") for row in rows), default="") or fallback_modified
    for row in rows:
        if mode == "bulk":
            row["status"], row["dateLastModified"] = "", ""
        else:
            row["status"] = "active"
            row["dateLastModified"] = row.get("dateLastModified") or file_latest
    return rows


def write_csv(path: Path, columns: list[str], rows: list[Row]) -> None:
    """One CSV file, UTF-8, LF line ends, every value quoted only where needed; unknown keys are an error."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, restval="", extrasaction="raise", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def write_package(
    folder: Path,
    tables: Mapping[str, list[Row]],
    mode: str,
    *,
    system_code: str,
    fallback_modified: str = "",
) -> list[Path]:
    """Write ``manifest.csv`` and one ``<file>.csv`` per table into ``folder``; returns the paths."""
    paths = []
    for name, rows in tables.items():
        path = folder / f"{name}.csv"
        write_csv(path, oneroster_columns(name), apply_mode(rows, mode, fallback_modified))
        paths.append(path)
    manifest = [
        {"propertyName": "manifest.version", "value": "1.0"},
        {"propertyName": "oneroster.version", "value": ONEROSTER_VERSION},
        *({"propertyName": f"file.{name}", "value": mode if name in tables else "absent"} for name in manifest_files()),
        {"propertyName": "source.systemName", "value": "Clever"},
        {"propertyName": "source.systemCode", "value": system_code},
    ]
    manifest_path = folder / "manifest.csv"
    write_csv(manifest_path, ["propertyName", "value"], manifest)
    return [manifest_path, *paths]
