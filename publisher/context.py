"""What every renderer may read besides the catalog: the config and the theme."""

from __future__ import annotations

from dataclasses import dataclass

from .config import Config
from .paths import Urls
from .templating import Theme


@dataclass(frozen=True)
class Context:
    config: Config
    theme: Theme

    @property
    def urls(self) -> Urls:
        return Urls(self.config.site.base_url)
