"""The store on both engines: choosing it, the versioned schema and `publisher db upgrade`, a password
that never shows, `subscribers export`/`import` moving a list between engines, and `forget`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from publisher.errors import SendError
from publisher.mailing import signups
from publisher.mailing.database import choose, connect, parse_target, shown
from publisher.mailing.ledger import Ledger
from publisher.mailing.schema import SCHEMA_VERSION, upgrade
from publisher.mailing.subscribers import FORGOTTEN, BounceRecord, Store, Subscriber, hashed_key

from .conftest import ROOT, query, run_cli

LATER = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)


def cli(*args: object, db: Path | str):
    return run_cli(*args, "--config", ROOT / "publisher.toml", "--db", db)


def test_the_store_is_chosen_by_option_environment_config_then_path(tmp_path: Path):
    url = "postgresql://mailer:s3cret@db.example.org:5432/list"
    path = Path("publisher.db")
    assert choose(None, "", path, {}) == path
    assert choose(None, url, path, {}) == url
    assert choose(None, url, path, {"PUBLISHER_DATABASE_URL": "postgres://other/x"}) == "postgres://other/x"
    assert choose(Path("mine.db"), url, path, {"PUBLISHER_DATABASE_URL": url}) == Path("mine.db")
    assert parse_target("postgresql://h/d") == "postgresql://h/d" and parse_target("a.db") == Path("a.db")
    assert shown(url) == "postgresql://mailer:***@db.example.org:5432/list"
    bad = run_cli("subscribers", "list", "--config", _config(tmp_path, 'database = "mysql://x/y"'))
    assert bad.exit_code == 1 and "list.database: must be a postgresql:// URL" in bad.stderr


def _config(folder: Path, line: str) -> Path:
    config = folder.resolve() / "list-database.toml"
    config.write_text(f"[list]\n{line}\n", encoding="utf-8")
    return config


def test_a_password_in_the_url_is_never_printed(postgres, tmp_path: Path):
    wrong = postgres.url().replace(postgres.password, "not-the-Pa55word")
    result = cli("subscribers", "list", db=wrong)
    assert result.exit_code == 1
    assert "not-the-Pa55word" not in result.output
    assert "publisher:***@127.0.0.1" in result.stderr and "password authentication failed" in result.stderr
    good = postgres.fresh()
    assert postgres.password in good
    upgraded = cli("db", "upgrade", db=good)
    assert upgraded.exit_code == 0, upgraded.output
    assert postgres.password not in upgraded.output and "publisher:***@" in upgraded.stdout
    config = _config(tmp_path, f'database = "{postgres.url()}"')  # from the config file: the same
    listed = run_cli("subscribers", "list", "--config", config)
    assert listed.exit_code == 0 and postgres.password not in listed.output


def test_db_upgrade_brings_an_old_store_up_in_place_without_losing_a_row(store_target: Path | str):
    connection = connect(store_target)
    try:
        assert upgrade(connection, to=1) == (0, 1)  # the store as publisher made it before the list endpoint
        connection.execute(
            "INSERT INTO subscribers (key, address, name, tags, added) VALUES (?, ?, ?, ?, ?)",
            ("ann@example.com", "Ann@example.com", "Ann", "math", "then"),
        )
        connection.execute("INSERT INTO suppressed (key, reason, at) VALUES ('bob@example.com', 'asked', 'then')")
        connection.execute(
            "INSERT INTO ledger (issue, key, address, state, reply, attempts, created, updated)"
            " VALUES ('2024-07-25', 'ann@example.com', 'Ann@example.com', 'sent', '250 OK', 1, 'then', 'then'),"
            " ('2024-07-25', 'bob@example.com', 'bob@example.com', 'pending', '', 1, 'then', 'then')"
        )
    finally:
        connection.close()
    first = cli("db", "upgrade", db=store_target)
    assert first.exit_code == 0, first.output
    assert first.stdout.endswith(f": schema 1 → {SCHEMA_VERSION}\n")
    assert cli("db", "upgrade", db=store_target).stdout.endswith(f": schema {SCHEMA_VERSION}, up to date\n")
    assert query(store_target, "SELECT key, address, name, tags, added, paused FROM subscribers") == [
        ("ann@example.com", "Ann@example.com", "Ann", "math", "then", 0)
    ]
    assert query(store_target, "SELECT key, reason FROM suppressed") == [("bob@example.com", "asked")]
    # Schema 3: a schema-1 `pending` row is the claim of a run long gone (`sending`, no run): still pending.
    assert query(store_target, "SELECT key, state, reply, run FROM ledger ORDER BY key") == [
        ("ann@example.com", "sent", "250 OK", ""),
        ("bob@example.com", "sending", "", ""),
    ]
    with Ledger(store_target) as ledger:
        assert not ledger.records("2024-07-25")["bob@example.com"].live
    with Store(store_target) as store:  # the endpoint's tables are there and work
        assert signups.request(store, "cat@example.com", signups.Consent((), "", ""), LATER) == "new"


def test_a_store_from_a_newer_publisher_is_refused_untouched(store_target: Path | str):
    Store(store_target).close()
    connection = connect(store_target)
    try:
        connection.set_schema_version(SCHEMA_VERSION + 1)
    finally:
        connection.close()
    with pytest.raises(SendError, match=f"made by a newer publisher \\(schema {SCHEMA_VERSION + 1}\\)"):
        Store(store_target)
    refused = cli("db", "upgrade", db=store_target)
    assert refused.exit_code == 1 and "made by a newer publisher" in refused.stderr
    assert query(store_target, "SELECT count(*) FROM subscribers") == [(0,)]


def test_send_refuses_a_postgresql_database_without_a_store(postgres, built: Path, monkeypatch):
    monkeypatch.setenv("PUBLISHER_SECRET", "a-test-secret-0123456789")
    empty = postgres.fresh()
    result = run_cli("send", "2024-07-25", "--out", built, "--db", empty, "--dry-run", built.parent / "preview")
    assert result.exit_code == 1 and "no subscriber database here: add subscribers first" in result.stderr
    assert query(empty, "SELECT to_regclass('subscribers') IS NULL") == [(True,)]  # and made none


def _fill(target: Path | str) -> None:
    """A list with one of everything an export must carry."""
    with Store(target) as store:
        store.add(Subscriber("Ann@example.com", 'Ann, "the" writer', ("math", "rlhf")))
        consent = signups.Consent(("video-text",), "https://example.com/subscribe/", "ab12cd")
        signups.request(store, "cat@example.com", consent, LATER)
        signups.confirm(store, "cat@example.com")
        signups.save_preferences(store, "cat@example.com", ("video-text",), paused=True)
        store.add(Subscriber("eve@example.com", "Eve"))
        store.unsubscribe("eve@example.com")
        store.unsubscribe("gone@example.com")  # suppressed, never a subscriber
        store.add(Subscriber("fay@example.com", "Fay"))
        store.forget("fay@example.com")


def test_export_and_import_move_a_list_between_engines_as_it_is(postgres, tmp_path: Path):
    sqlite, pg, back = tmp_path / "first.db", postgres.fresh(), tmp_path / "back.db"
    _fill(sqlite)
    exported = cli("subscribers", "export", tmp_path / "list.csv", db=sqlite)
    assert exported.exit_code == 0, exported.output
    text = (tmp_path / "list.csv").read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[0] == (
        "email,name,tags,paused,added,suppressed,suppressed_at,"
        "consent_tags,consent_page,consent_ip_hash,consent_requested,consent_confirmed"
    )
    assert [line.split(",")[0] for line in lines[1:]] == [
        "Ann@example.com",
        "cat@example.com",
        "eve@example.com",
        "gone@example.com",
        hashed_key("fay@example.com"),
    ]
    assert "fay" not in text.replace(hashed_key("fay@example.com"), "")
    imported = cli("subscribers", "import", tmp_path / "list.csv", db=pg)
    assert imported.exit_code == 0, imported.output
    assert imported.stdout == (
        "2 added, 0 updated, 0 unchanged, 1 unsubscribed (left out), 0 invalid (skipped), 3 suppressions added\n"
    )
    again = cli("subscribers", "import", tmp_path / "list.csv", db=pg)
    assert again.stdout.startswith("0 added, 0 updated, 2 unchanged, 1 unsubscribed")
    assert cli("subscribers", "export", db=pg).stdout == text  # PostgreSQL holds the same list
    assert cli("subscribers", "import", tmp_path / "list.csv", db=back).exit_code == 0
    assert cli("subscribers", "export", db=back).stdout == text  # and back again
    with Store(pg) as store:
        assert [s.address for s in store.subscribers() if s.paused] == ["cat@example.com"]
        assert store.is_suppressed("FAY@example.com") and store.is_suppressed("eve@example.com")


def test_forget_erases_a_person_and_a_later_import_cannot_mail_them(store_target: Path | str, tmp_path: Path):
    with Store(store_target) as store:
        signups.request(store, "fay@example.com", signups.Consent(("math",), "p", "h"), LATER)
        signups.confirm(store, "fay@example.com")
        store.connection.execute(
            "INSERT INTO ledger (issue, key, address, state, reply, attempts, created, updated)"
            " VALUES ('2024-07-25', 'fay@example.com', 'fay@example.com', 'sent', '250', 1, 't', 't')"
        )
        # What `publisher bounces` decided about her: the server's diagnostic names her too.
        detail = "452 4.2.2 <fay@example.com>: Mailbox full"
        bounce = BounceRecord("<dsn-1@mx.example>", "fay@example.com", "2024-07-25", "soft", "4.2.2", detail, "counted")
        assert store.record_bounce(bounce)
    result = cli("subscribers", "forget", "Fay@Example.com", db=store_target)
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "Fay@example.com: forgotten (1 subscribers, 1 consents, 1 ledger, 1 bounces);"
        " a hash of it stays on the suppression list\n"
    )
    tables = ("subscribers", "pending", "consents", "ledger", "bounces", "suppressed")
    everything = repr([query(store_target, f"SELECT * FROM {table}") for table in tables])
    assert "fay" not in everything.replace(hashed_key("fay@example.com"), "").lower()
    assert query(store_target, "SELECT key, reason FROM suppressed") == [(hashed_key("fay@example.com"), FORGOTTEN)]
    (tmp_path / "again.csv").write_text("email,name,tags\nFAY@example.com,Fay,\n", encoding="utf-8")
    reimported = cli("subscribers", "import", tmp_path / "again.csv", db=store_target)
    assert reimported.stdout.startswith("0 added, 0 updated, 0 unchanged, 1 unsubscribed (left out)")
    refused = cli("subscribers", "add", "fay@example.com", db=store_target)
    assert refused.exit_code == 1 and "--resubscribe" in refused.stderr
    with Store(store_target) as store:
        assert signups.request(store, "fay@example.com", signups.Consent((), "", ""), LATER) == "suppressed"
        assert store.subscribers() == []
    nobody = cli("subscribers", "forget", "nobody@example.com", db=store_target)
    assert "nothing stored" in nobody.stdout
