"""Generate the staging YAML from the field table, the format configs and the staging SQL.

``seeds/oneroster_fields.csv`` holds each field's description, PII class, requiredness and
enumeration. This module writes, from it:

* ``_oneroster__sources.yml`` — every raw table and column, documented and PII-tagged;
* ``_oneroster__models.yml`` — every staging model and column, with primary-key tests,
  ``not_null`` for required fields and ``accepted_values`` for enumerations.

From each mapped-layout config (``config/formats/*.yml``: descriptions and PII classes of the
source, its tables and columns) it writes ``_<source>__sources.yml`` in ``models/staging/<source>/``:
every raw table with the columns the loader lands (phone digits and validity, derived values,
repeated groups as JSON) and the lineage columns.

Staging columns are traced to raw columns by reading ``macro('raw_column') ... as staged``
in each staging model. Run ``python -m rollcall.codegen`` after changing either; a test
fails while the committed YAML is out of date.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import NamedTuple

from loaders.mapped.formats import Column, Format, load_catalog
from loaders.mapped.reader import EXTRAS_COLUMN as MAPPED_EXTRAS_COLUMN
from loaders.mapped.reader import MAPPED_LINEAGE_COLUMNS
from loaders.oneroster.settings import EXTRAS_COLUMN, Field, FileSpec, file_specs
from rollcall.settings import PROJECT_ROOT

STAGING_DIR = PROJECT_ROOT / "models" / "staging" / "oneroster"
SOURCES_YML = STAGING_DIR / "_oneroster__sources.yml"
MODELS_YML = STAGING_DIR / "_oneroster__models.yml"

# Staging model name per OneRoster file (plural entity names).
STAGING_MODELS = {
    "manifest": "stg_oneroster__manifest_properties",
    "orgs": "stg_oneroster__orgs",
    "academicSessions": "stg_oneroster__academic_sessions",
    "courses": "stg_oneroster__courses",
    "classes": "stg_oneroster__classes",
    "users": "stg_oneroster__users",
    "enrollments": "stg_oneroster__enrollments",
    "demographics": "stg_oneroster__demographics",
    "resources": "stg_oneroster__resources",
    "classResources": "stg_oneroster__class_resources",
    "courseResources": "stg_oneroster__course_resources",
    "categories": "stg_oneroster__categories",
    "lineItems": "stg_oneroster__line_items",
    "results": "stg_oneroster__results",
    "absenceCodes": "stg_oneroster__absence_codes",
    "attendance": "stg_oneroster__attendance_records",
    "calendar": "stg_oneroster__calendar_days",
    "roles": "stg_oneroster__roles",
    "userProfiles": "stg_oneroster__user_profiles",
}

RAW_LINEAGE_DOCS = {
    EXTRAS_COLUMN: "Columns the file had beyond the OneRoster field table, as a JSON object (null when none).",
    "_district_id": "District the file was loaded for (district registry id).",
    "_source_file": "File name within the drop the row came from.",
    "_file_sha256": "SHA-256 of the source file.",
    "_load_id": "rollcall load that landed the row (audit.load_log).",
    "_row_number": "Position of the record in its file, counting the header as row 1.",
    "_loaded_at": "When the load started (UTC).",
}

# columns of free text that may carry anything a district sent (names, contacts): always PII
FREE_TEXT_PII = {EXTRAS_COLUMN: "direct", "extras": "direct"}

STAGING_COMMON_DOCS = {
    "district_id": "District the record belongs to (district registry id).",
    "record_status": "OneRoster status as sent (active / tobedeleted); null in bulk files.",
    "is_tombstoned": (
        "True when the record is deleted: marked tobedeleted (or the 1.0-era inactive) in a delta file,"
        " or missing from a newer bulk file. Marts leave tombstoned records out."
    ),
    "tombstoned_at": "When the record was tombstoned: the bulk load that no longer had it, else its dateLastModified.",
    "file_mode": "Mode of the file the row came from: bulk or delta (from the manifest, else inferred).",
    "last_modified_at": "dateLastModified as a UTC timestamp; null in bulk files.",
    "extras": RAW_LINEAGE_DOCS[EXTRAS_COLUMN],
    "source_file": RAW_LINEAGE_DOCS["_source_file"],
    "file_sha256": RAW_LINEAGE_DOCS["_file_sha256"],
    "load_id": RAW_LINEAGE_DOCS["_load_id"],
    "source_row_number": RAW_LINEAGE_DOCS["_row_number"],
    "loaded_at": RAW_LINEAGE_DOCS["_loaded_at"],
}

DERIVED_DOCS = {
    "is_daily_record": "True for a daily attendance record (no class); false for a period record.",
    "changed_at": (
        "When the record last changed: the start of the load that landed its current version, or of a later"
        " load whose bulk file no longer had it. Incremental models downstream pick up records changed since"
        " their last build."
    ),
    "built_at": "When this row was last written: the start of the build that (re)staged the record (UTC).",
    "previous_slices": (
        "The (student_id, attendance_date) pairs a correction moved the record away from, so incremental builds"
        " recompute the days it left; null for a record never moved."
    ),
}

_AS_PATTERN = re.compile(r"\bas\s+(\w+),?\s*$")
_RAW_PATTERN = re.compile(r"\(\s*'\"?(\w+)\"?'")


def staging_lineage(sql: str) -> dict[str, str]:
    """Map staged column -> raw column from the ``renamed`` CTE of a staging model."""
    renamed, *rest = re.split(r"\n\),?\n", sql.split("renamed as (", 1)[1], maxsplit=1)
    after = rest[0] if rest else ""
    mapping: dict[str, str] = {}
    chunk: list[str] = []
    for line in renamed.splitlines():
        if "oneroster_record_columns()" in line:
            mapping.update(
                {
                    "district_id": "_district_id",
                    "record_status": "status",
                    "is_tombstoned": "status",
                    "tombstoned_at": "status",
                    "last_modified_at": "date_last_modified",
                    "file_mode": "_file_mode",
                }
            )
            continue
        if "lineage_columns()" in line:
            mapping.update(
                {c: c for c in ("extras", "source_file", "file_sha256", "load_id", "source_row_number", "loaded_at")}
            )
            continue
        chunk.append(line)
        match = _AS_PATTERN.search(line.strip())
        if match:
            raw = _RAW_PATTERN.search("\n".join(chunk))
            mapping[match.group(1)] = raw.group(1) if raw else match.group(1)
            chunk = []
    # derived columns a later CTE adds (incremental bookkeeping such as previous_slices)
    for column in DERIVED_DOCS:
        if column not in mapping and re.search(rf"\bas\s+{column},?\s*$", after, re.MULTILINE):
            mapping[column] = column
    return mapping


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _meta(field: Field | None) -> list[str]:
    if field is not None and field.pii:
        return ["        meta:", f"          pii: {field.pii}"]
    return []


def sources_yaml() -> str:
    lines = [
        "# Generated by `python -m rollcall.codegen` from seeds/oneroster_fields.csv. Do not edit.",
        "version: 2",
        "",
        "sources:",
        "  - name: raw_oneroster",
        "    description: OneRoster 1.1 and OneRoster+ files landed by `rollcall load`,"
        " every version of every row, all values as text.",
        "    schema: raw_oneroster",
        "    tables:",
    ]
    for spec in file_specs().values():
        lines += [
            f"      - name: {spec.table}",
            f"        description: {_quote(f'Rows of {spec.name}.csv as landed, one row per record per loaded file.')}",
            "        columns:",
        ]
        for field in spec.landed_fields:
            lines += [f"          - name: {field.column}", f"            description: {_quote(field.description)}"]
            if field.pii:
                lines += ["            meta:", f"              pii: {field.pii}"]
        for column, doc in RAW_LINEAGE_DOCS.items():
            lines += [f"          - name: {column}", f"            description: {_quote(doc)}"]
            if column in FREE_TEXT_PII:
                lines += ["            meta:", f"              pii: {FREE_TEXT_PII[column]}"]
    return "\n".join(lines) + "\n"


def _staging_key(file_name: str) -> tuple[str, str]:
    """(staging model, key column) of a OneRoster file, for reference tests."""
    model = STAGING_MODELS[file_name]
    sql = (STAGING_DIR / f"{model}.sql").read_text(encoding="utf-8")
    return model, next(c for c, r in staging_lineage(sql).items() if r == "sourced_id")


def _required_in_current_versions(field: Field, spec: FileSpec) -> bool:
    """Required in every current version (1.1, 1.2) that has the file — so a 1.2 users.csv,
    which has no role column, is not blamed for lacking a 1.1 requirement."""
    file_versions = {v for f in spec.fields for v in f.versions} & {"1.1", "1.2"}
    return bool(file_versions) and file_versions <= set(field.required_in)


def _tests_for(field: Field | None, column: str, is_key: bool, spec: FileSpec) -> list[str]:
    tests: list[str] = []
    if is_key:
        tests.append("          - not_null")
    elif field is not None and field.name != "sourcedId" and _required_in_current_versions(field, spec):
        tests += [
            "          - not_null:",
            "              config:",
            "                severity: warn",
        ]
    if field is not None and field.enumeration and field.name != "status":
        values = list(field.enumeration)  # staging returns the canonical spelling (canonical_enum)
        tests += [
            "          - accepted_values:",
            "              arguments:",
            f"                values: [{', '.join(_quote(v) for v in values)}]",
            "              config:",
            "                severity: warn",
        ]
    return tests


# filled in when the test is compiled (macros/generic_tests/get_where_subquery.sql)
INCREMENTAL_TEST_SCOPE = '"__rows_of_this_build__"'


def _scoped_to_this_build(lines: list[str]) -> list[str]:
    """The data-test lines of an incremental model, each test limited (``where``) to the rows the
    build wrote when `rollcall build` planned it for what loads changed (docs/performance.md)."""
    out: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        match = re.match(r"^(\s+)- (\w+)(:?)$", line)
        if not match or line.lstrip().startswith("- name:"):
            out.append(line)
            index += 1
            continue
        indent, name, _ = match.groups()
        body_indent = indent + "    "
        body = []
        index += 1
        while index < len(lines) and lines[index].startswith(body_indent):
            body.append(lines[index])
            index += 1
        config_at = next((i for i, b in enumerate(body) if b.strip() == "config:"), None)
        if config_at is None:
            body += [f"{body_indent}config:", f"{body_indent}  where: {INCREMENTAL_TEST_SCOPE}"]
        else:
            body.insert(config_at + 1, f"{body_indent}  where: {INCREMENTAL_TEST_SCOPE}")
        out += [f"{indent}- {name}:", *body]
    return out


def models_yaml() -> str:
    specs = file_specs()
    lines = [
        "# Generated by `python -m rollcall.codegen` from seeds/oneroster_fields.csv and the staging SQL. Do not edit.",
        "version: 2",
        "",
        "models:",
    ]
    for file_name, model in STAGING_MODELS.items():
        sql = (STAGING_DIR / f"{model}.sql").read_text(encoding="utf-8")
        block = _model_yaml(file_name, model, sql, specs[file_name.lower()])
        lines += _scoped_to_this_build(block) if "materialized='incremental'" in sql else block
    return "\n".join(lines) + "\n"


def _model_yaml(file_name: str, model: str, sql: str, spec: FileSpec) -> list[str]:
    """The documented, tested YAML block of one staging model."""
    lineage = staging_lineage(sql)
    by_column = {f.column: f for f in spec.fields}
    key = "property_name" if file_name == "manifest" else next(c for c, r in lineage.items() if r == "sourced_id")
    lines: list[str] = []
    lines += [
        f"  - name: {model}",
        "    description: "
        + _quote(
            f"Current version of each {spec.name}.csv record per district (latest landed row wins), typed and renamed."
        ),
        "    data_tests:",
        "      - unique_combination_of_columns:",
        "          arguments:",
        f"            combination: [district_id, {key}]",
    ]
    if file_name != "manifest":
        lines += ["      - status_matches_file_mode:", "          config:", "            severity: warn"]
    lines += ["    columns:"]
    for column in lineage:
        field = None if column in DERIVED_DOCS else by_column.get(lineage[column])
        if column in STAGING_COMMON_DOCS:
            doc = STAGING_COMMON_DOCS[column]
        elif column in DERIVED_DOCS:
            doc = DERIVED_DOCS[column]
        elif field is not None:
            doc = f"{field.description} (from {spec.name}.{field.name})"
        else:
            raise ValueError(f"{model}.{column}: no field-table entry for raw column {lineage[column]!r}")
        lines += [f"      - name: {column}", f"        description: {_quote(doc)}"]
        lines += (
            _meta(field)
            if column not in FREE_TEXT_PII
            else ["        meta:", f"          pii: {FREE_TEXT_PII[column]}"]
        )
        tests = _tests_for(field, column, is_key=column in (key, "district_id"), spec=spec)
        if field is not None and field.references and not field.is_list and field.data_type != "secret":
            target_model, target_key = _staging_key(field.references)
            tests += [
                "          - references_resolve:",
                "              arguments:",
                f"                to: ref('{target_model}')",
                f"                field: {target_key}",
                "              config:",
                "                severity: warn",
            ]
        if tests:
            lines += ["        data_tests:", *tests]
    return lines


MAPPED_LINEAGE_DOCS = {
    MAPPED_EXTRAS_COLUMN: "Columns the file had beyond the format, as a JSON object (null when none).",
    **{column: doc for column, doc in RAW_LINEAGE_DOCS.items() if column != EXTRAS_COLUMN},
    "_format": "Format (config/formats) the file was read as.",
}
MAPPED_DATA_TYPES = {"_row_number": "bigint", "_loaded_at": "timestamp with time zone"}
PII_RANK = {None: 0, "indirect": 1, "direct": 2}


class RawColumn(NamedTuple):
    name: str
    description: str
    pii: str | None = None
    data_type: str | None = None


def _phone_subject(column: Column) -> str:
    """``Home phone as sent.`` -> ``Home phone`` (else the column name)."""
    text = column.description.removesuffix(" as sent.")
    return text if text != column.description else column.name


def _format_columns(fmt: Format) -> list[RawColumn]:
    """Every data column ``fmt`` lands, in order (lineage columns aside)."""
    where = f"config/formats/{fmt.config_file}: format {fmt.name}"
    out = []
    for column in fmt.columns:
        if not column.description:
            raise ValueError(f"{where}: column {column.name} has no description")
        out.append(RawColumn(column.name, column.description, column.pii))
        if column.type == "phone":
            subject = _phone_subject(column)
            digits = f"{subject} as 10 digits (null when it is not a valid number)."
            out.append(RawColumn(f"{column.name}_digits", digits, column.pii))
            valid = f"Whether the {subject[0].lower()}{subject[1:]} is a valid number."
            out.append(RawColumn(f"{column.name}_is_valid", valid, data_type="boolean"))
    for derivation in fmt.derive:
        values = sorted({value for *_, value in derivation.rules})
        listed = ", ".join(values[:-1]) + f" or {values[-1]}" if len(values) > 1 else values[0]
        out.append(RawColumn(derivation.column, f"Set by the loader from the file's columns or name: {listed}."))
    if fmt.repeating is not None:
        group = fmt.repeating
        if not group.description:
            raise ValueError(f"{where}: repeating group {group.name} has no description")
        pii = max((c.pii for c in group.columns), key=PII_RANK.__getitem__, default=None)
        out.append(RawColumn(group.json_column, group.description, pii))
    return out


def _table_columns(formats: list[Format]) -> list[RawColumn]:
    """The raw table's columns: every format's data columns (the first format's wording), then lineage."""
    columns: dict[str, RawColumn] = {}
    for fmt in formats:
        for column in _format_columns(fmt):
            if columns.setdefault(column.name, column).pii != column.pii:
                raise ValueError(f"{fmt.qualified_table}.{column.name}: formats disagree on its PII class")
    lineage = [
        RawColumn(c, MAPPED_LINEAGE_DOCS[c], "direct" if c == MAPPED_EXTRAS_COLUMN else None, MAPPED_DATA_TYPES.get(c))
        for c in (MAPPED_EXTRAS_COLUMN, *MAPPED_LINEAGE_COLUMNS)
    ]
    return [*columns.values(), *lineage]


def mapped_sources() -> dict[str, list[Format]]:
    """Formats per source (``sis``, ``star``, ...), in config order."""
    by_source: dict[str, list[Format]] = {}
    for fmt in load_catalog().formats.values():
        by_source.setdefault(fmt.source, []).append(fmt)
    return by_source


def mapped_sources_yaml(source: str, formats: list[Format]) -> str:
    """The dbt source YAML of one mapped-layout source."""
    config_files = ", ".join(sorted({f"config/formats/{f.config_file}" for f in formats}))
    description = f"{formats[0].source_description} Format config: {config_files}."
    lines = [
        f"# Generated by `python -m rollcall.codegen` from {config_files}. Do not edit.",
        "version: 2",
        "",
        "sources:",
        f"  - name: raw_{source}",
        f"    description: {_quote(description)}",
        f"    schema: raw_{source}",
        "    tables:",
    ]
    tables: dict[str, list[Format]] = {}
    for fmt in formats:
        tables.setdefault(fmt.table, []).append(fmt)
    for table, table_formats in tables.items():
        description = next((f.description for f in table_formats if f.description), "")
        if not description:
            raise ValueError(f"raw_{source}.{table}: no format landing in it has a description")
        lines += [f"      - name: {table}", f"        description: {_quote(description)}", "        columns:"]
        for column in _table_columns(table_formats):
            lines += [f"          - name: {column.name}", f"            description: {_quote(column.description)}"]
            if column.data_type:
                lines.append(f"            data_type: {column.data_type}")
            if column.pii:
                lines.append(f"            meta: {{pii: {column.pii}}}")
    return "\n".join(lines) + "\n"


def mapped_sources_path(source: str) -> Path:
    return PROJECT_ROOT / "models" / "staging" / source / f"_{source}__sources.yml"


def outputs() -> dict[Path, str]:
    generated = {SOURCES_YML: sources_yaml(), MODELS_YML: models_yaml()}
    for source, formats in mapped_sources().items():
        generated[mapped_sources_path(source)] = mapped_sources_yaml(source, formats)
    return generated


def main() -> int:
    try:
        generated = outputs()
    except ValueError as exc:  # a config or field-table entry without what the YAML needs
        print(f"codegen: {exc}", file=sys.stderr)
        return 1
    for path, text in generated.items():
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(PROJECT_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
