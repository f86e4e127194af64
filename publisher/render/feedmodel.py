"""What a planned feed is made of, shared by the planner (feeds.py) and the serialisers (feedwriters.py)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..digests.model import Digest, Tag, Topic

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
    url: str  # the web page
    published: dt.datetime  # tz-aware; also the item's `updated`: a digest's date never moves
    content_html: str
    categories: tuple[str, ...]  # tag names without '#'


@dataclass(frozen=True)
class Channel:
    """One scope: the main feed (tag None) or one topic's feed, with all of its digests, newest first."""

    tag: Topic | None
    id: str
    title: str
    description: str
    home_url: str  # the web page the feed stands for
    digests: tuple[Digest, ...]
    at: Tag | Topic | None = None  # where its files are: the topic's folder, or a merged spelling's

    @property
    def header(self) -> str:
        return repr((self.id, self.title, self.description, self.home_url, self.at and self.at.slug))


@dataclass(frozen=True)
class Document:
    """One file of a channel in one format: the subscription document or an RFC 5005 archive."""

    fmt: str
    relpath: str
    digests: tuple[Digest, ...]  # the items' digests, newest first
    links: tuple[tuple[str, str], ...]  # (rel, absolute URL) besides `self` and `alternate`
    archive: bool = False

    @property
    def spec(self) -> str:
        """All of the document but its items' content, for group keys."""
        return repr((self.fmt, self.relpath, self.links, self.archive))
