"""Main and per-topic RSS 2.0, Atom 1.0 and JSON Feed 1.1, their RFC 5005 archives, and the OPML.

Every document comes from one loop over (scope, format): a scope is the main feed or one topic's
feed (a `Channel`), also at the folder of each spelling merged into it (`tags/rl/` of
`#reinforcement-learning`), so that no published feed URL dies. `_item` is the one place that
turns a digest into the fields that all formats share. feedwriters.py turns a document into
bytes: RSS and Atom as strings (feedxml.py), JSON Feed as plain, sorted JSON.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping

from ..digests.catalog import Catalog
from ..digests.model import Digest, Entry, Tag, Topic
from ..text import xml_safe
from . import feedwriters, opml, paths, words
from .context import Context
from .feedmodel import ARCHIVED_FORMATS, Channel, Document, Item
from .output import Fragments, Group, Output, group_key
from .templating import render


def entry_fragments(digest: Digest, context: Context) -> tuple[str, ...]:
    return tuple(xml_safe(_entry_html(entry, digest, context)) for entry in digest.entries)


def render_feeds(catalog: Catalog, context: Context, fragments: Fragments | None = None) -> list[Output]:
    """Every feed and the OPML at once (what a build does through `feed_groups`)."""
    if fragments is None:
        fragments = {digest.date: entry_fragments(digest, context) for digest in catalog.digests}
    keys = {digest.date: "" for digest in catalog.digests}
    return [output for group in feed_groups(catalog, context, keys) for output in group.make(fragments)]


def feed_groups(catalog: Catalog, context: Context, keys: Mapping[dt.date, str]) -> list[Group]:
    """One group for each channel's subscription documents (RSS, Atom, JSON), one for each Atom
    archive, one for the OPML. A group's key holds the content keys of the digests it shows, so
    adding a digest remakes only the channels of its tags and the newest archives."""
    if not catalog.digests:
        return []
    groups = []
    scopes = [(None, None)] + [
        (summary.topic, at)
        for summary in catalog.topics
        for at in (summary.topic, *(Tag(summary.topic.name, slug) for slug in summary.topic.kept_slugs))
    ]
    for tag, at in scopes:
        channel = _channel(catalog, tag, at, context)
        documents = [document for fmt in paths.FEED_FORMATS for document in _documents(channel, fmt, context)]
        batches = [[d for d in documents if not d.archive], *([d] for d in documents if d.archive)]
        for batch in batches:
            needs = tuple(dict.fromkeys(digest.date for document in batch for digest in document.digests))
            key = group_key("feed", channel.header, *(d.spec for d in batch), *(keys[date] for date in needs))
            make = functools.partial(_make_documents, channel, tuple(batch), context)
            groups.append(Group(key, needs, make, uses=("feed/",)))
    opml_key = group_key("opml", repr([(s.topic.name, s.topic.slug) for s in catalog.topics]))
    groups.append(Group(opml_key, (), lambda _: [opml.render_opml(catalog, context)]))
    return groups


def _make_documents(
    channel: Channel, documents: tuple[Document, ...], context: Context, fragments: Fragments
) -> list[Output]:
    items: dict[dt.date, Item] = {}
    for document in documents:
        for digest in document.digests:
            if digest.date not in items:
                items[digest.date] = _item(digest, channel, context, fragments[digest.date])
    chosen = [(document, tuple(items[digest.date] for digest in document.digests)) for document in documents]
    written = feedwriters.write(channel, chosen, context)
    return [Output(document.relpath, data) for document, data in zip(documents, written, strict=True)]


def _id(context: Context, specific: str) -> str:
    return paths.tag_uri(context.config.feeds.id_authority, specific)


def _channel(catalog: Catalog, tag: Topic | None, at: Tag | Topic | None, context: Context) -> Channel:
    """A channel; a merged spelling's (`at` not the topic) keeps its own ids: its readers saw them."""
    site = context.config.site
    digests = catalog.digests if tag is None else catalog.with_tag(tag)
    if tag is None or at is None:
        home = context.urls.public(paths.home())
        return Channel(None, _id(context, "feed"), xml_safe(site.title), xml_safe(site.description), home, digests)
    return Channel(
        tag,
        _id(context, f"tag/{at.slug}"),
        xml_safe(words.tag_title(site.title, tag)),
        xml_safe(words.tag_feed_description(tag)),
        context.urls.public(paths.tag_page(tag)),
        digests,
        at,
    )


def _item(digest: Digest, channel: Channel, context: Context, fragments: tuple[str, ...]) -> Item:
    """A digest as an item of the main feed (all its entries) or of a topic's feed (only its entries)."""
    tag = channel.tag
    day = digest.date.isoformat()
    issue = paths.issue_page(digest.date)
    chosen = [i for i, entry in enumerate(digest.entries) if tag is None or entry.has_tag(tag)]
    entries = [digest.entries[i] for i in chosen]
    # A digest with a date and no notes (the reader warns) has no title to name: then the date.
    title = words.notes_title([entry.title for entry in entries]) if entries else words.issue_title(digest)
    if tag is None:
        item_id, url = _id(context, f"issue/{day}"), context.urls.public(issue)
    else:
        item_id = _id(context, f"tag/{channel.at.slug}/{day}")
        url = context.urls.public(issue, entries[0].anchor)
    return Item(
        id=item_id,
        title=xml_safe(title),
        url=url,
        published=context.config.site.published(digest.date),
        content_html="".join(fragments[i] for i in chosen),
        categories=tuple(xml_safe(t.name) for t in dict.fromkeys(t for entry in entries for t in entry.tags)),
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
    current = paths.feed(fmt, channel.at)
    newest, older = channel.digests[:size], channel.digests[size:]
    hub_links = (("hub", hub),) if hub else ()
    if fmt not in ARCHIVED_FORMATS or not older:
        return [Document(fmt, current, newest, hub_links)]
    oldest_first = older[::-1]
    chunks = [oldest_first[start : start + size][::-1] for start in range(0, len(oldest_first), size)]

    def archive_url(number: int) -> str:
        return urls.public(paths.feed_archive(number, channel.at))

    documents = [Document(fmt, current, newest, (*hub_links, ("prev-archive", archive_url(len(chunks)))))]
    for number, chunk in enumerate(chunks, start=1):
        links = [("current", urls.public(current))]
        if number > 1:
            links.append(("prev-archive", archive_url(number - 1)))
        if number < len(chunks):
            links.append(("next-archive", archive_url(number + 1)))
        documents.append(Document(fmt, paths.feed_archive(number, channel.at), chunk, tuple(links), archive=True))
    return documents
