"""Main and per-tag RSS 2.0, Atom 1.0 and JSON Feed 1.1, their RFC 5005 archives, and the OPML.

Every document comes from one loop over (scope, format): a scope is the main feed or one tag's
feed (a `Channel`), and `_item` is the one place that turns a digest into the fields that all
formats share. RSS and Atom are written by feedgen; JSON Feed is plain, sorted JSON.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass

from feedgen.ext.base import BaseExtension
from feedgen.feed import FeedGenerator
from feedgen.util import xml_elem

from . import __version__, opml, paths, words
from .catalog import Catalog
from .context import Context
from .model import Digest, Entry, Tag
from .output import Output
from .templating import render
from .text import strip_controls

MEDIA_TYPES = {"rss": "application/rss+xml", "atom": "application/atom+xml", "json": "application/feed+json"}
ARCHIVED_FORMATS = ("atom",)  # RFC 5005 archives exist for Atom, the one format that defines them
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
ATOM_NS = "http://www.w3.org/2005/Atom"
HISTORY_NS = "http://purl.org/syndication/history/1.0"  # RFC 5005


@dataclass(frozen=True)
class Item:
    """One item as every format sees it."""

    id: str  # an RFC 4151 tag: URI; never derived from the base URL or the text
    title: str
    url: str  # the issue's web page
    published: dt.datetime  # tz-aware; also the item's `updated`: a digest's date never moves
    content_html: str
    categories: tuple[str, ...]  # tag names without '#'


@dataclass(frozen=True)
class Channel:
    """One scope: the main feed (tag None) or one tag's feed, with all of its items, newest first."""

    tag: Tag | None
    id: str
    title: str
    description: str
    home_url: str  # the web page the feed stands for
    items: tuple[Item, ...]


@dataclass(frozen=True)
class Document:
    """One file of a channel in one format: the subscription document or an RFC 5005 archive."""

    fmt: str
    relpath: str
    items: tuple[Item, ...]
    links: tuple[tuple[str, str], ...]  # (rel, absolute URL) besides `self` and `alternate`
    archive: bool = False

    @property
    def updated(self) -> dt.datetime:
        """The newest item's date: from the content, never from the clock."""
        return max(item.published for item in self.items)


# Each entry's HTML in a digest, in entry order: made once per digest (in parallel, cached) and
# then shared by the main feed and every tag feed the entry appears in.
Fragments = Mapping[dt.date, tuple[str, ...]]


def entry_fragments(digest: Digest, context: Context) -> tuple[str, ...]:
    return tuple(_clean(_entry_html(entry, digest, context)) for entry in digest.entries)


def render_feeds(catalog: Catalog, context: Context, fragments: Fragments | None = None) -> list[Output]:
    if not catalog.digests:
        return []
    if fragments is None:
        fragments = {digest.date: entry_fragments(digest, context) for digest in catalog.digests}
    outputs = []
    for tag in (None, *(summary.tag for summary in catalog.tags)):
        channel = _channel(catalog, tag, context, fragments)
        for fmt in paths.FEED_FORMATS:
            for document in _documents(channel, fmt, context):
                outputs.append(Output(document.relpath, _WRITERS[fmt](channel, document, context)))
    outputs.append(opml.render_opml(catalog, context))
    return outputs


def _clean(text: str) -> str:
    """Text that XML 1.0 accepts. The reader already strips controls; config text and future callers may not."""
    return strip_controls(text)[0]


def _id(context: Context, specific: str) -> str:
    return paths.tag_uri(context.config.feeds.id_authority, specific)


def _channel(catalog: Catalog, tag: Tag | None, context: Context, fragments: Fragments) -> Channel:
    site = context.config.site
    digests = catalog.digests if tag is None else catalog.with_tag(tag)
    items = tuple(_item(digest, tag, context, fragments[digest.date]) for digest in digests)
    if tag is None:
        home = context.urls.public(paths.home())
        return Channel(None, _id(context, "feed"), _clean(site.title), _clean(site.description), home, items)
    return Channel(
        tag,
        _id(context, f"tag/{tag.slug}"),
        _clean(words.tag_title(site.title, tag)),
        _clean(words.tag_feed_description(tag)),
        context.urls.public(paths.tag_page(tag)),
        items,
    )


def _item(digest: Digest, tag: Tag | None, context: Context, fragments: tuple[str, ...]) -> Item:
    """A digest as an item of the main feed (all its entries) or of a tag feed (only that tag's entries)."""
    day = digest.date.isoformat()
    issue = paths.issue_page(digest.date)
    chosen = [i for i, entry in enumerate(digest.entries) if tag is None or entry.has_tag(tag)]
    entries = [digest.entries[i] for i in chosen]
    if tag is None:
        item_id, title, url = _id(context, f"issue/{day}"), words.issue_title(digest), context.urls.public(issue)
    else:
        item_id, title = _id(context, f"tag/{tag.slug}/{day}"), words.tag_issue_title(digest, tag)
        url = context.urls.public(issue, entries[0].anchor)
    return Item(
        id=item_id,
        title=_clean(title),
        url=url,
        published=context.config.site.published(digest.date),
        content_html="".join(fragments[i] for i in chosen),
        categories=tuple(_clean(t.name) for t in dict.fromkeys(t for entry in entries for t in entry.tags)),
    )


