"""SFTP pickup against a real OpenSSH server on 127.0.0.1: key pairs only, checked host keys,
only new or changed files downloaded and applied, zips included, and sync dispatching to it."""

from __future__ import annotations

import os
import subprocess
import time
import zipfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from loaders.sftp import PASSWORD_REFUSAL, SftpError, pull
from rollcall import cli
from rollcall.sample import generate_district
from rollcall.sync import run_sync
from tests.python.sshd_server import SshdServer, SshdUnavailable, free_port, generate_key, start_sshd
from tests.python.support import TINY_PACKAGE, query, run_rollcall, write_package

pytestmark = pytest.mark.needs_sshd

DISTRICT = "demo-unified"
# An ed25519 public key that belongs to no server of these tests.
STRANGER_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshdServer]:
    """One OpenSSH server for the module; fails (not skips) in CI when it cannot start."""
    try:
        server = start_sshd(tmp_path_factory.mktemp("sshd"))
    except SshdUnavailable as exc:
        if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
            pytest.fail(f"the SFTP tests need an OpenSSH server: {exc}")
        pytest.skip(str(exc))
    yield server
    server.stop()


def _source(sshd: SshdServer, remote: Path, tmp_path: Path, **overrides: str) -> dict[str, str]:
    source = {
        "kind": "sftp",
        "url": sshd.url(remote),
        "identity_file": str(sshd.client_key),
        "known_hosts": str(sshd.write_known_hosts(tmp_path / "known_hosts")),
    }
    source.update(overrides)
    return source


def _small_district(folder: Path, **options: object) -> Path:
    generate_district(folder, students=12, schools=1, days=3, seed=7, **options)
    return folder


def _statuses(report) -> dict[str, str]:
    return {f.file_name: f.status for f in report.files}


def test_key_pair_pickup_lands_the_drop_and_then_nothing(sshd: SshdServer, tmp_path: Path, warehouse: Path) -> None:
    outbox = _small_district(tmp_path / "outbox")
    source = _source(sshd, outbox, tmp_path)
    csv_names = sorted(p.name for p in outbox.glob("*.csv"))

    first = pull(source, district_id=DISTRICT, database=warehouse)
    assert first.status == "succeeded"
    assert sorted(first.downloaded) == csv_names
    assert set(_statuses(first).values()) == {"loaded"} and len(first.files) == len(csv_names)
    users_rows = len((outbox / "users.csv").read_text().splitlines()) - 1
    assert query(warehouse, "select count(*) from raw_oneroster.users")[0][0] == users_rows
    assert query(warehouse, "select source_path, status from audit.load_log") == [(sshd.url(outbox), "succeeded")]
    assert query(warehouse, "select count(*) from audit.sftp_files where status = 'loaded'")[0][0] == len(csv_names)

    second = pull(source, district_id=DISTRICT, database=warehouse)
    assert second.downloaded == [] and second.load_ids == []
    assert set(_statuses(second).values()) == {"skipped"}
    assert all("unchanged on the server" in f.error_text for f in second.files)
    assert query(warehouse, "select count(*) from audit.load_log")[0][0] == 1


def test_only_the_changed_file_is_picked_up(sshd: SshdServer, tmp_path: Path, warehouse: Path) -> None:
    outbox = write_package(tmp_path / "outbox", TINY_PACKAGE)
    source = _source(sshd, outbox, tmp_path)
    pull(source, district_id=DISTRICT, database=warehouse)

    users = outbox / "users.csv"
    users.write_text(users.read_text() + "u3,,,true,s1,student,grace,,Grace,Hopper,,0003,,,,,05,\n")
    os.utime(users, (users.stat().st_atime, users.stat().st_mtime + 60))
    orgs = outbox / "orgs.csv"  # touched, same content: downloaded to compare, not applied
    os.utime(orgs, (orgs.stat().st_atime, orgs.stat().st_mtime + 60))

    report = pull(source, district_id=DISTRICT, database=warehouse)
    assert sorted(report.downloaded) == ["manifest.csv", "orgs.csv", "users.csv"]
    statuses = _statuses(report)
    assert statuses["users.csv"] == "loaded"
    assert statuses["orgs.csv"] == "skipped" and statuses["manifest.csv"] == "skipped"
    assert "same content" in next(f.error_text for f in report.files if f.file_name == "orgs.csv")
    assert query(
        warehouse,
        "select file_name from audit.file_log where load_id = ? and status = 'loaded'",
        [report.load_id],
    ) == [("users.csv",)]
    assert query(warehouse, "select count(distinct sourced_id) from raw_oneroster.users")[0][0] == 3

    third = pull(source, district_id=DISTRICT, database=warehouse)
    assert third.downloaded == [] and third.load_ids == []


