"""Settings of the Clever pull: API versions, which collections feed which OneRoster file, the
source entry (``kind: clever``) and the grade codes.

A source entry is the parsed YAML of one configured source::

    kind: clever
    base_url: https://api.clever.com
    api_version: v3.0              # v3.0 | v3.1 | v1.1
    token_env: ROLLCALL_CLEVER_TOKEN
    page_size: 100
    max_tombstone_share: 0.10      # optional, as ``rollcall load --max-tombstone-share``

(``name`` and ``cadence``, read by ``rollcall sync``, may be present and are ignored here.)

The bearer token itself is only ever read from the environment variable named by ``token_env``.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from loaders.source_config import ConfigError, env_name, http_url, number, unknown_keys
from rollcall.settings import GRADE_XWALK_PATH

DEFAULT_BASE_URL = "https://api.clever.com"
DEFAULT_API_VERSION = "v3.0"
DEFAULT_TOKEN_ENV = "ROLLCALL_CLEVER_TOKEN"
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 10_000  # Clever's largest ``limit``

LEGACY_VERSIONS = ("v1.1",)  # flat students/teachers, the term embedded in each section
USERS_VERSIONS = ("v3.0", "v3.1")  # /users?role=..., terms and courses of their own
API_VERSIONS = LEGACY_VERSIONS + USERS_VERSIONS

# Clever grade spellings the crosswalk seed does not list (lower-case).
CLEVER_GRADE_ALIASES = {"postgraduate": "PS"}

# The OneRoster files a Clever pull writes, in landing order.
OUTPUT_FILES = ("orgs", "academicSessions", "courses", "classes", "users", "enrollments", "demographics")

# Names accepted in ``entities`` (any case): the OneRoster files and the Clever collections.
# A file is always written whole, so asking for ``students`` rewrites users.csv with every role.
ENTITY_FILES: dict[str, tuple[str, ...]] = {
    **{name.lower(): (name,) for name in OUTPUT_FILES},
    "districts": ("orgs",),
    "schools": ("orgs",),
    "terms": ("academicSessions",),
    "sections": ("classes", "enrollments"),
    "students": ("users", "demographics"),
    "teachers": ("users",),
    "contacts": ("users",),
}

# Clever collections each OneRoster file is built from (the districts list is always fetched).
FILE_COLLECTIONS: dict[str, tuple[str, ...]] = {
    "orgs": ("districts", "schools"),
    "academicSessions": ("terms",),
    "courses": ("courses",),
    "classes": ("sections",),
    "enrollments": ("sections",),
    "users": ("students", "teachers", "contacts"),
    "demographics": ("students",),
}
# v1.1 has no terms, courses or contacts lists: terms and courses are read from the sections.
LEGACY_FILE_COLLECTIONS: dict[str, tuple[str, ...]] = {
    **FILE_COLLECTIONS,
    "academicSessions": ("sections",),
    "courses": ("sections",),
    "users": ("students", "teachers"),
}


# Keys of a ``rollcall sync`` source entry that are not the pull's business.
SYNC_KEYS = ("kind", "name", "cadence")


class CleverPullError(Exception):
    """A pull that cannot go on (HTTP error, unreachable API, a payload that is not Clever's); the
    message is one line naming the endpoint. Nothing was written to the warehouse."""


class CleverConfigError(ConfigError, CleverPullError):
    """The source entry, the token variable, the entities or the district are wrong; the message is
    one line naming the setting. Nothing was written to the warehouse."""


@dataclass(frozen=True)
class Endpoint:
    """One Clever list endpoint: path below the versioned API URL plus fixed query parameters."""

    collection: str  # districts, schools, terms, courses, sections, students, teachers, contacts
    path: str
    params: dict[str, str] = field(default_factory=dict)


def endpoint_for(collection: str, api_version: str) -> Endpoint:
    """The list endpoint of a collection: v3 lists people through ``/users?role=``."""
    if api_version in USERS_VERSIONS:
        roles = {"students": "student", "teachers": "teacher", "contacts": "contact"}
        if collection in roles:
            return Endpoint(collection, "users", {"role": roles[collection]})
    return Endpoint(collection, collection)


@dataclass(frozen=True)
class CleverSource:
    """A validated ``kind: clever`` source entry."""

    base_url: str = DEFAULT_BASE_URL
    api_version: str = DEFAULT_API_VERSION
    token_env: str = DEFAULT_TOKEN_ENV
    page_size: int = DEFAULT_PAGE_SIZE
    max_tombstone_share: float | None = None

    @classmethod
    def from_entry(cls, entry: Mapping[str, Any]) -> CleverSource:
        """Check a parsed source entry; raises ``CleverConfigError`` naming the bad key."""
        error = CleverConfigError
        if not isinstance(entry, Mapping):
            raise error("the Clever source entry must be a mapping (kind, base_url, api_version, ...)")
        known = {"base_url", "api_version", "token_env", "page_size", "max_tombstone_share", *SYNC_KEYS}
        if "token" in entry:
            raise error(
                "the source entry holds a token: keep it in an environment variable and name that in token_env",
                key="token",
            )
        unknown = unknown_keys(entry, known)
        if unknown:
            raise error(f"unknown key(s) in the Clever source entry: {', '.join(unknown)}", key=unknown[0])
        kind = entry.get("kind", "clever")
        if kind != "clever":
            raise error(f"source kind is {kind!r}, not 'clever'", key="kind")
        base_url = http_url(entry.get("base_url") or DEFAULT_BASE_URL, "base_url", error)
        api_version = str(entry.get("api_version") or DEFAULT_API_VERSION)
        if api_version not in API_VERSIONS:
            raise error(
                f"api_version {api_version!r} is not supported; use one of {', '.join(API_VERSIONS)}",
                key="api_version",
            )
        token_env = env_name(str(entry.get("token_env") or DEFAULT_TOKEN_ENV), "token_env", error)
        page_size = number(entry, "page_size", DEFAULT_PAGE_SIZE, int, error, minimum=1, maximum=MAX_PAGE_SIZE)
        share = entry.get("max_tombstone_share")
        if share is not None:
            share = number(entry, "max_tombstone_share", 0.0, float, error, minimum=0, maximum=1)
        return cls(base_url, api_version, token_env, page_size, share)

    @property
    def api_url(self) -> str:
        """The versioned API root, e.g. ``https://api.clever.com/v3.0`` (recorded as the load's source)."""
        return f"{self.base_url}/{self.api_version}"

    @property
    def is_legacy(self) -> bool:
        return self.api_version in LEGACY_VERSIONS

    def read_token(self) -> str:
        """The bearer token from the environment; raises ``CleverConfigError`` when it is not set."""
        token = os.environ.get(self.token_env, "").strip()
        if not token:
            raise CleverConfigError(
                f"environment variable {self.token_env} is not set: it must hold the Clever token", key="token_env"
            )
        return token

    def collections_for(self, files: Iterable[str]) -> list[str]:
        """The Clever collections to fetch for these OneRoster files, districts first."""
        table = LEGACY_FILE_COLLECTIONS if self.is_legacy else FILE_COLLECTIONS
        wanted = ["districts"]
        for name in files:
            wanted.extend(c for c in table[name] if c not in wanted)
        return wanted


def resolve_entities(entities: Iterable[str] | None) -> list[str]:
    """OneRoster files to write for ``entities`` (files or Clever collections); None means all."""
    if entities is None:
        return list(OUTPUT_FILES)
    wanted: set[str] = set()
    for name in entities:
        files = ENTITY_FILES.get(str(name).strip().lower())
        if files is None:
            raise CleverConfigError(
                f"unknown entity {name!r}; use any of {', '.join(sorted(ENTITY_FILES))}", key="entities"
            )
        wanted.update(files)
    if not wanted:
        raise CleverConfigError("no entity to pull: the list of entities is empty", key="entities")
    return [name for name in OUTPUT_FILES if name in wanted]


@cache
def grade_codes() -> dict[str, str]:
    """Lower-case grade spelling -> CEDS grade level, from the ``xwalk_grade_levels`` seed."""
    with GRADE_XWALK_PATH.open(newline="", encoding="utf-8") as handle:
        codes = {row["source_grade"].strip().lower(): row["ceds_grade_level"] for row in csv.DictReader(handle)}
    return {**codes, **CLEVER_GRADE_ALIASES}


def ceds_grade(value: str | None) -> str:
    """A Clever grade (``Kindergarten``, ``1`` … ``12``, ``PreKindergarten``) as its CEDS code
    (``KG``, ``01`` … ``12``, ``PK``); an unknown spelling is kept as sent for staging to flag."""
    text = (value or "").strip()
    return grade_codes().get(text.lower(), text)
