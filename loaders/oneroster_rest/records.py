"""OneRoster REST JSON -> the columns of the OneRoster CSV binding.

A REST record carries references as GUIDRef objects (``{"sourcedId", "type", "href"}``) and
list fields as JSON arrays; the CSV binding has ``*SourcedId(s)`` columns and comma lists.
``flatten_record`` maps one to the other with the field table (``seeds/oneroster_fields.csv``),
so a pulled record lands in exactly the columns a CSV export of the same record would:

* ``school: {sourcedId: s1}`` -> ``schoolSourcedId = s1``; ``orgs: [{..a}, {..b}]`` ->
  ``orgSourcedIds = a,b`` (the JSON key plus ``SourcedId``/``SourcedIds`` names the column);
* ``grades: ["09", "10"]`` -> ``09,10``; booleans -> ``true``/``false``;
* ``userIds: [{type: SIS, identifier: 7}]`` -> ``{SIS:7}`` (the CSV's ``{type:id}`` list form);
* ``password`` is dropped; ``children`` (the inverse of ``parent``) is not kept; any other
  unknown key (``metadata``, vendor extensions) becomes an extra column, which the CSV loader
  keeps in ``_extras``.

``RecordWriter`` streams flattened records of one entity to a CSV file of the package.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

from loaders.oneroster.settings import Field, FileSpec, file_specs
from loaders.secrets import without_secrets

# Response keys that carry each entity's records. The spec's collection key comes first; the
# singular key is what single-record endpoints (and some vendors' collections) use.
ENVELOPE_KEYS: dict[str, tuple[str, ...]] = {
    "orgs": ("orgs", "org"),
    "academicSessions": ("academicSessions", "academicSession"),
    "courses": ("courses", "course"),
    "classes": ("classes", "class"),
    "users": ("users", "user"),
    "enrollments": ("enrollments", "enrollment"),
    "demographics": ("demographics", "demographic"),
}
DROPPED_KEYS = frozenset({"children"})  # derivable from the children's parent references


class EnvelopeError(ValueError):
    """A response body that does not carry the entity's records under any known key."""


def envelope_records(body: Any, entity: str) -> list[dict[str, Any]]:
    """The records of ``entity`` in a response body: ``{"users": [...]}`` (or ``{"user": {...}}``).

    Raises ``EnvelopeError`` when the body is not an object or carries none of the known keys:
    a page without its records must never be read as the end of the collection.
    """
    if not isinstance(body, dict):
        kind = "null" if body is None else type(body).__name__
        raise EnvelopeError(f"the response is a JSON {kind}, not an object with {entity!r}")
    keys = ENVELOPE_KEYS[entity]
    by_lower = {str(key).lower(): key for key in body}
    for key in keys:
        actual = key if key in body else by_lower.get(key.lower())
        if actual is None:
            continue
        records = body[actual]
        if records is None:
            return []
        if isinstance(records, dict):
            records = [records]
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise EnvelopeError(f"{actual!r} in the response is not a list of records")
        return records
    found = ", ".join(sorted(map(str, body))[:8]) or "none"
    raise EnvelopeError(f"the response has no {keys[0]!r} list (keys found: {found})")


@cache
def _spec(entity: str) -> FileSpec:
    return file_specs()[entity.lower()]


@cache
def _key_map(entity: str) -> dict[str, Field | None]:
    """JSON key (lower case) -> field it fills; None for keys that are dropped (secrets)."""
    keys: dict[str, Field | None] = {}
    for field in _spec(entity).fields:
        if field.is_secret:
            keys[field.name.lower()] = None
            continue
        keys[field.name.lower()] = field
        if field.data_type == "id_ref":
            # schoolSourcedId <- school, termSourcedIds <- terms, agentSourcedIds <- agents
            stem = field.name[: -len("SourcedIds")] + "s" if field.is_list else field.name[: -len("SourcedId")]
            keys.setdefault(stem.lower(), field)
    return keys


