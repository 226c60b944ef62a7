"""Read one OneRoster(+) CSV file with DuckDB's CSV reader, and build the query that lands it.

* The header is read by name: case-insensitive, known aliases accepted, unknown columns kept
  in a JSON ``_extras`` column, secret columns (passwords) never read into the result.
* Every value is read as text; typing happens in dbt staging.
* A row that cannot be placed (wrong field count, broken quoting, invalid UTF-8) is
  quarantined with its row number and reason; the rest of the file still lands.

The file is never held in memory: ``scan_oneroster_csv`` parses it once to count rows, find the
rows to quarantine and count tolerated deviations, and returns a ``CsvScan`` whose
``landing_query`` parses it again as a ``SELECT`` that dlt runs as ``INSERT ... SELECT`` in the
warehouse, with the lineage columns, so every row is written once.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from loaders.audit import AUDIT_SCHEMA, FileResult, record_quarantined
from loaders.oneroster.settings import FILE_ROW, LINEAGE_COLUMNS, FileSpec
from loaders.raw_tables import EXTRAS_COLUMN, append_lineage, extras_select, sql_string, unique_suffix
from loaders.secrets import dropped_detail, is_secret_column, kept_line
from loaders.text_input import FileRefused, RecordCount, count_records, read_header

__all__ = ["FileRefused", "read_header"]  # re-exported: where the readers' callers have always found them


@dataclass(frozen=True)
class Lineage:
    district_id: str
    source_file: str
    file_sha256: str
    load_id: str
    loaded_at: datetime
    file_mode: str | None = None  # None: infer from the rows (status filled -> delta)


@dataclass(frozen=True)
class HeaderMap:
    """Which file column feeds which field; positions are 0-based."""

    fields: dict[str, int]  # field name -> column position
    extras: dict[str, int]  # unknown header name -> column position
    width: int
    has_secret: bool
    trailing_empty: int = 0  # empty names at the end of the header (spreadsheet exports)
    names: tuple[str, ...] = ()  # the header as read


def is_ascii(path: Path) -> bool:
    """True when every byte after a UTF-8 byte-order mark is ASCII: such a file cannot hold
    invalid UTF-8, whichever of its columns DuckDB reads."""
    with path.open("rb") as handle:
        if handle.read(3) != b"\xef\xbb\xbf":
            handle.seek(0)
        return all(chunk.isascii() for chunk in iter(lambda: handle.read(1 << 22), b""))


def map_header(header: list[str], spec: FileSpec, result: FileResult, version: str = "1.1") -> HeaderMap:
    """Match header names to the field table; record each accepted deviation as a warning."""
    lookup = spec.lookup()
    fields: dict[str, int] = {}
    extras: dict[str, int] = {}
    secrets: list[str] = []
    trailing_empty = 0
    while trailing_empty < len(header) and not header[len(header) - 1 - trailing_empty].strip():
        trailing_empty += 1
    if trailing_empty == len(header):
        trailing_empty = 0
    if trailing_empty:
        result.warn(
            "trailing_empty_header_columns",
            f"{trailing_empty} empty column name(s) at the end of the header; short rows padded",
        )
    for position, raw_name in enumerate(header):
        if position >= len(header) - trailing_empty:
            continue
        name = raw_name.strip()
        field = lookup.get(name.lower())
        if is_secret_column(name) or (field is not None and field.is_secret):
            secrets.append(name)  # never read (loaders.secrets)
            continue
        if field is None:
            extra_name = name or f"column_{position + 1}"
            if extra_name in extras:
                raise FileRefused(f"column {extra_name!r} appears twice in the header")
            extras[extra_name] = position
            continue
        if field.name in fields:
            raise FileRefused(f"columns {header[fields[field.name]]!r} and {raw_name!r} both map to {field.name!r}")
        fields[field.name] = position
        if raw_name != field.name:
            kind = "header_case" if name.lower() == field.name.lower() else "header_alias"
            result.warn(kind, f"column {raw_name!r} read as {field.name!r}")
    missing_required = [f.name for f in spec.fields if f.required_for(version) and f.name not in fields]
    if missing_required:
        raise FileRefused(f"missing required column(s): {', '.join(missing_required)}")
    for field in spec.landed_fields:
        if field.name not in fields and version in field.versions:
            result.warn("missing_optional_column", f"optional column {field.name!r} absent; left empty")
    if extras:
        result.warn("extra_columns", f"kept in {EXTRAS_COLUMN}: {', '.join(extras)}", len(extras))
    if secrets:
        result.warn("secret_dropped", dropped_detail(secrets), len(secrets))
    return HeaderMap(fields, extras, len(header), bool(secrets), trailing_empty, tuple(header))


def _select_list(spec: FileSpec, header: HeaderMap) -> str:
    columns = []
    for field in spec.landed_fields:
        position = header.fields.get(field.name)
        source = f"c{position}" if position is not None else "null"
        columns.append(f'{source}::varchar as "{field.column}"')
    columns.append(extras_select(header.extras))
    return ",\n    ".join(columns)


def row_numbers(accepted: int, rejected_rows: np.ndarray) -> np.ndarray:
    """Row number (header = 1) of each accepted record, given the rejected records' rows."""
    total = accepted + len(rejected_rows)
    if len(rejected_rows) == 0:
        return np.arange(2, total + 2, dtype=np.int64)
    rows = np.setdiff1d(np.arange(2, total + 2, dtype=np.int64), rejected_rows, assume_unique=True)
    if len(rows) != accepted:  # a reject spanning several records; keep numbering monotone
        rows = np.arange(2, accepted + 2, dtype=np.int64)
    return rows


