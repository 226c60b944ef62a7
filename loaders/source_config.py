"""Reading configuration: one error class for every parser (REST, Clever and SFTP source entries,
``rollcall sync``'s district configs), and the typed readers they share.

A ``ConfigError`` says, on one line, where the setting is (a file, a source), which key and why:
``str(error)`` is ``"<where>: <reason>"`` (or the reason alone when the entry came from no file),
and the reason names the key. ``error.key`` holds the key (dotted, ``auth.token_url``) for code
that wants it. Secrets never appear in a message: a reader names the setting, not its value,
where the value may be secret.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml

ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class ConfigError(ValueError):
    """A configuration cannot be used as it is; the message names where, the key and the reason."""

    def __init__(self, reason: str, *, key: str | None = None, where: str | None = None) -> None:
        self.reason, self.key, self.where = reason, key, where
        super().__init__(f"{where}: {reason}" if where else reason)


def unknown_keys(entry: Mapping[str, Any], known: Iterable[str]) -> list[str]:
    """The keys of ``entry`` that are not ``known``, sorted."""
    return sorted(str(key) for key in set(entry) - set(known))


def number(
    entry: Mapping[str, Any],
    key: str,
    default: float,
    kind: type,
    error: type[ConfigError] = ConfigError,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    prefix: str = "",
) -> Any:
    """``entry[key]`` as ``kind`` (int or float) within the bounds; a boolean is not a number.
    ``prefix`` is the dotted path of ``entry`` in the source (``retry.``), for the message."""
    value = entry.get(key, default)
    name = f"{prefix}{key}"
    try:
        if isinstance(value, bool):
            raise TypeError
        parsed = kind(value)
    except (TypeError, ValueError):
        raise error(f"{name} must be a number, not {value!r}", key=name) from None
    if minimum is not None and maximum is not None and not minimum <= parsed <= maximum:
        raise error(f"{name} must be between {minimum:,} and {maximum:,}, not {value!r}", key=name)
    if minimum is not None and parsed < minimum:
        raise error(f"{name} must be at least {minimum}, not {value!r}", key=name)
    return parsed


def http_url(value: Any, key: str, error: type[ConfigError] = ConfigError) -> str:
    """An http(s) URL with a host, without trailing slashes."""
    parsed = urlparse(str(value or "").strip())
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise error(f"{key} {value!r} is not an http(s) URL", key=key)
    return str(value).strip().rstrip("/")


def env_name(value: Any, key: str, error: type[ConfigError] = ConfigError) -> str:
    """The name of an environment variable (the variable holds a secret; the config names it)."""
    if not isinstance(value, str) or not ENV_NAME.fullmatch(value):
        raise error(f"{key} {value!r} is not an environment variable name", key=key)
    return value


def read_yaml(path: str | Path, error: type[ConfigError] = ConfigError) -> Any:
    """The parsed YAML of a config file; a file that cannot be read or parsed is a ``ConfigError``
    naming the file (and the line, when YAML says which)."""
    try:
        return yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise error(f"cannot read ({exc.strerror or exc})", where=str(path)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" (line {mark.line + 1})" if mark else ""
        raise error(f"not valid YAML{line}", where=str(path)) from None