def test_a_zip_is_picked_up_and_its_entities_applied_when_asked(
    sshd: SshdServer, tmp_path: Path, warehouse: Path
) -> None:
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    _small_district(outbox / "export.zip", as_zip=True)
    (outbox / ".export.zip.part").write_bytes(b"an upload still in progress")
    source = _source(sshd, outbox, tmp_path)

    attendance_only = pull(source, district_id=DISTRICT, database=warehouse, entities=["attendance"])
    assert attendance_only.downloaded == ["export.zip"]
    assert _statuses(attendance_only) == {"attendance.csv": "loaded", "manifest.csv": "loaded"}
    assert query(warehouse, "select count(*) from raw_oneroster.users")[0][0] == 0
    (label,) = query(warehouse, "select source_path from audit.load_log")[0]
    assert label == f"{sshd.url(outbox)}/export.zip"

    again = pull(source, district_id=DISTRICT, database=warehouse, entities=["attendance"])
    assert again.downloaded == [] and again.load_ids == []

    # users were left out of the first pickup, so the unchanged zip is fetched again for them
    users = pull(source, district_id=DISTRICT, database=warehouse, entities=["users"])
    assert users.downloaded == ["export.zip"]
    assert _statuses(users) == {"users.csv": "loaded", "manifest.csv": "skipped"}

    everything = pull(source, district_id=DISTRICT, database=warehouse)
    with zipfile.ZipFile(outbox / "export.zip") as archive:
        members = set(archive.namelist())
    assert {name for name, status in _statuses(everything).items() if status == "loaded"} == members - {
        "attendance.csv",
        "users.csv",
        "manifest.csv",
    }
    assert pull(source, district_id=DISTRICT, database=warehouse).downloaded == []


def test_a_configured_password_is_refused(sshd: SshdServer, tmp_path: Path, warehouse: Path) -> None:
    outbox = write_package(tmp_path / "outbox", TINY_PACKAGE)
    with pytest.raises(SftpError) as refused:
        pull(_source(sshd, outbox, tmp_path, password="hunter2"), district_id=DISTRICT, database=warehouse)
    assert str(refused.value) == PASSWORD_REFUSAL
    in_url = f"sftp://{sshd.user}:hunter2@{sshd.host}:{sshd.port}{outbox}"
    with pytest.raises(SftpError) as refused:
        pull(_source(sshd, outbox, tmp_path, url=in_url), district_id=DISTRICT, database=warehouse)
    assert str(refused.value) == PASSWORD_REFUSAL
    assert "hunter2" not in str(refused.value)
    assert not warehouse.exists()


def test_unknown_or_changed_host_keys_are_refused(sshd: SshdServer, tmp_path: Path, warehouse: Path) -> None:
    outbox = write_package(tmp_path / "outbox", TINY_PACKAGE)
    unknown = tmp_path / "unknown_hosts"
    unknown.write_text(f"sftp.elsewhere.example {STRANGER_KEY}\n")
    with pytest.raises(SftpError, match=r"host key of \[127\.0\.0\.1\]:\d+ is not in .*unknown_hosts"):
        pull(_source(sshd, outbox, tmp_path, known_hosts=str(unknown)), district_id=DISTRICT, database=warehouse)

    changed = sshd.write_known_hosts(tmp_path / "changed_hosts", STRANGER_KEY)
    with pytest.raises(SftpError, match="HOST KEY CHANGED"):
        pull(_source(sshd, outbox, tmp_path, known_hosts=str(changed)), district_id=DISTRICT, database=warehouse)
    assert not warehouse.exists()