ORDINAL = "_ordinal"  # position of a parsed record among the accepted ones (1-based)
# up to this many runs of rejected records, row numbers come from a CASE tree (streaming);
# beyond it, from an ASOF join on the runs (correct, but the join holds the file's rows)
MAX_CASE_RUNS = 2048


def reader_sql(path: Path, width: int, null_padding: bool, errors_table: str, scans_table: str) -> str:
    """DuckDB's CSV reader over ``path`` as ``width`` text columns ``c0..cN``; rows it cannot
    place are skipped and described in the temporary ``errors_table``."""
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(width)) + "}"
    return (
        f"read_csv({sql_string(str(path))}, header = true, auto_detect = false, delim = ',',"
        f" quote = '\"', escape = '\"', columns = {columns}, encoding = 'utf-8',"
        f" store_rejects = true, rejects_table = '{errors_table}', rejects_scan = '{scans_table}',"
        f" null_padding = {'true' if null_padding else 'false'})"
    )


def reject_tables() -> tuple[str, str]:
    """Fresh names for the temporary tables of one ``read_csv`` with ``store_rejects``."""
    suffix = unique_suffix()
    return f"rollcall_reject_errors_{suffix}", f"rollcall_reject_scans_{suffix}"


def row_number_runs(accepted: int, rejected_lines: np.ndarray) -> list[tuple[int, int]]:
    """Where the numbering of accepted records jumps over rejected ones: ``(ordinal, shift)``
    pairs, sorted, meaning the accepted record with ``ordinal >= o`` has row number
    ``ordinal + 1 + shift`` (header = 1) for the last such pair. Same numbering as
    ``row_numbers``: when a rejected line lies beyond the file's records (a reject spanning
    several lines), records are numbered without gaps."""
    lines = np.unique(np.asarray(rejected_lines, dtype=np.int64))
    total = accepted + len(lines)
    if len(lines) == 0 or lines[0] < 2 or lines[-1] > total + 1:
        return []
    # the j-th rejected record (1-based) is preceded by lines[j] - 1 - j accepted records
    first_after = lines - np.arange(1, len(lines) + 1)
    runs: dict[int, int] = {}
    for j, ordinal in enumerate(first_after.tolist(), start=1):
        if ordinal <= accepted:
            runs[ordinal] = j
    return sorted(runs.items())


def _shift_case(runs: list[tuple[int, int]], base: int) -> str:
    """Balanced CASE over ``runs``: the shift for ``ORDINAL`` in log2(len(runs)) comparisons."""
    if not runs:
        return str(base)
    middle = len(runs) // 2
    ordinal, shift = runs[middle]
    below, above = _shift_case(runs[:middle], base), _shift_case(runs[middle + 1 :], shift)
    return f"(case when parsed.{ORDINAL} < {ordinal} then {below} else {above} end)"


