"""What belongs to an output folder itself, whatever config or cache builds it: its lock, its marker,
the id of the tree it holds, and the folders beside it (staging, spare) with the atomic swap.

The lock is a file beside the folder (`.out.lock` for `out/`), so two builds of one folder exclude
each other even when their configs and caches differ. The marker (`out/.publisher-out`) says the
folder is publisher's to replace, and names the tree it holds: a hash of every file's path and
bytes. Records kept elsewhere about the folder (the writer's manifest, the spare tree's, the
groups a build kept, what the last build changed) carry the id of the tree they describe, and are
trusted only while the folder still names that tree. The id comes from the content, not a clock or
a random number, so the output stays byte-identical from one machine to the next.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from ..errors import Diagnostic, OutputError, shown_path
from ..render import paths

_MARKER_TEXT = "This folder is written by publisher build; files not made by the build are removed.\n"
_TREE = "tree: "
LOCK_WAIT = 600.0  # seconds a build waits for another build of the same folder before it stops


def tree_id(digests: dict[str, str]) -> str:
    """The id of a tree: its files' paths and SHA-256 digests (the marker itself left out)."""
    text = "".join(f"{path}\0{digest}\n" for path, digest in sorted(digests.items()) if path != paths.MARKER)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def marker_text(tree: str) -> bytes:
    return f"{_MARKER_TEXT}{_TREE}{tree}\n".encode()


def tree_of(folder: Path) -> str:
    """The id a folder's marker names; "" when it has none (no marker, or one from before ids)."""
    try:
        text = (folder / paths.MARKER).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    for line in text.splitlines():
        if line.startswith(_TREE):
            return line[len(_TREE) :].strip()
    return ""


def trusted(record: dict, folder: Path, field: str) -> dict:
    """`record[field]` when the record describes the tree now in `folder`, else {} (build as if cold)."""
    tree, value = record.get("tree"), record.get(field)
    if not tree or not isinstance(value, dict) or tree != tree_of(folder):
        return {}
    return value


def lock_path(out_dir: Path) -> Path:
    return out_dir.with_name(f".{out_dir.name}.lock")


def lock(out_dir: Path, wait: float = LOCK_WAIT, on_wait: Callable[[str], None] | None = None) -> int:
    """Take the folder's lock (a descriptor to close), waiting up to `wait` seconds for another build.

    `on_wait` hears once that this build waits, and for whom. The lock is `flock`: the kernel drops
    it when its holder exits, even when killed, so a dead build never blocks the next one."""
    import fcntl

    path = lock_path(out_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + wait
    told = False
    while True:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except OSError:
            pass
        if time.monotonic() >= deadline:
            os.close(descriptor)
            raise OutputError(
                Diagnostic(
                    shown_path(out_dir),
                    None,
                    f"another publisher build{_holder(path)} is still writing this folder after {wait:g} s; "
                    "try again when it has finished",
                )
            )
        if not told and on_wait is not None:
            on_wait(f"{shown_path(out_dir)}: waiting for another publisher build{_holder(path)} to finish")
            told = True
        time.sleep(0.05)
    with contextlib.suppress(OSError):  # who holds it, for the message another build shows
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, f"{os.getpid()}\n".encode(), 0)
    return descriptor


def _holder(path: Path) -> str:
    try:
        pid = path.read_text(encoding="ascii").strip()
    except (OSError, ValueError):
        return ""
    return f" (process {pid})" if pid.isdigit() else ""


def refuse_foreign(out_dir: Path) -> None:
    """Never replace a folder that has files but was not written by publisher."""
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / paths.MARKER).is_file():
        raise OutputError(
            Diagnostic(
                shown_path(out_dir),
                None,
                "output folder has files that publisher did not write; choose an empty or new "
                "folder with --out (publisher replaces the whole folder on every build)",
            )
        )


def recover(out_dir: Path) -> None:
    """Finish or undo what a killed build left behind."""
    old = old_tree(out_dir)
    if old.exists() and not out_dir.exists():
        os.replace(old, out_dir)  # killed between the two renames of the fallback swap
    for leftover in (old, staging(out_dir)):
        if leftover.exists():
            shutil.rmtree(leftover)


def existing_files(out_dir: Path) -> dict[str, str]:
    """Every file below the folder by its relative POSIX path (symbolic links count as files).
    Plain strings, not Paths: thousands of files, walked on every build."""
    found: dict[str, str] = {}
    folders = [("", os.fspath(out_dir))] if out_dir.is_dir() else []
    while folders:
        prefix, folder = folders.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                relpath = prefix + entry.name
                if entry.is_dir(follow_symlinks=False):
                    folders.append((relpath + "/", entry.path))
                else:
                    found[relpath] = entry.path
    return found


def staging(out_dir: Path) -> Path:
    return out_dir.with_name(f".{out_dir.name}.staging")


def spare(out_dir: Path) -> Path:
    return out_dir.with_name(f".{out_dir.name}.spare")


def old_tree(out_dir: Path) -> Path:
    return out_dir.with_name(f".{out_dir.name}.old")


def swap_in(staging: Path, out_dir: Path) -> Path | None:
    """Put the staged tree in place; returns where the previous tree now is (None: there was none)."""
    if not out_dir.exists():
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging, out_dir)
        return None
    if exchange(staging, out_dir):
        return staging  # now holds the previous build
    old = old_tree(out_dir)
    os.replace(out_dir, old)
    os.replace(staging, out_dir)
    return old


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def exchange(a: Path, b: Path) -> bool:
    """Atomically swap two folders (Linux renameat2); False where the system cannot."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    return renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0
