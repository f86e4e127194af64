"""The send ledger: claims, states, attempts, runs alive or gone, many claimants at once."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from publisher.mailing.database import database_errors
from publisher.mailing.ledger import Claim, Ledger, Run
from publisher.mailing.schema import SCHEMA_VERSION

DAY = "2024-07-25"
ANN = ("ann@example.com", "Ann@example.com")


def test_a_claim_goes_sending_then_sent_with_the_reply(store_target: Path | str):
    db = store_target
    with Ledger(db) as ledger:
        run = ledger.open_run()
        (claim,), refused = ledger.claim(DAY, [ANN], run)
        assert refused == {} and claim.attempt == 1
        # Committed at once: another connection (another process, after a crash) sees the row.
        with Ledger(db) as other:
            record = other.records(DAY)["ann@example.com"]
            assert (record.state, record.run, record.live) == ("sending", run.id, True)
            assert other.claim(DAY, [ANN], other.open_run())[0] == []  # held: nobody else takes it
        assert ledger.mark_failed(claim, "451 try later (retrying)")
        (claim,), _ = ledger.claim(DAY, [ANN], run)
        assert ledger.mark_sent(claim, "250 OK queued as 7")
        record = ledger.records(DAY)["ann@example.com"]
        assert (record.address, record.state, record.reply, record.attempts) == (
            "Ann@example.com",
            "sent",
            "250 OK queued as 7",
            2,
        )
        assert record.created <= record.updated
        assert ledger.claim(DAY, [ANN], run)[1]["ann@example.com"].state == "sent"  # never twice
        assert ledger.records("2024-07-26") == {}


def test_a_released_claim_is_as_it_was(store_target: Path | str):
    with Ledger(store_target) as ledger:
        run = ledger.open_run()
        (claim,), _ = ledger.claim(DAY, [ANN], run)
        ledger.release(claim)
        assert ledger.records(DAY) == {}
        (claim,), _ = ledger.claim(DAY, [ANN], run)
        ledger.mark_failed(claim, "550 no such user")
        before = ledger.records(DAY)
        (claim,), _ = ledger.claim(DAY, [ANN], run)
        ledger.release(claim)
        assert ledger.records(DAY) == before


def test_a_batch_claim_takes_what_is_free_up_to_the_limit(store_target: Path | str):
    with Ledger(store_target) as ledger:
        first, second = ledger.open_run(), ledger.open_run()
        wanted = [(f"r{n}@example.com", f"r{n}@example.com") for n in range(6)]
        assert len(ledger.claim(DAY, wanted[:2], first)[0]) == 2
        claims, refused = ledger.claim(DAY, wanted, second, limit=3)
        assert [c.key for c in claims] == ["r2@example.com", "r3@example.com", "r4@example.com"]
        assert sorted(refused) == ["r0@example.com", "r1@example.com"]
        assert all(record.live and record.run == first.id for record in refused.values())


def test_the_claim_of_a_dead_run_is_pending_and_taken_only_when_asked(store_target: Path | str):
    """A run killed during an SMTP transaction leaves its row `sending`; as soon as its process is
    gone, that row is pending: reported, claimed again only with retry_pending."""
    db = store_target
    Ledger(db).close()
    script = (
        "import sys; from publisher.mailing.database import parse_target; from publisher.mailing.ledger import Ledger\n"
        "ledger = Ledger(parse_target(sys.argv[1])); run = ledger.open_run()\n"
        f"ledger.claim({DAY!r}, [{ANN!r}], run)\n"
    )
    subprocess.run([sys.executable, "-c", script, str(db)], check=True)  # exits without marking: as if killed
    with Ledger(db) as ledger:
        record = ledger.records(DAY)["ann@example.com"]
        assert (record.state, record.live) == ("sending", False)
        run = ledger.open_run()
        assert ledger.claim(DAY, [ANN], run) == ([], {"ann@example.com": record})
        (claim,), _ = ledger.claim(DAY, [ANN], run, retry_pending=True)
        assert claim.attempt == 2
        # The dead run's late answer cannot overwrite the new claim.
        stale = Claim(DAY, "ann@example.com", ANN[1], Run(record.run, record.run_started), 1, None)
        assert not ledger.mark_sent(stale, "250 late")
        assert ledger.records(DAY)["ann@example.com"].run == run.id


def test_a_run_whose_heartbeat_stopped_is_gone(store_target: Path | str):
    with Ledger(store_target) as ledger:
        run = ledger.open_run()
        ledger.claim(DAY, [ANN], run)
        assert ledger.records(DAY)["ann@example.com"].live
        ledger.connection.execute("UPDATE runs SET heartbeat = '2000-01-01T00:00:00.000+00:00'")
        assert not ledger.records(DAY)["ann@example.com"].live
        ledger.renew(run)
        assert ledger.records(DAY)["ann@example.com"].live
        ledger.close_run(run)
        assert not ledger.records(DAY)["ann@example.com"].live


def test_the_database_refuses_an_unknown_state(store_target: Path | str):
    with Ledger(store_target) as ledger, pytest.raises(database_errors(ledger.connection)):
        ledger.connection.execute(
            "INSERT INTO ledger (issue, key, address, state, created, updated) VALUES ('d', 'k', 'a', 'maybe', '', '')"
        )


def test_a_schema_1_database_is_upgraded_and_its_pending_rows_stay_pending(tmp_path: Path):
    db = tmp_path / "old.db"
    with sqlite3.connect(db) as connection:
        connection.executescript(
            "CREATE TABLE subscribers (key TEXT PRIMARY KEY, address TEXT NOT NULL, name TEXT NOT NULL DEFAULT '',"
            " tags TEXT NOT NULL DEFAULT '', added TEXT NOT NULL) WITHOUT ROWID;"
            "CREATE TABLE suppressed (key TEXT PRIMARY KEY, reason TEXT NOT NULL, at TEXT NOT NULL) WITHOUT ROWID;"
            "CREATE TABLE ledger (issue TEXT NOT NULL, key TEXT NOT NULL, address TEXT NOT NULL,"
            " state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed')), reply TEXT NOT NULL DEFAULT '',"
            " attempts INTEGER NOT NULL DEFAULT 0, created TEXT NOT NULL, updated TEXT NOT NULL,"
            " PRIMARY KEY (issue, key)) WITHOUT ROWID;"
            f"INSERT INTO ledger VALUES ('{DAY}', 'a@x.org', 'a@x.org', 'pending', '', 1, 't', 't');"
            f"INSERT INTO ledger VALUES ('{DAY}', 'b@x.org', 'b@x.org', 'sent', '250 OK', 1, 't', 't');"
            "PRAGMA user_version = 1;"
        )
    with Ledger(db) as ledger:
        records = ledger.records(DAY)
        assert [(r.key, r.state, r.live) for r in records.values()] == [
            ("a@x.org", "sending", False),
            ("b@x.org", "sent", False),
        ]
        assert ledger.connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_threads_and_processes_claiming_the_same_rows_each_get_each_row_once(store_target: Path | str):
    """Four threads here and two processes claim the same 200 rows one by one: every row is
    claimed exactly once (SQLite in WAL mode, a busy timeout, IMMEDIATE transactions)."""
    db = store_target
    Ledger(db).close()
    keys = [f"r{n:03d}@example.com" for n in range(200)]
    script = (
        "import sys; from publisher.mailing.database import parse_target; from publisher.mailing.ledger import Ledger\n"
        "ledger = Ledger(parse_target(sys.argv[1])); run = ledger.open_run(); won = 0\n"
        f"for key in {keys!r}:\n"
        f"    claims, _ = ledger.claim({DAY!r}, [(key, key)], run)\n"
        "    for claim in claims: ledger.mark_sent(claim, 'pid %d' % __import__('os').getpid()); won += 1\n"
        "print(won)\n"
    )
    processes = [
        subprocess.Popen([sys.executable, "-c", script, str(db)], stdout=subprocess.PIPE, text=True) for _ in range(2)
    ]
    won: list[int] = []

    def claim_all() -> None:
        with Ledger(db) as ledger:
            run, count = ledger.open_run(), 0
            for key in keys:
                claims, _ = ledger.claim(DAY, [(key, key)], run)
                for claim in claims:
                    ledger.mark_sent(claim, f"thread {threading.get_ident()}")
                    count += 1
            won.append(count)

    threads = [threading.Thread(target=claim_all) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    won += [int(process.communicate(timeout=120)[0]) for process in processes]
    assert sum(won) == 200
    with Ledger(db) as ledger:
        records = ledger.records(DAY)
    assert len(records) == 200
    assert all(r.state == "sent" and r.attempts == 1 for r in records.values())


def test_on_postgresql_a_claim_skips_a_row_another_sender_has_locked_instead_of_waiting(postgres):
    """Senders on several machines: a row another sender's transaction holds right now is refused
    as that sender's (SKIP LOCKED), and the rest of the batch is claimed; nobody waits for the lock."""
    import psycopg

    target = postgres.fresh()
    with Ledger(target) as ledger:
        run = ledger.open_run()
        (claim,), _ = ledger.claim(DAY, [ANN], run)
        ledger.mark_failed(claim, "451 try later")  # claimable again by anyone
        other = ledger.open_run()
        with psycopg.connect(target, autocommit=True) as holder, holder.transaction():
            holder.execute("SELECT 1 FROM ledger WHERE key = 'ann@example.com' FOR UPDATE")
            ledger.connection.execute("SET lock_timeout = '2s'")  # waiting would fail the test, not hang it
            claims, refused = ledger.claim(DAY, [ANN, ("bob@example.com", "bob@example.com")], other)
        assert [c.key for c in claims] == ["bob@example.com"]
        assert refused["ann@example.com"].live and refused["ann@example.com"].state == "sending"
        (claim,), _ = ledger.claim(DAY, [ANN], other)  # the lock gone, the failed row is claimable
        assert claim.attempt == 2
