"""A built email issue, cut into segments, and the personal copy made from it. Pure.

`send` never re-renders: it reads what `build` wrote and keeps only the parts a subscriber follows.
The built `.html` carries its own structure in HTML comments (premailer keeps comments, readers
never see them):

    <!--pub:entry:3--> … <!--/pub:entry:3-->     the fourth entry
    <!--pub:toc:3--> … <!--/pub:toc:3-->         its line in the contents list
    <!--pub:follow:1--> … <!--/pub:follow:1-->   the "follow only #tag" link of the issue's second tag
    <!--pub:preheader--><!--/pub:preheader-->    slots filled for each copy:
    <!--pub:reason--><!--/pub:reason-->          the preview line and why the reader gets the email
    <!--pub:unsubscribe--> … <!--/pub:unsubscribe-->  the one place with the unsubscribe URL
    <!--pub:preferences--> … <!--/pub:preferences-->  the one place with the preferences URL (only
        when the list endpoint is configured)
    <!--pub:more-->…<!--/pub:more--><!--pub:rest--><!--/pub:rest--><!--pub:more-->…<!--/pub:more-->
        only in an issue too big to hold every entry: the link to the rest, and the slot that
        counts the copy's entries left out (the copy drops the link when it has none)

A plain-text part cannot hide markers, so its segments live in the manifest
(`paths.send_manifest(date)`, JSON) with the entries, tags and list-level headers. The build's
own files are exactly `personalise(issue, None, issue.unsubscribe_url)`: the build makes them
with this very function.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

from ..text import is_http_url, topic_key
from . import words
from .message import Envelope

MANIFEST_FORMAT = 1
SLOTS = ("preheader", "reason", "rest")  # filled per copy; everything else is kept or dropped whole
_NAME = r"[a-z]+(?::\d+)?"
_HTML_REGION = re.compile(rf"<!--pub:(?P<name>{_NAME})-->(?P<body>.*?)<!--/pub:(?P=name)-->", re.DOTALL)
_HTML_OPEN = "<!--pub:"
_HTML_OPENING = re.compile(rf"<!--pub:(?P<name>{_NAME})-->")
# In the plain-text template, markers are lines of their own, removed with their line end.
_TEXT_MARK_CHARS = "\x1e\x1f"
_TEXT_REGION = re.compile(rf"\x1e(?P<name>{_NAME})\x1f\n?(?P<body>.*?)\x1e/(?P=name)\x1f\n?", re.DOTALL)


def html_mark(name: str, end: bool = False) -> str:
    return f"<!--{'/' if end else ''}pub:{name}-->"


def text_mark(name: str, end: bool = False) -> str:
    return f"\x1e{'/' if end else ''}{name}\x1f"


@dataclass(frozen=True)
class Segment:
    name: str  # "" for text every copy keeps; else "entry:3", "toc:3", "follow:1", a slot, "unsubscribe"
    body: str


def _split(marked: str, region: re.Pattern[str]) -> tuple[Segment, ...]:
    segments, start = [], 0
    for match in region.finditer(marked):
        segments += [Segment("", marked[start : match.start()]), Segment(match["name"], match["body"])]
        start = match.end()
    segments.append(Segment("", marked[start:]))
    return tuple(segment for segment in segments if segment.name or segment.body)


def split_html(html: str) -> tuple[Segment, ...]:
    """`_split(html, _HTML_REGION)`, found with str.find: the regex tries its lazy body at every
    character of a 100 KB issue, and this was a tenth of an issue's rendering."""
    segments, start, at = [], 0, html.find(_HTML_OPEN)
    while at != -1:
        opening = _HTML_OPENING.match(html, at)
        end = html.find(html_mark(opening["name"], end=True), opening.end()) if opening else -1
        if opening is None or end == -1:  # not a marker, or never closed: text, as for the regex
            at = html.find(_HTML_OPEN, at + 1)
            continue
        segments += [Segment("", html[start:at]), Segment(opening["name"], html[opening.end() : end])]
        start = end + len(html_mark(opening["name"], end=True))
        at = html.find(_HTML_OPEN, start)
    segments.append(Segment("", html[start:]))
    return tuple(segment for segment in segments if segment.name or segment.body)


def split_text(marked: str) -> tuple[Segment, ...]:
    segments = _split(marked, _TEXT_REGION)
    if any(char in segment.body for segment in segments for char in _TEXT_MARK_CHARS):
        raise ValueError("unbalanced or nested marker in the plain-text template")
    return segments


@dataclass(frozen=True)
class IssueEntry:
    title: str
    anchor: str
    tags: tuple[int, ...]  # indexes into BuiltIssue.tags


