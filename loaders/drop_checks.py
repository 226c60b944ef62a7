"""Checks over a whole drop before its files land: how each file is read as text, manifest
entries naming files the drop lacks, and files held back because a file they depend on was
refused (an enrollment must not land when the users or classes it points at were refused)."""

from __future__ import annotations

import dataclasses
from functools import cache
from pathlib import Path

from loaders.audit import FileResult
from loaders.oneroster.settings import file_specs, spec_for_file_name
from loaders.package import PackageFile
from loaders.text_input import TextRefused, prepare_text

TEXT_SUFFIXES = (".csv", ".txt")


def prepare_texts(files: list[PackageFile], scratch: Path) -> list[PackageFile]:
    """Each CSV file as UTF-8, comma-separated text (a rewritten copy in ``scratch`` when needed);
    the decisions become the file's notes, an undecidable file gets a refusal."""
    prepared = []
    for package_file in files:
        if package_file.refusal or not package_file.name.lower().endswith(TEXT_SUFFIXES):
            prepared.append(package_file)
            continue
        try:
            text = prepare_text(package_file.path, scratch)
        except TextRefused as exc:
            prepared.append(dataclasses.replace(package_file, refusal=str(exc)))
            continue
        except OSError as exc:
            prepared.append(dataclasses.replace(package_file, refusal=f"cannot be read: {exc.strerror or exc}"))
            continue
        notes = (*package_file.notes, *text.notes)
        prepared.append(dataclasses.replace(package_file, path=text.path, notes=notes))
    return prepared


def missing_from_manifest(manifest: dict[str, str], files: list[PackageFile]) -> list[FileResult]:
    """A refused result for each file the manifest lists as bulk or delta that the drop lacks."""
    present = {spec.name.lower() for spec in (spec_for_file_name(f.name) for f in files) if spec}
    results = []
    for key, mode in sorted(manifest.items()):
        entity = key.removeprefix("file.")
        if not key.startswith("file.") or mode not in ("bulk", "delta") or entity in present:
            continue
        spec = file_specs().get(entity)
        name = f"{spec.name if spec else entity}.csv"
        result = FileResult(name, "", 0, entity=spec.name if spec else entity, mode=mode)
        result.refuse(f"missing: the manifest lists {key} as {mode}, but the drop has no {name}")
        results.append(result)
    return results


@cache
def prerequisites(entity: str) -> frozenset[str]:
    """OneRoster files that ``entity``'s required id references point at, transitively (self excluded)."""
    specs = file_specs()
    found: set[str] = set()
    pending = [entity.lower()]
    while pending:
        spec = specs.get(pending.pop())
        for field in spec.fields if spec else ():
            target = (field.references or "").lower() if field.required_in else ""
            if target and target != entity.lower() and target not in found:
                found.add(target)
                pending.append(target)
    return frozenset(found)


def dependency_rank(entity: str) -> int:
    """Files with fewer prerequisites are prepared first, so a refusal is known before its dependents."""
    return len(prerequisites(entity))


def held_back_reason(entity: str, refused: dict[str, FileResult]) -> str | None:
    """Why a file of ``entity`` must wait, given the drop's refused OneRoster files by entity."""
    for prerequisite in sorted(prerequisites(entity)):
        result = refused.get(prerequisite)
        if result is not None:
            return (
                f"held back: {result.file_name}, which it refers to, was refused ({result.error_text}); "
                "re-send both together"
            )
    return None
