"""What render stages return: bytes for a path under out/, alone or in groups that a build may keep."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass

# The feed HTML of each entry of a digest, by digest date (see feeds.entry_fragments).
Fragments = Mapping[dt.date, tuple[str, ...]]


@dataclass(frozen=True)
class Output:
    relpath: str  # POSIX, relative to the output folder; see paths.py
    data: bytes


@dataclass(frozen=True)
class Group:
    """Outputs made together from part of the catalog.

    `key` names everything they depend on besides the config, the code and the templates in `uses`
    (digest content keys, pagination, the tag), so a build that already wrote a group with this key
    may keep its files instead of calling `make`. `make` is pure; it reads the feed fragments of the
    digests in `needs` only.
    """

    key: str
    needs: tuple[dt.date, ...]
    make: Callable[[Fragments], list[Output]]
    uses: tuple[str, ...] = ()  # the templates it renders, or theme folders ending in '/' (static files)


def group_key(*parts: str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8", "surrogatepass") + b"\0")
    return digest.hexdigest()
