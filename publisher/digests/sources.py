"""Reading the digest files: the input edge of the pipeline."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import Diagnostic, SourceError, shown_path


@dataclass(frozen=True)
class Source:
    path: str  # as shown in messages: relative to the working folder when under it
    data: bytes


def read_sources(folder: Path, kept: dict[str, tuple[tuple[int, ...], Source]] | None = None) -> list[Source]:
    """Every `*.txt` below the folder, in path order (so results never depend on listing order).

    With `kept` (what an earlier call read, by path: the file's stat and its source), a file whose
    size, times and inode are unchanged is not read again; `kept` is updated to this call's files."""
    shown = shown_path(folder)
    if not folder.is_dir():
        raise SourceError(Diagnostic(shown, None, "seeds folder not found"))
    paths = sorted(p for p in folder.rglob("*.txt") if p.is_file())
    if not paths:
        raise SourceError(Diagnostic(shown, None, "no digest files (*.txt) in this folder"))
    sources = []
    seen: dict[str, tuple[tuple[int, ...], Source]] = {}
    for path in paths:
        name = shown_path(path)
        try:
            if kept is None:
                sources.append(Source(name, path.read_bytes()))
                continue
            stat = path.stat()
            signature = (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino)
            known = kept.get(name)
            source = known[1] if known is not None and known[0] == signature else Source(name, path.read_bytes())
        except OSError as error:
            raise SourceError(Diagnostic(name, None, f"cannot read: {error.strerror}")) from None
        sources.append(source)
        seen[name] = (signature, source)
    if kept is not None:
        kept.clear()
        kept.update(seen)
    return sources
