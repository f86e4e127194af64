"""The subscriber store: one SQLite file holding subscribers, the suppression list and the send ledger.

An address is kept twice: `address` as email-validator normalised it (where mail goes) and `key`,
its case-folded form, which every comparison, the suppression list, the ledger and the unsubscribe
token use, so `Ann@Example.com` and `ann@example.com` are one person. Tags are kept as topic keys
(`topics.topic_key`), so `#RLHF` follows `#rlhf` and `#Contrastive_Learning` `#contrastive-learning`.

The schema is versioned with `PRAGMA user_version`; the file runs in WAL mode so that the send
ledger can be written from several threads (one connection each) while others read.
"""

from __future__ import annotations

import csv
import datetime as dt
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

from email_validator import EmailNotValidError, validate_email

from ..errors import Diagnostic, SendError, shown_path
from ..text import is_mail_address, topic_key

SCHEMA_VERSION = 3

_SCHEMA = """
CREATE TABLE IF NOT EXISTS subscribers (
    key     TEXT PRIMARY KEY,           -- the address case-folded: what comparisons use
    address TEXT NOT NULL,              -- the normalised address: where mail goes
    name    TEXT NOT NULL DEFAULT '',
    tags    TEXT NOT NULL DEFAULT '',   -- space-separated tag slugs; empty follows everything
    added   TEXT NOT NULL,
    paused  INTEGER NOT NULL DEFAULT 0  -- 1: the reader paused their mail (preferences page)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS suppressed (
    key    TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    at     TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ledger (
    issue    TEXT NOT NULL,             -- the digest date, YYYY-MM-DD
    key      TEXT NOT NULL,
    address  TEXT NOT NULL,
    state    TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
    reply    TEXT NOT NULL DEFAULT '',  -- the server's reply, or why it failed
    attempts INTEGER NOT NULL DEFAULT 0,
    created  TEXT NOT NULL,
    updated  TEXT NOT NULL,
    PRIMARY KEY (issue, key)
) WITHOUT ROWID;
"""
# The list endpoint's tables (signups.py): sign-ups waiting for confirmation are kept apart from subscribers.
_LIST_SCHEMA = """
CREATE TABLE IF NOT EXISTS pending (
    key       TEXT PRIMARY KEY,
    address   TEXT NOT NULL,
    tags      TEXT NOT NULL DEFAULT '',  -- the topics chosen on the form; empty: everything
    page      TEXT NOT NULL DEFAULT '',  -- the page the form was on
    ip_hash   TEXT NOT NULL DEFAULT '',  -- HMAC of the client IP: evidence, not the IP itself
    requested TEXT NOT NULL,
    expires   TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS consents (   -- every confirmed sign-up: when, what, from where
    id        INTEGER PRIMARY KEY,
    key       TEXT NOT NULL,
    tags      TEXT NOT NULL,
    page      TEXT NOT NULL,
    ip_hash   TEXT NOT NULL,
    requested TEXT NOT NULL,
    confirmed TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS throttle (   -- recent sign-up attempts, for the rate limits
    scope TEXT NOT NULL,                -- 'ip' or 'address'
    who   TEXT NOT NULL,                -- a hash, never the IP or address itself
    at    REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS throttle_who ON throttle (scope, who, at);
"""
# Schema 3: what `publisher bounces` decided, and which issues a send went through (`send --new`).
_BOUNCE_SCHEMA = """
CREATE TABLE IF NOT EXISTS bounces (    -- one decision per (report, subscriber), with the report it came from
    report   TEXT NOT NULL,             -- the Message-ID of the bounce or complaint
    key      TEXT NOT NULL,
    issue    TEXT NOT NULL,             -- the send it was about, YYYY-MM-DD; '' when it could not be traced
    kind     TEXT NOT NULL,             -- hard | soft | complaint | delayed
    status   TEXT NOT NULL,             -- the DSN Status (5.1.1) or the feedback type (abuse)
    detail   TEXT NOT NULL,             -- the server's diagnostic, or the reason for the decision
    decision TEXT NOT NULL,             -- suppressed | counted | ignored
    at       TEXT NOT NULL,
    PRIMARY KEY (report, key)
);
CREATE TABLE IF NOT EXISTS finished (   -- issues a send went through to the end: `send --new` leaves them
    issue TEXT PRIMARY KEY,
    at    TEXT NOT NULL
);
"""
# Upgrades in place: from schema 1 (before the list endpoint), one more column and the endpoint's tables.
_UPGRADES = {
    1: "ALTER TABLE subscribers ADD COLUMN paused INTEGER NOT NULL DEFAULT 0;" + _LIST_SCHEMA + _BOUNCE_SCHEMA,
    2: _BOUNCE_SCHEMA,
}


