"""Reading the digest files: the input edge of the pipeline."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .errors import Diagnostic, SourceError


@dataclass(frozen=True)
class Source:
    path: str  # as shown in messages: relative to the working folder when under it
    data: bytes


def shown_path(path: Path) -> str:
    """A path for messages: relative to the working folder when it is below it."""
    relative = os.path.relpath(path)
    return str(path) if relative.startswith("..") else relative


def read_sources(folder: Path) -> list[Source]:
    """Every `*.txt` below the folder, in path order (so results never depend on listing order)."""
    shown = shown_path(folder)
    if not folder.is_dir():
        raise SourceError(Diagnostic(shown, None, "seeds folder not found"))
    paths = sorted(p for p in folder.rglob("*.txt") if p.is_file())
    if not paths:
        raise SourceError(Diagnostic(shown, None, "no digest files (*.txt) in this folder"))
    sources = []
    for path in paths:
        try:
            sources.append(Source(shown_path(path), path.read_bytes()))
        except OSError as error:
            raise SourceError(Diagnostic(shown_path(path), None, f"cannot read: {error.strerror}")) from None
    return sources
