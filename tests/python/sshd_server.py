"""A real OpenSSH server for tests: key-only, on 127.0.0.1 at a free port, as the current user.

``start_sshd(folder)`` generates a host key and a client key with ssh-keygen, writes an
``sshd_config`` that accepts only that client key, runs ``sshd -D -e`` and waits until the port
accepts connections. Raises ``SshdUnavailable`` when the server cannot be started (OpenSSH not
installed, or it exits at once); the caller decides whether that skips or fails.
"""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

SSHD_CANDIDATES = ("/usr/sbin/sshd", "/usr/local/sbin/sshd")
START_ATTEMPTS = 3
START_TIMEOUT_SECONDS = 20.0


class SshdUnavailable(RuntimeError):
    """The OpenSSH server could not be started here."""


@dataclass
class SshdServer:
    """A running sshd and the keys a client needs to reach it."""

    process: subprocess.Popen
    port: int
    user: str
    folder: Path
    client_key: Path
    host_public_key: str  # "ssh-ed25519 AAAA..."
    log_path: Path
    host: str = "127.0.0.1"

    @property
    def host_key_name(self) -> str:
        return f"[{self.host}]:{self.port}"

    def url(self, remote_path: Path | str) -> str:
        return f"sftp://{self.user}@{self.host}:{self.port}{remote_path}"

    def write_known_hosts(self, path: Path, public_key: str | None = None) -> Path:
        """A known_hosts file recording ``public_key`` (default: this server's real host key)."""
        path.write_text(f"{self.host_key_name} {public_key or self.host_public_key}\n", encoding="utf-8")
        return path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def find_sshd() -> str | None:
    for candidate in (shutil.which("sshd"), *SSHD_CANDIDATES):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def sshd_unavailable_reason() -> str | None:
    """Why no OpenSSH server can be started here (a missing program), or None."""
    if find_sshd() is None:
        return "OpenSSH server (sshd) is not installed: apt-get install openssh-server"
    if shutil.which("ssh-keygen") is None:
        return "ssh-keygen is not installed: apt-get install openssh-client"
    return None


def generate_key(path: Path) -> Path:
    """An ed25519 key pair without passphrase at ``path`` and ``path.pub``."""
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "rollcall-test", "-f", str(path)],
        check=True,
        capture_output=True,
    )
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
            conn.settimeout(2)
            return conn.recv(4).startswith(b"SSH-")
    except OSError:
        return False


def _config(folder: Path, host_key: Path, authorized_keys: Path) -> Path:
    config = folder / "sshd_config"
    config.write_text(
        "\n".join(
            [
                "ListenAddress 127.0.0.1",
                f"HostKey {host_key}",
                f"PidFile {folder / 'sshd.pid'}",
                f"AuthorizedKeysFile {authorized_keys}",
                "PubkeyAuthentication yes",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "PermitRootLogin prohibit-password",
                "UsePAM no",
                "StrictModes no",
                "AllowTcpForwarding no",
                "X11Forwarding no",
                "Subsystem sftp internal-sftp",
                "",
            ]
        ),
        encoding="utf-8",
    )
    return config


def start_sshd(folder: Path) -> SshdServer:
    """Start sshd for the current user in ``folder`` (keys, config, log and pid file live there)."""
    missing = sshd_unavailable_reason()
    if missing:
        raise SshdUnavailable(missing)
    sshd = find_sshd()
    folder.mkdir(parents=True, exist_ok=True)
    host_key = generate_key(folder / "host_key")
    client_key = generate_key(folder / "client_key")
    authorized_keys = folder / "authorized_keys"
    shutil.copyfile(client_key.with_suffix(".pub"), authorized_keys)
    if os.geteuid() == 0:  # sshd run as root insists on its privilege separation directory
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    config = _config(folder, host_key, authorized_keys)
    host_public_key = " ".join(host_key.with_suffix(".pub").read_text(encoding="utf-8").split()[:2])
    log_path = folder / "sshd.log"
    for _attempt in range(START_ATTEMPTS):
        port = free_port()
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                [sshd, "-D", "-e", "-f", str(config), "-p", str(port)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline and process.poll() is None:
            if _accepts(port):
                return SshdServer(process, port, getpass.getuser(), folder, client_key, host_public_key, log_path)
            time.sleep(0.05)
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
    log_tail = log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-3:]
    raise SshdUnavailable(f"sshd did not start ({sshd}): {' | '.join(log_tail) or 'no output'}")
