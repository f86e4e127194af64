"""Planned feed documents to bytes: RSS 2.0 and Atom 1.0 by feedxml.py, JSON Feed 1.1 as plain JSON."""

from __future__ import annotations

import json

from ..text import xml_safe
from . import feedxml
from .context import Context
from .feedmodel import JSON_FEED_VERSION, Channel, Document, Item


def write(channel: Channel, documents: list[tuple[Document, tuple[Item, ...]]], context: Context) -> list[bytes]:
    """Each of a channel's documents (with its items) as bytes. The RSS and Atom documents share an
    item's escaped title and content: escaped once, written in both."""
    cache: feedxml.Cache = {}
    return [WRITERS[document.fmt](channel, document, items, context, cache) for document, items in documents]


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


# tests/test_feedxml.py swaps feedgen in for RSS and Atom: the reference these bytes must equal.
WRITERS = {"rss": feedxml.rss, "atom": feedxml.atom, "json": _json_feed}
