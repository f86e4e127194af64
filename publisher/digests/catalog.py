"""All digests together: their order, the tag index, and the checks across files."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property

from ..errors import Diagnostic, SourceError
from ..text import tag_key
from .model import Digest, Entry, Tag


@dataclass(frozen=True)
class TagSummary:
    tag: Tag  # spelled as at its first use
    dates: tuple[dt.date, ...]  # digests carrying it, newest first
    count: int  # entries carrying it


@dataclass(frozen=True)
class Catalog:
    digests: tuple[Digest, ...]  # newest first
    tags: tuple[TagSummary, ...]  # by slug

    def with_tag(self, tag: Tag) -> tuple[Digest, ...]:
        """The digests carrying a tag, newest first (from the tag index, not a scan)."""
        return tuple(self._by_date[date] for date in self._summaries[tag.slug].dates)

    @cached_property
    def _by_date(self) -> dict[dt.date, Digest]:
        return {digest.date: digest for digest in self.digests}

    @cached_property
    def _summaries(self) -> dict[str, TagSummary]:
        return {summary.tag.slug: summary for summary in self.tags}

    @property
    def entry_count(self) -> int:
        return sum(len(d.entries) for d in self.digests)


def make_catalog(digests: list[Digest]) -> Catalog:
    """Order the digests newest first and index their tags; raise on clashes between files."""
    ordered = sorted(digests, key=lambda d: (d.date, d.source), reverse=True)
    problems = _duplicate_dates(ordered) + _slug_collisions(ordered)
    if problems:
        raise SourceError(problems)
    spelled = _first_spellings(ordered)
    ordered = [_respell(digest, spelled) for digest in ordered]
    uses: dict[Tag, list[dt.date]] = defaultdict(list)
    counts: dict[Tag, int] = defaultdict(int)
    for digest in ordered:
        for entry in digest.entries:
            for tag in entry.tags:
                counts[tag] += 1
        for tag in digest.tags:
            uses[tag].append(digest.date)
    tags = tuple(TagSummary(tag, tuple(uses[tag]), counts[tag]) for tag in sorted(uses, key=lambda t: t.slug))
    return Catalog(tuple(ordered), tags)


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


def _uses(ordered: list[Digest]) -> list[tuple[Tag, Digest, Entry]]:
    """Every tag use, oldest first, so that 'first use' does not depend on file names."""
    return [(tag, digest, entry) for digest in reversed(ordered) for entry in digest.entries for tag in entry.tags]


def _slug_collisions(ordered: list[Digest]) -> list[Diagnostic]:
    """Two different tags must never share a slug: their pages and feeds would overwrite."""
    seen: dict[str, tuple[str, Tag, Digest, Entry]] = {}
    problems, reported = [], set()
    for tag, digest, entry in _uses(ordered):
        key = tag_key(tag.name)
        first_key, first, first_digest, first_entry = seen.setdefault(tag.slug, (key, tag, digest, entry))
        if first_key != key and (first_key, key) not in reported:
            reported.add((first_key, key))
            problems.append(
                Diagnostic(
                    digest.source,
                    entry.line,
                    f'tag "#{tag.name}" has the same URL slug "{tag.slug}" as "#{first.name}" '
                    f"({first_digest.source}:{first_entry.line}); rename one of them",
                )
            )
    return problems


def _first_spellings(ordered: list[Digest]) -> dict[str, str]:
    spelled: dict[str, str] = {}
    for tag, _, _ in _uses(ordered):
        spelled.setdefault(tag.slug, tag.name)
    return spelled


def _respell(digest: Digest, spelled: dict[str, str]) -> Digest:
    """The same digest with every tag written as at its first use (#RLHF and #rlhf show alike)."""
    if all(spelled[t.slug] == t.name for entry in digest.entries for t in entry.tags):
        return digest  # nearly always: rebuilding every entry took most of the catalog's time
    entries = tuple(
        dataclasses.replace(entry, tags=tuple(Tag(spelled[t.slug], t.slug) for t in entry.tags))
        for entry in digest.entries
    )
    return dataclasses.replace(digest, entries=entries)
