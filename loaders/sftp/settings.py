"""What an SFTP source says: where the server is, which key to use, which host keys to trust.

A source is a mapping such as ``{"kind": "sftp", "url": "sftp://rollcall@sftp.district.org:22/outbox",
"identity_file": "~/.ssh/rollcall_ed25519", "known_hosts": "~/.ssh/known_hosts"}``. Only key-pair
authentication is accepted: a password anywhere in the source is refused before any connection.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

DEFAULT_PORT = 22
DEFAULT_KNOWN_HOSTS = "~/.ssh/known_hosts"
DEFAULT_TIMEOUT_SECONDS = 30.0

# The district's data-sharing terms (seed 002) allow key pairs only.
PASSWORD_REFUSAL = (
    "Authentication for Secure FTP transmission must be achieved using Key Pair Authentication; "
    "Username and Password authentication is not supported"
)
# Source keys that would carry a password; their presence alone refuses the source.
PASSWORD_KEYS = frozenset({"password", "passwd", "pass", "sftp_password", "pwd"})

# Remote files picked up: OneRoster(+) CSV files and zip packages. Hidden files and uploads still
# in progress under another name (``users.csv.part``, ``.filepart``) are left alone.
PICKUP_SUFFIXES = (".csv", ".zip")


class SftpError(Exception):
    """An SFTP pickup cannot proceed; the message is one line, fit to show an operator."""


@dataclass(frozen=True)
class SftpSettings:
    """A validated SFTP source (never holds a password or key material)."""

    host: str
    port: int
    username: str
    path: str  # folder or single file on the server, as the server names it
    identity_file: Path
    known_hosts: Path
    timeout: float = DEFAULT_TIMEOUT_SECONDS

    @property
    def label(self) -> str:
        """``sftp://user@host[:port]/path``: how loads from this source are recorded."""
        port = f":{self.port}" if self.port != DEFAULT_PORT else ""
        return f"sftp://{self.username}@{self.host}{port}{self.path}"

    @property
    def bucket_url(self) -> str:
        """The URL handed to fsspec (user and port travel in the credentials, not the URL)."""
        return f"sftp://{self.host}{self.path}"

    @property
    def host_key_name(self) -> str:
        """The host's name as known_hosts writes it (``[host]:port`` for a non-standard port)."""
        return self.host if self.port == DEFAULT_PORT else f"[{self.host}]:{self.port}"


def _expand(value: Any, what: str) -> Path:
    if not isinstance(value, str | Path) or not str(value).strip():
        raise SftpError(f"{what} must be a file path")
    return Path(str(value).strip()).expanduser()


def parse_source(source: Mapping[str, Any]) -> SftpSettings:
    """Validate an SFTP source mapping; raises ``SftpError`` with a one-line reason.

    A configured password (a ``password`` key, or ``user:password@`` in the URL) is refused.
    """
    if PASSWORD_KEYS & {str(key).lower() for key in source}:
        raise SftpError(PASSWORD_REFUSAL)
    url = source.get("url")
    if not isinstance(url, str) or not url.strip():
        raise SftpError("an SFTP source needs a url: sftp://user@host[:port]/path")
    parts = urlsplit(url.strip())
    if parts.scheme.lower() != "sftp":
        raise SftpError(f"not an SFTP URL (expected sftp://user@host[:port]/path): {parts.scheme}://…")
    if parts.password is not None:
        raise SftpError(PASSWORD_REFUSAL)
    if not parts.hostname:
        raise SftpError("the SFTP URL names no host: sftp://user@host[:port]/path")
    try:
        port = parts.port or DEFAULT_PORT
    except ValueError as exc:
        raise SftpError(f"the SFTP URL has an invalid port: {exc}") from None
    username = unquote(parts.username) if parts.username else source.get("username")
    if not username:
        raise SftpError("the SFTP URL names no user: sftp://user@host[:port]/path")
    path = unquote(parts.path)
    if path in ("", "/"):
        raise SftpError("the SFTP URL names no folder: sftp://user@host[:port]/path (e.g. /outbox)")
    if source.get("identity_file") in (None, ""):
        raise SftpError("no private key given: set identity_file in the source (or --identity-file)")
    identity_file = _expand(source["identity_file"], "identity_file")
    if not identity_file.is_file():
        raise SftpError(f"private key {identity_file} not found")
    known_hosts = _expand(source.get("known_hosts") or DEFAULT_KNOWN_HOSTS, "known_hosts")
    if not known_hosts.is_file():
        raise SftpError(
            f"known_hosts file {known_hosts} not found: the server's host key must be recorded there "
            "before the first pickup (see docs/sftp.md)"
        )
    timeout = source.get("timeout", DEFAULT_TIMEOUT_SECONDS)
    if not isinstance(timeout, int | float) or isinstance(timeout, bool) or timeout <= 0:
        raise SftpError(f"timeout must be a positive number of seconds, got {timeout!r}")
    return SftpSettings(parts.hostname, port, str(username), path, identity_file, known_hosts, float(timeout))


def is_pickup_name(name: str) -> bool:
    """A remote file name worth picking up: a visible, complete ``.csv`` or ``.zip`` file."""
    return not name.startswith(".") and name.lower().endswith(PICKUP_SUFFIXES)
