"""Find the files of a district drop: a folder or a ``.zip``, files at the root or one folder deep."""

from __future__ import annotations

import hashlib
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


class PackageError(Exception):
    """The drop as a whole cannot be read (missing path, broken zip)."""


@dataclass(frozen=True)
class PackageFile:
    """One file of a drop, extracted to ``path`` when it came from a zip."""

    name: str  # name as it appears in the drop, relative to its root ("sub/Users.csv")
    path: Path  # readable path on disk
    sha256: str


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _visible(relative: Path) -> bool:
    """Skip hidden files and macOS zip metadata (``__MACOSX/``, ``._x.csv``)."""
    return not any(part.startswith((".", "__MACOSX")) for part in relative.parts)


def _collect(root: Path) -> list[PackageFile]:
    files = []
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        # files at the root or nested one folder deep (common in vendor zips)
        if path.is_file() and len(relative.parts) <= 2 and _visible(relative):
            files.append(PackageFile(relative.as_posix(), path, sha256_of(path)))
    return files


@contextmanager
def open_package(location: str | Path) -> Iterator[list[PackageFile]]:
    """Yield the files of a folder or zip drop; zip members are extracted to a temp folder."""
    path = Path(location)
    if not path.exists():
        raise PackageError(f"{path}: no such file or folder")
    if path.is_dir():
        yield _collect(path)
        return
    if not zipfile.is_zipfile(path):
        if path.suffix.lower() == ".csv":  # a single CSV file is a drop of one file
            yield [PackageFile(path.name, path, sha256_of(path))]
            return
        raise PackageError(f"{path}: not a folder, a .zip or a .csv file")
    with tempfile.TemporaryDirectory(prefix="rollcall-") as tmp:
        try:
            with zipfile.ZipFile(path) as archive:
                for member in archive.infolist():
                    target = (Path(tmp) / member.filename).resolve()
                    if not str(target).startswith(str(Path(tmp).resolve())):
                        raise PackageError(f"{path}: member {member.filename!r} escapes the archive")
                archive.extractall(tmp)
        except (zipfile.BadZipFile, OSError) as exc:
            raise PackageError(f"{path}: cannot unpack zip ({exc})") from exc
        yield _collect(Path(tmp))
