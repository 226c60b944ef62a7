"""SFTP pickup: land the new or changed files of a district's SFTP folder (key-pair auth only).

``pull``, ``PullReport`` and ``SOURCE`` (the ``loaders.sources.PullSource``) are imported on
first use, so that validating a source (and refusing a configured password) does not wait for dlt
to import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from loaders.sftp.settings import PASSWORD_REFUSAL, SftpConfigError, SftpError, SftpSettings, parse_source

if TYPE_CHECKING:
    from loaders.sftp.pickup import SOURCE, PullReport, pull

__all__ = [
    "PASSWORD_REFUSAL",
    "SOURCE",
    "PullReport",
    "SftpConfigError",
    "SftpError",
    "SftpSettings",
    "parse_source",
    "pull",
]


def __getattr__(name: str) -> Any:
    if name in ("pull", "PullReport", "SOURCE"):
        from loaders.sftp import pickup

        return getattr(pickup, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
