"""Pick up a district's drop from an SFTP folder: only new or changed files, then ``load_package``.

The folder's ``.csv`` files form one drop (with its ``manifest.csv``); each ``.zip`` is a drop of
its own, applied oldest first. For every remote file the warehouse remembers its size,
modification time and SHA-256 (``audit.sftp_files``):

* same size and time as remembered → not downloaded;
* downloaded, but the same SHA-256 as remembered (a file touched, not changed) → not applied;
* otherwise it is applied through ``load_package``, which keeps lineage, audit rows and tombstones.

When the pull is limited to some entities, files of other entities are neither downloaded nor
remembered (members of a zip are remembered as ``not_due``), so a later pull that asks for them
still finds them new. The manifest travels with every drop that applies a file.
"""

from __future__ import annotations

import posixpath
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from dlt.common.storages.fsspec_filesystem import glob_files
from fsspec import AbstractFileSystem

from loaders.audit import FileResult, utc_now
from loaders.folder_source import MANIFEST, entity_of, is_wanted, place, resolve_entities
from loaders.oneroster.pipeline import load_package
from loaders.package import PackageError, open_package, sha256_of
from loaders.registry import get_district
from loaders.sftp.connection import open_sftp
from loaders.sftp.fingerprints import SETTLED, MemberPrint, read_prints, write_prints
from loaders.sftp.settings import SftpConfigError, SftpError, SftpSettings, is_pickup_name, parse_source
from loaders.sources import PullRequest, PullSource
from loaders.spine import DEFAULT_MAX_TOMBSTONE_SHARE, LoadReport

_STATUS_RANK = {"succeeded": 0, "partial": 1, "refused": 1, "failed": 2}


@dataclass
class PullReport(LoadReport):
    """A ``LoadReport`` over every ``load_package`` run of one pickup, plus what was downloaded.

    ``load_id`` is the last load's id (empty when nothing needed applying); ``files`` also lists
    the remote files left alone as unchanged (status ``skipped``).
    """

    source_label: str = ""
    downloaded: list[str] = field(default_factory=list)
    load_ids: list[str] = field(default_factory=list)

    def absorb(self, load: LoadReport) -> None:
        """Add one ``load_package`` report."""
        self.files.extend(load.files)
        self.load_ids.append(load.load_id)
        self.load_id = load.load_id
        self.oneroster_version = load.oneroster_version
        if _STATUS_RANK.get(load.status, 2) > _STATUS_RANK.get(self.status, 2):
            self.status = load.status
        if load.error_text:
            self.error_text = f"{self.error_text}; {load.error_text}" if self.error_text else load.error_text


@dataclass(frozen=True)
class RemoteFile:
    """A file in the source folder, as listed by the server."""

    name: str  # relative to the source folder
    path: str  # as the server names it
    size: int
    mtime: datetime

    @property
    def is_zip(self) -> bool:
        return self.name.lower().endswith(".zip")


@dataclass
class _Fetched:
    """A downloaded remote file and what the warehouse remembered about it."""

    remote: RemoteFile
    local: Path
    sha256: str
    prior: list[MemberPrint]

    @property
    def same_content(self) -> bool:
        return bool(self.prior) and self.prior[0].remote_sha256 == self.sha256


def _server_error(settings: SftpSettings, exc: OSError) -> SftpError:
    if isinstance(exc, FileNotFoundError):
        return SftpError(f"{settings.label}: no such file or folder on the server")
    if isinstance(exc, PermissionError):
        return SftpError(f"{settings.label}: permission denied on the server")
    return SftpError(f"{settings.label}: {exc.strerror or exc}")


def list_remote(filesystem: AbstractFileSystem, settings: SftpSettings) -> list[RemoteFile]:
    """The ``.csv`` and ``.zip`` files of the source folder (or the single file the URL names)."""
    try:
        info = filesystem.info(settings.path)
        if info["type"] == "file":
            name = posixpath.basename(settings.path)
            if not is_pickup_name(name):
                raise SftpError(f"{settings.label}: not a .csv or .zip file")
            return [RemoteFile(name, settings.path, int(info["size"]), info["mtime"])]
        items = list(glob_files(filesystem, settings.bucket_url, "*"))
    except OSError as exc:
        raise _server_error(settings, exc) from None
    return sorted(
        (
            RemoteFile(
                item["relative_path"],
                posixpath.join(settings.path, item["relative_path"]),
                int(item["size_in_bytes"]),
                item["modification_date"],
            )
            for item in items
            if is_pickup_name(item["file_name"])
        ),
        key=lambda remote: (remote.mtime, remote.name),
    )


