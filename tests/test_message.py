"""publisher/message.py: MIME composition, read back with the standard library's parser."""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
import re
import zoneinfo
from email import policy
from email.header import decode_header, make_header

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from publisher.render import message, words
from publisher.render.message import Envelope

SEOUL = zoneinfo.ZoneInfo("Asia/Seoul")
LONG_URL = "https://example.com/unsubscribe/?token=" + "a1b2c3d4" * 12 + "&list=digest"

ENVELOPE = Envelope(
    from_name="AI 논문 노트",
    from_address="digest@example.com",
    to="reader@example.org",
    subject="[AI 논문 노트] 2024년 7월 25일 · 논문 노트 6편",
    date=dt.datetime(2024, 7, 25, 7, 0, tzinfo=SEOUL),
    message_id="<issue-2024-07-25@example.com>",
    list_id="AI 논문 노트 <digest.example.com>",
    unsubscribe_mailto="mailto:unsubscribe@example.com",
    unsubscribe_url=LONG_URL,
)
TEXT = "안녕하세요.\n" + "아주 긴 줄 " * 400 + "\n"  # a line far past 998 bytes
HTML = "<!DOCTYPE html><html><body><p>" + "한국어 " * 600 + "</p></body></html>\n"


def parse(data: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(data, policy=policy.default)


def parse_compat(data: bytes) -> email.message.Message:
    """The raw header values, before any decoding."""
    return email.message_from_bytes(data, policy=policy.compat32)


def compose(envelope: Envelope = ENVELOPE, text: str = TEXT, html: str = HTML) -> bytes:
    return message.compose(envelope, text, html)


def test_structure_text_first_html_last_both_utf8_base64() -> None:
    parsed = parse(compose())
    assert parsed.get_content_type() == "multipart/alternative"
    parts = list(parsed.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    for part in parts:
        assert part.get_content_charset() == "utf-8"
        assert part["Content-Transfer-Encoding"] == "base64"
        assert part["MIME-Version"] is None
    assert parts[0].get_content().replace("\r\n", "\n") == TEXT
    assert parts[1].get_content().replace("\r\n", "\n") == HTML
    assert parsed.get_body(("html",)) is parts[1]


HEADERS = """\
From: =?utf-8?b?QUkg64W866y4IOuFuO2KuA==?= <digest@example.com>
To: reader@example.org
Subject: =?utf-8?b?W0FJIOuFvOusuCDrhbjtirhdIDIwMjTrhYQgN+yblCAyNeydvCDCtyA=?=
 =?utf-8?b?64W866y4IOuFuO2KuCA27Y64?=
Date: Thu, 25 Jul 2024 07:00:00 +0900
Message-ID: <issue-2024-07-25@example.com>
List-Id: =?utf-8?b?QUkg64W866y4IOuFuO2KuA==?= <digest.example.com>
List-Unsubscribe: <mailto:unsubscribe@example.com>,
 <{url}>
List-Unsubscribe-Post: List-Unsubscribe=One-Click
MIME-Version: 1.0
Content-Type: multipart/alternative;
 boundary="=_publisher_{boundary}"
Content-Language: ko
"""


def test_header_block_is_pinned() -> None:
    """The exact wire form: every issue's .eml and every personal copy depend on it."""
    head = compose().split(b"\r\n\r\n", 1)[0].decode("ascii") + "\r\n"
    boundary = parse(compose()).get_boundary().removeprefix("=_publisher_")
    assert head == HEADERS.format(url=LONG_URL, boundary=boundary).replace("\n", "\r\n")


@pytest.mark.parametrize(
    "body",
    ["", "x", "한 줄", "끝에 줄바꿈\n", "a\r\nb\rc\n\nd", "긴 줄 " * 700, TEXT],
    ids=["empty", "one-character", "korean", "newline-at-end", "mixed-line-ends", "long-line", "long-text"],
)
def test_parts_are_what_the_standard_library_writes(body: str) -> None:
    """Each part is written directly; byte for byte what the standard library's own MIME classes write."""
    assert_parts_as_the_standard_library_writes(body)


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=400))
@settings(max_examples=150, deadline=None)
def test_parts_of_any_text_are_what_the_standard_library_writes(body: str) -> None:
    """Any length: the base64 lines break every 57 bytes wherever the text ends."""
    assert_parts_as_the_standard_library_writes(body)


def assert_parts_as_the_standard_library_writes(body: str) -> None:
    expected = []
    for subtype in ("plain", "html"):
        part = email.message.EmailMessage(policy=policy.default.clone(linesep="\r\n"))
        part.set_content(body, subtype=subtype, charset="utf-8", cte="base64")
        del part["MIME-Version"]
        expected.append(part.as_bytes())
    raw = compose(text=body, html=body)
    boundary = parse(raw).get_boundary().encode()
    body_parts = raw.split(b"--" + boundary)[1:-1]
    assert [piece.removeprefix(b"\r\n").removesuffix(b"\r\n") for piece in body_parts] == expected


def test_headers_read_back_exactly() -> None:
    parsed = parse(compose())
    assert parsed["Subject"] == ENVELOPE.subject
    assert parsed["From"].addresses[0].display_name == "AI 논문 노트"
    assert parsed["From"].addresses[0].addr_spec == "digest@example.com"
    assert parsed["To"] == "reader@example.org"
    assert parsed["Date"].datetime == ENVELOPE.date
    assert parsed["Message-ID"] == "<issue-2024-07-25@example.com>"
    assert parsed["List-Id"] == "AI 논문 노트 <digest.example.com>"
    assert parsed["List-Unsubscribe"] == f"<mailto:unsubscribe@example.com>, <{LONG_URL}>"
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert parsed["MIME-Version"] == "1.0"
    assert parsed["Content-Language"] == "ko"


