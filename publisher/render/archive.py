"""The web archive: issue pages, the paginated index, tag pages, the tags page, the search page,
the 404 page, static files.

Every page is rendered from a template under `templates/site/` that extends one base layout.
Templates never build a path: they call `Links` (relative links from the page being rendered,
so the site works from file:// and any static host) and read `Frame` (head data: canonical URL,
the page's own description and its share preview, feed autodiscovery), both computed here from
`paths`.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from ..digests.catalog import Catalog, TopicSummary
from ..digests.model import Digest, Entry, Tag, Topic
from . import assemble, paths, search, words
from .context import Context
from .feedmodel import MEDIA_TYPES
from .output import Group, Output, group_key
from .templating import render

STYLESHEET = "style.css"
FAVICON = "favicon.svg"
SEARCH_SCRIPT = "search.js"
T = TypeVar("T")

FEED_LABELS = {"rss": "RSS", "atom": "Atom", "json": "JSON Feed"}


@dataclass(frozen=True)
class Links:
    """Relative links from the page at `here` to every other output; what templates call."""

    here: str

    def to(self, relpath: str, fragment: str | None = None) -> str:
        if fragment and relpath == self.here:
            return paths.same_page(fragment)
        return paths.relative(self.here, relpath, fragment)

    def home(self, page: int | None = None) -> str:
        return self.to(paths.home(page))

    def issue(self, digest: Digest, entry: Entry | None = None) -> str:
        return self.issue_on(digest.date, entry.anchor if entry else None)

    def issue_on(self, date: dt.date, anchor: str | None = None) -> str:
        return self.to(paths.issue_page(date), anchor)

    def tag(self, tag: Tag | Topic, page: int | None = None) -> str:
        return self.to(paths.tag_page(tag, page))

    def feed(self, fmt: str, tag: Tag | Topic | None = None) -> str:
        return self.to(paths.feed(fmt, tag))

    @property
    def tags_index(self) -> str:
        return self.to(paths.TAGS_INDEX)

    @property
    def subscribe(self) -> str:
        return self.to(paths.SUBSCRIBE)

    @property
    def opml(self) -> str:
        return self.to(paths.OPML)

    @property
    def stylesheet(self) -> str:
        return self.to(paths.static(STYLESHEET))

    @property
    def favicon(self) -> str:
        return self.to(paths.static(FAVICON))

    @property
    def search(self) -> str:
        return self.to(paths.SEARCH)

    @property
    def search_script(self) -> str:
        return self.to(paths.static(SEARCH_SCRIPT))

    def search_index(self, shard: str) -> str:
        return self.to(paths.search_entry(shard))


@dataclass(frozen=True)
class Alternate:
    """A `<link rel="alternate">` for feed readers: absolute, as autodiscovery wants."""

    type: str
    title: str
    href: str


@dataclass(frozen=True)
class Frame:
    """What the base layout needs besides the links: language, canonical URL, the page's description
    and share preview (Open Graph, Twitter card), feeds to announce."""

    lang: str
    canonical: str | None  # None: a page with no address of its own (404.html)
    description: str
    locale: str  # Open Graph's language_TERRITORY: `ko_KR`
    kind: str  # og:type: `article` for an issue, `website` for the rest
    alternates: tuple[Alternate, ...]
    base: str | None = None  # <base href>: 404.html is served at the missing page's address


# Open Graph wants language_TERRITORY; a bare language tag gets its usual territory.
_TERRITORIES = {"ko": "KR", "en": "US", "ja": "JP", "zh": "CN", "de": "DE", "fr": "FR", "es": "ES"}


def og_locale(language: str) -> str:
    """`ko` → `ko_KR`, `en-GB` → `en_GB`: the form og:locale wants."""
    code, _, region = language.partition("-")
    region = region.split("-")[0] if region else _TERRITORIES.get(code.lower(), "")
    return f"{code.lower()}_{region.upper()}" if len(region) == 2 else code.lower()


@dataclass(frozen=True)
class Pager:
    """Where one page of a paginated list sits among the others: relative links and the dates it spans.

    It holds nothing that changes with the length of the list (no page count), so an archive page,
    whose items never change, keeps its pager, and its group key, for ever.
    """

    number: int | None  # None: the first page, the newest items; archive pages count from 1, the oldest
    span: str  # the dates its items cover, oldest to newest: `2003년 4월 5일 – 5월 4일`
    newer: str | None  # the next newer page, or the first page
    older: str | None  # the next older page; None on page 1 and on a lone first page
    first: str | None  # the first page (newest), None on it
    oldest: str | None  # page 1 (the oldest), None on it and when there is none

    @property
    def alone(self) -> bool:
        """The only page of its list: no navigation to show."""
        return self.newer is None and self.older is None


def page_cut(count: int, size: int) -> list[tuple[int | None, int, int]]:
    """Which items of a newest-first list of `count` each page holds: (number, start, stop), first
    page first, then archive pages newest to oldest.

    Full blocks of `size` are counted from the oldest item, so a block, once full, keeps its number
    and its items: adding an item changes the first page only (it holds the partial block and the
    newest full one, `size` to 2 `size` - 1 items), except when the item completes a block, which
    then moves off the first page as the new newest archive page.
    """
    blocks = count // size
    if blocks <= 1:
        return [(None, 0, count)]
    head = count - (blocks - 1) * size
    archive = [(number, count - number * size, count - (number - 1) * size) for number in range(blocks - 1, 0, -1)]
    return [(None, 0, head), *archive]


def paginate(
    items: Sequence[T], size: int, page_path: Callable[[int | None], str], date_of: Callable[[T], dt.date]
) -> list[tuple[str, Pager, Sequence[T]]]:
    """Cut a newest-first list into pages (`page_cut`): (path, pager, items) per page, at least one page."""
    cut = page_cut(len(items), size)
    heres = [page_path(number) for number, _, _ in cut]
    oldest = heres[-1] if len(cut) > 1 else None
    pages = []
    for position, (number, start, stop) in enumerate(cut):
        here, link = heres[position], Links(heres[position])
        shown = items[start:stop]
        pager = Pager(
            number=number,
            span=words.date_span(date_of(shown[-1]), date_of(shown[0])) if shown else "",
            newer=link.to(heres[position - 1]) if position > 0 else None,
            older=link.to(heres[position + 1]) if position + 1 < len(cut) else None,
            first=link.to(heres[0]) if position > 0 else None,
            oldest=link.to(oldest) if oldest and here != oldest else None,
        )
        pages.append((here, pager, shown))
    return pages


def render_issue_page(digest: Digest, older: dt.date | None, newer: dt.date | None, context: Context) -> list[Output]:
    """The web version of one digest: what emails and feed items link to; links to its neighbours' pages."""
    here = paths.issue_page(digest.date)
    return [
        _page(
            context,
            "site/issue.html",
            here,
            description=words.issue_description(digest),
            kind="article",
            digest=digest,
            title=words.issue_title(digest),
            older=older,
            newer=newer,
        )
    ]


