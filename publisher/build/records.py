"""Small records in the cache folder (manifests, group lists, the parse cache, ping history):
written whole or not at all, and read forgivingly, since a missing or damaged record only costs time."""

from __future__ import annotations

import json
import os
from pathlib import Path


def write_atomically(path: Path, data: bytes) -> None:
    """A reader sees the whole new file or the old one, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def write_json(path: Path, data: object) -> None:
    # Compact: only json's C encoder is fast, and it does not indent (a build's manifest: 3× faster).
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n"
    write_atomically(path, text.encode("utf-8"))


def read_json(path: Path | None) -> dict:
    """The JSON object in the file; {} when there is none, or it is damaged."""
    if path is None:
        return {}
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
