"""What the search index is made of: one small HTML document per note, for Pagefind to read, and
one index a year.

The documents are never served: build/search.py hands them to the indexer, one year's at a time,
and keeps only the index it writes (paths.search_bundle). Each one carries what a result shows
(title, date, the note's place on its issue page, the title's language) as Pagefind metadata, and
the text a reader may look for: title, authors, the writer's note, the abstract and the topics.
"""

from __future__ import annotations

from collections.abc import Iterable

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


def index_years(catalog: Catalog) -> list[int]:
    """The years with an index, newest first: those with at least one note. One index a year, so
    that a digest added or edited re-indexes the notes of its year only (Pagefind cannot add to an
    index); the search page searches them all at once (static/search.js)."""
    return sorted({digest.date.year for digest in catalog.digests if digest.entries}, reverse=True)


def of_year(catalog: Catalog, year: int) -> list[Digest]:
    """The digests one year's index holds, newest first."""
    return [digest for digest in catalog.digests if digest.date.year == year]


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