@dataclass
class CsvScan:
    """A parsed OneRoster file: counts and quarantine are done; ``landing_query`` reads it again."""

    path: Path  # what DuckDB reads: the prepared file
    spec: FileSpec
    header: HeaderMap
    accepted: int  # rows that land
    runs: list[tuple[int, int]]  # see row_number_runs
    mode: str | None  # bulk | delta; None for the manifest
    ascii_only: bool  # see is_ascii
    quarantined_ids: frozenset[str] = frozenset()  # values of quarantined lines: never tombstoned

    @property
    def columns(self) -> list[str]:
        return [*(f.column for f in self.spec.landed_fields), EXTRAS_COLUMN]

    def every_column_read(self) -> list[str]:
        """Expressions over ``parsed`` that make DuckDB read every landed column. DuckDB checks
        the UTF-8 of the columns a query reads only, so a query reading fewer columns than the
        landing must add these to skip exactly the rows the landing skips; a file of plain
        ASCII needs none."""
        return [] if self.ascii_only else [f'count(parsed."{c}")' for c in self.columns]

    def parsed_sql(self, extra: str = "", rejects: tuple[str, str] | None = None) -> str:
        """The accepted records, as the landed text columns (plus ``extra`` select items);
        ``rejects`` names the reader's temporary reject tables (default: fresh names)."""
        errors_table, scans_table = rejects or reject_tables()
        reader = reader_sql(self.path, self.header.width, bool(self.header.trailing_empty), errors_table, scans_table)
        return f"(select {_select_list(self.spec, self.header)}{extra} from {reader}) as parsed"

    def landing_query(self, lineage: Lineage) -> str:
        """``SELECT`` of the landed rows with their lineage columns, in raw table column order."""
        row_number = f"parsed.{ORDINAL} + 1"
        join = ""
        if 0 < len(self.runs) <= MAX_CASE_RUNS:
            row_number += f" + {_shift_case(self.runs, 0)}"
        elif self.runs:
            values = ", ".join(f"({ordinal}, {shift})" for ordinal, shift in self.runs)
            join = (
                f" asof left join (values {values}) as runs(first_ordinal, shift)"
                f" on parsed.{ORDINAL} >= runs.first_ordinal"
            )
            row_number += " + coalesce(runs.shift, 0)"
        constants = {
            "_district_id": lineage.district_id,
            "_source_file": lineage.source_file,
            "_file_sha256": lineage.file_sha256,
            "_file_mode": self.mode,
            "_change_kind": FILE_ROW,
            "_load_id": lineage.load_id,
        }
        items = [f'parsed."{c}" as "{c}"' for c in self.columns]
        items += [f'{_sql_literal(value)}::varchar as "{name}"' for name, value in constants.items()]
        items.append(f'({row_number})::bigint as "_row_number"')
        loaded_at = lineage.loaded_at.astimezone(UTC).isoformat(sep=" ", timespec="microseconds")
        items.append(f'{sql_string(loaded_at)}::timestamptz as "_loaded_at"')
        ordinal = f", row_number() over () as {ORDINAL}"
        return f"select {', '.join(items)} from {self.parsed_sql(ordinal)}{join}"


def _sql_literal(value: str | None) -> str:
    return "null" if value is None else sql_string(value)


