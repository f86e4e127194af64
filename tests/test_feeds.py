"""Feeds, checked by real clients: feedparser, lxml's strict XML parser, json, and the W3C validator's rules."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

import feedparser
import lxml.html
import pytest
from lxml import etree

from publisher.config import Config, load_config
from publisher.digests.catalog import Catalog, make_catalog
from publisher.digests.model import Digest, Entry, Tag
from publisher.digests.parse import parse_digest, parse_sources
from publisher.digests.sources import read_sources
from publisher.render import paths, words
from publisher.render.context import Context
from publisher.render.feeds import render_feeds
from publisher.render.templating import load_theme

from .conftest import ROOT, SEEDS

ATOM = "http://www.w3.org/2005/Atom"
HISTORY = "http://purl.org/syndication/history/1.0"
RFC822 = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} "
    r"\d{2}:\d{2}:\d{2} [+-]\d{4}$"
)
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})$")


def atom(name: str) -> str:
    return f"{{{ATOM}}}{name}"


# ---------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def theme():
    return load_theme()


@pytest.fixture(scope="module")
def config() -> Config:
    return load_config(ROOT / "publisher.toml")


@pytest.fixture(scope="module")
def seeds_catalog() -> Catalog:
    digests, _ = parse_sources(read_sources(SEEDS))
    return make_catalog(digests)


def with_feeds(config: Config, **feeds) -> Config:
    return dataclasses.replace(config, feeds=dataclasses.replace(config.feeds, **feeds))


def render(catalog: Catalog, config: Config, theme) -> dict[str, bytes]:
    outputs = render_feeds(catalog, Context(config, theme))
    files = {output.relpath: output.data for output in outputs}
    assert len(files) == len(outputs), "a feed path was produced twice"
    return files


def generated_digest(day: dt.date, number: int, extra: str = "") -> Digest:
    """A small digest: one note tagged #topic, every other one also #even."""
    tags = "#topic #even" if number % 2 == 0 else "#topic"
    text = f"{day.isoformat()}\nPaper {number}\n(Author {number})\n{number}번째 노트입니다.{extra}\n{tags}\n"
    return parse_digest(text.encode(), f"gen/{number}.txt").digest


def generated_catalog(count: int) -> Catalog:
    start = dt.date(2024, 1, 1)
    return make_catalog([generated_digest(start + dt.timedelta(days=n), n) for n in range(count)])


def content_of(entry) -> str:
    """The item's HTML as feedparser gives it (Atom content, RSS description)."""
    return entry.content[0].value if "content" in entry else entry.summary


def entry_titles(html: str) -> list[str]:
    return [h2.text_content() for h2 in lxml.html.fragment_fromstring(html, create_parent="div").iter("h2")]


def urls_in_html(html: str) -> list[str]:
    root = lxml.html.fragment_fromstring(html, create_parent="div")
    return [el.get(name) for el in root.iter() for name in ("href", "src") if el.get(name) is not None]


