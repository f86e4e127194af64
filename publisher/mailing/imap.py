"""The bounce mailbox over IMAP (the standard library's imaplib): read every message, move the read ones.

Messages are fetched with BODY.PEEK[] (nothing is marked seen) and moved by UID with MOVE
(RFC 6851), or COPY, flag \\Deleted and UID EXPUNGE where a server lacks it. The password lives only
in `ImapSettings.password` (hidden from repr) and the LOGIN command; no message built here holds it.
"""

from __future__ import annotations

import contextlib
import imaplib
import re
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Self

from ..errors import SendError

PASSWORD_ENV = "PUBLISHER_IMAP_PASSWORD"


@dataclass(frozen=True)
class ImapSettings:
    host: str
    port: int = 993
    security: str = "ssl"  # ssl | starttls | plain
    user: str = ""
    password: str = field(default="", repr=False)
    folder: str = "INBOX"
    processed_folder: str = "Processed"
    timeout: float = 30.0

    def describe(self) -> str:
        return f"{self.host}:{self.port} ({self.security}) as {self.user or '(no user)'}"


def _quote(folder: str) -> str:
    """A mailbox name as an IMAP quoted string (imaplib sends arguments as they are)."""
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _says(data: list[object]) -> str:
    return " ".join(item.decode("utf-8", "replace") if isinstance(item, bytes) else str(item) for item in data if item)


class Mailbox:
    """One logged-in connection with the bounce folder selected; closed on leaving a `with` block."""

    def __init__(self, settings: ImapSettings) -> None:
        self.settings = settings
        where = settings.describe()
        if not settings.host:
            raise SendError("no IMAP host: set [bounces] imap_host in the config")
        if not settings.user or not settings.password:
            raise SendError(f"reading bounces needs [bounces] imap_user and the password in {PASSWORD_ENV}")
        try:
            if settings.security == "ssl":
                self.imap = imaplib.IMAP4_SSL(
                    settings.host, settings.port, ssl_context=ssl.create_default_context(), timeout=settings.timeout
                )
            else:
                self.imap = imaplib.IMAP4(settings.host, settings.port, timeout=settings.timeout)
                if settings.security == "starttls":
                    self.imap.starttls(ssl.create_default_context())
        except (OSError, imaplib.IMAP4.error) as error:
            raise SendError(
                f"cannot connect to IMAP server {where}: {getattr(error, 'strerror', None) or error}"
            ) from None
        try:
            self.imap.login(settings.user, settings.password)
        except imaplib.IMAP4.error as error:
            self.imap.shutdown()
            raise SendError(f"IMAP server {where} refused the login: {error}") from None
        status, data = self.imap.capability()  # the greeting's list may change once logged in
        self.capabilities = set(data[0].decode().upper().split()) if status == "OK" and data[0] else set()
        self._select(settings.folder)

    def _select(self, folder: str) -> None:
        status, data = self.imap.select(_quote(folder))
        if status != "OK":
            self.close()
            raise SendError(f"IMAP folder {folder!r} cannot be opened on {self.settings.host}: {_says(data)}")

    def messages(self) -> Iterator[tuple[bytes, bytes]]:
        """(uid, the message's bytes) for every message in the folder, oldest first."""
        status, data = self.imap.uid("SEARCH", None, "ALL")
        if status != "OK":
            raise SendError(f"IMAP search failed: {_says(data)}")
        for uid in data[0].split() if data and data[0] else ():
            status, parts = self.imap.uid("FETCH", uid, "(BODY.PEEK[])")
            body = next((part[1] for part in parts if isinstance(part, tuple)), None)
            if status != "OK" or body is None:
                raise SendError(f"IMAP fetch of message {uid.decode()} failed: {_says(parts)}")
            yield uid, body

    def move(self, uid: bytes) -> None:
        """Move one message to the processed folder (made when missing)."""
        target = self.settings.processed_folder
        if not hasattr(self, "_made"):
            status, data = self.imap.create(_quote(target))
            if status != "OK" and not re.search(rb"ALREADYEXISTS|already exists", b" ".join(d or b"" for d in data)):
                raise SendError(f"IMAP folder {target!r} cannot be made: {_says(data)}")
            self._made = True
        if "MOVE" in self.capabilities:
            status, data = self.imap.uid("MOVE", uid, _quote(target))
        else:
            status, data = self.imap.uid("COPY", uid, _quote(target))
            if status == "OK":
                self.imap.uid("STORE", uid, "+FLAGS.SILENT", r"(\Deleted)")
                status, data = self.imap.uid("EXPUNGE", uid)
        if status != "OK":
            raise SendError(f"IMAP could not move message {uid.decode()} to {target!r}: {_says(data)}")

    def close(self) -> None:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            self.imap.logout()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
