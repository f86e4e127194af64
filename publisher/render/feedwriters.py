"""Planned feed documents to bytes: RSS 2.0 and Atom 1.0 by feedgen, JSON Feed 1.1 as plain JSON.

feedgen traps handled here: entries are appended (it prepends by default), `updated` and RSS
`lastBuildDate` come from the newest item (its default is now()), the generator names publisher,
and RSS `<channel><link>` is the last link given (the home page), while Atom lists its links in the
order given: there `alternate` (the site) comes first, as some parsers take the first link for the
site. RSS items name their author with `dc:creator`: RSS's own `<author>` must be an address.
"""

from __future__ import annotations

import datetime as dt
import json

from feedgen.entry import FeedEntry
from feedgen.ext.base import BaseExtension
from feedgen.feed import FeedGenerator
from feedgen.util import xml_elem

from .. import __version__
from ..text import xml_safe
from .context import Context
from .feedmodel import ATOM_NS, HISTORY_NS, JSON_FEED_VERSION, MEDIA_TYPES, Channel, Document, Item


def write(channel: Channel, documents: list[tuple[Document, tuple[Item, ...]]], context: Context) -> list[bytes]:
    """Each of a channel's documents (with its items) as bytes. The RSS and Atom documents share the
    feedgen entry of an item: it is made once, and each format writes its own XML from it."""
    entries: dict[str, FeedEntry] = {}
    return [_WRITERS[document.fmt](channel, document, items, context, entries) for document, items in documents]


class _PublisherExtension(BaseExtension):
    """What feedgen lacks: `fh:archive` in RFC 5005 archives, and atom:links besides `self` in RSS (WebSub hub)."""

    def __init__(self) -> None:
        self.archive = False
        self.rss_links: tuple[tuple[str, str], ...] = ()

    def extend_ns(self) -> dict[str, str]:
        return {"fh": HISTORY_NS} if self.archive else {}

    def extend_atom(self, feed):
        if self.archive:
            xml_elem(f"{{{HISTORY_NS}}}archive", feed)
        return feed

    def extend_rss(self, rss):
        channel = rss[0]
        for rel, href in self.rss_links:
            xml_elem(f"{{{ATOM_NS}}}link", channel, href=href, rel=rel)
        return rss


def _feedgen(
    channel: Channel, document: Document, items: tuple[Item, ...], context: Context, entries: dict[str, FeedEntry]
) -> FeedGenerator:
    site = context.config.site
    fg = FeedGenerator()
    fg.register_extension("publisher", _PublisherExtension, atom=True, rss=True)
    fg.publisher.archive = document.archive
    fg.publisher.rss_links = document.links
    fg.id(channel.id)
    fg.title(channel.title)
    fg.description(channel.description)
    fg.language(site.language)
    fg.author(name=xml_safe(site.author))
    fg.generator("publisher", version=__version__)  # feedgen's default names feedgen and its URL
    fg.updated(_updated(items))  # also RSS lastBuildDate; feedgen's default for both is now()
    if document.fmt == "rss":
        fg.load_extension("dc", atom=False, rss=True)  # the namespace of the items' dc:creator
    alternate = {"href": channel.home_url, "rel": "alternate", "type": "text/html"}
    links = [
        {"href": context.urls.public(document.relpath), "rel": "self", "type": MEDIA_TYPES[document.fmt]},
        *({"href": href, "rel": rel} for rel, href in document.links),
    ]
    # Atom writes links in this order; RSS <link> is the last one given: the site either way.
    fg.link([alternate, *links] if document.fmt == "atom" else [*links, alternate])
    for item in items:
        if item.id not in entries:
            entries[item.id] = _entry(item, xml_safe(site.author))
        fg.add_entry(entries[item.id], order="append")  # feedgen prepends by default
    return fg


def _entry(item: Item, author: str) -> FeedEntry:
    entry = FeedEntry()
    entry.load_extension("dc", atom=False, rss=True)  # Atom entries inherit the feed's <author>
    entry.dc.dc_creator(author)
    entry.id(item.id)  # also the RSS guid, with isPermaLink="false"
    entry.title(item.title)
    entry.link(href=item.url, rel="alternate", type="text/html")
    entry.published(item.published)
    entry.updated(item.published)
    entry.content(item.content_html, type="html")  # escaped text, never CDATA: `]]>` cannot break it
    for name in item.categories:
        entry.category(term=name)
    return entry


def _updated(items: tuple[Item, ...]) -> dt.datetime:
    """The newest item's date: from the content, never from the clock."""
    return max(item.published for item in items)


def _rss(channel: Channel, document: Document, items: tuple[Item, ...], context: Context, entries: dict) -> bytes:
    return _feedgen(channel, document, items, context, entries).rss_str(pretty=True)


def _atom(channel: Channel, document: Document, items: tuple[Item, ...], context: Context, entries: dict) -> bytes:
    return _feedgen(channel, document, items, context, entries).atom_str(pretty=True)


def _json_feed(channel: Channel, document: Document, items: tuple[Item, ...], context: Context, _: dict) -> bytes:
    site = context.config.site
    feed = {
        "version": JSON_FEED_VERSION,
        "title": channel.title,
        "description": channel.description,
        "home_page_url": channel.home_url,
        "feed_url": context.urls.public(document.relpath),
        "language": site.language,
        "authors": [{"name": xml_safe(site.author)}],
        "items": [
            {
                "id": item.id,
                "url": item.url,
                "title": item.title,
                "content_html": item.content_html,
                "date_published": item.published.isoformat(),
                "tags": list(item.categories),
            }
            for item in items
        ],
    }
    hubs = [{"type": "WebSub", "url": href} for rel, href in document.links if rel == "hub"]
    if hubs:
        feed["hubs"] = hubs
    return (json.dumps(feed, sort_keys=True, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


_WRITERS = {"rss": _rss, "atom": _atom, "json": _json_feed}
