"""The subscriber store: addresses, tags, CSV import (all or nothing), suppression, tokens, the CLI."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from publisher.digests.parse import parse_sources
from publisher.digests.sources import Source
from publisher.errors import SendError
from publisher.mailing.subscribers import (
    SCHEMA_VERSION,
    Store,
    Subscriber,
    address_key,
    import_csv,
    normalise_address,
    parse_tags,
)

from .conftest import run_cli


def write_csv(folder: Path, text: str, name: str = "people.csv") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def store(tmp_path: Path):
    with Store(tmp_path / "subscribers.db") as opened:
        yield opened


def test_addresses_are_normalised_and_compared_without_case():
    assert normalise_address("  Ann.Lee@EXAMPLE.com ") == "Ann.Lee@example.com"
    assert address_key("Ann.Lee@example.com") == address_key("ann.lee@EXAMPLE.COM")
    for bad in ("ann", "ann@", "@example.com", "ann@@example.com", "ann lee@example.com"):
        with pytest.raises(ValueError, match="not a valid e-mail address"):
            normalise_address(bad)


def test_only_addresses_a_message_can_carry_are_accepted():
    """Messages are 7-bit: an internationalised domain is kept in its xn-- form, and a name before
    the @ that is not ASCII is refused at import, not at every send."""
    assert normalise_address("ann@bücher.de") == "ann@xn--bcher-kva.de"
    with pytest.raises(ValueError, match="not a valid e-mail address"):
        normalise_address("jörg@example.com")


def test_tags_become_the_slugs_the_digests_use(tmp_path: Path):
    digest_text = "2024년 7월 25일\nA title\n(Someone)\n노트.\n#RLHF #Math #수학\n"
    [digest], _ = parse_sources([Source("d.txt", digest_text.encode())])
    assert parse_tags("#rlhf math #수학 #RLHF") == tuple(sorted(tag.slug for tag in digest.tags))
    with pytest.raises(ValueError, match="not a tag"):
        parse_tags("#")


def test_the_database_is_versioned_and_refuses_a_newer_one(tmp_path: Path):
    path = tmp_path / "db.sqlite"
    Store(path).close()
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(SendError, match="made by a newer publisher"):
        Store(path)
    (tmp_path / "junk.db").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(SendError, match=r"junk\.db: not a usable subscriber database"):
        Store(tmp_path / "junk.db")


def test_import_is_all_or_nothing_with_file_line_reasons(store: Store, tmp_path: Path):
    path = write_csv(
        tmp_path,
        'email,name,tags\nann@example.com,Ann,\n"bob@",Bob,\n'
        '"carl@example.com","Carl\nsecond line",#math\nann@EXAMPLE.com,Ann again,\ndan@example.com,Dan,#,\n',
    )
    with pytest.raises(SendError) as caught:
        import_csv(store, path)
    assert [str(d) for d in caught.value.diagnostics] == [
        f"{path}:3: not a valid e-mail address 'bob@': There must be something after the @-sign.",
        f"{path}:6: ann@example.com is already on line 2",
        f"{path}:7: 4 fields, but the header names 3",
        f"{path}: nothing imported (--skip-invalid leaves bad rows out)",
    ]
    assert store.subscribers() == []
    report = import_csv(store, path, skip_invalid=True)
    assert (report.added, len(report.skipped)) == (2, 3)
    assert store.subscribers() == [
        Subscriber("ann@example.com", "Ann", ()),
        Subscriber("carl@example.com", "Carl\nsecond line", ("math",)),
    ]


def test_reimport_changes_nothing_and_never_resubscribes(store: Store, tmp_path: Path):
    path = write_csv(tmp_path, "\ufeffEmail,Name,Tags\nann@example.com,Ann,#rlhf #math\nbob@example.com,,\n")
    first = import_csv(store, path)
    before = store.subscribers()
    again = import_csv(store, path)
    assert (first.added, again.added, again.updated, again.unchanged) == (2, 0, 0, 2)
    assert (
        store.subscribers()
        == before
        == [
            Subscriber("ann@example.com", "Ann", ("math", "rlhf")),
            Subscriber("bob@example.com", "", ()),
        ]
    )
    assert store.unsubscribe("BOB@example.com")
    assert not store.unsubscribe("bob@example.com")  # already there
    after = import_csv(store, path)
    assert (after.suppressed, after.unchanged) == (1, 1)
    assert store.suppressed() == {"bob@example.com"}
    with pytest.raises(SendError, match="--resubscribe"):
        store.add(Subscriber("Bob@example.com"))
    assert store.add(Subscriber("bob@example.com", "Bob"), resubscribe=True)
    assert store.suppressed() == set()


def test_a_bad_header_or_file_is_one_clear_error(store: Store, tmp_path: Path):
    with pytest.raises(SendError, match=r"people\.csv:1: the header must name the columns email,name,tags"):
        import_csv(store, write_csv(tmp_path, "mail,name\nann@example.com,Ann\n"))
    with pytest.raises(SendError, match="file not found"):
        import_csv(store, tmp_path / "missing.csv")
    (tmp_path / "latin.csv").write_bytes("email,name\nann@example.com,Jos\xe9\n".encode("latin-1"))
    with pytest.raises(SendError, match="not UTF-8"):
        import_csv(store, tmp_path / "latin.csv")


def test_the_subscriber_commands(tmp_path: Path):
    db = tmp_path / "people.db"
    path = write_csv(tmp_path, "email,name,tags\nann@example.com,Ann,#math\nbob@@x,Bob,\n")
    result = run_cli("subscribers", "import", path, "--db", db)
    assert result.exit_code == 1
    assert f"{path}:3: not a valid e-mail address" in result.stderr
    result = run_cli("subscribers", "import", path, "--db", db, "--skip-invalid")
    assert result.exit_code == 0
    assert result.stdout == "1 added, 0 updated, 0 unchanged, 0 unsubscribed (left out), 1 invalid (skipped)\n"
    added = run_cli("subscribers", "add", "Carl@EXAMPLE.com", "--name", "Carl", "--tag", "#RLHF", "--db", db)
    assert added.stdout == "Carl@example.com: saved\n"
    assert run_cli("unsubscribe", "ann@example.com", "--db", db).stdout == "ann@example.com: unsubscribed\n"
    listed = run_cli("subscribers", "list", "--db", db)
    assert listed.stdout == "ann@example.com\tAnn\t#math\tunsubscribed\nCarl@example.com\tCarl\t#rlhf\n"
    assert run_cli("subscribers", "remove", "carl@example.com", "--db", db).stdout == "carl@example.com: removed\n"
    missing = run_cli("subscribers", "remove", "CARL@example.com", "--db", db)
    assert (missing.exit_code, missing.stderr) == (1, "publisher: CARL@example.com is not a subscriber\n")
    bad = run_cli("subscribers", "add", "not-an-address", "--db", db)
    assert bad.exit_code == 1 and "not a valid e-mail address 'not-an-address'" in bad.stderr