def test_list_unsubscribe_is_folded_between_urls_never_encoded() -> None:
    raw = compose()
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    block = re.search(r"^List-Unsubscribe:.*?(?=^\S)", head + "\r\nX", re.MULTILINE | re.DOTALL)[0]
    assert "=?" not in block
    assert LONG_URL in block


def test_wire_format_crlf_and_short_lines() -> None:
    raw = compose()
    assert raw.isascii()
    assert b"\n" not in raw.replace(b"\r\n", b"")
    lines = raw.split(b"\r\n")
    head_end = lines.index(b"")
    header_lines = [
        line for line in lines[:head_end] if not line.startswith(b"List-Unsubscribe:") and b"https://" not in line
    ]
    assert max(len(line) for line in header_lines) <= 78
    assert max(len(line) for line in lines) <= 998


def test_serialisation_is_stable_and_boundary_follows_content() -> None:
    assert compose() == compose()
    other = compose(html=HTML.replace("한국어", "영어"))
    boundary = parse(compose()).get_boundary()
    assert boundary.startswith("=_publisher_")
    assert parse(other).get_boundary() != boundary
    assert boundary.encode() not in b"".join(p.get_payload(decode=True) for p in parse(compose()).iter_parts())


@pytest.mark.parametrize(
    "field",
    ["subject", "from_name", "list_id"],
)
def test_line_breaks_never_start_a_header(field: str) -> None:
    hostile = "보통 제목\r\nBcc: victim@example.com\nX-Evil: 1\u2028Y-Evil: 2\x85Z-Evil: 3"
    raw = compose(dataclasses.replace(ENVELOPE, **{field: getattr(ENVELOPE, field) + hostile}))
    parsed = parse(raw)
    assert parsed["Bcc"] is None and parsed["X-Evil"] is None and parsed["Y-Evil"] is None
    assert parsed["Z-Evil"] is None
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert not re.search(rb"^(Bcc|X-Evil|Y-Evil|Z-Evil):", head, re.MULTILINE)
    # Decoded by the RFC 2047 rules (the policy.default parser puts a space between two encoded
    # words of a display name, which would hide what this test looks for).
    raw_value = parse_compat(raw)[{"subject": "Subject", "from_name": "From", "list_id": "List-Id"}[field]]
    value = str(make_header(decode_header(raw_value)))
    assert "\n" not in value and "\r" not in value and "Bcc: victim@example.com" in value


@pytest.mark.parametrize(
    "change",
    [
        {"to": "reader@example.org\r\nBcc: victim@example.com"},
        {"to": "not an address"},
        {"from_address": "digest@example.com>, victim@example.com"},
        {"unsubscribe_url": "https://example.com/u\r\nBcc: victim@example.com"},
        {"unsubscribe_mailto": "mailto:u@example.com>, <https://evil.example.com"},
        {"date": dt.datetime(2024, 7, 25, 7, 0)},  # naive
    ],
)
def test_bad_values_are_refused(change: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        compose(dataclasses.replace(ENVELOPE, **change))


def test_no_unsubscribe_targets_no_list_unsubscribe_headers() -> None:
    parsed = parse(compose(dataclasses.replace(ENVELOPE, unsubscribe_mailto="", unsubscribe_url="")))
    assert parsed["List-Unsubscribe"] is None and parsed["List-Unsubscribe-Post"] is None
    mail_only = parse(compose(dataclasses.replace(ENVELOPE, unsubscribe_url="")))
    assert mail_only["List-Unsubscribe"] == "<mailto:unsubscribe@example.com>"
    assert mail_only["List-Unsubscribe-Post"] is None  # one-click needs an https URL (RFC 8058)


def test_long_korean_subject_round_trips() -> None:
    subject = "[AI 논문 노트] " + "아주 긴 한국어 제목과 English words 섞어서 " * 8
    parsed = parse(compose(dataclasses.replace(ENVELOPE, subject=subject)))
    assert parsed["Subject"] == subject.strip()


@pytest.mark.parametrize("site_title", ["AI 논문 노트", "AI Paper Notes", "논문노트"])
@pytest.mark.parametrize(
    "topics", [(), ("rlhf",), ("instruction-tuning", "alignment", "synthetic-data", "scaling-law")]
)
def test_issue_subjects_round_trip(site_title: str, topics: tuple[str, ...]) -> None:
    # The standard folder alone loses the space in "논문 노트 12편" for several of these.
    subject = words.email_subject(site_title, dt.date(2024, 7, 25), 12, topics)
    assert parse(compose(dataclasses.replace(ENVELOPE, subject=subject)))["Subject"] == subject


def test_text_that_looks_encoded_is_shown_as_typed() -> None:
    subject = "=?utf-8?q?=0ABcc:_victim@example.com?= 제목"
    parsed = parse(compose(dataclasses.replace(ENVELOPE, subject=subject)))
    assert parsed["Subject"] == subject


def test_message_id_and_list_id_helpers() -> None:
    assert message.message_id("issue-2024-07-25", "example.com") == "<issue-2024-07-25@example.com>"
    assert message.message_id("a b<c>@d", "example.com") == "<a-b-c--d@example.com>"
    with pytest.raises(ValueError):
        message.message_id("x", "example.com>\r\nBcc: y")
    assert message.list_id("AI\n논문", "digest@example.com") == "AI 논문 <digest.example.com>"


def test_envelope_json_round_trip() -> None:
    assert Envelope.from_json(ENVELOPE.as_json()) == ENVELOPE
