"""One writer at a time per warehouse file.

A load, pull or build takes an exclusive lock on ``<folder>/.<file name>.lock`` (beside the
warehouse) before it opens the warehouse for writing. A second writer waits for it, printing a
progress line every ``PROGRESS_EVERY`` seconds, and gives up with ``WarehouseBusy`` after
``timeout`` seconds (``$ROLLCALL_WRITER_TIMEOUT``, default ``DEFAULT_TIMEOUT``); the command line
turns that into exit code ``EXIT_BUSY``. The lock is re-entrant within one process (a sync that
runs several loads holds it once). The lock file holds the holder's process id and start time,
nothing else; the operating system releases the lock when the holder dies, even by SIGKILL.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from rollcall.settings import duckdb_budget

TIMEOUT_ENV = "ROLLCALL_WRITER_TIMEOUT"
DEFAULT_TIMEOUT = 600.0
PROGRESS_EVERY = 15.0
POLL_SECONDS = 0.2
EXIT_BUSY = 4

_held: dict[Path, int] = {}  # lock path -> depth, for re-entry within this process


class WarehouseBusy(Exception):
    """Another writer kept the warehouse for longer than the timeout."""


def lock_path_for(database: Path) -> Path:
    return database.parent / f".{database.name}.lock"


def writer_timeout() -> float:
    """``$ROLLCALL_WRITER_TIMEOUT`` seconds, else ``DEFAULT_TIMEOUT``."""
    text = os.environ.get(TIMEOUT_ENV, "").strip()
    try:
        return max(0.0, float(text)) if text else DEFAULT_TIMEOUT
    except ValueError:
        return DEFAULT_TIMEOUT


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _holder(handle) -> str:
    handle.seek(0)
    text = handle.read().strip()
    return f" ({text})" if text else ""


@contextlib.contextmanager
def writer_lock(
    database: str | Path, timeout: float | None = None, progress: Callable[[str], None] = _stderr
) -> Iterator[None]:
    """Hold the warehouse's writer lock for the block; waits up to ``timeout`` seconds."""
    database = Path(database).resolve()
    path = lock_path_for(database)
    if path in _held:
        _held[path] += 1
        try:
            yield
        finally:
            _held[path] -= 1
        return
    timeout = writer_timeout() if timeout is None else timeout
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as handle:
        _acquire(handle, database, timeout, progress)
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} since {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC\n")
        handle.flush()
        _held[path] = 1
        try:
            yield
        finally:
            del _held[path]
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)


def _acquire(handle, database: Path, timeout: float, progress: Callable[[str], None]) -> None:
    started = time.monotonic()
    next_line = started
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        waited = time.monotonic() - started
        if waited >= timeout:
            raise WarehouseBusy(
                f"{database} is being written by another run{_holder(handle)}; gave up after {timeout:.0f} s "
                f"(set {TIMEOUT_ENV} to wait longer)"
            )
        if time.monotonic() >= next_line:
            progress(
                f"waiting for {database}: another run is writing it{_holder(handle)}; "
                f"{waited:.0f} of {timeout:.0f} s waited"
            )
            next_line += PROGRESS_EVERY
        time.sleep(POLL_SECONDS)


def connect_writer(database: str | Path, timeout: float | None = None) -> duckdb.DuckDBPyConnection:
    """Open the warehouse for writing, within the build's memory budget (spilling beyond it); while
    another program (not a rollcall writer, e.g. a DuckDB shell) holds DuckDB's own file lock,
    retry until ``timeout``, then ``WarehouseBusy``."""
    timeout = writer_timeout() if timeout is None else timeout
    started = time.monotonic()
    while True:
        try:
            return duckdb.connect(str(database), config=duckdb_budget(database))
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise
            if time.monotonic() - started >= timeout:
                raise WarehouseBusy(
                    f"{database} is open in another program: {str(exc).splitlines()[0]}; "
                    f"gave up after {timeout:.0f} s (set {TIMEOUT_ENV} to wait longer)"
                ) from exc
            time.sleep(POLL_SECONDS)


@contextlib.contextmanager
def writer_transaction(database: str | Path, ddl: str) -> Iterator[duckdb.DuckDBPyConnection]:
    """Hold the writer lock, make sure ``ddl``'s tables exist, and run the block in one
    transaction (committed when it ends; when it raises, the connection closes uncommitted):
    how the pull sources and ``rollcall sync`` keep their state in the warehouse."""
    with writer_lock(database), connect_writer(database) as con:
        con.execute(ddl)
        con.execute("begin transaction")
        yield con
        con.execute("commit")
