"""Pull a district's roster from a OneRoster 1.1 REST API and land it like a CSV drop.

Flow: read where the last pull of each entity left off (``audit.rest_pull_state``) -> decide
per entity between a full listing (``bulk``: the first pull, ``full=True``, or
``full_pull_every_days`` elapsed) and the records modified since the cursor (``delta``, with
``filter=dateLastModified>'<cursor>'``) -> page through every endpoint with dlt's RESTClient ->
write the records as a OneRoster CSV package (with a manifest saying bulk or delta per file) in
a private temporary folder -> ``load_package`` lands it (lineage, audit, fingerprints, bulk
tombstones, the truncation guard) -> move each landed entity's cursor.

Any HTTP or protocol failure stops the pull before ``load_package`` runs: nothing is written
and no cursor moves. The temporary package (it holds student records) is always removed.
"""

from __future__ import annotations

import csv
import logging
import tempfile
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb

from loaders.audit import utc_now
from loaders.oneroster.pipeline import load_package
from loaders.oneroster.settings import file_specs
from loaders.oneroster_rest.client import EndpointPull, EntityPull, OneRosterClient
from loaders.oneroster_rest.config import ENTITIES, RestConfigError, RestSourceConfig
from loaders.oneroster_rest.errors import RestPullError
from loaders.oneroster_rest.records import RecordWriter, flatten_record
from loaders.oneroster_rest.state import EntityState, read_state, save_state
from loaders.registry import get_district
from loaders.source_config import read_yaml
from loaders.sources import PullRequest, PullSource
from loaders.spine import LoadReport

log = logging.getLogger("rollcall.rest")

# Every OneRoster 1.1 file the manifest lists; the ones not pulled are marked absent.
MANIFEST_FILES = (
    "academicSessions",
    "categories",
    "classes",
    "classResources",
    "courses",
    "courseResources",
    "demographics",
    "enrollments",
    "lineItems",
    "orgs",
    "resources",
    "results",
    "users",
)
REMOVED_STATUSES = ("tobedeleted", "inactive")


def resolve_entities(entities: list[str] | None) -> list[str]:
    """The entities to pull, in load order; names match case-insensitively.

    Files of the field table that OneRoster REST does not serve (attendance, calendar,
    gradebook files, ...) are skipped with a log line, so a scheduler may pass its whole list;
    a name that is no OneRoster file at all is an error.
    """
    if entities is None:
        return list(ENTITIES)
    by_lower = {e.lower(): e for e in ENTITIES}
    chosen: set[str] = set()
    for name in entities:
        key = str(name).strip().lower()
        if key in by_lower:
            chosen.add(by_lower[key])
        elif key in file_specs() and key != "manifest":
            log.info("%s: not served by OneRoster REST 1.1 rostering; skipped", file_specs()[key].name)
        else:
            raise RestConfigError(f"unknown entity {name!r}; expected some of {', '.join(ENTITIES)}", key="entities")
    if not chosen:
        raise RestConfigError(
            f"none of the entities asked for is served over OneRoster REST ({', '.join(ENTITIES)})", key="entities"
        )
    return [e for e in ENTITIES if e in chosen]


def plan_mode(state: EntityState | None, full: bool, config: RestSourceConfig) -> tuple[str, str | None]:
    """``("bulk", None)`` for a full listing, else ``("delta", cursor)``."""
    if full or state is None or not state.cursor_value:
        return "bulk", None
    every = config.full_pull_every_days
    if every is not None and (
        state.last_full_pull_at is None or utc_now() - state.last_full_pull_at >= timedelta(days=every)
    ):
        return "bulk", None
    return "delta", state.cursor_value


def _pull_entity(client: OneRosterClient, folder: Path, entity: str, mode: str, since: str | None) -> EntityPull:
    """Page through the entity's endpoints and write ``<entity>.csv``. Raises ``RestPullError``."""
    pulled = EntityPull(entity, mode, since)
    writer = RecordWriter(folder, entity)
    try:
        _read_endpoints(client, pulled, writer)
    except BaseException:
        writer.discard()
        raise
    writer.close()
    return pulled


