"""Sends that overlap: three `publisher send` processes at once over one database and 3,000
subscribers, against one real SMTP server (aiosmtpd) that counts every copy.

Both engines: SQLite (one writer at a time) and PostgreSQL (row locks, `FOR UPDATE SKIP LOCKED`,
for senders on several machines). A message is sent only by the run that claimed it in the
ledger, so the runs split the list, and each run's summary counts only what it sent. One of them
killed with SIGKILL in the middle leaves at most the message it had on the wire `sending` under a
run that is gone: pending, reported by the next run and not sent again.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from publisher.mailing.subscribers import Store, Subscriber

from .conftest import ROOT, query
from .smtp_server import SmtpServer, TallyHandler

DATE = "2024-07-25"
SECRET = "a-test-secret-0123456789"
PEOPLE = 3000
EVERYONE = [f"reader{n:04d}@example.com" for n in range(PEOPLE)]


@pytest.fixture
def db(store_target: Path | str) -> Path | str:
    """3,000 subscribers in a store on each engine."""
    path = store_target
    with Store(path) as store:
        store.import_subscribers([Subscriber(address) for address in EVERYONE], [])
    return path


def start(built: Path, db: Path | str, server: SmtpServer, cwd: Path, *more: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "publisher", "send", DATE, *more, "--config", str(ROOT / "publisher.toml")]
    command += ["--out", str(built), "--db", str(db), "--smtp-host", server.host, "--smtp-port", str(server.port)]
    command += ["--smtp-security", "plain", "--backoff", "0.01"]
    env = {**os.environ, "PUBLISHER_SECRET": SECRET}
    return subprocess.Popen(command, cwd=cwd, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def sent(stdout: str) -> int:
    found = re.match(rf"{DATE}: (\d+) sent, ", stdout)
    assert found, stdout
    return int(found.group(1))


def states(db: Path | str) -> dict[str, str]:
    return dict(query(db, "SELECT key, state FROM ledger"))


def test_three_sends_at_once_give_everyone_exactly_one_copy(built: Path, db: Path | str, tmp_path: Path):
    with SmtpServer(TallyHandler()) as server:
        runs = [start(built, db, server, tmp_path) for _ in range(3)]
        results = [run.communicate(timeout=120) for run in runs]
        copies = server.handler.copies
    for run, (_, stderr) in zip(runs, results, strict=True):
        assert run.returncode == 0, stderr
    assert len(copies) == PEOPLE and set(copies.values()) == {1}  # 3,000 messages, each subscriber once
    counts = [sent(stdout) for stdout, _ in results]
    assert sum(counts) == PEOPLE  # each run counts only what it sent itself
    assert sum(1 for count in counts if count) >= 2, counts  # they did overlap and split the list
    assert set(states(db).values()) == {"sent"} and len(states(db)) == PEOPLE


def test_a_sender_killed_in_the_middle_then_a_rerun_sends_nobody_twice(built: Path, db: Path | str, tmp_path: Path):
    runs: list[subprocess.Popen[str]] = []

    def kill_the_first(number: int) -> None:
        if number == PEOPLE // 3:
            os.kill(runs[0].pid, signal.SIGKILL)

    with SmtpServer(TallyHandler(after_accept=kill_the_first)) as server:
        runs += [start(built, db, server, tmp_path) for _ in range(3)]
        results = [run.communicate(timeout=120) for run in runs]
        assert runs[0].returncode == -signal.SIGKILL
        for run, (_, stderr) in zip(runs[1:], results[1:], strict=True):
            assert run.returncode == 0, stderr
        rerun = start(built, db, server, tmp_path)
        stdout, stderr = rerun.communicate(timeout=120)
        copies = server.handler.copies
    assert rerun.returncode == 0, stderr
    assert set(copies.values()) == {1}  # nobody twice
    pending = sorted(key for key, state in states(db).items() if state == "sending")
    assert len(pending) <= 1  # the killed run had one message on the wire at most
    reported = re.findall(r"^pending: (\S+): attempt 1 started", stderr, flags=re.MULTILINE)
    assert reported == pending  # the pending one is reported by the next run, and not sent again
    assert set(copies) | set(pending) == set(EVERYONE)
    tail = f", {len(pending)} pending" if pending else ""
    assert stdout.startswith(f"{DATE}: 0 sent, {PEOPLE - len(pending)} already sent, 0 failed, 0 suppressed")
    assert stdout.endswith(f"0 filtered out{tail}\n")
    survivors = sum(sent(out) for out, _ in results[1:])
    assert 0 < copies.total() - survivors < PEOPLE  # the killed run's copies: it sent some, then died


def test_workers_on_one_machine_split_the_list_and_report_it_as_one_run(
    store_target: Path | str, built: Path, tmp_path
):
    """`send --workers 3`: three sender processes, each a run of its own, one merged report."""
    few = EVERYONE[:300]
    with Store(store_target) as store:
        store.import_subscribers([Subscriber(address) for address in few], [])
    with SmtpServer(TallyHandler()) as server:
        stdout, stderr = start(built, store_target, server, tmp_path, "--workers", "3").communicate(timeout=120)
        copies = server.handler.copies
    assert len(copies) == len(few) and set(copies.values()) == {1}
    assert stdout.startswith(f"{DATE}: 300 sent, 0 already sent, 0 failed"), stdout + stderr
    assert "taken by another run" not in stdout  # the workers' claims on each other's rows are not news
    runs = query(store_target, "SELECT count(DISTINCT run) FROM ledger")
    assert runs[0][0] >= 2  # more than one process sent