def render_site(catalog: Catalog, context: Context) -> list[Output]:
    """The index pages, the tags page, one page per tag, and the static files, all at once."""
    keys = {digest.date: "" for digest in catalog.digests}
    return [output for group in site_groups(catalog, context, keys) for output in group.make({})]


def site_groups(catalog: Catalog, context: Context, keys: Mapping[dt.date, str]) -> list[Group]:
    """One group per index page, per tag page, the tags page and the static files.

    A group's key holds the content keys of the digests its pages show and its pager, so adding a
    digest remakes the first index page, the tags page and the first pages of its own tags only
    (and, when it completes a block, the block's new archive page and its older neighbour).
    """
    groups = []
    description = context.config.site.description
    for here, pager, digests in paginate(catalog.digests, context.config.web.page_size, paths.home, _date_of):
        page = functools.partial(
            _page, context, "site/home.html", here, description=description, digests=digests, pager=pager
        )
        key = group_key("home", here, repr(pager), *(keys[d.date] for d in digests))
        groups.append(_group(key, "site/home.html", page))
    tags = by_count(catalog.topics)
    tags_key = group_key("tags", repr([(s.topic, s.count) for s in tags]))
    about_tags = words.tags_description(len(tags))
    page = functools.partial(_page, context, "site/tags.html", paths.TAGS_INDEX, description=about_tags, tags=tags)
    groups.append(_group(tags_key, "site/tags.html", page))
    page = functools.partial(_subscribe_page, context, tags)
    groups.append(_group(group_key("subscribe", tags_key), "site/subscribe.html", page))
    if tags:  # nothing to mail, nothing to choose: no send/ files at all
        topics = [Output(paths.TOPICS, topics_file(tags).encode("utf-8"))]
        groups.append(Group(group_key("topics", tags_key), (), lambda _: topics))
    notes = sum(len(digest.entries) for digest in catalog.digests)
    # Every shard of the index, newest first, for static/search.js to load: the page changes with the
    # set of shards, not with every note.
    shards = search.index_shards(catalog)
    indexes = [{"label": shard.label, "url": Links(paths.SEARCH).search_index(shard.name)} for shard in shards]
    about = words.search_description(notes)
    page = functools.partial(
        _page, context, "site/search.html", paths.SEARCH, description=about, notes=notes, indexes=indexes
    )
    key = group_key("search-page", str(notes), repr([shard.name for shard in shards]))
    groups.append(_group(key, "site/search.html", page))
    page = functools.partial(_not_found, context)
    groups.append(_group(group_key("not-found"), "site/404.html", page))
    size = context.config.web.tag_page_size
    for summary in catalog.topics:
        tag = summary.topic
        notes = catalog.notes_with(tag)
        # One group a page, like the index: a topic's full archive pages never change, so a note added
        # to a busy topic renders its first page only.
        for here, pager, shown in paginate(notes, size, functools.partial(paths.tag_page, tag), _note_date):
            count = summary.count if pager.number is None else None  # the archive pages name no total
            shown_keys = (keys[date] for date in dict.fromkeys(digest.date for digest, _ in shown))
            key = group_key("tag", here, repr(pager), repr((tag, count)), *shown_keys)
            page = functools.partial(_tag_page, context, tag, count, here, pager, shown)
            groups.append(_group(key, "site/tag.html", page))
    static = [Output(paths.static(name), data) for name, data in context.theme.static_files()]
    groups.append(Group(group_key("static"), (), lambda _: static, ("static/",)))
    return groups


