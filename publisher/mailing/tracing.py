"""Which (issue, subscriber) a bounce or complaint is about: VERP return paths and Message-IDs. Pure.

Every copy leaves with its own envelope sender (VERP) when `bounces.return_path` is set:

    bounces@example.org  ─►  bounces+20240725-<tag>@example.org

`tag` is an HMAC of (issue, subscriber) keyed with PUBLISHER_SECRET, cut to 20 hex digits (80 bits,
lower case because some servers fold local parts): a bounce to that address names its send, and
nobody without the secret can make one that names someone else's. Bounces go to the envelope
sender, so the report's `Delivered-To`, `X-Original-To` or `To` carries the tag back.

Complaints (ARF) go to the address registered with the mailbox provider instead, without the tag;
they quote the original message, whose `Message-ID` (`<issue-2024-07-25.<who>@domain>`, made by
`send.personal_message_id`) names the issue and a hash of the subscriber. Either way the hash is
matched against the send ledger's rows for that issue, so only a real send can be named.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Iterable

TAG_LENGTH = 20
_VERP_TAIL = re.compile(r"\+(?P<day>\d{8})-(?P<tag>[0-9a-f]{20})$")
_MESSAGE_ID = re.compile(r"<issue-(?P<issue>\d{4}-\d{2}-\d{2})\.(?P<who>[0-9a-f]{20})@[A-Za-z0-9.-]+>")


def message_tag(key: str) -> str:
    """The subscriber's part of a copy's Message-ID (a hash of the case-folded address)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:TAG_LENGTH]


def verp_tag(secret: str, issue: str, key: str) -> str:
    mac = hmac.new(secret.encode("utf-8"), f"bounce\0{issue}\0{key}".encode(), hashlib.sha256)
    return mac.hexdigest()[:TAG_LENGTH]


def return_path(base: str, secret: str, issue: str, key: str) -> str:
    """The envelope sender of one copy: `local+YYYYMMDD-tag@domain` (at most 64 characters before the @)."""
    local, _, domain = base.rpartition("@")
    return f"{local}+{issue.replace('-', '')}-{verp_tag(secret, issue, key)}@{domain}"


def read_return_path(base: str, address: str) -> tuple[str, str] | None:
    """(issue, tag) from an address `return_path` made from `base`; None for any other address."""
    local, _, domain = base.rpartition("@")
    got_local, _, got_domain = address.strip().strip("<>").rpartition("@")
    if got_domain.casefold() != domain.casefold() or not got_local.casefold().startswith(local.casefold() + "+"):
        return None
    found = _VERP_TAIL.search(got_local.casefold())
    if not found or len(got_local) != len(local) + 1 + 8 + 1 + TAG_LENGTH:
        return None
    day = found["day"]
    return f"{day[:4]}-{day[4:6]}-{day[6:]}", found["tag"]


def read_message_ids(text: str) -> list[tuple[str, str]]:
    """Every (issue, who) of a copy's Message-ID quoted anywhere in `text`, in order, without repeats."""
    return list(dict.fromkeys((m["issue"], m["who"]) for m in _MESSAGE_ID.finditer(text)))


class Tracer:
    """Finds the subscriber a tag names among the keys the ledger holds for that issue."""

    def __init__(self, secret: str, keys_of: Callable[[str], Iterable[str]]) -> None:
        self.secret = secret
        self.keys_of = keys_of  # issue → the subscriber keys sent that issue
        self._verp: dict[str, dict[str, str]] = {}
        self._ids: dict[str, dict[str, str]] = {}

    def by_return_path(self, issue: str, tag: str) -> str | None:
        if not self.secret:
            return None
        if issue not in self._verp:
            self._verp[issue] = {verp_tag(self.secret, issue, key): key for key in self.keys_of(issue)}
        return self._verp[issue].get(tag)

    def by_message_id(self, issue: str, who: str) -> str | None:
        if issue not in self._ids:
            self._ids[issue] = {message_tag(key): key for key in self.keys_of(issue)}
        return self._ids[issue].get(who)
