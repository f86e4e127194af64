"""SMTP behind a small interface: `send(data, sender, recipient) -> reply` and `close()`.

`SmtpTransport` keeps one connection open and reuses it for every message (smtplib, the standard
library's client), reconnecting when the server drops it. It turns every outcome into one of:

    a reply string          the server accepted the message (250 …)
    TemporaryFailure        4xx, a dropped or reset connection, a timeout: worth trying again
     └── Unreachable        no new connection could be made (the server went away mid-run)
    PermanentFailure        5xx for this message or recipient: recorded, the run goes on
    SetupFailure            the server cannot be used at all (refused, TLS, authentication):
                            reported before any message is taken from the ledger

The password lives only in `SmtpSettings.password` (hidden from repr) and the AUTH command; no
message, exception or log line built here contains it.

`FolderTransport` is the `--dry-run` stand-in: it writes each message as an .eml file.
"""

from __future__ import annotations

import hashlib
import re
import smtplib
import ssl
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

SECURITIES = ("starttls", "ssl", "plain")


class TemporaryFailure(Exception):
    """The message was not accepted this time; trying again later may work."""


class Unreachable(TemporaryFailure):
    """No connection could be made (it had worked at start-up): the server went away."""


class PermanentFailure(Exception):
    """The server refused this message for good (5xx)."""


class SetupFailure(PermanentFailure):
    """The server cannot be used with these settings: wrong host or port, TLS or authentication."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str = "starttls"  # starttls | ssl | plain
    username: str = ""
    password: str = field(default="", repr=False)
    timeout: float = 30.0

    def describe(self) -> str:
        """The settings for messages: never the password."""
        user = f" as {self.username}" if self.username else ""
        return f"{self.host}:{self.port} ({self.security}){user}"


class Transport(Protocol):
    def send(self, data: bytes, sender: str, recipient: str) -> str: ...

    def close(self) -> None: ...


def _reply_text(code: int, reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return f"{code} {' '.join(text.split())}".strip()


def _failure(code: int, reply: bytes | str, stage: str) -> Exception:
    text = f"{stage}: {_reply_text(code, reply)}"
    return PermanentFailure(text) if 500 <= code < 600 else TemporaryFailure(text)


class SmtpTransport:
    """One reused SMTP connection. Not thread-safe: each sending thread has its own."""

    def __init__(self, settings: SmtpSettings) -> None:
        if settings.security not in SECURITIES:
            raise SetupFailure(f"unknown SMTP security {settings.security!r}: use starttls, ssl or plain")
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def connect(self) -> None:
        """Open, secure and authenticate a connection (when none is open); SetupFailure says why not."""
        if self._smtp is not None:
            return
        s = self.settings
        where = s.describe()
        if not s.host:
            raise SetupFailure("no SMTP host: set [smtp] host in the config or pass --smtp-host")
        smtp: smtplib.SMTP | None = None
        try:
            if s.security == "ssl":
                smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=ssl.create_default_context())
            else:
                smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
            smtp.ehlo()
            if s.security == "starttls":
                if not smtp.has_extn("starttls"):
                    raise SetupFailure(f"{where}: the server does not offer STARTTLS; use --smtp-security ssl or plain")
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if s.username:
                smtp.login(s.username, s.password)
        except SetupFailure:
            _quietly_close(smtp)
            raise
        except smtplib.SMTPAuthenticationError as error:
            _quietly_close(smtp)
            raise SetupFailure(
                f"{where}: authentication failed ({_reply_text(error.smtp_code, error.smtp_error)}); "
                "check --smtp-user and the PUBLISHER_SMTP_PASSWORD environment variable"
            ) from None
        except smtplib.SMTPNotSupportedError:
            _quietly_close(smtp)
            raise SetupFailure(f"{where}: the server offers no AUTH; unset the SMTP username or use TLS") from None
        except ssl.SSLError as error:
            _quietly_close(smtp)
            raise SetupFailure(f"{where}: TLS failed: {error.reason or error}") from None
        except smtplib.SMTPResponseException as error:
            _quietly_close(smtp)
            if 400 <= error.smtp_code < 500:
                raise TemporaryFailure(f"{where}: {_reply_text(error.smtp_code, error.smtp_error)}") from None
            raise SetupFailure(f"{where}: {_reply_text(error.smtp_code, error.smtp_error)}") from None
        except (smtplib.SMTPException, OSError) as error:
            _quietly_close(smtp)
            reason = getattr(error, "strerror", None) or str(error) or type(error).__name__
            raise SetupFailure(f"cannot connect to SMTP server {where}: {reason}") from None
        self._smtp = smtp

    def send(self, data: bytes, sender: str, recipient: str) -> str:
        """Send one message (bytes with CRLF line ends) to one recipient over the open connection;
        returns the server's reply."""
        try:
            self.connect()
        except SetupFailure as error:
            raise Unreachable(str(error)) from None  # it worked at start-up: maybe a passing hiccup
        smtp = self._smtp
        assert smtp is not None
        try:  # messages and addresses are 7-bit (message.compose, subscribers.normalise_address)
            code, reply = smtp.mail(sender)
            if code != 250:
                self._abandon(code)
                raise _failure(code, reply, "MAIL FROM")
            code, reply = smtp.rcpt(recipient)
            if code not in (250, 251):
                self._abandon(code)
                raise _failure(code, reply, "RCPT TO")
            code, reply = smtp.data(data)
            if code != 250:
                self._abandon(code, transaction_open=False)
                raise _failure(code, reply, "DATA")
            return _reply_text(code, reply)
        except smtplib.SMTPDataError as error:  # DATA itself refused (no 354)
            self._abandon(error.smtp_code)
            raise _failure(error.smtp_code, error.smtp_error, "DATA") from None
        except (smtplib.SMTPServerDisconnected, OSError) as error:
            self._drop()
            raise TemporaryFailure(f"connection lost: {error or type(error).__name__}") from None

    def _abandon(self, code: int, *, transaction_open: bool = True) -> None:
        """After a refusal: reset the transaction, or drop the connection when the server is closing it."""
        if code == 421:  # the server is closing the connection
            self._drop()
            return
        if transaction_open:
            try:
                self._smtp.rset()  # type: ignore[union-attr]
            except (smtplib.SMTPException, OSError):
                self._drop()

    def _drop(self) -> None:
        _quietly_close(self._smtp, polite=False)
        self._smtp = None

    def close(self) -> None:
        _quietly_close(self._smtp)
        self._smtp = None


