"""Find the files of a district drop: a folder, a ``.zip`` or a single ``.csv``.

Files are found at any folder depth; one deeper than ``QUIET_DEPTH`` folders carries a note
(recorded as a warning). A symlink that points outside the drop is listed with a refusal and
never read. Zip members are extracted under limits (``ZipLimits``): total size, compression
ratio of each member, and folder depth - a zip bomb is refused before it fills the disk.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

QUIET_DEPTH = 1  # files this many folders deep (vendor zips wrap a folder) need no note
MAX_DEPTH = 16  # deeper files are not looked for (a link loop, a pathological archive)


class PackageError(Exception):
    """The drop as a whole cannot be read (missing path, broken zip, zip over its limits)."""


@dataclass(frozen=True)
class ZipLimits:
    """Extraction limits of a zip drop; override the total with ``$ROLLCALL_MAX_UNZIPPED_BYTES``."""

    max_total_bytes: int = 32 << 30  # a 48M-row attendance file is about 3 GB
    max_ratio: int = 200  # uncompressed / compressed size of one member (CSV compresses 5-30x)
    ratio_floor_bytes: int = 1 << 20  # members smaller than this are not ratio-checked
    max_depth: int = MAX_DEPTH

    @classmethod
    def from_env(cls) -> ZipLimits:
        value = os.environ.get("ROLLCALL_MAX_UNZIPPED_BYTES", "").strip()
        return cls(max_total_bytes=int(value)) if value.isdigit() else cls()


@dataclass(frozen=True)
class PackageFile:
    """One file of a drop, extracted to ``path`` when it came from a zip."""

    name: str  # name as it appears in the drop, relative to its root ("sub/Users.csv")
    path: Path  # readable path on disk
    sha256: str
    notes: tuple[tuple[str, str], ...] = ()  # (warning code, detail): tolerated deviations
    refusal: str | None = None  # set when the file must not be read at all


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _visible(relative: Path) -> bool:
    """Skip hidden files and macOS zip metadata (``__MACOSX/``, ``._x.csv``)."""
    return not any(part.startswith((".", "__MACOSX")) for part in relative.parts)


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _collect(root: Path) -> list[PackageFile]:
    """Every visible file under ``root``, any depth; symlinks leaving ``root`` are refused."""
    root = root.resolve()
    files = []
    for folder, subfolders, names in os.walk(root):
        here = Path(folder)
        depth = len(here.relative_to(root).parts)
        subfolders[:] = sorted(s for s in subfolders if depth < MAX_DEPTH and _visible(Path(s)))
        for name in sorted(names):
            path = here / name
            relative = path.relative_to(root)
            if not _visible(relative):
                continue
            files.append(_package_file(path, relative, root))
        for sub in subfolders:  # os.walk does not enter linked folders: list their escape
            link = here / sub
            if link.is_symlink() and not _inside(link.resolve(), root):
                relative = link.relative_to(root)
                files.append(PackageFile(relative.as_posix(), link, "", refusal=_escape_reason(link)))
    return sorted(files, key=lambda f: f.name)


def _escape_reason(path: Path) -> str:
    return f"symbolic link pointing outside the drop ({os.readlink(path)}); not followed"


def _package_file(path: Path, relative: Path, root: Path) -> PackageFile:
    name = relative.as_posix()
    if path.is_symlink() and not _inside(path.resolve(), root):
        return PackageFile(name, path, "", refusal=_escape_reason(path))
    if not path.is_file():
        return PackageFile(name, path, "", refusal="not a regular file (a broken link, a device or a pipe)")
    folders = len(relative.parts) - 1
    notes: tuple[tuple[str, str], ...] = ()
    if folders > QUIET_DEPTH:
        notes = (("nested_folder", f"found {folders} folders deep in the drop ({relative.parent.as_posix()}/)"),)
    return PackageFile(name, path, sha256_of(path), notes)


def _extract(archive: zipfile.ZipFile, source: Path, target: Path, limits: ZipLimits) -> None:
    """Extract member by member, counting the bytes actually written against the limits."""
    total = 0
    root = target.resolve()
    for member in archive.infolist():
        destination = (root / member.filename).resolve()
        if not _inside(destination, root):
            raise PackageError(f"{source}: member {member.filename!r} escapes the archive")
        if len(Path(member.filename).parts) - 1 > limits.max_depth:
            raise PackageError(f"{source}: member {member.filename!r} is more than {limits.max_depth} folders deep")
        if member.is_dir():
            destination.mkdir(parents=True, exist_ok=True)
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        written = 0
        with archive.open(member) as reader, destination.open("wb") as writer:
            for chunk in iter(lambda: reader.read(1 << 20), b""):
                written += len(chunk)
                total += len(chunk)
                if total > limits.max_total_bytes:
                    raise PackageError(
                        f"{source}: unpacks to more than {limits.max_total_bytes:,} bytes (limit; "
                        "raise it with ROLLCALL_MAX_UNZIPPED_BYTES if the drop is real)"
                    )
                if written > limits.ratio_floor_bytes and written > limits.max_ratio * max(member.compress_size, 1):
                    raise PackageError(
                        f"{source}: member {member.filename!r} expands more than {limits.max_ratio}x its compressed "
                        "size (a zip bomb?)"
                    )
                writer.write(chunk)


@contextmanager
def open_package(location: str | Path, limits: ZipLimits | None = None) -> Iterator[list[PackageFile]]:
    """Yield the files of a folder or zip drop; zip members are extracted to a temp folder."""
    path = Path(location)
    if not path.exists() and not path.is_symlink():
        raise PackageError(f"{path}: no such file or folder")
    if path.is_dir():
        yield _collect(path)
        return
    if not path.is_file():
        raise PackageError(f"{path}: not a folder, a .zip or a .csv file")
    if not zipfile.is_zipfile(path):
        if path.suffix.lower() == ".csv":  # a single CSV file is a drop of one file
            yield [PackageFile(path.name, path, sha256_of(path))]
            return
        raise PackageError(f"{path}: not a folder, a .zip or a .csv file")
    with tempfile.TemporaryDirectory(prefix="rollcall-") as tmp:
        try:
            with zipfile.ZipFile(path) as archive:
                _extract(archive, path, Path(tmp), limits or ZipLimits.from_env())
        except PackageError:
            raise
        except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError) as exc:
            raise PackageError(f"{path}: cannot unpack zip ({exc})") from exc
        yield _collect(Path(tmp))
