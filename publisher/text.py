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


@functools.lru_cache(maxsize=65536)  # tags repeat in every digest: slug each spelling once
def tag_key(text: str) -> str:
    """One tag however it is spelled: case aside (#RLHF is #rlhf, FORMAT.md) and in one Unicode
    composition (수학 pasted from macOS comes decomposed, and is the same text). Full-width #ＣＯＮ stays
    another tag than #con: their shared slug is then an error (tests/test_safe_paths.py)."""
    return unicodedata.normalize("NFC", text).casefold()


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


_URL_RUN = re.compile(r"https?://[^\s<>\"'`{}|\\^]+", re.IGNORECASE)
_TRAILING = ".,;:!?'\"。、"
_HOST = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}$", re.IGNORECASE)


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
    """Cut a line into text and links; only well-formed http(s) URLs become links."""
    pieces: list[Piece] = []
    text_start = 0
    for match in _URL_RUN.finditer(line):
        url = _trim_url(match.group())
        if not is_web_url(url):
            continue
        if match.start() > text_start:
            pieces.append(Piece(line[text_start : match.start()]))
        pieces.append(Piece(url, url))
        text_start = match.start() + len(url)
    if text_start < len(line):
        pieces.append(Piece(line[text_start:]))
    return tuple(pieces)


def links_in(lines: tuple[str, ...] | list[str]) -> list[str]:
    """Every URL that `split_links` would link, in order, without repeats."""
    urls = (piece.href for line in lines for piece in split_links(line) if piece.href)
    return list(dict.fromkeys(urls))
