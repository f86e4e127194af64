"""Email issues: the HTML issue (jinja2 + premailer), the plain-text issue, and a ready .eml per digest.

Each digest gives `out/email/<date>.html`, `.txt` and `.eml`, and the send manifest
`out/send/<date>.json` (see assemble.py): what `send` needs to cut personal copies out of the
built files without rendering again. Pure: values in, outputs out.

Gmail clips a message whose HTML passes about 100 KB. An issue that does not fit under
`[email] max_bytes` is shortened on purpose, one step of `TRIMS` at a time (abstracts, then the
notes, cut with a link to the full text on the web page), never clipped by the mail client. When
even the titles alone do not fit (hundreds of notes), the email keeps the first notes that fit and
one line, "…외 N편은 웹에서 보기", links the rest on the issue's web page.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import unquote

from markupsafe import Markup

from ..digests.model import Digest, Entry
from ..digests.topics import alias_keys
from ..errors import ConfigError, Diagnostic, OutputError
from ..text import split_links, topic_key
from . import assemble, message, paths, words
from .assemble import BuiltIssue, IssueEntry, IssueTag, Personal
from .context import Context, Prepared
from .inline import inline_css, same_document
from .output import Output
from .templating import Theme, environment, render

if TYPE_CHECKING:
    import jinja2

HTML_TEMPLATE = "email/issue.html"
TEXT_TEMPLATE = "email/issue.txt"
# Room left under max_bytes for what a personal copy adds: a longer unsubscribe URL, a longer reason.
PERSONAL_RESERVE = 2_000


@dataclass(frozen=True)
class Trim:
    """How much of each entry an issue keeps: characters, None for all, 0 for none (a link instead)."""

    abstract: int | None
    commentary: int | None


TRIMS = (
    Trim(None, None),
    Trim(400, None),
    Trim(0, None),
    Trim(0, 1200),
    Trim(0, 800),
    Trim(0, 500),
    Trim(0, 300),
    Trim(0, 150),
    Trim(0, 0),
)


@dataclass(frozen=True)
class TagView:
    index: int  # in the digest's tags, as the send manifest numbers them
    name: str
    page_url: str  # the tag's web page
    feed_url: str  # the tag's RSS feed: "follow only this topic"


@dataclass(frozen=True)
class EntryView:
    index: int
    title: str
    authors: str
    link: str | None
    commentary: tuple[str, ...]
    commentary_cut: bool
    abstract: tuple[str, ...]
    abstract_cut: bool
    web_url: str  # the entry on the issue's web page: where the full text is, and where the contents list
    # links: in-message anchors do nothing in most mail apps (Gmail and Outlook on phones, Yahoo, Samsung)
    tags: tuple[TagView, ...]


def render_issue(digest: Digest, context: Context) -> list[Output]:
    if not digest.entries:
        return []  # a digest with a date and no notes (the reader warns): nothing to mail
    issue, whole = _fitting(digest, context)
    return [
        Output(paths.email(digest.date, "html"), whole.html.encode("utf-8")),
        Output(paths.email(digest.date, "txt"), whole.text.encode("utf-8")),
        Output(paths.send_manifest(digest.date), issue.manifest().encode("utf-8")),
        _eml(digest.date, issue.envelope, whole.text, whole.html),
    ]


def _eml(date: dt.date, envelope: message.Envelope, text: str, html: str) -> Output:
    return Output(paths.email(date, "eml"), message.compose(envelope, text, html))


def eml_again(date: dt.date, outputs: Iterable[Output]) -> Output:
    """The issue's .eml composed again from its other files (the HTML, the text, the send manifest):
    the same bytes, as the files hold the whole issue (tests/test_issues.py). The cache keeps those
    files and not the .eml, see units.py."""
    files = {output.relpath: output.data for output in outputs}
    envelope = message.Envelope.from_json(json.loads(files[paths.send_manifest(date)])["envelope"])
    text, html = (files[paths.email(date, ext)].decode("utf-8") for ext in ("txt", "html"))
    return _eml(date, envelope, text, html)


def build_issue(digest: Digest, context: Context, *, inline_each: bool = False) -> BuiltIssue:
    """The issue at the first step of TRIMS whose HTML fits the size limit.

    `inline_each` inlines this issue's CSS on its own instead of using the template inlined once:
    slower, the reference the tests compare with.
    """
    return _fitting(digest, context, inline_each)[0]


def _fitting(digest: Digest, context: Context, inline_each: bool = False) -> tuple[BuiltIssue, Personal]:
    """`build_issue`, and the issue as the whole list gets it (measured to fit, so made anyway)."""
    budget = context.config.email.max_bytes - PERSONAL_RESERVE
    tags = tuple(
        TagView(
            i,
            tag.name,
            context.urls.public(paths.tag_page(tag)),
            context.urls.public(paths.feed("rss", tag)),
        )
        for i, tag in enumerate(digest.tags)
    )

    def attempt(level: int, shown: int | None = None) -> tuple[tuple[BuiltIssue, Personal], int]:
        chosen = digest.entries if shown is None else digest.entries[:shown]
        entries = tuple(_entry_view(i, entry, TRIMS[level], tags, digest, context) for i, entry in enumerate(chosen))
        issue = _issue(digest, context, entries, tags, level, inline_each, shown)
        whole = assemble.personalise(issue, None, issue.unsubscribe_url)
        return (issue, whole), len(whole.html.encode("utf-8"))

    for level in range(len(TRIMS)):
        made, size = attempt(level)
        if size <= budget:
            return made
    # Titles alone do not fit (hundreds of notes): the first notes that fit, and one line that
    # links the rest on the web page. More notes never make a smaller issue, so search for the count.
    made, size = attempt(len(TRIMS) - 1, 0)
    if size > budget:
        raise OutputError(
            Diagnostic(
                digest.source,
                digest.date_line,
                f"email issue is {size:,} bytes even without any note, over the {budget:,} allowed "
                f"([email] max_bytes {context.config.email.max_bytes:,} less {PERSONAL_RESERVE:,} for personal copies)",
            )
        )
    low, high = 0, len(digest.entries) - 1  # `low` notes fit; more than `high` do not
    while low < high:
        middle = (low + high + 1) // 2
        candidate, size = attempt(len(TRIMS) - 1, middle)
        if size <= budget:
            low, made = middle, candidate
        else:
            high = middle - 1
    return made


def _entry_view(
    index: int, entry: Entry, trim: Trim, tags: tuple[TagView, ...], digest: Digest, context: Context
) -> EntryView:
    position = {tag: i for i, tag in enumerate(digest.tags)}  # tags are equal by slug
    commentary, commentary_cut = shorten(entry.commentary, trim.commentary)
    abstract, abstract_cut = shorten(entry.abstract, trim.abstract)
    return EntryView(
        index=index,
        title=entry.title,
        authors=", ".join(entry.authors),
        link=entry.link,
        commentary=commentary,
        commentary_cut=commentary_cut,
        abstract=abstract,
        abstract_cut=abstract_cut,
        web_url=context.urls.public(paths.issue_page(digest.date), entry.anchor),
        tags=tuple(tags[position[tag]] for tag in entry.tags),
    )


def _alias_keys_by_topic(context: Context) -> dict[str, tuple[str, ...]]:
    """Topic key → keys of its config aliases: a subscriber's `rl` finds reinforcement-learning."""
    by_topic: dict[str, list[str]] = {}
    for alias, topic in alias_keys(context.config.topics.aliases).items():
        if alias != topic:
            by_topic.setdefault(topic, []).append(alias)
    return {topic: tuple(sorted(keys)) for topic, keys in by_topic.items()}


