"""Read one mapped CSV export (SIS, PowerSchool, ClassLink, Star, opt-outs) into an arrow table.

DuckDB parses every value as text; rows it cannot place (wrong field count, broken quoting)
are quarantined as for OneRoster files. Then the format's rules run over the parsed rows, and
a row breaking one is quarantined with the reason, never landed wrong:

* a required value is empty;
* a date or timestamp does not parse in any of the format's ``date_formats`` (landed as ISO text);
* a school id is not a school of the district (a row whose values shifted one column lands its
  section or staff id in the school column);
* rows share a key but disagree (one teacher id on two different people): every such row;
* a repeated group ("Guardian 2 …") has values but not its id.

Phone columns are normalised with ``phonenumbers``: ``<col>_digits`` (10 digits, formatting
stripped) and ``<col>_is_valid`` (invalid numbers are flagged, not dropped).
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import numpy as np
import phonenumbers
import pyarrow as pa
import pyarrow.compute as pc

from loaders.audit import FileResult, record_quarantined
from loaders.mapped.formats import Column, Format, HeaderMatch, normalize_header
from loaders.oneroster.csv_reader import check_record_count, read_csv_with_rejects, row_numbers
from loaders.raw_tables import EXTRAS_COLUMN, append_lineage, extras_select, sql_string, unique_suffix
from loaders.secrets import dropped_detail, kept_line, secret_names
from loaders.text_input import FileRefused, count_records

MAPPED_LINEAGE_COLUMNS = (
    "_district_id",
    "_source_file",
    "_file_sha256",
    "_format",
    "_load_id",
    "_row_number",
    "_loaded_at",
)
PHONE_REGION = "US"
MIN_YEAR, MAX_YEAR = 1900, 2100


@dataclass(frozen=True)
class MappedLineage:
    district_id: str
    source_file: str
    file_sha256: str
    format_name: str
    load_id: str
    loaded_at: datetime


@dataclass(frozen=True)
class Problem:
    row_number: int
    error_type: str
    reason: str


def _header_of(match: HeaderMatch, header: list[str], column: str) -> str:
    position = match.columns.get(column)
    return header[position].strip() if position is not None else column


def _parse_expression(value_sql: str, formats: tuple[str, ...], kind: str) -> str:
    """ISO text of the first format that parses ``value_sql`` to a plausible year, else null."""
    output = "%Y-%m-%d" if kind == "date" else "%Y-%m-%d %H:%M:%S"
    attempts = [
        f"case when year(try_strptime({value_sql}, {sql_string(f)})) between {MIN_YEAR} and {MAX_YEAR}"
        f" then try_strptime({value_sql}, {sql_string(f)}) end"
        for f in formats
    ]
    parsed = attempts[0] if len(attempts) == 1 else f"coalesce({', '.join(attempts)})"
    return f"strftime({parsed}, {sql_string(output)})"


def _digits_and_validity(values: pa.Array) -> tuple[pa.Array, pa.Array]:
    """10-digit national number and validity per phone value (each distinct value parsed once)."""
    encoded = pc.dictionary_encode(values)
    digits, valid = [], []
    for text in encoded.dictionary.to_pylist():
        try:
            number = phonenumbers.parse(text, PHONE_REGION)
        except phonenumbers.NumberParseException:
            digits.append(None)
            valid.append(False)
            continue
        national = str(number.national_number)
        digits.append(national if number.country_code == 1 and len(national) == 10 else None)
        valid.append(phonenumbers.is_valid_number(number))
    indices = encoded.indices
    digit_array = pa.array(digits, type=pa.string()).take(indices)
    valid_array = pa.array(valid, type=pa.bool_()).take(indices)
    return digit_array, valid_array


def _phone_fields(text: str | None) -> tuple[str | None, bool | None]:
    if text is None:
        return None, None
    digits, valid = _digits_and_validity(pa.array([text], type=pa.string()))
    return digits[0].as_py(), valid[0].as_py()


def _csv_line(values: list[str | None]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(["" if v is None else v for v in values])
    return buffer.getvalue()


def _keys_of_lines(match: HeaderMatch, lines: list[str | None]) -> set[tuple]:
    """The format key (trimmed values, empty as None) of each raw line that holds one."""
    positions = [match.columns.get(k) for k in match.format.key]
    if not positions or None in positions:
        return set()
    keys = set()
    for row in csv.reader(line for line in lines if line):
        if len(row) > max(positions):
            keys.add(tuple(row[p].strip() or None for p in positions))
    return keys


def read_mapped_csv(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    header: list[str],
    match: HeaderMatch,
    lineage: MappedLineage,
    result: FileResult,
    schools: set[str] | None,
    quarantined_keys: set[tuple] | None = None,
) -> pa.Table:
    """Parse ``path`` (prepared: ``loaders.text_input.prepare_text``) under ``match.format``;
    quarantine unplaceable rows; return landed rows.

    ``schools`` is the district's known school ids for ``references: school`` columns (None:
    unknown, the check is skipped with a warning). ``quarantined_keys`` collects the format key
    of every quarantined row that has one. Raises ``FileRefused``.
    """
    secrets = secret_names(header)
    if secrets:
        result.warn("secret_dropped", dropped_detail(secrets), len(secrets))
    width = len(header)
    parsed, rejected = read_csv_with_rejects(con, path, width, "select * from {reader}")
    swallowed = check_record_count(count_records(path, width), parsed.num_rows + len(rejected))

    numbers = row_numbers(parsed.num_rows, np.array([r[0] for r in rejected], dtype=np.int64))
    parsed = parsed.append_column("_row_number", pa.array(numbers, type=pa.int64()))
    quarantine: list[list] = [
        [line, error_type.lower().replace(" ", "_"), message, raw_line]
        for line, error_type, message, raw_line in rejected
    ]
    quarantine += [
        [line, "swallowed_record", f"line {line} lies inside a quoted value opened earlier (unterminated quote)", text]
        for line, text in swallowed
    ]

    table, problems = _map_rows(con, parsed, header, match, result, schools)
    if problems:
        bad_rows = {p.row_number for p in problems}
        reasons: dict[int, list[Problem]] = {}
        for problem in problems:
            reasons.setdefault(problem.row_number, []).append(problem)
        raw_values = parsed.filter(pc.is_in(parsed.column("_row_number"), pa.array(sorted(bad_rows)))).to_pylist()
        by_row = {row["_row_number"]: [row[f"c{i}"] for i in range(width)] for row in raw_values}
        for row_number in sorted(bad_rows):
            found = reasons[row_number]
            quarantine.append(
                [
                    row_number,
                    found[0].error_type,
                    "; ".join(dict.fromkeys(p.reason for p in found)),
                    _csv_line(by_row[row_number]),
                ]
            )
        keep = pc.invert(pc.is_in(table.column("_row_number"), pa.array(sorted(bad_rows), type=pa.int64())))
        table = table.filter(keep)
    if quarantined_keys is not None:
        quarantined_keys.update(_keys_of_lines(match, [raw_line for *_, raw_line in quarantine]))
    if quarantine:
        kept = [(row, error_type, reason, kept_line(header, line)[0]) for row, error_type, reason, line in quarantine]
        record_quarantined(con, lineage, sorted(kept))
    result.rows_read = parsed.num_rows + len(rejected) + len(swallowed)
    result.rows_quarantined = len(quarantine)
    return _with_lineage(table, lineage)


def _map_rows(
    con: duckdb.DuckDBPyConnection,
    parsed: pa.Table,
    header: list[str],
    match: HeaderMatch,
    result: FileResult,
    schools: set[str] | None,
) -> tuple[pa.Table, list[Problem]]:
    """Canonical columns from the parsed text, and the rule problems per row."""
    fmt = match.format
    view = f"rollcall_mapped_{unique_suffix()}"
    con.register(view, parsed)
    try:
        selects = ["_row_number"]
        for column in fmt.columns:
            position = match.columns.get(column.name)
            value = f"nullif(trim(c{position}), '')" if position is not None else "null::varchar"
            selects.append(f'{value} as "{column.name}"')
        selects.append(extras_select(match.extras, blank="nullif(trim({}), '') is null"))
        for number, members in sorted(match.groups.items()):
            for member, position in members.items():
                selects.append(f"nullif(trim(c{position}), '') as \"__g{number}__{member}\"")
        text = con.execute(f"select {', '.join(selects)} from {view}").to_arrow_table()
    finally:
        con.unregister(view)

    problems: list[Problem] = []
    if fmt.repeating is not None:
        text, group_problems = _repeating_json(text, match, header)
        problems += group_problems
    problems += _required_problems(text, match, header)
    text, typed_problems = _typed_columns(con, text, match, header, result)
    problems += typed_problems
    problems += _reference_problems(con, text, match, header, result, schools)
    problems += _conflict_problems(con, text, match, header)
    text = _phones(text, fmt.columns)
    text = _derived(text, fmt, header, result)
    if match.extras:
        names = list(match.extras)
        shown = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
        result.warn("extra_columns", f"{len(names)} column(s) kept in {EXTRAS_COLUMN}: {shown}", len(names))
    ordered = ["_row_number", *fmt.landed_columns(), EXTRAS_COLUMN]
    return text.select(ordered), problems


def _repeating_json(text: pa.Table, match: HeaderMatch, header: list[str]) -> tuple[pa.Table, list[Problem]]:
    """Fold "Guardian N …" / "Period N" columns into one JSON list column."""
    group = match.format.repeating
    assert group is not None
    numbers = sorted(match.groups)
    problems: list[Problem] = []
    member_columns = {c.name: c for c in group.columns}
    rows = text.select(["_row_number", *[f"__g{n}__{m}" for n in numbers for m in match.groups[n]]]).to_pylist()
    values: list[str | None] = []
    for row in rows:
        items = []
        for number in numbers:
            members = {m: row[f"__g{number}__{m}"] for m in match.groups[number]}
            if not any(v is not None for v in members.values()):
                continue
            if group.value_only:
                items.append({"number": number, "value": members["value"]})
                continue
            missing = [
                header[match.groups[number][m]].strip() if m in match.groups[number] else f"{group.name} {number} {m}"
                for m, c in member_columns.items()
                if c.required and members.get(m) is None
            ]
            if missing:
                problems.append(
                    Problem(
                        row["_row_number"], "incomplete_group", f"{', '.join(missing)} empty while group has values"
                    )
                )
            item: dict[str, object] = {"number": number}
            for member, column in member_columns.items():
                value = members.get(member)
                item[member] = value
                if column.type == "phone":
                    item[f"{member}_digits"], item[f"{member}_is_valid"] = _phone_fields(value)
            items.append(item)
        values.append(json.dumps(items) if items else None)
    keep = [name for name in text.column_names if not name.startswith("__g")]
    text = text.select(keep).append_column(group.json_column, pa.array(values, type=pa.string()))
    return text, problems


def _typed_columns(
    con: duckdb.DuckDBPyConnection, text: pa.Table, match: HeaderMatch, header: list[str], result: FileResult
) -> tuple[pa.Table, list[Problem]]:
    """Dates and timestamps to ISO text; values that parse in no accepted format are problems
    (their rows are quarantined), counted per column as an ``invalid_date`` warning."""
    fmt = match.format
    typed = [c for c in fmt.columns if c.type in ("date", "timestamp") and c.name in match.columns]
    if not typed or text.num_rows == 0:
        return text, []
    view = f"rollcall_typed_{unique_suffix()}"
    con.register(view, text)
    try:
        conversions = ", ".join(
            f'{_parse_expression(chr(34) + c.name + chr(34), fmt.date_formats, c.type)} as "{c.name}__iso"'
            for c in typed
        )
        converted = con.execute(f"select {conversions} from {view}").to_arrow_table()
    finally:
        con.unregister(view)
    problems = []
    readable = ", ".join(fmt.date_formats)
    for column in typed:
        original = text.column(column.name)
        iso = converted.column(f"{column.name}__iso")
        bad = pc.and_(pc.is_valid(original), pc.is_null(iso))
        count = pc.sum(bad).as_py() or 0
        if count:
            result.warn(
                "invalid_date",
                f"{_header_of(match, header, column.name)}: {count:,} value(s) in no accepted format ({readable}); "
                "rows quarantined",
                count,
            )
        for row_number, value in zip(
            text.column("_row_number").filter(bad).to_pylist(), original.filter(bad).to_pylist(), strict=True
        ):
            shown = "" if column.pii else f" {value!r}"
            problems.append(
                Problem(
                    row_number,
                    "invalid_date",
                    f"{_header_of(match, header, column.name)}{shown} is not a {column.type} in an accepted "
                    f"format ({readable})",
                )
            )
        text = text.set_column(text.column_names.index(column.name), column.name, iso)
    return text, problems


def _required_problems(text: pa.Table, match: HeaderMatch, header: list[str]) -> list[Problem]:
    problems = []
    for column in match.format.columns:
        if not column.required:
            continue
        empty = pc.is_null(text.column(column.name))
        for row_number in text.column("_row_number").filter(empty).to_pylist():
            problems.append(
                Problem(row_number, "required_value_missing", f"{_header_of(match, header, column.name)} is empty")
            )
    return problems


def _reference_problems(
    con: duckdb.DuckDBPyConnection,
    text: pa.Table,
    match: HeaderMatch,
    header: list[str],
    result: FileResult,
    schools: set[str] | None,
) -> list[Problem]:
    problems = []
    for column in match.format.columns:
        if column.references != "school" or column.name not in match.columns:
            continue
        if not schools:
            result.warn(
                "school_not_checked",
                f"{_header_of(match, header, column.name)} not checked: no student or staff file, and no orgs, "
                "known for this district yet",
            )
            continue
        values = text.column(column.name)
        unknown = pc.and_(pc.is_valid(values), pc.invert(pc.is_in(values, pa.array(sorted(schools)))))
        for row_number, value in zip(
            text.column("_row_number").filter(unknown).to_pylist(), values.filter(unknown).to_pylist(), strict=True
        ):
            problems.append(
                Problem(
                    row_number,
                    "unknown_school",
                    f"{_header_of(match, header, column.name)} {value!r} is not a school of this district "
                    "(values shifted a column?)",
                )
            )
    return problems


def _conflict_problems(
    con: duckdb.DuckDBPyConnection, text: pa.Table, match: HeaderMatch, header: list[str]
) -> list[Problem]:
    """Rows sharing the format's key but not their values: all of them (which one is right is unknowable)."""
    fmt = match.format
    if not fmt.key or text.num_rows == 0:
        return []
    key = [k for k in fmt.key if k in text.column_names]
    others = [c for c in text.column_names if c not in (*key, "_row_number", EXTRAS_COLUMN)]
    view = f"rollcall_conflicts_{unique_suffix()}"
    con.register(view, text)
    key_sql = ", ".join(f'"{k}"' for k in key)
    content = "md5(concat_ws('|', " + ", ".join(f"coalesce(\"{c}\"::varchar, '\\N')" for c in others) + "))"
    try:
        rows = con.execute(
            f"""with keyed as (
                    select _row_number, {key_sql}, {content if others else "''"} as content from {view}
                ),
                conflicts as (
                    select {key_sql}, list(_row_number order by _row_number) as rows
                    from keyed group by all having count(distinct content) > 1
                )
                select rows, [{", ".join(f'"{k}"::varchar' for k in key)}] from conflicts"""
        ).fetchall()
    finally:
        con.unregister(view)
    key_headers = [_header_of(match, header, k) for k in key]
    problems = []
    for conflicting, key_values in rows:
        shown = ", ".join(f"{h} {v!r}" for h, v in zip(key_headers, key_values, strict=True) if v is not None)
        listed = ", ".join(str(r) for r in conflicting)
        for row_number in conflicting:
            problems.append(
                Problem(
                    row_number,
                    "conflicting_duplicate",
                    f"{shown} appears on rows {listed} with different values; none of them is landed",
                )
            )
    return problems


