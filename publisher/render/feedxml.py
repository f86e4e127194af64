"""RSS 2.0 and Atom 1.0 written as strings: the very bytes that feedgen 1.0 and lxml wrote before.

feedgen built an lxml tree of every document and serialised it; at 1,220 digests that was most of
the feeds' time. These documents have one fixed shape, so they are written here directly, and
tests/test_feedxml.py proves them byte-identical to feedgen's for any channel and items (feedgen
stays there as the reference). What that takes, and why it looks odd:

- lxml's escaping: in text `&`, `<`, `>` and a carriage return (`&#13;`); in attributes also `"`,
  tab and newline as character references. Non-ASCII is written as is (UTF-8).
- libxml2's pretty printing: two spaces a level; an element with text stays on one line; an empty
  text (`""`) is `<x></x>`, no text at all is `<x/>`.
- feedgen's choices: Atom's `xmlns` and the entries' `<link>` with only `href` (it reads `rel` and
  `type` from the new element, not from the link given); RSS `<docs>`; optional elements (xml:lang,
  the feed's `<author>`, `<subtitle>`, `<language>`, an item's `<title>` and `<link>`) left out
  when empty; and the fields it requires refused when empty (ValueError), as it did.
- Dates: Atom's `isoformat()`, RSS's RFC 822 with English names whatever the locale (feedgen set
  LC_ALL to C around strftime for that; the names here need no locale at all).

An item's escaped title and content are shared by its RSS item and its Atom entry:
the content is most of a feed's bytes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .. import __version__
from ..text import xml_safe
from .context import Context
from .feedmodel import ATOM_NS, HISTORY_NS, MEDIA_TYPES, Channel, Document, Item

DC_NS = "http://purl.org/dc/elements/1.1/"
CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
RSS_DOCS = "http://www.rssboard.org/rss-specification"
_DECLARATION = "<?xml version='1.0' encoding='UTF-8'?>\n"
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def text(value: str) -> str:
    """A text node as lxml writes it."""
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return value.replace("\r", "&#13;") if "\r" in value else value


def attr(value: str) -> str:
    """An attribute value as lxml writes it (between double quotes)."""
    value = text(value).replace('"', "&quot;")
    return value.replace("\t", "&#9;").replace("\n", "&#10;") if "\t" in value or "\n" in value else value


def rfc822(moment: dt.datetime) -> str:
    """RSS dates: `Thu, 25 Jul 2024 07:00:00 +0900`, as feedgen's strftime under the C locale."""
    return f"{_DAYS[moment.weekday()]}, {moment:%d} {_MONTHS[moment.month - 1]} {moment:%Y %H:%M:%S %z}"


@dataclass(frozen=True)
class Escaped:
    """An item's text, escaped once for both formats."""

    title: str
    content: str


Cache = dict[Item, Escaped]  # for one call of feedwriters.write: the documents of one channel


def _escaped(item: Item, cache: Cache) -> Escaped:
    # Keyed by the item itself, not its id: an id given twice with other text could not mix them.
    found = cache.get(item)
    if found is None:
        found = cache[item] = Escaped(text(item.title), text(item.content_html))
    return found


def _element(indent: str, name: str, value: str) -> str:
    """`<name>value</name>` on its own line; `value` is escaped already."""
    return f"{indent}<{name}>{value}</{name}>\n"


def _empty(indent: str, name: str, attributes: list[tuple[str, str]]) -> str:
    pairs = "".join(f' {key}="{attr(value)}"' for key, value in attributes)
    return f"{indent}<{name}{pairs}/>\n"


def _require(where: str, **fields: str) -> None:
    """feedgen refused these documents; so does this writer (an RSS channel without a description...)."""
    missing = [name for name, value in fields.items() if not value]
    if missing:
        raise ValueError(f"{where}: required fields not set ({', '.join(missing)})")


def _updated(items: tuple[Item, ...]) -> dt.datetime:
    """The newest item's date: from the content, never from the clock."""
    return max(item.published for item in items)


def _namespaces(pairs: list[tuple[str, str]]) -> str:
    return "".join(f' xmlns:{prefix}="{uri}"' for prefix, uri in pairs)


# ---------------------------------------------------------------- RSS 2.0