def scan_oneroster_csv(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    spec: FileSpec,
    lineage: Lineage,
    result: FileResult,
    version: str = "1.1",
) -> CsvScan:
    """Parse ``path`` once: quarantine unplaceable rows into the audit schema, count the rows that
    land and the values in tolerated non-standard forms, infer the file mode when the manifest
    does not state it. ``path`` has one line-ending style (``loaders.text_input.prepare_text``).
    Nothing of the file is kept in memory.

    Updates ``result`` with rows read and quarantined, and with the file mode when it had
    to be inferred. Raises ``FileRefused``.
    """
    header = map_header(read_header(path), spec, result, version)
    scan = CsvScan(path, spec, header, 0, [], None, is_ascii(path))
    checks = _deviation_checks(spec)
    has_status = "status" in scan.columns
    validation = scan.every_column_read()  # the same rows rejected as by the landing
    aggregates = [
        "count(*)",
        *validation,
        *(f"count(*) filter (where {condition})" for _, _, condition in checks),
        f"count(*) filter (where {STATUS_FILLED})" if has_status else "0",
    ]
    physical = count_records(path, header.width)
    errors_table, scans_table = reject_tables()
    reader = reader_sql(path, header.width, bool(header.trailing_empty), errors_table, scans_table)
    try:
        # fetchall: the reject tables are complete only once the query has run to its end
        counts = con.execute(
            f"select {', '.join(aggregates)} from (select {_select_list(spec, header)} from {reader}) as parsed"
        ).fetchall()[0]
        rejected = np.array(
            [row[0] for row in con.execute(f"select distinct line from {errors_table} order by line").fetchall()],
            dtype=np.int64,
        )
        swallowed = check_record_count(physical, counts[0] + len(rejected))
        scan.quarantined_ids = quarantined_ids(
            [row[0] for row in con.execute(f"select csv_line from {errors_table}").fetchall()]
            + [line for _, line in swallowed]
        )
        con.execute(
            f"""insert into {AUDIT_SCHEMA}.quarantined_rows
                select $load_id, $district_id, $file_name, $file_sha256, line,
                       replace(lower(min(error_type)::varchar), ' ', '_'),
                       string_agg(distinct error_message, '; '),
                       case when $withhold then null else trim(any_value(csv_line), chr(10) || chr(13)) end,
                       $loaded_at
                from {errors_table} group by line order by line""",
            {
                "load_id": lineage.load_id,
                "district_id": lineage.district_id,
                "file_name": lineage.source_file,
                "file_sha256": lineage.file_sha256,
                "withhold": header.has_secret,
                "loaded_at": lineage.loaded_at,
            },
        )
        if header.has_secret:
            _keep_readable_fields(con, errors_table, header, lineage)
        # swallowed lines of a file with a secret column: their readable fields, never the line
        quarantine_swallowed(con, [(number, kept_line(header.names, line)[0]) for number, line in swallowed], lineage)
    except duckdb.Error as exc:
        raise FileRefused(f"cannot be parsed as CSV: {str(exc).splitlines()[0]}") from exc
    finally:
        con.execute(f"drop table if exists {errors_table}; drop table if exists {scans_table}")

    scan.accepted = counts[0]
    scan.runs = row_number_runs(scan.accepted, rejected)
    deviations = counts[1 + len(validation) : -1]
    for (code, name, _), occurrences in zip(checks, deviations, strict=True):
        if occurrences:
            result.warn(code, f"{name}: {occurrences:,} value(s) read in a non-standard form", occurrences)
    result.rows_read = scan.accepted + len(rejected) + len(swallowed)
    result.rows_quarantined = len(rejected) + len(swallowed)
    if spec.name == "manifest":
        result.mode = None
    elif lineage.file_mode is None:
        # delta when any row has a status, else bulk (OneRoster: bulk rows leave status blank)
        result.mode = "delta" if counts[-1] else "bulk"
        result.warn(
            "mode_inferred", f"file mode not stated in a manifest; read as {result.mode} from the status column"
        )
    else:
        result.mode = lineage.file_mode
    scan.mode = result.mode
    return scan


def _keep_readable_fields(
    con: duckdb.DuckDBPyConnection, errors_table: str, header: HeaderMap, lineage: Lineage
) -> None:
    """Quarantined lines of a file with a secret column: store their readable fields instead of
    the withheld line (``loaders.secrets.kept_line``)."""
    lines = con.execute(
        f"select line, trim(any_value(csv_line), chr(10) || chr(13)) from {errors_table} group by line"
    ).fetchall()
    kept = [(kept_line(header.names, text)[0], line) for line, text in lines]
    if not any(text is not None for text, _ in kept):
        return
    con.executemany(
        f"update {AUDIT_SCHEMA}.quarantined_rows set raw_line = ?"
        " where load_id = ? and file_sha256 = ? and row_number = ?",
        [[text, lineage.load_id, lineage.file_sha256, line] for text, line in kept if text is not None],
    )


def check_record_count(physical: RecordCount, parsed: int) -> list[tuple[int, str]]:
    """The swallowed lines of a file whose parse agrees with its physical record count;
    refuses the file when the CSV reader found another number of records than the bytes hold."""
    if physical.records != parsed:
        raise FileRefused(
            f"record count check failed: {physical.records:,} record(s) by the file's line breaks, "
            f"{parsed:,} found by the CSV reader (a broken quote?); nothing of the file is loaded"
        )
    return physical.swallowed


def quarantined_ids(lines: list[str | None]) -> frozenset[str]:
    """Every field value of the given raw lines (a record id among them), for the tombstone guard."""
    values: set[str] = set()
    for row in csv.reader(line for line in lines if line):
        values.update(v.strip() for v in row if v.strip())
    return frozenset(values)


