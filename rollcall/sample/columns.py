"""Vectorised string columns: ids with zero-padded numbers, dictionary look-ups, joined lists."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def numbered(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """``prefix`` + each number zero-padded to ``width`` digits (wider numbers keep all their digits)."""
    numbers = np.asarray(numbers, dtype=np.int64)
    if len(numbers) == 0:
        return pa.array([], type=pa.string())
    digits = np.maximum(width, np.floor(np.log10(np.maximum(numbers, 1))).astype(np.int64) + 1)
    if (digits == digits[0]).all():
        return _fixed_width(prefix, numbers, int(digits[0]))
    return pa.array([f"{prefix}{v:0{width}d}" for v in numbers.tolist()], type=pa.string())


_DIGITS = np.array([list(f"{i:04d}".encode("ascii")) for i in range(10_000)], dtype=np.uint8)


def _fixed_width(prefix: str, numbers: np.ndarray, digits: int) -> pa.Array:
    """``prefix`` + numbers of exactly ``digits`` digits (leading zeros), four digits at a time."""
    head = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
    width = len(head) + digits
    text = np.empty((len(numbers), width), dtype=np.uint8)
    text[:, : len(head)] = head
    rest, end = numbers, width
    while end > len(head):
        step = min(4, end - len(head))
        text[:, end - step : end] = _DIGITS[rest % 10**step][:, 4 - step :]
        rest, end = rest // 10**step, end - step
    offsets = np.arange(0, (len(numbers) + 1) * width, width, dtype=np.int32)
    return pa.StringArray.from_buffers(len(numbers), pa.py_buffer(offsets), pa.py_buffer(text))


def sequential(prefix: str, first: int, count: int, width: int) -> pa.Array:
    """``prefix`` + ``first`` … ``first + count - 1`` zero-padded to ``width`` digits."""
    pieces, value, end = [], first, first + count
    while value < end:
        stop = min(end, 10 ** max(width, len(str(value))))
        pieces.append(_fixed_width(prefix, np.arange(value, stop, dtype=np.int64), max(width, len(str(value)))))
        value = stop
    if not pieces:
        return pa.array([], type=pa.string())
    return pieces[0] if len(pieces) == 1 else pa.concat_arrays(pieces)


def lookup(values: Sequence[str] | pa.Array, index: np.ndarray) -> pa.Array:
    """``values[index]``; a negative index gives an empty (null) value."""
    values = values if isinstance(values, pa.Array) else pa.array(list(values), type=pa.string())
    index = np.asarray(index, dtype=np.int64)
    return values.take(pa.array(index, mask=index < 0))


def joined(values: pa.Array, offsets: np.ndarray, separator: str = ",") -> pa.Array:
    """Lists ``values[offsets[i]:offsets[i + 1]]`` joined into one string each."""
    lists = pa.ListArray.from_arrays(pa.array(np.asarray(offsets, dtype=np.int32)), values)
    return pc.binary_join(lists, separator)


def concat(*parts: pa.Array | Sequence[str]) -> pa.Array:
    """Element-wise concatenation of string columns and constants."""
    return pc.binary_join_element_wise(*parts, "")


def flags(values: np.ndarray) -> pa.Array:
    """Booleans as ``true`` / ``false``."""
    return lookup(["false", "true"], np.asarray(values, dtype=np.int64))
