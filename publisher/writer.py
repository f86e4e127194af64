"""The only writer to the output folder.

A build is all or nothing. The new tree is assembled in a staging folder beside `out/`: unchanged
files are hard links to the current ones (same bytes, same modification time), changed files are
written fresh. The staging folder then takes the place of `out/` in one atomic `renameat2`
exchange, so a build killed at any moment leaves `out/` as it was before or as it is after, never
mixed; leftovers of a killed build are cleaned up by the next one.
"""

from __future__ import annotations

import ctypes
import os
import posixpath
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from . import paths
from .errors import Diagnostic, OutputError
from .output import Output

_MARKER_TEXT = b"This folder is written by publisher build; files not made by the build are removed.\n"


@dataclass(frozen=True)
class WriteReport:
    written: tuple[str, ...]  # new or changed
    unchanged: int
    removed: tuple[str, ...]


def check_outputs(outputs: Iterable[Output]) -> dict[str, bytes]:
    """Refuse paths that leave the output folder, are not normal, or are made twice."""
    files: dict[str, bytes] = {}
    problems = []
    for output in outputs:
        path = output.relpath
        parts = path.split("/")
        if (
            not path
            or path.startswith("/")
            or "\\" in path
            or "\0" in path
            or posixpath.normpath(path) != path
            or any(part in ("", ".", "..") for part in parts)
        ):
            problems.append(Diagnostic(path or "(empty path)", None, "unsafe output path refused"))
        elif path in files:
            problems.append(Diagnostic(path, None, "two outputs want the same path"))
        else:
            files[path] = output.data
    dirs = {posixpath.dirname(p) for p in files}
    problems += [Diagnostic(p, None, "output is both a file and a folder") for p in files if p in dirs]
    if problems:
        raise OutputError(problems)
    files[paths.MARKER] = _MARKER_TEXT
    return files


def existing_files(out_dir: Path) -> dict[str, Path]:
    if not out_dir.is_dir():
        return {}
    return {
        path.relative_to(out_dir).as_posix(): path for path in out_dir.rglob("*") if path.is_file() or path.is_symlink()
    }


def plan(files: dict[str, bytes], out_dir: Path) -> WriteReport:
    """What writing these files would change, without touching anything."""
    current = existing_files(out_dir)
    written = tuple(sorted(p for p, data in files.items() if p not in current or not _same(current[p], data)))
    removed = tuple(sorted(set(current) - set(files)))
    return WriteReport(written, len(files) - len(written), removed)


def write_outputs(outputs: Iterable[Output], out_dir: Path) -> WriteReport:
    files = check_outputs(outputs)
    recover(out_dir)
    _refuse_foreign(out_dir)
    report = plan(files, out_dir)
    if not report.written and not report.removed:
        return report
    staging = _staging(out_dir)
    for relpath, data in files.items():
        target = staging / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        current = out_dir / relpath
        if relpath not in report.written:
            try:
                os.link(current, target)
                continue
            except OSError:
                pass  # no hard links here: copy the bytes instead
        target.write_bytes(data)
    _swap_in(staging, out_dir)
    return report


def recover(out_dir: Path) -> None:
    """Finish or undo what a killed build left behind."""
    old = _old(out_dir)
    if old.exists() and not out_dir.exists():
        os.replace(old, out_dir)  # killed between the two renames of the fallback swap
    for leftover in (old, _staging(out_dir)):
        if leftover.exists():
            shutil.rmtree(leftover)


def _same(path: Path, data: bytes) -> bool:
    try:
        return path.stat().st_size == len(data) and path.read_bytes() == data
    except OSError:
        return False


def _refuse_foreign(out_dir: Path) -> None:
    """Never replace a folder that has files but was not written by publisher."""
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / paths.MARKER).is_file():
        raise OutputError(
            Diagnostic(
                str(out_dir),
                None,
                "output folder has files that publisher did not write; choose an empty or new "
                "folder with --out (publisher replaces the whole folder on every build)",
            )
        )


def _staging(out_dir: Path) -> Path:
    return out_dir.with_name(f".{out_dir.name}.staging")


def _old(out_dir: Path) -> Path:
    return out_dir.with_name(f".{out_dir.name}.old")


def _swap_in(staging: Path, out_dir: Path) -> None:
    if not out_dir.exists():
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging, out_dir)
    elif _exchange(staging, out_dir):
        shutil.rmtree(staging)  # now holds the previous build
    else:
        old = _old(out_dir)
        os.replace(out_dir, old)
        os.replace(staging, out_dir)
        shutil.rmtree(old)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two folders (Linux renameat2); False where the system cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return result == 0
