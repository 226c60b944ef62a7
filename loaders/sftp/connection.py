"""Open an SFTP server as an fsspec filesystem through dlt, with key-pair auth and checked host keys.

* **Authentication** is one private key, nothing else: a paramiko ``AuthStrategy`` that offers
  only that key, so paramiko never falls back to a password, keyboard-interactive, an SSH agent
  or keys it finds in ``~/.ssh``.
* **Host keys** are checked against a known_hosts file: an unknown host or a host whose key
  differs from the recorded one is refused. Key types recorded for the host are preferred in the
  key exchange, as OpenSSH does, so a host known by its RSA key is not refused for offering
  ed25519 first.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import paramiko
from dlt.common.configuration.specs import SFTPCredentials
from dlt.common.storages.configuration import FilesystemConfiguration
from dlt.common.storages.fsspec_filesystem import fsspec_from_config
from fsspec import AbstractFileSystem
from paramiko.auth_strategy import AuthFailure, AuthStrategy, InMemoryPrivateKey

from loaders.sftp.settings import PASSWORD_REFUSAL, SftpError, SftpSettings

# Host key algorithms negotiated for a key type recorded in known_hosts.
_ALGORITHMS_FOR_KEY_TYPE = {"ssh-rsa": ("rsa-sha2-512", "rsa-sha2-256", "ssh-rsa")}


class HostKeyRefused(paramiko.SSHException):
    """The server's host key is not the one known_hosts records for it."""


class KnownHostsPolicy(paramiko.MissingHostKeyPolicy):
    """Accept the server only when known_hosts records exactly the key it presented.

    The SSH client is started with no host keys of its own, so paramiko asks this policy about
    every server; the policy answers from the known_hosts file alone.
    """

    def __init__(self, known_hosts: Path) -> None:
        self.known_hosts = known_hosts
        try:
            self.host_keys = paramiko.HostKeys(str(known_hosts))
        except (OSError, paramiko.SSHException, ValueError) as exc:
            raise SftpError(f"cannot read known_hosts file {known_hosts}: {exc}") from None

    def key_types(self, host_key_name: str) -> list[str]:
        """Key types known_hosts records for the host (empty when the host is unknown)."""
        entry = self.host_keys.lookup(host_key_name)
        return list(entry.keys()) if entry else []

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> None:
        entry = self.host_keys.lookup(hostname)
        presented = f"{key.get_name()} key {key.fingerprint}"
        if not entry:
            raise HostKeyRefused(
                f"host key of {hostname} is not in {self.known_hosts} (the server offered an {presented}); "
                "check that fingerprint with the district and add the key to known_hosts (see docs/sftp.md)"
            )
        recorded = entry.get(key.get_name())
        if recorded is None or recorded != key:
            raise HostKeyRefused(
                f"HOST KEY CHANGED for {hostname}: the server offered an {presented}, which is not the key "
                f"{self.known_hosts} records — refusing to connect (someone may be intercepting the connection); "
                "if the district replaced its key, confirm the new fingerprint with them and update known_hosts"
            )

    def transport_factory(self, host_key_name: str) -> Any:
        """A paramiko ``Transport`` factory that prefers the host key types known_hosts records."""
        preferred: list[str] = []
        for key_type in self.key_types(host_key_name):
            preferred.extend(_ALGORITHMS_FOR_KEY_TYPE.get(key_type, (key_type,)))

        def factory(sock: socket.socket, **kwargs: Any) -> paramiko.Transport:
            transport = paramiko.Transport(sock, **kwargs)
            if preferred:
                options = transport.get_security_options()
                offered = list(options.key_types)
                known = [name for name in offered if name in preferred]
                options.key_types = known + [name for name in offered if name not in known]
            return transport

        return factory


class KeyPairOnly(AuthStrategy):
    """Authenticate with one private key; no password, agent or key discovery."""

    def __init__(self, username: str, pkey: paramiko.PKey) -> None:
        super().__init__(ssh_config=paramiko.SSHConfig())
        self.username = username
        self.pkey = pkey

    def get_sources(self) -> Iterator[InMemoryPrivateKey]:
        yield InMemoryPrivateKey(self.username, self.pkey)


def load_private_key(path: Path) -> paramiko.PKey:
    """Read the private key file; raises ``SftpError`` when it cannot be used unattended."""
    try:
        return paramiko.PKey.from_path(path)
    except paramiko.PasswordRequiredException:
        raise SftpError(
            f"private key {path} is protected by a passphrase; scheduled pickups need a key without one, "
            "readable only by the account that runs rollcall (see docs/sftp.md)"
        ) from None
    except (paramiko.SSHException, ValueError, OSError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SftpError(f"cannot read private key {path}: {reason} (give the private key, not the .pub file)") from None


def _auth_failure_message(settings: SftpSettings, exc: paramiko.AuthenticationException) -> str:
    allowed: set[str] = set()
    if isinstance(exc, AuthFailure):
        for source_result in exc.result:
            allowed.update(getattr(source_result.result, "allowed_types", None) or ())
    if allowed and "publickey" not in allowed:
        return f"{settings.host} accepts only {', '.join(sorted(allowed))} for {settings.username}: {PASSWORD_REFUSAL}"
    return (
        f"{settings.host} refused the key {settings.identity_file} for user {settings.username}: "
        "is its public key in that account's authorized_keys on the server?"
    )


@contextmanager
def open_sftp(settings: SftpSettings) -> Iterator[AbstractFileSystem]:
    """Connect (dlt's fsspec filesystem for the ``sftp`` protocol) and close the session afterwards.

    Every failure to connect — unreachable host, refused host key, refused key — is raised as
    ``SftpError`` with a one-line message.
    """
    policy = KnownHostsPolicy(settings.known_hosts)
    pkey = load_private_key(settings.identity_file)
    credentials = SFTPCredentials()
    credentials.sftp_username = settings.username
    credentials.sftp_port = settings.port
    credentials.sftp_allow_agent = False
    credentials.sftp_look_for_keys = False
    credentials.sftp_timeout = settings.timeout
    credentials.sftp_banner_timeout = settings.timeout
    credentials.sftp_auth_timeout = settings.timeout
    credentials.sftp_channel_timeout = settings.timeout
    credentials.sftp_auth_strategy = KeyPairOnly(settings.username, pkey)
    credentials.sftp_transport_factory = policy.transport_factory(settings.host_key_name)
    config = FilesystemConfiguration(
        settings.bucket_url,
        credentials,
        kwargs={"host_key_policy": policy, "skip_instance_cache": True},
    )
    where = f"{settings.host}:{settings.port}"
    try:
        filesystem, _ = fsspec_from_config(config)
    except HostKeyRefused as exc:
        raise SftpError(str(exc)) from None
    except paramiko.AuthenticationException as exc:
        raise SftpError(_auth_failure_message(settings, exc)) from None
    except TimeoutError:
        raise SftpError(f"cannot reach {where}: no answer within {settings.timeout:g} s") from None
    except OSError as exc:  # refused connection, unknown host name, no route
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise SftpError(f"cannot reach {where}: {reason}") from None
    except paramiko.SSHException as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SftpError(f"SSH connection to {where} failed: {reason}") from None
    try:
        yield filesystem
    finally:
        filesystem.client.close()
