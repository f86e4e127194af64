"""Reading the digest files: the input edge of the pipeline."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import Diagnostic, SourceError, shown_path


@dataclass(frozen=True)
class Source:
    path: str  # as shown in messages: relative to the working folder when under it
    data: bytes


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