def _quietly_close(smtp: smtplib.SMTP | None, *, polite: bool = True) -> None:
    if smtp is None:
        return
    try:
        if polite:
            smtp.quit()
    except (smtplib.SMTPException, OSError):
        pass
    finally:
        smtp.close()


def check_server(settings: SmtpSettings) -> None:
    """Connect, secure, authenticate and leave: the run's settings work, or SetupFailure says why."""
    transport = SmtpTransport(settings)
    try:
        transport.connect()
    except TemporaryFailure as error:
        raise SetupFailure(str(error)) from None
    finally:
        transport.close()


_UNSAFE = re.compile(r"[^A-Za-z0-9@._+-]+")


class FolderTransport:
    """`--dry-run`: each message becomes `<folder>/<address>.eml`; nothing is sent."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def path_for(self, recipient: str) -> Path:
        # Addresses may hold '/' or other characters a file name must not: keep the safe part, add a hash.
        safe = _UNSAFE.sub("_", recipient)[:80]
        digest = hashlib.sha256(recipient.encode()).hexdigest()[:8]
        return self.folder / f"{safe}.{digest}.eml"

    def send(self, data: bytes, sender: str, recipient: str) -> str:
        path = self.path_for(recipient)
        path.write_bytes(data)
        return f"written to {path}"

    def close(self) -> None:
        pass


class RateLimiter:
    """Spaces events at least 1/rate seconds apart, across threads; rate 0 means no limit."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self._next = time.monotonic()
        self._lock = threading.Lock()

    def wait(self, stop: threading.Event) -> None:
        if not self.interval:
            return
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next)
            self._next = slot + self.interval
        if slot > now:
            stop.wait(slot - now)
