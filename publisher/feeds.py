"""Main and per-tag RSS 2.0, Atom 1.0 and JSON Feed 1.1, their RFC 5005 archives, and the OPML."""

from __future__ import annotations

from .catalog import Catalog
from .context import Context
from .output import Output


def render_feeds(catalog: Catalog, context: Context) -> list[Output]:
    return []