@dataclass(frozen=True)
class IssueTag:
    """One topic of the issue; a subscriber's filter matches it by its key, its slug or `also`."""

    name: str
    slug: str
    also: tuple[str, ...] = ()  # keys of the config's aliases for it (`rl` of reinforcement-learning)

    def followed_by(self, wanted: frozenset[str]) -> bool:
        """`wanted`: the topic keys of a subscriber's filters (`#RL`, `contrastive_learning`)."""
        return topic_key(self.name) in wanted or self.slug in wanted or not wanted.isdisjoint(self.also)


@dataclass(frozen=True)
class BuiltIssue:
    """Everything `send` needs from one built issue."""

    date: dt.date
    site_title: str
    envelope: Envelope  # the list-level headers, as in the built .eml
    entries: tuple[IssueEntry, ...]
    tags: tuple[IssueTag, ...]  # of all entries, in order of first use
    unsubscribe_url: str  # the list-level URL in the unsubscribe segment of both parts
    html: tuple[Segment, ...]
    text: tuple[Segment, ...]
    trim: int = 0  # how far the issue had to be shortened to fit the size limit (0: not at all)
    shown: int | None = None  # when even titles did not fit: how many entries (the first) the email holds
    preferences_url: str = ""  # the list-level URL in the preferences segment; empty: no endpoint

    def manifest(self) -> str:
        """The JSON written to `paths.send_manifest(date)`; the HTML stays in the .html file."""
        data = {
            "format": MANIFEST_FORMAT,
            "date": self.date.isoformat(),
            "site_title": self.site_title,
            "envelope": self.envelope.as_json(),
            "entries": [{"title": e.title, "anchor": e.anchor, "tags": list(e.tags)} for e in self.entries],
            "tags": [{"name": t.name, "slug": t.slug, "also": list(t.also)} for t in self.tags],
            "unsubscribe_url": self.unsubscribe_url,
            "text": [[segment.name, segment.body] for segment in self.text],
            "trim": self.trim,
        }
        if self.shown is not None:  # only in issues that had to leave entries out
            data["shown"] = self.shown
        if self.preferences_url:  # only with a list endpoint
            data["preferences_url"] = self.preferences_url
        return json.dumps(data, ensure_ascii=False, sort_keys=True, indent=1) + "\n"

    @classmethod
    def from_files(cls, html: str | bytes, manifest: str | bytes) -> BuiltIssue:
        """Read back what `build` wrote: the issue's `.html` and its send manifest."""
        html = html.decode("utf-8") if isinstance(html, bytes) else html
        data = json.loads(manifest)
        if data.get("format") != MANIFEST_FORMAT:
            raise ValueError(f"send manifest format {data.get('format')!r}; rebuild with this version")
        return cls(
            date=dt.date.fromisoformat(data["date"]),
            site_title=data["site_title"],
            envelope=Envelope.from_json(data["envelope"]),
            entries=tuple(IssueEntry(e["title"], e["anchor"], tuple(e["tags"])) for e in data["entries"]),
            tags=tuple(IssueTag(t["name"], t["slug"], tuple(t.get("also", ()))) for t in data["tags"]),
            unsubscribe_url=data["unsubscribe_url"],
            html=split_html(html),
            text=tuple(Segment(name, body) for name, body in data["text"]),
            trim=data["trim"],
            shown=data.get("shown"),
            preferences_url=data.get("preferences_url", ""),
        )

    def followed(self, tags: Iterable[str]) -> tuple[int, ...]:
        """The issue's topics (indexes into `tags`) that a subscriber's filters name: topics, not
        spellings (`#Contrastive_Learning`, an alias, or the topic's slug)."""
        wanted = frozenset(topic_key(tag.strip()) for tag in tags)
        return tuple(i for i, tag in enumerate(self.tags) if tag.followed_by(wanted))

    def select(self, tags: Iterable[str] | None) -> tuple[int, ...]:
        """The entries a subscriber gets: all (None), or those with any of the topics they follow."""
        if tags is None:
            return tuple(range(len(self.entries)))
        chosen = set(self.followed(tags))
        return tuple(i for i, entry in enumerate(self.entries) if chosen.intersection(entry.tags))


@dataclass(frozen=True)
class Personal:
    """One subscriber's copy of an issue."""

    html: str
    text: str
    entries: tuple[int, ...]  # indexes of the entries kept
    topics: tuple[str, ...] | None  # tag names the copy was filtered by; None: the whole issue
    subject: str


def _check_link(url: str) -> None:
    if not is_http_url(url) and not url.startswith("mailto:"):
        raise ValueError(f"unsubscribe URL must be an absolute http(s) or mailto: URL: {url!r}")
    if re.search(r"[\s<>\"']", url):
        raise ValueError(f"unsubscribe URL has characters that need escaping: {url!r}")


