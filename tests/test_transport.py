"""The SMTP transport against a real aiosmtpd server on 127.0.0.1: security modes, AUTH, reuse, faults."""

from __future__ import annotations

from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from pathlib import Path

import pytest

from publisher.mailing.transport import (
    FolderTransport,
    PermanentFailure,
    SetupFailure,
    SmtpSettings,
    SmtpTransport,
    TemporaryFailure,
    check_server,
)

from .smtp_server import Faults, RecordingHandler, SmtpServer, free_port

SENDER = "digest@example.com"
PASSWORD = "s3cret-Pa55word!"


def message(to: str, body: str = "안녕하세요") -> bytes:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = SENDER, to, "test"
    mail.set_content(body)
    return mail.as_bytes(policy=SMTP_POLICY)


def settings(server: SmtpServer, **changes) -> SmtpSettings:
    return SmtpSettings(**{"host": server.host, "port": server.port, "security": "plain", "timeout": 5, **changes})


@pytest.fixture
def trust(certificate, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate.cert))
    return certificate


def test_plain_send_reuses_one_connection_and_returns_the_reply():
    with SmtpServer(RecordingHandler()) as server:
        transport = SmtpTransport(settings(server))
        replies = [transport.send(message(f"r{i}@example.com"), SENDER, f"r{i}@example.com") for i in range(3)]
        transport.close()
        received = server.handler.received
    assert replies == [f"250 2.0.0 OK queued as {i}" for i in (1, 2, 3)]
    assert [r.rcpt_tos for r in received] == [(f"r{i}@example.com",) for i in range(3)]
    assert len({r.peer for r in received}) == 1  # one connection for all three
    assert received[0].message().get_content().strip() == "안녕하세요"


def test_451_is_temporary_and_550_permanent_and_the_connection_stays_usable():
    faults = Faults(temporary_on={1}, refuse={"nobody@example.com"})
    with SmtpServer(RecordingHandler(faults)) as server:
        transport = SmtpTransport(settings(server))
        with pytest.raises(TemporaryFailure, match=r"DATA: 451 4\.3\.0 try again later"):
            transport.send(message("a@example.com"), SENDER, "a@example.com")
        with pytest.raises(PermanentFailure, match=r"RCPT TO: 550 5\.1\.1 <nobody@example\.com>: no such user"):
            transport.send(message("nobody@example.com"), SENDER, "nobody@example.com")
        assert transport.send(message("a@example.com"), SENDER, "a@example.com").startswith("250")
        transport.close()
        received = server.handler.received
    assert [r.rcpt_tos for r in received] == [("a@example.com",)]
    assert len({r.peer for r in received}) == 1


def test_a_dropped_connection_is_temporary_and_the_next_send_reconnects():
    with SmtpServer(RecordingHandler(Faults(drop_after=1))) as server:
        transport = SmtpTransport(settings(server))
        transport.send(message("a@example.com"), SENDER, "a@example.com")
        with pytest.raises(TemporaryFailure, match="connection lost"):
            transport.send(message("b@example.com"), SENDER, "b@example.com")
        transport.send(message("b@example.com"), SENDER, "b@example.com")
        transport.close()
        received = server.handler.received
    assert [r.rcpt_tos[0] for r in received] == ["a@example.com", "b@example.com"]
    assert received[0].peer != received[1].peer


def test_starttls_with_auth(trust):
    handler = RecordingHandler()
    with SmtpServer(handler, security="starttls", certificate=trust, login=("mailer", PASSWORD)) as server:
        transport = SmtpTransport(settings(server, security="starttls", username="mailer", password=PASSWORD))
        assert transport.send(message("a@example.com"), SENDER, "a@example.com").startswith("250")
        transport.close()
    assert len(handler.received) == 1
    assert handler.logins and handler.logins[0].endswith(":mailer")


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # aiosmtpd cannot see SMTPS is TLS
def test_implicit_tls_with_auth(trust):
    handler = RecordingHandler()
    with SmtpServer(handler, security="ssl", certificate=trust, login=("mailer", PASSWORD)) as server:
        transport = SmtpTransport(settings(server, security="ssl", username="mailer", password=PASSWORD))
        transport.send(message("a@example.com"), SENDER, "a@example.com")
        transport.close()
    assert len(handler.received) == 1


def test_a_wrong_password_is_a_setup_failure_that_does_not_show_it(trust):
    with SmtpServer(RecordingHandler(), security="starttls", certificate=trust, login=("mailer", PASSWORD)) as server:
        wrong = settings(server, security="starttls", username="mailer", password="not-the-Pa55word")
        with pytest.raises(SetupFailure, match="authentication failed") as caught:
            check_server(wrong)
    assert "not-the-Pa55word" not in str(caught.value)
    assert "not-the-Pa55word" not in repr(wrong)


def test_an_untrusted_certificate_is_refused(certificate, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "no-such-ca.pem"))
    server = SmtpServer(RecordingHandler(), security="starttls", certificate=certificate)
    with server, pytest.raises(SetupFailure, match="TLS failed"):
        check_server(settings(server, security="starttls"))


def test_starttls_against_a_server_without_it_is_refused():
    with SmtpServer(RecordingHandler()) as server, pytest.raises(SetupFailure, match="does not offer STARTTLS"):
        check_server(settings(server, security="starttls"))


def test_no_host_and_a_closed_port_are_setup_failures():
    with pytest.raises(SetupFailure, match="no SMTP host"):
        check_server(SmtpSettings(host="", port=25))
    with pytest.raises(SetupFailure, match=r"cannot connect to SMTP server 127\.0\.0\.1:\d+ \(plain\)"):
        check_server(SmtpSettings(host="127.0.0.1", port=free_port(), security="plain", timeout=2))


def test_folder_transport_writes_one_safe_file_per_recipient(tmp_path: Path):
    folder = FolderTransport(tmp_path / "dry")
    folder.send(message("a/b@example.com"), SENDER, "a/b@example.com")
    folder.send(message("a_b@example.com"), SENDER, "a_b@example.com")
    files = sorted((tmp_path / "dry").iterdir())
    assert len(files) == 2 and all(f.suffix == ".eml" and f.parent == tmp_path / "dry" for f in files)
