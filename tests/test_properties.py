"""Property-based tests (hypothesis) over generated digests, valid and broken.

- The reader returns a model or raises SourceError whose every diagnostic names the file and a
  line inside it; never another exception.
- Every model the catalog accepts renders to feeds feedparser reads without `bozo`, HTML that
  html.parser reads with every title as text, and .eml files that the standard library parses
  back to the same subject and text.

Examples are bounded and derandomized: CI runs the same examples every time, in a few seconds.
"""

from __future__ import annotations

import email
import json
from email import policy
from html.parser import HTMLParser

import feedparser
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from lxml import etree

from publisher.config import load_config
from publisher.digests.catalog import make_catalog
from publisher.digests.parse import parse_digest
from publisher.errors import SourceError
from publisher.render import words
from publisher.render.context import Context
from publisher.render.templating import load_theme, plain_links
from publisher.render.units import render_all

from .conftest import ROOT

CONFIG = load_config(ROOT / "publisher.toml")
CONTEXT = Context(CONFIG, load_theme())
FUZZ = settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
RENDER = settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])

# ---------------------------------------------------------------- strategies

# Any text a person could paste, surrogates aside (they cannot come out of UTF-8), and no line breaks.
PASTED = st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r")
WORD = st.text(st.characters(whitelist_categories=("L", "N")), min_size=1, max_size=8)
HANGUL = st.text(st.characters(min_codepoint=0xAC00, max_codepoint=0xD7A3), min_size=1, max_size=12)
HOST = st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=8)
URL = st.builds("https://{}.example.com/{}{}".format, HOST, WORD, st.sampled_from(["", ")", "."]))
LATEX = st.sampled_from(["R$^3$", "ReST$^\\text{EM}$", "\\textit{x}", "8×8×", "$\\alpha < \\beta$", "a_{i} & b"])