def _issue(
    digest: Digest,
    context: Context,
    entries: tuple[EntryView, ...],
    tags: tuple[TagView, ...],
    level: int,
    inline_each: bool,
    shown: int | None = None,
) -> BuiltIssue:
    """`entries` are the views of the first `shown` entries (None: of all); the footer then offers
    only the tags of those."""
    site, email = context.config.site, context.config.email
    unsubscribe_url = _unsubscribe_url(context)
    also = _alias_keys_by_topic(context)
    envelope = message.Envelope(
        from_name=email.from_name or site.title,
        from_address=email.from_address,
        to=email.list_address,
        subject=words.email_subject(site.title, digest.date, len(digest.entries)),
        date=site.published(digest.date),
        message_id=message.message_id(f"issue-{digest.date.isoformat()}", email.from_address.rpartition("@")[2]),
        list_id=message.list_id(site.title, email.list_address),
        unsubscribe_mailto=email.unsubscribe_mailto,
        unsubscribe_url=context.config.list.url("unsubscribe") or email.unsubscribe_url,
        language=site.language,
    )
    position = {tag: i for i, tag in enumerate(digest.tags)}  # tags are equal by slug
    if shown is not None:
        used = {tag.index for entry in entries for tag in entry.tags}
        tags = tuple(tag for tag in tags if tag.index in used)
    values = _values(digest, context, entries, tags, hidden=len(digest.entries) - len(entries))
    template = None if inline_each else _inlined_template(context)
    if template is None:
        html = inline_css(render(context.theme, HTML_TEMPLATE, mark=_html_mark, **values))
    else:
        html = template.render(mark=_html_mark, **values)
    text = render(context.theme, TEXT_TEMPLATE, mark=assemble.text_mark, **values)
    return BuiltIssue(
        date=digest.date,
        site_title=site.title,
        envelope=envelope,
        entries=tuple(
            IssueEntry(entry.title, entry.anchor, tuple(position[tag] for tag in entry.tags))
            for entry in digest.entries
        ),
        tags=tuple(IssueTag(tag.name, tag.slug, also.get(topic_key(tag.name), ())) for tag in digest.tags),
        unsubscribe_url=unsubscribe_url,
        html=assemble.split_html(html),
        text=assemble.split_text(text),
        trim=level,
        shown=shown,
        preferences_url=context.config.list.url("preferences"),
    )


