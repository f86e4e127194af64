"""publisher/issues.py and publisher/assemble.py: the email issue files, read by real clients.

The .eml files are read with the standard library's parser, the HTML with html.parser and
headless Chromium; personal copies are cut from the built files as `send` will cut them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
import os
import re
import string
import subprocess
import sys
from email import policy
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from publisher.build.pipeline import check
from publisher.config import load_config
from publisher.digests.model import Digest
from publisher.digests.parse import parse_digest
from publisher.render import message, paths, words
from publisher.render.assemble import BuiltIssue, personalise, with_envelope
from publisher.render.issues import same_document, shorten
from publisher.render.templating import plain_links
from publisher.text import has_hangul, links_in, split_links

from .conftest import ROOT, SEEDS, run_cli

CONFIG = load_config(ROOT / "publisher.toml")
URLS = paths.Urls(CONFIG.site.base_url)
SEED_DIGESTS: tuple[Digest, ...] = check(CONFIG.with_paths(seeds=SEEDS)).catalog.digests
DATES = [digest.date for digest in SEED_DIGESTS]
PERSONAL_URL = "https://example.github.io/publisher/unsubscribe/?token=" + "f00d" * 16 + "&email=reader%40example.org"


# --- reading the files ------------------------------------------------------------------------


@dataclasses.dataclass
class Page:
    """What html.parser sees in an HTML issue."""

    elements: list[tuple[str, dict[str, str]]] = dataclasses.field(default_factory=list)
    text: list[str] = dataclasses.field(default_factory=list)
    styles: list[str] = dataclasses.field(default_factory=list)

    def hrefs(self) -> list[str]:
        return [attrs["href"] for tag, attrs in self.elements if tag == "a" and "href" in attrs]

    def ids(self) -> set[str]:
        return {attrs["id"] for _, attrs in self.elements if "id" in attrs}

    def with_class(self, name: str) -> list[dict[str, str]]:
        return [attrs for _, attrs in self.elements if name in attrs.get("class", "").split()]

    def visible_text(self) -> str:
        return "".join(self.text)


def read_html(html: str) -> Page:
    page = Page()

    class Parser(HTMLParser):
        in_style = False

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            page.elements.append((tag, {name: value or "" for name, value in attrs}))
            self.in_style = tag == "style"

        def handle_endtag(self, tag: str) -> None:
            self.in_style = False

        def handle_data(self, data: str) -> None:
            (page.styles if self.in_style else page.text).append(data)

    Parser(convert_charrefs=True).feed(html)
    return page


def parse_eml(data: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(data, policy=policy.default)


def same_url(url: str) -> str:
    """A URL with non-ASCII percent-encoded: libxml2 (premailer's serialiser) writes hrefs so."""
    return quote(url, safe=string.printable)


def text_links(text: str) -> set[str]:
    return {same_url(url) for url in links_in(text.splitlines())}


def html_links(page: Page) -> set[str]:
    return {same_url(href) for href in page.hrefs() if not href.startswith("#")}


def files_of(out: Path, date: dt.date) -> tuple[str, str, bytes, str]:
    return (
        (out / paths.email(date, "html")).read_text("utf-8"),
        (out / paths.email(date, "txt")).read_text("utf-8"),
        (out / paths.email(date, "eml")).read_bytes(),
        (out / paths.send_manifest(date)).read_text("utf-8"),
    )


def build_digests(tmp_path: Path, digests: dict[str, str], config_text: str | None = None) -> Path:
    """Build some digest files of our own with the project's config (or another)."""
    seeds = tmp_path / "seeds"
    seeds.mkdir(parents=True)
    for name, text in digests.items():
        (seeds / name).write_text(text, encoding="utf-8")
    config = tmp_path / "publisher.toml"
    config.write_text(config_text or (ROOT / "publisher.toml").read_text("utf-8"), encoding="utf-8")
    out = tmp_path / "out"
    result = run_cli("build", "--config", config, "--seeds", seeds, "--out", out)
    assert result.exit_code == 0, result.output
    return out


def css_outside_media(css: str) -> str:
    """The CSS left after removing every @media block (braces balanced)."""
    rest, i = [], 0
    while i < len(css):
        if css.startswith("@media", i):
            depth, i = 0, css.index("{", i)
            while True:
                depth += {"{": 1, "}": -1}.get(css[i], 0)
                i += 1
                if depth == 0:
                    break
        else:
            rest.append(css[i])
            i += 1
    return "".join(rest)


# --- the built seeds --------------------------------------------------------------------------


def test_three_files_per_digest_under_out_email(built: Path) -> None:
    expected = {paths.email(date, ext) for date in DATES for ext in ("html", "txt", "eml")}
    found = {p.relative_to(built).as_posix() for p in (built / "email").iterdir()}
    assert found == expected and len(found) == 15
    assert all((built / paths.send_manifest(date)).is_file() for date in DATES)


@pytest.mark.parametrize("digest", SEED_DIGESTS, ids=lambda digest: digest.date.isoformat())
def test_eml_structure_headers_and_encodings(built: Path, digest: Digest) -> None:
    html, text, eml, _ = files_of(built, digest.date)
    parsed = parse_eml(eml)
    assert parsed.get_content_type() == "multipart/alternative"
    parts = list(parsed.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    for part in parts:
        assert part.get_content_charset() == "utf-8"
        assert part["Content-Transfer-Encoding"] in ("base64", "8bit")
    assert b"quoted-printable" not in eml.lower()
    assert parts[0].get_content().replace("\r\n", "\n") == text
    assert parts[1].get_content().replace("\r\n", "\n") == html

    assert parsed["From"].addresses[0].addr_spec == CONFIG.email.from_address
    assert parsed["From"].addresses[0].display_name == CONFIG.email.from_name
    assert parsed["To"] == CONFIG.email.list_address
    subject = parsed["Subject"]
    assert subject == f"[{CONFIG.site.title}] {words.issue_title(digest)}"
    assert words.long_date(digest.date) in subject
    assert parsed["Date"].datetime == CONFIG.site.published(digest.date)
    assert parsed["Message-ID"] == f"<issue-{digest.date.isoformat()}@example.com>"
    assert parsed["List-Id"] == f"{CONFIG.site.title} <digest.example.com>"
    assert parsed["List-Unsubscribe"] == f"<{CONFIG.email.unsubscribe_mailto}>, <{CONFIG.email.unsubscribe_url}>"
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert parsed["MIME-Version"] == "1.0"
    head = eml.split(b"\r\n\r\n", 1)[0].decode("ascii")
    assert "=?" not in re.search(r"^List-Unsubscribe:.*?(?=^\S)", head, re.MULTILINE | re.DOTALL)[0]


@pytest.mark.parametrize("digest", SEED_DIGESTS, ids=lambda digest: digest.date.isoformat())
def test_link_parity_and_every_link_absolute(built: Path, digest: Digest) -> None:
    html, text, _, _ = files_of(built, digest.date)
    page = read_html(html)
    assert html_links(page) == text_links(text)
    for href in page.hrefs():
        # no in-message anchors: they do nothing in most mail apps (Gmail and Outlook on phones, Yahoo)
        assert href.startswith("https://"), href
    for link in (
        URLS.public(paths.issue_page(digest.date)),
        CONFIG.email.unsubscribe_url,
        *(URLS.public(paths.tag_page(tag)) for tag in digest.tags),
        *(URLS.public(paths.feed("rss", tag)) for tag in digest.tags),
    ):
        assert link in page.hrefs() and f"<{link}>" in text


@pytest.mark.parametrize("digest", SEED_DIGESTS, ids=lambda digest: digest.date.isoformat())
def test_html_design_rules(built: Path, digest: Digest) -> None:
    html = (built / paths.email(digest.date, "html")).read_text("utf-8")
    page = read_html(html)
    assert len(html.encode()) < CONFIG.email.max_bytes
    tags = {tag for tag, _ in page.elements}
    assert not tags & {"script", "form", "input", "button", "iframe", "object", "embed", "link", "img"}
    style_block = "".join(page.styles)
    assert css_outside_media(style_block).strip() == ""  # only media queries stay in <style>
    assert "prefers-color-scheme: dark" in style_block and "max-width: 620px" in style_block
    assert len(style_block.encode()) < 16_000
    all_css = style_block + ";".join(attrs.get("style", "") for _, attrs in page.elements)
    assert not re.search(r"(^|[;{\s])(position|flex[-a-z]*|grid[-a-z]*)\s*:", all_css)
    assert not re.search(r"display\s*:\s*(inline-)?(flex|grid)", all_css)
    assert "@import" not in all_css and "@font-face" not in all_css and "url(" not in all_css
    # The design is inline: one column of at most 600 px carrying the Korean font stack, a line
    # height for Hangul and wrapping of long words, inherited by every cell.
    (card,) = page.with_class("card")
    assert card["role"] == "presentation" and "max-width:600px" in card["style"]
    assert re.search(
        r"font-family:[\"']Apple SD Gothic Neo[\"'], [\"']Malgun Gothic[\"'], [\"']Noto Sans KR", card["style"]
    )
    assert "line-height:1.7" in card["style"] and "overflow-wrap:anywhere" in card["style"]
    # Each body line is its own paragraph; the abstract is smaller and muted.
    assert len(page.with_class("note")) == sum(len(e.commentary) for e in digest.entries)
    assert len(page.with_class("abstract-line")) == sum(len(e.abstract) for e in digest.entries)
    for box in page.with_class("abstract"):
        assert "font-size:14px" in box["style"] and "color:#4b5563" in box["style"]
    # Top: site name, date, preheader, a contents list pointing at every entry.
    visible = page.visible_text()
    assert CONFIG.site.title in visible and words.long_date(digest.date) in visible
    preheader = re.search(r"<!--pub:preheader-->(.*?)<!--/pub:preheader-->", html)[1]
    assert 40 <= len(preheader) <= 130 and preheader.startswith(words.long_date(digest.date))
    # The contents list links each note on the web version: in-message anchors do nothing in most
    # mail apps. Each title is marked with its language (English titles on a Korean page).
    toc = [attrs["href"] for attrs in page.with_class("toc-link")]
    assert toc == [URLS.public(paths.issue_page(digest.date), entry.anchor) for entry in digest.entries]
    assert [attrs["lang"] for attrs in page.with_class("toc-link")] == [
        "ko" if has_hangul(entry.title) else "en" for entry in digest.entries
    ]
    assert [attrs["lang"] for attrs in page.with_class("title")] == [
        "ko" if has_hangul(entry.title) else "en" for entry in digest.entries
    ]
    for entry in digest.entries:
        assert entry.title in visible
        assert (entry.link or ", ".join(entry.authors)) in visible
    assert "웹에서 보기" in visible and "구독 해지" in visible
    assert words.email_reason(CONFIG.site.title, None) in visible


@pytest.mark.parametrize("digest", SEED_DIGESTS, ids=lambda digest: digest.date.isoformat())
def test_plain_text_has_everything_and_no_markers(built: Path, digest: Digest) -> None:
    text = (built / paths.email(digest.date, "txt")).read_text("utf-8")
    assert not re.search("[\x00-\x08\x0b-\x1f]", text)
    assert "pub:" not in text
    for entry in digest.entries:
        for line in (entry.title, *entry.authors):
            assert line in text
        for line in (*entry.commentary, *entry.abstract):  # links delimited as on the web (test_links.py)
            assert plain_links(line) in text
        if entry.link:
            assert f"<{entry.link}>" in text
    assert f"웹에서 보기: <{URLS.public(paths.issue_page(digest.date))}>" in text
    assert f"구독 해지: <{CONFIG.email.unsubscribe_url}>" in text


def test_rebuild_is_byte_identical_in_another_environment(built: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONHASHSEED": "4242", "TZ": "America/Los_Angeles", "LANG": "C", "LC_ALL": "C"}
    args = ["build", "--config", ROOT / "publisher.toml", "--seeds", SEEDS, "--out", out]
    subprocess.run([sys.executable, "-m", "publisher", *map(str, args)], check=True, env=env, capture_output=True)
    for date in DATES:
        for relpath in (*(paths.email(date, ext) for ext in ("html", "txt", "eml")), paths.send_manifest(date)):
            assert (out / relpath).read_bytes() == (built / relpath).read_bytes(), relpath


# --- personal copies, as `send` will make them ------------------------------------------------


@pytest.mark.parametrize("digest", SEED_DIGESTS, ids=lambda digest: digest.date.isoformat())
def test_whole_list_copy_is_exactly_the_built_files(built: Path, digest: Digest) -> None:
    html, text, eml, manifest = files_of(built, digest.date)
    issue = BuiltIssue.from_files(html.encode(), manifest.encode())
    whole = personalise(issue, None, issue.unsubscribe_url)
    assert whole.html == html and whole.text == text
    assert message.compose(issue.envelope, whole.text, whole.html) == eml
    assert whole.subject == issue.envelope.subject
    # Following every tag of the issue is the whole issue, save for the reason line.
    every_tag = personalise(issue, [tag.name for tag in digest.tags], issue.unsubscribe_url)
    assert every_tag.entries == whole.entries


def test_tag_subset_keeps_only_those_entries(built: Path) -> None:
    digest = next(d for d in SEED_DIGESTS if d.date == dt.date(2024, 2, 6))
    html, _, _, manifest = files_of(built, digest.date)
    issue = BuiltIssue.from_files(html, manifest)
    copy = personalise(issue, ["#RLHF"], PERSONAL_URL)  # as a subscriber may type it

    kept = [e for e in digest.entries if any(t.slug == "rlhf" for t in e.tags)]
    dropped = [e for e in digest.entries if e not in kept]
    assert [e.title for e in kept] == [
        "BRAIn: Bayesian Reward-conditioned Amortized Inference for natural language generation from feedback",
        "Decoding-time Realignment of Language Models",
    ]
    assert copy.entries == (2, 3) and copy.topics == ("rlhf",)
    page = read_html(copy.html)
    visible = page.visible_text()
    for entry in kept:
        assert entry.title in visible and entry.title in copy.text
    for entry in dropped:
        assert entry.title not in visible and entry.title not in copy.text
    assert [a["href"] for a in page.with_class("toc-link")] == [
        URLS.public(paths.issue_page(digest.date), entry.anchor) for entry in kept
    ]
    kept_tags = {tag for entry in kept for tag in entry.tags}
    feeds = {URLS.public(paths.feed("rss", tag)) for tag in digest.tags}
    assert feeds & set(page.hrefs()) == {URLS.public(paths.feed("rss", tag)) for tag in kept_tags}
    # The personal unsubscribe URL replaces the list's, in both parts.
    assert PERSONAL_URL in page.hrefs() and f"<{PERSONAL_URL}>" in copy.text
    assert CONFIG.email.unsubscribe_url not in page.hrefs() and f"<{CONFIG.email.unsubscribe_url}>" not in copy.text
    assert html_links(page) == text_links(copy.text)
    preheader = re.search(r"<!--pub:preheader-->(.*?)<!--/pub:preheader-->", copy.html)[1]
    assert "BRAIn" in preheader and "Qwen" not in preheader and "논문 노트 2편" in preheader
    assert "#rlhf" in visible and words.email_reason(CONFIG.site.title, ("rlhf",)) in copy.text
    assert copy.subject == f"[{CONFIG.site.title}] 2024년 2월 6일 · #rlhf 노트 2편"

    envelope = with_envelope(issue, copy, "reader@example.org", "<2024-02-06.r1@example.com>", PERSONAL_URL)
    parsed = parse_eml(message.compose(envelope, copy.text, copy.html))
    assert parsed["To"] == "reader@example.org" and parsed["Subject"] == copy.subject
    assert parsed["Message-ID"] == "<2024-02-06.r1@example.com>"
    assert parsed["List-Unsubscribe"] == f"<{CONFIG.email.unsubscribe_mailto}>, <{PERSONAL_URL}>"


def test_personal_copy_refuses_nothing_to_send_and_unsafe_urls(built: Path) -> None:
    html, _, _, manifest = files_of(built, DATES[0])
    issue = BuiltIssue.from_files(html, manifest)
    with pytest.raises(ValueError, match="no entry"):
        personalise(issue, ["no-such-topic"], PERSONAL_URL)
    for url in ("javascript:alert(1)", 'https://example.com/"><script>', "https://example.com/a b", "/relative"):
        with pytest.raises(ValueError):
            personalise(issue, None, url)


# --- hostile text, size, shortening -----------------------------------------------------------

HOSTILE = f"""2024-08-01
<script>alert("title")</script> "><img src=x onerror=alert(1)>
(<b>Mallory</b>, "><img src=x onerror=alert(2)>)
Abstract <script>alert(3)</script> javascript:alert(4) [x](javascript:alert(5)) <a href="javascript:alert(6)">a</a>
http://example.org/"onmouseover="alert(7) https://example.org/ok?a=1&b=<2> JAVASCRIPT://example.com/%0aalert(8)
노트 "><img src=x onerror=alert(9)> <iframe src=https://evil.example.com/></iframe> <style>*{{color:red}}</style>
<!--pub:entry:0--> 끝 -->
긴 낱말 https://example.org/{"a-very-long-path-segment-" * 12} {"Unbreakable" * 25}
#<script> #"><img #javascript:alert(10)
제목 줄\u2028Bcc: victim@example.com\u2029X-Evil: 1
(Eve)
노트 =?utf-8?q?=0ABcc:_victim@example.com?=
#ok
"""
HOSTILE_CONFIG = (
    (ROOT / "publisher.toml")
    .read_text("utf-8")
    .replace('from_name = "AI 논문 노트"', 'from_name = "AI 논문 노트\\nBcc: victim@example.com"')
)


def test_hostile_text_comes_out_harmless(tmp_path: Path) -> None:
    assert "victim" in HOSTILE_CONFIG
    out = build_digests(tmp_path, {"evil.txt": HOSTILE}, HOSTILE_CONFIG)
    date = dt.date(2024, 8, 1)
    html, text, eml, manifest = files_of(out, date)
    page = read_html(html)
    assert not {tag for tag, _ in page.elements} & {"script", "img", "iframe", "b"}
    assert len([tag for tag, _ in page.elements if tag == "style"]) == 1
    for _, attrs in page.elements:
        assert not any(name.startswith("on") for name in attrs)
    for href in page.hrefs():
        assert href.startswith(("https://", "http://", "#")), href
        assert not re.search(r"[\s\"'<>]", href), href  # nothing broke out of the attribute
    visible = page.visible_text()
    assert '<script>alert("title")</script> "><img src=x onerror=alert(1)>' in visible
    assert "<!--pub:entry:0--> 끝 -->" in visible  # a marker look-alike stays text...
    issue = BuiltIssue.from_files(html, manifest)
    assert [s.name for s in issue.html].count("entry:0") == 1  # ...and is never read as a marker
    assert personalise(issue, None, issue.unsubscribe_url).html == html
    assert html_links(page) == text_links(text)

    parsed = parse_eml(eml)
    assert parsed["Bcc"] is None and parsed["X-Evil"] is None
    assert not re.search(rb"^(Bcc|X-Evil):", eml.split(b"\r\n\r\n", 1)[0], re.MULTILINE)
    assert parsed["From"].addresses[0].addr_spec == CONFIG.email.from_address
    assert parsed.get_body(("plain",)).get_content().replace("\r\n", "\n") == text


def long_digest(date: dt.date, count: int) -> str:
    abstract = (
        "We study the problem of aligning language models with long documents and many references, "
        "and we report results on twelve benchmarks with careful ablations of every component. "
    ) * 6
    note = "이 논문은 긴 문맥에서 정렬을 다루는데, 실험 설계가 꼼꼼하고 결과도 설득력이 있습니다. " * 5
    entries = [
        f"A Very Long Paper Title Number {n} About Alignment, Scaling and Everything Else\n"
        f"(Author One, Author Two, Author Three, Author Four)\n{abstract}\n{abstract}\n{note}\n{note}\n"
        f"#topic-{n % 7} #alignment"
        for n in range(1, count + 1)
    ]
    return f"{date.isoformat()}\n" + "\n".join(entries) + "\n"


def test_forty_long_entries_degrade_under_the_limit(tmp_path: Path) -> None:
    date = dt.date(2024, 9, 1)
    out = build_digests(tmp_path, {"big.txt": long_digest(date, 40)})
    html, text, eml, manifest = files_of(out, date)
    issue = BuiltIssue.from_files(html, manifest)
    assert len(html.encode()) < CONFIG.email.max_bytes
    assert issue.trim > 0  # shortened on purpose...
    page = read_html(html)
    visible = page.visible_text()
    for n in range(1, 41):  # ...never clipped: every entry, and the footer, are there
        assert f"Paper Title Number {n} About" in visible
    assert "구독 해지" in visible and CONFIG.email.unsubscribe_url in page.hrefs()
    # The shortened parts link to the full text: the entry on the issue's web page.
    assert len(page.with_class("more")) >= 40 and "전체를 웹에서" in visible
    assert {URLS.public(paths.issue_page(date), entry.anchor) for entry in issue.entries} <= set(page.hrefs())
    assert html_links(page) == text_links(text)
    # A personal copy with a long URL stays under the limit too.
    copy = personalise(issue, None, PERSONAL_URL + "&pad=" + "x" * 300)
    assert len(copy.html.encode()) < CONFIG.email.max_bytes
    # The same digest gives the same bytes again.
    again = build_digests(tmp_path / "again", {"big.txt": long_digest(date, 40)})
    assert (again / paths.email(date, "html")).read_bytes() == html.encode()
    assert (again / paths.email(date, "eml")).read_bytes() == eml


def test_too_big_even_with_titles_only_is_an_error(tmp_path: Path) -> None:
    config = (ROOT / "publisher.toml").read_text("utf-8").replace("max_bytes = 100000", "max_bytes = 6000")
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "big.txt").write_text(long_digest(dt.date(2024, 9, 1), 40), encoding="utf-8")
    (tmp_path / "publisher.toml").write_text(config, encoding="utf-8")
    result = run_cli("build", "--config", tmp_path / "publisher.toml", "--out", tmp_path / "out")
    assert result.exit_code == 1
    assert "big.txt:1: email issue is" in result.output and "even without any note" in result.output


def test_shorten_cuts_between_words_and_never_inside_a_url() -> None:
    assert shorten(("abc", "def"), None) == (("abc", "def"), False)
    assert shorten(("abc", "def"), 0) == ((), True)
    assert shorten((), 0) == ((), False)
    assert shorten(("abc", "def"), 6) == (("abc", "def"), False)
    assert shorten(("first line", "x" * 50), 25) == (("first line",), True)  # too little room for a stub
    url = "https://example.com/" + "a" * 80
    assert shorten((f"Read this first {url} and more",), 40) == (("Read this first…",), True)
    assert shorten(("https://example.com/abc, and so on for a while",), 24) == (("https://example.com/abc …",), True)
    lines = (
        f"See https://example.com/x, then (https://arxiv.org/abs/2312.08935) a long tail {url} of words.",
        "한국어 문장 사이에 https://example.com/한글경로 가 있고 그 뒤에도 글이 이어집니다 " * 3,
    )
    for line in lines:
        original = {p.href for p in split_links(line) if p.href}
        for limit in range(20, len(line)):
            (cut,), was_cut = shorten((line,), limit)
            assert was_cut and cut.endswith("…") and len(cut) <= limit + 2
            assert {p.href for p in split_links(cut) if p.href} <= original, (limit, cut)


# --- in a browser -----------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.parametrize("strip_style", [False, True], ids=["styled", "no-style"])
@pytest.mark.parametrize("width", [375, 600])
@pytest.mark.parametrize("date", DATES, ids=str)
def test_no_horizontal_overflow_in_chromium(built: Path, browser, date: dt.date, width: int, strip_style: bool) -> None:
    name = f"email-{date.isoformat()}-{width}{'-nostyle' if strip_style else ''}.png"
    url = (built / paths.email(date, "html")).resolve().as_uri()
    layout = browser.layout(url, width, screenshot=name, strip_style=strip_style)
    assert not layout.overflows, layout


@pytest.mark.browser
def test_hostile_and_huge_issues_do_not_overflow(tmp_path: Path, browser) -> None:
    out = build_digests(tmp_path, {"evil.txt": HOSTILE, "big.txt": long_digest(dt.date(2024, 9, 1), 40)})
    for date in (dt.date(2024, 8, 1), dt.date(2024, 9, 1)):
        url = (out / paths.email(date, "html")).resolve().as_uri()
        for strip_style in (False, True):
            name = f"email-{date.isoformat()}-375{'-nostyle' if strip_style else ''}.png"
            assert not browser.layout(url, 375, screenshot=name, strip_style=strip_style).overflows


# WCAG 2 contrast of each kind of text against the card, as the browser computes the colours.
CONTRAST_JS = """() => {
  const rgb = s => s.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const linear = v => (v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  const lum = c => { const [r, g, b] = c.map(linear); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
  const card = rgb(getComputedStyle(document.querySelector('.card')).backgroundColor);
  return [...document.querySelectorAll('.title, .byline, .note, .abstract, .toc-link, .footer, .footer a, .label')]
    .map(el => [el.className || el.tagName, ratio(rgb(getComputedStyle(el).color), card)]);
}"""


@pytest.mark.browser
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_text_keeps_contrast_in_light_and_dark(built: Path, browser, scheme: str) -> None:
    page = browser._browser.new_page(viewport={"width": 600, "height": 900}, color_scheme=scheme)
    try:
        page.goto((built / paths.email(DATES[0], "html")).resolve().as_uri())
        ratios = page.evaluate(CONTRAST_JS)
    finally:
        page.close()
    assert ratios and all(ratio >= 4.5 for _, ratio in ratios), [r for r in ratios if r[1] < 4.5]


# -- The template is inlined once; that must equal inlining every issue on its own ------------------


def generated_digests(count: int) -> list[Digest]:
    import tempfile

    from bench.make_corpus import make_corpus

    with tempfile.TemporaryDirectory() as folder:
        return [parse_digest(p.read_bytes(), p.name).digest for p in make_corpus(count, Path(folder), seed=7)]


def test_template_inlined_once_equals_inlining_each_issue() -> None:
    from publisher.render.context import Context
    from publisher.render.issues import build_issue
    from publisher.render.templating import load_theme

    context = Context(load_config(ROOT / "publisher.toml"), load_theme())
    digests = [parse_digest(p.read_bytes(), p.name).digest for p in sorted(SEEDS.glob("*.txt"))]
    digests += [parse_digest(HOSTILE.encode(), "evil.txt").digest]
    digests += [parse_digest(long_digest(dt.date(2024, 9, 1), 40).encode(), "big.txt").digest]
    digests += generated_digests(40)
    trimmed = 0
    for digest in digests:
        once = build_issue(digest, context)
        each = build_issue(digest, context, inline_each=True)
        assert once.trim == each.trim, digest.source
        trimmed += once.trim > 0
        fast = personalise(once, None, once.unsubscribe_url).html
        reference = personalise(each, None, each.unsubscribe_url).html
        assert 'style="' in fast and "{{" not in fast and "{%" not in fast
        assert same_document(fast, reference), digest.source
    assert trimmed >= 1  # the shortened path is covered too


def test_a_theme_that_cannot_be_inlined_once_falls_back_to_inlining_each_issue(tmp_path: Path) -> None:
    from publisher.render.context import Context
    from publisher.render.issues import _inlines_once, build_issue
    from publisher.render.templating import load_theme

    source = (ROOT / "templates" / "email" / "issue.html").read_text(encoding="utf-8")
    (tmp_path / "email").mkdir()
    # A rule for links that only linkify makes: inlining the template once cannot see them.
    (tmp_path / "email" / "issue.html").write_text(source.replace("<style>\n", "<style>\n.note a { color: red; }\n", 1))
    context = Context(load_config(ROOT / "publisher.toml"), load_theme(tmp_path))
    assert not _inlines_once(context)
    digest = parse_digest(next(SEEDS.glob("002_*.txt")).read_bytes(), "002.txt").digest
    html = personalise(build_issue(digest, context), None, "https://example.com/u").html
    assert re.search(r'<a href="https://arxiv.org/abs/2312.08935" style="color:red">', html)
    assert _inlines_once(Context(context.config, load_theme()))


_MARKED_PIECES = st.sampled_from(
    [
        "<!--pub:entry:3-->",
        "<!--/pub:entry:3-->",
        "<!--pub:toc:12-->",
        "<!--/pub:toc:12-->",
        "<!--pub:reason-->",
        "<!--/pub:reason-->",
        "<!--pub:Entry-->",
        "<!--pub:-->",
        "<!--pub:entry:-->",
        "<!--/pub:toc:1-->",
        "<!--pub:",
        "-->",
        "<p>노트 a</p>",
        "\n",
        "",
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_MARKED_PIECES, max_size=14))
def test_the_html_of_an_issue_splits_as_its_markers_regex_does(pieces: list[str]):
    """split_html finds the markers with str.find (a regex with a lazy body was a tenth of an issue's
    rendering); it cuts any text, markers unclosed, nested, misspelt or none, as the regex does."""
    from publisher.render import assemble

    html = "".join(pieces)
    assert assemble.split_html(html) == assemble._split(html, assemble._HTML_REGION)


def test_a_built_issue_splits_as_its_markers_regex_does():
    from publisher.render import assemble

    for path in sorted((ROOT / "out" / "email").glob("*.html")):
        text = path.read_text("utf-8")
        assert assemble.split_html(text) == assemble._split(text, assemble._HTML_REGION)
        assert len(assemble.split_html(text)) > 5, path
