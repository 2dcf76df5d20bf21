"""The company's SFTP server: read its host key, fetch the HR file, write the log back.

The only module of the product that imports paramiko. Every connection checks the server
against a pinned host key (``RejectPolicy`` plus the pinned key: a different key is a hard
failure before any password or key is sent), and every step has a timeout, so a server that
stops answering ends the attempt in bounded time.

    with connect(settings) as session:
        data = session.download("/in/users.csv", max_bytes=50_000_000)
        session.upload_log("/logs", "users", date.today(), log_bytes)
        session.move("/in/users.csv", "/in/done")

Errors are ``SftpError`` subclasses; ``error.retryable`` is true only for ``SftpTransient``.
Messages name the server (host:port) and the path, never the password or the key.
"""

from __future__ import annotations

import base64
import io
import logging
import posixpath
import secrets
import socket
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import NamedTuple

import paramiko

logger = logging.getLogger(__name__)

DEFAULT_PORT = 22
MAX_NAME_ATTEMPTS = 1000  # "-2" ... "-1000": past that, something is wrong with the folder
PROBE_PREFIX = ".user2smart-probe-"


class SftpError(Exception):
    """Something went wrong with the SFTP server; the message says what, for an operator."""

    retryable = False


class SftpTransient(SftpError):
    """The server could not be reached or stopped answering: trying again later may work."""

    retryable = True


class SftpSettingsError(SftpError):
    """The schedule's SFTP settings are incomplete or unreadable (key text, host key...)."""


class SftpAuthFailed(SftpError):
    """The server refused the login."""


class HostKeyMismatch(SftpError):
    """The server's host key is not the pinned one: never retried, nothing was sent."""


class SftpFileNotFound(SftpError):
    """A file or folder the schedule names does not exist on the server."""


class SftpFileTooLarge(SftpError):
    """The file is larger than the import limit; it was not read."""


class SftpPermission(SftpError):
    """The server refused to read, write or move a file."""


@dataclass(frozen=True)
class SftpSettings:
    """Where and how to log in. ``password`` and ``private_key`` never appear in a repr."""

    host: str
    username: str
    host_key: str  # "ssh-ed25519 AAAA..." (several lines allowed, as ssh-keyscan prints them)
    port: int = DEFAULT_PORT
    password: str = field(default="", repr=False)
    private_key: str = field(default="", repr=False)  # OpenSSH or PEM text, no passphrase
    connect_timeout: float = 15.0  # TCP connect, SSH banner, authentication, channel open
    io_timeout: float = 60.0  # each SFTP request

    @property
    def where(self) -> str:
        return _where(self.host, self.port)


class HostKey(NamedTuple):
    """A server's public host key, as shown by "Test connection" for pinning."""

    key_type: str  # "ssh-ed25519"
    base64: str
    fingerprint: str  # "SHA256:...", as `ssh-keygen -lf` prints it

    @property
    def line(self) -> str:
        """The text to pin: ``"ssh-ed25519 AAAA..."``."""
        return f"{self.key_type} {self.base64}"


@dataclass(frozen=True)
class RemoteFile:
    path: str
    size: int
    modified: datetime | None


def parse_host_keys(text: str) -> list[paramiko.PKey]:
    """The pinned keys in ``text``: ``TYPE BASE64`` lines (ssh-keyscan lines also work)."""
    keys: list[paramiko.PKey] = []
    for line in text.splitlines():
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        if len(words) >= 3 and not _is_key_type(words[0]) and _is_key_type(words[1]):
            words = words[1:]  # "host TYPE BASE64" as printed by ssh-keyscan
        if len(words) < 2 or not _is_key_type(words[0]):
            raise SftpSettingsError(
                'The pinned host key must read "TYPE BASE64", '
                'for example "ssh-ed25519 AAAAC3Nz...".'
            )
        try:
            keys.append(paramiko.PKey.from_type_string(words[0], base64.b64decode(words[1])))
        except Exception:  # binascii.Error, UnknownKeyType, paramiko's asserts...
            raise SftpSettingsError(
                f"The pinned {words[0]} host key could not be read: copy it again (supported "
                "types: ssh-ed25519, ecdsa-sha2-nistp256/384/521, ssh-rsa)."
            ) from None
    if not keys:
        raise SftpSettingsError(
            "No host key is pinned: use Test connection to read the server's key, check its "
            "fingerprint with the server's administrator, and pin it."
        )
    return keys