def csv_columns(entity: str) -> list[str]:
    """The CSV header the field table gives ``entity`` in OneRoster 1.1 (secrets left out)."""
    return [f.name for f in _spec(entity).landed_fields if "1.1" in f.versions]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def _ref_id(value: Any) -> str:
    """The sourcedId of a GUIDRef (or a bare id string)."""
    if isinstance(value, dict):
        return _text(value.get("sourcedId", value.get("sourcedid", "")))
    return _text(value)


def _user_id(value: Any) -> str:
    """``{"type": "SIS", "identifier": "7"}`` -> ``{SIS:7}``; strings already in that form pass."""
    if isinstance(value, dict):
        identifier = value.get("identifier", value.get("id", ""))
        return f"{{{_text(value.get('type', ''))}:{_text(identifier)}}}"
    return _text(value)


def _field_value(field: Field, value: Any) -> str:
    if field.name == "userIds":
        items = value if isinstance(value, list) else [value]
        return ",".join(_user_id(item) for item in items if item not in (None, ""))
    if field.data_type == "id_ref":
        items = value if isinstance(value, list) else [value]
        return ",".join(i for i in (_ref_id(item) for item in items) if i)
    if isinstance(value, list):
        return ",".join(_text(item) for item in value if item is not None)
    return _text(value)


def flatten_record(entity: str, record: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """One REST record -> (field name -> CSV text, extra key -> CSV text)."""
    keys = _key_map(entity)
    values: dict[str, str] = {}
    extras: dict[str, str] = {}
    for key, value in without_secrets(record).items():  # never read, at any depth (loaders.secrets)
        lower = str(key).lower()
        if lower in keys:
            field = keys[lower]
            if field is not None and (field.name not in values or not values[field.name]):
                values[field.name] = _field_value(field, value)
        elif lower not in DROPPED_KEYS:
            extras[str(key)] = _text(value)
    return values, extras


class RecordWriter:
    """Collects one entity's flattened records and writes them as ``<entity>.csv``.

    Records are spooled to a JSON-lines file first, so the header can include every extra key
    any record carried without holding the records in memory.
    """

    def __init__(self, folder: Path, entity: str) -> None:
        self.entity = entity
        self.path = folder / f"{entity}.csv"
        self._spool_path = folder / f".{entity}.jsonl"
        self._spool = self._spool_path.open("w", encoding="utf-8")
        self._columns = csv_columns(entity)
        self._known = set(self._columns)
        self._extra_columns: dict[str, None] = {}
        self.rows = 0

    def add(self, fields: dict[str, str], extras: dict[str, str]) -> None:
        for name in fields:
            if name not in self._known:  # a 1.2-only field the server sent
                self._known.add(name)
                self._columns.append(name)
        for name in extras:
            self._extra_columns.setdefault(name)
        self._spool.write(json.dumps([fields, extras], ensure_ascii=False) + "\n")
        self.rows += 1

    def discard(self) -> None:
        """Close and remove the spool file (the pull failed)."""
        self._spool.close()
        self._spool_path.unlink(missing_ok=True)

    def close(self) -> Path:
        """Write the CSV (header + rows) and remove the spool file."""
        self._spool.close()
        extra_columns = [name for name in self._extra_columns if name.lower() not in {c.lower() for c in self._columns}]
        with self.path.open("w", newline="", encoding="utf-8") as out, self._spool_path.open(encoding="utf-8") as spool:
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow([*self._columns, *extra_columns])
            for line in spool:
                fields, extras = json.loads(line)
                writer.writerow([fields.get(c, "") for c in self._columns] + [extras.get(c, "") for c in extra_columns])
        self._spool_path.unlink()
        return self.path


def write_records(folder: Path, entity: str, records: Iterable[dict[str, Any]]) -> Path:
    """Flatten and write ``records`` of ``entity`` as a CSV file in ``folder`` (a convenience
    for callers that already hold the records)."""
    writer = RecordWriter(folder, entity)
    for record in records:
        writer.add(*flatten_record(entity, record))
    return writer.close()
