"""What readers do to the list through the endpoint: sign up, confirm, choose topics, pause, leave.

Each function is one transaction on the store (subscribers.py), so two requests for one address
never interleave. A sign-up waits in `pending` (with its consent evidence) until the reader
confirms it; only then does the address become a subscriber, and the evidence moves to
`consents`. A suppressed address is never made a subscriber here: only the writer lifts a
suppression (`publisher subscribers add --resubscribe`), except a reader's own unsubscribe,
which the same reader may undo with the token that made it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from .subscribers import Store, address_key, now, transaction

READER_REASON = "reader: unsubscribe link"  # a suppression the reader made, and may undo
ONE_CLICK_REASON = "reader: one-click unsubscribe"
UNDOABLE = (READER_REASON, ONE_CLICK_REASON)

State = Literal["new", "pending", "subscribed", "suppressed"]


@dataclass(frozen=True)
class Consent:
    """The evidence kept with a sign-up: what was chosen, on which page, from which (hashed) IP."""

    tags: tuple[str, ...]  # topic slugs; empty: everything
    page: str
    ip_hash: str


@dataclass(frozen=True)
class Preferences:
    address: str
    tags: tuple[str, ...]
    paused: bool


def state(store: Store, address: str) -> State:
    key = address_key(address)
    if store.is_suppressed(address):
        return "suppressed"
    if store.connection.execute("SELECT 1 FROM subscribers WHERE key = ?", (key,)).fetchone():
        return "subscribed"
    if store.connection.execute("SELECT 1 FROM pending WHERE key = ?", (key,)).fetchone():
        return "pending"
    return "new"


def request(store: Store, address: str, consent: Consent, expires: dt.datetime) -> State:
    """Record a sign-up waiting for confirmation (replacing an earlier one for the address) and say
    what the address was before. A suppressed address is left alone: nothing is stored."""
    with transaction(store.connection):
        before = state(store, address)
        if before != "suppressed":
            store.connection.execute(
                "INSERT OR REPLACE INTO pending (key, address, tags, page, ip_hash, requested, expires)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    address_key(address),
                    address,
                    " ".join(consent.tags),
                    consent.page,
                    consent.ip_hash,
                    now(),
                    expires.isoformat(timespec="seconds"),
                ),
            )
    return before


Confirmed = Literal["confirmed", "already", "suppressed", "missing"]


def confirm(store: Store, address: str) -> tuple[Confirmed, tuple[str, ...]]:
    """Make a pending sign-up a subscriber with the topics it chose; what happened, and the topics."""
    key = address_key(address)
    with transaction(store.connection):
        row = store.connection.execute(
            "SELECT address, tags, page, ip_hash, requested FROM pending WHERE key = ?", (key,)
        ).fetchone()
        if store.is_suppressed(address):
            store.connection.execute("DELETE FROM pending WHERE key = ?", (key,))
            return "suppressed", ()
        if row is None:
            current = store.connection.execute("SELECT tags FROM subscribers WHERE key = ?", (key,)).fetchone()
            return ("already", tuple(current[0].split())) if current else ("missing", ())
        mail_to, tags, page, ip_hash, requested = row
        store.connection.execute(
            "INSERT INTO subscribers (key, address, name, tags, added, paused) VALUES (?, ?, '', ?, ?, 0)"
            " ON CONFLICT (key) DO UPDATE SET address = excluded.address, tags = excluded.tags, paused = 0",
            (key, mail_to, tags, now()),
        )
        store.connection.execute(
            "INSERT INTO consents (key, tags, page, ip_hash, requested, confirmed) VALUES (?, ?, ?, ?, ?, ?)",
            (key, tags, page, ip_hash, requested, now()),
        )
        store.connection.execute("DELETE FROM pending WHERE key = ?", (key,))
    return "confirmed", tuple(tags.split())


def preferences(store: Store, address: str) -> Preferences | None:
    """A subscriber's topics and pause; None when the address is not an active subscriber."""
    if store.is_suppressed(address):
        return None
    row = store.connection.execute(
        "SELECT address, tags, paused FROM subscribers WHERE key = ?", (address_key(address),)
    ).fetchone()
    return None if row is None else Preferences(row[0], tuple(row[1].split()), bool(row[2]))


def save_preferences(store: Store, address: str, tags: tuple[str, ...], paused: bool) -> bool:
    """Change an active subscriber's topics and pause; False when they are not one (any more)."""
    with transaction(store.connection):
        if store.is_suppressed(address):
            return False
        cursor = store.connection.execute(
            "UPDATE subscribers SET tags = ?, paused = ? WHERE key = ?",
            (" ".join(sorted(set(tags))), int(paused), address_key(address)),
        )
    return cursor.rowcount > 0


def leave(store: Store, address: str, reason: str = READER_REASON) -> bool:
    """The reader unsubscribes: the address goes on the suppression list (False: it already was).
    A pending sign-up of theirs goes too."""
    added = store.unsubscribe(address, reason)
    with transaction(store.connection):
        store.connection.execute("DELETE FROM pending WHERE key = ?", (address_key(address),))
    return added


def undo_leave(store: Store, address: str) -> bool:
    """Lift a suppression the reader made themselves; never one the writer (or a bounce) made."""
    with transaction(store.connection):
        cursor = store.connection.execute(
            f"DELETE FROM suppressed WHERE key = ? AND reason IN ({', '.join('?' for _ in UNDOABLE)})",
            (address_key(address), *UNDOABLE),
        )
    return cursor.rowcount > 0


def allow(store: Store, scope: str, who: str, limit: int, window: float, at: float) -> bool:
    """Count one attempt of `who` (a hash) in `scope`; False when it passes `limit` within `window`
    seconds. Refused attempts count too, so hammering does not open the gate sooner."""
    with transaction(store.connection):
        store.connection.execute("DELETE FROM throttle WHERE at < ?", (at - window,))
        (count,) = store.connection.execute(
            "SELECT count(*) FROM throttle WHERE scope = ? AND who = ?", (scope, who)
        ).fetchone()
        store.connection.execute("INSERT INTO throttle (scope, who, at) VALUES (?, ?, ?)", (scope, who, at))
    return count < limit