def load_private_key(text: str) -> paramiko.PKey:
    """An Ed25519, ECDSA or RSA private key from OpenSSH or PEM text (no passphrase)."""
    for key_class in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
        try:
            return key_class.from_private_key(io.StringIO(text.strip() + "\n"))
        except paramiko.PasswordRequiredException:
            raise SftpSettingsError(
                "The private key is protected by a passphrase: give a key without one "
                "(ssh-keygen -p -N '' -f KEYFILE removes it from a copy)."
            ) from None
        except Exception:  # paramiko's parsers also raise AssertionError, IndexError...
            logger.debug("The private key is not a %s", key_class.__name__)  # try the next type
    raise SftpSettingsError(
        "The private key is not an Ed25519, ECDSA or RSA key in OpenSSH or PEM format "
        "(a PuTTY .ppk key converts with: puttygen KEY.ppk -O private-openssh -o KEYFILE)."
    )


def fetch_host_key(host: str, port: int = DEFAULT_PORT, timeout: float = 15.0) -> HostKey:
    """Connect without logging in and return the server's host key, to show and pin."""
    where = _where(host, port)
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except OSError as exc:
        raise _connection_error(where, exc, timeout) from None
    transport = paramiko.Transport(sock)
    transport.banner_timeout = timeout
    try:
        transport.start_client(timeout=timeout)
        key = transport.get_remote_server_key()
    except (paramiko.SSHException, OSError, EOFError) as exc:
        raise _connection_error(where, exc, timeout) from None
    finally:
        transport.close()
    return HostKey(key.get_name(), key.get_base64(), key.fingerprint)


@contextmanager
def connect(settings: SftpSettings) -> Iterator[SftpSession]:
    """Log in (after checking the pinned host key) and open an SFTP session."""
    client = _login(settings)
    try:
        try:
            sftp = client.open_sftp()
        except paramiko.ChannelException:
            raise SftpError(f"The server at {settings.where} refused to start SFTP.") from None
        except (paramiko.SSHException, OSError, EOFError) as exc:
            raise _connection_error(settings.where, exc, settings.connect_timeout) from None
        sftp.get_channel().settimeout(settings.io_timeout)
        yield SftpSession(settings, sftp)
    finally:
        client.close()


def _login(settings: SftpSettings) -> paramiko.SSHClient:
    pinned = parse_host_keys(settings.host_key)
    if not (settings.password or settings.private_key):
        raise SftpSettingsError(f"No password or private key is set for {settings.where}.")
    private_key = load_private_key(settings.private_key) if settings.private_key else None
    client = paramiko.SSHClient()
    # paramiko looks the server up as known_hosts does: "host" on port 22, else "[host]:port".
    known_as = (
        settings.host if settings.port == DEFAULT_PORT else f"[{settings.host}]:{settings.port}"
    )
    for key in pinned:
        client.get_host_keys().add(known_as, key.get_name(), key)
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    timeout = settings.connect_timeout
    try:
        client.connect(
            settings.host,
            port=settings.port,
            username=settings.username,
            password=settings.password or None,
            pkey=private_key,
            allow_agent=False,
            look_for_keys=False,
            timeout=timeout,
            banner_timeout=timeout,
            auth_timeout=timeout,
            channel_timeout=timeout,
        )
    except (paramiko.SSHException, OSError, EOFError) as exc:
        client.close()
        raise _login_error(settings, exc) from None
    logger.info("Connected to SFTP server %s as %s", settings.where, settings.username)
    return client


def _login_error(settings: SftpSettings, exc: Exception) -> SftpError:
    where = settings.where
    if isinstance(exc, paramiko.BadHostKeyException):
        return HostKeyMismatch(
            f"The server at {where} presented the host key {exc.key.fingerprint} "
            f"({exc.key.get_name()}) but {exc.expected_key.fingerprint} "
            f"({exc.expected_key.get_name()}) is pinned. Nothing was sent. If the server's key "
            "was changed on purpose, pin the new one; otherwise the connection may be "
            "intercepted."
        )
    refused = f'The server at {where} refused the login of "{settings.username}"'
    if isinstance(exc, paramiko.BadAuthenticationType):
        return SftpAuthFailed(f"{refused}: it accepts only {', '.join(exc.allowed_types)}.")
    if isinstance(exc, paramiko.AuthenticationException):
        return SftpAuthFailed(f"{refused}: check the user name and the password or key.")
    return _connection_error(where, exc, settings.connect_timeout)