def _read_endpoints(client: OneRosterClient, pulled: EntityPull, writer: RecordWriter) -> None:
    """Page through every endpoint of the entity into ``writer``; a record already received from an
    earlier endpoint is kept once."""
    entity, mode, since = pulled.entity, pulled.mode, pulled.since
    params = {"filter": f"dateLastModified>'{since}'"} if mode == "delta" else {}
    seen: set[str] = set()
    for path in client.config.endpoints[entity]:
        endpoint = EndpointPull(path)
        pulled.endpoints.append(endpoint)
        seen_here: set[str] = set()
        for records in client.pages(entity, path, params, endpoint):
            repeated = 0
            for record in records:
                endpoint.returned += 1
                sourced_id = str(record.get("sourcedId") or "").strip()
                if sourced_id and sourced_id in seen_here:
                    repeated += 1
                seen_here.add(sourced_id)
                if sourced_id and sourced_id in seen:
                    endpoint.duplicates += 1
                    continue
                seen.add(sourced_id)
                pulled.observe_modified(record.get("dateLastModified"))
                fields, extras = flatten_record(entity, record)
                if mode == "bulk":
                    if str(record.get("status") or "").strip().lower() in REMOVED_STATUSES:
                        pulled.removed_in_bulk += 1  # not part of the set: tombstoned if it was active
                        continue
                    fields["status"] = fields["dateLastModified"] = ""  # blank in bulk files (CSV binding)
                writer.add(fields, extras)
                endpoint.records += 1
            if records and repeated == len(records):
                raise RestPullError(
                    f"GET {client.endpoint_url(path)}: the page at offset {endpoint.returned - len(records)} "
                    "repeats records already received; the server does not honour offset"
                )
        announced = endpoint.total_announced
        if mode == "bulk" and announced is not None and endpoint.returned < announced:
            raise RestPullError(
                f"GET {client.endpoint_url(path)}: the server announced {announced} records (X-Total-Count) but "
                f"returned {endpoint.returned}; a full pull must be complete, nothing was loaded"
            )
        log.info(
            "%s: %s from /%s: %d records in %d request(s)%s",
            entity,
            "full listing" if mode == "bulk" else f"changes since {since}",
            path,
            endpoint.records,
            endpoint.requests,
            f" ({endpoint.duplicates} duplicates skipped)" if endpoint.duplicates else "",
        )
    if pulled.removed_in_bulk:
        log.info(
            "%s: %d records listed as tobedeleted were left out of the full listing", entity, pulled.removed_in_bulk
        )


def _write_manifest(folder: Path, pulls: list[EntityPull]) -> None:
    modes = {p.entity: p.mode for p in pulls}
    with (folder / "manifest.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["propertyName", "value"])
        writer.writerow(["manifest.version", "1.0"])
        writer.writerow(["oneroster.version", "1.1"])
        for name in MANIFEST_FILES:
            writer.writerow([f"file.{name}", modes.get(name, "absent")])
        writer.writerow(["source.systemName", "OneRoster REST"])


def read_source_file(path: str | Path, name: str | None = None) -> dict[str, Any]:
    """The source entry in a YAML file: the file's one mapping, or the ``kind: oneroster_rest``
    entry of its ``sources`` list (the one called ``name`` when there are several)."""
    entry = read_yaml(path, RestConfigError)
    if isinstance(entry, dict) and isinstance(entry.get("sources"), list):
        candidates = [
            s
            for s in entry["sources"]
            if isinstance(s, dict) and s.get("kind") == "oneroster_rest" and name in (None, s.get("name"))
        ]
        if len(candidates) != 1:
            which = f"called {name!r}" if name else "(name one with --name)"
            reason = f"{len(candidates)} oneroster_rest sources {which}; expected exactly one"
            raise RestConfigError(reason, key="sources", where=str(path))
        entry = candidates[0]
    if not isinstance(entry, dict):
        raise RestConfigError("must hold one source entry (a mapping with kind: oneroster_rest)", where=str(path))
    return dict(entry)


class RestPullSource(PullSource):
    """``kind: oneroster_rest``: settings in ``loaders.oneroster_rest.config.RestSourceConfig``."""

    kind = "oneroster_rest"

    def settings(self, entry: Mapping[str, Any]) -> RestSourceConfig:
        return RestSourceConfig.from_source(entry)

    def run(self, entry: Mapping[str, Any], request: PullRequest) -> LoadReport:
        """Pull ``request.entities`` (default: all seven roster entities) from the source.

        Each entity is pulled in full the first time, when ``full`` is set, or every
        ``full_pull_every_days``; otherwise only the records modified since the last landed pull.
        Returns ``load_package``'s report. Raises ``RestConfigError`` (bad entry, missing secret
        variable), ``UnknownDistrictError`` (district not in the registry) or ``RestPullError``
        (the server failed or refused; nothing was written) — all with one-line messages.
        """
        config = self.settings(entry)
        district_id, database = request.district_id, request.database
        get_district(district_id, request.registry)  # refuse unknown districts before any request
        wanted = resolve_entities(request.entities)
        try:
            state = read_state(database, district_id, config.base_url)
        except duckdb.Error as exc:
            raise RestPullError(f"cannot open the warehouse {database}: {str(exc).splitlines()[0]}") from None
        client = OneRosterClient(config)

        with tempfile.TemporaryDirectory(prefix="rollcall-rest-") as tmp:  # private (0700), removed on exit
            folder = Path(tmp)
            pulls = [
                _pull_entity(client, folder, entity, *plan_mode(state.get(entity), request.full, config))
                for entity in wanted
            ]
            _write_manifest(folder, pulls)
            options = request.load_arguments(config.max_tombstone_share, source_label=config.base_url)
            report = load_package(folder, district_id, database, **options)

        if report.status != "failed":
            landed = {f.entity for f in report.files if f.status in ("loaded", "skipped")}
            save_state(
                database,
                district_id,
                config.base_url,
                report.load_id,
                {p.entity: (p.max_modified, p.mode == "bulk") for p in pulls if p.entity in landed},
            )
        return report


SOURCE = RestPullSource()
pull = SOURCE.pull
