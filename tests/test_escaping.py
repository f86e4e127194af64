"""Hostile text in a digest comes out as text in every output, never as markup or a link.

One build of two hostile digests, checked file by file with real parsers: lxml for HTML, XML and
the HTML inside feeds, feedparser for the feeds, json for JSON Feed, the standard library's email
parser for the .eml. The per-module tests (test_feeds, test_issues, test_archive) check their own
outputs on their own hostile text; this one checks every output of one build in one place,
including the tag pages, the index, the OPML and the HTML part inside the .eml.
"""

from __future__ import annotations

import email
import json
import posixpath
import re
from email import policy
from pathlib import Path
from urllib.parse import unquote, urlsplit

import feedparser
import lxml.html
import pytest
from lxml import etree

from publisher.config import load_config
from publisher.text import links_in

from .conftest import ROOT, run_cli

CONFIG = load_config(ROOT / "publisher.toml")
LONG = "긴줄" + "가나다라마바사 abc " * 900  # a pasted line of 10,000+ characters
RLO = "\u202e"  # RIGHT-TO-LEFT OVERRIDE: kept as text (it is the writer's), never in a path or header
TITLE = '<script>alert("t")</script> "><img src=x onerror=alert(1)> ]]> \x00\x07 end' + RLO + "txt.exe"
AUTHORS = '"><img src=x onerror=alert(2)>, <b>Mallory</b>, ]]>'
NOTE = '노트 javascript:alert(3) data:text/html,<script>alert(4)</script> <a href="javascript:alert(5)">x</a>'
NOTE_LINKS = '노트 [x](javascript:alert(6)) https://ok.example.com/a?b=1&c=2 https://evil.example.com/"onmouseover="x'
HOSTILE = f"""2024-08-01
{TITLE}
({AUTHORS})
Abstract <iframe src=https://evil.example.com/></iframe> ]]> \x1b[31m red
{NOTE}
{NOTE_LINKS}
{LONG}
#<script> #"><img #javascript:alert(7) #]]> #{RLO}rtl
javascript:alert(8)
javascript:alert(8)
노트 vbscript:x <svg onload=alert(9)>
#a&b #<script>
{LONG}
data:text/html;base64,PHNjcmlwdD4=
노트
#long
"""
SECOND = """2024-08-02
A second day
https://example.com/"><script>alert(10)</script>
노트 <style>*{color:red}</style>
#<script> #a&b
"""

# Elements a template writes on one page, never from a digest's text: the search form and its script;
# 404.html's <base>.
TEMPLATE_ELEMENTS = {"search/index.html": {"script", "form", "button", "input"}, "404.html": {"base"}}
FORBIDDEN_ELEMENTS = {"script", "img", "iframe", "svg", "object", "embed", "form", "input", "button", "base", "b"}
FIRST_LINE_TITLES = [TITLE.replace("\x00", "").replace("\x07", ""), "javascript:alert(8)", LONG]


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hostile")
    (root / "seeds").mkdir()
    (root / "publisher.toml").write_bytes((ROOT / "publisher.toml").read_bytes())  # the cache goes to root too
    (root / "seeds" / "hostile.txt").write_bytes(HOSTILE.encode("utf-8"))
    (root / "seeds" / "second.txt").write_bytes(SECOND.encode("utf-8"))
    result = run_cli("build", "--config", root / "publisher.toml", "--out", root / "out")
    assert result.exit_code == 0, result.output
    return root / "out"


def files(out: Path, pattern: str) -> dict[str, bytes]:
    found = {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.glob(pattern)) if p.is_file()}
    assert found, pattern
    return found


def allowed_urls() -> set[str]:
    """The only absolute links a reader may find: the site's own and the well-formed http(s) URLs of the text."""
    lines = (HOSTILE + SECOND).splitlines()
    return set(links_in(lines)) | {"https://example.com/%22%3E%3Cscript%3Ealert(10)%3C/script%3E"}


def check_html(relpath: str, html: str | bytes, *, fragment: bool = False, out: Path | None = None) -> str:
    """No element or attribute from the text; every link http(s) or a relative link to an output; the text."""
    root = lxml.html.fragment_fromstring(html, create_parent="div") if fragment else lxml.html.document_fromstring(html)
    elements = {element.tag for element in root.iter() if isinstance(element.tag, str)}
    forbidden = FORBIDDEN_ELEMENTS - TEMPLATE_ELEMENTS.get(relpath, set())
    assert not elements & forbidden, (relpath, elements & forbidden)
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        if element.tag == "base":  # 404.html: its links are relative to the site's root, wherever it is served
            assert element.get("href") == "/publisher/", relpath
            continue
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), (relpath, element.tag, name)
            if name in ("href", "src", "action", "formaction", "xlink:href"):
                check_link(relpath, value, out)
    return root.text_content()


def check_link(relpath: str, href: str, out: Path | None) -> None:
    scheme = urlsplit(href).scheme.lower()
    if scheme in ("http", "https"):
        assert href.startswith(CONFIG.site.base_url) or href in allowed_urls() or unquote(href) in allowed_urls(), (
            relpath,
            href,
        )
        return
    assert scheme == "" and not href.startswith("//"), (relpath, href)  # no javascript:, data:, mailto: from text
    target = urlsplit(href).path
    if target and out is not None:  # a relative link the site made: it resolves to an output
        resolved = posixpath.normpath(posixpath.join(posixpath.dirname(relpath), unquote(target)))
        assert (out / resolved).is_file(), (relpath, href)