def now() -> str:
    """A UTC timestamp for the store's records (the store is an I/O edge: the clock is allowed here)."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def open_database(path: Path) -> sqlite3.Connection:
    """Open (creating when missing) the store; one connection per thread, autocommit + explicit BEGIN."""
    shown = shown_path(path)
    if path.is_dir():
        raise SendError(Diagnostic(shown, None, "is a folder, not a subscriber database"))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(path, timeout=60, isolation_level=None)
        connection.execute("PRAGMA journal_mode = WAL")
        # FULL: a commit is on disk before the next SMTP transaction starts, even after a power cut.
        connection.execute("PRAGMA synchronous = FULL")
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        if version == 0:
            # One script, one transaction; IF NOT EXISTS because another process may have won the race.
            script = f"{_SCHEMA} {_LIST_SCHEMA} {_BOUNCE_SCHEMA}"
            connection.executescript(f"BEGIN IMMEDIATE; {script} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;")
        elif version in _UPGRADES:
            _upgrade(connection, version)
        elif version > SCHEMA_VERSION:
            raise SendError(Diagnostic(shown, None, f"made by a newer publisher (schema {version}); upgrade publisher"))
    except sqlite3.DatabaseError as error:
        raise SendError(Diagnostic(shown, None, f"not a usable subscriber database: {error}")) from None
    return connection


def _upgrade(connection: sqlite3.Connection, version: int) -> None:
    """An older schema → this one in one transaction; another process that upgraded first is no error."""
    try:
        script = _UPGRADES[version]
        connection.executescript(f"BEGIN IMMEDIATE; {script} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;")
    except sqlite3.OperationalError:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        if connection.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
            raise


class Database:
    """One connection to the store, closed on leaving a `with` block (Store and Ledger share it)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.connection = open_database(path)

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextmanager
def transaction(connection: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE … COMMIT, or ROLLBACK on any error: all of it or none of it."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield connection
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


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


@dataclass(frozen=True)
class ImportReport:
    added: int
    updated: int
    unchanged: int
    suppressed: int  # rows for unsubscribed addresses: never re-added
    skipped: tuple[Diagnostic, ...] = field(default=())  # bad rows left out with --skip-invalid


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

    def suppressed(self) -> set[str]:
        return {key for (key,) in self.connection.execute("SELECT key FROM suppressed")}

    def is_suppressed(self, address: str) -> bool:
        query = "SELECT 1 FROM suppressed WHERE key = ?"
        return self.connection.execute(query, (address_key(address),)).fetchone() is not None

    def add(self, subscriber: Subscriber, *, resubscribe: bool = False) -> bool:
        """Add or update one subscriber; False when nothing changed. Refuses an unsubscribed address
        unless `resubscribe` (the person asked again), which lifts the suppression."""
        with transaction(self.connection):
            if self.is_suppressed(subscriber.address):
                if not resubscribe:
                    raise SendError(
                        f"{subscriber.address} unsubscribed; add it again only if they asked to: --resubscribe"
                    )
                self.connection.execute("DELETE FROM suppressed WHERE key = ?", (subscriber.key,))
            return self._upsert(subscriber) != "unchanged"

    def remove(self, address: str) -> bool:
        with transaction(self.connection):
            cursor = self.connection.execute("DELETE FROM subscribers WHERE key = ?", (address_key(address),))
        return cursor.rowcount > 0

    def unsubscribe(self, address: str, reason: str = "unsubscribe command") -> bool:
        """Put an address on the suppression list (kept when the subscriber row is re-imported);
        False when it was already there."""
        with transaction(self.connection):
            cursor = self.connection.execute(
                "INSERT OR IGNORE INTO suppressed (key, reason, at) VALUES (?, ?, ?)",
                (address_key(address), reason, now()),
            )
        return cursor.rowcount > 0

    def import_subscribers(self, rows: list[Subscriber], skipped: list[Diagnostic]) -> ImportReport:
        """Add or update every row in one transaction; suppressed addresses are left out."""
        counts = {"added": 0, "updated": 0, "unchanged": 0, "suppressed": 0}
        with transaction(self.connection):
            suppressed = self.suppressed()
            for subscriber in rows:
                if subscriber.key in suppressed:
                    counts["suppressed"] += 1
                else:
                    counts[self._upsert(subscriber)] += 1
        return ImportReport(**counts, skipped=tuple(skipped))

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

    def _upsert(self, subscriber: Subscriber) -> str:
        tags = " ".join(subscriber.tags)
        row = self.connection.execute(
            "SELECT address, name, tags FROM subscribers WHERE key = ?", (subscriber.key,)
        ).fetchone()
        if row is None:
            self.connection.execute(
                "INSERT INTO subscribers (key, address, name, tags, added) VALUES (?, ?, ?, ?, ?)",
                (subscriber.key, subscriber.address, subscriber.name, tags, now()),
            )
            return "added"
        if row == (subscriber.address, subscriber.name, tags):
            return "unchanged"
        self.connection.execute(
            "UPDATE subscribers SET address = ?, name = ?, tags = ? WHERE key = ?",
            (subscriber.address, subscriber.name, tags, subscriber.key),
        )
        return "updated"


CSV_COLUMNS = ("email", "name", "tags")


def read_csv(path: Path) -> tuple[list[Subscriber], list[Diagnostic]]:
    """Read `email,name,tags` rows (tags space-separated, empty = everything) and every problem,
    each as `file:line: reason`. Raises only when the file as a whole is unusable."""
    shown = shown_path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")  # spreadsheets like to add a BOM
    except FileNotFoundError:
        raise SendError(Diagnostic(shown, None, "file not found")) from None
    except UnicodeDecodeError:
        raise SendError(Diagnostic(shown, None, "not UTF-8 text; save the CSV as UTF-8")) from None
    except OSError as error:
        raise SendError(Diagnostic(shown, None, f"cannot read: {error.strerror}")) from None
    reader = csv.reader(text.splitlines(keepends=True))
    header = [cell.strip().lower() for cell in next(reader, [])]
    unknown = [column for column in header if column not in CSV_COLUMNS]
    if "email" not in header or unknown or len(set(header)) != len(header):
        raise SendError(
            Diagnostic(shown, 1, f"the header must name the columns email,name,tags (got {','.join(header)!r})")
        )
    rows: list[Subscriber] = []
    problems: list[Diagnostic] = []
    first_line: dict[str, int] = {}
    line = reader.line_num
    for cells in reader:
        start, line = line + 1, reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(header):
            problems.append(Diagnostic(shown, start, f"{len(cells)} fields, but the header names {len(header)}"))
            continue
        values = dict(zip(header, [*cells, *[""] * (len(header) - len(cells))], strict=True))
        try:
            subscriber = Subscriber(
                normalise_address(values["email"]), values.get("name", "").strip(), parse_tags(values.get("tags", ""))
            )
        except ValueError as error:
            problems.append(Diagnostic(shown, start, str(error)))
            continue
        if subscriber.key in first_line:
            problems.append(
                Diagnostic(shown, start, f"{subscriber.address} is already on line {first_line[subscriber.key]}")
            )
            continue
        first_line[subscriber.key] = start
        rows.append(subscriber)
    return rows, problems


def import_csv(store: Store, path: Path, *, skip_invalid: bool = False) -> ImportReport:
    """All or nothing: any bad row stops the import (nothing written) unless `skip_invalid`."""
    rows, problems = read_csv(path)
    if problems and not skip_invalid:
        raise SendError(
            [*problems, Diagnostic(shown_path(path), None, "nothing imported (--skip-invalid leaves bad rows out)")]
        )
    return store.import_subscribers(rows, problems)
