"""publisher/render/feedxml.py writes RSS and Atom as strings; these tests prove its bytes are
feedgen's (tests/feedgen_reference.py, the code it replaced) for any document, and for every feed
of a generated archive built through the real pipeline.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
from pathlib import Path

import feedparser
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from bench.make_corpus import make_corpus
from publisher.build.pipeline import build
from publisher.config import load_config
from publisher.digests.catalog import make_catalog
from publisher.digests.parse import parse_sources
from publisher.digests.sources import read_sources
from publisher.render import feedwriters, feedxml
from publisher.render.context import Context
from publisher.render.feedmodel import Channel, Document, Item
from publisher.render.feeds import render_feeds
from publisher.render.templating import load_theme

from . import feedgen_reference
from .conftest import ROOT
from .test_feeds import built_feeds, is_feed

CONFIG = load_config(ROOT / "publisher.toml")
EXAMPLES = settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
FEWER = settings(EXAMPLES, max_examples=100)

# ---------------------------------------------------------------- strategies

# Every character lxml accepts: all but surrogates, U+FFFE, U+FFFF and the C0 controls besides tab,
# newline and carriage return. feeds.py's xml_safe removes more (CR, DEL, C1); a wider alphabet here
# proves the escaping for text that has not been through it.
FORBIDDEN = "".join(map(chr, [*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])) + "\ufffe\uffff"
CHAR = st.characters(blacklist_categories=("Cs",), blacklist_characters=FORBIDDEN)
PIECES = ("&", "<", ">", '"', "'", "]]>", "&amp;", "<b>x</b>", "\t", "\n", "\r", "\r\n", " ", "한국어", "😀", "\x85")
TEXT = st.lists(st.one_of(st.text(CHAR, max_size=6), st.sampled_from(PIECES)), max_size=8).map("".join)
LONG = st.lists(st.one_of(st.text(CHAR, max_size=40), st.sampled_from(PIECES)), max_size=30).map("".join)
ZONE = st.one_of(
    st.timezones(),
    st.builds(dt.timezone, st.timedeltas(min_value=dt.timedelta(hours=-23), max_value=dt.timedelta(hours=23))),
)
MOMENT = st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2100, 1, 1), timezones=ZONE)
# feedgen refuses other rels; these are the ones feeds.py gives
LINKS = st.lists(st.tuples(st.sampled_from(["hub", "prev-archive", "next-archive", "current"]), TEXT), max_size=3)

ITEMS = st.lists(
    st.builds(
        Item,
        id=TEXT,
        title=TEXT,
        url=TEXT,
        published=MOMENT,
        content_html=LONG,
        categories=st.one_of(st.just(()), st.lists(TEXT, max_size=12).map(tuple)),
    ),
    min_size=1,
    max_size=5,
    unique_by=lambda item: item.id,  # within one channel an id names one item (feedgen's cache assumed it)
)


@st.composite
def channels(draw) -> tuple[Context, Channel, list[tuple[Document, tuple[Item, ...]]]]:
    """A site, a channel and one to four of its documents, whose items overlap (the cache is used)."""
    site = dataclasses.replace(
        CONFIG.site,
        author=draw(TEXT),
        language=draw(st.sampled_from(["ko", "en-US", ""]) | TEXT),
        base_url=draw(st.sampled_from(["https://example.org/", "https://a.example/x&y/", "http://h/\"q'/"])),
    )
    context = Context(dataclasses.replace(CONFIG, site=site), None)
    channel = Channel(None, draw(TEXT), draw(TEXT), draw(TEXT), draw(TEXT), ())
    pool = draw(ITEMS)
    documents = []
    for _ in range(draw(st.integers(1, 4))):
        fmt, archive = draw(st.sampled_from([("rss", False), ("atom", False), ("atom", True), ("rss", True)]))
        document = Document(fmt, draw(TEXT), (), tuple(draw(LINKS)), archive)
        chosen = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=len(pool)))
        documents.append((document, tuple(chosen)))
    return context, channel, documents


def outcome(write, *args) -> list[bytes] | str:
    """The bytes, or the error that refused the documents (feedgen refuses empty required fields)."""
    try:
        return write(*args)
    except ValueError:
        return "ValueError"


# ---------------------------------------------------------------- any document


@EXAMPLES
@given(channels())
def test_any_document_is_written_as_feedgen_wrote_it(case):
    context, channel, documents = case
    assert outcome(feedwriters.write, channel, documents, context) == outcome(
        feedgen_reference.write, channel, documents, context
    )


@FEWER
@given(channels())
def test_every_document_feedgen_accepts_is_well_formed_and_says_the_same(case):
    """The same bytes as feedgen, so the same reading: lxml's strict parser gives back every text."""
    context, channel, documents = case
    written = outcome(feedwriters.write, channel, documents, context)
    if written == "ValueError":
        return
    for (document, items), data in zip(documents, written, strict=True):
        root = etree.fromstring(data)
        if document.fmt == "rss":
            assert [item.findtext("description") for item in root.iter("item")] == [i.content_html for i in items]
        else:
            contents = root.iter("{http://www.w3.org/2005/Atom}content")
            assert [content.text or "" for content in contents] == [i.content_html for i in items]


