"""scheduler.sftp against a real OpenSSH sshd (tests/fixtures/sshd.py)."""

from __future__ import annotations

import re
import socket
import subprocess
import threading
from collections.abc import Iterator
from datetime import date

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from hypothesis import given
from hypothesis import strategies as st

from scheduler import sftp
from tests.fixtures.services import free_port
from tests.fixtures.sshd import SftpServer

CSV = b"email,firstName,lastName\nada@example.com,Ada,Lovelace\n"


def other_public_key(kind: str = "ed25519") -> str:
    """A host key line that is not the server's."""
    if kind == "rsa":
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    else:
        private = ed25519.Ed25519PrivateKey.generate()
    return (
        private.public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        .decode()
    )


@pytest.fixture
def silent_server() -> Iterator[tuple[int, list[socket.socket]]]:
    """A TCP port that accepts connections and never says a word."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.2)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1], accepted
    stop.set()
    thread.join(timeout=5)
    for connection in accepted:
        connection.close()
    listener.close()


# Logging in


def test_password_login_downloads_the_file(sftp_server: SftpServer) -> None:
    folder = sftp_server.folder()
    (folder / "users.csv").write_bytes(CSV)

    with sftp.connect(sftp_server.settings()) as session:
        data = session.download(f"{folder}/users.csv", max_bytes=1_000_000)

    assert data == CSV


@pytest.mark.parametrize("kind", ["ed25519", "ecdsa", "rsa-pem"])
def test_key_login_works_with_each_key_type(sftp_server: SftpServer, kind: str) -> None:
    folder = sftp_server.folder()
    (folder / "users.csv").write_bytes(CSV)
    settings = sftp_server.settings(password="", private_key=sftp_server.private_keys[kind])

    with sftp.connect(settings) as session:
        assert session.download(f"{folder}/users.csv", max_bytes=1_000_000) == CSV


def test_a_wrong_password_is_refused_and_not_shown(sftp_server: SftpServer) -> None:
    wrong = "not-the-password-" + sftp_server.password[:4]

    with (
        pytest.raises(sftp.SftpAuthFailed) as caught,
        sftp.connect(sftp_server.settings(password=wrong)),
    ):
        pass

    message = str(caught.value)
    assert f"127.0.0.1:{sftp_server.port}" in message
    assert sftp_server.username in message
    assert wrong not in message
    assert not caught.value.retryable


def test_settings_never_show_the_password_or_key(sftp_server: SftpServer) -> None:
    settings = sftp_server.settings(private_key=sftp_server.private_keys["ed25519"])

    shown = repr(settings)

    assert sftp_server.password not in shown
    assert "PRIVATE KEY" not in shown


# Host keys


def test_fetch_host_key_shows_the_fingerprint_ssh_keygen_shows(sftp_server: SftpServer) -> None:
    key = sftp.fetch_host_key(sftp_server.host, sftp_server.port, timeout=10)

    keygen = subprocess.run(
        ["ssh-keygen", "-lf", "-"],
        input=sftp_server.host_key,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    assert key.line == sftp_server.host_key
    assert key.key_type == "ssh-ed25519"
    assert key.fingerprint == keygen.stdout.split()[1]


@pytest.mark.parametrize("kind", ["ed25519", "rsa"])
def test_a_wrong_pinned_key_is_refused_before_logging_in(
    sftp_server: SftpServer, kind: str
) -> None:
    pinned = other_public_key(kind)
    received = sftp.fetch_host_key(sftp_server.host, sftp_server.port, timeout=10).fingerprint
    offset = sftp_server.log_size()

    with (
        pytest.raises(sftp.HostKeyMismatch) as caught,
        sftp.connect(sftp_server.settings(host_key=pinned)),
    ):
        pass

    expected = sftp.parse_host_keys(pinned)[0].fingerprint
    message = str(caught.value)
    assert expected in message
    assert received in message
    assert f"127.0.0.1:{sftp_server.port}" in message
    assert not caught.value.retryable
    # sshd saw one connection (no retry) that ended before authentication (no password sent).
    ports = re.findall(r"Connection from 127\.0\.0\.1 port (\d+)", sftp_server.log_since(offset))
    assert len(ports) == 1
    closed = rf"(closed|reset) by 127\.0\.0\.1 port {ports[0]} \[preauth\]"
    log = sftp_server.wait_for_log(offset, closed)
    assert re.search(closed, log)
    assert "userauth-request" not in log
    assert "password" not in log


def test_ssh_keyscan_output_can_be_pinned_as_it_is(sftp_server: SftpServer) -> None:
    folder = sftp_server.folder()
    (folder / "users.csv").write_bytes(CSV)
    scanned = f"# 127.0.0.1:{sftp_server.port} SSH-2.0-OpenSSH\n"
    scanned += f"[127.0.0.1]:{sftp_server.port} {other_public_key('rsa')}\n"
    scanned += f"[127.0.0.1]:{sftp_server.port} {sftp_server.host_key}\n"

    with sftp.connect(sftp_server.settings(host_key=scanned)) as session:
        assert session.download(f"{folder}/users.csv", max_bytes=1_000_000) == CSV


def test_no_pinned_key_means_no_connection(sftp_server: SftpServer) -> None:
    with (
        pytest.raises(sftp.SftpSettingsError, match="No host key is pinned"),
        sftp.connect(sftp_server.settings(host_key="")),
    ):
        pass


def test_a_garbled_pinned_key_is_explained() -> None:
    with pytest.raises(sftp.SftpSettingsError, match='must read "TYPE BASE64"'):
        sftp.parse_host_keys("SHA256:Rar35R5X3s1PfUUW8n7JzWyiJkq73MfFsxakTBo")
    with pytest.raises(sftp.SftpSettingsError, match="ssh-ed25519 host key could not be read"):
        sftp.parse_host_keys("ssh-ed25519 AAAA!!!")
    with pytest.raises(sftp.SftpSettingsError, match="supported types"):
        sftp.parse_host_keys("sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5")


# Private keys


def test_a_key_with_a_passphrase_is_refused_with_advice() -> None:
    protected = (
        ed25519.Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.OpenSSH,
            serialization.BestAvailableEncryption(b"a passphrase"),
        )
        .decode()
    )

    with pytest.raises(sftp.SftpSettingsError, match="passphrase"):
        sftp.load_private_key(protected)


@given(st.text(max_size=300))
def test_any_pinned_key_text_is_read_or_explained(text: str) -> None:
    try:
        keys = sftp.parse_host_keys(text)
    except sftp.SftpSettingsError as error:
        message = str(error)
        assert message.startswith(("The pinned", "No host key"))
    else:
        assert keys


@given(
    st.sampled_from(
        ["", "-----BEGIN OPENSSH PRIVATE KEY-----\n", "-----BEGIN RSA PRIVATE KEY-----\n"]
    ),
    st.text(alphabet="ABCDEFabcdef0123456789+/=\n", max_size=300),
)
def test_any_private_key_text_is_read_or_explained(header: str, body: str) -> None:
    with pytest.raises(sftp.SftpSettingsError, match="is not an Ed25519, ECDSA or RSA key"):
        sftp.load_private_key(header + body)


def test_text_that_is_not_a_key_is_refused() -> None:
    with pytest.raises(sftp.SftpSettingsError, match="OpenSSH or PEM"):
        sftp.load_private_key("-----BEGIN OPENSSH PRIVATE KEY-----\nnope\n")


# The server is not there, or says nothing


def test_a_server_that_is_down_is_a_transient_error() -> None:
    port = free_port()
    settings = sftp.SftpSettings(
        host="127.0.0.1",
        port=port,
        username="nobody",
        password="x",
        host_key=other_public_key(),
        connect_timeout=5,
    )

    with pytest.raises(sftp.SftpTransient, match="refused") as caught, sftp.connect(settings):
        pass
    with pytest.raises(sftp.SftpTransient, match="refused"):
        sftp.fetch_host_key("127.0.0.1", port, timeout=5)

    assert f"127.0.0.1:{port}" in str(caught.value)
    assert caught.value.retryable


@pytest.mark.timeout(60)
def test_a_server_that_never_answers_ends_at_the_timeout(
    silent_server: tuple[int, list[socket.socket]],
) -> None:
    port, accepted = silent_server
    settings = sftp.SftpSettings(
        host="127.0.0.1",
        port=port,
        username="nobody",
        password="x",
        host_key=other_public_key(),
        connect_timeout=1,
    )

    with (
        pytest.raises(sftp.SftpTransient, match="within 1 seconds") as caught,
        sftp.connect(settings),
    ):
        pass
    with pytest.raises(sftp.SftpTransient, match="within 1 seconds"):
        sftp.fetch_host_key("127.0.0.1", port, timeout=1)

    assert len(accepted) == 2  # both attempts got past TCP and waited for the SSH banner
    assert f"127.0.0.1:{port}" in str(caught.value)


@pytest.mark.timeout(60)
def test_a_server_that_stops_answering_mid_session_ends_at_the_timeout(
    sftp_server: SftpServer,
) -> None:
    folder = sftp_server.folder()
    (folder / "users.csv").write_bytes(CSV)

    with (
        sftp.connect(sftp_server.settings(io_timeout=1)) as session,
        sftp_server.frozen(),
        pytest.raises(sftp.SftpTransient, match="within 1 seconds"),
    ):
        session.download(f"{folder}/users.csv", max_bytes=1_000_000)


# Downloading


def test_a_missing_file_is_reported_with_its_path(sftp_server: SftpServer) -> None:
    path = f"{sftp_server.folder()}/absent.csv"

    with (
        sftp.connect(sftp_server.settings()) as session,
        pytest.raises(sftp.SftpFileNotFound) as caught,
    ):
        session.download(path, max_bytes=1_000_000)

    assert path in str(caught.value)
    assert f"127.0.0.1:{sftp_server.port}" in str(caught.value)
    assert not caught.value.retryable


def test_a_file_over_the_limit_is_refused_without_being_read(sftp_server: SftpServer) -> None:
    folder = sftp_server.folder()
    big = folder / "big.csv"
    big.write_bytes(b"x" * 2049)
    # Nobody may read it: only the size check (stat) can succeed, so the error below proves
    # the file was never opened.
    big.chmod(0)

    with (
        sftp.connect(sftp_server.settings()) as session,
        pytest.raises(sftp.SftpFileTooLarge) as caught,
    ):
        session.download(str(big), max_bytes=2048)

    assert str(caught.value) == (
        f"{big} on 127.0.0.1:{sftp_server.port} is 2.0 KB, over the limit of 2.0 KB: "
        "it was not imported."
    )


def test_a_file_exactly_at_the_limit_is_downloaded(sftp_server: SftpServer) -> None:
    folder = sftp_server.folder()
    (folder / "users.csv").write_bytes(b"y" * 300_000)

    with sftp.connect(sftp_server.settings()) as session:
        data = session.download(f"{folder}/users.csv", max_bytes=300_000)

    assert data == b"y" * 300_000


def test_an_unreadable_file_is_a_permission_error(sftp_server: SftpServer) -> None:
    folder = sftp_server.folder()
    (folder / "users.csv").write_bytes(CSV)
    (folder / "users.csv").chmod(0)

    with (
        sftp.connect(sftp_server.settings()) as session,
        pytest.raises(sftp.SftpPermission, match="permission denied"),
    ):
        session.download(f"{folder}/users.csv", max_bytes=1_000_000)


# Writing the log


def test_the_log_lands_with_the_prefix_and_the_date(sftp_server: SftpServer) -> None:
    logs = sftp_server.folder()

    with sftp.connect(sftp_server.settings()) as session:
        path = session.upload_log(str(logs), "acme", date(2025, 3, 9), b"line,result\n2,ok\n")

    assert path == f"{logs}/acme-20250309.csv"
    assert (logs / "acme-20250309.csv").read_bytes() == b"line,result\n2,ok\n"


def test_later_logs_of_the_same_day_get_2_and_3_and_never_overwrite(
    sftp_server: SftpServer,
) -> None:
    logs = sftp_server.folder()
    day = date(2025, 11, 2)

    with sftp.connect(sftp_server.settings()) as session:
        paths = [
            session.upload_log(str(logs), "acme", day, f"run {n}\n".encode()) for n in (1, 2, 3)
        ]

    assert paths == [
        f"{logs}/acme-20251102.csv",
        f"{logs}/acme-20251102-2.csv",
        f"{logs}/acme-20251102-3.csv",
    ]
    assert [(logs / p.rsplit("/", 1)[1]).read_text() for p in paths] == [
        "run 1\n",
        "run 2\n",
        "run 3\n",
    ]


def test_a_log_folder_without_write_permission_is_reported(sftp_server: SftpServer) -> None:
    logs = sftp_server.folder()
    logs.chmod(0o555)

    with (
        sftp.connect(sftp_server.settings()) as session,
        pytest.raises(sftp.SftpPermission) as caught,
    ):
        session.upload_log(str(logs), "acme", date(2025, 3, 9), b"x\n")

    assert str(caught.value) == (
        f"The server at 127.0.0.1:{sftp_server.port} does not let this login write in {logs}."
    )
    assert list(logs.iterdir()) == []


def test_a_missing_log_folder_is_reported(sftp_server: SftpServer) -> None:
    logs = f"{sftp_server.folder()}/logs"

    with (
        sftp.connect(sftp_server.settings()) as session,
        pytest.raises(sftp.SftpFileNotFound, match=re.escape(f"The folder {logs} does not exist")),
    ):
        session.upload_log(logs, "acme", date(2025, 3, 9), b"x\n")


# Moving


def test_move_puts_the_file_in_the_folder_without_overwriting(sftp_server: SftpServer) -> None:
    inbox = sftp_server.folder()
    done = sftp_server.folder()
    (done / "users.csv").write_bytes(b"yesterday\n")
    (inbox / "users.csv").write_bytes(CSV)

    with sftp.connect(sftp_server.settings()) as session:
        moved = session.move(f"{inbox}/users.csv", str(done))

    assert moved == f"{done}/users-2.csv"
    assert not (inbox / "users.csv").exists()
    assert (done / "users-2.csv").read_bytes() == CSV
    assert (done / "users.csv").read_bytes() == b"yesterday\n"


def test_moving_a_missing_file_or_to_a_missing_folder_says_which(
    sftp_server: SftpServer,
) -> None:
    inbox = sftp_server.folder()
    (inbox / "users.csv").write_bytes(CSV)

    with sftp.connect(sftp_server.settings()) as session:
        with pytest.raises(
            sftp.SftpFileNotFound, match=re.escape(f"{inbox}/absent.csv does not exist")
        ):
            session.move(f"{inbox}/absent.csv", str(inbox))
        with pytest.raises(
            sftp.SftpFileNotFound, match=re.escape(f"The folder {inbox}/done does not")
        ):
            session.move(f"{inbox}/users.csv", f"{inbox}/done")

    assert (inbox / "users.csv").read_bytes() == CSV


# Test connection


def test_check_finds_the_file_and_leaves_no_trace_in_the_log_folder(
    sftp_server: SftpServer,
) -> None:
    inbox = sftp_server.folder()
    logs = sftp_server.folder()
    (inbox / "users.csv").write_bytes(CSV)

    with sftp.connect(sftp_server.settings()) as session:
        found = session.check(f"{inbox}/users.csv", str(logs))

    assert found.size == len(CSV)
    assert found.modified is not None
    assert list(logs.iterdir()) == []


def test_check_reports_a_read_only_log_folder(sftp_server: SftpServer) -> None:
    inbox = sftp_server.folder()
    (inbox / "users.csv").write_bytes(CSV)
    logs = sftp_server.folder()
    logs.chmod(0o555)

    with (
        sftp.connect(sftp_server.settings()) as session,
        pytest.raises(sftp.SftpPermission, match=re.escape(f"write in {logs}")),
    ):
        session.check(f"{inbox}/users.csv", str(logs))


def test_check_reports_a_missing_file_then_a_missing_log_folder(sftp_server: SftpServer) -> None:
    inbox = sftp_server.folder()

    with sftp.connect(sftp_server.settings()) as session:
        with pytest.raises(
            sftp.SftpFileNotFound, match=re.escape(f"{inbox}/users.csv does not exist")
        ):
            session.check(f"{inbox}/users.csv", str(inbox))
        (inbox / "users.csv").write_bytes(CSV)
        with pytest.raises(
            sftp.SftpFileNotFound, match=re.escape(f"The log folder {inbox}/logs does")
        ):
            session.check(f"{inbox}/users.csv", f"{inbox}/logs")