def test_a_key_the_server_does_not_know_is_refused(
    sshd: SshdServer, tmp_path: Path, warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outbox = write_package(tmp_path / "outbox", TINY_PACKAGE)
    other_key = generate_key(tmp_path / "other_key")
    # an SSH agent holding the key the server accepts must not be used as a fallback
    agent_socket = tmp_path / "agent.sock"
    agent = subprocess.Popen(["ssh-agent", "-D", "-a", str(agent_socket)], stdout=subprocess.DEVNULL)
    try:
        for _ in range(200):
            if agent_socket.exists():
                break
            time.sleep(0.02)
        env = {**os.environ, "SSH_AUTH_SOCK": str(agent_socket)}
        subprocess.run(["ssh-add", str(sshd.client_key)], env=env, check=True, capture_output=True)
        monkeypatch.setenv("SSH_AUTH_SOCK", str(agent_socket))
        with pytest.raises(SftpError) as refused:
            source = _source(sshd, outbox, tmp_path, identity_file=str(other_key))
            pull(source, district_id=DISTRICT, database=warehouse)
    finally:
        agent.terminate()
        agent.wait(timeout=10)
    assert f"refused the key {other_key}" in str(refused.value) and "authorized_keys" in str(refused.value)
    closed = f"sftp://{sshd.user}@127.0.0.1:{free_port()}{outbox}"
    with pytest.raises(SftpError, match=r"cannot reach 127\.0\.0\.1:\d+"):
        pull(_source(sshd, outbox, tmp_path, url=closed), district_id=DISTRICT, database=warehouse)


def test_rollcall_load_picks_up_sftp_and_refuses_passwords_in_one_line(
    sshd: SshdServer, tmp_path: Path, warehouse: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outbox = write_package(tmp_path / "outbox", TINY_PACKAGE)
    known_hosts = str(sshd.write_known_hosts(tmp_path / "known_hosts"))
    keys = ["--identity-file", str(sshd.client_key), "--known-hosts", known_hosts]
    assert cli.main(["load", sshd.url(outbox), "--district", DISTRICT, *keys, "--database", str(warehouse)]) == 0
    printed = capsys.readouterr().out
    assert "users.csv" in printed and "3 file(s) downloaded" in printed
    assert cli.main(["load", sshd.url(outbox), "--district", DISTRICT, *keys, "--database", str(warehouse)]) == 0
    assert "nothing new to load; 0 file(s) downloaded" in capsys.readouterr().out

    with_password = f"sftp://{sshd.user}:hunter2@{sshd.host}:{sshd.port}{outbox}"
    refused = run_rollcall("load", with_password, "--district", DISTRICT, *keys, database=warehouse)
    assert refused.returncode == 2
    assert refused.stderr.strip() == f"rollcall load: refused: {PASSWORD_REFUSAL}"


def test_sync_dispatches_due_entities_to_the_sftp_source(sshd: SshdServer, tmp_path: Path, warehouse: Path) -> None:
    outbox = _small_district(tmp_path / "outbox")
    config_dir = tmp_path / "districts"
    config_dir.mkdir()
    known_hosts = sshd.write_known_hosts(tmp_path / "known_hosts")
    (config_dir / f"{DISTRICT}.yml").write_text(
        f"""district_id: {DISTRICT}
sources:
  - name: outbox
    kind: sftp
    url: {sshd.url(outbox)}
    identity_file: {sshd.client_key}
    known_hosts: {known_hosts}
""",
        encoding="utf-8",
    )
    lines: list[str] = []
    assert run_sync(warehouse, config_dir=config_dir, now=datetime(2026, 11, 22, 10), echo=lines.append) == 0
    loaded = query(warehouse, "select count(*) from audit.sftp_files where status = 'loaded'")[0][0]
    assert loaded == len(list(outbox.glob("*.csv")))

    attendance = outbox / "attendance.csv"
    attendance.write_text("".join(attendance.read_text().splitlines(keepends=True)[:-1]))  # one record less
    os.utime(attendance, (attendance.stat().st_atime, attendance.stat().st_mtime + 60))
    users = outbox / "users.csv"  # changed too, but users are daily and not due an hour later
    os.utime(users, (users.stat().st_atime, users.stat().st_mtime + 60))
    lines.clear()
    assert run_sync(warehouse, config_dir=config_dir, now=datetime(2026, 11, 22, 11), echo=lines.append) == 0
    assert f"{DISTRICT} / outbox (sftp): due attendance" in lines
    (entities_due,) = query(warehouse, "select entities_due from audit.sync_log order by as_of desc limit 1")[0]
    assert entities_due == "attendance"
    applied = query(
        warehouse,
        "select file_name, status from audit.file_log where load_id = (select max(load_id) from audit.load_log) "
        "order by file_name",
    )
    assert applied == [("attendance.csv", "loaded"), ("manifest.csv", "skipped")]
