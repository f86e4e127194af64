"""What a reader meets around the pages: a favicon, a share preview with each page's own description,
English marked as English, sitemap.xml dated by content, robots.txt naming it, a 404 page that works
at any address."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urljoin

import lxml.html
import pytest
from lxml import etree

from publisher.build.pipeline import check
from publisher.config import load_config
from publisher.digests.catalog import Catalog
from publisher.render import discovery, paths, words
from publisher.render.archive import og_locale
from publisher.text import has_hangul

from .conftest import ROOT, SEEDS

CONFIG = load_config(ROOT / "publisher.toml")
BASE = CONFIG.site.base_url
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    checked = check(CONFIG.with_paths(seeds=SEEDS))
    assert checked.catalog is not None
    return checked.catalog


def head(built: Path, relpath: str) -> dict[str, str]:
    """The page's <meta> (by property or name) and <link> (by rel) values."""
    root = lxml.html.document_fromstring((built / relpath).read_bytes())
    found = {m.get("property") or m.get("name"): m.get("content") for m in root.iter("meta") if m.get("content")}
    found |= {f"link:{ln.get('rel')}": ln.get("href") for ln in root.iter("link") if ln.get("rel") != "alternate"}
    return found


def web_pages(built: Path) -> list[str]:
    return sorted(
        p.relative_to(built).as_posix() for p in built.rglob("*.html") if p.relative_to(built).parts[0] != "email"
    )


def test_every_page_has_a_favicon_and_a_share_preview_of_its_own(built: Path, catalog: Catalog) -> None:
    assert (built / "static/favicon.svg").read_bytes().startswith(b"<svg")
    pages = web_pages(built)
    assert len(pages) == 1 + 5 + 1 + 36 + 1 + 1 + 1  # home, issues, tags page, each tag, subscribe, search, 404
    descriptions = {}
    for relpath in pages:
        meta = head(built, relpath)
        icon = urljoin(BASE + relpath, meta["link:icon"])
        assert icon == BASE + "static/favicon.svg", relpath
        assert meta["og:site_name"] == CONFIG.site.title and meta["og:locale"] == "ko_KR", relpath
        assert meta["og:title"] == meta["twitter:title"] and meta["twitter:card"] == "summary", relpath
        assert meta["og:description"] == meta["twitter:description"] == meta["description"], relpath
        if relpath != paths.NOT_FOUND:
            assert meta["og:url"] == meta["link:canonical"] == BASE + relpath.removesuffix("index.html"), relpath
        descriptions[relpath] = meta["description"]
    # Each page says what it holds: an issue its note titles, a topic its note count.
    for digest in catalog.digests:
        described = descriptions[paths.issue_page(digest.date)]
        assert described == words.issue_description(digest) and digest.entries[0].title in described
        assert len(described) <= words.DESCRIPTION_MAX + 100
        assert head(built, paths.issue_page(digest.date))["og:type"] == "article"
    for summary in catalog.topics:
        assert descriptions[paths.tag_page(summary.topic)].endswith(
            f"#{summary.topic.name} 태그가 붙은 노트 {summary.count}편"
        )
    assert descriptions[paths.home()] == CONFIG.site.description
    assert len(set(descriptions.values())) == len(descriptions)  # no two pages share one


def test_og_locale() -> None:
    assert [og_locale(t) for t in ("ko", "en-GB", "ja", "pt-BR", "eo")] == ["ko_KR", "en_GB", "ja_JP", "pt_BR", "eo"]


def test_english_text_is_marked_english_on_pages(built: Path, catalog: Catalog) -> None:
    for digest in catalog.digests:
        root = lxml.html.document_fromstring((built / paths.issue_page(digest.date)).read_bytes())
        assert root.get("lang") == "ko"
        for entry in digest.entries:
            section = root.get_element_by_id(entry.anchor)
            expected = "ko" if has_hangul(entry.title) else "en"
            assert section.find("h2").get("lang") == expected, entry.title
            texts = {p.text_content(): p.get("lang") for p in section.iter("p")}
            for line in (*entry.commentary, *entry.abstract):
                assert texts[line] == ("ko" if has_hangul(line) else "en"), line
            if entry.authors:
                assert texts[", ".join(entry.authors)] == "en"
    # at least one English abstract line and one Korean note line in the seeds: both branches ran
    lines = [line for d in catalog.digests for e in d.entries for line in (*e.commentary, *e.abstract)]
    assert any(has_hangul(line) for line in lines) and not all(has_hangul(line) for line in lines)


def test_sitemap_lists_every_page_dated_by_its_content(built: Path, catalog: Catalog) -> None:
    root = etree.fromstring((built / paths.SITEMAP).read_bytes())
    listed = {u.findtext(f"{SITEMAP}loc"): u.findtext(f"{SITEMAP}lastmod") for u in root.iter(f"{SITEMAP}url")}
    pages = [relpath for relpath in web_pages(built) if relpath != paths.NOT_FOUND]
    assert set(listed) == {BASE + relpath.removesuffix("index.html") for relpath in pages}
    newest = catalog.digests[0].date.isoformat()
    assert listed[BASE] == listed[BASE + "tags/"] == listed[BASE + "search/"] == newest
    for digest in catalog.digests:
        assert listed[BASE + f"issues/{digest.date}/"] == digest.date.isoformat()
    for summary in catalog.topics:
        assert listed[BASE + f"tags/{summary.topic.slug}/"] == summary.dates[0].isoformat()
    # Dates come from the digests, never the clock: any build on any day writes the same bytes.
    assert all(dt.date.fromisoformat(date) <= catalog.digests[0].date for date in listed.values())


