"""What a render stage returns: bytes for a path under out/."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Output:
    relpath: str  # POSIX, relative to the output folder; see paths.py
    data: bytes
