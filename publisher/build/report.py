"""Plain views of the model for the terminal and for `check --json`."""

from __future__ import annotations

from collections.abc import Callable

from ..digests.catalog import Catalog, TopicSummary
from ..digests.model import Digest
from ..render import paths


def summary_line(digest: Digest) -> str:
    tags = " ".join(f"#{tag.name}" for tag in digest.tags)
    return f"{digest.date.isoformat()}  {len(digest.entries):3d} entries  {tags}  ({digest.source})"


def digests_json(
    digests: tuple[Digest, ...] | list[Digest], topic_slug: Callable[[str], str] | None = None
) -> list[dict[str, object]]:
    """Digests as parsed: each entry's tags as written and, given the catalog's `topic_slug`, its
    topics (slugs, once each)."""
    return [
        {
            "date": digest.date.isoformat(),
            "source": digest.source,
            "entries": [
                {
                    "title": entry.title,
                    "authors": list(entry.authors),
                    "link": entry.link,
                    "abstract": list(entry.abstract),
                    "commentary": list(entry.commentary),
                    "tags": [tag.name for tag in entry.tags],
                    **(
                        {"topics": list(dict.fromkeys(topic_slug(tag.name) for tag in entry.tags))}
                        if topic_slug
                        else {}
                    ),
                    "anchor": entry.anchor,
                    "line": entry.line,
                }
                for entry in digest.entries
            ],
        }
        for digest in digests
    ]


def _by_count(catalog: Catalog) -> list[TopicSummary]:
    return sorted(catalog.topics, key=lambda s: (-s.count, s.topic.name.casefold(), s.topic.slug))


def topics_json(catalog: Catalog, suggest: bool = False) -> dict[str, object]:
    """`publisher tags --json`: every topic, most used first, and the suggested aliases."""
    document: dict[str, object] = {
        "topics": [
            {
                "slug": s.topic.slug,
                "name": s.topic.name,
                "notes": s.count,
                "spellings": list(s.topic.spellings),
                "aliases": list(s.topic.aliases),
                "first": s.first.isoformat(),
                "last": s.last.isoformat(),
                "page": paths.tag_page(s.topic),
                "feed": paths.feed("rss", s.topic),
                "kept_feeds": [f"tags/{slug}/" for slug in s.topic.kept_slugs],
            }
            for s in _by_count(catalog)
        ]
    }
    if suggest:
        document["suggestions"] = [
            {"keep": s.keep.slug, "merge": s.merge.slug, "reason": s.reason, "alias": s.toml()}
            for s in _suggestions(catalog)
        ]
    return document


def topics_lines(catalog: Catalog, suggest: bool = False) -> list[str]:
    """`publisher tags`: one tab-separated line per topic, then the suggestions."""
    lines = []
    for s in _by_count(catalog):
        also = " ".join(f"#{name}" for name in (*s.topic.other_spellings, *s.topic.aliases))
        notes = f"{s.count} note{'s' if s.count != 1 else ''}"
        dates = f"{s.first.isoformat()}..{s.last.isoformat()}"
        feed = paths.feed("rss", s.topic)
        lines.append(f"#{s.topic.name}\t{notes}\t{dates}\t{feed}" + (f"\talso: {also}" if also else ""))
    if suggest:
        found = _suggestions(catalog)
        lines.append(f"\n{len(found)} likely duplicates (add the line under [topics.aliases] to join them):")
        lines += [f"#{s.keep.name} ~ #{s.merge.name} ({s.reason}):  {s.toml()}" for s in found]
    return lines


def _suggestions(catalog: Catalog) -> list:
    from ..digests.topics import suggest

    return suggest((s.topic, s.count) for s in catalog.topics)
