"""Run a command, then wait for every process it left behind, and exit with the command's status.

pyspark starts Spark's JVM as a child of the dbt process and does not wait for it, so /usr/bin/time
on dbt alone misses the JVM's CPU seconds and memory. Run as a child subreaper, this process
inherits the orphaned JVM and waits for it: its CPU then counts in /usr/bin/time's total, and its
resident memory in the peak (the largest single process).

Usage: python benchmarks/reap.py COMMAND [ARG ...]
"""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys

PR_SET_CHILD_SUBREAPER = 36  # linux/prctl.h


def main(argv: list[str]) -> int:
    if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise SystemExit(f"reap.py: prctl(PR_SET_CHILD_SUBREAPER) failed: {os.strerror(ctypes.get_errno())}")
    status = subprocess.call(argv)
    while True:  # the processes the command left behind, reparented to this one
        try:
            os.wait()
        except ChildProcessError:
            return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
