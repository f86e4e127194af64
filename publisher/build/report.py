"""Plain views of the model for the terminal and for `check --json`."""

from __future__ import annotations

from ..digests.model import Digest


def summary_line(digest: Digest) -> str:
    tags = " ".join(f"#{tag.name}" for tag in digest.tags)
    return f"{digest.date.isoformat()}  {len(digest.entries):3d} entries  {tags}  ({digest.source})"


def digests_json(digests: tuple[Digest, ...] | list[Digest]) -> list[dict[str, object]]:
    return [
        {
            "date": digest.date.isoformat(),
            "source": digest.source,
            "entries": [
                {
                    "title": entry.title,
                    "authors": list(entry.authors),
                    "link": entry.link,
                    "abstract": list(entry.abstract),
                    "commentary": list(entry.commentary),
                    "tags": [tag.name for tag in entry.tags],
                    "anchor": entry.anchor,
                    "line": entry.line,
                }
                for entry in digest.entries
            ],
        }
        for digest in digests
    ]
