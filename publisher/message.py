"""MIME composition: headers, a plain-text part and an HTML part → one email message. Pure.

`build` uses it for the list-level `.eml` of an issue; `send` uses it again for every personal
copy. Serialisation is byte-stable: CRLF line ends (the wire format), both parts base64 (Korean
text would triple in quoted-printable, and 8bit would break on lines of 1,000+ bytes), and a
MIME boundary derived from the content instead of the standard library's random one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from dataclasses import asdict, dataclass
from email.header import Header
from email.headerregistry import HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from email.policy import EmailPolicy


class _Words:
    """A header written by `email.header.Header`: non-ASCII text as whole runs of RFC 2047 words.

    The newer folder of the standard library (3.11) drops the space between an encoded word and
    a plain one ("논문 노트 12편" reads back as "논문 노트12편"); these headers read back exactly.
    The value is kept as given: text that merely looks like an encoded word is not decoded.
    """

    max_count = 1

    @classmethod
    def parse(cls, value: str, kwds: dict) -> None:
        kwds["parse_tree"] = None  # folded below, never from a parse tree
        kwds["decoded"] = value

    def fold(self, *, policy: EmailPolicy) -> str:
        return f"{self.name}: {_encode(self.name, [(str(self), False)], policy)}{policy.linesep}"


class _NamedWords(_Words):
    """`name <address>` (From, List-Id): the name encoded or quoted, the <address> left plain."""

    def fold(self, *, policy: EmailPolicy) -> str:
        name, _, address = str(self).rpartition(" <")
        if not name:  # a bare address (To without a name)
            return f"{self.name}: {address}{policy.linesep}"
        if name.isascii() and re.search(r'[][\\()<>@,:;".]', name):
            name = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return f"{self.name}: {_encode(self.name, [(name, False), ('<' + address, True)], policy)}{policy.linesep}"


def _encode(header_name: str, runs: list[tuple[str, bool]], policy: EmailPolicy) -> str:
    header = Header(header_name=header_name, maxlinelen=78)
    for text, plain in runs:
        if text:
            # ASCII that looks like an encoded word ("=?...?=") is encoded too, so readers show it as typed.
            header.append(text, "us-ascii" if plain or (text.isascii() and "=?" not in text) else "utf-8")
    return header.encode(linesep=policy.linesep)


class _UrlList(UnstructuredHeader):
    """List-Unsubscribe (RFC 2369): `<url>` items, folded only between items, never encoded.

    The standard folder turns a URL longer than a line into RFC 2047 encoded words, which no
    mail client reads back as a URL.
    """

    def fold(self, *, policy: EmailPolicy) -> str:
        items = re.findall(r"<[^<>]*>", str(self))
        return f"{self.name}: " + ("," + policy.linesep + " ").join(items) + policy.linesep


def _registry() -> HeaderRegistry:
    registry = HeaderRegistry()  # our own: never change the standard library's shared one
    registry.map_to_type("subject", _Words)
    registry.map_to_type("from", _NamedWords)
    registry.map_to_type("to", _NamedWords)  # a subscriber's name: as exactly as From (see _Words)
    registry.map_to_type("list-id", _NamedWords)
    registry.map_to_type("list-unsubscribe", _UrlList)
    return registry


POLICY = EmailPolicy(linesep="\r\n", header_factory=_registry())


def header_text(value: str) -> str:
    """A value safe in a header: every line break or control character becomes one space.

    Titles and names can contain anything; none of it may start a new header.
    """
    cleaned = "".join(" " if unicodedata.category(char)[0] in "CZ" and char != " " else char for char in value)
    return " ".join(cleaned.split())


_ADDRESS = re.compile(r"[^@\s<>(),;:\"\\\[\]]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


def check_address(address: str) -> str:
    if not _ADDRESS.fullmatch(address):
        raise ValueError(f"not an e-mail address: {address!r}")
    return address


def message_id(left: str, domain: str) -> str:
    """`<left@domain>`: stable, because both parts come from the content (never the clock)."""
    left = re.sub(r"[^A-Za-z0-9.+_=-]", "-", left).strip(".-") or "message"
    if not re.fullmatch(r"[A-Za-z0-9.-]+", domain):
        raise ValueError(f"not a domain name: {domain!r}")
    return f"<{left}@{domain}>"


def list_id(name: str, list_address: str) -> str:
    """RFC 2919 List-Id: `name <digest.example.com>`, the label made from the list address."""
    check_address(list_address)
    return f"{header_text(name)} <{list_address.replace('@', '.')}>"


def _unsubscribe_targets(mailto: str, url: str) -> list[str]:
    targets = [target for target in (mailto, url) if target]
    for target in targets:
        if re.search(r"[\s<>,\"]", target) or not target.isascii():
            raise ValueError(f"unsubscribe target must be a plain ASCII URL: {target!r}")
    return targets


@dataclass(frozen=True)
class Envelope:
    """Every header of a message; `send` replaces the personal ones (to, message_id, URL, subject)."""

    from_name: str
    from_address: str
    to: str  # an address
    subject: str
    date: dt.datetime  # tz-aware
    message_id: str  # `<...@domain>`
    list_id: str
    unsubscribe_mailto: str = ""  # mailto: URL, or empty
    unsubscribe_url: str = ""  # https: URL (one-click, RFC 8058), or empty
    language: str = "ko"
    to_name: str = ""  # the recipient's name, for a personal copy; any text (header_text cleans it)

    def as_json(self) -> dict[str, str]:
        data = {**asdict(self), "date": self.date.isoformat()}
        if not self.to_name:
            del data["to_name"]  # list-level envelopes (the send manifests) have none
        return data

    @classmethod
    def from_json(cls, data: dict[str, str]) -> Envelope:
        return cls(**{**data, "date": dt.datetime.fromisoformat(data["date"])})


def compose(envelope: Envelope, text: str, html: str) -> EmailMessage:
    """A multipart/alternative message: the plain text first, the HTML last (the preferred part)."""
    if envelope.date.tzinfo is None:
        raise ValueError("the Date of a message must be timezone-aware")
    message = EmailMessage(policy=POLICY)
    message["From"] = f"{header_text(envelope.from_name)} <{check_address(envelope.from_address)}>"
    name = header_text(envelope.to_name)
    message["To"] = f"{name} <{check_address(envelope.to)}>" if name else check_address(envelope.to)
    message["Subject"] = header_text(envelope.subject)
    message["Date"] = envelope.date
    message["Message-ID"] = header_text(envelope.message_id)
    message["List-Id"] = header_text(envelope.list_id)
    targets = _unsubscribe_targets(envelope.unsubscribe_mailto, envelope.unsubscribe_url)
    if targets:
        message["List-Unsubscribe"] = ", ".join(f"<{target}>" for target in targets)
    if envelope.unsubscribe_url:
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["MIME-Version"] = "1.0"
    message.make_alternative()  # before any Content-* header: it would move those into a part
    message["Content-Language"] = header_text(envelope.language)
    for subtype, body in (("plain", text), ("html", html)):
        part = EmailMessage(policy=POLICY)
        part.set_content(body, subtype=subtype, charset="utf-8", cte="base64")
        del part["MIME-Version"]  # belongs to the top of the message only
        message.attach(part)
    message.set_boundary("=_publisher_" + hashlib.sha256(f"{text}\0{html}".encode()).hexdigest()[:32])
    return message


def to_bytes(message: EmailMessage) -> bytes:
    """The message as it goes on the wire (and into a .eml file): CRLF, 7-bit clean."""
    return message.as_bytes(policy=POLICY)