def _entry_html(entry: Entry, digest: Digest, context: Context) -> str:
    return render(
        context.theme,
        "feed/entry.html",
        entry=entry,
        permalink=context.urls.public(paths.issue_page(digest.date), entry.anchor),
        tag_links=[(t.name, context.urls.public(paths.tag_page(t))) for t in entry.tags],
    )


def _documents(channel: Channel, fmt: str, context: Context) -> list[Document]:
    """The subscription document with the newest items and, for Atom, archives holding the rest.

    Archives are cut from the oldest item on, so adding a digest changes only the newest archive;
    following `prev-archive` from the feed meets every item exactly once.
    """
    size, hub, urls = context.config.feeds.size, context.config.feeds.hub, context.urls
    current = paths.feed(fmt, channel.tag)
    newest, older = channel.items[:size], channel.items[size:]
    hub_links = (("hub", hub),) if hub else ()
    if fmt not in ARCHIVED_FORMATS or not older:
        return [Document(fmt, current, newest, hub_links)]
    oldest_first = older[::-1]
    chunks = [oldest_first[start : start + size][::-1] for start in range(0, len(oldest_first), size)]

    def archive_url(number: int) -> str:
        return urls.public(paths.feed_archive(number, channel.tag))

    documents = [Document(fmt, current, newest, (*hub_links, ("prev-archive", archive_url(len(chunks)))))]
    for number, chunk in enumerate(chunks, start=1):
        links = [("current", urls.public(current))]
        if number > 1:
            links.append(("prev-archive", archive_url(number - 1)))
        if number < len(chunks):
            links.append(("next-archive", archive_url(number + 1)))
        documents.append(Document(fmt, paths.feed_archive(number, channel.tag), chunk, tuple(links), archive=True))
    return documents


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


def _feedgen(channel: Channel, document: Document, context: Context) -> FeedGenerator:
    site = context.config.site
    fg = FeedGenerator()
    fg.register_extension("publisher", _PublisherExtension, atom=True, rss=True)
    fg.publisher.archive = document.archive
    fg.publisher.rss_links = document.links
    fg.id(channel.id)
    fg.title(channel.title)
    fg.description(channel.description)
    fg.language(site.language)
    fg.author(name=_clean(site.author))
    fg.generator("publisher", version=__version__)  # feedgen's default names feedgen and its URL
    fg.updated(document.updated)  # also RSS lastBuildDate; feedgen's default for both is now()
    fg.link(href=context.urls.public(document.relpath), rel="self", type=MEDIA_TYPES[document.fmt])
    for rel, href in document.links:
        fg.link(href=href, rel=rel)
    fg.link(href=channel.home_url, rel="alternate", type="text/html")  # last: RSS <link> is the last one given
    for item in document.items:
        entry = fg.add_entry(order="append")  # feedgen prepends by default
        entry.id(item.id)  # also the RSS guid, with isPermaLink="false"
        entry.title(item.title)
        entry.link(href=item.url, rel="alternate", type="text/html")
        entry.published(item.published)
        entry.updated(item.published)
        entry.content(item.content_html, type="html")  # escaped text, never CDATA: `]]>` cannot break it
        for name in item.categories:
            entry.category(term=name)
    return fg


def _rss(channel: Channel, document: Document, context: Context) -> bytes:
    return _feedgen(channel, document, context).rss_str(pretty=True)


def _atom(channel: Channel, document: Document, context: Context) -> bytes:
    return _feedgen(channel, document, context).atom_str(pretty=True)


def _json_feed(channel: Channel, document: Document, context: Context) -> bytes:
    site = context.config.site
    feed = {
        "version": JSON_FEED_VERSION,
        "title": channel.title,
        "description": channel.description,
        "home_page_url": channel.home_url,
        "feed_url": context.urls.public(document.relpath),
        "language": site.language,
        "authors": [{"name": _clean(site.author)}],
        "items": [
            {
                "id": item.id,
                "url": item.url,
                "title": item.title,
                "content_html": item.content_html,
                "date_published": item.published.isoformat(),
                "tags": list(item.categories),
            }
            for item in document.items
        ],
    }
    hubs = [{"type": "WebSub", "url": href} for rel, href in document.links if rel == "hub"]
    if hubs:
        feed["hubs"] = hubs
    return (json.dumps(feed, sort_keys=True, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


_WRITERS = {"rss": _rss, "atom": _atom, "json": _json_feed}