def personalise(
    issue: BuiltIssue, tags: Iterable[str] | None, unsubscribe_url: str, preferences_url: str = ""
) -> Personal:
    """The copy for a subscriber who follows `tags` (None: everything), with their unsubscribe URL
    and preferences URL (empty: the issue's own, list-level one).

    Raises ValueError when no entry carries any of the tags: such a subscriber gets no email.
    """
    _check_link(unsubscribe_url)
    preferences_url = preferences_url or issue.preferences_url
    if preferences_url:
        _check_link(preferences_url)
    kept = issue.select(tags)
    if not kept:
        raise ValueError(f"no entry of the {issue.date.isoformat()} issue carries any of the tags {sorted(tags or ())}")
    kept_tags = {t for i in kept for t in issue.entries[i].tags}
    topics = None if tags is None else tuple(t.name for t in _followed(issue, tags))
    shown = len(issue.entries) if issue.shown is None else issue.shown
    rest = sum(1 for i in kept if i >= shown)  # the reader's entries the email could not hold
    slots = {
        "preheader": words.email_preheader(issue.date, tuple(issue.entries[i].title for i in kept)),
        "reason": words.email_reason(issue.site_title, topics),
        "rest": words.email_rest(rest) if rest else "",
    }

    def keep(segment: Segment) -> bool:
        kind, _, key = segment.name.partition(":")
        if kind in ("entry", "toc"):
            return int(key) in kept
        if kind == "follow":
            return int(key) in kept_tags
        if kind == "more":  # the link to the entries left out, around the "rest" slot
            return rest > 0
        return True

    def html_body(segment: Segment) -> str:
        if segment.name in slots:
            return _escape_text(slots[segment.name])
        if segment.name == "unsubscribe":
            return _swap(segment.body, _escape_attr(issue.unsubscribe_url), _escape_attr(unsubscribe_url))
        if segment.name == "preferences":
            return _swap(segment.body, _escape_attr(issue.preferences_url), _escape_attr(preferences_url))
        return segment.body

    def text_body(segment: Segment) -> str:
        if segment.name in slots:
            return slots[segment.name] + "\n" if slots[segment.name] else ""  # a line of its own in plain text
        if segment.name == "unsubscribe":
            return _swap(segment.body, issue.unsubscribe_url, unsubscribe_url)
        if segment.name == "preferences":
            return _swap(segment.body, issue.preferences_url, preferences_url)
        return segment.body

    html = "".join(
        html_mark(s.name) + html_body(s) + html_mark(s.name, end=True) if s.name else s.body
        for s in issue.html
        if keep(s)
    )
    text = "".join(text_body(s) for s in issue.text if keep(s))
    subject = words.email_subject(issue.site_title, issue.date, len(kept), topics or ())
    return Personal(html, text, kept, topics, subject)


def _followed(issue: BuiltIssue, tags: Iterable[str]) -> tuple[IssueTag, ...]:
    """The followed topics that appear in this issue, in the issue's order."""
    return tuple(issue.tags[i] for i in issue.followed(tags))


def _swap(body: str, old: str, new: str) -> str:
    if not old or old not in body:
        raise ValueError("a link segment of the built issue does not hold its list-level URL")
    return body.replace(old, new)


def _escape_text(text: str) -> str:
    """As lxml (premailer's serialiser) writes a text node: only &, < and > escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _escape_attr(text: str) -> str:
    """As lxml writes an attribute value."""
    return text.replace("&", "&amp;").replace('"', "&quot;")


def with_envelope(
    issue: BuiltIssue, personal: Personal, to: str, message_id: str, unsubscribe_url: str, to_name: str = ""
) -> Envelope:
    """The headers of a personal copy: its own recipient (and name), Message-ID, subject and List-Unsubscribe URL."""
    if not is_http_url(unsubscribe_url):
        raise ValueError(f"the one-click unsubscribe URL must be an absolute http(s) URL: {unsubscribe_url!r}")
    return dataclasses.replace(
        issue.envelope,
        to=to,
        to_name=to_name,
        message_id=message_id,
        subject=personal.subject,
        unsubscribe_url=unsubscribe_url,
    )


TOPICS_FORMAT = 1


@dataclass(frozen=True)
class ListTopic:
    """A topic a reader can follow: what the list endpoint's forms offer (`paths.TOPICS`)."""

    slug: str
    name: str
    count: int  # notes carrying it


def topics_json(topics: Iterable[ListTopic]) -> str:
    """The topics file the build writes, most used first, as the list endpoint reads it."""
    data = {"format": TOPICS_FORMAT, "topics": [dataclasses.asdict(topic) for topic in topics]}
    return json.dumps(data, ensure_ascii=False, sort_keys=True, indent=1) + "\n"


def read_topics(data: str | bytes) -> tuple[ListTopic, ...]:
    """Read back `topics_json`; ValueError when it is not that file."""
    try:
        parsed = json.loads(data)
        if parsed.get("format") != TOPICS_FORMAT:
            raise ValueError(f"topics file format {parsed.get('format')!r}; rebuild with this version")
        return tuple(ListTopic(str(t["slug"]), str(t["name"]), int(t["count"])) for t in parsed["topics"])
    except (KeyError, TypeError, AttributeError) as error:
        raise ValueError(f"not a topics file: {error}") from None