def quarantine_swallowed(
    con: duckdb.DuckDBPyConnection, swallowed: list[tuple[int, str | None]], lineage: Lineage
) -> None:
    """Quarantine the lines an unterminated quote ran over, by line number."""
    if not swallowed:
        return
    record_quarantined(
        con,
        lineage,
        [
            (
                line_number,
                "swallowed_record",
                f"line {line_number} looks like a whole record but lies inside a quoted value opened on an "
                "earlier line (an unterminated quote); it is not loaded",
                line,
            )
            for line_number, line in swallowed
        ],
    )


def read_csv_with_rejects(
    con: duckdb.DuckDBPyConnection, path: Path, width: int, select: str, null_padding: bool = False
) -> tuple[pa.Table, list[tuple]]:
    """Parse ``path`` as ``width`` text columns ``c0..cN`` with DuckDB's CSV reader, keeping the
    rows it cannot place: ``select`` (with ``{reader}`` for the scan) gives the result, and the
    rejected rows come back as (line, error type, message, raw line). Raises ``FileRefused``."""
    errors_table, scans_table = reject_tables()
    reader = reader_sql(path, width, null_padding, errors_table, scans_table)
    try:
        table = con.execute(select.replace("{reader}", reader)).to_arrow_table()
        rejected = con.execute(
            f"""select line, min(error_type)::varchar, string_agg(distinct error_message, '; '),
                       trim(any_value(csv_line), chr(10) || chr(13))
                from {errors_table} group by line order by line"""
        ).fetchall()
    except duckdb.Error as exc:
        raise FileRefused(f"cannot be parsed as CSV: {str(exc).splitlines()[0]}") from exc
    finally:
        con.execute(f"drop table if exists {errors_table}; drop table if exists {scans_table}")
    return table, rejected


ISO_DATE = r"\d{4}-\d{2}-\d{2}"
ISO_DATETIME = ISO_DATE + r"([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?"


# a status with any character that is not white space (pyarrow's utf8_trim_whitespace set)
STATUS_FILLED = "regexp_matches(status, '[^\\s\\x{0B}\\x{85}\\p{Z}]')"


def _deviation_checks(spec: FileSpec) -> list[tuple[str, str, str]]:
    """(warning code, field name, SQL condition) for values in an accepted non-standard form.

    A value counts when it is present (not blank once trimmed) and its trimmed text breaks the
    standard form. For the per-row checks of large files (dates, timestamps, booleans) the trim
    is folded into the pattern: DuckDB's ``trim`` strips space separators (``\\p{Zs}``)."""
    checks = []
    for field in spec.landed_fields:
        column = f'"{field.column}"'
        present = f"regexp_matches({column}, '\\P{{Zs}}')"
        standard = {"date": ISO_DATE, "datetime": ISO_DATETIME, "boolean": "true|false"}.get(field.data_type)
        if standard is not None:
            code = {"date": "date_format", "datetime": "datetime_format", "boolean": "boolean_spelling"}
            breaks = f"not regexp_full_match({column}, '\\p{{Zs}}*(?:{standard})\\p{{Zs}}*')"
            checks.append((code[field.data_type], field.name, f"{breaks} and {present}"))
        elif field.enumeration and field.name != "status":
            value = f"trim({column})"
            exact = ", ".join(sql_string(v) for v in field.enumeration)
            lower = ", ".join(sql_string(v.lower()) for v in field.enumeration)
            checks.append(("enum_case", field.name, f"{value} not in ({exact}) and lower({value}) in ({lower})"))
    return checks


def with_lineage(
    table: pa.Table, row_numbers: np.ndarray, lineage: Lineage, file_mode: str | None, change_kind: str
) -> pa.Table:
    """Append the lineage columns (``loaders.raw_tables.append_lineage``)."""
    constants = {
        "_district_id": lineage.district_id,
        "_source_file": lineage.source_file,
        "_file_sha256": lineage.file_sha256,
        "_file_mode": file_mode or None,
        "_change_kind": change_kind,
        "_load_id": lineage.load_id,
    }
    return append_lineage(table, LINEAGE_COLUMNS, constants, row_numbers, lineage.loaded_at)


def raw_table_ddl(schema: str, spec: FileSpec) -> str:
    """DDL of an empty raw table, so models can be built before a district sends the file."""
    data = ", ".join(f'"{f.column}" varchar' for f in spec.landed_fields)
    return (
        f"create table if not exists {schema}.{spec.table} ({data}, {EXTRAS_COLUMN} varchar,"
        " _district_id varchar, _source_file varchar, _file_sha256 varchar, _file_mode varchar,"
        " _change_kind varchar, _load_id varchar, _row_number bigint, _loaded_at timestamp with time zone)"
    )
