"""Pull a district from the Clever API and land it through the OneRoster spine.

Flow: check the source entry, the district and the token -> fetch the Clever lists the requested
files need (credentials dropped as each record arrives) -> check that the token's district is
the one named -> map to OneRoster 1.1 rows -> write them as a CSV package in a private temporary
folder -> ``load_package`` (lineage, audit tables, fingerprints, tombstones) -> remove the folder.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb
import yaml

from loaders.clever.client import CleverClient
from loaders.clever.mapping import Snapshot, build_tables, latest, text
from loaders.clever.settings import CleverConfigError, CleverSource, resolve_entities
from loaders.clever.writer import write_package
from loaders.district_gate import Evidence, judge_file
from loaders.oneroster.pipeline import DEFAULT_MAX_TOMBSTONE_SHARE, LoadReport, load_package
from loaders.registry import REGISTRY_PATH, District, get_district, load_registry

logger = logging.getLogger(__name__)


def pull(
    source: dict,
    *,
    district_id: str,
    database: Path,
    entities: list[str] | None = None,
    full: bool = False,
    registry: Path = REGISTRY_PATH,
    pipelines_dir: Path | None = None,
) -> LoadReport:
    """Pull ``entities`` (default: all) of one district from Clever into ``database``.

    ``source`` is a ``kind: clever`` source entry (see ``loaders.clever.settings``). ``entities``
    names OneRoster files (``users``, ``classes``, ...) or Clever collections (``students``,
    ``sections``, ...); a file is always written whole. ``full`` lands the files as ``bulk``
    snapshots, so records Clever no longer returns are tombstoned; otherwise they land as
    ``delta`` files that upsert and remove nothing.

    Raises, before anything is written, ``CleverConfigError`` (bad entry, token variable not set,
    unknown entity, a district other than ``district_id``), ``CleverPullError`` (token refused, HTTP
    or network error, unexpected payload) or ``UnknownDistrictError``; messages are one line.
    """
    config = CleverSource.from_entry(source)
    files = resolve_entities(entities)
    district = get_district(district_id, registry)
    client = CleverClient(config, config.read_token())

    snapshot = Snapshot(config.api_version, {"districts": client.records("districts")})
    check_district(snapshot, district, config, registry)  # before any roster is requested
    for collection in config.collections_for(files):
        if collection not in snapshot.collections:
            snapshot.collections[collection] = client.records(collection)
    logger.info(
        "fetched from %s: %s",
        config.api_url,
        ", ".join(f"{len(records):,} {name}" for name, records in snapshot.collections.items()),
    )

    tables = build_tables(snapshot, files, config.is_legacy)
    clever_district = snapshot.records("districts")[0]
    with tempfile.TemporaryDirectory(prefix="rollcall-clever-") as folder:
        write_package(
            Path(folder),
            tables,
            "bulk" if full else "delta",
            system_code=f"clever-{config.api_version}",
            fallback_modified=latest(clever_district.get("last_sync"), clever_district.get("last_modified")),
        )
        return load_package(
            folder,
            district_id,
            database,
            pipelines_dir=pipelines_dir,
            registry=registry,
            source_label=config.api_url,
            max_tombstone_share=(
                DEFAULT_MAX_TOMBSTONE_SHARE if config.max_tombstone_share is None else config.max_tombstone_share
            ),
        )


def check_district(snapshot: Snapshot, district: District, config: CleverSource, registry: Path) -> None:
    """The token must see exactly one Clever district, and the district gate must place it at the
    registered district: by its NCES id, else by its Clever id listed in the registry's
    ``account_ids``, else by its name. Checked before anything is written, whatever the entities."""
    districts = snapshot.records("districts")
    where = f"GET {config.api_url}/districts"
    if not districts:
        raise CleverConfigError(f"{where}: the token sees no district")
    if len(districts) > 1:
        raise CleverConfigError(
            f"{where}: the token sees {len(districts)} districts; a pull takes one district's token"
        )
    clever = districts[0]
    evidence = Evidence(
        ids={text(clever.get("nces_id"))} - {""},
        soft_ids={text(clever.get("id"))} - {""},
        names={text(clever.get("name"))} - {""},
    )
    with duckdb.connect() as con:
        decision = judge_file(con, evidence, district, load_registry(registry))
    if decision is not None and not decision.accepted:
        raise CleverConfigError(
            f"{where}: {decision.reason} (to pull it for {district.district_id}, add the Clever district id "
            f"{text(clever.get('id'))} to its account_ids in the district registry)"
        )


def read_source_file(path: str | Path) -> dict[str, Any]:
    """A source entry from a YAML file (one mapping, e.g. ``kind: clever`` ...)."""
    try:
        entry = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise CleverConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise CleverConfigError(f"{path} is not valid YAML ({type(exc).__name__})") from None
    if not isinstance(entry, Mapping):
        raise CleverConfigError(f"{path} must hold one source entry (a mapping with kind: clever)")
    return dict(entry)
