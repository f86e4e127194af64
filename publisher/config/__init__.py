"""The configuration: `publisher.toml` (or `[tool.publisher]` in pyproject.toml), typed and checked.

    model.py   every key, declared once as a frozen dataclass field with its type, default and check
    values.py  the checks of single values (URLs, time zones, addresses, ports, …)
    load.py    finding and reading the file; errors name the key and its line, all at once

Other packages use `Config` (and its sections), `load_config`, `find_config`, `parse_config`,
`theme_dirs` and `CONFIG_NAME`, from here.
"""

from .load import default_theme_dir, find_config, load_config, parse_config, theme_dirs
from .model import (
    CONFIG_NAME,
    SECTIONS,
    Alias,
    Bounces,
    Config,
    Email,
    Feeds,
    MailingList,
    Paths,
    Site,
    Smtp,
    Topics,
    Web,
)

__all__ = [
    "CONFIG_NAME",
    "SECTIONS",
    "Alias",
    "Bounces",
    "Config",
    "Email",
    "Feeds",
    "MailingList",
    "Paths",
    "Site",
    "Smtp",
    "Topics",
    "Web",
    "default_theme_dir",
    "find_config",
    "load_config",
    "parse_config",
    "theme_dirs",
]
