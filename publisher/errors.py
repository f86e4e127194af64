"""Every error `publisher` raises on purpose, and the diagnostics they carry.

    PublisherError              anything the CLI turns into a clean message and exit code 1
     ├── ConfigError            the config file: unknown keys, bad values (all reported at once)
     ├── SourceError            the digests: unreadable files, bad dates, missing tag lines,
     │                          duplicate dates, colliding tag slugs (all files reported at once)
     ├── OutputError            the writer refused an output: unsafe or duplicate path
     └── SendError              subscribers, the ledger, SMTP

Each error holds one or more `Diagnostic`s, printed as `path:line: message` (or `path: message`
when no line applies), so a person can jump straight to the problem.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Severity = Literal["error", "warning"]


def shown_path(path: Path) -> str:
    """A path as messages show it: relative to the working folder when it is below it."""
    relative = os.path.relpath(path)
    return str(path) if relative.startswith("..") else relative


@dataclass(frozen=True)
class Diagnostic:
    path: str
    line: int | None
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        return f"{where}: {self.message}"

    def as_json(self) -> dict[str, object]:
        return {"path": self.path, "line": self.line, "message": self.message}


class PublisherError(Exception):
    """Base class: carries the diagnostics that explain the failure."""

    def __init__(self, diagnostics: Diagnostic | list[Diagnostic] | str) -> None:
        if isinstance(diagnostics, str):
            diagnostics = Diagnostic("publisher", None, diagnostics)
        if isinstance(diagnostics, Diagnostic):
            diagnostics = [diagnostics]
        self.diagnostics: list[Diagnostic] = list(diagnostics)
        super().__init__("\n".join(str(d) for d in self.diagnostics))


class ConfigError(PublisherError):
    """The config file is missing, unreadable or has unknown keys or bad values."""


class SourceError(PublisherError):
    """One or more digests cannot be read as digests."""


class OutputError(PublisherError):
    """The writer refused an output (a path outside `out/`, or the same path twice)."""


class SendError(PublisherError):
    """Subscribers, the send ledger or the SMTP server refused the work."""