def _unchanged(remote: RemoteFile, prior: MemberPrint, why: str) -> FileResult:
    result = FileResult(remote.name, prior.remote_sha256, remote.size, entity=None if remote.is_zip else prior.entity)
    result.status, result.finished_at = "skipped", utc_now()
    result.error_text = f"{why} since load {prior.load_id}" if prior.load_id else why
    return result


def _pending(prior: list[MemberPrint], wanted: set[str] | None) -> list[MemberPrint]:
    """Remembered members asked for now that were not applied for good."""
    return [p for p in prior if p.status not in SETTLED and is_wanted(p.entity, wanted)]


class _Pickup:
    """One pull: download what is new, apply it, remember the fingerprints."""

    def __init__(
        self,
        settings: SftpSettings,
        district_id: str,
        database: Path,
        wanted: set[str] | None,
        full: bool,
        load_options: dict[str, Any],
    ) -> None:
        self.settings = settings
        self.district_id = district_id
        self.database = database
        self.wanted = wanted
        self.load_options = load_options
        self.prints = {} if full else read_prints(database, district_id, settings.label)
        self.report = PullReport("", district_id, "succeeded", source_label=settings.label)

    def _download(self, filesystem: AbstractFileSystem, remote: RemoteFile, folder: Path) -> _Fetched:
        local = folder / remote.name
        local.parent.mkdir(parents=True, exist_ok=True)
        try:
            filesystem.get_file(remote.path, str(local))
        except OSError as exc:
            raise _server_error(self.settings, exc) from None
        self.report.downloaded.append(remote.name)
        return _Fetched(remote, local, sha256_of(local), self.prints.get(remote.name, []))

    def fetch_csvs(self, filesystem: AbstractFileSystem, remotes: list[RemoteFile], folder: Path) -> list[_Fetched]:
        """Download the folder's new or changed CSV files; the manifest joins any file applied."""
        manifests = [r for r in remotes if not r.is_zip and entity_of(r.name) == MANIFEST]
        candidates = [
            r for r in remotes if not r.is_zip and r not in manifests and is_wanted(entity_of(r.name), self.wanted)
        ]
        to_apply = []
        for remote in candidates + manifests:
            prior = self.prints.get(remote.name, [])
            if to_apply and remote in manifests:  # the manifest states the modes of the files applied
                to_apply.append(self._download(filesystem, remote, folder))
                continue
            if prior and prior[0].same_listing(remote.size, remote.mtime) and prior[0].status in SETTLED:
                self.report.files.append(_unchanged(remote, prior[0], "unchanged on the server"))
                continue
            fetched = self._download(filesystem, remote, folder)
            if fetched.same_content and prior[0].status in SETTLED:  # touched, not changed
                fetched.local.unlink()
                self.report.files.append(_unchanged(remote, prior[0], "same content (SHA-256) as loaded"))
                write_prints(
                    self.database,
                    self.district_id,
                    self.settings.label,
                    [replace(p, remote_size=remote.size, remote_mtime=remote.mtime) for p in prior],
                )
                continue
            to_apply.append(fetched)
        return to_apply

    def fetch_zips(self, filesystem: AbstractFileSystem, remotes: list[RemoteFile], folder: Path) -> list[_Fetched]:
        """Download the zips that are new or changed, or hold members asked for but not applied yet."""
        fetched = []
        for remote in (r for r in remotes if r.is_zip):
            prior = self.prints.get(remote.name, [])
            unchanged = prior and all(p.same_listing(remote.size, remote.mtime) for p in prior)
            if unchanged and not _pending(prior, self.wanted):
                self.report.files.append(_unchanged(remote, prior[0], "unchanged on the server"))
                continue
            fetched.append(self._download(filesystem, remote, folder))
        return fetched

    def _load(self, location: Path, label: str) -> LoadReport:
        load = load_package(
            location, self.district_id, self.database, source_label=label, manifest_complete=False, **self.load_options
        )
        self.report.absorb(load)
        return load

    def apply_csvs(self, to_apply: list[_Fetched], folder: Path) -> None:
        """Apply the downloaded CSV files as one drop and remember them."""
        if not to_apply:
            return
        load = self._load(folder, self.settings.label)
        outcome = {f.file_name: f for f in load.files}
        prints = []
        for fetched in to_apply:
            result = outcome.get(fetched.remote.name)
            prints.append(
                MemberPrint(
                    fetched.remote.name,
                    fetched.remote.name,
                    entity_of(fetched.remote.name),
                    fetched.remote.size,
                    fetched.remote.mtime,
                    fetched.sha256,
                    result.status if result else "failed",
                    load.load_id,
                )
            )
        write_prints(self.database, self.district_id, self.settings.label, prints)

    def apply_zip(self, fetched: _Fetched, work: Path) -> None:
        """Apply the asked-for members of one downloaded zip and remember every member."""
        remote = fetched.remote
        label = self.settings.label if remote.path == self.settings.path else f"{self.settings.label}/{remote.name}"
        keep = {p.member_name: p for p in fetched.prior} if fetched.same_content else {}

        def remember(member: str, entity: str | None, status: str, load_id: str | None) -> MemberPrint:
            return MemberPrint(remote.name, member, entity, remote.size, remote.mtime, fetched.sha256, status, load_id)

        try:
            with open_package(fetched.local) as members:
                entities = {m.name: entity_of(m.name) for m in members}
                selected = [
                    m.name
                    for m in members
                    if is_wanted(entities[m.name], self.wanted)
                    and (m.name not in keep or keep[m.name].status not in SETTLED)
                ]
                if selected:
                    selected += [m.name for m in members if entities[m.name] == MANIFEST]
                whole = len(selected) == len(members)
                folder = work / f"{remote.name}.members"
                if selected and not whole:
                    for member in members:
                        if member.name in selected:
                            place(member.path, folder / member.name)
        except PackageError as exc:
            result = FileResult(remote.name, fetched.sha256, remote.size)
            result.refuse(str(exc).replace(str(fetched.local), remote.name))
            self.report.files.append(result)
            self.report.status = "failed" if self.report.status == "failed" else "partial"
            write_prints(self.database, self.district_id, self.settings.label, [remember("", None, "refused", None)])
            return
        prints = {name: keep.get(name) or remember(name, entity, "not_due", None) for name, entity in entities.items()}
        if not selected and fetched.same_content:  # touched, not changed
            self.report.files.append(_unchanged(remote, fetched.prior[0], "same content (SHA-256) as loaded"))
        elif not selected:
            result = FileResult(remote.name, fetched.sha256, remote.size)
            result.status, result.finished_at = "skipped", utc_now()
            result.error_text = "holds no file of the entities asked for"
            self.report.files.append(result)
        else:
            load = self._load(fetched.local if whole else folder, label)
            outcome = {f.file_name: f.status for f in load.files}
            for name in selected:
                prints[name] = remember(name, entities[name], outcome.get(name, "failed"), load.load_id)
        write_prints(
            self.database,
            self.district_id,
            self.settings.label,
            [replace(p, remote_size=remote.size, remote_mtime=remote.mtime) for p in prints.values()],
        )