def _line(alphabet: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """A non-blank line that mixes pasted text with URLs and LaTeX-ish bits."""
    piece = st.one_of(st.text(alphabet, min_size=1, max_size=30), URL, LATEX, WORD)
    return st.lists(piece, min_size=1, max_size=5).map(" ".join).filter(lambda line: line.strip())


def _not_special(line: str) -> bool:
    """A title or body line must not read as a tag line, and a body line must not look like a byline."""
    first = line.split(maxsplit=1)[0] if line.split() else ""
    return not first.startswith("#")


TAG = st.one_of(
    WORD,
    HANGUL,
    st.sampled_from(["rlhf", "RLHF", "수학", "../../etc", "CON", "a/b", ".", "x" * 80, "<script>", "]]>", "a&b"]),
)


@st.composite
def entries(draw: st.DrawFn) -> list[str]:
    title = draw(_line(PASTED).filter(_not_special))
    lines = [title]
    byline = draw(st.sampled_from(["authors", "url", "none"]))
    if byline == "authors":
        lines.append("(" + ", ".join(draw(st.lists(_line(PASTED), min_size=1, max_size=3))) + ")")
    elif byline == "url":
        lines.append(draw(URL))
    abstract = draw(st.lists(_line(st.characters(max_codepoint=0x2FF, blacklist_categories=("Cs", "Cc"))), max_size=3))
    commentary = draw(st.lists(st.builds("{} {}".format, HANGUL, _line(PASTED)), max_size=3))
    lines += [line for line in abstract + commentary if _not_special(line)]
    tags = draw(st.lists(TAG, min_size=1, max_size=4))
    lines.append(" ".join("#" + tag for tag in tags))
    return lines


@st.composite
def digest_bytes(draw: st.DrawFn) -> bytes:
    """A valid digest: a date line, entries, and the quirks of real files (CRLF, BOM, no final newline)."""
    date = draw(st.dates(min_value=__import__("datetime").date(1990, 1, 1)))
    date_line = draw(st.sampled_from([words.long_date(date), date.isoformat(), date.strftime("%B %d, %Y")]))
    lines = [date_line]
    for entry in draw(st.lists(entries(), min_size=0, max_size=4)):
        lines += entry
        if draw(st.booleans()):
            lines.append("")
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    text = newline.join(lines) + draw(st.sampled_from(["", newline]))
    data = text.encode("utf-8")
    return (b"\xef\xbb\xbf" + data) if draw(st.booleans()) else data


@st.composite
def broken_bytes(draw: st.DrawFn) -> bytes:
    """A valid digest with a few mutations: dropped tag lines, garbage dates, random or invalid bytes."""
    data = draw(digest_bytes())
    for _ in range(draw(st.integers(1, 3))):
        lines = data.split(b"\n")
        kind = draw(st.sampled_from(["drop-tags", "date", "insert", "invalid", "controls", "cut", "swap"]))
        if kind == "drop-tags":
            lines = [line for line in lines if not line.lstrip(b"\xef\xbb\xbf").startswith(b"#")]
        elif kind == "date":
            lines[0] = draw(st.sampled_from([b"2024\xeb\x85\x84 13\xec\x9b\x94 40\xec\x9d\xbc", b"01/02/2024", b""]))
            lines[0] = lines[0] or draw(st.text(PASTED, max_size=20)).encode()
        elif kind == "insert":
            at = draw(st.integers(0, len(lines)))
            lines.insert(at, draw(st.binary(max_size=20)))
        elif kind == "invalid":
            at = draw(st.integers(0, len(lines) - 1))
            lines[at] += draw(st.sampled_from([b"\xff", b"\xc3(", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\x80"]))
        elif kind == "controls":
            at = draw(st.integers(0, len(lines) - 1))
            lines[at] += draw(st.text(st.characters(max_codepoint=0x9F, whitelist_categories=("Cc",)))).encode()
        elif kind == "cut":
            lines = lines[: draw(st.integers(0, len(lines)))]
        else:
            i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        data = b"\n".join(lines)
    return data


# ---------------------------------------------------------------- the reader


def assert_reads_or_names_the_line(data: bytes, path: str = "fuzz/x.txt"):
    """parse_digest returns a model or raises SourceError naming the file and a line inside it."""
    last_line = data.count(b"\n") + 1
    try:
        parsed = parse_digest(data, path)
    except SourceError as error:
        assert error.diagnostics
        for diagnostic in error.diagnostics:
            assert diagnostic.path == path and diagnostic.line is not None, str(diagnostic)
            assert 1 <= diagnostic.line <= last_line, str(diagnostic)
            assert str(diagnostic).startswith(f"{path}:{diagnostic.line}: ")
        return None
    for warning in parsed.warnings:
        assert warning.path == path and 1 <= warning.line <= last_line
    return parsed.digest


@FUZZ
@given(digest_bytes())
def test_valid_digests_read_into_a_model(data: bytes):
    digest = assert_reads_or_names_the_line(data)
    assert digest is not None
    assert all(entry.title and entry.tags for entry in digest.entries)


@FUZZ
@given(broken_bytes())
def test_broken_digests_read_or_fail_with_path_and_line(data: bytes):
    assert_reads_or_names_the_line(data)


@FUZZ
@given(st.binary(max_size=300))
def test_random_bytes_read_or_fail_with_path_and_line(data: bytes):
    assert_reads_or_names_the_line(data)


@FUZZ
@given(st.text(PASTED, max_size=60))
def test_any_first_line_is_a_date_or_a_clear_error(line: str):
    assert_reads_or_names_the_line(f"{line}\nTitle\n노트\n#tag\n".encode())


# ---------------------------------------------------------------- every model renders


class _Text(HTMLParser):
    """Everything html.parser reads as text (entities decoded), and every element it sees."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.elements: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.elements.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def html_text(html: str) -> tuple[str, list[str]]:
    parser = _Text()
    parser.feed(html)
    parser.close()
    return "".join(parser.text), parser.elements


def render_outputs(data: bytes) -> tuple[object, dict[str, bytes]]:
    digest = parse_digest(data, "fuzz/x.txt").digest
    try:
        catalog = make_catalog([digest])
    except SourceError as error:  # two tags of the digest share a slug: a clear error, nothing to render
        assert all(d.line for d in error.diagnostics) and "same URL slug" in str(error)
        assume(False)
    return digest, {output.relpath: output.data for output in render_all(catalog, CONTEXT)}


@RENDER
@given(digest_bytes())
def test_every_model_renders_to_outputs_real_clients_read(data: bytes):
    digest, files = render_outputs(data)
    titles = [entry.title for entry in digest.entries]
    for relpath, body in files.items():
        if relpath == "sitemap.xml":
            etree.fromstring(body)
        elif relpath.endswith(".xml"):
            etree.fromstring(body)  # well-formed XML, strictly
            feed = feedparser.parse(body)
            assert not feed.bozo, (relpath, feed.get("bozo_exception"))
        elif relpath.endswith(".opml"):
            etree.fromstring(body)
        elif relpath.endswith("feed.json"):
            for item in json.loads(body)["items"]:
                text, elements = html_text(item["content_html"])
                assert "script" not in elements
        elif relpath.endswith(".html"):
            text, elements = html_text(body.decode("utf-8"))
            # the search page's own script (the template's, never the text's) is the only one
            assert elements.count("script") == (relpath == "search/index.html"), relpath
            if relpath.startswith(("issues/", "email/")):
                for title in titles:
                    assert title in text, (relpath, title)
    if digest.entries:
        assert_eml_reads_back(digest, files)
    else:  # nothing to mail: the reader warned, the build goes on
        assert not [relpath for relpath in files if relpath.startswith(("email/", "send/"))]


def assert_eml_reads_back(digest, files: dict[str, bytes]) -> None:
    day = digest.date.isoformat()
    message = email.message_from_bytes(files[f"email/{day}.eml"], policy=policy.default)
    assert message["Subject"] == words.email_subject(CONFIG.site.title, digest.date, len(digest.entries))
    assert message["To"].addresses[0].addr_spec == CONFIG.email.list_address
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert text == files[f"email/{day}.txt"].decode("utf-8")
    html = message.get_body(("html",)).get_content().replace("\r\n", "\n")
    assert html == files[f"email/{day}.html"].decode("utf-8").replace("\r\n", "\n")
    lines = set(text.split("\n"))
    for entry in digest.entries:
        assert entry.title in lines  # the whole title, as written, on a line of its own
        for line in entry.commentary:  # links delimited as test_links.py says
            assert plain_links(line) in lines


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_a_hand_written_digest_through_the_same_checks(newline: str):
    """The property's checks on a fixed digest, so that a failure here is easy to read."""
    text = newline.join(
        ["2024년 7월 25일", "Title <b>&amp;</b>", "(A, B)", "Abstract R$^3$.", "노트 \u202e", "#a #수학"]
    )
    digest, files = render_outputs(text.encode())
    assert_eml_reads_back(digest, files)
