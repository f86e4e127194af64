"""The only place that turns an object into an output path (under out/) and a public URL.

Paths are POSIX, relative to the output folder. Public URLs are absolute, under the configured
base URL, with `index.html` dropped. Links between pages are relative and keep `index.html`, so
the site also works when opened from disk (file://).
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from ..digests.model import Tag, Topic

Scope = Tag | Topic  # anything with a slug: a topic, an entry's resolved tag

FEED_FORMATS = ("rss", "atom", "json")
_FEED_FILES = {"rss": "feed.xml", "atom": "atom.xml", "json": "feed.json"}

HOME = "index.html"
TAGS_INDEX = "tags/index.html"
SEARCH = "search/index.html"
NOT_FOUND = "404.html"  # GitHub Pages serves it for any missing page, at that page's address
SITEMAP = "sitemap.xml"
ROBOTS = "robots.txt"
OPML = "tags.opml"
STATIC = "static"
SEARCH_BUNDLE = "pagefind"  # the search index, written by Pagefind (build/search.py), a bundle a shard
MARKER = ".publisher-out"  # tells the writer that a folder is ours to replace


def tag_dir(tag: Scope | None) -> str:
    return "" if tag is None else f"tags/{tag.slug}/"


def feed(fmt: str, tag: Scope | None = None) -> str:
    return tag_dir(tag) + _FEED_FILES[fmt]


def feed_archive(number: int, tag: Scope | None = None) -> str:
    """The RFC 5005 archive document `number` (1 is the oldest) of the Atom feed."""
    return f"{tag_dir(tag)}archive/{number}.xml"


def home(page: int | None = None) -> str:
    """The first page of the archive (the newest issues), or archive page `page`: 1 is the oldest."""
    return HOME if page is None else f"page/{page}/index.html"


def issue_page(date: dt.date) -> str:
    return f"issues/{date.isoformat()}/index.html"


def tag_page(tag: Scope, page: int | None = None) -> str:
    """A topic's first page (its newest notes), or its archive page `page`: 1 is the oldest."""
    return f"{tag_dir(tag)}index.html" if page is None else f"{tag_dir(tag)}page/{page}/index.html"


def email(date: dt.date, extension: str) -> str:
    return f"email/{date.isoformat()}.{extension}"


def send_manifest(date: dt.date) -> str:
    """What `send` needs besides the built email issue to personalise it (out/send/, not out/email/)."""
    return f"send/{date.isoformat()}.json"


def search_bundle(shard: str) -> str:
    """The folder of one shard of the search index (Pagefind's bundle), by the shard's name (a year
    or a month, render/search.py): `pagefind/2023`, `pagefind/2024-05`."""
    return f"{SEARCH_BUNDLE}/{shard}"


def search_entry(shard: str) -> str:
    """The script a browser loads to search that shard's index (Pagefind's `pagefind.js`)."""
    return f"{search_bundle(shard)}/pagefind.js"


def static(name: str) -> str:
    return f"{STATIC}/{name}"


def relative(from_path: str, to_path: str, fragment: str | None = None) -> str:
    """A link from one output to another that works on any host and from file://."""
    link = _relative_link(from_path, to_path)
    return f"{link}#{quote(fragment)}" if fragment else link


@functools.lru_cache(maxsize=65536)
def _relative_link(from_path: str, to_path: str) -> str:
    # Output paths are already normal and relative, so plain string work does what
    # posixpath.relpath does, without its abspath/getcwd calls (hot: thousands of links a page).
    here, there = from_path.split("/")[:-1], to_path.split("/")
    common = 0
    while common < len(here) and common < len(there) - 1 and here[common] == there[common]:
        common += 1
    return quote("/".join([".."] * (len(here) - common) + there[common:]))


def same_page(fragment: str) -> str:
    """A link to an anchor on the page itself: no reload, wherever the page is served from."""
    return f"#{quote(fragment)}"


@dataclass(frozen=True)
class Urls:
    base: str  # absolute, ends with '/'

    @property
    def root_path(self) -> str:
        """The base URL's path (`/publisher/`): what a page served at any address links from."""
        return urlsplit(self.base).path or "/"

    def public(self, path: str, fragment: str | None = None) -> str:
        """The absolute URL of an output: what feeds and emails link to."""
        if path == "index.html" or path.endswith("/index.html"):
            path = path[: -len("index.html")]
        url = self.base + quote(path)
        return f"{url}#{quote(fragment)}" if fragment else url


def personal_link(url: str, token: str) -> str:
    """One subscriber's link (unsubscribe, preferences): the list's URL with their signed token in
    the query. The token names the address (mailing/tokens.py), so the link needs nothing else."""
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query, keep_blank_values=True), ("token", token)]
    return urlunsplit(parts._replace(query=urlencode(query)))


TOPICS = "send/topics.json"  # the topics a reader can choose, for the list endpoint
SUBSCRIBE = "subscribe/index.html"  # the page with the sign-up form


def tag_uri(authority: str, specific: str) -> str:
    """An RFC 4151 id: fixed authority and date, so it survives moving the site."""
    return f"tag:{authority}:{quote(specific, safe='/-._~')}"
