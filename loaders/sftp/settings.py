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

from loaders.source_config import ConfigError

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


class SftpConfigError(ConfigError, SftpError):
    """The SFTP source entry cannot be used (a password, no key, a URL without host or folder);
    raised before any connection."""


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
        raise SftpConfigError(f"{what} must be a file path", key=what)
    return Path(str(value).strip()).expanduser()


def parse_source(source: Mapping[str, Any]) -> SftpSettings:
    """Validate an SFTP source mapping; raises ``SftpConfigError`` with a one-line reason.

    A configured password (a ``password`` key, or ``user:password@`` in the URL) is refused.
    """
    passwords = sorted(PASSWORD_KEYS & {str(key).lower() for key in source})
    if passwords:
        raise SftpConfigError(PASSWORD_REFUSAL, key=passwords[0])
    url = source.get("url")
    if not isinstance(url, str) or not url.strip():
        raise SftpConfigError("an SFTP source needs a url: sftp://user@host[:port]/path", key="url")
    parts = urlsplit(url.strip())
    if parts.scheme.lower() != "sftp":
        raise SftpConfigError(f"not an SFTP URL (expected sftp://user@host[:port]/path): {parts.scheme}://…", key="url")
    if parts.password is not None:
        raise SftpConfigError(PASSWORD_REFUSAL, key="url")
    if not parts.hostname:
        raise SftpConfigError("the SFTP URL names no host: sftp://user@host[:port]/path", key="url")
    try:
        port = parts.port or DEFAULT_PORT
    except ValueError as exc:
        raise SftpConfigError(f"the SFTP URL has an invalid port: {exc}", key="url") from None
    username = unquote(parts.username) if parts.username else source.get("username")
    if not username:
        raise SftpConfigError("the SFTP URL names no user: sftp://user@host[:port]/path", key="url")
    path = unquote(parts.path)
    if path in ("", "/"):
        raise SftpConfigError("the SFTP URL names no folder: sftp://user@host[:port]/path (e.g. /outbox)", key="url")
    if source.get("identity_file") in (None, ""):
        raise SftpConfigError(
            "no private key given: set identity_file in the source (or --identity-file)", key="identity_file"
        )
    identity_file = _expand(source["identity_file"], "identity_file")
    if not identity_file.is_file():
        raise SftpConfigError(f"private key {identity_file} not found", key="identity_file")
    known_hosts = _expand(source.get("known_hosts") or DEFAULT_KNOWN_HOSTS, "known_hosts")
    if not known_hosts.is_file():
        raise SftpConfigError(
            f"known_hosts file {known_hosts} not found: the server's host key must be recorded there "
            "before the first pickup (see docs/sftp.md)",
            key="known_hosts",
        )
    timeout = source.get("timeout", DEFAULT_TIMEOUT_SECONDS)
    if not isinstance(timeout, int | float) or isinstance(timeout, bool) or timeout <= 0:
        raise SftpConfigError(f"timeout must be a positive number of seconds, not {timeout!r}", key="timeout")
    return SftpSettings(parts.hostname, port, str(username), path, identity_file, known_hosts, float(timeout))


def is_pickup_name(name: str) -> bool:
    """A remote file name worth picking up: a visible, complete ``.csv`` or ``.zip`` file."""
    return not name.startswith(".") and name.lower().endswith(PICKUP_SUFFIXES)