def rss(channel: Channel, document: Document, items: tuple[Item, ...], context: Context, cache: Cache) -> bytes:
    """An RSS 2.0 document. Its `<link>` is the site; `atom:link`s name itself and any hub."""
    site = context.config.site
    _require("RSS channel", title=channel.title, link=channel.home_url, description=channel.description)
    author = text(xml_safe(site.author))
    # feedgen declared fh: wherever the document was an archive, though only Atom writes fh:archive.
    namespaces = [("fh", HISTORY_NS)] if document.archive else []
    namespaces += [("dc", DC_NS), ("atom", ATOM_NS), ("content", CONTENT_NS)]
    self_link = [("href", context.urls.public(document.relpath)), ("rel", "self"), ("type", MEDIA_TYPES["rss"])]
    parts = [
        _DECLARATION,
        f'<rss{_namespaces(namespaces)} version="2.0">\n',
        "  <channel>\n",
        _element("    ", "title", text(channel.title)),
        _element("    ", "link", text(channel.home_url)),
        _element("    ", "description", text(channel.description)),
        _empty("    ", "atom:link", self_link),
        _element("    ", "docs", RSS_DOCS),
        _element("    ", "generator", "publisher"),
    ]
    if site.language:
        parts.append(_element("    ", "language", text(site.language)))
    parts.append(_element("    ", "lastBuildDate", rfc822(_updated(items))))
    parts += [_empty("    ", "atom:link", [("href", href), ("rel", rel)]) for rel, href in document.links]
    parts += [_rss_item(item, _escaped(item, cache), author) for item in items]
    parts.append("  </channel>\n</rss>\n")
    return "".join(parts).encode("utf-8")


def _rss_item(item: Item, escaped: Escaped, author: str) -> str:
    """An item names its author with dc:creator (RSS's own <author> must be an address), and its
    tag: id as a guid that is not a permalink."""
    parts = ["    <item>\n"]
    if item.title:
        parts.append(_element("      ", "title", escaped.title))
    if item.url:
        parts.append(_element("      ", "link", text(item.url)))
    parts.append(_element("      ", "description", escaped.content))
    if item.id:
        parts.append(f'      <guid isPermaLink="false">{text(item.id)}</guid>\n')
    parts += [_element("      ", "category", text(name)) for name in item.categories]
    parts.append(_element("      ", "pubDate", rfc822(item.published)))
    parts.append(_element("      ", "dc:creator", author))
    parts.append("    </item>\n")
    return "".join(parts)


# ---------------------------------------------------------------- Atom 1.0


def atom(channel: Channel, document: Document, items: tuple[Item, ...], context: Context, cache: Cache) -> bytes:
    """An Atom document; `alternate` (the site) is its first link, as some parsers take the first
    link for the site. An RFC 5005 archive says so with `fh:archive`."""
    site = context.config.site
    _require("Atom feed", id=channel.id, title=channel.title)
    namespaces = _namespaces([("fh", HISTORY_NS)] if document.archive else [])
    lang = f' xml:lang="{attr(site.language)}"' if site.language else ""
    author = xml_safe(site.author)
    links = [
        [("href", channel.home_url), ("rel", "alternate"), ("type", "text/html")],
        [("href", context.urls.public(document.relpath)), ("rel", "self"), ("type", MEDIA_TYPES["atom"])],
        *([("href", href), ("rel", rel)] for rel, href in document.links),
    ]
    parts = [
        _DECLARATION,
        f'<feed{namespaces} xmlns="{ATOM_NS}"{lang}>\n',
        _element("  ", "id", text(channel.id)),
        _element("  ", "title", text(channel.title)),
        _element("  ", "updated", _updated(items).isoformat()),
    ]
    if author:  # Atom entries inherit the feed's <author>
        parts.append(f"  <author>\n{_element('    ', 'name', text(author))}  </author>\n")
    parts += [_empty("  ", "link", link) for link in links]
    parts.append(f'  <generator version="{attr(__version__)}">publisher</generator>\n')
    if channel.description:
        parts.append(_element("  ", "subtitle", text(channel.description)))
    if document.archive:
        parts.append("  <fh:archive/>\n")
    parts += [_atom_entry(item, _escaped(item, cache)) for item in items]
    parts.append("</feed>\n")
    return "".join(parts).encode("utf-8")


def _atom_entry(item: Item, escaped: Escaped) -> str:
    _require("Atom entry", id=item.id, title=item.title)
    published = item.published.isoformat()
    content = f'    <content type="html">{escaped.content}</content>\n' if item.content_html else ""
    parts = [
        "  <entry>\n",
        _element("    ", "id", text(item.id)),
        _element("    ", "title", escaped.title),
        _element("    ", "updated", published),  # a digest's date never moves: updated is published
        content or '    <content type="html"/>\n',
        _empty("    ", "link", [("href", item.url)]),
        *(_empty("    ", "category", [("term", name)]) for name in item.categories),
        _element("    ", "published", published),
        "  </entry>\n",
    ]
    return "".join(parts)