def _phones(text: pa.Table, columns: tuple[Column, ...]) -> pa.Table:
    for column in columns:
        if column.type != "phone":
            continue
        values = text.column(column.name).combine_chunks()
        digits, valid = _digits_and_validity(values)
        valid = pc.if_else(pc.is_valid(values), valid, pa.nulls(len(values), pa.bool_()))
        text = text.append_column(f"{column.name}_digits", digits).append_column(f"{column.name}_is_valid", valid)
    return text


def _derived(text: pa.Table, fmt: Format, header: list[str], result: FileResult) -> pa.Table:
    present = {normalize_header(h) for h in header}
    for derivation in fmt.derive:
        value = None
        for kind, pattern, candidate in derivation.rules:
            if (kind == "header" and pattern in present) or (
                kind == "file_name" and re.search(pattern, Path(result.file_name).name.lower())
            ):
                value = candidate
                break
        if value is None:
            raise FileRefused(
                f"cannot tell the {derivation.column.replace('_', ' ')} from the columns or the file name"
            )
        text = text.append_column(derivation.column, pa.array([value] * text.num_rows, type=pa.string()))
    return text


def _with_lineage(table: pa.Table, lineage: MappedLineage) -> pa.Table:
    """Append the lineage columns (``loaders.raw_tables.append_lineage``)."""
    constants = {
        "_district_id": lineage.district_id,
        "_source_file": lineage.source_file,
        "_file_sha256": lineage.file_sha256,
        "_format": lineage.format_name,
        "_load_id": lineage.load_id,
    }
    numbers = table.column("_row_number")
    table = table.drop_columns(["_row_number"])
    return append_lineage(table, MAPPED_LINEAGE_COLUMNS, constants, numbers, lineage.loaded_at)


def raw_table_ddl(fmt: Format) -> str:
    """DDL of an empty raw table for ``fmt`` (models build before a district sends the file)."""
    data = ", ".join(
        f'"{name}" {"boolean" if name.endswith("_is_valid") else "varchar"}' for name in fmt.landed_columns()
    )
    return (
        f"create table if not exists {fmt.qualified_table} ({data}, {EXTRAS_COLUMN} varchar,"
        " _district_id varchar, _source_file varchar, _file_sha256 varchar, _format varchar,"
        " _load_id varchar, _row_number bigint, _loaded_at timestamp with time zone)"
    )
