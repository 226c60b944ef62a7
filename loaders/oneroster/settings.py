"""The OneRoster field table, read once from ``seeds/oneroster_fields.csv``.

The same CSV is a dbt seed (documented in the warehouse) and drives the loader: which files
are recognised, which columns are required, which header aliases are accepted and which
columns are never landed (``secret``).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from loaders.raw_tables import EXTRAS_COLUMN as EXTRAS_COLUMN  # re-exported beside the lineage columns
from rollcall.settings import FIELD_TABLE_PATH

# Lineage columns added to every landed row, in table order.
LINEAGE_COLUMNS = (
    "_district_id",
    "_source_file",
    "_file_sha256",
    "_file_mode",  # bulk | delta (manifest, else inferred)
    "_change_kind",  # file_row | bulk_tombstone (a record missing from a newer bulk file)
    "_load_id",
    "_row_number",  # record position in the file (header = 1); negative for bulk tombstones
    "_loaded_at",
)
FILE_ROW, BULK_TOMBSTONE = "file_row", "bulk_tombstone"


def snake_case(name: str) -> str:
    """``academicSessions`` -> ``academic_sessions``; ``sourcedId`` -> ``sourced_id``."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


@dataclass(frozen=True)
class Field:
    """One column of one OneRoster(+) file."""

    file_name: str
    name: str
    order: int
    versions: tuple[str, ...]  # OneRoster versions that define the field
    required_in: tuple[str, ...]  # versions in which the field must be present
    data_type: str
    enumeration: tuple[str, ...]
    is_list: bool
    aliases: tuple[str, ...]
    references: str | None  # file whose sourcedId an id_ref field points at
    pii: str | None
    description: str

    @property
    def is_required(self) -> bool:
        """Required in OneRoster 1.1."""
        return "1.1" in self.required_in

    def required_for(self, version: str) -> bool:
        return version in self.required_in

    @property
    def column(self) -> str:
        """Column name in the raw table."""
        return snake_case(self.name)

    @property
    def is_secret(self) -> bool:
        """Secrets (passwords) are dropped by the loader and never stored."""
        return self.data_type == "secret"


@dataclass(frozen=True)
class FileSpec:
    """A OneRoster(+) file: its canonical name and ordered fields."""

    name: str
    fields: tuple[Field, ...]

    @property
    def table(self) -> str:
        """Raw table name (``academicSessions`` -> ``academic_sessions``)."""
        return snake_case(self.name)

    @property
    def landed_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if not f.is_secret)

    def lookup(self) -> dict[str, Field]:
        """Case-insensitive header name or alias -> field."""
        names: dict[str, Field] = {}
        for field in self.fields:
            for key in (field.name, *field.aliases):
                names[key.strip().lower()] = field
        return names


@cache
def file_specs() -> dict[str, FileSpec]:
    """All known files keyed by lower-case canonical name (``academicsessions``)."""
    by_file: dict[str, list[Field]] = {}
    with FIELD_TABLE_PATH.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            by_file.setdefault(row["file_name"], []).append(
                Field(
                    file_name=row["file_name"],
                    name=row["field_name"],
                    order=int(row["field_order"]),
                    versions=tuple(row["versions"].split("|")),
                    required_in=tuple(v for v in row["required_in"].split("|") if v),
                    data_type=row["data_type"],
                    enumeration=tuple(v for v in row["enumeration"].split("|") if v),
                    is_list=row["is_list"] == "true",
                    aliases=tuple(v for v in row["aliases"].split("|") if v),
                    references=row["references"] or None,
                    pii=row["pii"] or None,
                    description=row["description"],
                )
            )
    return {
        name.lower(): FileSpec(name, tuple(sorted(fields, key=lambda f: f.order))) for name, fields in by_file.items()
    }


# Extra file-name spellings seen in the wild, lower-case, without ``.csv``.
FILE_NAME_ALIASES = {
    "calendars": "calendar",
    "absencecode": "absencecodes",
    "attendances": "attendance",
    "studentattendance": "attendance",  # SIS daily attendance exports (see docs/oneroster-plus.md)
    "academicsession": "academicsessions",
}


def spec_for_file_name(file_name: str) -> FileSpec | None:
    """Match a file name (any case, any folder) to its spec, or ``None`` if unknown."""
    stem = Path(file_name).name.lower()
    if not stem.endswith(".csv"):
        return None
    stem = stem[: -len(".csv")]
    stem = FILE_NAME_ALIASES.get(stem, stem)
    return file_specs().get(stem)