def is_absolute(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def parse_feed(data: bytes):
    parsed = feedparser.parse(data)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return parsed


def is_feed(relpath: str) -> bool:
    name = relpath.rsplit("/", 1)[-1]
    return name in ("feed.xml", "atom.xml", "feed.json") or "/archive/" in f"/{relpath}"


def built_feeds(out: Path) -> dict[str, bytes]:
    files = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    return {relpath: data for relpath, data in files.items() if is_feed(relpath) or relpath == paths.OPML}


def raw_contents(data: bytes) -> list[str]:
    """The items' HTML exactly as written (feedparser would sanitize it)."""
    root = etree.fromstring(data)
    if root.tag == "rss":
        return [item.findtext("description") for item in root.iter("item")]
    return [content.text for content in root.iter(atom("content"))]


def assert_w3c_rules(relpath: str, data: bytes, public: str) -> None:
    """What the W3C feed validator checks that feedparser forgives."""
    root = etree.fromstring(data)
    hrefs = [el.get("href") for el in root.iter() if el.get("href") is not None]
    if root.tag == "rss":
        channel = root.find("channel")
        for date in (*channel.iter("pubDate"), *channel.iter("lastBuildDate")):
            assert RFC822.match(date.text), (relpath, date.text)
        guids = list(channel.iter("guid"))
        assert guids and all(g.get("isPermaLink") == "false" and g.text.startswith("tag:") for g in guids)
        hrefs += [link.text for link in channel.iter("link")]
        self_links = [ln.get("href") for ln in channel.findall(atom("link")) if ln.get("rel") == "self"]
    else:
        assert root.tag == atom("feed"), relpath
        for date in (*root.iter(atom("updated")), *root.iter(atom("published"))):
            assert RFC3339.match(date.text), (relpath, date.text)
        updated = [entry.findtext(atom("updated")) for entry in root.iter(atom("entry"))]
        assert updated and len(set(updated)) == len(updated), f"{relpath}: two entries share atom:updated"
        assert all(content.get("type") == "html" for content in root.iter(atom("content"))), relpath
        self_links = [ln.get("href") for ln in root.findall(atom("link")) if ln.get("rel") == "self"]
    assert self_links == [public], relpath
    for content in raw_contents(data):
        hrefs += urls_in_html(content)
    relative = [href for href in hrefs if not is_absolute(href)]
    assert not relative, f"{relpath}: relative URLs {relative[:3]}"


# ---------------------------------------------------------------- the built seeds


def test_main_feeds_hold_one_item_per_digest_with_every_entry(built, seeds_catalog, config):
    urls = Context(config, None).urls
    expected_ids = [paths.tag_uri(config.feeds.id_authority, f"issue/{d.date}") for d in seeds_catalog.digests]
    assert len(expected_ids) == 5
    for fmt in ("rss", "atom"):
        parsed = parse_feed((built / paths.feed(fmt)).read_bytes())
        assert [e.id for e in parsed.entries] == expected_ids
        for entry, digest in zip(parsed.entries, seeds_catalog.digests, strict=True):
            # a reader's list shows the item title alone: it names the first paper and how many more
            more = f" 외 {len(digest.entries) - 1}편" if len(digest.entries) > 1 else ""
            assert entry.title == digest.entries[0].title + more
            # RSS items name their author (dc:creator); Atom entries inherit the feed's <author>
            assert (entry.author if fmt == "rss" else parsed.feed.author) == config.site.author
            assert entry.link == urls.public(paths.issue_page(digest.date))
            assert entry_titles(content_of(entry)) == [e.title for e in digest.entries]
            assert {t.term for t in entry.tags} == {t.name for t in digest.tags}
        assert parsed.feed.link == urls.public(paths.home())  # RSS <link> is feedgen's last link: the home page
    feed = json.loads((built / paths.feed("json")).read_text("utf-8"))
    assert [item["id"] for item in feed["items"]] == expected_ids
    for item, digest in zip(feed["items"], seeds_catalog.digests, strict=True):
        assert entry_titles(item["content_html"]) == [e.title for e in digest.entries]


def test_atom_names_the_site_first_and_rss_items_name_their_author(config, theme, seeds_catalog):
    """Some parsers take an Atom feed's first link for the site: `alternate` comes before `self` in every
    Atom document (feeds, tag feeds, archives). RSS keeps the site as <channel><link>, and its items
    name an author (dc:creator: RSS's own <author> must be an address)."""
    small = dataclasses.replace(config, feeds=dataclasses.replace(config.feeds, size=2))
    outputs = {o.relpath: o.data for o in render_feeds(seeds_catalog, Context(small, theme))}
    atoms = [relpath for relpath in outputs if relpath.endswith("atom.xml") or "/archive/" in f"/{relpath}"]
    assert len(atoms) > 40 and any("archive/" in relpath for relpath in atoms)
    for relpath in atoms:
        links = etree.fromstring(outputs[relpath]).findall(atom("link"))
        assert [ln.get("rel") for ln in links][:2] == ["alternate", "self"], relpath
    home = Context(small, theme).urls.public(paths.home())
    rss = etree.fromstring(outputs[paths.feed("rss")])
    assert rss.findtext("channel/link") == home
    creators = rss.findall("channel/item/{http://purl.org/dc/elements/1.1/}creator")
    assert [c.text for c in creators] == [config.site.author] * len(rss.findall("channel/item")) != []


def test_every_tag_feed_holds_only_the_entries_with_that_tag(built, seeds_catalog, config):
    authority = config.feeds.id_authority
    assert len(seeds_catalog.topics) == 36
    for summary in seeds_catalog.topics:
        tag = summary.topic
        digests = seeds_catalog.with_tag(tag)
        ids = [paths.tag_uri(authority, f"tag/{tag.slug}/{d.date}") for d in digests]
        wanted = [[e.title for e in d.entries_with(tag)] for d in digests]
        for fmt in ("rss", "atom"):
            parsed = parse_feed((built / paths.feed(fmt, tag)).read_bytes())
            assert parsed.feed.title == words.tag_title(config.site.title, tag)
            assert [e.id for e in parsed.entries] == ids
            assert [entry_titles(content_of(e)) for e in parsed.entries] == wanted
            assert [e.title for e in parsed.entries] == [
                words.notes_title([e.title for e in d.entries_with(tag)]) for d in digests
            ]
            assert all(tag.name in {t.term for t in e.tags} for e in parsed.entries)
            # the item links to the issue page, at the first note that carries the tag
            assert [unquote(urlsplit(e.link).fragment) for e in parsed.entries] == [
                d.entries_with(tag)[0].anchor for d in digests
            ]
        feed = json.loads((built / paths.feed("json", tag)).read_text("utf-8"))
        assert [item["id"] for item in feed["items"]] == ids
        assert [entry_titles(item["content_html"]) for item in feed["items"]] == wanted


def test_built_feeds_follow_the_w3c_validator_rules(built, config):
    urls = Context(config, None).urls
    xml_feeds = [relpath for relpath in built_feeds(built) if relpath.endswith(".xml")]
    assert len(xml_feeds) == 2 * 37
    for relpath in xml_feeds:
        assert_w3c_rules(relpath, (built / relpath).read_bytes(), urls.public(relpath))


def test_json_feeds_have_the_required_fields(built, config):
    urls = Context(config, None).urls
    json_feeds = [relpath for relpath in built_feeds(built) if relpath.endswith(".json")]
    assert len(json_feeds) == 37
    for relpath in json_feeds:
        feed = json.loads((built / relpath).read_text("utf-8"))
        assert feed["version"] == "https://jsonfeed.org/version/1.1"
        assert feed["title"] and is_absolute(feed["home_page_url"])
        assert feed["feed_url"] == urls.public(relpath)
        assert feed["items"]
        for item in feed["items"]:
            assert isinstance(item["id"], str) and item["id"].startswith("tag:")
            assert isinstance(item["content_html"], str) and item["content_html"]
            assert is_absolute(item["url"])
            assert dt.datetime.fromisoformat(item["date_published"]).utcoffset() is not None
            assert all(is_absolute(url) for url in urls_in_html(item["content_html"]))


def test_feed_dates_come_from_the_content(built, seeds_catalog, config):
    newest = config.site.published(seeds_catalog.digests[0].date)
    parsed = parse_feed((built / paths.feed("atom")).read_bytes())
    assert dt.datetime.fromisoformat(parsed.feed.updated) == newest
    assert newest.isoformat() == "2024-07-25T07:00:00+09:00"
    rss = etree.fromstring((built / paths.feed("rss")).read_bytes())
    assert rss.findtext("channel/lastBuildDate") == "Thu, 25 Jul 2024 07:00:00 +0900"
    oldest_tag = seeds_catalog.topics[0].topic  # a tag feed's date is its own newest item's
    tag_feed = parse_feed((built / paths.feed("atom", oldest_tag)).read_bytes())
    expected = config.site.published(seeds_catalog.with_tag(oldest_tag)[0].date)
    assert dt.datetime.fromisoformat(tag_feed.feed.updated) == expected


def test_opml_lists_every_tag_feed(built, seeds_catalog, config):
    urls = Context(config, None).urls
    root = etree.fromstring((built / paths.OPML).read_bytes())
    assert root.get("version") == "2.0"
    assert root.find("head/dateCreated") is None  # no clock in the output
    outlines = [o for o in root.iter("outline") if o.get("xmlUrl")]
    assert len(outlines) == 36
    for outline, summary in zip(outlines, seeds_catalog.topics, strict=True):
        assert outline.get("type") == "rss"
        assert outline.get("text") == f"#{summary.topic.name}"
        assert outline.get("title") == words.tag_title(config.site.title, summary.topic)
        assert outline.get("xmlUrl") == urls.public(paths.feed("rss", summary.topic))
        assert outline.get("htmlUrl") == urls.public(paths.tag_page(summary.topic))
        assert (built / paths.feed("rss", summary.topic)).is_file()


# ---------------------------------------------------------------- size and RFC 5005 archives


def follow_archives(files: dict[str, bytes], urls, tag: Tag | None) -> list[str]:
    """Every item id met from the Atom feed through prev-archive links, as a reader would collect them."""
    by_url = {urls.public(relpath): relpath for relpath in files}
    relpath, seen, ids = paths.feed("atom", tag), set(), []
    while relpath:
        assert relpath not in seen, "prev-archive links loop"
        seen.add(relpath)
        parsed = parse_feed(files[relpath])
        ids += [entry.id for entry in parsed.entries]
        root = etree.fromstring(files[relpath])
        assert (root.find(f"{{{HISTORY}}}archive") is not None) == (relpath != paths.feed("atom", tag))
        if relpath != paths.feed("atom", tag):
            assert {"self", "current"} <= {link.rel for link in parsed.feed.links}
            current = next(link.href for link in parsed.feed.links if link.rel == "current")
            assert current == urls.public(paths.feed("atom", tag))
        older = [link.href for link in parsed.feed.links if link.rel == "prev-archive"]
        relpath = by_url[older[0]] if older else None
    return ids


def test_feeds_hold_the_newest_items_and_archives_hold_the_rest_exactly_once(config, theme):
    small = with_feeds(config, size=2)
    urls = Context(small, theme).urls
    catalog = generated_catalog(7)
    files = render(catalog, small, theme)
    main_ids = [paths.tag_uri(small.feeds.id_authority, f"issue/{d.date}") for d in catalog.digests]
    for fmt in ("rss", "atom"):
        assert [e.id for e in parse_feed(files[paths.feed(fmt)]).entries] == main_ids[:2]
    assert len(json.loads(files[paths.feed("json")])["items"]) == 2
    assert follow_archives(files, urls, None) == main_ids  # newest first, each once
    assert sorted(r for r in files if r.startswith("archive/")) == ["archive/1.xml", "archive/2.xml", "archive/3.xml"]
    even = Tag("even", "even")
    even_ids = [paths.tag_uri(small.feeds.id_authority, f"tag/even/{d.date}") for d in catalog.with_tag(even)]
    assert len(even_ids) == 4 and follow_archives(files, urls, even) == even_ids
    for relpath, data in files.items():
        if relpath.endswith(".xml"):
            assert_w3c_rules(relpath, data, urls.public(relpath))
    # The oldest archive holds the oldest items, and a new digest changes only the newest archive.
    assert [e.id for e in parse_feed(files["archive/1.xml"]).entries] == main_ids[-2:]
    grown = render(generated_catalog(8), small, theme)
    assert grown["archive/1.xml"] == files["archive/1.xml"] and grown["archive/2.xml"] == files["archive/2.xml"]
    assert grown["archive/3.xml"] != files["archive/3.xml"] and "archive/4.xml" not in grown


def test_hub_is_announced_by_every_feed(config, theme, seeds_catalog):
    hub = "https://pubsubhubbub.appspot.com/"
    files = render(seeds_catalog, with_feeds(config, hub=hub), theme)
    for relpath, data in files.items():
        if relpath.endswith(".json"):
            assert json.loads(data)["hubs"] == [{"type": "WebSub", "url": hub}]
        elif relpath.endswith(".xml"):
            links = etree.fromstring(data).iter(atom("link"))
            assert [ln.get("href") for ln in links if ln.get("rel") == "hub"] == [hub], relpath
    assert b'rel="hub"' not in render(seeds_catalog, config, theme)[paths.feed("rss")]


# ---------------------------------------------------------------- ids


def item_ids(files: dict[str, bytes]) -> dict[str, list[str]]:
    ids = {}
    for relpath, data in files.items():
        if relpath.endswith(".json"):
            ids[relpath] = [item["id"] for item in json.loads(data)["items"]]
        elif relpath.endswith(".xml"):
            ids[relpath] = [entry.id for entry in parse_feed(data).entries]
    return ids


def test_ids_survive_new_digests_edits_and_a_new_base_url(config, theme, seeds_catalog):
    before = item_ids(render(seeds_catalog, config, theme))
    # another digest: the old items keep their ids, the new one comes first
    newer = generated_digest(dt.date(2024, 8, 1), 1)
    grown = item_ids(render(make_catalog([*seeds_catalog.digests, newer]), config, theme))
    for relpath, ids in before.items():
        assert grown[relpath][-len(ids) :] == ids, relpath
    assert grown[paths.feed("atom")][0] == paths.tag_uri(config.feeds.id_authority, "issue/2024-08-01")
    # a body line edited: same ids, different content
    digest = seeds_catalog.digests[2]
    first = digest.entries[0]
    edited_entry = dataclasses.replace(first, commentary=(*first.commentary[:-1], "고쳐 쓴 마지막 줄."))
    edited = dataclasses.replace(digest, entries=(edited_entry, *digest.entries[1:]))
    catalog = make_catalog([edited if d is digest else d for d in seeds_catalog.digests])
    edited_files = render(catalog, config, theme)
    assert item_ids(edited_files) == before
    assert edited_files[paths.feed("atom")] != render(seeds_catalog, config, theme)[paths.feed("atom")]
    # the site moves to another domain: links change, ids do not
    site = dataclasses.replace(config.site, base_url="https://digest.example.org/notes/")
    moved = render(seeds_catalog, dataclasses.replace(config, site=site), theme)
    assert item_ids(moved) == before
    assert b"https://digest.example.org/notes/issues/" in moved[paths.feed("rss")]


def test_main_and_tag_ids_are_distinct(config, theme, seeds_catalog):
    ids = item_ids(render(seeds_catalog, config, theme))
    main = {i for relpath in map(paths.feed, paths.FEED_FORMATS) for i in ids[relpath]}
    tagged = {i for relpath, found in ids.items() if relpath.startswith("tags/") for i in found}
    assert len(main) == 5 and len(tagged) == sum(len(s.dates) for s in seeds_catalog.topics)
    assert not main & tagged
    files = render(seeds_catalog, config, theme)
    feed_ids = [etree.fromstring(data).findtext(atom("id")) for r, data in files.items() if r.endswith("atom.xml")]
    assert len(feed_ids) == 37 == len(set(feed_ids)) and not set(feed_ids) & (main | tagged)


# ---------------------------------------------------------------- determinism


def build_in_subprocess(folder: Path, environment: dict[str, str], reverse: bool) -> dict[str, bytes]:
    """Build a copy of the seeds, renamed so that listing order is reversed, with a small feed size."""
    seeds = folder / "seeds"
    (seeds / "nested").mkdir(parents=True)
    for number, source in enumerate(sorted(SEEDS.glob("*.txt"), reverse=reverse)):
        target = seeds / ("nested" if number % 2 else ".") / f"{'zyx'[number % 3]}-{number}.txt"
        shutil.copyfile(source, target)
    text = (ROOT / "publisher.toml").read_text("utf-8")
    assert "size = 50" in text
    (folder / "publisher.toml").write_text(text.replace("size = 50", "size = 2"), "utf-8")
    env = {**os.environ, **environment}
    command = [sys.executable, "-m", "publisher", "build", "--config", "publisher.toml", "--seeds", "seeds"]
    result = subprocess.run([*command, "--out", "out"], cwd=folder, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return built_feeds(folder / "out")


def test_feeds_are_byte_identical_across_environments_and_file_order(tmp_path):
    first = build_in_subprocess(
        tmp_path / "a", {"TZ": "Pacific/Kiritimati", "LANG": "C", "LC_ALL": "C", "PYTHONHASHSEED": "1"}, False
    )
    second = build_in_subprocess(
        tmp_path / "b",
        {"TZ": "America/Los_Angeles", "LANG": "ko_KR.UTF-8", "LC_ALL": "ko_KR.UTF-8", "PYTHONHASHSEED": "4242"},
        True,
    )
    assert "archive/1.xml" in first and paths.OPML in first and len(first) > 3 * 37
    assert first.keys() == second.keys()
    assert [r for r in first if first[r] != second[r]] == []


# ---------------------------------------------------------------- hostile text


HOSTILE = (
    "2024-08-01\n"
    '<script>alert("t")</script> Q&A ]]> \x01\x1b end\n'
    "(A & B <c@d.org>, ]]>)\n"
    "Abstract with <b>bold</b> & ]]> \x85 and https://example.org/a?b=1&c=2\n"
    "한국어 노트 <img src=x onerror=alert(1)> & ]]> \x0b &amp; <![CDATA[ x ]]>\n"
    "#a&b #<script>\n"
)


def assert_safe(files: dict[str, bytes], title: str) -> None:
    for relpath, data in files.items():
        if relpath.endswith(".xml"):
            etree.fromstring(data)  # strict: raises on anything not well-formed
            if relpath != paths.OPML:
                assert entry_titles(content_of(parse_feed(data).entries[0])) == [title], relpath
            contents = raw_contents(data)
        elif relpath.endswith(".json"):
            contents = [item["content_html"] for item in json.loads(data)["items"]]
        else:
            continue
        for html in contents:
            root = lxml.html.fragment_fromstring(html, create_parent="div")
            assert not list(root.iter("script", "img", "b")), f"{relpath}: markup from the text became HTML"
            assert entry_titles(html) == [title]


def test_hostile_text_yields_well_formed_escaped_feeds(config, theme):
    digest = parse_digest(HOSTILE.encode(), "hostile.txt").digest
    title = digest.entries[0].title
    assert "<script>" in title and "]]>" in title and "\x01" not in title  # the reader keeps text, drops controls
    files = render(make_catalog([digest]), config, theme)
    assert {paths.feed("rss", Tag("<script>", "script")), paths.feed("atom", Tag("a&b", "a-b"))} <= files.keys()
    assert_safe(files, title)
    assert b"<script>" not in b"".join(data for relpath, data in files.items() if not relpath.endswith(".json"))


def test_control_characters_that_bypass_the_reader_never_reach_the_xml(config, theme):
    tag = Tag("t\x00ag", "tag")
    entry = Entry("bad\x00\x1b title ]]>", ("A\x07",), None, ("abs\x0c",), ("노트\x8f",), (tag,), "bad", 2)
    files = render(make_catalog([Digest(dt.date(2024, 8, 1), "x.txt", (entry,))]), config, theme)
    assert_safe(files, "bad title ]]>")
