"""The send ledger: for every (issue, subscriber), which run claimed it and how far it got.

A message is sent only by the run that claimed it. A claim moves a row from nothing, `failed`, or
(with `--retry-pending`) an abandoned `sending`, to `sending`, in one IMMEDIATE transaction that
reads the row and writes it: two runs, or two threads, can never both claim one row. The claim
is committed before the first SMTP command; `sent` (with the server's reply) or `failed` (with
the reason) is committed right after the transaction. So a crash at any moment leaves a row that
says how far that message got:

    no row   never attempted: send it
    sending  claimed by a run that is still alive: that run is sending it; leave it alone
    sending  claimed by a run that is gone (killed during the SMTP transaction): `pending`. The
             server may or may not have accepted it. Not resent by default (a person checks the
             server's log first); `send --retry-pending` claims those too.
    sent     the server accepted it: never send it again
    failed   the server refused it (or we gave up): any run may claim it again

On PostgreSQL, where senders on several machines share the ledger, a claim locks only its rows
(`INSERT … ON CONFLICT DO NOTHING`, else `SELECT … FOR UPDATE SKIP LOCKED`): senders never wait
for each other, and a row another sender holds is skipped, not taken.

A run is one `publisher send` process, registered in `runs` with its host, pid, start time and a
heartbeat it renews every few seconds. It is alive while its heartbeat is fresh and, on this host,
its process exists; a killed run is seen as gone at once. The calls (`claim`, `mark_sent`,
`mark_failed`, `release`) are the interface a second engine implements with its own locking.

Each thread opens its own `Ledger` (connections are not shared between threads). On SQLite, WAL
mode, a busy timeout and IMMEDIATE transactions serialise the writers, in one process or several.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import socket
import threading
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .database import Target, database_errors
from .subscribers import Database, now, transaction

State = Literal["sending", "sent", "failed"]
LEASE = 30.0  # seconds: a run whose heartbeat is older is gone
RENEW = 5.0  # seconds between heartbeats


@dataclass(frozen=True)
class Record:
    key: str  # the subscriber's case-folded address
    address: str
    state: State
    reply: str  # the server's reply when sent, else the reason it failed
    attempts: int
    created: str
    updated: str
    run: str = ""  # the run that claimed it last
    run_started: str = ""
    live: bool = False  # `sending` by a run that is still alive (else, when sending: pending)


@dataclass(frozen=True)
class Run:
    id: str
    started: str


@dataclass(frozen=True)
class Claim:
    """One message a run may send: it alone holds the row until it marks or releases it."""

    issue: str
    key: str
    address: str
    run: Run
    attempt: int  # 1 for the first attempt ever
    previous: Record | None  # the row before the claim, which `release` puts back


_COLUMNS = "key, address, state, reply, attempts, created, updated, run, run_started"


class Ledger(Database):
    """The send ledger, in the subscriber database."""

    def records(self, issue: str) -> dict[str, Record]:
        """Every record of one issue, by subscriber key."""
        rows = self.connection.execute(f"SELECT {_COLUMNS} FROM ledger WHERE issue = ? ORDER BY key", (issue,))
        alive = self._alive()
        return {row[0]: Record(*row, live=row[2] == "sending" and row[7] in alive) for row in rows.fetchall()}

    # Runs

    def open_run(self) -> Run:
        """Register this process as a run; forget runs whose heartbeat stopped long ago."""
        run = Run(uuid.uuid4().hex, now())
        with transaction(self.connection, exclusive=False):
            self.connection.execute("DELETE FROM runs WHERE heartbeat < ?", (_ago(LEASE),))
            self.connection.execute(
                "INSERT INTO runs (id, host, pid, started, heartbeat) VALUES (?, ?, ?, ?, ?)",
                (run.id, socket.gethostname(), os.getpid(), run.started, run.started),
            )
        return run

    def renew(self, run: Run) -> None:
        with transaction(self.connection, exclusive=False):
            self.connection.execute("UPDATE runs SET heartbeat = ? WHERE id = ?", (now(), run.id))

    def close_run(self, run: Run) -> None:
        """The run is over: any row it still holds `sending` is pending from now on."""
        with transaction(self.connection, exclusive=False):
            self.connection.execute("DELETE FROM runs WHERE id = ?", (run.id,))

    # Claims

    def claim(
        self,
        issue: str,
        wanted: Sequence[tuple[str, str]],
        run: Run,
        *,
        retry_pending: bool = False,
        limit: int | None = None,
    ) -> tuple[list[Claim], dict[str, Record]]:
        """Claim up to `limit` of the (key, address) pairs, in order, in one transaction.

        Returns the claims, and for each pair not claimed the record that holds it (sent,
        sending by a live run, or pending without `retry_pending`)."""
        if self.connection.engine == "postgresql":
            return self._claim_rows(issue, wanted, run, retry_pending, limit)
        claims: list[Claim] = []
        refused: dict[str, Record] = {}
        stamp = now()
        with transaction(self.connection):
            alive = self._alive()
            for key, address in wanted:
                if limit is not None and len(claims) >= limit:
                    break
                row = self.connection.execute(
                    f"SELECT {_COLUMNS} FROM ledger WHERE issue = ? AND key = ?", (issue, key)
                ).fetchone()
                previous = None if row is None else Record(*row, live=row[2] == "sending" and row[7] in alive)
                if previous is not None and not claimable(previous, retry_pending):
                    refused[key] = previous
                    continue
                attempt = 1 if previous is None else previous.attempts + 1
                self.connection.execute(
                    "INSERT INTO ledger (issue, key, address, state, attempts, created, updated, run, run_started)"
                    " VALUES (?, ?, ?, 'sending', ?, ?, ?, ?, ?)"
                    " ON CONFLICT (issue, key) DO UPDATE SET state = 'sending', address = excluded.address,"
                    " attempts = excluded.attempts, updated = excluded.updated, run = excluded.run,"
                    " run_started = excluded.run_started",
                    (issue, key, address, attempt, stamp, stamp, run.id, run.started),
                )
                claims.append(Claim(issue, key, address, run, attempt, previous))
        return claims, refused

    def _claim_rows(
        self, issue: str, wanted: Sequence[tuple[str, str]], run: Run, retry_pending: bool, limit: int | None
    ) -> tuple[list[Claim], dict[str, Record]]:
        """PostgreSQL: the same claims, with row locks instead of one writer at a time, so senders on
        several machines claim in parallel. A new row is claimed by inserting it (a concurrent insert
        of the same key waits, then finds it taken); an existing one is locked `FOR UPDATE SKIP
        LOCKED`, so a row another sender is claiming or marking this very moment is skipped (it is
        that sender's), never waited for."""
        claims: list[Claim] = []
        refused: dict[str, Record] = {}
        stamp = now()
        with transaction(self.connection, exclusive=False):
            alive = self._alive()
            for key, address in wanted:
                if limit is not None and len(claims) >= limit:
                    break
                inserted = self.connection.execute(
                    "INSERT INTO ledger (issue, key, address, state, attempts, created, updated, run, run_started)"
                    " VALUES (?, ?, ?, 'sending', 1, ?, ?, ?, ?) ON CONFLICT (issue, key) DO NOTHING RETURNING key",
                    (issue, key, address, stamp, stamp, run.id, run.started),
                ).fetchone()
                if inserted is not None:
                    claims.append(Claim(issue, key, address, run, 1, None))
                    continue
                row = self.connection.execute(
                    f"SELECT {_COLUMNS} FROM ledger WHERE issue = ? AND key = ? FOR UPDATE SKIP LOCKED", (issue, key)
                ).fetchone()
                if row is None:  # locked by another sender's transaction right now: that sender's
                    refused[key] = Record(key, address, "sending", "", 0, stamp, stamp, live=True)
                    continue
                previous = Record(*row, live=row[2] == "sending" and row[7] in alive)
                if not claimable(previous, retry_pending):
                    refused[key] = previous
                    continue
                self.connection.execute(
                    "UPDATE ledger SET state = 'sending', address = ?, attempts = ?, updated = ?, run = ?,"
                    " run_started = ? WHERE issue = ? AND key = ?",
                    (address, previous.attempts + 1, stamp, run.id, run.started, issue, key),
                )
                claims.append(Claim(issue, key, address, run, previous.attempts + 1, previous))
        return claims, refused

    def mark_sent(self, claim: Claim, reply: str) -> bool:
        """The server accepted it. False when the claim was lost (another run took it as abandoned)."""
        return self._finish(claim, "sent", reply)

    def mark_failed(self, claim: Claim, reason: str) -> bool:
        """The server refused it, or it could not be sent: any run may claim it again."""
        return self._finish(claim, "failed", reason)

    def release(self, claim: Claim) -> None:
        """Give a claim back unattempted: the row is as it was before the claim."""
        with transaction(self.connection, exclusive=False):
            held = "issue = ? AND key = ? AND run = ? AND state = 'sending'"
            where = (claim.issue, claim.key, claim.run.id)
            before = claim.previous
            if before is None:
                self.connection.execute(f"DELETE FROM ledger WHERE {held}", where)
                return
            self.connection.execute(
                "UPDATE ledger SET state = ?, reply = ?, attempts = ?, updated = ?, run = ?, run_started = ?"
                f" WHERE {held}",
                (before.state, before.reply, before.attempts, before.updated, before.run, before.run_started, *where),
            )

    def _finish(self, claim: Claim, state: State, reply: str) -> bool:
        with transaction(self.connection, exclusive=False):  # one row, held by this run: nothing to serialise
            cursor = self.connection.execute(
                "UPDATE ledger SET state = ?, reply = ?, updated = ?"
                " WHERE issue = ? AND key = ? AND run = ? AND state = 'sending'",
                (state, reply, now(), claim.issue, claim.key, claim.run.id),
            )
        return cursor.rowcount == 1

    def finish_issue(self, issue: str) -> None:
        """Record that a send of `issue` went through its whole list: `send --new` leaves it alone."""
        with transaction(self.connection):
            self.connection.execute(
                "INSERT INTO finished (issue, at) VALUES (?, ?) ON CONFLICT (issue) DO NOTHING", (issue, now())
            )

    def finished_issues(self) -> set[str]:
        return {issue for (issue,) in self.connection.execute("SELECT issue FROM finished")}

    def _alive(self) -> set[str]:
        """The runs alive now: heartbeat fresh and, on this host, the process still there."""
        host = socket.gethostname()
        rows = self.connection.execute("SELECT id, host, pid FROM runs WHERE heartbeat >= ?", (_ago(LEASE),))
        return {run for run, where, pid in rows.fetchall() if where != host or _running(pid)}


@contextlib.contextmanager
def keep_alive(database: Target, run: Run | None) -> Iterator[None]:
    """Renew the run's heartbeat every few seconds (its own connection, its own thread) while the
    block runs, so other runs see it alive; nothing for a dry run (no run)."""
    if run is None:
        yield
        return
    done = threading.Event()

    def beat() -> None:
        with Ledger(database) as ledger:
            while not done.wait(RENEW):
                with contextlib.suppress(*database_errors(ledger.connection)):  # busy: the next beat is soon
                    ledger.renew(run)

    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


def claimable(record: Record, retry_pending: bool) -> bool:
    """Whether a run may claim a row: failed, or (asked for) pending, a claim whose run is gone."""
    if record.state == "failed":
        return True
    return record.state == "sending" and not record.live and retry_pending


def _ago(seconds: float) -> str:
    """The store's timestamp of `seconds` ago (ISO 8601 in UTC: they compare as text)."""
    moment = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=seconds)
    return moment.isoformat(timespec="milliseconds")


def _running(pid: int) -> bool:
    """Whether a process exists and is not a zombie (killed but not yet reaped by its parent)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace").rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return True  # no /proc here: the process exists
    return state not in ("Z", "X")