def assert_hostile_text_shown(text: str, where: str) -> None:
    for shown in ('<script>alert("t")</script>', '"><img src=x onerror=alert(1)>', "javascript:alert(3)"):
        assert shown in text, (where, shown)


def test_no_control_characters_in_any_output(out: Path):
    for relpath, data in files(out, "**/*").items():
        if relpath.startswith("pagefind/"):  # Pagefind's index: binary (gzip), and none of the text's bytes
            continue
        assert b"\x00" not in data and b"\x07" not in data and b"\x1b" not in data, relpath


def test_web_pages(out: Path):
    pages = files(out, "**/*.html")
    pages = {r: d for r, d in pages.items() if not r.startswith("email/")}
    assert {"index.html", "tags/index.html", "issues/2024-08-01/index.html", "tags/script/index.html"} <= pages.keys()
    for relpath, data in pages.items():
        text = check_html(relpath, data, out=out)
        if relpath in ("issues/2024-08-01/index.html", "tags/script/index.html", "index.html"):
            assert TITLE.replace("\x00", "").replace("\x07", "") in text, relpath
        if relpath == "issues/2024-08-01/index.html":
            assert_hostile_text_shown(text, relpath)
            assert LONG in text and "<b>Mallory</b>" in text and "<svg onload=alert(9)>" in text
    assert "#<script>" in lxml.html.document_fromstring(pages["tags/index.html"]).text_content()


def test_feeds(out: Path):
    feeds = {relpath: data for relpath, data in files(out, "**/*.xml").items() if relpath != "sitemap.xml"}
    assert {"feed.xml", "atom.xml", "tags/script/feed.xml", "tags/a-b/atom.xml"} <= feeds.keys()
    for relpath, data in feeds.items():
        parsed = feedparser.parse(data)
        assert not parsed.bozo, (relpath, parsed.get("bozo_exception"))
        root = etree.fromstring(data)
        items = root.findall(".//item/description") + root.findall(".//{http://www.w3.org/2005/Atom}content")
        contents = [e.text for e in items]  # the channel's description is text, the items' HTML
        assert contents, relpath
        for content in contents:
            check_html(relpath, content, fragment=True)
        categories = {e.text or e.get("term") for e in root.iter("category", "{http://www.w3.org/2005/Atom}category")}
        if relpath in ("feed.xml", "atom.xml"):
            assert {"<script>", "a&b", '"><img', "]]>", RLO + "rtl"} <= categories  # tag names as text
        for link in root.iter("link", "{http://www.w3.org/2005/Atom}link"):
            check_link(relpath, link.text or link.get("href"), None)
    main = etree.fromstring(feeds["atom.xml"])
    html = "".join(e.text for e in main.iter("{http://www.w3.org/2005/Atom}content"))
    assert_hostile_text_shown(lxml.html.fragment_fromstring(html, create_parent="div").text_content(), "atom.xml")


def test_json_feeds(out: Path):
    for relpath, data in files(out, "**/feed.json").items():
        feed = json.loads(data)
        for item in feed["items"]:
            check_link(relpath, item["url"], None)
            text = check_html(relpath, item["content_html"], fragment=True)
            if relpath == "feed.json" and item["id"].endswith("2024-08-01"):
                assert_hostile_text_shown(text, relpath)


def test_opml(out: Path):
    root = etree.fromstring(files(out, "tags.opml")["tags.opml"])
    outlines = [o for o in root.iter("outline") if o.get("xmlUrl")]
    assert {"#<script>", "#a&b"} <= {o.get("text") for o in outlines} | {o.get("title") for o in outlines}
    for outline in outlines:
        for name in ("xmlUrl", "htmlUrl"):
            assert outline.get(name).startswith(CONFIG.site.base_url), outline.attrib


def test_email_files(out: Path):
    html = files(out, "email/2024-08-01.html")["email/2024-08-01.html"].decode("utf-8")
    text = files(out, "email/2024-08-01.txt")["email/2024-08-01.txt"].decode("utf-8")
    shown = check_html("email/2024-08-01.html", html, out=None)
    assert_hostile_text_shown(shown, "email html")
    assert_hostile_text_shown(text, "email text")  # plain text: as written, nothing to escape
    message = email.message_from_bytes(
        files(out, "email/2024-08-01.eml")["email/2024-08-01.eml"], policy=policy.default
    )
    assert message.get_body(("html",)).get_content().replace("\r\n", "\n") == html
    assert message.get_body(("plain",)).get_content().replace("\r\n", "\n") == text
    assert RLO not in str(message["Subject"]) and "\n" not in str(message["Subject"])
    # The plain text shows URLs as <URL>: only well-formed http(s) ones are set off so, never javascript:.
    for url in re.findall(r"<([^<>\s]+)>", text):
        if "://" in url or ":" in url.split("/")[0]:
            assert urlsplit(url).scheme in ("http", "https"), url


def test_only_well_formed_web_urls_are_links(out: Path):
    """Spot checks on the issue page: the good URL is a link, the others are only text."""
    page = lxml.html.document_fromstring(files(out, "issues/2024-08-01/index.html")["issues/2024-08-01/index.html"])
    hrefs = {a.get("href") for a in page.iter("a")}
    assert "https://ok.example.com/a?b=1&c=2" in hrefs
    assert "https://evil.example.com/" in hrefs  # cut at the quote: the rest stays text
    assert not [h for h in hrefs if urlsplit(h).scheme not in ("", "http", "https")]
    assert not [h for h in hrefs if '"' in h or "onmouseover" in h]
