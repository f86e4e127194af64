"""Every render stage, from the catalog to the outputs. Pure: values in, values out; no I/O, no clock.

Two kinds of work:
- per digest (`render_digest`), in three units: its email issue, its web page, and the feed HTML of
  its entries. Each depends only on the digest, the templates it uses and the config (the page
  also on its neighbours' dates), so units run in worker processes and are cached by content hash
  (build/workers.py, build/cache.py).
- aggregates (`aggregate_groups`): feeds, OPML, index and tag pages and static files, assembled from
  the catalog and the per-digest feed HTML, in groups whose keys say what they show, so that a
  build can keep the files of groups that did not change (build/pipeline.py).

Every job and group names the theme folders it renders with (`uses`): editing a template remakes
only what uses it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from ..digests.catalog import Catalog
from ..digests.model import Digest
from . import archive, discovery, feeds, paths
from .context import Context
from .output import Group, Output, group_key

# The per-digest units and the templates each renders (with all they extend, include or import).
UNITS = {"email": ("email/issue.html", "email/issue.txt"), "page": ("site/issue.html",), "feed": ("feed/entry.html",)}


@dataclass(frozen=True)
class DigestJob:
    """One unit of one digest's work, with everything it depends on besides the context."""

    unit: str  # a key of UNITS
    digest: Digest
    older: dt.date | None = None  # the neighbours' dates: only the web page links to them
    newer: dt.date | None = None

    @property
    def uses(self) -> tuple[str, ...]:
        return UNITS[self.unit]


@dataclass(frozen=True)
class DigestParts:
    outputs: tuple[Output, ...]
    fragments: tuple[str, ...] = ()  # the feed unit: the HTML of each entry, in entry order


def digest_jobs(catalog: Catalog) -> list[DigestJob]:
    digests = catalog.digests  # newest first
    jobs = []
    for i, digest in enumerate(digests):
        older = digests[i + 1].date if i + 1 < len(digests) else None
        newer = digests[i - 1].date if i > 0 else None
        jobs += [DigestJob("email", digest), DigestJob("page", digest, older, newer), DigestJob("feed", digest)]
    return jobs


def render_digest(job: DigestJob, context: Context) -> DigestParts:
    if job.unit == "email":
        from . import issues  # the email stack loads only when an issue is rendered

        return DigestParts(tuple(issues.render_issue(job.digest, context)))
    if job.unit == "page":
        return DigestParts(tuple(archive.render_issue_page(job.digest, job.older, job.newer, context)))
    return DigestParts((), feeds.entry_fragments(job.digest, context))


def cached_form(job: DigestJob, parts: DigestParts) -> DigestParts:
    """What the cache keeps of a unit: all of it but an email's .eml, which `from_cache` composes
    again from the other files. Composing costs less than keeping: the .eml is half the bytes of
    an issue and, in base64, compresses worst."""
    if job.unit != "email":
        return parts
    eml = paths.email(job.digest.date, "eml")
    return DigestParts(tuple(output for output in parts.outputs if output.relpath != eml), parts.fragments)


def from_cache(job: DigestJob, parts: DigestParts) -> DigestParts:
    """A unit's parts from what the cache kept (see `cached_form`)."""
    if job.unit != "email" or not parts.outputs:
        return parts
    from . import issues

    return DigestParts((*parts.outputs, issues.eml_again(job.digest.date, parts.outputs)), parts.fragments)


def content_key(digest: Digest) -> str:
    """A digest's content: the bytes it was parsed from (the parser's own code is in the context key)
    and its entries' topics as the catalog resolves them (name and slug)."""
    if not digest.fingerprint:  # made in code, not parsed from a file
        return group_key("digest", repr(digest))
    spelled = repr([(tag.name, tag.slug) for entry in digest.entries for tag in entry.tags])
    return group_key("digest", digest.fingerprint, digest.source, spelled)


def aggregate_groups(catalog: Catalog, context: Context, keys: Mapping[dt.date, str]) -> list[Group]:
    """Feeds, OPML, index, tag, tags, search and 404 pages, the sitemap, robots.txt and static files,
    in groups keyed by what they show. (The search index is the build's: build/search.py.)"""
    return [
        *feeds.feed_groups(catalog, context, keys),
        *archive.site_groups(catalog, context, keys),
        *discovery.discovery_groups(catalog, context),
    ]


def render_all(catalog: Catalog, context: Context) -> Iterator[Output]:
    """Every output, one job after another, with no cache, no workers, nothing kept: the reference."""
    fragments = {}
    for job in digest_jobs(catalog):
        parts = render_digest(job, context)
        if job.unit == "feed":
            fragments[job.digest.date] = parts.fragments
        yield from parts.outputs
    keys = {digest.date: content_key(digest) for digest in catalog.digests}
    for group in aggregate_groups(catalog, context, keys):
        yield from group.make(fragments)
