"""Topics: the tags that mean one thing, however the writer spelled them over the years.

Tags equal after NFKC, case folding and with `-`, `_` and `.` as one separator are one topic;
the config's `[topics.aliases]` join others. Each topic gets one slug, deterministically: two
topics whose slugs clash are told apart by a stable suffix (with a warning), never by an error.
Everything here is pure and linear in the number of distinct spellings.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ..config import Alias
from ..errors import Diagnostic
from ..text import slugify, topic_key
from .model import Topic


@dataclass(frozen=True)
class Spelling:
    """How one spelling of a tag is used across the archive."""

    name: str  # as written, without '#'
    notes: int  # entries carrying it
    newest: dt.date
    first_use: tuple[dt.date, str, int]  # (date, file, line) of its oldest use


@dataclass(frozen=True)
class Resolved:
    topics: tuple[Topic, ...]  # by slug
    of: Mapping[str, Topic]  # every spelling used (as written) → its topic
    warnings: tuple[Diagnostic, ...] = field(default=())


def alias_keys(aliases: Iterable[Alias]) -> dict[str, str]:
    """Each alias spelling's key → its topic's key."""
    return {topic_key(spelling): topic_key(alias.topic) for alias in aliases for spelling in alias.spellings}


def resolve(spellings: Iterable[Spelling], aliases: tuple[Alias, ...] = (), config_source: str = "") -> Resolved:
    """Group spellings into topics, name them and give each a unique slug."""
    joined = alias_keys(aliases)
    named = {topic_key(alias.topic): alias for alias in aliases}
    groups: dict[str, list[Spelling]] = defaultdict(list)
    for spelling in spellings:
        key = topic_key(spelling.name)
        groups[joined.get(key, key)].append(spelling)
    warnings = _unused_aliases(aliases, {topic_key(s.name) for group in groups.values() for s in group}, config_source)
    drafts = []
    for key, group in groups.items():
        group.sort(key=lambda s: (-s.notes, -s.newest.toordinal(), s.name))  # most used, ties: newest
        alias = named.get(key)
        name = alias.topic.removeprefix("#") if alias else group[0].name
        others = tuple(s for s in alias.spellings if s != name) if alias else ()
        drafts.append((key, name, group, others))
    # The slug: the config's name's for an aliased topic, else the first used spelling's, the URL
    # its feeds were first published at; adding later digests never moves it.
    natural = {
        key: slugify(name if key in named else min(group, key=lambda s: s.first_use).name)
        for key, name, group, _ in drafts
    }
    slugs, clash_warnings = _unique_slugs([(key, natural[key], group) for key, _, group, _ in drafts])
    taken = set(slugs.values())
    kept: dict[str, str] = {}  # a merged spelling's own slug → the topic that keeps its feeds alive
    for key, _, group, _ in sorted(drafts, key=lambda d: min(s.first_use for s in d[2])):
        for spelling in group:
            own = slugify(spelling.name)
            if own not in taken and own not in kept:
                kept[own] = key
    topics = {
        key: Topic(
            slug=slugs[key],
            name=name,
            spellings=tuple(s.name for s in group),
            aliases=others,
            kept_slugs=tuple(sorted(slug for slug, owner in kept.items() if owner == key)),
        )
        for key, name, group, others in drafts
    }
    of = {s.name: topics[key] for key, _, group, _ in drafts for s in group}
    ordered = tuple(sorted(topics.values(), key=lambda t: t.slug))
    return Resolved(ordered, of, tuple(warnings + clash_warnings))


def _unique_slugs(groups: list[tuple[str, str, list[Spelling]]]) -> tuple[dict[str, str], list[Diagnostic]]:
    """A slug per topic key. Topics whose natural slugs clash (`#a/b`, `#a-b`): the one used first
    keeps it (its URL was published first); the others get a suffix from their own key, so their
    URLs do not change when other topics come and go."""
    natural: dict[str, list[tuple[str, list[Spelling]]]] = defaultdict(list)
    for key, slug, group in groups:
        natural[slug].append((key, group))
    slugs, warnings = {}, []
    for slug, claims in natural.items():
        claims.sort(key=lambda claim: (min(s.first_use for s in claim[1]), claim[0]))
        (key, group), others = claims[0], claims[1:]
        slugs[key] = slug
        first = min(s.first_use for s in group)
        for other_key, other_group in others:
            suffixed = f"{slug}-{hashlib.sha1(other_key.encode()).hexdigest()[:6]}"
            slugs[other_key] = suffixed
            _, source, line = min(s.first_use for s in other_group)
            warnings.append(
                Diagnostic(
                    source,
                    line,
                    f'tag "#{other_group[0].name}" and "#{group[0].name}" ({first[1]}:{first[2]}) are different '
                    f'topics with the same URL slug "{slug}": "#{other_group[0].name}" is published at '
                    f"tags/{suffixed}/ (alias them in [topics.aliases] if they mean one thing)",
                    "warning",
                )
            )
    return slugs, warnings


def _unused_aliases(aliases: tuple[Alias, ...], used: set[str], config_source: str) -> list[Diagnostic]:
    return [
        Diagnostic(
            config_source,
            alias.line,
            f'topics.aliases: "{spelling}" (an alias of "{alias.topic}") is a tag no digest uses',
            "warning",
        )
        for alias in aliases
        for spelling in alias.spellings
        if topic_key(spelling) not in used
    ]


def followed(filters: Iterable[str], aliases: Mapping[str, str]) -> frozenset[str]:
    """The topic keys a subscriber's filters (`#RL`, `contrastive_learning`) stand for; `aliases`
    is `alias_keys` of the config. Compare with `topic_key(topic name)`."""
    keys = (topic_key(f.strip()) for f in filters)
    return frozenset(aliases.get(key, key) for key in keys)


@dataclass(frozen=True)
class Suggestion:
    """Two topics the writer may want to alias: `keep` is the more used one."""

    keep: Topic
    merge: Topic
    reason: str

    def toml(self) -> str:
        """The `[topics.aliases]` line that would join them."""
        spellings = ", ".join(f'"{s}"' for s in (*self.keep.aliases, *self.merge.spellings))
        return f'"{self.keep.name}" = [{spellings}]'


def suggest(topics: Iterable[tuple[Topic, int]]) -> list[Suggestion]:
    """Likely duplicates among (topic, notes) pairs: the same letters without separators
    (`selfsupervised`), a plural (`llms`, `agents`, `strategies`), or a close spelling (one letter)."""
    import difflib  # only this command needs it

    counted = sorted(topics, key=lambda pair: (-pair[1], pair[0].slug))
    rank = {topic.slug: index for index, (topic, _) in enumerate(counted)}
    keys = {topic_key(topic.name): topic for topic, _ in counted}
    found: dict[tuple[str, str], str] = {}

    def pair(a: Topic, b: Topic, reason: str) -> None:
        keep, merge = sorted((a, b), key=lambda t: rank[t.slug])
        found.setdefault((keep.slug, merge.slug), reason)

    by_letters: dict[str, Topic] = {}
    by_stem: dict[str, Topic] = {}
    for key, topic in keys.items():
        letters = key.replace("-", "")
        if letters in by_letters:
            pair(by_letters[letters], topic, "the same without separators")
        by_letters.setdefault(letters, topic)
        stem = _singular(key)
        if stem in by_stem:
            pair(by_stem[stem], topic, "singular and plural")
        by_stem.setdefault(stem, topic)
    long_keys = [key for key in keys if len(key) >= 6]
    for key in long_keys:
        for close in difflib.get_close_matches(key, long_keys, n=3, cutoff=0.9):
            if close != key:
                pair(keys[key], keys[close], "close spellings")
    by_slug = {topic.slug: topic for topic, _ in counted}
    return [Suggestion(by_slug[a], by_slug[b], reason) for (a, b), reason in sorted(found.items())]


def _singular(key: str) -> str:
    head, sep, last = key.rpartition("-")
    if last.endswith("ies") and len(last) > 4:
        last = last[:-3] + "y"
    elif last.endswith(("ses", "xes", "ches", "shes")):
        last = last[:-2]
    elif last.endswith("s") and not last.endswith("ss") and len(last) > 3:
        last = last[:-1]
    return head + sep + last
