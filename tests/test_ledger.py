"""The send ledger: states, attempts, one transaction per write, many threads writing at once."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from publisher.mailing.database import database_errors
from publisher.mailing.ledger import Ledger


def test_a_message_goes_pending_then_sent_with_the_reply(store_target: Path | str):
    db = store_target
    with Ledger(db) as ledger:
        ledger.begin("2024-07-25", "ann@example.com", "Ann@example.com")
        # Committed at once: another connection (another process, after a crash) sees the row.
        with Ledger(db) as other:
            assert other.records("2024-07-25")["ann@example.com"].state == "pending"
        ledger.finish("2024-07-25", "ann@example.com", "Ann@example.com", "failed", "451 try later (retrying)")
        ledger.begin("2024-07-25", "ann@example.com", "Ann@example.com")
        ledger.finish("2024-07-25", "ann@example.com", "Ann@example.com", "sent", "250 OK queued as 7")
        record = ledger.records("2024-07-25")["ann@example.com"]
        assert (record.address, record.state, record.reply, record.attempts) == (
            "Ann@example.com",
            "sent",
            "250 OK queued as 7",
            2,
        )
        assert record.created <= record.updated
        assert ledger.records("2024-07-26") == {}


def test_a_failure_before_any_attempt_is_recorded_too(store_target: Path | str):
    with Ledger(store_target) as ledger:
        ledger.finish("2024-07-25", "x@example.com", "x@example.com", "failed", "cannot make the message")
        record = ledger.records("2024-07-25")["x@example.com"]
        assert (record.state, record.attempts) == ("failed", 0)
        with pytest.raises(ValueError):
            ledger.finish("2024-07-25", "x@example.com", "x@example.com", "pending", "")


def test_the_database_refuses_an_unknown_state(store_target: Path | str):
    with Ledger(store_target) as ledger, pytest.raises(database_errors(ledger.connection)):
        ledger.connection.execute(
            "INSERT INTO ledger (issue, key, address, state, created, updated) VALUES ('d', 'k', 'a', 'maybe', '', '')"
        )


def test_threads_with_their_own_connections_lose_no_write(store_target: Path | str):
    db = store_target
    Ledger(db).close()

    def write(thread: int) -> None:
        with Ledger(db) as ledger:
            for n in range(50):
                key = f"t{thread}-{n}@example.com"
                ledger.begin("2024-07-25", key, key)
                ledger.finish("2024-07-25", key, key, "sent", f"250 {thread}/{n}")

    threads = [threading.Thread(target=write, args=(t,)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with Ledger(db) as ledger:
        records = ledger.records("2024-07-25")
    assert len(records) == 200
    assert all(r.state == "sent" and r.attempts == 1 for r in records.values())
