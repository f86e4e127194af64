"""What the search index is made of: one small HTML document per note, for Pagefind to read.

The documents are never served: build/search.py hands them to the indexer and keeps only the
index it writes. Each one carries what a result shows (title, date, the note's place on its issue
page, the title's language) as Pagefind metadata, and the text a reader may look for: title,
authors, the writer's note, the abstract and the topics.
"""

from __future__ import annotations

from ..digests.catalog import Catalog
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


def search_documents(catalog: Catalog, context: Context) -> list[Output]:
    """One document per note, at `<date>/<n>.html`: the path means nothing to a reader (results link
    to the `url` metadata, the note on its issue page, relative to the site's root)."""
    language = index_language(context.config.site.language)
    documents = []
    for digest in catalog.digests:
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