def test_escaping_is_lxmls():
    sample = "a & b < c > d \" e ' f ]]> g\th\ni\rj 한 😀"
    element = etree.Element("x", value=sample)
    element.text = sample
    expected = f'<x value="{feedxml.attr(sample)}">{feedxml.text(sample)}</x>'
    assert etree.tostring(element, encoding="unicode") == expected


def test_rss_dates_have_english_names_and_numeric_zones():
    moment = dt.datetime(2024, 7, 25, 7, 0, tzinfo=dt.timezone(dt.timedelta(hours=9)))
    assert feedxml.rfc822(moment) == "Thu, 25 Jul 2024 07:00:00 +0900"
    assert feedxml.rfc822(moment.replace(month=1, day=1, tzinfo=dt.UTC)) == "Mon, 01 Jan 2024 07:00:00 +0000"


# ---------------------------------------------------------------- a whole archive


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """300 generated digests (about 350 topics, drifting spellings), small feeds so that archives
    exist, and a WebSub hub."""
    site = tmp_path_factory.mktemp("corpus")
    make_corpus(300, site / "seeds", seed=7)
    config = (ROOT / "publisher.toml").read_text(encoding="utf-8").replace("size = 50 ", "size = 20 ")
    config = config.replace('hub = ""', 'hub = "https://hub.example.org/?a=1&b=2"')
    assert "size = 20 " in config and "hub.example.org" in config
    (site / "publisher.toml").write_text(config, encoding="utf-8")
    return site


def test_a_built_archive_has_feedgens_bytes_in_every_feed(corpus: Path, monkeypatch: pytest.MonkeyPatch):
    config = load_config(corpus / "publisher.toml").with_paths(out=corpus / "out")
    build(config, use_cache=False, index_search=False)  # the real pipeline, workers and all
    written = {relpath: data for relpath, data in built_feeds(corpus / "out").items() if is_feed(relpath)}
    shutil.rmtree(corpus / "out")

    monkeypatch.setitem(feedwriters.WRITERS, "rss", feedgen_reference.document_bytes)
    monkeypatch.setitem(feedwriters.WRITERS, "atom", feedgen_reference.document_bytes)
    digests, _ = parse_sources(read_sources(config.paths.seeds))
    outputs = render_feeds(make_catalog(digests), Context(config, load_theme()))
    reference = {output.relpath: output.data for output in outputs if is_feed(output.relpath)}

    xml = [relpath for relpath in written if relpath.endswith(".xml")]
    assert len(xml) > 600 and any("/archive/" in relpath for relpath in xml)
    assert reference.keys() == written.keys()
    assert [relpath for relpath in written if written[relpath] != reference[relpath]] == []
    for relpath in xml:
        parsed = feedparser.parse(written[relpath])
        assert not parsed.bozo and parsed.entries, (relpath, parsed.get("bozo_exception"))