class SftpPullSource(PullSource):
    """``kind: sftp``: settings in ``loaders.sftp.settings.SftpSettings``."""

    kind = "sftp"

    def settings(self, entry: Mapping[str, Any]) -> SftpSettings:
        return parse_source(entry)

    def run(self, entry: Mapping[str, Any], request: PullRequest) -> PullReport:
        """Pick up the new or changed files of an SFTP source and load them.

        ``entry`` holds ``url`` (``sftp://user@host[:port]/path``), ``identity_file`` (private
        key) and ``known_hosts`` (default ``~/.ssh/known_hosts``); optionally ``timeout``
        (seconds), ``force`` and ``max_tombstone_share`` as for ``rollcall load``.
        ``request.entities`` limits which OneRoster files are applied (``None`` = all);
        ``request.full`` ignores the remembered fingerprints and downloads every file again
        (``load_package`` still skips files the warehouse holds).

        Raises ``SftpError`` (``SftpConfigError`` for the entry: a password configured, no key;
        unreachable host, refused host key or key, missing folder) and ``UnknownDistrictError``
        with one-line messages, before anything is loaded.
        """
        settings = self.settings(entry)
        get_district(request.district_id, request.registry)
        try:
            wanted = resolve_entities(request.entities)
        except ValueError as exc:
            raise SftpConfigError(str(exc), key="entities") from None
        share = float(entry.get("max_tombstone_share", DEFAULT_MAX_TOMBSTONE_SHARE))
        load_options = request.load_arguments(share, bool(entry.get("force", False)))
        pickup = _Pickup(settings, request.district_id, request.database, wanted, request.full, load_options)
        with tempfile.TemporaryDirectory(prefix="rollcall-sftp-") as tmp:
            work = Path(tmp)
            with open_sftp(settings) as filesystem:
                remotes = list_remote(filesystem, settings)
                csvs = pickup.fetch_csvs(filesystem, remotes, work / "files")
                zips = pickup.fetch_zips(filesystem, remotes, work / "zips")
            pickup.apply_csvs(csvs, work / "files")
            for fetched in zips:
                pickup.apply_zip(fetched, work)
        return pickup.report


SOURCE = SftpPullSource()
pull = SOURCE.pull
