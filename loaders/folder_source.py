"""The ``folder`` pull source: a folder, ``.zip`` or ``.csv`` on this machine, limited to chosen entities.

``rollcall sync`` calls ``pull`` (``FolderPullSource``, a ``loaders.sources.PullSource``) with the
entities that are due; only their files (and the manifest, which states every file's mode) are
handed to ``load_package``. With ``entities=None`` the whole drop is loaded, exactly as
``rollcall load`` does.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from loaders.oneroster.pipeline import load_package
from loaders.oneroster.settings import file_specs, spec_for_file_name
from loaders.package import PackageError, open_package
from loaders.registry import get_district
from loaders.sources import PullRequest, PullSource
from loaders.spine import DEFAULT_MAX_TOMBSTONE_SHARE, LoadReport, new_load_id
from rollcall.settings import WORK_DIR

MANIFEST = "manifest"


def resolve_entities(entities: Iterable[str] | None) -> set[str] | None:
    """Canonical entity names (``academicSessions``) for names in any case; ``None`` means all.

    Raises ``ValueError`` for a name that is not a OneRoster(+) file of the field table.
    """
    if entities is None:
        return None
    specs = file_specs()
    resolved = set()
    for name in entities:
        spec = specs.get(str(name).strip().lower())
        if spec is None:
            known = ", ".join(sorted(s.name for s in specs.values() if s.name != MANIFEST))
            raise ValueError(f"unknown OneRoster entity {name!r}; known: {known}")
        resolved.add(spec.name)
    return resolved


def entity_of(file_name: str) -> str | None:
    """The entity a file name stands for (``Users.csv`` -> ``users``), or ``None``."""
    spec = spec_for_file_name(file_name)
    return spec.name if spec else None


def is_wanted(entity: str | None, wanted: set[str] | None) -> bool:
    """Whether a file of ``entity`` belongs in a pull limited to ``wanted`` (``None`` = everything).

    The manifest is never wanted on its own; callers add it next to the files they apply. A file
    that is not a OneRoster file (an SIS export, a vendor file: ``entity`` None) goes with every
    pull - the loader skips it when it has not changed since it last landed.
    """
    if wanted is None or entity is None:
        return True
    return entity != MANIFEST and entity in wanted


def place(source: Path, target: Path) -> None:
    """Put ``source`` at ``target`` (a hard link when possible, else a copy)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def source_path(source: Mapping[str, Any]) -> Path:
    """The source's ``path``: ``~`` expanded, relative paths taken from the project folder."""
    value = source.get("path")
    if not isinstance(value, str | Path) or not str(value).strip():
        raise PackageError("a folder source needs a path (a folder, .zip or .csv)")
    path = Path(str(value).strip()).expanduser()
    return path if path.is_absolute() else WORK_DIR / path


class FolderPullSource(PullSource):
    """``kind: folder``: ``path`` (a folder, .zip or .csv; relative to the project folder), and
    optionally ``max_tombstone_share`` and ``force`` as for ``rollcall load``."""

    kind = "folder"

    def settings(self, entry: Mapping[str, Any]) -> Path:
        return source_path(entry)

    def run(self, entry: Mapping[str, Any], request: PullRequest) -> LoadReport:
        """Load the source's drop, limited to ``request.entities`` (``None`` = all files).

        ``full`` changes nothing here: every pull of a local drop is complete, and
        ``load_package`` already skips the files the warehouse holds. Raises ``PackageError``
        when the path cannot be opened and ``UnknownDistrictError`` for a district not in the
        registry.
        """
        get_district(request.district_id, request.registry)
        path = self.settings(entry)
        wanted = resolve_entities(request.entities)
        share = float(entry.get("max_tombstone_share", DEFAULT_MAX_TOMBSTONE_SHARE))
        options = request.load_arguments(share, bool(entry.get("force", False)), str(path))
        if wanted is None:
            return load_package(path, request.district_id, request.database, **options)
        with open_package(path) as files, tempfile.TemporaryDirectory(prefix="rollcall-folder-") as tmp:
            selected = [f for f in files if is_wanted(entity_of(f.name), wanted)]
            if not selected:  # none of the due entities has a file in this drop
                return LoadReport(new_load_id(), request.district_id, "succeeded")
            selected += [f for f in files if entity_of(f.name) == MANIFEST]
            for package_file in selected:
                place(package_file.path, Path(tmp) / package_file.name)
            return load_package(tmp, request.district_id, request.database, manifest_complete=False, **options)


SOURCE = FolderPullSource()
pull = SOURCE.pull
