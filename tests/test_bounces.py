"""`publisher bounces` end to end: real copies sent over SMTP (aiosmtpd), then DSNs and an ARF report about
them delivered to a real IMAP server (Debian's dovecot on 127.0.0.1, tests/imap_server.py), read by the
command line, recorded in the store, and moved; a second run changes nothing.

The reports are written to the RFCs (tests/bounce_reports.py): a 5.1.1 unknown user, a 4.2.2 full
mailbox, a 5.7.1 policy rejection, an abuse complaint, and an out-of-office answer that is neither.
"""

from __future__ import annotations

import email
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from publisher.mailing.subscribers import Store, Subscriber

from . import bounce_reports
from .conftest import ROOT, query, run_cli
from .imap_server import ImapServer
from .smtp_server import RecordingHandler, SmtpServer

SECRET = "a-test-secret-0123456789"
IMAP_PASSWORD = "imap-Pa55-only-for-tests"
RETURN_PATH = "bounces@example.com"
COMPLAINTS_TO = "fbl@example.com"  # registered with the mailbox provider's feedback loop: no VERP
FIRST, SECOND = "2024-06-21", "2024-07-25"
PEOPLE = ("ann@example.com", "bob@example.com", "carl@example.com", "dan@example.com", "fay@example.com")


@pytest.fixture(scope="module")
def imap() -> Iterator[ImapServer]:
    with ImapServer(password=IMAP_PASSWORD) as server:
        yield server


@pytest.fixture
def mailbox(imap: ImapServer) -> Iterator[ImapServer]:
    """The module's server with empty folders for each test."""
    yield imap
    client = imap.client()
    try:
        for folder in ("INBOX", "Processed"):
            if client.select(f'"{folder}"')[0] == "OK":
                client.uid("STORE", "1:*", "+FLAGS.SILENT", r"(\Deleted)")
                client.expunge()
    finally:
        client.logout()


@dataclass
class Project:
    folder: Path
    config: Path
    db: Path | str  # a SQLite file or a PostgreSQL URL: every test runs on both engines
    built: Path
    sent: dict[tuple[str, str], bytes]  # (issue, address) → the copy as the SMTP server got it
    mail_from: dict[tuple[str, str], str]  # (issue, address) → its envelope sender

    def send(self, issue: str) -> list[str]:
        with SmtpServer(RecordingHandler()) as smtp:
            result = run_cli(
                "send", issue, "--config", self.config, "--out", self.built, "--db", self.db,
                "--smtp-host", "127.0.0.1", "--smtp-port", smtp.port, "--smtp-security", "plain",
            )  # fmt: skip
            assert result.exit_code == 0, result.output
            for got in smtp.handler.received:
                self.sent[issue, got.rcpt_tos[0]] = got.data
                self.mail_from[issue, got.rcpt_tos[0]] = got.mail_from
            return [got.rcpt_tos[0] for got in smtp.handler.received]

    def bounces(self, *args: str):
        return run_cli("bounces", "--config", self.config, "--db", self.db, *args)

    def suppressed(self) -> dict[str, str]:
        return dict(query(self.db, "SELECT key, reason FROM suppressed ORDER BY key"))

    def decisions(self) -> list[tuple[str, ...]]:
        return query(self.db, "SELECT key, issue, kind, status, decision, report FROM bounces ORDER BY key, issue")

    def tables(self) -> tuple[list[tuple], ...]:
        return tuple(query(self.db, f"SELECT * FROM {t} ORDER BY 1, 2") for t in ("bounces", "suppressed"))


def write_config(folder: Path, imap: ImapServer, soft_limit: int = 3, soft_window: int = 5) -> Path:
    config = (ROOT / "publisher.toml").read_text(encoding="utf-8")
    config = re.sub(r"^\[bounces\]\n.*?(?=^\[|\Z)", "", config, flags=re.DOTALL | re.MULTILINE)
    config += f"""
[bounces]
return_path = "{RETURN_PATH}"
imap_host = "{imap.host}"
imap_port = {imap.port}
imap_security = "plain"
imap_user = "{imap.user}"
soft_limit = {soft_limit}
soft_window = {soft_window}
"""
    path = folder / "publisher.toml"
    path.write_text(config, encoding="utf-8")
    return path