def _unsubscribe_url(context: Context) -> str:
    """The list endpoint's unsubscribe route when there is one, else the configured URL or mailto."""
    email = context.config.email
    if context.config.list.endpoint:
        return context.config.list.url("unsubscribe")
    if not (email.unsubscribe_url or email.unsubscribe_mailto):
        raise ConfigError(
            Diagnostic(context.config.source, None, "email: set unsubscribe_url or unsubscribe_mailto (or both)")
        )
    return email.unsubscribe_url or email.unsubscribe_mailto


def _values(
    digest: Digest, context: Context, entries: tuple[EntryView, ...], tags: tuple[TagView, ...], hidden: int = 0
) -> dict[str, object]:
    """What both email templates (HTML and text) are rendered with."""
    site = context.config.site
    return {
        "site_title": site.title,
        "language": site.language,
        "long_date": words.long_date(digest.date),
        "home_url": context.urls.public(paths.home()),
        "web_url": context.urls.public(paths.issue_page(digest.date)),
        "unsubscribe_url": _unsubscribe_url(context),
        "preferences_url": context.config.list.url("preferences"),
        "entries": entries,
        "tags": tags,
        "hidden": hidden,  # notes left out of the email (the last ones): a line links them on the web page
    }


def _html_mark(*args: object, **kwargs: object) -> Markup:
    return Markup(assemble.html_mark(*args, **kwargs))


