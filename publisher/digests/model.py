"""The parsed model: frozen, plain data that every render stage reads and none changes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property


@dataclass(frozen=True)
class Tag:
    """A hashtag. Identified by its slug: `#RLHF` and `#rlhf` are the same tag."""

    name: str = field(compare=False)  # as written, without the '#'
    slug: str  # safe as one URL path segment; see text.slugify


@dataclass(frozen=True)
class Entry:
    """One note in a digest: a paper, post or release and the writer's comments on it."""

    title: str
    authors: tuple[str, ...]
    link: str | None  # set when the byline is a URL
    abstract: tuple[str, ...]  # pasted from the source, usually English
    commentary: tuple[str, ...]  # the writer's own note
    tags: tuple[Tag, ...]
    anchor: str  # stable id of the entry within its digest
    line: int  # source line of the title

    def has_tag(self, tag: Tag) -> bool:
        return tag in self.tags


@dataclass(frozen=True)
class Digest:
    """One day's digest file."""

    date: dt.date
    source: str  # path as shown to the user
    entries: tuple[Entry, ...]
    date_line: int = 1  # source line of the date
    fingerprint: str = field(default="", compare=False)  # SHA-256 of the file's bytes: the parse's input

    @cached_property
    def tags(self) -> tuple[Tag, ...]:
        """Distinct tags of all entries, in order of first use."""
        return tuple(dict.fromkeys(tag for entry in self.entries for tag in entry.tags))

    def entries_with(self, tag: Tag) -> tuple[Entry, ...]:
        return tuple(entry for entry in self.entries if entry.has_tag(tag))
