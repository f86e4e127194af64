"""Signed tokens: the only proof a link or form carries that it was made for one address.

    1.<address, base64url>.<expires, Unix seconds; 0: never>.<HMAC-SHA256, base64url>

The MAC covers the version, the purpose, the case-folded address and the expiry, keyed with
PUBLISHER_SECRET. A token therefore acts for one purpose only (a preferences token never
unsubscribes, a form token never confirms), for one address only, and is compared in constant
time. The address travels inside the token so that a link needs nothing else; the version lets a
later scheme live beside this one.

Purposes and lifetimes: `confirm` expires (`list.confirm_hours`); `unsubscribe` and `preferences`
never do, because they live in emails people keep; `form` (the CSRF token of a page's form)
expires after FORM_SECONDS.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from typing import Literal

Purpose = Literal["confirm", "preferences", "unsubscribe", "form"]
VERSION = "1"
FORM_SECONDS = 2 * 3600  # a form left open this long must be reloaded
MAX_LENGTH = 600  # longer than any token we make for a valid address: refused before decoding


class BadToken(ValueError):
    """Not a token we made for this purpose (tampered, truncated, another purpose or secret)."""


class ExpiredToken(BadToken):
    """A genuine token whose time is up; `address` says for whom, to offer a new sign-up."""

    def __init__(self, address: str) -> None:
        super().__init__("expired")
        self.address = address


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, purpose: Purpose, address: str, expires: int) -> bytes:
    if not secret:
        raise ValueError("no secret: set PUBLISHER_SECRET")
    message = "\0".join((VERSION, purpose, address.casefold(), str(expires)))
    return hmac.new(secret.encode("utf-8"), message.encode("utf-8"), hashlib.sha256).digest()


def make(secret: str, purpose: Purpose, address: str, expires: int = 0) -> str:
    """A token for `address` and `purpose`; `expires` is a Unix time (0: never)."""
    mac = _mac(secret, purpose, address, expires)
    return f"{VERSION}.{_b64(address.encode('utf-8'))}.{expires}.{_b64(mac)}"


def read(secret: str, purpose: Purpose, token: str, now: float) -> str:
    """The address a genuine, unexpired token of this purpose was made for; BadToken (or
    ExpiredToken) otherwise. `now` is a Unix time, passed in so that this stays pure."""
    if not secret or not token or len(token) > MAX_LENGTH or not token.isascii():
        raise BadToken("not a token")
    parts = token.strip().split(".")
    if len(parts) != 4 or parts[0] != VERSION or not parts[2].isdigit():
        raise BadToken("not a token of this version")
    try:
        address = _unb64(parts[1]).decode("utf-8")
        given = _unb64(parts[3])
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadToken("not a token") from None
    expires = int(parts[2])
    if not hmac.compare_digest(_mac(secret, purpose, address, expires), given):
        raise BadToken("signature does not match")
    if expires and now >= expires:
        raise ExpiredToken(address)
    return address


def is_for(secret: str, purpose: Purpose, token: str, address: str, now: float) -> bool:
    """True when `token` is a genuine, unexpired token of `purpose` for `address` (case-insensitive)."""
    try:
        return read(secret, purpose, token, now).casefold() == address.casefold()
    except BadToken:
        return False
