"""One interface for pull sources: a local folder, SFTP, a OneRoster REST API, Clever.

Each source kind is a ``PullSource`` (``SOURCE`` in its module): ``settings`` validates a source
entry into its typed settings (raising a ``loaders.source_config.ConfigError`` naming the key),
and ``run`` pulls what is due and lands it through the spine (``loaders.spine``), returning the
load's ``LoadReport``. ``rollcall sync`` runs every kind through ``pull``; each module's
``pull`` is its source's. A module that offers only a ``pull`` function (a kind added outside
``loaders``) is run through the same interface (``source_of``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from loaders.registry import REGISTRY_PATH
from loaders.spine import DEFAULT_MAX_TOMBSTONE_SHARE, LoadReport


@dataclass(frozen=True)
class PullRequest:
    """What a pull is asked for: the district, the warehouse, the due entities (None = all),
    whether to pull everything again, and where the registry and dlt's folder are."""

    district_id: str
    database: Path
    entities: list[str] | None = None
    full: bool = False
    registry: Path = REGISTRY_PATH
    pipelines_dir: Path | None = None

    def load_arguments(
        self, max_tombstone_share: float | None = None, force: bool = False, source_label: str | None = None
    ) -> dict[str, Any]:
        """Keyword arguments of ``load_package`` for the drop this pull materialised."""
        share = DEFAULT_MAX_TOMBSTONE_SHARE if max_tombstone_share is None else max_tombstone_share
        arguments: dict[str, Any] = {
            "pipelines_dir": self.pipelines_dir,
            "registry": self.registry,
            "max_tombstone_share": share,
            "force": force,
        }
        if source_label is not None:
            arguments["source_label"] = source_label
        return arguments


class PullSource:
    """A source kind. Subclasses set ``kind`` and implement ``settings`` and ``run``."""

    kind = "source"

    def settings(self, entry: Mapping[str, Any]) -> object:
        """The typed settings of a source entry; raises ``ConfigError`` naming the key."""
        raise NotImplementedError

    def run(self, entry: Mapping[str, Any], request: PullRequest) -> LoadReport:
        """Pull ``request.entities`` of the source and land them; returns the load's report."""
        raise NotImplementedError

    def pull(
        self,
        source: Mapping[str, Any],
        *,
        district_id: str,
        database: Path,
        entities: list[str] | None = None,
        full: bool = False,
        registry: Path = REGISTRY_PATH,
        pipelines_dir: Path | None = None,
    ) -> LoadReport:
        """Pull ``entities`` (default: all the source offers) of the source entry ``source`` for
        ``district_id`` into the DuckDB file ``database`` (see the kind's ``run``)."""
        request = PullRequest(district_id, Path(database), entities, full, Path(registry), pipelines_dir)
        return self.run(source, request)


class FunctionSource(PullSource):
    """A source kind whose module offers a bare ``pull(entry, *, district_id, database, entities,
    full)`` function instead of a ``SOURCE``: the function is the source's ``run``."""

    def __init__(self, kind: str, pull: Callable[..., LoadReport]) -> None:
        self.kind, self._pull = kind, pull

    def settings(self, entry: Mapping[str, Any]) -> dict[str, Any]:
        return dict(entry)

    def run(self, entry: Mapping[str, Any], request: PullRequest) -> LoadReport:
        return self._pull(
            entry,
            district_id=request.district_id,
            database=request.database,
            entities=request.entities,
            full=request.full,
        )


def source_of(kind: str, module: ModuleType) -> PullSource:
    """The pull source a kind's module offers: its ``SOURCE``, else its ``pull`` function."""
    source = getattr(module, "SOURCE", None)
    return source if isinstance(source, PullSource) else FunctionSource(kind, module.pull)
