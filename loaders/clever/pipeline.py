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

from loaders.clever.client import CleverClient
from loaders.clever.mapping import Snapshot, build_tables, latest, text
from loaders.clever.settings import CleverConfigError, CleverSource, resolve_entities
from loaders.clever.writer import write_package
from loaders.district_gate import Evidence, judge_file
from loaders.oneroster.pipeline import load_package
from loaders.registry import District, get_district, load_registry
from loaders.source_config import read_yaml
from loaders.sources import PullRequest, PullSource
from loaders.spine import LoadReport

logger = logging.getLogger(__name__)


class CleverPullSource(PullSource):
    """``kind: clever``: settings in ``loaders.clever.settings.CleverSource``."""

    kind = "clever"

    def settings(self, entry: Mapping[str, Any]) -> CleverSource:
        return CleverSource.from_entry(entry)

    def run(self, entry: Mapping[str, Any], request: PullRequest) -> LoadReport:
        """Pull ``request.entities`` (default: all) of one district from Clever.

        ``entities`` names OneRoster files (``users``, ``classes``, ...) or Clever collections
        (``students``, ``sections``, ...); a file is always written whole. ``full`` lands the
        files as ``bulk`` snapshots, so records Clever no longer returns are tombstoned; otherwise
        they land as ``delta`` files that upsert and remove nothing.

        Raises, before anything is written, ``CleverConfigError`` (bad entry, token variable not
        set, unknown entity, a district other than the one asked for), ``CleverPullError`` (token
        refused, HTTP or network error, unexpected payload) or ``UnknownDistrictError``; messages
        are one line.
        """
        config = self.settings(entry)
        files = resolve_entities(request.entities)
        district = get_district(request.district_id, request.registry)
        client = CleverClient(config, config.read_token())

        snapshot = Snapshot(config.api_version, {"districts": client.records("districts")})
        check_district(snapshot, district, config, request.registry)  # before any roster is requested
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
                "bulk" if request.full else "delta",
                system_code=f"clever-{config.api_version}",
                fallback_modified=latest(clever_district.get("last_sync"), clever_district.get("last_modified")),
            )
            options = request.load_arguments(config.max_tombstone_share, source_label=config.api_url)
            return load_package(folder, request.district_id, request.database, **options)


SOURCE = CleverPullSource()
pull = SOURCE.pull


def check_district(snapshot: Snapshot, district: District, config: CleverSource, registry: Path) -> None:
    """The token must see exactly one Clever district, and the district gate must place it at the
    registered district: by its NCES id, else by its Clever id listed in the registry's
    ``account_ids``, else by its name. Checked before anything is written, whatever the entities."""
    districts = snapshot.records("districts")
    where = f"GET {config.api_url}/districts"
    if not districts:
        raise CleverConfigError("the token sees no district", where=where)
    if len(districts) > 1:
        raise CleverConfigError(
            f"the token sees {len(districts)} districts; a pull takes one district's token", where=where
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
            f"{decision.reason} (to pull it for {district.district_id}, add the Clever district id "
            f"{text(clever.get('id'))} to its account_ids in the district registry)",
            where=where,
        )


def read_source_file(path: str | Path) -> dict[str, Any]:
    """A source entry from a YAML file (one mapping, e.g. ``kind: clever`` ...)."""
    entry = read_yaml(path, CleverConfigError)
    if not isinstance(entry, Mapping):
        raise CleverConfigError("must hold one source entry (a mapping with kind: clever)", where=str(path))
    return dict(entry)