def test_sitemap_and_robots_do_not_depend_on_the_zone_or_hash_seed(tmp_path: Path) -> None:
    made = []
    for zone, seed in (("Pacific/Kiritimati", "1"), ("America/Adak", "2")):
        env = {**os.environ, "TZ": zone, "PYTHONHASHSEED": seed}
        code = (
            "import sys, time; from pathlib import Path; from publisher.config import load_config;"
            "from publisher.build.pipeline import check; from publisher.render import discovery;"
            "from publisher.render.context import Context; from publisher.render.templating import load_theme;"
            f"c = load_config(Path({str(ROOT / 'publisher.toml')!r})).with_paths(seeds=Path({str(SEEDS)!r}));"
            "ctx = Context(c, load_theme(None)); cat = check(c).catalog;"
            "sys.stdout.buffer.write(discovery.sitemap(cat, ctx).data + discovery.robots(ctx).data)"
        )
        made.append(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, check=True).stdout)
    assert made[0] == made[1] and b"<lastmod>" in made[0]


def test_robots_names_the_sitemap(built: Path) -> None:
    robots = (built / paths.ROBOTS).read_text("utf-8")
    assert robots.splitlines() == ["User-agent: *", "Allow: /", "", f"Sitemap: {BASE}sitemap.xml"]


def test_the_404_page_links_from_the_site_root_wherever_it_is_served(built: Path) -> None:
    root = lxml.html.document_fromstring((built / paths.NOT_FOUND).read_bytes())
    base = root.find(".//base").get("href")
    assert base == "/publisher/"  # the path of site.base_url
    assert root.find(".//meta[@name='robots']").get("content") == "noindex"
    assert root.find(".//link[@rel='canonical']") is None
    # GitHub Pages serves it at the missing page's address; every link still reaches a real file.
    missing = "https://example.github.io/publisher/issues/1999-01-01/deep/"
    hrefs = [a.get("href") for a in root.iter("a")] + [ln.get("href") for ln in root.iter("link")]
    for href in hrefs:
        url = urljoin(urljoin(missing, base), href)
        if url.startswith(BASE):
            target = url[len(BASE) :] or "index.html"
            assert (built / target).is_file(), (href, url)


def test_pages_list_and_discovery_pages_agree(catalog: Catalog) -> None:
    from publisher.render.context import Context
    from publisher.render.templating import load_theme

    listed = [relpath for relpath, _ in discovery.pages(catalog, Context(CONFIG, load_theme(None)))]
    assert len(listed) == len(set(listed)) == 1 + 5 + 1 + 1 + 1 + 36


@pytest.mark.browser
def test_a_shared_link_preview_is_made_from_the_tags_alone(built: Path, browser) -> None:
    """What a chat app shows for a pasted issue link, drawn from the page's Open Graph tags only (no
    other part of the page): site, title, description, address. Saved for the README."""
    import html

    from .browser import SCREENSHOTS

    relpath = "issues/2024-07-25/index.html"
    meta = head(built, relpath)
    tags = [(name, meta[name]) for name in sorted(meta) if name.startswith(("og:", "twitter:"))]
    listing = "".join(f"<tr><th>{html.escape(n)}</th><td>{html.escape(v)}</td></tr>" for n, v in tags)
    card = (
        f'<div class="card"><p class="site">{html.escape(meta["og:site_name"])}</p>'
        f'<p class="title">{html.escape(meta["og:title"])}</p><p class="desc">{html.escape(meta["og:description"])}</p>'
        f'<p class="url">{html.escape(meta["og:url"])}</p></div>'
    )
    style = (
        "body{font:15px sans-serif;margin:24px;background:#f4f5f7;color:#1f2328;width:760px}"
        ".card{border-left:4px solid #0b5cad;background:#fff;padding:10px 16px;border-radius:6px;margin-bottom:18px}"
        ".site{color:#59636e;margin:0}.title{font-weight:bold;color:#0b57d0;margin:4px 0}.desc{margin:4px 0}"
        ".url{color:#59636e;font-size:13px;margin:0}table{border-collapse:collapse;background:#fff;font-size:13px}"
        "th,td{border:1px solid #dde1e6;padding:4px 8px;text-align:left;vertical-align:top}th{white-space:nowrap}"
    )
    page = browser.page(width=820)
    try:
        page.set_content(
            f"<!doctype html><html lang=ko><meta charset=utf-8><style>{style}</style>{card}<table>{listing}</table>"
        )
        shown = page.text_content(".card")
        assert "Rule Based Rewards for Language Model Safety" in shown and meta["og:url"] in shown
        assert dict(tags)["og:locale"] == "ko_KR"
        SCREENSHOTS.mkdir(exist_ok=True)
        page.set_viewport_size({"width": 820, "height": 10})
        page.screenshot(path=str(SCREENSHOTS / "share-preview.png"), full_page=True)
    finally:
        page.close()
