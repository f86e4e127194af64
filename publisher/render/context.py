"""What every renderer may read besides the catalog: the config, the theme, and work prepared once."""

from __future__ import annotations

from dataclasses import dataclass

from ..config import Config
from .paths import Urls
from .templating import Theme


@dataclass(frozen=True)
class Prepared:
    """Work done once a build and handed to every renderer (and worker), so that rendering one
    issue does not redo it: the email template with its CSS inlined (None: this theme inlines
    each issue on its own). See issues.prepare_email; the build caches it."""

    email_template: str | None


@dataclass(frozen=True)
class Context:
    config: Config
    theme: Theme
    prepared: Prepared | None = None  # None: renderers prepare what they need themselves

    @property
    def urls(self) -> Urls:
        return Urls(self.config.site.base_url)