@pytest.fixture
def project(
    tmp_path: Path, built: Path, mailbox: ImapServer, store_target: Path | str, monkeypatch: pytest.MonkeyPatch
) -> Project:
    monkeypatch.setenv("PUBLISHER_SECRET", SECRET)
    monkeypatch.setenv("PUBLISHER_IMAP_PASSWORD", IMAP_PASSWORD)
    monkeypatch.delenv("PUBLISHER_SMTP_PASSWORD", raising=False)
    db = store_target
    with Store(db) as store:
        for address in PEOPLE:
            store.add(Subscriber(address, address.split("@")[0].title()))
    return Project(tmp_path, write_config(tmp_path, mailbox), db, built, {}, {})


def deliver_the_four_reports(project: Project, imap: ImapServer, issue: str) -> None:
    def dsn(address: str, action: str, status: str, diagnostic: str, number: int) -> bytes:
        verp = project.mail_from[issue, address]
        original = project.sent[issue, address]
        return bounce_reports.dsn(
            to=verp,
            recipient=address,
            action=action,
            status=status,
            diagnostic=diagnostic,
            original=original,
            number=number,
        )

    imap.deliver(dsn("ann@example.com", "failed", "5.1.1", "550 5.1.1 <ann@example.com>: User unknown", 1))
    imap.deliver(dsn("bob@example.com", "failed", "4.2.2", "452 4.2.2 <bob@example.com>: Mailbox full", 2))
    imap.deliver(dsn("carl@example.com", "failed", "5.7.1", "550 5.7.1 Message rejected by local policy", 3))
    imap.deliver(bounce_reports.arf(to=COMPLAINTS_TO, original=project.sent[issue, "dan@example.com"], number=4))
    imap.deliver(bounce_reports.auto_reply(to=project.mail_from[issue, "fay@example.com"]))


def test_every_copy_leaves_with_its_own_return_path(project: Project):
    project.send(SECOND)
    senders = {address: sender for (_, address), sender in project.mail_from.items()}
    assert sorted(senders) == sorted(PEOPLE)
    assert len(set(senders.values())) == len(PEOPLE)  # one per subscriber
    for sender in senders.values():
        assert re.fullmatch(r"bounces\+20240725-[0-9a-f]{20}@example\.com", sender)
        assert len(sender.partition("@")[0]) <= 64  # RFC 5321's limit for a local part
    # The From the reader sees is still the list's.
    message = email.message_from_bytes(project.sent[SECOND, "ann@example.com"])
    assert "digest@example.com" in message["From"]


def test_hard_bounce_and_complaint_suppress_soft_ones_count_and_a_second_run_changes_nothing(
    project: Project, mailbox: ImapServer
):
    project.send(SECOND)
    deliver_the_four_reports(project, mailbox, SECOND)

    result = project.bounces()
    assert result.exit_code == 0, result.output
    assert sorted(project.suppressed()) == ["ann@example.com", "dan@example.com"]
    assert project.suppressed()["ann@example.com"] == "hard 5.1.1 (report <dsn-1@mx.example.net>)"
    assert project.suppressed()["dan@example.com"] == "complaint abuse (report <arf-4@mailbox-provider.example>)"
    assert project.decisions() == [
        ("ann@example.com", SECOND, "hard", "5.1.1", "suppressed", "<dsn-1@mx.example.net>"),
        ("bob@example.com", SECOND, "soft", "4.2.2", "counted", "<dsn-2@mx.example.net>"),
        ("carl@example.com", SECOND, "soft", "5.7.1", "counted", "<dsn-3@mx.example.net>"),
        ("dan@example.com", SECOND, "complaint", "abuse", "suppressed", "<arf-4@mailbox-provider.example>"),
    ]
    lines = result.output.splitlines()
    assert "ann@example.com: hard 5.1.1 on 2024-07-25 (by return path): suppressed" in result.output
    assert "dan@example.com: complaint abuse on 2024-07-25 (by Message-ID): suppressed" in result.output
    assert any(line.startswith("bob@example.com: soft 4.2.2") and "1 of the last 5 sends" in line for line in lines)
    assert (
        "5 messages read in INBOX: 2 suppressed, 2 counted, 0 ignored, 0 already recorded, 1 left in INBOX"
        in result.output
    )
    assert "neither a bounce nor a complaint" in result.output  # the out-of-office answer, on stderr
    # The reports moved; the out-of-office answer stayed for a person to read.
    assert [m for m in mailbox.messages("INBOX") if b"Out of office" in m] == mailbox.messages("INBOX")
    assert len(mailbox.messages("INBOX")) == 1
    assert len(mailbox.messages("Processed")) == 4

    before = project.tables()
    again = project.bounces()
    assert again.exit_code == 0, again.output
    assert (
        "1 messages read in INBOX: 0 suppressed, 0 counted, 0 ignored, 0 already recorded, 1 left in INBOX"
        in again.output
    )
    assert project.tables() == before  # nothing recorded twice, no timestamp touched
    assert len(mailbox.messages("Processed")) == 4

    # The loop is closed: the next send leaves the suppressed addresses out.
    assert sorted(project.send(FIRST)) == ["bob@example.com", "carl@example.com", "fay@example.com"]


