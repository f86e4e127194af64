"""Small records in the cache folder (manifests, group lists, the parse cache, ping history):
written whole or not at all, and read forgivingly, since a missing or damaged record only costs time."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from ..config import Config

LAST_BUILD = "last-build.json"


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


def out_record(config: Config, kind: str) -> Path:
    """The cache keeps one record of each kind per output folder (the writer's manifest, the
    groups a build made, the up-to-date check's fingerprints)."""
    out_id = hashlib.sha256(str(config.paths.out.resolve()).encode()).hexdigest()[:16]
    return config.paths.cache / f"{kind}-{out_id}.json"


def record_last_build(config: Config, tree: str, added=(), changed=(), removed=()) -> None:
    """What the last build changed, for `publisher ping` (WebSub) and people who wonder; `tree`
    tells whether out/ is still what that build made."""
    record = {"out": str(config.paths.out), "tree": tree}
    record.update(added=list(added), changed=list(changed), removed=list(removed))
    path = config.paths.cache / LAST_BUILD
    if read_json(path) != record:
        write_json(path, record)
