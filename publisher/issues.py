"""Email issues: the HTML issue (jinja2 + premailer), the plain-text issue, and a ready .eml per digest.

Each digest gives `out/email/<date>.html`, `.txt` and `.eml`, and the send manifest
`out/send/<date>.json` (see assemble.py): what `send` needs to cut personal copies out of the
built files without rendering again. Pure: values in, outputs out.

Gmail clips a message whose HTML passes about 100 KB. An issue that does not fit under
`[email] max_bytes` is shortened on purpose, one step of `TRIMS` at a time (abstracts, then the
notes, cut with a link to the full text on the web page), never clipped by the mail client.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import premailer
from markupsafe import Markup

from . import assemble, message, paths, words
from .assemble import BuiltIssue, IssueEntry, IssueTag
from .catalog import Catalog
from .context import Context
from .errors import ConfigError, Diagnostic, OutputError
from .model import Digest, Entry
from .output import Output
from .templating import render
from .text import split_links

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
    id: str  # the HTML id inside the email, for the contents list
    title: str
    authors: str
    link: str | None
    commentary: tuple[str, ...]
    commentary_cut: bool
    abstract: tuple[str, ...]
    abstract_cut: bool
    web_url: str  # the entry on the issue's web page: where the full text is
    tags: tuple[TagView, ...]


def render_issue(digest: Digest, catalog: Catalog, context: Context) -> list[Output]:
    issue = build_issue(digest, context)
    whole = assemble.personalise(issue, None, issue.unsubscribe_url)
    eml = message.to_bytes(message.compose(issue.envelope, whole.text, whole.html))
    return [
        Output(paths.email(digest.date, "html"), whole.html.encode("utf-8")),
        Output(paths.email(digest.date, "txt"), whole.text.encode("utf-8")),
        Output(paths.email(digest.date, "eml"), eml),
        Output(paths.send_manifest(digest.date), issue.manifest().encode("utf-8")),
    ]


def build_issue(digest: Digest, context: Context) -> BuiltIssue:
    """The issue at the first step of TRIMS whose HTML fits the size limit."""
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
    size = 0
    for level, trim in enumerate(TRIMS):
        entries = tuple(_entry_view(i, entry, trim, tags, digest, context) for i, entry in enumerate(digest.entries))
        issue = _issue(digest, context, entries, tags, level)
        size = len(assemble.personalise(issue, None, issue.unsubscribe_url).html.encode("utf-8"))
        if size <= budget:
            return issue
    raise OutputError(
        Diagnostic(
            digest.source,
            digest.date_line,
            f"email issue is {size:,} bytes even with titles only, over the {budget:,} allowed "
            f"([email] max_bytes {context.config.email.max_bytes:,} less {PERSONAL_RESERVE:,} for personal copies)",
        )
    )


def _entry_view(
    index: int, entry: Entry, trim: Trim, tags: tuple[TagView, ...], digest: Digest, context: Context
) -> EntryView:
    position = {tag: i for i, tag in enumerate(digest.tags)}  # tags are equal by slug
    commentary, commentary_cut = shorten(entry.commentary, trim.commentary)
    abstract, abstract_cut = shorten(entry.abstract, trim.abstract)
    return EntryView(
        index=index,
        id=f"note-{index + 1}",
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


def _issue(
    digest: Digest, context: Context, entries: tuple[EntryView, ...], tags: tuple[TagView, ...], level: int
) -> BuiltIssue:
    site, email = context.config.site, context.config.email
    unsubscribe_url = email.unsubscribe_url or email.unsubscribe_mailto
    if not unsubscribe_url:
        raise ConfigError(
            Diagnostic(context.config.source, None, "email: set unsubscribe_url or unsubscribe_mailto (or both)")
        )
    envelope = message.Envelope(
        from_name=email.from_name or site.title,
        from_address=email.from_address,
        to=email.list_address,
        subject=words.email_subject(site.title, digest.date, len(digest.entries)),
        date=site.published(digest.date),
        message_id=message.message_id(f"issue-{digest.date.isoformat()}", email.from_address.rpartition("@")[2]),
        list_id=message.list_id(site.title, email.list_address),
        unsubscribe_mailto=email.unsubscribe_mailto,
        unsubscribe_url=email.unsubscribe_url,
        language=site.language,
    )
    values = {
        "site_title": site.title,
        "language": site.language,
        "long_date": words.long_date(digest.date),
        "home_url": context.urls.public(paths.home()),
        "web_url": context.urls.public(paths.issue_page(digest.date)),
        "unsubscribe_url": unsubscribe_url,
        "entries": entries,
        "tags": tags,
        "same_page": paths.same_page,
    }
    html = render(context.theme, HTML_TEMPLATE, mark=lambda *a, **k: Markup(assemble.html_mark(*a, **k)), **values)
    text = render(context.theme, TEXT_TEMPLATE, mark=assemble.text_mark, **values)
    return BuiltIssue(
        date=digest.date,
        site_title=site.title,
        envelope=envelope,
        entries=tuple(
            IssueEntry(entry.title, entry.anchor, tuple(tag.index for tag in view.tags))
            for entry, view in zip(digest.entries, entries, strict=True)
        ),
        tags=tuple(IssueTag(tag.name, tag.slug) for tag in digest.tags),
        unsubscribe_url=unsubscribe_url,
        html=assemble.split_html(inline_css(html)),
        text=assemble.split_text(text),
        trim=level,
    )


def inline_css(html: str) -> str:
    """Every rule that can be inlined, inlined; the <style> block keeps only the media queries."""
    return premailer.Premailer(
        html,
        allow_network=False,
        strip_important=False,  # the media queries need !important to win over inline styles
        keep_style_tags=False,
        remove_classes=False,  # the media queries select by class
        disable_basic_attributes=["bgcolor"],  # written by hand where Outlook needs it, not on every link
        disable_validation=True,
        cssutils_logging_level=logging.CRITICAL,
    ).transform()


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