def test_soft_bounces_suppress_after_the_limit_within_the_window(project: Project, mailbox: ImapServer):
    project.config = write_config(project.folder, mailbox, soft_limit=2, soft_window=3)
    full = "452 4.2.2 <bob@example.com>: Mailbox full"
    for number, issue in enumerate((FIRST, SECOND), start=1):
        project.send(issue)
        report = bounce_reports.dsn(
            to=project.mail_from[issue, "bob@example.com"], recipient="bob@example.com", action="failed",
            status="4.2.2", diagnostic=full, original=project.sent[issue, "bob@example.com"], number=number,
        )  # fmt: skip
        mailbox.deliver(report)
        mailbox.deliver(report)  # delivered twice (a retrying server): one report, counted once
        result = project.bounces()
        assert result.exit_code == 0, result.output
        assert "2 messages read in INBOX" in result.output and "1 already recorded" in result.output
        if issue == FIRST:
            assert "1 counted" in result.output and "1 of the last 3 sends bounced" in result.output
            assert project.suppressed() == {}
    assert [row[:5] for row in project.decisions()] == [
        ("bob@example.com", FIRST, "soft", "4.2.2", "counted"),
        ("bob@example.com", SECOND, "soft", "4.2.2", "suppressed"),
    ]
    assert "2 of the last 3 sends bounced (limit 2)" in result.output
    assert list(project.suppressed()) == ["bob@example.com"]


def test_a_dry_run_records_nothing_and_moves_nothing(project: Project, mailbox: ImapServer):
    project.send(SECOND)
    deliver_the_four_reports(project, mailbox, SECOND)
    result = project.bounces("--dry-run")
    assert result.exit_code == 0, result.output
    assert "2 suppressed, 2 counted" in result.output and "dry run: nothing recorded, nothing moved" in result.output
    assert project.suppressed() == {} and project.decisions() == []
    assert len(mailbox.messages("INBOX")) == 5 and mailbox.messages("Processed") == []


def test_a_bounce_from_a_server_without_dsn_is_read_by_flufl_bounce(project: Project, mailbox: ImapServer):
    project.send(SECOND)
    mailbox.deliver(
        bounce_reports.qmail(
            to="bounces@example.com",  # no VERP tag: a server that rewrote the envelope
            recipient="fay@example.com",
            original=project.sent[SECOND, "fay@example.com"],
        )
    )
    result = project.bounces()
    assert result.exit_code == 0, result.output
    assert "fay@example.com: hard (no status) on 2024-07-25 (by Message-ID): suppressed" in result.output
    assert list(project.suppressed()) == ["fay@example.com"]


def test_a_forged_return_path_names_nobody(project: Project, mailbox: ImapServer):
    project.send(SECOND)
    headers = project.sent[SECOND, "ann@example.com"]
    headers = re.sub(rb"Message-ID: <[^>]+>", b"Message-ID: <something-else@example.com>", headers)
    mailbox.deliver(
        bounce_reports.dsn(
            to="bounces+20240725-0123456789abcdef0123@example.com",  # the right shape, not our tag
            recipient="someone@example.org",
            action="failed",
            status="5.1.1",
            diagnostic="550 5.1.1 User unknown",
            original=headers,
            number=9,
        )
    )
    result = project.bounces()
    assert result.exit_code == 0, result.output
    assert "names nobody on the list" in result.output
    assert project.suppressed() == {} and project.decisions() == []
    assert len(mailbox.messages("INBOX")) == 1


def test_wrong_password_and_missing_settings_are_clear_errors(project: Project, mailbox: ImapServer, monkeypatch):
    monkeypatch.setenv("PUBLISHER_IMAP_PASSWORD", "wrong")
    result = project.bounces()
    assert result.exit_code == 1
    assert "refused the login" in result.output and "wrong" not in result.output
    assert "Traceback" not in result.output
    monkeypatch.delenv("PUBLISHER_IMAP_PASSWORD")
    result = project.bounces()
    assert result.exit_code == 1 and "PUBLISHER_IMAP_PASSWORD" in result.output
