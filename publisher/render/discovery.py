"""What crawlers read: `sitemap.xml` (every page, dated by its content) and `robots.txt` naming it.

A page's `lastmod` is the date of the newest digest it shows, never the build's clock: rebuilding
changes nothing, and a page changes its date only when what it shows does.
"""

from __future__ import annotations

import datetime as dt
from html import escape

from ..digests.catalog import Catalog
from . import paths
from .archive import page_cut
from .context import Context
from .output import Group, Output, group_key

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"


def pages(catalog: Catalog, context: Context) -> list[tuple[str, dt.date]]:
    """Every page a reader may land on (not 404.html), with the date of the newest digest it shows:
    the archive pages, the issues, the tags, subscribe and search pages, and the tag pages."""
    web = context.config.web
    digests = catalog.digests  # newest first
    if not digests:
        return []
    newest = digests[0].date
    found = [(paths.home(number), digests[start].date) for number, start, _ in page_cut(len(digests), web.page_size)]
    found += [(paths.issue_page(digest.date), digest.date) for digest in digests]
    found += [(paths.TAGS_INDEX, newest), (paths.SUBSCRIBE, newest), (paths.SEARCH, newest)]
    for summary in catalog.topics:
        dates = [digest.date for digest, _ in catalog.notes_with(summary.topic)]  # as the tag's pages list them
        found += [
            (paths.tag_page(summary.topic, number), dates[start])
            for number, start, _ in page_cut(len(dates), web.tag_page_size)
        ]
    return found


def sitemap(catalog: Catalog, context: Context) -> Output:
    rows = "".join(
        f"  <url><loc>{escape(context.urls.public(page))}</loc><lastmod>{date.isoformat()}</lastmod></url>\n"
        for page, date in pages(catalog, context)
    )
    xml = f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="{SITEMAP_NS}">\n{rows}</urlset>\n'
    return Output(paths.SITEMAP, xml.encode("utf-8"))


def robots(context: Context) -> Output:
    """Everything may be crawled; the sitemap is named by its absolute URL, as the protocol wants."""
    text = f"User-agent: *\nAllow: /\n\nSitemap: {context.urls.public(paths.SITEMAP)}\n"
    return Output(paths.ROBOTS, text.encode("utf-8"))


def discovery_groups(catalog: Catalog, context: Context) -> list[Group]:
    """The sitemap, keyed by its pages and their dates; robots.txt, by nothing but the config."""
    listed = pages(catalog, context)
    return [
        Group(group_key("sitemap", repr(listed)), (), lambda _: [sitemap(catalog, context)]),
        Group(group_key("robots"), (), lambda _: [robots(context)]),
    ]