def _group(key: str, template: str, page: Callable[[], Output]) -> Group:
    """A group of one page, made only when the build needs it."""
    # The build keys it by this template and all it extends, includes or imports (Theme.closure).
    return Group(key, (), lambda _: [page()], (template,))


def by_count(topics: tuple[TopicSummary, ...]) -> list[TopicSummary]:
    """Most used first; ties by name, then slug, so the order never depends on anything else."""
    return sorted(topics, key=lambda s: (-s.count, s.topic.name.casefold(), s.topic.slug))


def topics_file(topics: list[TopicSummary]) -> str:
    """What the list endpoint offers readers to choose from (`paths.TOPICS`), most used first."""
    return assemble.topics_json(assemble.ListTopic(s.topic.slug, s.topic.name, s.count) for s in topics)


def _subscribe_page(context: Context, topics: list[TopicSummary]) -> Output:
    """The sign-up form, posting to the list endpoint; only the feeds when there is none."""
    return _page(
        context,
        "site/subscribe.html",
        paths.SUBSCRIBE,
        description=words.subscribe_description(len(topics)),
        topics=topics,
        subscribe_action=context.config.list.url("subscribe"),
        form_page=context.urls.public(paths.SUBSCRIBE),
    )


def _tag_page(
    context: Context,
    tag: Topic,
    count: int | None,
    here: str,
    pager: Pager,
    notes: Sequence[tuple[Digest, Entry]],
) -> Output:
    """One page of a topic's notes; the first page names how many there are, an archive page its dates."""
    site_title = context.config.site.title
    if count is None:
        description = words.tag_archive_description(site_title, tag, pager.span)
    else:
        description = words.tag_description(site_title, tag, count)
    return _page(
        context,
        "site/tag.html",
        here,
        feed_tag=tag,
        topic=tag,
        count=count,
        notes=notes,
        pager=pager,
        title=words.tag_title(site_title, tag),
        description=description,
    )


def _date_of(digest: Digest) -> dt.date:
    return digest.date


def _note_date(note: tuple[Digest, Entry]) -> dt.date:
    return note[0].date


def _not_found(context: Context) -> Output:
    """404.html: GitHub Pages serves it at the address of any missing page, however deep, so its
    links are relative to the site's root through `<base href>`, and it has no address of its own."""
    description = words.not_found_description()
    return _page(context, "site/404.html", paths.NOT_FOUND, description=description, canonical=False)


def _page(
    context: Context,
    template: str,
    here: str,
    *,
    description: str,
    feed_tag: Topic | None = None,
    kind: str = "website",
    canonical: bool = True,
    **values: object,
) -> Output:
    """Render one page with what every page gets: site, frame, links and the date wording."""
    site = context.config.site
    scope = site.title if feed_tag is None else words.tag_title(site.title, feed_tag)
    alternates = tuple(
        Alternate(MEDIA_TYPES[fmt], f"{scope} ({FEED_LABELS[fmt]})", context.urls.public(paths.feed(fmt, feed_tag)))
        for fmt in paths.FEED_FORMATS
    )
    frame = Frame(
        lang=site.language,
        canonical=context.urls.public(here) if canonical else None,
        description=description,
        locale=og_locale(site.language),
        kind=kind,
        alternates=alternates,
        base=None if canonical else context.urls.root_path,
    )
    html = render(
        context.theme,
        template,
        site=site,
        frame=frame,
        link=Links(here),
        feed_formats=FEED_LABELS,
        long_date=words.long_date,
        **values,
    )
    return Output(here, html.encode("utf-8"))
