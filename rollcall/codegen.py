"""Generate the OneRoster staging YAML from the field table and the staging SQL.

``seeds/oneroster_fields.csv`` holds each field's description, PII class, requiredness and
enumeration. This module writes, from it:

* ``_oneroster__sources.yml`` — every raw table and column, documented and PII-tagged;
* ``_oneroster__models.yml`` — every staging model and column, with primary-key tests,
  ``not_null`` for required fields and ``accepted_values`` for enumerations;
* ``_sis__sources.yml`` and ``_messaging__sources.yml`` — every raw column of those mapped
  sources, PII-tagged from ``config/formats`` (``pii:`` of each column).

Staging columns are traced to raw columns by reading ``macro('raw_column') ... as staged``
in each staging model. Run ``python -m rollcall.codegen`` after changing either; a test
fails while the committed YAML is out of date.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

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


# Mapped sources whose raw tables are documented from config/formats (the others by hand)
MAPPED_SOURCES = {
    "sis": (
        "SIS exports in the SchoolMessenger layouts (config/formats/schoolmessenger.yml), landed by"
        " `rollcall load` with lineage. Values as sent (trimmed); dates converted to ISO text by the loader;"
        " phone columns come with `<column>_digits` and `<column>_is_valid` (phonenumbers)."
    ),
    "messaging": "Contact preferences recorded by messaging systems (config/formats/messaging.yml).",
}
MAPPED_LINEAGE_DOCS = {
    "_district_id": RAW_LINEAGE_DOCS["_district_id"],
    "_source_file": RAW_LINEAGE_DOCS["_source_file"],
    "_file_sha256": RAW_LINEAGE_DOCS["_file_sha256"],
    "_format": "Format (config/formats) the file was read as.",
    "_load_id": RAW_LINEAGE_DOCS["_load_id"],
    "_row_number": RAW_LINEAGE_DOCS["_row_number"],
    "_loaded_at": RAW_LINEAGE_DOCS["_loaded_at"],
}


def _mapped_columns(formats) -> list[tuple[str, str, str | None]]:
    """(column, description, PII class) of one raw table fed by ``formats``, in landed order."""
    columns: dict[str, tuple[str, str | None]] = {}
    for fmt in formats:
        by_name = {c.name: c for c in fmt.columns}
        for name in fmt.landed_columns():
            if name in columns:
                continue
            base = by_name.get(name.removesuffix("_digits").removesuffix("_is_valid"))
            if name in by_name:
                doc, pii = f"{', '.join(repr(h) for h in by_name[name].headers)} column as sent.", by_name[name].pii
            elif base is not None and name.endswith("_digits"):
                doc, pii = f"{base.name} as digits (phonenumbers, E.164 without +); null when unreadable.", base.pii
            elif base is not None:
                doc, pii = f"Whether {base.name} is a valid phone number (phonenumbers).", None
            elif fmt.repeating is not None and name == fmt.repeating.json_column:
                members = ", ".join(c.name for c in fmt.repeating.columns) or "value"
                doc, pii = f"The repeated {fmt.repeating.name} columns as a JSON list ({members}).", "direct"
            else:
                doc, pii = f"Derived by the loader ({fmt.name}).", None
            columns[name] = (doc, pii)
    rows = [(name, doc, pii) for name, (doc, pii) in columns.items()]
    rows.append(("_extras", "Columns the file had beyond the format, as a JSON object (null when none).", "direct"))
    return rows + [(name, doc, None) for name, doc in MAPPED_LINEAGE_DOCS.items()]


def mapped_sources_yaml(source: str) -> str:
    """The sources YAML of a mapped source: every raw table and column, PII-tagged from the format config."""
    from loaders.mapped.formats import load_catalog

    lines = [
        "# Generated by `python -m rollcall.codegen` from config/formats. Do not edit.",
        "version: 2",
        "",
        "sources:",
        f"  - name: raw_{source}",
        f"    description: {_quote(MAPPED_SOURCES[source])}",
        f"    schema: raw_{source}",
        "    tables:",
    ]
    for table, formats in load_catalog(None).raw_tables().items():
        if formats[0].source != source:
            continue
        titles = "; ".join(f"{f.title} ({f.name})" for f in formats)
        lines += [
            f"      - name: {table.split('.', 1)[1]}",
            f"        description: {_quote(f'Rows as landed, one per record per loaded file: {titles}.')}",
            "        columns:",
        ]
        for name, doc, pii in _mapped_columns(formats):
            lines += [f"          - name: {name}", f"            description: {_quote(doc)}"]
            if pii:
                lines += [f"            meta: {{pii: {pii}}}"]
            if name == "_row_number":
                lines += ["            data_type: bigint"]
    return "\n".join(lines) + "\n"


def outputs() -> dict[Path, str]:
    mapped = {
        PROJECT_ROOT / "models" / "staging" / source / f"_{source}__sources.yml": mapped_sources_yaml(source)
        for source in MAPPED_SOURCES
    }
    return {SOURCES_YML: sources_yaml(), MODELS_YML: models_yaml(), **mapped}


def main() -> int:
    for path, text in outputs().items():
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(PROJECT_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
