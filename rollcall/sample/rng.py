"""Random draws, all derived from ``(seed, purpose)`` so that nothing depends on call order.

* ``stream``: a numpy generator per purpose, for whole-roster draws (one array per concern);
* ``py_random``: a ``random.Random`` per purpose, for the small demo layouts;
* ``uniform``: counter-based draws, a pure function of ``(seed, purpose, *integers)`` (a
  SplitMix64 hash), so that e.g. a student's attendance on a date never depends on how many days
  are generated or in which chunk the date is computed.
"""

from __future__ import annotations

import hashlib
import random

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MUL1 = np.uint64(0xBF58476D1CE4E5B9)
_MUL2 = np.uint64(0x94D049BB133111EB)
_TO_UNIT = 2.0**-53


def _digest(seed: int, purpose: str) -> bytes:
    return hashlib.sha256(f"rollcall:{seed}:{purpose}".encode()).digest()


def stream(seed: int, purpose: str) -> np.random.Generator:
    """A numpy generator for one concern (e.g. ``students``), the same on every run."""
    return np.random.Generator(np.random.PCG64(int.from_bytes(_digest(seed, purpose), "little")))


def py_random(seed: int, purpose: str) -> random.Random:
    return random.Random(f"rollcall:{seed}:{purpose}")


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser (uint64 in, uint64 out)."""
    x = (x ^ (x >> np.uint64(30))) * _MUL1
    x = (x ^ (x >> np.uint64(27))) * _MUL2
    return x ^ (x >> np.uint64(31))


def hashed(seed: int, purpose: str, *parts: np.ndarray) -> np.ndarray:
    """uint64 hash of ``(seed, purpose, *parts)``; integer parts broadcast against each other."""
    h = np.asarray(np.uint64(int.from_bytes(_digest(seed, purpose)[:8], "little")))
    with np.errstate(over="ignore"):
        for part in parts:
            h = _mix(h ^ (np.asarray(part).astype(np.uint64) * _GOLDEN))
    return h


def uniform(seed: int, purpose: str, *parts: np.ndarray) -> np.ndarray:
    """Floats in [0, 1), a pure function of ``(seed, purpose, *parts)``."""
    return (hashed(seed, purpose, *parts) >> np.uint64(11)).astype(np.float64) * _TO_UNIT


def pick(rng: np.random.Generator, weights, size: int) -> np.ndarray:
    """Indexes drawn with the given (relative) weights."""
    cumulative = np.cumsum(np.asarray(weights, dtype=np.float64))
    return np.searchsorted(cumulative, rng.random(size) * cumulative[-1], side="right")


def pick_by_row(rng: np.random.Generator, table: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """For each element of ``rows``, an index drawn with the weights of that row of ``table``."""
    cumulative = np.cumsum(table, axis=1)
    cumulative = cumulative / cumulative[:, -1:]
    draws = rng.random(len(rows))
    return np.minimum((draws[:, None] >= cumulative[rows]).sum(axis=1), table.shape[1] - 1)


def below(rng: np.random.Generator, counts: np.ndarray) -> np.ndarray:
    """For each count, an integer drawn uniformly from ``range(count)``."""
    return np.minimum((rng.random(len(counts)) * counts).astype(np.int64), np.maximum(counts - 1, 0))
