"""The subscriber store: subscribers, the suppression list and the send ledger, on either engine.

An address is kept twice: `address` as email-validator normalised it (where mail goes) and `key`,
its case-folded form, which every comparison, the suppression list, the ledger and the unsubscribe
token use, so `Ann@Example.com` and `ann@example.com` are one person. Tags are kept as topic keys
(`topics.topic_key`), so `#RLHF` follows `#rlhf` and `#Contrastive_Learning` `#contrastive-learning`.

The store is a SQLite file or a PostgreSQL database (database.py), with one schema (schema.py),
made or upgraded in place when a store is opened. A person who asked to be forgotten leaves only
`sha256:` of their key on the suppression list, so no later import can mail them again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Self

from email_validator import EmailNotValidError, validate_email

from ..errors import Diagnostic, SendError
from ..text import is_mail_address, topic_key
from .database import Connection, Target, connect, database_errors, shown
from .schema import SCHEMA_VERSION, NewerSchema, upgrade

__all__ = ["SCHEMA_VERSION", "Database", "Store", "Subscriber", "transaction"]


def now() -> str:
    """A UTC timestamp for the store's records (the store is an I/O edge: the clock is allowed here)."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def open_database(target: Target) -> Connection:
    """Open the store (a SQLite file is made when missing) and bring its schema up to date."""
    connection = connect(target)
    try:
        upgrade(connection)
    except NewerSchema as newer:
        connection.close()
        raise SendError(Diagnostic(shown(target), None, str(newer))) from None
    except database_errors(connection) as problem:
        connection.close()
        raise connection.error(problem) from None
    return connection


class Database:
    """One connection to the store, closed on leaving a `with` block (Store and Ledger share it)."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.connection = open_database(target)

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextmanager
def transaction(connection: Connection, *, exclusive: bool = True) -> Iterator[Connection]:
    """All of it or none of it; exclusive: no other writer in between (see database.py)."""
    with connection.transaction(exclusive=exclusive):
        yield connection


def normalise_address(text: str) -> str:
    """The address as email-validator normalises it (syntax only, no DNS); ValueError says why not."""
    try:
        # ASCII only (an internationalised domain in its xn-- form): the messages are 7-bit.
        address = validate_email(text.strip(), check_deliverability=False, allow_smtputf8=False).ascii_email
    except EmailNotValidError as error:
        raise ValueError(f"not a valid e-mail address {text.strip()!r}: {error}") from None
    if not address or not is_mail_address(address):
        raise ValueError(f"not an e-mail address publisher can mail: {text.strip()!r}")
    return address


def address_key(address: str) -> str:
    """The identity of a normalised address: compared case-insensitively, as people expect."""
    return address.casefold()


def parse_tags(text: str) -> tuple[str, ...]:
    """`#RLHF math_x` → ('math-x', 'rlhf'): topic keys (topics.topic_key), sorted, without repeats."""
    slugs = set()
    for word in text.split():
        name = word.removeprefix("#")
        if not name or name.startswith("#"):
            raise ValueError(f"not a tag: {word!r}")
        slugs.add(topic_key(name))
    return tuple(sorted(slugs))


@dataclass(frozen=True)
class Subscriber:
    address: str  # normalised
    name: str = ""
    tags: tuple[str, ...] = ()  # slugs; empty: every entry
    paused: bool = False  # the reader paused their mail: send skips them

    @property
    def key(self) -> str:
        return address_key(self.address)


FORGOTTEN = "forgotten: erasure request"  # the reason kept with a forgotten person's hashed key
# Tables that hold a person's data by key: `forget` erases their rows in each.
PERSONAL_TABLES = ("subscribers", "pending", "consents", "ledger", "bounces")


def hashed_key(key: str) -> str:
    """What stays of a forgotten address: enough to recognise it on a later import, nothing to mail."""
    return "sha256:" + hashlib.sha256(key.encode("utf-8")).hexdigest()


class Suppressions(frozenset[str]):
    """The suppression list's keys: `key in suppressions` is true for an address listed plainly or forgotten."""

    def __contains__(self, key: object) -> bool:
        return super().__contains__(key) or (isinstance(key, str) and super().__contains__(hashed_key(key)))


@dataclass(frozen=True)
class Suppression:
    reason: str
    at: str


@dataclass(frozen=True)
class ConsentRecord:
    """The evidence of a confirmed sign-up (signups.py): what, on which page, from which hashed IP, when."""

    tags: str
    page: str
    ip_hash: str
    requested: str
    confirmed: str


@dataclass(frozen=True)
class Entry:
    """One person as an export holds them: a subscriber, a suppression, or both, and their consent."""

    key: str  # the case-folded address, or sha256:… of a forgotten one
    subscriber: Subscriber | None
    added: str = ""  # when they became a subscriber ("": now, on import)
    suppression: Suppression | None = None
    consent: ConsentRecord | None = None
    keeps_pause: bool = False  # the file says whether they paused (else an import leaves it alone)


