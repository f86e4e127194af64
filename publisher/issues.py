"""Email issues: HTML (jinja2 + premailer), plain text, and a ready .eml per digest."""

from __future__ import annotations

from .catalog import Catalog
from .context import Context
from .model import Digest
from .output import Output


def render_issue(digest: Digest, catalog: Catalog, context: Context) -> list[Output]:
    return []
