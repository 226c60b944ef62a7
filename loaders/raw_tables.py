"""What every raw table shares, whichever format lands in it: the ``_extras`` column, the raw
primary key (district, file, row), lineage columns as arrow arrays, the tables a warehouse
already has, and fresh names for DuckDB's temporary objects."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from datetime import datetime

import duckdb
import numpy as np
import pyarrow as pa

EXTRAS_COLUMN = "_extras"  # unknown columns of a file, as one JSON object
PRIMARY_KEY = ("_district_id", "_file_sha256", "_row_number")

_unique = itertools.count()


def unique_suffix() -> int:
    """A number no other temporary view, table or file of this process uses."""
    return next(_unique)


def sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def extras_select(extras: Mapping[str, int], blank: str = "{} is null") -> str:
    """The ``_extras`` select item over the reader's ``cN`` columns: a JSON object of the unknown
    columns, null when every one of them is blank (``blank`` formats the test of one column)."""
    if not extras:
        return f"null::varchar as {EXTRAS_COLUMN}"
    pairs = ", ".join(f"{sql_string(name)}, c{position}" for name, position in extras.items())
    all_blank = " and ".join(blank.format(f"c{position}") for position in extras.values())
    return f"case when {all_blank} then null else json_object({pairs})::varchar end as {EXTRAS_COLUMN}"


def append_lineage(
    table: pa.Table,
    names: Sequence[str],
    constants: Mapping[str, str | None],
    row_numbers: pa.Array | pa.ChunkedArray | np.ndarray,
    loaded_at: datetime,
) -> pa.Table:
    """Append the lineage columns ``names`` in that order: ``_row_number``, ``_loaded_at`` (UTC
    microseconds) and the per-file ``constants``. A constant is a dictionary array sharing one
    all-zero index, so it costs no per-row string copies; a None constant is a null text column.
    The raw primary key is non-nullable."""
    zeros = pa.array(np.zeros(table.num_rows, dtype=np.int8))
    stamp = np.datetime64(loaded_at.replace(tzinfo=None), "us")
    if isinstance(row_numbers, np.ndarray):
        row_numbers = pa.array(row_numbers, type=pa.int64())
    values = {
        "_row_number": row_numbers,
        "_loaded_at": pa.array(np.full(table.num_rows, stamp)).cast(pa.timestamp("us", tz="UTC")),
    }
    for name in names:
        if name in values:
            value = values[name]
        elif constants[name] is None:
            value = pa.nulls(table.num_rows, pa.string())
        else:
            value = pa.DictionaryArray.from_arrays(zeros, pa.array([constants[name]], type=pa.string()))
        table = table.append_column(pa.field(name, value.type, nullable=name not in PRIMARY_KEY), value)
    return table


def table_columns(con: duckdb.DuckDBPyConnection, schema: str) -> dict[str, set[str]]:
    """The columns of every table of ``schema`` in the open warehouse, by table name."""
    columns: dict[str, set[str]] = {}
    for table, column in con.execute(
        """select table_name, column_name from duckdb_columns()
           where database_name = current_database() and schema_name = ?""",
        [schema],
    ).fetchall():
        columns.setdefault(table, set()).add(column)
    return columns