@functools.lru_cache(maxsize=4)
def inlined_source(theme: Theme) -> str:
    """The email template with its CSS inlined once, by premailer, into the template itself.

    Every issue then renders into it: premailer's cost (about 3 ms an entry) is paid once a build,
    not once an issue. This equals inlining each rendered issue on its own as long as the rules
    select by class (tests/test_issues.py proves it on the seeds, hostile text and generated issues;
    `prepare_email` checks any theme on a probe issue).
    """
    source = re.sub(r"\{#.*?#\}", "", theme.text(HTML_TEMPLATE), flags=re.DOTALL)
    inlined = inline_css(source)
    # libxml2 percent-escapes URL attributes, which turns href="{{ url }}" into href="{{%20url%20}}".
    return re.sub(r"\{\{.*?\}\}|\{%.*?%\}", lambda tag: unquote(tag.group()), inlined, flags=re.DOTALL)


@functools.lru_cache(maxsize=8)
def _compiled(theme: Theme, source: str) -> jinja2.Template:
    return environment(theme).from_string(source)


def prepare_email(context: Context) -> Prepared:
    """The work done once a build for every email issue (a build caches it, see build/pipeline.py): the
    template inlined once, or None when this theme must inline each issue on its own."""
    return Prepared(inlined_source(context.theme) if _inlines_once(context) else None)


def _inlined_template(context: Context) -> jinja2.Template | None:
    prepared = context.prepared if context.prepared is not None else prepare_email(context)
    return None if prepared.email_template is None else _compiled(context.theme, prepared.email_template)


# An issue that uses every part of the template: URL and author bylines, abstracts, links in notes,
# several tags; rendered whole and shortened.
_PROBE = """2024-01-01
Probe: links <b>&</b> https://example.com/title
https://example.com/byline
Abstract line with https://example.com/abstract and R$^3$.
한국어 노트 https://example.com/note (https://example.com/paren).
#probe #테스트
Second probe
(Author One, Author Two)
Abstract.
노트 https://example.com/second
#probe
"""


@functools.lru_cache(maxsize=4)
def _inlines_once(context: Context) -> bool:
    """Whether this theme's email template may be inlined once: true when, on the probe issue, whole
    and shortened, it gives the same document as inlining the issue on its own. A theme with a rule
    that selects by position or selects elements made at render time falls back to inlining each
    issue: slower, never different. The answer depends on the theme and config only."""
    from ..digests.parse import parse_digest

    digest = parse_digest(_PROBE.encode(), "probe").digest
    tags = tuple(
        TagView(i, tag.name, "https://example.com/t", "https://example.com/f") for i, tag in enumerate(digest.tags)
    )
    for trim in (TRIMS[0], TRIMS[-1]):
        entries = tuple(_entry_view(i, entry, trim, tags, digest, context) for i, entry in enumerate(digest.entries))
        values = _values(digest, context, entries, tags)
        once = _compiled(context.theme, inlined_source(context.theme)).render(mark=_html_mark, **values)
        each = inline_css(render(context.theme, HTML_TEMPLATE, mark=_html_mark, **values))
        if same_document(once, each) is False:
            return False
    return True


def shorten(lines: tuple[str, ...], limit: int | None) -> tuple[tuple[str, ...], bool]:
    """At most `limit` characters of the lines (None: all), cut between words, never inside a URL.

    Returns the lines kept and whether anything was left out.
    """
    if limit is None:
        return lines, False
    kept: list[str] = []
    room = limit
    for line in lines:
        if len(line) <= room:
            kept.append(line)
            room -= len(line)
            continue
        if room >= 20:
            kept.append(_cut(line, room))
        return tuple(kept), True
    return tuple(kept), False


def _cut(line: str, room: int) -> str:
    out = ""
    for piece in split_links(line):
        left = room - len(out)
        if len(piece.text) <= left:
            out += piece.text
            continue
        if piece.href is None:  # a URL is kept whole or left out, never cut
            part = piece.text[:left]
            space = part.rfind(" ")
            out += part[:space] if space > max(0, left - 20) else part
        break
    out = out.rstrip().rstrip(".,;:·").rstrip()
    # An ellipsis glued to a URL ("…/abc,…") would become part of the link: then set it apart.
    allowed = {piece.href for piece in split_links(line) if piece.href}
    glued = out + "…"
    return glued if {p.href for p in split_links(glued) if p.href} <= allowed else out + " …"
