"""The parsed model: frozen, plain data that every render stage reads and none changes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property


@dataclass(frozen=True)
class Tag:
    """A hashtag, identified by its slug. As parsed, its name is as written; in a catalog's digests
    it names the entry's topic (name and slug of a `Topic`, see catalog.py)."""

    name: str = field(compare=False)  # as written, without the '#'
    slug: str  # safe as one URL path segment; see text.slugify


@dataclass(frozen=True)
class Topic:
    """What a set of tags means: `#contrastive_learning` and `#Contrastive-Learning`, or spellings
    the config aliases (`#rl`), are one topic with one page, one set of feeds and one slug."""

    slug: str  # its folder under tags/: safe as one URL path segment, unique among topics
    name: str  # shown without the '#': the config's name for an aliased topic, else the most used spelling
    spellings: tuple[str, ...]  # as written in the notes, most used first
    aliases: tuple[str, ...] = ()  # the config's other names for it, used in notes or not
    kept_slugs: tuple[str, ...] = ()  # slugs of merged spellings whose published feeds go on being written

    @property
    def other_spellings(self) -> tuple[str, ...]:
        """ "Also written as": the spellings besides the name."""
        return tuple(spelling for spelling in self.spellings if spelling != self.name)


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

    def has_tag(self, tag: Tag | Topic) -> bool:
        return any(own.slug == tag.slug for own in self.tags)


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

    def entries_with(self, tag: Tag | Topic) -> tuple[Entry, ...]:
        return tuple(entry for entry in self.entries if entry.has_tag(tag))