class SftpSession:
    """An open SFTP session; get one from ``connect()``."""

    def __init__(self, settings: SftpSettings, sftp: paramiko.SFTPClient) -> None:
        self.settings = settings
        self.sftp = sftp
        self.where = settings.where

    def stat(self, path: str) -> RemoteFile:
        """The file at ``path`` (``SftpFileNotFound`` if missing or a folder)."""
        with self._errors(f"reading {path}", missing=f"{path} does not exist on {self.where}."):
            attrs = self.sftp.stat(path)
        if attrs.st_mode is not None and stat.S_ISDIR(attrs.st_mode):
            raise SftpFileNotFound(f"{path} on {self.where} is a folder, not a file.")
        modified = None
        if attrs.st_mtime is not None:
            modified = datetime.fromtimestamp(attrs.st_mtime, tz=UTC)
        return RemoteFile(path=path, size=attrs.st_size or 0, modified=modified)

    def download(self, path: str, max_bytes: int) -> bytes:
        """The whole file, prefetched; ``SftpFileTooLarge`` before reading if over the limit."""
        remote = self.stat(path)
        if remote.size > max_bytes:
            raise self._too_large(path, remote.size, max_bytes)
        with self._errors(f"reading {path}"), self.sftp.open(path, "rb") as handle:
            handle.prefetch(remote.size)
            data = handle.read(max_bytes + 1)
        if len(data) > max_bytes:  # the file grew while it was read
            raise self._too_large(path, len(data), max_bytes)
        logger.info("Downloaded %s (%d bytes) from %s", path, len(data), self.where)
        return data

    def upload_log(self, directory: str, prefix: str, day: date, data: bytes) -> str:
        """Write ``<prefix>-YYYYMMDD.csv`` (then ``-2``, ``-3``...), never overwriting."""
        if not prefix or "/" in prefix:
            raise SftpSettingsError(f'The log prefix "{prefix}" must be a name without "/".')
        base = f"{prefix}-{day:%Y%m%d}"
        for attempt in range(1, MAX_NAME_ATTEMPTS + 1):
            name = f"{base}.csv" if attempt == 1 else f"{base}-{attempt}.csv"
            path = posixpath.join(directory, name)
            if self._create(path, data, folder=directory):
                logger.info("Wrote log %s on %s", path, self.where)
                return path
        raise SftpError(f"{directory} on {self.where} has too many logs named {base}.")

    def move(self, path: str, folder: str) -> str:
        """Move ``path`` into ``folder``, never overwriting (``name-2.csv``...); the new path."""
        name = posixpath.basename(path)
        stem, extension = posixpath.splitext(name)
        for attempt in range(1, MAX_NAME_ATTEMPTS + 1):
            target_name = name if attempt == 1 else f"{stem}-{attempt}{extension}"
            target = posixpath.join(folder, target_name)
            try:
                with self._errors(f"moving {path} to {folder}"):
                    self.sftp.rename(path, target)  # SFTP rename refuses to replace a file
            except SftpFileNotFound:
                missing = path if not self._exists(path) else f"The folder {folder}"
                raise SftpFileNotFound(f"{missing} does not exist on {self.where}.") from None
            except (SftpTransient, SftpPermission):
                raise
            except SftpError:
                if self._exists(target):
                    continue
                raise
            logger.info("Moved %s to %s on %s", path, target, self.where)
            return target
        raise SftpError(f"{folder} on {self.where} has too many files named {name}.")

    def check(self, path: str, log_dir: str) -> RemoteFile:
        """The import file exists and the log folder is writable (a probe file is written)."""
        remote = self.stat(path)
        missing = f"The log folder {log_dir} does not exist on {self.where}."
        with self._errors(f"reading {log_dir}", missing=missing):
            attrs = self.sftp.stat(log_dir)
        if attrs.st_mode is not None and not stat.S_ISDIR(attrs.st_mode):
            raise SftpFileNotFound(f"The log folder {log_dir} on {self.where} is a file.")
        probe = posixpath.join(log_dir, PROBE_PREFIX + secrets.token_hex(4))
        if not self._create(probe, b"", folder=log_dir):
            raise SftpError(f"Could not write a test file in {log_dir}: try again.")
        with self._errors(f"removing the test file {probe}"):
            self.sftp.remove(probe)
        return remote

    def _create(self, path: str, data: bytes, *, folder: str) -> bool:
        """Create ``path`` exclusively and write ``data``; False if the name is taken."""
        try:
            with self._errors(
                f"writing {path}",
                missing=f"The folder {folder} does not exist on {self.where}.",
                denied=f"The server at {self.where} does not let this login write in {folder}.",
            ):
                handle = self.sftp.open(path, "wx")
        except (SftpTransient, SftpFileNotFound, SftpPermission):
            raise
        except SftpError:
            # SFTP v3 has no "already exists" status: the server answers "Failure".
            if self._exists(path):
                return False
            raise
        try:
            with self._errors(f"writing {path}"), handle:
                handle.set_pipelined(True)
                handle.write(data)
        except SftpError:
            self._remove_quietly(path)
            raise
        return True

    def _exists(self, path: str) -> bool:
        try:
            with self._errors(f"reading {path}"):
                self.sftp.stat(path)
        except SftpFileNotFound:
            return False
        return True

    def _remove_quietly(self, path: str) -> None:
        try:
            with self._errors(f"removing {path}"):
                self.sftp.remove(path)
        except SftpError:
            logger.warning("Could not remove the partial file %s on %s", path, self.where)

    def _too_large(self, path: str, size: int, limit: int) -> SftpFileTooLarge:
        return SftpFileTooLarge(
            f"{path} on {self.where} is {_size(size)}, over the limit of {_size(limit)}: "
            "it was not imported."
        )

    @contextmanager
    def _errors(
        self, doing: str, *, missing: str | None = None, denied: str | None = None
    ) -> Iterator[None]:
        """Turn paramiko's and the OS's errors into ``SftpError`` subclasses."""
        where = self.where
        try:
            yield
        except FileNotFoundError:
            raise SftpFileNotFound(missing or f"Error {doing} on {where}: not found.") from None
        except PermissionError:
            raise SftpPermission(
                denied or f"Error {doing} on {where}: permission denied."
            ) from None
        except TimeoutError:
            raise SftpTransient(
                f"Error {doing} on {where}: the server did not answer within "
                f"{self.settings.io_timeout:g} seconds."
            ) from None
        except (ConnectionError, EOFError, paramiko.SSHException) as exc:
            raise SftpTransient(f"Error {doing} on {where}: connection lost ({exc}).") from None
        except OSError as exc:
            reason = exc.strerror or (exc.args[0] if exc.args else type(exc).__name__)
            raise SftpError(f"Error {doing} on {where}: the server said {reason}.") from None


def _connection_error(where: str, exc: BaseException, timeout: float) -> SftpTransient:
    text = str(exc)
    if isinstance(exc, TimeoutError):
        why = f"it did not answer within {timeout:g} seconds"
    elif isinstance(exc, paramiko.SSHException) and (
        # paramiko's words for a server that accepted the connection and then said nothing
        "banner" in text or "No existing session" in text
    ):
        why = f"it did not complete the SSH handshake within {timeout:g} seconds"
    elif isinstance(exc, paramiko.ssh_exception.NoValidConnectionsError | ConnectionRefusedError):
        why = "the connection was refused (is the server running, and is the port right?)"
    elif isinstance(exc, ConnectionError | EOFError):
        why = "the connection was closed by the server"
    elif isinstance(exc, socket.gaierror):
        why = "the host name could not be resolved"
    else:
        why = text or type(exc).__name__
    return SftpTransient(f"Could not connect to the SFTP server at {where}: {why}.")


def _is_key_type(word: str) -> bool:
    return word.startswith(("ssh-", "ecdsa-", "sk-"))


def _where(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _size(count: int) -> str:
    if count < 1024:
        return f"{count} bytes"
    value = count / 1024
    for unit in ("KB", "MB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"
