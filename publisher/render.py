"""Every render stage, from the catalog to the list of outputs. Pure: no I/O, no clock."""

from __future__ import annotations

from . import archive, feeds, issues
from .catalog import Catalog
from .context import Context
from .model import Digest
from .output import Output


def render_digest(digest: Digest, catalog: Catalog, context: Context) -> list[Output]:
    """The outputs of one digest: its email issue and its web page."""
    return [
        *issues.render_issue(digest, catalog, context),
        *archive.render_issue_page(digest, catalog, context),
    ]


def render_aggregates(catalog: Catalog, context: Context) -> list[Output]:
    """The outputs that gather all digests: feeds, OPML, index and tag pages, static files."""
    return [*feeds.render_feeds(catalog, context), *archive.render_site(catalog, context)]


def render_all(catalog: Catalog, context: Context) -> list[Output]:
    outputs = [out for digest in catalog.digests for out in render_digest(digest, catalog, context)]
    return outputs + render_aggregates(catalog, context)
