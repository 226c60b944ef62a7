"""Column-mapping configs for CSV exports that are not OneRoster (``config/formats/*.yml``).

Each YAML file describes one source system (``source`` → raw schema ``raw_<source>``) and its
file layouts (``formats``). A format names the raw table it lands in, how each canonical column
may be spelt in a header, which columns are required, typed (date, timestamp, phone, email) or
point at a school, the repeated column groups ("Guardian 1 …", "Period 3") and values derived
from headers or the file name. A district's own spellings are added with an override file
(``rollcall load --mapping FILE``) using the same keys.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fnmatch import fnmatch
from functools import cache
from pathlib import Path

import yaml

from loaders.secrets import secret_positions
from rollcall.settings import FORMATS_DIR

COLUMN_TYPES = ("text", "date", "timestamp", "phone", "email")
FORMAT_KINDS = ("snapshot", "events")
REFERENCE_KINDS = ("school",)


class FormatConfigError(Exception):
    """A format config (or a district's override file) is malformed; the message says where."""


def normalize_header(name: str) -> str:
    """Header spelling used for matching: lower case, no ``TABLE.`` prefix, letters and digits only.

    ``"School ID#"`` → ``schoolid``; ``"STUDENTS.STUDENT_NUMBER"`` → ``studentnumber``.
    """
    text = name.strip().lstrip("\ufeff").lower()
    text = re.sub(r"^[a-z_][a-z0-9_]*\.(?=.)", "", text)
    return re.sub(r"[^a-z0-9]", "", text)


@dataclass(frozen=True)
class Column:
    name: str
    headers: tuple[str, ...]
    required: bool = False
    type: str = "text"
    references: str | None = None
    pii: str | None = None
    description: str = ""  # for the generated source YAML (rollcall/codegen.py)

    @property
    def normalized_headers(self) -> tuple[str, ...]:
        return tuple(normalize_header(h) for h in (*self.headers, self.name))


@dataclass(frozen=True)
class Repeating:
    """A group of columns repeated with a number: ``Guardian 1 First Name``, ``Period 3``."""

    name: str
    pattern: re.Pattern[str]  # on the normalized header; group 1 = the number, group 2 = the member
    columns: tuple[Column, ...] = ()
    value_only: bool = False  # "Period 3" columns: the number is the member, the cell the value
    description: str = ""

    @property
    def json_column(self) -> str:
        return f"{self.name}_json"


@dataclass(frozen=True)
class Derivation:
    """A value set from a header only one layout has, or from the file name (first rule wins)."""

    column: str
    rules: tuple[tuple[str, str, str], ...]  # (header | file_name, normalized header or regex, value)


@dataclass(frozen=True)
class Format:
    name: str
    source: str
    table: str
    title: str
    kind: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    date_formats: tuple[str, ...]
    signature: tuple[tuple[str, ...], ...] = ()  # every entry: one of these headers must be present
    file_names: tuple[str, ...] = ()  # glob hints that break ties between layouts
    repeating: Repeating | None = None
    derive: tuple[Derivation, ...] = ()
    district_id_columns: tuple[str, ...] = ()
    district_name_columns: tuple[str, ...] = ()
    config_file: str = ""
    description: str = ""  # of the raw table's rows
    source_description: str = ""  # of the raw schema (the config file's top-level description)

    @property
    def schema(self) -> str:
        return f"raw_{self.source}"

    @property
    def qualified_table(self) -> str:
        return f"{self.schema}.{self.table}"

    def landed_columns(self) -> list[str]:
        """Data columns of the raw table, in order (lineage columns are added by the loader)."""
        names: list[str] = []
        for column in self.columns:
            names.append(column.name)
            if column.type == "phone":
                names += [f"{column.name}_digits", f"{column.name}_is_valid"]
        names += [d.column for d in self.derive]
        if self.repeating:
            names.append(self.repeating.json_column)
        return names

    def matches_file_name(self, file_name: str) -> bool:
        base = Path(file_name).name.lower()
        return any(fnmatch(base, pattern.lower()) for pattern in self.file_names)


def _as_tuple(value) -> tuple:
    if value is None:
        return ()
    return tuple(value) if isinstance(value, list | tuple) else (value,)


def _column(raw: dict, where: str) -> Column:
    if not isinstance(raw, dict) or "name" not in raw:
        raise FormatConfigError(f"{where}: every column needs a name")
    column_type = raw.get("type", "text")
    if column_type not in COLUMN_TYPES:
        raise FormatConfigError(f"{where}: column {raw['name']!r} has unknown type {column_type!r}")
    references = raw.get("references")
    if references is not None and references not in REFERENCE_KINDS:
        raise FormatConfigError(f"{where}: column {raw['name']!r} references unknown kind {references!r}")
    return Column(
        name=str(raw["name"]),
        headers=tuple(str(h) for h in _as_tuple(raw.get("headers"))),
        required=bool(raw.get("required", False)),
        type=column_type,
        references=references,
        pii=raw.get("pii"),
        description=str(raw.get("description", "")),
    )


def _merge_columns(base: list[dict], override: list[dict]) -> list[dict]:
    """Override columns by name: extra header spellings are added first, other keys replaced."""
    merged = {c["name"]: dict(c) for c in base}
    for column in override:
        current = merged.setdefault(column["name"], {"name": column["name"]})
        for key, value in column.items():
            if key == "headers":
                current["headers"] = [*_as_tuple(value), *_as_tuple(current.get("headers"))]
            else:
                current[key] = value
    return list(merged.values())


def _build(raw: dict, document: dict, config_file: str) -> Format:
    where = f"{config_file}: format {raw.get('name', '?')!r}"
    for key in ("name", "table", "columns"):
        if key not in raw:
            raise FormatConfigError(f"{where}: missing {key!r}")
    kind = raw.get("kind", "snapshot")
    if kind not in FORMAT_KINDS:
        raise FormatConfigError(f"{where}: kind must be one of {', '.join(FORMAT_KINDS)}")
    columns = tuple(_column(c, where) for c in raw["columns"])
    names = [c.name for c in columns]
    key = tuple(raw.get("key") or ())
    repeating = None
    if raw.get("repeating"):
        group = raw["repeating"]
        repeating = Repeating(
            name=group["name"],
            pattern=re.compile(group["group_pattern"]),
            columns=tuple(_column(c, f"{where} repeating") for c in group.get("columns", ())),
            value_only=bool(group.get("value_only", False)),
            description=str(group.get("description", "")),
        )
        names.append(repeating.json_column)
    unknown_key = [k for k in key if k not in names and not (repeating and k == repeating.name)]
    if unknown_key:
        raise FormatConfigError(f"{where}: key column(s) not defined: {', '.join(unknown_key)}")
    derive = []
    for column, rules in (raw.get("derive") or {}).items():
        parsed = []
        for rule in rules:
            if "header" in rule:
                parsed.append(("header", normalize_header(rule["header"]), str(rule["value"])))
            elif "file_name" in rule:
                parsed.append(("file_name", rule["file_name"], str(rule["value"])))
            else:
                raise FormatConfigError(f"{where}: derive rule for {column!r} needs header or file_name")
        derive.append(Derivation(column, tuple(parsed)))
    district = document.get("district") or {}
    return Format(
        name=raw["name"],
        source=raw.get("source", document.get("source", "")),
        table=raw["table"],
        title=raw.get("title", raw["name"]),
        kind=kind,
        columns=columns,
        key=tuple(k if not (repeating and k == repeating.name) else repeating.json_column for k in key),
        date_formats=tuple(raw.get("date_formats") or document.get("date_formats") or ("%Y-%m-%d",)),
        signature=tuple(
            tuple(normalize_header(h) for h in str(entry).split("|")) for entry in raw.get("signature", ())
        ),
        file_names=tuple(raw.get("file_names") or ()),
        repeating=repeating,
        derive=tuple(derive),
        district_id_columns=tuple(district.get("id_columns") or ()),
        district_name_columns=tuple(district.get("name_columns") or ()),
        config_file=config_file,
        description=str(raw.get("description", "")),
        source_description=str(document.get("description", "")),
    )


def _read_yaml(path: Path) -> dict:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise FormatConfigError(f"{path}: cannot read format config ({exc})") from exc
    if not isinstance(document, dict):
        raise FormatConfigError(f"{path}: expected a mapping at the top level")
    return document


@dataclass
class FormatCatalog:
    """Every known format, plus a district's file-name → format assignments."""

    formats: dict[str, Format]
    assignments: dict[str, str] = field(default_factory=dict)  # file name glob -> format name

    def assigned(self, file_name: str) -> Format | None:
        base = Path(file_name).name.lower()
        for pattern, name in self.assignments.items():
            if fnmatch(base, pattern.lower()) or fnmatch(file_name.lower(), pattern.lower()):
                return self.formats[name]
        return None

    def raw_tables(self) -> dict[str, list[Format]]:
        tables: dict[str, list[Format]] = {}
        for fmt in self.formats.values():
            tables.setdefault(fmt.qualified_table, []).append(fmt)
        return tables


@cache
def _default_documents(folder: Path) -> tuple[tuple[str, dict], ...]:
    return tuple((p.name, _read_yaml(p)) for p in sorted(folder.glob("*.yml")))


def load_catalog(override: Path | None = None, folder: Path = FORMATS_DIR) -> FormatCatalog:
    """The shipped formats, with a district override file merged in when given.

    An override file has ``formats:`` entries (a known ``name`` merges into that format, a new
    name adds a format; ``source``/``table`` required for new ones), an optional top-level
    ``date_formats`` - the district's, tried first in every format - and ``files:`` mapping
    file-name globs to format names, which beats header detection.
    """
    raw_formats: dict[str, tuple[dict, dict, str]] = {}
    for file_name, document in _default_documents(folder):
        for raw in document.get("formats") or ():
            raw_formats[raw["name"]] = (dict(raw), document, file_name)
    assignments: dict[str, str] = {}
    if override is not None:
        document = _read_yaml(override)
        for raw in document.get("formats") or ():
            if "name" not in raw:
                raise FormatConfigError(f"{override}: every format needs a name")
            if raw["name"] in raw_formats:
                base, base_document, _ = raw_formats[raw["name"]]
                merged = {**base, **{k: v for k, v in raw.items() if k != "columns"}}
                merged["columns"] = _merge_columns(base["columns"], raw.get("columns") or [])
                raw_formats[raw["name"]] = (merged, base_document, override.name)
            else:
                if "source" not in raw and "source" not in document:
                    raise FormatConfigError(f"{override}: new format {raw['name']!r} needs a source")
                raw_formats[raw["name"]] = (dict(raw), document, override.name)
        assignments = {str(k): str(v) for k, v in (document.get("files") or {}).items()}
        own_dates = {str(r.get("name")) for r in document.get("formats") or () if "date_formats" in r}
        _apply_district_dates(raw_formats, document, own_dates)
    formats = {name: _build(raw, document, file_name) for name, (raw, document, file_name) in raw_formats.items()}
    unknown = sorted(set(assignments.values()) - set(formats))
    if unknown:
        raise FormatConfigError(f"{override}: files: assigns unknown format(s) {', '.join(unknown)}")
    return FormatCatalog(formats, assignments)


def _apply_district_dates(raw_formats: dict[str, tuple[dict, dict, str]], override: dict, own_dates: set[str]) -> None:
    """An override's top-level ``date_formats`` are the district's: tried first in every layout
    (a layout the override names with ``date_formats`` of its own keeps exactly those)."""
    district = [str(f) for f in _as_tuple(override.get("date_formats"))]
    if not district:
        return
    for name, (raw, document, file_name) in raw_formats.items():
        if name in own_dates:
            continue
        own = [str(f) for f in _as_tuple(raw.get("date_formats") or document.get("date_formats") or ("%Y-%m-%d",))]
        raw_formats[name] = ({**raw, "date_formats": list(dict.fromkeys(district + own))}, document, file_name)


@dataclass(frozen=True)
class HeaderMatch:
    """How one file's header maps onto a format."""

    format: Format
    columns: dict[str, int]  # canonical column -> position
    groups: dict[int, dict[str, int]]  # repeating group number -> member -> position
    extras: dict[str, int]  # unmapped header -> position
    missing_required: tuple[str, ...]

    @property
    def score(self) -> int:
        return len(self.columns) + sum(len(g) for g in self.groups.values())


def match_header(fmt: Format, header: list[str]) -> HeaderMatch:
    normalized = [normalize_header(h) for h in header]
    columns: dict[str, int] = {}
    groups: dict[int, dict[str, int]] = {}
    extras: dict[str, int] = {}
    lookup: dict[str, str] = {}
    for column in fmt.columns:
        for spelling in column.normalized_headers:
            lookup.setdefault(spelling, column.name)
    secrets = set(secret_positions(header))  # never mapped, never kept in extras
    for position, name in enumerate(normalized):
        if position in secrets:
            continue
        canonical = lookup.get(name)
        if canonical is not None and canonical not in columns:
            columns[canonical] = position
            continue
        if fmt.repeating is not None:
            hit = fmt.repeating.pattern.match(name)
            if hit:
                number = int(hit.group(1))
                if fmt.repeating.value_only:
                    groups.setdefault(number, {})["value"] = position
                    continue
                member_name = hit.group(2) if hit.lastindex and hit.lastindex >= 2 else ""
                member = next(
                    (c.name for c in fmt.repeating.columns if member_name in c.normalized_headers),
                    None,
                )
                if member is not None:
                    groups.setdefault(number, {})[member] = position
                    continue
        extras[header[position].strip() or f"column_{position + 1}"] = position
    missing = tuple(c.name for c in fmt.columns if c.required and c.name not in columns)
    present = set(normalized)
    if any(not present.intersection(alternatives) for alternatives in fmt.signature):
        missing = (*missing, "signature")
    return HeaderMatch(fmt, columns, groups, extras, missing)


# A layout is recognised when every required column is present and the match is confident: at
# least MIN_HEADER_SHARE of the header's named columns are the layout's, or at least
# MIN_LAYOUT_SHARE of the layout's columns are in the header (vendor files with many extra columns).
MIN_HEADER_SHARE = 0.6
MIN_LAYOUT_SHARE = 0.7


def header_share(match: HeaderMatch, header: list[str]) -> float:
    named = sum(1 for h in header if h.strip()) or 1
    return match.score / named


def layout_share(match: HeaderMatch) -> float:
    return len(match.columns) / max(len(match.format.columns), 1)


def is_confident(match: HeaderMatch, header: list[str]) -> bool:
    return not match.missing_required and (
        header_share(match, header) >= MIN_HEADER_SHARE or layout_share(match) >= MIN_LAYOUT_SHARE
    )


def closest_layout(catalog: FormatCatalog, header: list[str]) -> str:
    """``closest: X (7/12 columns)`` for a header no layout fits, or an empty string."""
    matches = [match_header(f, header) for f in catalog.formats.values()]
    best = max(matches, key=lambda m: (layout_share(m), m.score), default=None)
    if best is None or not best.columns:
        return ""
    return f"closest: {best.format.name} ({len(best.columns)}/{len(best.format.columns)} columns)"


def detect_format(catalog: FormatCatalog, file_name: str, header: list[str]) -> tuple[HeaderMatch | None, str]:
    """The format whose required columns the header has, confidently (see ``is_confident``; most
    columns mapped wins; a file-name hint breaks ties); ``(None, reason)`` when none or several
    fit equally well."""
    assigned = catalog.assigned(file_name)
    if assigned is not None:
        match = match_header(assigned, header)
        if match.missing_required:
            missing = ", ".join(m for m in match.missing_required if m != "signature")
            return None, f"assigned format {assigned.name} but the header lacks required column(s): {missing}"
        return match, ""
    candidates = [m for m in (match_header(f, header) for f in catalog.formats.values()) if is_confident(m, header)]
    if not candidates:
        closest = closest_layout(catalog, header)
        return None, "unknown layout" + (f", {closest}" if closest else "") + (
            " (OneRoster file names, or a layout in config/formats)"
        )
    best = max(c.score for c in candidates)
    top = [c for c in candidates if c.score == best]
    if len(top) > 1:
        hinted = [c for c in top if c.format.matches_file_name(file_name)]
        if len(hinted) == 1:
            return hinted[0], ""
        names = ", ".join(sorted(c.format.name for c in top))
        return None, f"header fits several formats equally ({names}); name the format with --mapping files:"
    return top[0], ""
