"""The reference for publisher/render/feedxml.py: RSS and Atom as feedgen 1.0 and lxml wrote them
until feedxml.py replaced it (feedwriters.py of issue 20). tests/test_feedxml.py proves the writer
gives these bytes, for random documents and for a whole generated corpus.

feedgen traps handled here: entries are appended (it prepends by default), `updated` and RSS
`lastBuildDate` come from the newest item (its default is now()), the generator names publisher,
and RSS `<channel><link>` is the last link given (the home page), while Atom lists its links in the
order given: there `alternate` (the site) comes first. RSS items name their author with
`dc:creator`.
"""

from __future__ import annotations

import datetime as dt

from feedgen.entry import FeedEntry
from feedgen.ext.base import BaseExtension
from feedgen.feed import FeedGenerator
from feedgen.util import xml_elem

from publisher import __version__
from publisher.render.context import Context
from publisher.render.feedmodel import ATOM_NS, HISTORY_NS, MEDIA_TYPES, Channel, Document, Item
from publisher.text import xml_safe


def write(channel: Channel, documents: list[tuple[Document, tuple[Item, ...]]], context: Context) -> list[bytes]:
    """As feedwriters.write for RSS and Atom: the two formats share the feedgen entry of an item."""
    entries: dict[str, FeedEntry] = {}
    return [document_bytes(channel, document, items, context, entries) for document, items in documents]


def document_bytes(
    channel: Channel, document: Document, items: tuple[Item, ...], context: Context, entries: dict[str, FeedEntry]
) -> bytes:
    fg = _feedgen(channel, document, items, context, entries)
    return fg.rss_str(pretty=True) if document.fmt == "rss" else fg.atom_str(pretty=True)


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
    return max(item.published for item in items)
