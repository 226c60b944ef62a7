"""Run dbt against this project exactly as a plain ``dbt`` in the project folder does.

The same profile (``profiles.yml`` beside ``dbt_project.yml``), the same working folder and the
same ``ROLLCALL_DUCKDB_PATH`` as given: dbt's partial parse survives switching between
``rollcall build`` and ``dbt``. What rollcall adds travels in environment variables, never vars.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator

from rollcall.settings import IS_CHECKOUT, PROJECT_ROOT, WORK_DIR, database_path


@contextlib.contextmanager
def _dbt_environment(env: dict[str, str]) -> Iterator[None]:
    """Run in WORK_DIR with ``env`` set (and dbt's artifacts under WORK_DIR when installed); restore after."""
    extra = {"DBT_SEND_ANONYMOUS_USAGE_STATS": "false", **env}
    if not IS_CHECKOUT:  # never write into the installed package
        extra.setdefault("DBT_TARGET_PATH", str(WORK_DIR / "target"))
        extra.setdefault("DBT_LOG_PATH", str(WORK_DIR / "logs"))
    saved = {name: os.environ.get(name) for name in extra}
    for name, value in extra.items():
        if name.startswith("DBT_") and name in os.environ and name not in env:
            continue  # the user's own dbt settings win
        os.environ[name] = value
    cwd = os.getcwd()
    os.chdir(WORK_DIR)
    try:
        yield
    finally:
        os.chdir(cwd)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def stopped_by_user(exception: BaseException | None) -> bool:
    """Whether a dbt command ended because its user pressed Ctrl-C."""
    return isinstance(exception, KeyboardInterrupt)


_DBT_ERROR_HEAD = "Encountered an error:"  # dbt's line before the interrupt's (empty) message


class _QuietAfterCtrlC:
    """The stdout dbt logs to, less the stack trace dbt prints for a KeyboardInterrupt once
    ``stopping`` is set; everything else passes through."""

    def __init__(self, stream) -> None:
        self.stream, self.stopping = stream, False

    def write(self, text: str) -> int:
        if self.stopping and ("Traceback (most recent call last)" in text or text.rstrip().endswith(_DBT_ERROR_HEAD)):
            return len(text)
        return self.stream.write(text)

    def __getattr__(self, name: str):
        return getattr(self.stream, name)


@contextlib.contextmanager
def _ctrl_c_without_traceback() -> Iterator[None]:
    """Ctrl-C stops dbt as before (a KeyboardInterrupt: dbt cancels the running queries and lists
    what ran) without the stack trace dbt prints for it."""
    if threading.current_thread() is not threading.main_thread():  # only the main thread takes signals
        yield
        return
    stdout = _QuietAfterCtrlC(sys.stdout)

    def stop(signum: int, frame: object) -> None:
        stdout.stopping = True
        raise KeyboardInterrupt

    previous, sys.stdout = signal.signal(signal.SIGINT, stop), stdout
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        sys.stdout = stdout.stream


def invoke_dbt(args: list[str], env: dict[str, str] | None = None, callbacks: list[Callable] | None = None):
    """Invoke dbt in-process on this project; returns dbt's ``dbtRunnerResult``."""
    from dbt.cli.main import dbtRunner

    database_path().parent.mkdir(parents=True, exist_ok=True)
    colors = [] if sys.stdout.isatty() else ["--no-use-colors"]  # no escape codes in a file or pipe
    with _dbt_environment(env or {}), _ctrl_c_without_traceback():
        try:
            return dbtRunner(callbacks=callbacks or []).invoke(
                [*args, *colors, "--project-dir", str(PROJECT_ROOT), "--profiles-dir", str(PROJECT_ROOT)]
            )
        finally:
            _release_warehouse()


def _release_warehouse() -> None:
    """Close the DuckDB file dbt-duckdb keeps open, so this process can open it again its own way."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    if DuckDBConnectionManager._ENV is not None:
        DuckDBConnectionManager._ENV.close()
    DuckDBConnectionManager.close_all_connections()


def run_dbt(args: list[str], env: dict[str, str] | None = None) -> int:
    """Invoke dbt in-process; returns 0 on success, 1 otherwise."""
    return 0 if invoke_dbt(args, env).success else 1
