"""Email headers: no line break from a digest, a tag or a subscriber's name ever starts a header,
and names with commas, quotes, Hangul or encoded-word lookalikes read back exactly as given.

Read with the standard library's parser (policy.default), as a mail client would.
"""

from __future__ import annotations

import email
import re
from email import policy
from email.header import decode_header, make_header
from pathlib import Path

import pytest

from publisher.config import load_config
from publisher.mailing.send import Job, load_issue, personal_copy
from publisher.mailing.subscribers import Subscriber
from publisher.render import words
from publisher.render.message import header_text

from .conftest import ROOT, run_cli

CONFIG = load_config(ROOT / "publisher.toml")
SECRET = "a-test-secret-for-headers-0123"
HEADERS = {
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "List-Id",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
    "MIME-Version",
    "Content-Type",
    "Content-Language",
}
# Tags and titles with every kind of line break a pasted text can hold (the reader splits on \n only).
DIGEST = (
    "2024-08-01\n"
    "Title\u2028Bcc: evil@example.com\u2029X-Evil: 1\x85Y: 2\rZ: 3\n"
    "(Author\u2028Bcc: evil@example.com)\n"
    "노트\n"
    '#수학 #a,b #"quoted" #=?utf-8?b?QmNjOiBldmls?= #\u202eevil #x' + "y" * 150 + "\n"
)
NAMES = [
    "Ann Reader",
    "김철수",
    'Kim, "Q" 김철수',
    "Doe, Jane",
    '"Quoted" O\'Brien',
    "back\\slash",
    "Evil\r\nBcc: victim@example.com",
    "Evil\nX-Injected: 1",
    "Evil\u2028Bcc: victim@example.com\x85Cc: x@example.com",
    "=?utf-8?b?QmNjOiBldmls?=",
    "Dr. Who (the) <who@example.com>",
    "가" * 120,
    "A" * 300,
    "\u202eevil",
    "",
]
TOPICS = [None, ("수학",), ("a,b", '"quoted"', "=?utf-8?b?QmNjOiBldmls?="), ("\u202eevil", "x" + "y" * 150)]


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("headers")
    (root / "seeds").mkdir()
    (root / "seeds" / "a.txt").write_text(DIGEST, encoding="utf-8")
    (root / "publisher.toml").write_bytes((ROOT / "publisher.toml").read_bytes())
    result = run_cli("build", "--config", root / "publisher.toml", "--out", root / "out")
    assert result.exit_code == 0, result.output
    return root / "out"


def read(data: bytes) -> email.message.EmailMessage:
    raw_headers = data.split(b"\r\n\r\n", 1)[0]
    for line in raw_headers.split(b"\r\n"):  # every physical line: a new header or a folded continuation
        assert line[:1] in (b" ", b"\t") or b":" in line, line
        assert line.isascii() and len(line) <= 998, line
    message = email.message_from_bytes(data, policy=policy.default)
    assert set(message.keys()) == HEADERS, set(message.keys()) ^ HEADERS
    assert not message.defects
    for name, value in message.items():
        assert "\n" not in str(value) and "\r" not in str(value), name
    return message


def to_as_written(data: bytes) -> tuple[str, str]:
    """The To header's (name, address), read by the letter of the RFCs: a quoted name unquoted
    (RFC 5322), encoded words decoded with the whitespace between them ignored (RFC 2047)."""
    raw = email.message_from_bytes(data, policy=policy.compat32)["To"].replace("\r\n", "")
    name, bracket, address = raw.rpartition("<")
    if not bracket:
        return "", raw.strip()
    name = name.strip()
    if name.startswith('"'):
        name = re.sub(r"\\(.)", r"\1", name[1:-1])
    elif name:
        name = str(make_header(decode_header(name)))
    return name, address.rstrip("> ")


def same_name(parsed: str, name: str) -> bool:
    """policy.default's address parser keeps the folding space between the encoded words of a long
    non-ASCII name (RFC 2047 says to drop it, as decode_header does); compare without spaces then."""
    return parsed == name or (not name.isascii() and parsed.replace(" ", "") == name.replace(" ", ""))


def test_the_built_eml_has_only_its_own_headers(out: Path):
    message = read((out / "email" / "2024-08-01.eml").read_bytes())
    assert message["Subject"] == words.email_subject(CONFIG.site.title, __import__("datetime").date(2024, 8, 1), 1)
    assert [(a.display_name, a.addr_spec) for a in message["To"].addresses] == [("", CONFIG.email.list_address)]
    text = message.get_body(("plain",)).get_content()
    assert "Title\u2028Bcc: evil@example.com\u2029X-Evil: 1Y: 2Z: 3" in text  # a body line, not a header


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("topics", TOPICS, ids=["all", "hangul", "quotes", "long"])
def test_personal_copies_name_the_reader_exactly_and_add_no_header(out: Path, name: str, topics):
    issue = load_issue(out, __import__("datetime").date(2024, 8, 1))
    subscriber = Subscriber("reader@example.org", name, ())
    data = personal_copy(issue, Job(subscriber, topics), SECRET)
    message = read(data)
    assert to_as_written(data) == (header_text(name), "reader@example.org")
    (to,) = message["To"].addresses
    assert to.addr_spec == "reader@example.org" and same_name(to.display_name, header_text(name))
    assert message["Subject"] == header_text(words.email_subject(CONFIG.site.title, issue.date, 1, topics or ()))
    (sender,) = message["From"].addresses
    assert (sender.display_name, sender.addr_spec) == (CONFIG.email.from_name, CONFIG.email.from_address)


def test_names_from_a_dirty_csv_reach_the_sent_messages_safely(out: Path, tmp_path: Path, monkeypatch):
    """End to end: a spreadsheet's quoted fields may hold line breaks; `send --dry-run` writes what would go out."""
    rows = [
        "email,name,tags",
        'one@example.org,"Evil\r\nBcc: victim@example.com",',
        'two@example.org,"Kim, ""Q"" 김철수",#수학',
        "three@example.org,=?utf-8?b?QmNjOiBldmls?=,",
        f"four@example.org,{'가' * 80},",
    ]
    (tmp_path / "people.csv").write_text("\r\n".join(rows) + "\r\n", encoding="utf-8")
    config, db = ROOT / "publisher.toml", tmp_path / "subscribers.db"
    result = run_cli("subscribers", "import", tmp_path / "people.csv", "--config", config, "--db", db)
    assert result.exit_code == 0, result.output
    monkeypatch.setenv("PUBLISHER_SECRET", SECRET)
    preview = tmp_path / "preview"
    result = run_cli("send", "2024-08-01", "--config", config, "--out", out, "--db", db, "--dry-run", preview)
    assert result.exit_code == 0, result.output
    seen = set()
    for path in sorted(preview.glob("*.eml")):
        read(path.read_bytes())
        seen.add(to_as_written(path.read_bytes()))
    assert seen == {
        ("Evil Bcc: victim@example.com", "one@example.org"),
        ('Kim, "Q" 김철수', "two@example.org"),
        ("=?utf-8?b?QmNjOiBldmls?=", "three@example.org"),
        ("가" * 80, "four@example.org"),
    }
