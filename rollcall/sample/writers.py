"""CSV writing for every layout.

* ``write_columns``: a table given as columns (pyarrow string arrays or lists; a missing column or
  a null is an empty value), in the quoting of Python's ``csv`` module (a value is quoted only
  when it holds a comma, a quote or a line break), LF line ends, UTF-8. Large tables without
  such values go through pyarrow's CSV writer; others are joined into lines by pyarrow compute.
* ``write_rows``: rows of strings through the ``csv`` module, in one of the layouts' styles:
  ``plain`` (minimal quoting, LF), ``quoted`` (every value quoted, LF) or ``sis`` (bare header,
  every value quoted, CRLF).
* ``open_sink``: files in a folder, or members of a byte-identical zip.
"""

from __future__ import annotations

import csv
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

Column = pa.Array | Sequence[str] | None
_SPECIAL = r'[,"\r\n]'
_FAST = pa_csv.WriteOptions(include_header=False, quoting_style="none")


def header_line(header: Sequence[str]) -> bytes:
    return (",".join(header) + "\n").encode("utf-8")


def as_strings(column: Column, n: int) -> pa.Array:
    if column is None:
        return pa.nulls(n, pa.string())
    array = column if isinstance(column, pa.Array) else pa.array(column, type=pa.string())
    if len(array) != n:
        raise ValueError(f"column of {len(array)} values in a table of {n} rows")
    return array


def write_columns(handle: BinaryIO, header: Sequence[str], columns: Mapping[str, Column], n: int) -> int:
    """Write the rows (no header) of one table; return the row count."""
    if n == 0:
        return 0
    arrays = [as_strings(columns.get(name), n) for name in header]
    batch = pa.record_batch(arrays, names=list(header))
    sink = pa.BufferOutputStream()
    try:
        pa_csv.write_csv(batch, sink, write_options=_FAST)
    except pa.ArrowInvalid:  # a value needs quotes
        handle.write(_joined_lines(arrays))
        return n
    handle.write(memoryview(sink.getvalue()))
    return n


def _quote_where_needed(array: pa.Array) -> pa.Array:
    array = pc.fill_null(array, "")
    needs = pc.match_substring_regex(array, _SPECIAL)
    if not pc.any(needs).as_py():
        return array
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(array, '"', '""'), '"', "")
    return pc.if_else(needs, quoted, array)


def _joined_lines(arrays: list[pa.Array]) -> memoryview:
    lines = pc.binary_join_element_wise(*[_quote_where_needed(a) for a in arrays], ",")
    lines = pc.binary_join_element_wise(lines, "", "\n").cast(pa.large_string())
    _, offsets, data = lines.buffers()
    bounds = np.frombuffer(offsets, dtype=np.int64, count=len(lines) + 1, offset=lines.offset * 8)
    return memoryview(data)[int(bounds[0]) : int(bounds[-1])]


def write_rows(path: Path, header: Sequence[str], rows: Iterable[Sequence[str]], style: str = "plain") -> None:
    """A small table through the ``csv`` module (see the module docstring for the styles)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        if style == "sis":
            handle.write(",".join(header) + "\r\n")
            csv.writer(handle, quoting=csv.QUOTE_ALL, lineterminator="\r\n").writerows(rows)
            return
        quoting = csv.QUOTE_ALL if style == "quoted" else csv.QUOTE_MINIMAL
        writer = csv.writer(handle, quoting=quoting, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a CSV file."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        return next(reader), list(reader)


@contextmanager
def open_sink(path: Path, as_zip: bool) -> Iterator[Callable]:
    """Yield ``open_file(name)``: a context manager of a binary handle (folder file or zip member)."""
    if not as_zip:
        path.mkdir(parents=True, exist_ok=True)

        @contextmanager
        def open_in_folder(name: str) -> Iterator[BinaryIO]:
            with (path / name).open("wb") as handle:
                yield handle

        yield open_in_folder
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:

        @contextmanager
        def open_in_zip(name: str) -> Iterator[BinaryIO]:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))  # fixed: byte-identical zips
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o644 << 16
            with archive.open(info, "w", force_zip64=True) as member:
                yield member

        yield open_in_zip