@dataclass(frozen=True)
class ImportReport:
    added: int
    updated: int
    unchanged: int
    suppressed: int  # rows for unsubscribed addresses: never re-added
    skipped: tuple[Diagnostic, ...] = field(default=())  # bad rows left out with --skip-invalid
    suppressions: int = 0  # suppression entries the file added (an export moved between stores)


@dataclass(frozen=True)
class BounceRecord:
    """What `publisher bounces` decided about one subscriber from one report."""

    report: str  # the Message-ID of the bounce or complaint it came from
    key: str  # the subscriber's case-folded address
    issue: str  # the send it was about (YYYY-MM-DD); '' when it could not be traced
    kind: str  # hard | soft | complaint | delayed
    status: str  # the DSN Status (5.1.1), or the feedback type (abuse)
    detail: str  # the server's diagnostic, or why
    decision: str  # suppressed | counted | ignored


class Store(Database):
    """Subscribers and the suppression list, over one connection."""

    def subscribers(self) -> list[Subscriber]:
        rows = self.connection.execute("SELECT address, name, tags, paused FROM subscribers ORDER BY key")
        return [Subscriber(address, name, tuple(tags.split()), bool(paused)) for address, name, tags, paused in rows]

    def suppressed(self) -> Suppressions:
        return Suppressions(key for (key,) in self.connection.execute("SELECT key FROM suppressed"))

    def is_suppressed(self, address: str) -> bool:
        key = address_key(address)
        query = "SELECT 1 FROM suppressed WHERE key IN (?, ?)"
        return self.connection.execute(query, (key, hashed_key(key))).fetchone() is not None

    def add(self, subscriber: Subscriber, *, resubscribe: bool = False) -> bool:
        """Add or update one subscriber; False when nothing changed. Refuses an unsubscribed address
        unless `resubscribe` (the person asked again), which lifts the suppression."""
        with transaction(self.connection):
            if self.is_suppressed(subscriber.address):
                if not resubscribe:
                    raise SendError(
                        f"{subscriber.address} unsubscribed; add it again only if they asked to: --resubscribe"
                    )
                self.connection.execute(
                    "DELETE FROM suppressed WHERE key IN (?, ?)", (subscriber.key, hashed_key(subscriber.key))
                )
            return self._upsert(subscriber) != "unchanged"

    def remove(self, address: str) -> bool:
        with transaction(self.connection):
            cursor = self.connection.execute("DELETE FROM subscribers WHERE key = ?", (address_key(address),))
        return cursor.rowcount > 0

    def unsubscribe(self, address: str, reason: str = "unsubscribe command") -> bool:
        """Put an address on the suppression list (kept when the subscriber row is re-imported);
        False when it was already there."""
        with transaction(self.connection):
            if self.is_suppressed(address):
                return False
            self.connection.execute(
                "INSERT INTO suppressed (key, reason, at) VALUES (?, ?, ?)", (address_key(address), reason, now())
            )
        return True

    def forget(self, address: str) -> dict[str, int]:
        """Erase a person (a GDPR erasure request): every row of theirs, in one transaction. Only
        `sha256:` of their key stays, on the suppression list. Rows erased, by table."""
        key = address_key(address)
        with transaction(self.connection):
            erased = {
                table: self.connection.execute(f"DELETE FROM {table} WHERE key = ?", (key,)).rowcount
                for table in (*PERSONAL_TABLES, "suppressed")
            }
            self.connection.execute(
                "INSERT INTO suppressed (key, reason, at) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING",
                (hashed_key(key), FORGOTTEN, now()),
            )
        return erased

    def entries(self) -> list[Entry]:
        """Everyone the store knows, for an export: subscribers with their latest consent, and every
        suppression (with the subscriber it belongs to, if any), in key order."""
        suppressions = {
            key: Suppression(reason, at)
            for key, reason, at in self.connection.execute("SELECT key, reason, at FROM suppressed")
        }
        consents: dict[str, ConsentRecord] = {}
        rows = self.connection.execute(
            "SELECT key, tags, page, ip_hash, requested, confirmed FROM consents ORDER BY confirmed, id"
        )
        for key, *evidence in rows:
            consents[key] = ConsentRecord(*evidence)  # the latest wins
        entries = {}
        rows = self.connection.execute("SELECT key, address, name, tags, paused, added FROM subscribers")
        for key, address, name, tags, paused, added in rows:
            subscriber = Subscriber(address, name, tuple(tags.split()), bool(paused))
            entries[key] = Entry(key, subscriber, added, suppressions.pop(key, None), consents.get(key), True)
        for key, suppression in suppressions.items():
            entries[key] = Entry(key, None, suppression=suppression)
        return [entries[key] for key in sorted(entries)]

    def import_subscribers(self, rows: list[Subscriber] | list[Entry], skipped: list[Diagnostic]) -> ImportReport:
        """Add or update every row in one transaction; addresses suppressed here are left out. Rows
        of an export bring their suppression, pause, date added and consent evidence with them."""
        counts = {"added": 0, "updated": 0, "unchanged": 0, "suppressed": 0, "suppressions": 0}
        with transaction(self.connection):
            suppressed = self.suppressed()
            for row in rows:
                entry = row if isinstance(row, Entry) else Entry(row.key, row)
                if entry.suppression is not None and entry.key not in suppressed:
                    self.connection.execute(
                        "INSERT INTO suppressed (key, reason, at) VALUES (?, ?, ?)",
                        (entry.key, entry.suppression.reason, entry.suppression.at),
                    )
                    counts["suppressions"] += 1
                if entry.subscriber is None:
                    continue
                if entry.key in suppressed or entry.suppression is not None:
                    counts["suppressed"] += 1
                    if entry.suppression is None:
                        continue  # unsubscribed here: never re-added
                    self._upsert(entry.subscriber, entry.added, entry.keeps_pause)  # moved as it was
                else:
                    counts[self._upsert(entry.subscriber, entry.added, entry.keeps_pause)] += 1
                if entry.consent is not None:
                    self._keep_consent(entry.key, entry.consent)
        return ImportReport(**counts, skipped=tuple(skipped))

    def _keep_consent(self, key: str, consent: ConsentRecord) -> None:
        known = self.connection.execute(
            "SELECT 1 FROM consents WHERE key = ? AND confirmed = ?", (key, consent.confirmed)
        ).fetchone()
        if known is None:
            self.connection.execute(
                "INSERT INTO consents (key, tags, page, ip_hash, requested, confirmed) VALUES (?, ?, ?, ?, ?, ?)",
                (key, consent.tags, consent.page, consent.ip_hash, consent.requested, consent.confirmed),
            )

    def record_bounce(self, bounce: BounceRecord) -> bool:
        """Record one decision of `publisher bounces` (and suppress the address when it says so), in one
        transaction; False when this report was already recorded for this subscriber (nothing changes)."""
        with transaction(self.connection):
            cursor = self.connection.execute(
                "INSERT INTO bounces (report, key, issue, kind, status, detail, decision, at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (report, key) DO NOTHING",
                (
                    bounce.report,
                    bounce.key,
                    bounce.issue,
                    bounce.kind,
                    bounce.status,
                    bounce.detail,
                    bounce.decision,
                    now(),
                ),
            )
            if cursor.rowcount and bounce.decision == "suppressed":
                reason = f"{bounce.kind} {bounce.status} (report {bounce.report})"
                self.connection.execute(
                    "INSERT INTO suppressed (key, reason, at) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING",
                    (bounce.key, reason, now()),
                )
        return cursor.rowcount > 0

    def soft_bounces(self, key: str, window: int, issue: str) -> int:
        """Of the last `window` issues sent to `key`, how many soft-bounced, counting `issue` as one."""
        query = (
            "SELECT COUNT(*) FROM (SELECT issue FROM ledger WHERE key = ? AND state = 'sent'"
            " ORDER BY issue DESC LIMIT ?) AS recent"
            " WHERE recent.issue = ? OR recent.issue IN (SELECT issue FROM bounces WHERE key = ? AND kind = 'soft')"
        )
        return self.connection.execute(query, (key, window, issue, key)).fetchone()[0]

    def bounces(self) -> list[BounceRecord]:
        """Every decision recorded, oldest first."""
        rows = self.connection.execute(
            "SELECT report, key, issue, kind, status, detail, decision FROM bounces ORDER BY at, report, key"
        )
        return [BounceRecord(*row) for row in rows]

    def _upsert(self, subscriber: Subscriber, added: str = "", keeps_pause: bool = False) -> str:
        tags = " ".join(subscriber.tags)
        row = self.connection.execute(
            "SELECT address, name, tags, paused FROM subscribers WHERE key = ?", (subscriber.key,)
        ).fetchone()
        paused = int(subscriber.paused)
        if row is None:
            self.connection.execute(
                "INSERT INTO subscribers (key, address, name, tags, added, paused) VALUES (?, ?, ?, ?, ?, ?)",
                (subscriber.key, subscriber.address, subscriber.name, tags, added or now(), paused),
            )
            return "added"
        if not keeps_pause:
            paused = row[3]
        if tuple(row) == (subscriber.address, subscriber.name, tags, paused):
            return "unchanged"
        self.connection.execute(
            "UPDATE subscribers SET address = ?, name = ?, tags = ?, paused = ? WHERE key = ?",
            (subscriber.address, subscriber.name, tags, paused, subscriber.key),
        )
        return "updated"
