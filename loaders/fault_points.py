"""Named points of a load where the crash tests stop the process.

With ``ROLLCALL_FAULT_POINT=<name>`` in the environment, the process kills itself with SIGKILL
when it reaches that point — exactly what a power cut or ``kill -9`` does there. Unset (always,
outside the tests), a point costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal

FAULT_ENV = "ROLLCALL_FAULT_POINT"


def fault_point(name: str) -> None:
    """Die here when the environment names this point."""
    if os.environ.get(FAULT_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
