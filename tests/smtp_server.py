"""A real SMTP server on 127.0.0.1 for tests (aiosmtpd), recording what it accepts, with faults on demand.

    with SmtpServer(RecordingHandler(Faults(temporary_on={3}))) as server:
        ... send to server.host, server.port ...
        server.handler.received   # every accepted message, in order

Faults are counted per DATA command the server sees (1 is the first message offered):
`temporary_on` answers 451, `refuse` answers 550 at RCPT TO for those addresses, `drop_after`
closes the connection without a reply when the next message is offered after that many were
accepted (once). `before_accept` / `after_accept` run inside the server for tests that need to act
at an exact moment (killing the sending process, say).

`security` is "plain", "starttls" (STARTTLS required before anything else) or "ssl" (TLS from the
first byte); `login=(user, password)` requires AUTH (PLAIN or LOGIN). `make_certificate` writes a
self-signed certificate for 127.0.0.1 that a client trusts through SSL_CERT_FILE.
"""

from __future__ import annotations

import datetime as dt
import email
import socket
import ssl
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    peer: tuple[str, int]  # the client's address and port: one per connection

    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.data, policy=default_policy)  # type: ignore[return-value]


@dataclass
class Faults:
    temporary_on: set[int] = field(default_factory=set)
    refuse: set[str] = field(default_factory=set)
    drop_after: int | None = None
    before_accept: Callable[[int], str | None] | None = None  # a reply string refuses the message
    after_accept: Callable[[int], None] | None = None


class RecordingHandler:
    def __init__(self, faults: Faults | None = None) -> None:
        self.faults = faults or Faults()
        self.received: list[Received] = []
        self.offered = 0  # DATA commands seen
        self.logins: list[str] = []
        self._dropped = False
        self._lock = threading.Lock()

    def recipients(self) -> list[str]:
        with self._lock:
            return [rcpt for message in self.received for rcpt in message.rcpt_tos]

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:
        if address.lower() in {a.lower() for a in self.faults.refuse}:
            return f"550 5.1.1 <{address}>: no such user here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        faults = self.faults
        with self._lock:
            self.offered += 1
            offered, accepted = self.offered, len(self.received)
        if offered in faults.temporary_on:
            return "451 4.3.0 try again later"
        if faults.drop_after is not None and not self._dropped and accepted >= faults.drop_after:
            self._dropped = True
            server.transport.close()
            return "421 4.4.2 connection dropped"  # never reaches the client
        if faults.before_accept and (reply := faults.before_accept(accepted + 1)):
            return reply
        with self._lock:
            self.received.append(
                Received(envelope.mail_from, tuple(envelope.rcpt_tos), bytes(envelope.content), tuple(session.peer))
            )
            number = len(self.received)
        if faults.after_accept:
            faults.after_accept(number)
        return f"250 2.0.0 OK queued as {number}"


class TallyHandler:
    """Counts the copies each recipient got, and keeps nothing else (thousands of messages)."""

    def __init__(self, after_accept: Callable[[int], None] | None = None) -> None:
        self.copies: Counter[str] = Counter()
        self.after_accept = after_accept
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            self.copies.update(address.lower() for address in envelope.rcpt_tos)
            number = self.copies.total()
        if self.after_accept:
            self.after_accept(number)
        return f"250 2.0.0 OK queued as {number}"


class CountingHandler:
    """A sink for benchmarks: counts and keeps nothing."""

    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.count += 1
        return "250 2.0.0 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context


def make_certificate(folder: Path) -> Certificate:
    """A self-signed certificate (its own CA) for 127.0.0.1 and localhost."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "publisher test SMTP")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return Certificate(cert_path, key_path)


class SmtpServer:
    def __init__(
        self,
        handler: Any,
        *,
        security: str = "plain",
        certificate: Certificate | None = None,
        login: tuple[str, str] | None = None,
    ) -> None:
        self.handler = handler
        self.host = "127.0.0.1"
        self.port = free_port()
        options: dict[str, Any] = {}
        if security in ("starttls", "ssl"):
            assert certificate is not None, "TLS needs a certificate"
            context = certificate.server_context()
            options.update(ssl_context=context) if security == "ssl" else options.update(
                tls_context=context, require_starttls=True
            )
        if login is not None:
            options.update(authenticator=self._authenticator(login), auth_required=True)
            # aiosmtpd counts only STARTTLS as TLS for AUTH; with "ssl" the whole connection is TLS already.
            options.update(auth_require_tls=security == "starttls")
        self.controller = Controller(handler, hostname=self.host, port=self.port, **options)

    def _authenticator(self, login: tuple[str, str]) -> Callable[..., AuthResult]:
        def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
            ok = isinstance(data, LoginPassword) and (data.login.decode(), data.password.decode()) == login
            if ok and hasattr(self.handler, "logins"):
                self.handler.logins.append(f"{mechanism}:{data.login.decode()}")
            return AuthResult(success=ok, handled=False)

        return authenticate

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()
