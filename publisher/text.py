"""Pure text helpers shared by the reader and every renderer: slugs, Hangul, links."""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlsplit

# Hangul syllables, Jamo and compatibility Jamo, as FORMAT.md defines them.
_HANGUL = re.compile("[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")

# Names Windows refuses as a file or folder, whatever the extension (out/ may be checked out there).
_RESERVED = {"con", "prn", "aux", "nul"} | {f"{p}{n}" for p in ("com", "lpt") for n in range(10)}

SLUG_MAX = 60


def has_hangul(text: str) -> bool:
    return _HANGUL.search(text) is not None


def _fold(text: str) -> str:
    """Lowercase words joined by '-': letters and digits of every script kept, the rest cut."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    slug = re.sub(r"[^\w.]+|_+", "-", folded)
    slug = re.sub(r"\.{2,}", ".", slug)
    return re.sub(r"-{2,}", "-", slug).strip("-.")


_SEPARATORS = re.compile(r"[-_.]+")


@functools.lru_cache(maxsize=65536)  # spellings repeat in every digest: fold each once
def topic_key(name: str) -> str:
    """One topic however its tag is spelled (FORMAT.md): NFKC, case folded, `-`, `_` and `.` as
    one separator. `Contrastive_Learning`, `contrastive-learning`, `ｃｏｎｔｒａｓｔｉｖｅ.learning`
    all give `contrastive-learning`; 수학 pasted from macOS (decomposed) is 수학."""
    folded = unicodedata.normalize("NFKC", name.removeprefix("#")).casefold()
    return _SEPARATORS.sub("-", folded)


@functools.lru_cache(maxsize=65536)  # a tag is slugified at every use: hundreds of names, many thousand uses
def slugify(text: str) -> str:
    """A tag's slug: safe as a single path segment on any file system, for any text.

    `수학` stays `수학`, `../../etc` becomes `etc`, `CON` becomes `con-tag`. A text with nothing
    left, or cut for length, gets a short hash of the text so that distinct texts stay distinct.
    """
    slug = _fold(text)
    digest = hashlib.sha1(unicodedata.normalize("NFKC", text).casefold().encode()).hexdigest()[:8]
    if not slug:
        return f"tag-{digest}"
    if len(slug) > SLUG_MAX:
        slug = f"{slug[:SLUG_MAX].rstrip('-.')}-{digest}"
    head, dot, rest = slug.partition(".")
    if head in _RESERVED:  # Windows refuses `con` and `con.txt` alike: change the part before the dot
        slug = f"{head}-tag{dot}{rest}"
    return slug


def anchor_slug(title: str) -> str:
    """A readable HTML id for a title, cut at a word boundary; uniqueness is the caller's job."""
    slug = _fold(title)
    if len(slug) > SLUG_MAX:
        cut = slug[:SLUG_MAX]
        slug = cut[: cut.rfind("-")] if "-" in cut else cut
    return slug or "entry"


# Control characters that XML 1.0 forbids and that no reader wants: C0 (but tab), DEL, C1.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffe\uffff]")


def strip_controls(text: str) -> tuple[str, int]:
    """The text without control characters, and how many were removed."""
    return _CONTROL.subn("", text)


def has_controls(text: str) -> bool:
    return _CONTROL.search(text) is not None


def xml_safe(text: str) -> str:
    """Text that XML 1.0 accepts. The reader already strips controls; config text and other callers may not."""
    return _CONTROL.sub("", text)


@dataclass(frozen=True)
class Piece:
    """A run of text; `href` is set when the run is a well-formed http(s) URL."""

    text: str
    href: str | None = None


_TRAILING = ".,;:!?'\"。、"
_HOST = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}$", re.IGNORECASE)

# Markdown's inline link `[text](url)`, the one Markdown construct notes bring along (pasted from
# READMEs). Only this is read: a Markdown parser would also take `*`, `_` and `\` of pasted LaTeX
# for markup, and a note is text. The URL may hold balanced parentheses, as Markdown allows.
_MARKDOWN_LINK = re.compile(r"\[([^\[\]\n]+)\]\((https?://[^\s()<>]*(?:\([^\s()<>]*\)[^\s()<>]*)*)\)", re.IGNORECASE)
# Where a bare URL ends besides what linkify-it already stops at: a quote or `<` (linkify-it keeps
# a quoted run inside a path), and the first Hangul character: Korean particles are glued to the
# URL they follow (`(https://arxiv.org/abs/1603.05027)를`), and no URL a note pastes is Korean.
_URL_STOP = re.compile("[\\s<>\"'`\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")


