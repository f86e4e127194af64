"""What the search index is made of: one small HTML document per note, for Pagefind to read, and
its shards: one index a year, and one a month in the newest year.

The documents are never served: build/search.py hands them to the indexer, one shard's at a time,
and keeps only the index it writes (paths.search_bundle). Each one carries what a result shows
(title, date, the note's place on its issue page, the title's language) as Pagefind metadata, and
the text a reader may look for: title, authors, the writer's note, the abstract and the topics.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from ..digests.catalog import Catalog
from ..digests.model import Digest
from . import paths, words
from .context import Context
from .output import Output
from .templating import render

TEMPLATE = "search/note.html"


def index_language(language: str) -> str:
    """The one language of the index (Pagefind wants ISO 639-1): the site's. Every note is indexed
    in it, English words too, so one query finds both; Pagefind splits words at spaces and
    punctuation, which is how Korean writes them too (see README, Search)."""
    return language.split("-")[0].lower()


@dataclass(frozen=True)
class Shard:
    """One index of the search: the notes of a year, or of a month of the newest year."""

    name: str  # its folder under pagefind/ (paths.search_bundle): `2023`, `2024-05`
    label: str  # what the search page calls it: `2023년`, `2024년 5월`
    digests: tuple[Digest, ...]  # newest first


def index_shards(catalog: Catalog) -> list[Shard]:
    """The shards of the index, newest first: one a year with notes, except the newest year (that of
    the newest digest with notes: from the sources, never the clock), split by month with notes.

    Pagefind cannot add to an index, so a digest added or edited re-indexes its whole shard; digests
    are added almost every day, always in the newest year, so there a shard is a month (a few dozen
    digests), and older years, which seldom change, keep one index each. When a new year begins, the
    months of the year before become one year index: one re-index of that year."""
    noted = [digest.date for digest in catalog.digests if digest.entries]
    newest = max(noted).year if noted else None

    def shard_of(date: dt.date) -> tuple[str, str]:
        """The name and label of the shard a date belongs to."""
        if date.year == newest:
            return f"{date:%Y-%m}", words.month_name(date)
        return str(date.year), words.year_name(date)

    shards: dict[tuple[str, str], list[Digest]] = {}
    for digest in catalog.digests:  # newest first, and so are the shards
        shards.setdefault(shard_of(digest.date), []).append(digest)
    return [
        Shard(name, label, tuple(digests))
        for (name, label), digests in shards.items()
        if any(digest.entries for digest in digests)
    ]


def search_documents(digests: Iterable[Digest], context: Context) -> list[Output]:
    """One document per note, at `<date>/<n>.html`: the path means nothing to a reader (results link
    to the `url` metadata, the note on its issue page, relative to the site's root)."""
    language = index_language(context.config.site.language)
    documents = []
    for digest in digests:
        page = paths.issue_page(digest.date)
        for number, entry in enumerate(digest.entries, start=1):
            html = render(
                context.theme,
                TEMPLATE,
                language=language,
                entry=entry,
                url=paths.relative(paths.HOME, page, entry.anchor),
                date=words.long_date(digest.date),
            )
            documents.append(Output(f"{digest.date.isoformat()}/{number}.html", html.encode("utf-8")))
    return documents
