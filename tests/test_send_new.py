"""`publisher send --new` (what CI runs after deploying): every built issue from `list.send_from` on that no
send has finished, once; nothing older; nothing twice when the workflow runs again; and a refusal that
says why when `send_from` is not set. Sent to a real SMTP server (aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from publisher.mailing.subscribers import Store, Subscriber

from .conftest import ROOT, run_cli
from .smtp_server import RecordingHandler, SmtpServer

SECRET = "a-test-secret-0123456789"
ISSUES = ("2024-02-06", "2024-02-13", "2024-06-10", "2024-06-21", "2024-07-25")  # what the seeds build


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUBLISHER_SECRET", SECRET)
    monkeypatch.delenv("PUBLISHER_SMTP_PASSWORD", raising=False)


def config(folder: Path, send_from: str | None) -> Path:
    text = (ROOT / "publisher.toml").read_text(encoding="utf-8")
    text = re.sub(r'^send_from = ""', f'send_from = "{send_from}"' if send_from else "", text, flags=re.MULTILINE)
    path = folder / "publisher.toml"
    path.write_text(text, encoding="utf-8")
    return path


def database(target: Path | str, *people: str) -> Path | str:
    """The store (a SQLite file or a PostgreSQL URL: `store_target`) with these subscribers."""
    path = target / "publisher.db" if isinstance(target, Path) and target.is_dir() else target
    with Store(path) as store:
        for address in people:
            store.add(Subscriber(address))
    return path


def send(config_path: Path, built: Path, db: Path | str | None, *args: str) -> tuple[object, Counter[tuple[str, str]]]:
    """Run `publisher send …` against a fresh SMTP server; the result and (issue, recipient) counts.
    Without `db`, the store is the one $PUBLISHER_DATABASE_URL names (as in CI)."""
    with SmtpServer(RecordingHandler()) as smtp:
        result = run_cli(
            "send", *args, "--config", config_path, "--out", built, *(("--db", db) if db is not None else ()),
            "--smtp-host", "127.0.0.1", "--smtp-port", smtp.port, "--smtp-security", "plain",
        )  # fmt: skip
        got = Counter(
            (m.message()["Message-ID"].split(".")[0].removeprefix("<issue-"), m.rcpt_tos[0])
            for m in smtp.handler.received
        )
    return result, got


def test_without_send_from_it_refuses_and_says_why(tmp_path: Path, built: Path):
    result, got = send(config(tmp_path, None), built, database(tmp_path, "ann@example.com"), "--new")
    assert result.exit_code == 1
    assert "[list] send_from" in result.output and "every issue ever built" in result.output
    assert "Traceback" not in result.output
    assert not got


def test_a_date_or_new_not_both(tmp_path: Path, built: Path):
    result, _ = send(config(tmp_path, "2024-06-21"), built, database(tmp_path), "2024-07-25", "--new")
    assert result.exit_code == 2 and "give a DATE (YYYY-MM-DD) or --new, not both" in result.output


def test_it_sends_each_new_issue_once_and_a_rerun_sends_nothing(
    tmp_path: Path, built: Path, store_target, monkeypatch: pytest.MonkeyPatch
):
    path, db = config(tmp_path, "2024-06-12"), database(store_target, "ann@example.com", "bob@example.com")
    monkeypatch.setenv("PUBLISHER_DATABASE_URL", str(db))  # the store CI names, as the workflow does
    result, got = send(path, built, None, "--new")
    assert result.exit_code == 0, result.output
    assert got == Counter(
        {(day, who): 1 for day in ("2024-06-21", "2024-07-25") for who in ("ann@example.com", "bob@example.com")}
    )
    assert result.output.index("2024-06-21: 2 sent") < result.output.index("2024-07-25: 2 sent")  # oldest first

    # The workflow runs again (a re-run, or the next push with no new digest): nothing is sent.
    again, got = send(path, built, db, "--new")
    assert again.exit_code == 0, again.output
    assert not got and "no new issue to send" in again.output

    # A reader who joins later gets the next issue, not the ones the list already sent.
    with Store(db) as store:
        store.add(Subscriber("carl@example.com"))
    later, got = send(path, built, db, "--new")
    assert later.exit_code == 0 and not got


def test_an_issue_sent_by_hand_or_only_previewed(tmp_path: Path, built: Path, store_target):
    path, db = config(tmp_path, "2024-06-12"), database(store_target, "ann@example.com")
    preview, got = send(path, built, db, "2024-07-25", "--dry-run", str(tmp_path / "preview"))
    assert preview.exit_code == 0 and not got
    by_hand, got = send(path, built, db, "2024-06-21")
    assert by_hand.exit_code == 0 and got == Counter({("2024-06-21", "ann@example.com"): 1})
    # A dry run finishes nothing; a send by hand finishes its issue.
    result, got = send(path, built, db, "--new")
    assert result.exit_code == 0, result.output
    assert got == Counter({("2024-07-25", "ann@example.com"): 1})


def test_send_from_must_be_a_date(tmp_path: Path, built: Path):
    path = config(tmp_path, "July 2024")
    result = run_cli("send", "--new", "--config", path, "--out", built, "--db", database(tmp_path))
    assert result.exit_code == 1
    assert re.search(r"publisher\.toml:\d+: list\.send_from: must be a date such as 2024-07-25", result.output)
