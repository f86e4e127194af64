"""The web archive: issue pages, the paginated index, tag pages, the tags page, static files."""

from __future__ import annotations

from .catalog import Catalog
from .context import Context
from .model import Digest
from .output import Output


def render_issue_page(digest: Digest, catalog: Catalog, context: Context) -> list[Output]:
    return []


def render_site(catalog: Catalog, context: Context) -> list[Output]:
    return []
