"""The send ledger: for every (issue, subscriber), whether the message is pending, sent or failed.

A row goes `pending` in its own committed transaction before the SMTP transaction starts and
`sent` (with the server's reply) or `failed` (with the reason) in another right after it, so a
crash at any moment leaves a row that says how far that message got:

    no row   never attempted: send it
    sent     the server accepted it: never send it again
    failed   the server refused it (or we gave up): send it again on the next run
    pending  the process died during the SMTP transaction: the server may or may not have
             accepted it. Not resent by default (a person checks the server's log first);
             `send --retry-pending` sends those too.

Each thread opens its own `Ledger` (SQLite connections are not shared between threads); WAL mode
and IMMEDIATE transactions serialise the writers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .subscribers import Database, now, transaction

State = Literal["pending", "sent", "failed"]


@dataclass(frozen=True)
class Record:
    key: str  # the subscriber's case-folded address
    address: str
    state: State
    reply: str  # the server's reply when sent, else the reason it failed
    attempts: int
    created: str
    updated: str


class Ledger(Database):
    """The send ledger, in the subscriber database."""

    def records(self, issue: str) -> dict[str, Record]:
        """Every record of one issue, by subscriber key."""
        rows = self.connection.execute(
            "SELECT key, address, state, reply, attempts, created, updated FROM ledger WHERE issue = ? ORDER BY key",
            (issue,),
        )
        return {row[0]: Record(*row) for row in rows}

    def begin(self, issue: str, key: str, address: str) -> None:
        """Mark one attempt as under way: committed before the first SMTP command is sent."""
        stamp = now()
        with transaction(self.connection):
            self.connection.execute(
                "INSERT INTO ledger (issue, key, address, state, reply, attempts, created, updated)"
                " VALUES (?, ?, ?, 'pending', '', 1, ?, ?)"
                " ON CONFLICT (issue, key) DO UPDATE SET"
                " state = 'pending', address = excluded.address, attempts = attempts + 1, updated = excluded.updated",
                (issue, key, address, stamp, stamp),
            )

    def finish(self, issue: str, key: str, address: str, state: State, reply: str) -> None:
        """Record how an attempt ended: `sent` with the server's reply, or `failed` with the reason
        (also for a message that could not even be made, which never got a `pending` row)."""
        if state == "pending":
            raise ValueError("finish() records an outcome: sent or failed")
        stamp = now()
        with transaction(self.connection):
            self.connection.execute(
                "INSERT INTO ledger (issue, key, address, state, reply, attempts, created, updated)"
                " VALUES (?, ?, ?, ?, ?, 0, ?, ?)"
                " ON CONFLICT (issue, key) DO UPDATE SET"
                " state = excluded.state, reply = excluded.reply, updated = excluded.updated",
                (issue, key, address, state, reply, stamp, stamp),
            )

    def finish_issue(self, issue: str) -> None:
        """Record that a send of `issue` went through its whole list: `send --new` leaves it alone."""
        with transaction(self.connection):
            self.connection.execute(
                "INSERT INTO finished (issue, at) VALUES (?, ?) ON CONFLICT (issue) DO NOTHING", (issue, now())
            )

    def finished_issues(self) -> set[str]:
        return {issue for (issue,) in self.connection.execute("SELECT issue FROM finished")}
