"""All digests together: their order, their topics, and the checks across files."""

from __future__ import annotations

import dataclasses
import datetime as dt
import unicodedata
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

from ..config import Alias
from ..errors import Diagnostic, SourceError
from .model import Digest, Entry, Tag, Topic
from .topics import Spelling, resolve


@dataclass(frozen=True)
class TopicSummary:
    topic: Topic
    dates: tuple[dt.date, ...]  # digests carrying it, newest first
    count: int  # entries carrying it

    @property
    def first(self) -> dt.date:
        return self.dates[-1]

    @property
    def last(self) -> dt.date:
        return self.dates[0]


@dataclass(frozen=True)
class Catalog:
    """The digests, each entry's tags resolved to its topics (`Tag(topic.name, topic.slug)`)."""

    digests: tuple[Digest, ...]  # newest first
    topics: tuple[TopicSummary, ...]  # by slug
    warnings: tuple[Diagnostic, ...] = ()  # slug clashes, unused aliases
    spelled: Mapping[str, Topic] = field(default_factory=dict, compare=False)  # spelling as written → topic

    def with_tag(self, tag: Tag | Topic) -> tuple[Digest, ...]:
        """The digests carrying a topic, newest first (from the topic index, not a scan)."""
        return tuple(self._by_date[date] for date in self._summaries[tag.slug].dates)

    def notes_with(self, tag: Tag | Topic) -> tuple[tuple[Digest, Entry], ...]:
        """Every note carrying a topic with its digest, newest first (from the index, not a scan)."""
        return self._notes.get(tag.slug, ())

    def topic_of(self, name: str) -> Topic:
        """The topic of a tag as written in a digest."""
        return self.spelled[_spelling(name)]

    @cached_property
    def _by_date(self) -> dict[dt.date, Digest]:
        return {digest.date: digest for digest in self.digests}

    @cached_property
    def _notes(self) -> dict[str, tuple[tuple[Digest, Entry], ...]]:
        # One pass over every note for all topics: a topic's pages and the sitemap list its notes, and
        # a scan per topic (entries_with) cost seconds at 12,000 digests.
        notes: dict[str, list[tuple[Digest, Entry]]] = {}
        for digest in self.digests:
            for entry in digest.entries:
                for slug in dict.fromkeys(tag.slug for tag in entry.tags):
                    notes.setdefault(slug, []).append((digest, entry))
        return {slug: tuple(found) for slug, found in notes.items()}

    @cached_property
    def _summaries(self) -> dict[str, TopicSummary]:
        return {summary.topic.slug: summary for summary in self.topics}

    @property
    def entry_count(self) -> int:
        return sum(len(d.entries) for d in self.digests)


def make_catalog(digests: list[Digest], aliases: tuple[Alias, ...] = (), config_source: str = "") -> Catalog:
    """Order the digests newest first and resolve their tags to topics; raise on clashes between files."""
    ordered = sorted(digests, key=lambda d: (d.date, d.source), reverse=True)
    problems = _duplicate_dates(ordered)
    if problems:
        raise SourceError(problems)
    resolved = resolve(_spellings(ordered), aliases, config_source)
    as_tags = {name: Tag(topic.name, topic.slug) for name, topic in resolved.of.items()}
    as_tags.update({t.name: as_tags[_spelling(t.name)] for d in ordered for e in d.entries for t in e.tags})
    ordered = [_resolve_tags(digest, as_tags) for digest in ordered]
    uses: dict[str, list[dt.date]] = defaultdict(list)
    counts: dict[str, int] = defaultdict(int)
    for digest in ordered:
        for entry in digest.entries:
            for tag in entry.tags:
                counts[tag.slug] += 1
        for tag in digest.tags:
            uses[tag.slug].append(digest.date)
    topics = tuple(TopicSummary(topic, tuple(uses[topic.slug]), counts[topic.slug]) for topic in resolved.topics)
    return Catalog(tuple(ordered), topics, resolved.warnings, resolved.of)


def _duplicate_dates(ordered: list[Digest]) -> list[Diagnostic]:
    first: dict[dt.date, Digest] = {}
    problems = []
    for digest in sorted(ordered, key=lambda d: d.source):
        other = first.setdefault(digest.date, digest)
        if other is not digest:
            problems.append(
                Diagnostic(
                    digest.source,
                    digest.date_line,
                    f"date {digest.date.isoformat()} is also the date of "
                    f"{other.source}:{other.date_line} (one digest per day)",
                )
            )
    return problems


def _spellings(ordered: list[Digest]) -> list[Spelling]:
    """Every spelling's use: notes, newest date and first use (digests are newest first)."""
    notes: dict[str, int] = defaultdict(int)
    newest: dict[str, dt.date] = {}
    first: dict[str, tuple[dt.date, str, int]] = {}
    for digest in ordered:
        for entry in digest.entries:
            for tag in entry.tags:
                name = _spelling(tag.name)
                notes[name] += 1
                newest.setdefault(name, digest.date)
                use = (digest.date, digest.source, entry.line)
                if name not in first or use <= first[name]:
                    first[name] = use
    return [Spelling(name, count, newest[name], first[name]) for name, count in sorted(notes.items())]


def _spelling(name: str) -> str:
    """One spelling however it is composed: 수학 pasted from macOS comes decomposed (NFD)."""
    return name if name.isascii() else unicodedata.normalize("NFC", name)


def _resolve_tags(digest: Digest, as_tags: dict[str, Tag]) -> Digest:
    """The same digest with each entry's tags as its topics, once each (`#rl #RL` is one topic)."""
    if all(as_tags[t.name] == t and as_tags[t.name].name == t.name for entry in digest.entries for t in entry.tags):
        return digest  # nearly always: rebuilding every entry took most of the catalog's time
    entries = tuple(
        dataclasses.replace(entry, tags=tuple(dict.fromkeys(as_tags[t.name] for t in entry.tags)))
        for entry in digest.entries
    )
    return dataclasses.replace(digest, entries=entries)
