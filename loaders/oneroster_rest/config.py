"""The settings of one OneRoster REST source, read from its (parsed YAML) source entry.

Secrets are never part of the entry: it names the environment variables that hold them
(``client_secret_env``, optionally ``client_id_env``). A literal ``client_secret`` is refused,
so a secret cannot end up in a committed config file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from loaders.source_config import ConfigError, http_url, number, unknown_keys
from loaders.spine import DEFAULT_MAX_TOMBSTONE_SHARE

SOURCE_KIND = "oneroster_rest"

# OneRoster files pulled over REST, in load order, and the collection endpoint of each.
ENTITIES = ("orgs", "academicSessions", "courses", "classes", "users", "enrollments", "demographics")
DEFAULT_ENDPOINTS: dict[str, tuple[str, ...]] = {entity: (entity,) for entity in ENTITIES}

AUTH_TYPES = ("oauth2", "oauth1", "none")
OAUTH1_SIGNATURE_METHODS = ("HMAC-SHA256", "HMAC-SHA1")
SECRET_KEYS = ("client_secret", "consumer_secret", "password", "access_token", "token")


class RestConfigError(ConfigError):
    """The source entry cannot be used as it is; the message names the setting to fix."""


@dataclass(frozen=True)
class RetrySettings:
    """How failed requests (HTTP 429, 5xx, dropped connections) are retried: dlt's retrying
    session waits ``backoff_factor * 2**attempt`` seconds (or the server's ``Retry-After``),
    at most ``max_delay``, for at most ``max_attempts`` attempts in all."""

    max_attempts: int = 5
    backoff_factor: float = 1.0
    max_delay: float = 60.0


@dataclass(frozen=True)
class AuthSettings:
    """How requests are authorised. ``client_secret`` is resolved from the environment."""

    type: str
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    secret_setting: str | None = None  # "auth.client_secret_env (ROLLCALL_SIS_SECRET)", for messages
    token_url: str | None = None
    scope: str | None = None
    client_auth: str = "basic"  # oauth2: client credentials in a Basic header or in the form body
    signature_method: str = "HMAC-SHA256"  # oauth1


@dataclass(frozen=True)
class RestSourceConfig:
    """One OneRoster REST source: where it is, how to authenticate, how to page and retry."""

    base_url: str
    version_path: str
    auth: AuthSettings
    page_size: int = 100
    timeout: float = 60.0
    retry: RetrySettings = RetrySettings()
    endpoints: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_ENDPOINTS))
    full_pull_every_days: float | None = 7.0
    max_tombstone_share: float = DEFAULT_MAX_TOMBSTONE_SHARE

    @property
    def api_root(self) -> str:
        """Base URL joined with the version path: ``https://sis.example/ims/oneroster/v1p1``."""
        return f"{self.base_url}/{self.version_path}" if self.version_path else self.base_url

    @classmethod
    def from_source(cls, source: dict[str, Any], environ: dict[str, str] | None = None) -> RestSourceConfig:
        """Validate a source entry and resolve its secrets from ``environ`` (default: the process
        environment). Raises ``RestConfigError`` naming the offending setting."""
        environ = dict(os.environ) if environ is None else environ
        if not isinstance(source, dict):
            raise RestConfigError("the source entry must be a mapping of settings")
        kind = source.get("kind", SOURCE_KIND)
        if kind != SOURCE_KIND:
            raise RestConfigError(f"kind is {kind!r}; this puller reads sources of kind {SOURCE_KIND!r}", key="kind")
        unknown = unknown_keys(
            source,
            {
                "kind",
                "name",
                "cadence",  # read by `rollcall sync`
                "base_url",
                "version_path",
                "auth",
                "page_size",
                "timeout",
                "retry",
                "endpoints",
                "full_pull_every_days",
                "max_tombstone_share",
            },
        )
        if unknown:
            raise RestConfigError(f"unknown setting(s) {', '.join(unknown)} (see docs/rest.md)", key=unknown[0])
        return cls(
            base_url=_base_url(source.get("base_url")),
            version_path=str(source.get("version_path", "v1p1") or "").strip("/"),
            auth=_auth(source.get("auth"), environ),
            page_size=number(source, "page_size", 100, int, RestConfigError, minimum=1),
            timeout=number(source, "timeout", 60.0, float, RestConfigError, minimum=0.001),
            retry=_retry(source.get("retry") or {}),
            endpoints=_endpoints(source.get("endpoints") or {}),
            full_pull_every_days=(
                None
                if source.get("full_pull_every_days", 7) is None
                else number(source, "full_pull_every_days", 7.0, float, RestConfigError, minimum=0)
            ),
            max_tombstone_share=number(
                source, "max_tombstone_share", DEFAULT_MAX_TOMBSTONE_SHARE, float, RestConfigError, minimum=0
            ),
        )


def _base_url(value: Any) -> str:
    if not value or not isinstance(value, str):
        raise RestConfigError("base_url is missing (e.g. https://sis.example/ims/oneroster)", key="base_url")
    url = http_url(value, "base_url", RestConfigError)
    parsed = urlparse(url)
    if parsed.query or parsed.fragment:
        raise RestConfigError(f"base_url {value!r} must not carry a query or fragment", key="base_url")
    if parsed.username or parsed.password:
        raise RestConfigError(
            "base_url must not carry credentials; use auth.client_id / auth.client_secret_env", key="base_url"
        )
    return url


def _retry(value: Any) -> RetrySettings:
    if not isinstance(value, dict):
        raise RestConfigError("retry must be a mapping (max_attempts, backoff_factor, max_delay)", key="retry")
    unknown = unknown_keys(value, {"max_attempts", "backoff_factor", "max_delay"})
    if unknown:
        raise RestConfigError(f"unknown retry setting(s) {', '.join(unknown)}", key=f"retry.{unknown[0]}")
    defaults = RetrySettings()
    options = {"error": RestConfigError, "prefix": "retry."}
    return RetrySettings(
        max_attempts=number(value, "max_attempts", defaults.max_attempts, int, minimum=1, **options),
        backoff_factor=number(value, "backoff_factor", defaults.backoff_factor, float, minimum=0, **options),
        max_delay=number(value, "max_delay", defaults.max_delay, float, minimum=0, **options),
    )


def _endpoints(value: Any) -> dict[str, tuple[str, ...]]:
    """Per-entity endpoint overrides, e.g. ``{users: [students, teachers], academicSessions: terms}``."""
    if not isinstance(value, dict):
        raise RestConfigError("endpoints must map an entity to a path or a list of paths", key="endpoints")
    endpoints = dict(DEFAULT_ENDPOINTS)
    for entity, paths in value.items():
        if entity not in ENTITIES:
            raise RestConfigError(
                f"endpoints.{entity}: not a OneRoster entity ({', '.join(ENTITIES)})", key=f"endpoints.{entity}"
            )
        paths = [paths] if isinstance(paths, str) else paths
        if not paths or not all(isinstance(p, str) and p.strip("/") for p in paths):
            raise RestConfigError(f"endpoints.{entity} must be a path or a list of paths", key=f"endpoints.{entity}")
        endpoints[entity] = tuple(p.strip("/") for p in paths)
    return endpoints


def _from_env(auth: dict[str, Any], key: str, environ: dict[str, str], required: bool) -> str | None:
    """The value of the environment variable that ``auth.<key>`` names."""
    name = auth.get(key)
    if name is None:
        if required:
            raise RestConfigError(
                f"auth.{key} is missing: name the environment variable that holds the secret", key=f"auth.{key}"
            )
        return None
    if not isinstance(name, str) or not name:
        raise RestConfigError(f"auth.{key} must be the name of an environment variable", key=f"auth.{key}")
    value = environ.get(name)
    if not value:
        raise RestConfigError(f"environment variable {name} (named by auth.{key}) is not set", key=f"auth.{key}")
    return value


def _auth(value: Any, environ: dict[str, str]) -> AuthSettings:
    if value is None:
        raise RestConfigError("auth is missing (type: oauth2 | oauth1 | none)", key="auth")
    if not isinstance(value, dict):
        raise RestConfigError("auth must be a mapping with a type (oauth2 | oauth1 | none)", key="auth")
    auth_type = str(value.get("type", "")).lower()
    if auth_type not in AUTH_TYPES:
        raise RestConfigError(
            f"auth.type is {value.get('type')!r}; expected one of {', '.join(AUTH_TYPES)}", key="auth.type"
        )
    literal = [key for key in SECRET_KEYS if key in value]
    if literal:
        raise RestConfigError(
            f"auth.{literal[0]} must not be written in the config; put the secret in an environment variable "
            "and name it in auth.client_secret_env",
            key=f"auth.{literal[0]}",
        )
    if auth_type == "none":
        return AuthSettings(type="none")
    client_id = value.get("client_id")
    if client_id is None:
        client_id = _from_env(value, "client_id_env", environ, required=False)
    if not client_id:
        raise RestConfigError("auth.client_id (or auth.client_id_env) is missing", key="auth.client_id")
    secret = _from_env(value, "client_secret_env", environ, required=True)
    secret_setting = f"auth.client_secret_env ({value['client_secret_env']})"
    if auth_type == "oauth1":
        method = str(value.get("signature_method", "HMAC-SHA256")).upper()
        if method not in OAUTH1_SIGNATURE_METHODS:
            raise RestConfigError(
                f"auth.signature_method is {value.get('signature_method')!r}; "
                f"expected {' or '.join(OAUTH1_SIGNATURE_METHODS)}",
                key="auth.signature_method",
            )
        return AuthSettings("oauth1", str(client_id), secret, secret_setting, signature_method=method)
    token_url = value.get("token_url")
    parsed = urlparse(str(token_url or ""))
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise RestConfigError(f"auth.token_url {token_url!r} is not an http(s) URL", key="auth.token_url")
    client_auth = str(value.get("client_auth", "basic")).lower()
    if client_auth not in ("basic", "body"):
        raise RestConfigError(
            f"auth.client_auth is {value.get('client_auth')!r}; expected basic or body", key="auth.client_auth"
        )
    scope = value.get("scope")
    return AuthSettings(
        "oauth2",
        str(client_id),
        secret,
        secret_setting,
        token_url=str(token_url),
        scope=" ".join(scope) if isinstance(scope, list) else scope,
        client_auth=client_auth,
    )
