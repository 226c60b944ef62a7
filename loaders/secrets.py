"""Which columns hold secrets (passwords, PINs, tokens), and what of a bad row may be kept.

One rule for every layout (OneRoster, mapped SIS / vendor exports, API records): a column is a
secret when its name, split into words (``userPassword``, ``Student_Web_Password``, ``api-key``)
and compared case- and separator-insensitively, has a word of ``SECRET_WORDS`` or contains a
fragment of ``SECRET_FRAGMENTS``. A secret column is never read: not into a raw column, not
into ``_extras``/``extras``, not into the quarantine.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Sequence

# whole words (after splitting camelCase and separators)
SECRET_WORDS = frozenset(
    {
        "pwd",
        "pw",
        "pass",
        "passwd",
        "passwds",
        "passcode",
        "passphrase",
        "password",
        "passwords",
        "pin",
        "pins",
        "secret",
        "secrets",
        "token",
        "tokens",
        "credential",
        "credentials",
        "apikey",
        "hash",
        "salt",
        "otp",
    }
)
# fragments anywhere in the name with separators removed (``StudentWebPassword``, ``pinnumber``)
SECRET_FRAGMENTS = ("password", "passwd", "passphrase", "passcode", "secret", "credential", "apikey", "accesskey")
# whole names (separators removed) that are secrets although no word above matches
SECRET_NAMES = frozenset({"pinnumber", "pincode", "userpin", "studentpin", "webpin", "accesstoken", "authtoken"})

# a last word that makes the column describe a secret rather than hold one (``credentialType``)
DESCRIPTOR_WORDS = frozenset({"type", "kind"})

_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")


def name_words(name: str) -> list[str]:
    """``Student_Web_Password`` -> ``['student', 'web', 'password']``; ``userPIN`` -> ``['user', 'pin']``."""
    return [word.lower() for word in _WORD.findall(name)]


def is_secret_column(name: str | None) -> bool:
    """True when a column of this name holds a secret (see the module docstring)."""
    if not name:
        return False
    words = name_words(name)
    if words and words[-1] in DESCRIPTOR_WORDS:
        return False
    squashed = re.sub(r"[^0-9a-z]", "", name.lower())
    if squashed in SECRET_WORDS or squashed in SECRET_NAMES:
        return True
    if any(fragment in squashed for fragment in SECRET_FRAGMENTS):
        return True
    return any(word in SECRET_WORDS for word in words)


def secret_positions(header: Sequence[str]) -> tuple[int, ...]:
    """0-based positions of the header's secret columns."""
    return tuple(position for position, name in enumerate(header) if is_secret_column(name))


def without_secrets(record):
    """A record (API object) without its secret keys, at any depth (lists of objects included)."""
    if isinstance(record, dict):
        return {key: without_secrets(value) for key, value in record.items() if not is_secret_column(str(key))}
    if isinstance(record, list):
        return [without_secrets(item) for item in record]
    return record


def readable_fields(header: Sequence[str], line: str | None) -> str | None:
    """What of a quarantined CSV line of a file with secret columns may be kept: its fields as a
    JSON object by header name, secret columns left out. None when the line does not split into
    exactly the header's fields: a secret could then sit at any position."""
    if line is None:
        return None
    try:
        rows = list(csv.reader([line]))
    except csv.Error:
        return None
    if len(rows) != 1 or len(rows[0]) != len(header):
        return None
    secrets = set(secret_positions(header))
    return json.dumps(
        {
            name or f"column_{i + 1}": value
            for i, (name, value) in enumerate(zip(header, rows[0], strict=True))
            if i not in secrets
        },
        ensure_ascii=False,
    )


def kept_line(header: Sequence[str], line: str | None) -> tuple[str | None, bool]:
    """The text a quarantined line may be stored as, and whether it was redacted: the raw line
    when the header has no secret column, else ``readable_fields`` (never the raw line)."""
    if not secret_positions(header):
        return line, False
    return readable_fields(header, line), True


def secret_names(header: Iterable[str]) -> list[str]:
    return [name for name in header if is_secret_column(name)]


def dropped_detail(names: Sequence[str]) -> str:
    """The ``secret_dropped`` warning's text: column names only, never values."""
    return f"secret column(s) not read: {', '.join(names)}; secrets are never stored"