@functools.cache
def _linkifier():
    """linkify-it (markdown-it's linkifier) for bare URLs: it ends a URL at unbalanced brackets and
    trailing punctuation. Only http(s) with a scheme: no fuzzy links, e-mail, ftp or `//`."""
    from linkify_it import LinkifyIt

    linkify = LinkifyIt(options={"fuzzy_link": False, "fuzzy_email": False, "fuzzy_ip": False})
    for schema in ("ftp:", "mailto:", "//"):
        linkify.add(schema, None)
    return linkify


def _trim_url(candidate: str) -> str:
    """Drop trailing punctuation and closing brackets that the URL did not open."""
    while candidate:
        last = candidate[-1]
        if last in _TRAILING or (last in ")]" and candidate.count(last) > candidate.count("(" if last == ")" else "[")):
            candidate = candidate[:-1]
        else:
            break
    return candidate


_MAIL_ADDRESS = re.compile(r"[^@\s<>(),;:\"\\\[\]]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


def is_mail_address(text: str) -> bool:
    """`local@domain.tld` in ASCII: an address every message can carry as it is (publisher writes
    7-bit messages; an internationalised domain goes in its xn-- form)."""
    return text.isascii() and _MAIL_ADDRESS.fullmatch(text) is not None


def is_web_url(url: str) -> bool:
    """True for an absolute http(s) URL with a real host name (`https://GitHub` is not one)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
        host = (parts.hostname or "").encode("idna").decode("ascii")
    except (ValueError, UnicodeError):
        return False
    return parts.scheme.lower() in ("http", "https") and parts.username is None and _HOST.match(host) is not None


def is_http_url(url: str) -> bool:
    """True for an absolute http(s) URL of a server: a real host name, `localhost` or an IP address.

    Looser than `is_web_url` on purpose: the list endpoint may run on 127.0.0.1 while it is tried out.
    """
    if is_web_url(url):
        return True
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
        host = parts.hostname or ""
        if host != "localhost":
            ipaddress.ip_address(host)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and parts.username is None and not re.search(r"[\s<>\"']", url)


def split_links(line: str) -> tuple[Piece, ...]:
    """Cut a line into text and links; only well-formed http(s) URLs become links.

    A Markdown link `[text](url)` is one link showing `text`; everywhere else the pieces' texts
    are the line, character for character. A bare URL ends at white space, `<`, a quote, the first
    Hangul character, and before trailing punctuation or a closing bracket it did not open."""
    if "://" not in line:  # nearly every line: no regex, no linkify-it
        return (Piece(line),) if line else ()
    pieces: list[Piece] = []
    start = 0
    for match in _MARKDOWN_LINK.finditer(line):
        if is_web_url(match[2]):
            pieces += _bare_links(line[start : match.start()])
            pieces.append(Piece(match[1], match[2]))
            start = match.end()
    pieces += _bare_links(line[start:])
    return tuple(pieces)


def _bare_links(text: str) -> list[Piece]:
    pieces: list[Piece] = []
    text_start = 0
    for match in (_linkifier().match(text) if "://" in text else None) or ():
        url = _trim_url(_URL_STOP.split(match.text, maxsplit=1)[0])
        if match.index < text_start or not is_web_url(url):
            continue
        if match.index > text_start:
            pieces.append(Piece(text[text_start : match.index]))
        pieces.append(Piece(url, url))
        text_start = match.index + len(url)
    if text_start < len(text):
        pieces.append(Piece(text[text_start:]))
    return pieces


def links_in(lines: tuple[str, ...] | list[str]) -> list[str]:
    """Every URL that `split_links` would link, in order, without repeats."""
    urls = (piece.href for line in lines for piece in split_links(line) if piece.href)
    return list(dict.fromkeys(urls))
