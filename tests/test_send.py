"""`publisher send` end to end, against a real SMTP server (aiosmtpd on 127.0.0.1) with faults injected.

Every test builds a subscriber database, sends the built 2024-07-25 issue (the `built` fixture)
and reads what the server received with the standard library's email parser.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from publisher.digests.parse import parse_sources
from publisher.digests.sources import read_sources
from publisher.mailing import tokens
from publisher.mailing.ledger import Ledger
from publisher.mailing.send import Job, load_issue, personal_copy, plan
from publisher.mailing.subscribers import Store, Subscriber

from .conftest import ROOT, SEEDS, run_cli
from .smtp_server import Faults, Received, RecordingHandler, SmtpServer, free_port

DATE = "2024-07-25"
SECRET = "a-test-secret-0123456789"
PASSWORD = "Pa55-word-only-for-tests"

EVERYTHING = [f"reader{n}@example.com" for n in range(6)]
TOPICS = {"bob@example.com": ("math",), "cat@example.com": ("framework", "rlaif")}
FILTERED_OUT = "dan@example.com"  # follows a tag this issue does not have
SUPPRESSED = "eve@example.com"
ELIGIBLE = sorted([*EVERYTHING, *TOPICS])


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "subscribers.db"
    with Store(path) as store:
        for address in EVERYTHING:
            store.add(Subscriber(address, address.split("@")[0]))
        for address, tags in TOPICS.items():
            store.add(Subscriber(address, "", tags))
        store.add(Subscriber(FILTERED_OUT, "Dan", ("no-such-topic",)))
        store.add(Subscriber(SUPPRESSED, "Eve"))
        store.unsubscribe(SUPPRESSED)
    return path


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUBLISHER_SECRET", SECRET)
    monkeypatch.delenv("PUBLISHER_SMTP_PASSWORD", raising=False)


def send(built: Path, db: Path, server: SmtpServer | None, *args: object, date: str = DATE):
    port = server.port if server else free_port()
    return run_cli(
        "send", date, "--config", ROOT / "publisher.toml", "--out", built, "--db", db,
        "--smtp-host", "127.0.0.1", "--smtp-port", port, "--smtp-security", "plain", "--backoff", "0.01", *args,
    )  # fmt: skip


def copies(handler: RecordingHandler) -> Counter[str]:
    return Counter(handler.recipients())


def ledger_rows(db: Path) -> list[tuple[str, str, int]]:
    with sqlite3.connect(db) as connection:
        return connection.execute("SELECT key, state, attempts FROM ledger ORDER BY key").fetchall()


def digest_entries() -> list[tuple[str, set[str]]]:
    digests, _ = parse_sources(read_sources(SEEDS))
    digest = next(d for d in digests if d.date.isoformat() == DATE)
    return [(entry.title, {tag.slug for tag in entry.tags}) for entry in digest.entries]


def by_recipient(received: list[Received]) -> dict[str, Received]:
    return {message.rcpt_tos[0]: message for message in received}


def test_each_eligible_subscriber_gets_exactly_one_personal_copy(built: Path, db: Path):
    faults = Faults(temporary_on={3}, refuse={"reader5@example.com"})
    with SmtpServer(RecordingHandler(faults)) as server:
        first = send(built, db, server)
        again = send(built, db, server)
        handler = server.handler
    eligible = [a for a in ELIGIBLE if a != "reader5@example.com"]
    assert copies(handler) == Counter(eligible)  # the 451 was retried; the 550 got nothing
    assert first.exit_code == 1
    assert first.stdout == f"{DATE}: 7 sent, 0 already sent, 1 failed, 1 suppressed, 1 filtered out\n"
    assert "failed: reader5@example.com: RCPT TO: 550 5.1.1 <reader5@example.com>: no such user here" in first.stderr
    # The re-run sends nothing new; it tries the refused one again, which fails again.
    assert again.stdout == f"{DATE}: 0 sent, 7 already sent, 1 failed, 1 suppressed, 1 filtered out\n"
    assert again.exit_code == 1
    rows = {key: (state, attempts) for key, state, attempts in ledger_rows(db)}
    assert rows["reader5@example.com"] == ("failed", 2)
    assert sorted(attempts for state, attempts in rows.values() if state == "sent") == [1] * 6 + [2]
    assert FILTERED_OUT not in rows and SUPPRESSED not in rows


def test_copies_are_personal_and_topic_subscribers_get_only_their_entries(built: Path, db: Path):
    with SmtpServer(RecordingHandler()) as server:
        assert send(built, db, server).exit_code == 0
        received = by_recipient(server.handler.received)
    entries = digest_entries()
    message_ids = set()
    for address in ELIGIBLE:
        mail = received[address].message()
        assert mail["To"].addresses[0].addr_spec == address
        assert received[address].mail_from == "digest@example.com"
        message_ids.add(mail["Message-ID"])
        follows = set(TOPICS.get(address, ()))
        text = mail.get_body(("plain",)).get_content()
        html = mail.get_body(("html",)).get_content()
        kept = [title for title, tags in entries if not follows or tags & follows]
        for title, _tags in entries:
            assert (title in text) == (title in kept), (address, title)
        subject = str(mail["Subject"])
        assert subject.endswith(f"노트 {len(kept)}편")
        assert all(f"#{tag}" in subject for tag in follows)
        # The one-click URL carries a token that unsubscribes this address and no other.
        one_click = next(u.strip("<>") for u in mail["List-Unsubscribe"].split(", ") if u.startswith("<https"))
        query = parse_qs(urlsplit(one_click).query)
        assert tokens.is_for(SECRET, "unsubscribe", query["token"][0], address, now=0)
        assert not tokens.is_for(SECRET, "unsubscribe", query["token"][0], "someone.else@example.com", now=0)
        assert not tokens.is_for(SECRET, "preferences", query["token"][0], address, now=0)
        assert one_click in text and one_click.replace("&", "&amp;") in html
    assert len(message_ids) == len(ELIGIBLE)
    assert all(mid.endswith("@example.com>") and "issue-2024-07-25." in mid for mid in message_ids)


def test_message_ids_are_stable_and_personal(built: Path):
    issue = load_issue(built, dt.date.fromisoformat(DATE))
    ann, bob = Subscriber("ann@example.com"), Subscriber("bob@example.com")
    first = personal_copy(issue, Job(ann, None), SECRET)
    assert first == personal_copy(issue, Job(ann, None), SECRET)  # byte-identical on a re-run
    assert first != personal_copy(issue, Job(bob, None), SECRET)


def test_plan_sorts_everyone_into_one_group(built: Path):
    from publisher.mailing.ledger import Record

    issue = load_issue(built, dt.date.fromisoformat(DATE))
    people = [
        Subscriber("a@example.com"),
        Subscriber("b@example.com", tags=("math",)),
        Subscriber("c@example.com", tags=("nope",)),
        Subscriber("d@example.com"),
        Subscriber("e@example.com"),
        Subscriber("f@example.com"),
        Subscriber("g@example.com"),
        Subscriber("h@example.com"),
    ]
    records = {
        "d@example.com": Record("d@example.com", "d@example.com", "sent", "250 OK", 1, "", ""),
        "e@example.com": Record("e@example.com", "e@example.com", "sending", "", 1, "", "t"),
        "f@example.com": Record("f@example.com", "f@example.com", "failed", "451", 5, "", ""),
        "h@example.com": Record("h@example.com", "h@example.com", "sending", "", 1, "", "t", "run2", "t0", live=True),
    }
    jobs, decided = plan(issue, people, {"g@example.com"}, records)
    assert [(j.subscriber.address, j.topics) for j in jobs] == [
        ("a@example.com", None),
        ("b@example.com", ("math",)),
        ("f@example.com", None),
    ]
    assert [(o.address, o.status) for o in decided] == [
        ("c@example.com", "filtered out"),
        ("d@example.com", "already sent"),
        ("e@example.com", "pending"),
        ("g@example.com", "suppressed"),
        ("h@example.com", "taken by another run"),
    ]
    jobs, decided = plan(issue, people, set(), records, retry_pending=True)
    assert "e@example.com" in [j.subscriber.address for j in jobs]  # its run is gone: taken when asked
    assert ("h@example.com", "taken by another run") in [(o.address, o.status) for o in decided]  # alive: never


def test_a_dropped_connection_with_parallel_connections(built: Path, db: Path):
    with SmtpServer(RecordingHandler(Faults(drop_after=3))) as server:
        result = send(built, db, server, "--connections", "3")
        handler = server.handler
    assert result.exit_code == 0, result.output
    assert copies(handler) == Counter(ELIGIBLE)
    assert len({message.peer for message in handler.received}) >= 2
    assert all(state == "sent" for _, state, _ in ledger_rows(db))


def test_the_rate_limit_spaces_messages(built: Path, db: Path):
    with SmtpServer(RecordingHandler()) as server:
        started = time.monotonic()
        result = send(built, db, server, "--rate", "10", "--connections", "2")
        elapsed = time.monotonic() - started
        assert copies(server.handler) == Counter(ELIGIBLE)
    assert result.exit_code == 0
    assert elapsed >= (len(ELIGIBLE) - 1) / 10


def test_starttls_and_auth_work_and_the_password_shows_nowhere(
    built: Path, db: Path, certificate, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate.cert))
    monkeypatch.setenv("PUBLISHER_SMTP_PASSWORD", PASSWORD)
    handler = RecordingHandler()
    with SmtpServer(handler, security="starttls", certificate=certificate, login=("mailer", PASSWORD)) as server:
        args = ("--smtp-security", "starttls", "--smtp-user", "mailer")
        result = send(built, db, server, *args)
        monkeypatch.setenv("PUBLISHER_SMTP_PASSWORD", "wrong-" + PASSWORD)
        refused = send(built, db, server, *args)
    assert result.exit_code == 0, result.output
    assert copies(handler) == Counter(ELIGIBLE)
    assert handler.logins and all(login.endswith(":mailer") for login in handler.logins)
    assert refused.exit_code == 1
    assert "authentication failed" in refused.stderr
    stored = b"".join(p.read_bytes() for p in db.parent.iterdir() if p.name.startswith(db.name))
    for text in (result.output, refused.output):
        assert PASSWORD not in text
    assert PASSWORD.encode() not in stored


def test_bad_settings_stop_before_any_ledger_row(built: Path, db: Path, tmp_path: Path, monkeypatch):
    config = tmp_path / "publisher.toml"
    config.write_text('[smtp]\nhost = ""\n', encoding="utf-8")
    no_host = run_cli("send", DATE, "--config", config, "--out", built, "--db", db)
    assert (no_host.exit_code, no_host.stderr) == (
        1,
        "publisher: no SMTP host: set [smtp] host in the config or pass --smtp-host\n",
    )
    closed = send(built, db, None)
    assert closed.exit_code == 1
    assert "cannot connect to SMTP server 127.0.0.1:" in closed.stderr
    mistyped = send(built, tmp_path / "no-such.db", None, "--dry-run", tmp_path / "preview")
    assert mistyped.exit_code == 1 and "no-such.db: no subscriber database here" in mistyped.stderr
    assert not (tmp_path / "no-such.db").exists()
    unbuilt = send(built, db, None, date="2020-01-01")
    assert "no built issue for 2020-01-01: run `publisher build` first" in unbuilt.stderr
    monkeypatch.delenv("PUBLISHER_SECRET")
    with SmtpServer(RecordingHandler()) as server:
        no_secret = send(built, db, server)
        assert server.handler.received == []
    assert no_secret.exit_code == 1 and "PUBLISHER_SECRET" in no_secret.stderr
    assert ledger_rows(db) == []


def test_dry_run_writes_personal_emls_and_connects_to_nothing(built: Path, db: Path, tmp_path: Path):
    result = send(built, db, None, "--dry-run", tmp_path / "preview")  # no server listens on the port
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"{DATE}: 8 written, 0 already sent, 0 failed, 1 suppressed, 1 filtered out\n")
    files = sorted((tmp_path / "preview").glob("*.eml"))
    assert sorted(f.name.split(".eml")[0].rsplit(".", 1)[0] for f in files) == ELIGIBLE
    assert ledger_rows(db) == []


# A crash in the middle: the sending process is killed by the server at an exact moment, then
# the same command runs again. `before` kills it while the third message is on the wire, before
# the server accepts it; `after` once the server has accepted it but before the 250 reaches the
# client. Either way the ledger holds a `pending` row for that subscriber, which the re-run does
# not resend (it may have arrived, and in `after` it did); --retry-pending sends it on purpose.


def crash_run(built: Path, db: Path, tmp_path: Path, moment: str) -> RecordingHandler:
    process: list[subprocess.Popen[str]] = []

    def kill(number: int) -> str | None:
        if number == 3:
            os.kill(process[0].pid, signal.SIGKILL)
            return "451 4.3.0 sender went away" if moment == "before" else None
        return None

    faults = Faults(**{"before_accept" if moment == "before" else "after_accept": kill})
    handler = RecordingHandler(faults)
    with SmtpServer(handler) as server:
        command = [sys.executable, "-m", "publisher", "send", DATE, "--config", str(ROOT / "publisher.toml")]
        command += ["--out", str(built), "--db", str(db), "--smtp-host", server.host, "--smtp-port", str(server.port)]
        command += ["--smtp-security", "plain", "--connections", "1"]
        env = {**os.environ, "PUBLISHER_SECRET": SECRET}
        process.append(subprocess.Popen(command, cwd=tmp_path, env=env, text=True, stdout=subprocess.PIPE))
        process[0].communicate(timeout=60)
        assert process[0].returncode == -signal.SIGKILL
        assert len(handler.received) == (2 if moment == "before" else 3)
        third = sorted(ELIGIBLE)[2]
        assert dict((k, s) for k, s, _ in ledger_rows(db))[third] == "sending"  # by a run that is gone: pending
        handler.faults = Faults()
        rerun = send(built, db, server)
        assert rerun.exit_code == 0, rerun.output
        assert f"pending: {third}: attempt 1 started" in rerun.stderr
        if moment == "before":
            assert third not in copies(handler)
            retried = send(built, db, server, "--retry-pending")
            assert retried.stdout == f"{DATE}: 1 sent, 7 already sent, 0 failed, 1 suppressed, 1 filtered out\n"
    return handler


@pytest.mark.parametrize("moment", ["before", "after"])
def test_a_killed_run_then_a_rerun_gives_everyone_exactly_one_copy(built: Path, db: Path, tmp_path: Path, moment):
    handler = crash_run(built, db, tmp_path, moment)
    assert copies(handler) == Counter(ELIGIBLE)
    with Ledger(db) as ledger:
        states = {record.state for record in ledger.records(DATE).values()}
    assert states == ({"sent"} if moment == "before" else {"sent", "sending"})


def test_a_terminated_run_stops_cleanly_and_the_rerun_finishes(built: Path, db: Path, tmp_path: Path):
    """SIGTERM (and Ctrl-C, the same path) lets the message under way finish and be recorded: no
    pending rows, nothing sent twice; the same command then sends the rest."""
    process: list[subprocess.Popen[str]] = []

    def terminate(number: int) -> None:
        if number == 3:
            process[0].send_signal(signal.SIGTERM)

    handler = RecordingHandler(Faults(after_accept=terminate))
    with SmtpServer(handler) as server:
        command = [sys.executable, "-m", "publisher", "send", DATE, "--config", str(ROOT / "publisher.toml")]
        command += ["--out", str(built), "--db", str(db), "--smtp-host", server.host, "--smtp-port", str(server.port)]
        command += ["--smtp-security", "plain", "--rate", "20"]  # spaced out, so the signal lands mid-run
        env = {**os.environ, "PUBLISHER_SECRET": SECRET}
        process.append(subprocess.Popen(command, cwd=tmp_path, env=env, text=True, stderr=subprocess.PIPE))
        _, stderr = process[0].communicate(timeout=60)
        assert process[0].returncode == 1
        assert "interrupted: run the same command again to send the rest" in stderr
        assert 3 <= len(handler.received) < len(ELIGIBLE)
        assert {state for _, state, _ in ledger_rows(db)} == {"sent"}
        assert len(ledger_rows(db)) == len(handler.received)
        assert send(built, db, server).exit_code == 0
    assert copies(handler) == Counter(ELIGIBLE)


def test_a_server_that_goes_away_stops_the_run_instead_of_retrying_everyone(built: Path, db: Path):
    servers: list[SmtpServer] = []

    def vanish(number: int) -> str | None:
        if number != 3:
            return None
        servers[0].controller.server.close()  # stop listening: every new connection is refused
        return "421 4.3.2 shutting down"

    with SmtpServer(RecordingHandler(Faults(before_accept=vanish))) as server:
        servers.append(server)
        result = send(built, db, server, "--retries", "2")
        received = len(server.handler.received)
    assert received == 2
    assert result.exit_code == 1
    assert result.stdout == f"{DATE}: 2 sent, 0 already sent, 1 failed, 1 suppressed, 1 filtered out, 5 not attempted\n"
    assert "cannot connect to SMTP server" in result.stderr and "(gave up after 3 attempts)" in result.stderr
    assert "stopped: the SMTP server could not be reached" in result.stderr
    assert sorted(state for _, state, _ in ledger_rows(db)) == ["failed", "sent", "sent"]
