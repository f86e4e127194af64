"""The list's store side (publisher/mailing/signups.py), the schema upgrade, pauses in `send`,
the subscribe page with and without an endpoint, and whose IP the rate limits count."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
from pathlib import Path

from publisher.config import Config, MailingList
from publisher.digests.catalog import make_catalog
from publisher.digests.parse import parse_sources
from publisher.digests.sources import read_sources
from publisher.mailing import signups
from publisher.mailing.endpoint.app import create_app
from publisher.mailing.endpoint.context import Settings
from publisher.mailing.send import load_issue, plan
from publisher.mailing.subscribers import SCHEMA_VERSION, Store, Subscriber
from publisher.mailing.transport import SmtpSettings

from .conftest import SEEDS

LATER = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)


def test_a_schema_1_database_is_upgraded_in_place(tmp_path: Path):
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as connection:  # what publisher wrote before the list endpoint
        connection.executescript(
            "CREATE TABLE subscribers (key TEXT PRIMARY KEY, address TEXT NOT NULL, name TEXT NOT NULL DEFAULT '',"
            " tags TEXT NOT NULL DEFAULT '', added TEXT NOT NULL) WITHOUT ROWID;"
            "CREATE TABLE suppressed (key TEXT PRIMARY KEY, reason TEXT NOT NULL, at TEXT NOT NULL) WITHOUT ROWID;"
            "INSERT INTO subscribers VALUES ('ann@example.com', 'ann@example.com', 'Ann', 'math', 'then');"
            "PRAGMA user_version = 1;"
        )
    with Store(path) as store:
        assert store.subscribers() == [Subscriber("ann@example.com", "Ann", ("math",))]
        assert signups.request(store, "bob@example.com", signups.Consent((), "", ""), LATER) == "new"
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4


def test_sign_up_confirm_pause_leave_and_undo(store_target: Path | str):
    with Store(store_target) as store:
        consent = signups.Consent(("math", "rlhf"), "https://example.com/subscribe/", "ab12")
        assert signups.request(store, "Ann@Example.com", consent, LATER) == "new"
        assert signups.state(store, "ann@example.com") == "pending"
        assert store.subscribers() == []  # kept apart until confirmed
        assert signups.confirm(store, "ann@example.com") == ("confirmed", ("math", "rlhf"))
        assert store.subscribers() == [Subscriber("Ann@Example.com", "", ("math", "rlhf"))]
        evidence = store.connection.execute("SELECT key, tags, page, ip_hash FROM consents").fetchall()
        assert evidence == [("ann@example.com", "math rlhf", "https://example.com/subscribe/", "ab12")]
        assert signups.confirm(store, "ann@example.com")[0] == "already"
        assert signups.save_preferences(store, "ann@example.com", ("math",), paused=True)
        assert store.subscribers()[0].paused
        assert signups.leave(store, "ann@example.com")
        assert signups.preferences(store, "ann@example.com") is None
        assert signups.undo_leave(store, "ann@example.com")
        # A suppression the writer made is not the reader's to undo, and the form never lifts it.
        store.unsubscribe("bob@example.com")
        assert not signups.undo_leave(store, "bob@example.com")
        assert signups.request(store, "bob@example.com", consent, LATER) == "suppressed"
        assert signups.state(store, "bob@example.com") == "suppressed"
        assert store.connection.execute("SELECT count(*) FROM pending").fetchone() == (0,)


def test_a_paused_subscriber_gets_no_copy(built: Path):
    issue = load_issue(built, dt.date(2024, 7, 25))
    people = [Subscriber("a@example.com"), Subscriber("b@example.com", paused=True)]
    jobs, decided = plan(issue, people, set(), {})
    assert [j.subscriber.address for j in jobs] == ["a@example.com"]
    assert [(o.address, o.status) for o in decided] == [("b@example.com", "paused")]


def _pages(config: Config) -> dict[str, bytes]:
    from publisher.render.archive import render_site
    from publisher.render.context import Context
    from publisher.render.templating import load_theme

    catalog = make_catalog(parse_sources(read_sources(SEEDS))[0])
    return {output.relpath: output.data for output in render_site(catalog, Context(config, load_theme()))}


def test_the_subscribe_page_has_a_form_only_with_an_endpoint():
    without = _pages(Config())["subscribe/index.html"].decode()
    assert "<form" not in without and "feed.xml" in without
    config = dataclasses.replace(Config(), list=MailingList(endpoint="https://list.example.com"))
    pages = _pages(config)
    page = pages["subscribe/index.html"].decode()
    assert 'action="https://list.example.com/subscribe"' in page
    assert 'name="everything" value="1" checked' in page and 'name="website"' in page
    assert page.index('value="alignment"') < page.index('value="math"') < page.index('value="video-text"')
    for path in ("index.html", "tags/index.html", "issues/2024-07-25/index.html"):
        if path in pages:
            assert "subscribe/index.html" in pages[path].decode(), path


def _client(tmp_path: Path, database: Path | str, proxies: int):
    config = dataclasses.replace(
        Config(),
        list=MailingList(endpoint="http://127.0.0.1:9", signups_per_ip=2, trusted_proxies=proxies),
    ).with_paths(out=tmp_path / "out")
    settings = Settings(config, "secret", SmtpSettings("127.0.0.1", 9, "plain", timeout=1), database)
    return create_app(settings=settings).test_client()


def test_x_forwarded_for_counts_only_behind_a_trusted_proxy(tmp_path: Path, store_target: Path | str):
    def statuses(client) -> list[int]:
        return [
            client.post(
                "/subscribe",
                data={"email": f"p{n}@example.com", "everything": "1"},
                headers={"X-Forwarded-For": f"192.0.2.{n}"},
            ).status_code
            for n in range(4)
        ]

    assert statuses(_client(tmp_path, store_target, proxies=0)) == [200, 200, 429, 429]  # one client, whatever
    assert statuses(_client(tmp_path, store_target, proxies=1)) == [200, 200, 200, 200]  # four, as the proxy says
