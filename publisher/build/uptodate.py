"""Is out/ already what the sources give? Answered from file metadata alone, before anything is read.

A rebuild with nothing changed is the most common build (CI on every push, a writer running
`publisher build` twice), and the one that should cost nothing. A build records its inputs' stats
(every digest, every theme file, publisher's own code, with the config and the indexer's version)
and its outputs' stats. When both are as recorded, the next build prints the recorded summary and
stops, without parsing, rendering, or loading the renderers at all. Anything else (a changed or
new file, an edited output, another config, a search index left out of date) takes the full
build, which finds what to redo.

As in make and git, a file is taken as unchanged while its size, modification and change times and
inode are. A file rewritten within the clock tick of its recorded stat keeps that stat (git's "racy"
files): a file touched in the last seconds before the build started is recorded with the hash of
its content too, and compared by content as well.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from .. import __version__
from ..config import Config, theme_dirs
from ..errors import OutputError
from .outdir import existing_files, lock, tree_of
from .records import out_record, read_json, record_last_build, write_json

RACY_SECONDS = 2.0  # an input touched this close before the build started is not trusted by its stat


@dataclass(frozen=True)
class Inputs:
    """The stat fingerprint of a build's inputs, and the content hashes of the files too recent for
    their stat to tell."""

    key: str
    racy: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Summary:
    """What a build that changes nothing prints: the last full build's counts and warnings."""

    digests: int
    entries: int
    topics: int
    files: int
    warnings: tuple[str, ...]


def inputs(config: Config) -> Inputs:
    """Stat every input: the digests, the theme's files, publisher's code and the search indexer
    (its package holds the binary: a new version is new files), plus the whole config."""
    package = Path(__file__).resolve().parent.parent
    files = [*listed_files(config.paths.seeds, ".txt"), *listed_files(package, ".py")]
    for folder in (*theme_dirs(config), *_package_folder("pagefind_bin")):
        files += listed_files(folder, "")
    started = time.time_ns()
    # The working folder too: messages name files relative to it.
    digest = hashlib.sha256(repr((config, __version__, os.getcwd())).encode())
    racy = []
    for path in sorted(files):
        try:
            stat = os.stat(path)
            if max(stat.st_mtime_ns, stat.st_ctime_ns) > started - RACY_SECONDS * 1e9:
                racy.append((path, _content(path)))
        except OSError:
            continue  # gone while listed: the full build will say so
        digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\0{stat.st_ctime_ns}\0{stat.st_ino}\n".encode())
    return Inputs(digest.hexdigest(), tuple(racy))


def outputs(out_dir: Path) -> str:
    """The stat fingerprint of every file in the output folder, as it is on disk."""
    stats = {}
    for relpath, path in existing_files(out_dir).items():
        try:
            stat = os.stat(path)
        except OSError:
            continue
        stats[relpath] = (stat.st_size, stat.st_mtime_ns, stat.st_ino)
    return _fingerprint(stats)


def _fingerprint(stats: Mapping[str, tuple[int, int, int]]) -> str:
    """Path, size, modification time and inode of every file."""
    digest = hashlib.sha256()
    for relpath, (size, mtime_ns, inode) in sorted(stats.items()):
        digest.update(f"{relpath}\0{size}\0{mtime_ns}\0{inode}\n".encode())
    return digest.hexdigest()


def up_to_date(config: Config, found: Inputs, *, strict: bool = False) -> Summary | None:
    """The last build's summary when out/ holds the build of exactly these inputs; else None."""
    record = read_json(out_record(config, "uptodate"))
    if record.get("inputs") != found.key or not _same_contents(record.get("racy")):
        return None
    summary = record.get("summary")
    if not isinstance(summary, dict) or (strict and summary.get("warnings")):
        return None  # --strict fails on warnings: the full build says so, file by file
    try:
        summary = Summary(**{**summary, "warnings": tuple(summary["warnings"])})
    except (TypeError, KeyError):
        return None
    out_dir = config.paths.out
    try:
        descriptor = lock(out_dir, wait=0)  # another build writing out/: that one decides
    except OutputError:
        return None
    try:
        if record.get("tree") != tree_of(out_dir) or record.get("outputs") != outputs(out_dir):
            return None
        record_last_build(config, record["tree"])  # this build changed nothing: nothing to announce
        return summary
    finally:
        os.close(descriptor)


def remember(
    config: Config, found: Inputs, files: Mapping[str, list], counts: tuple[int, int, int], warnings: list[str]
) -> None:
    """After a full build that left out/ whole: what the next build compares with. `files` is the
    writer's manifest of out/ (path → size, modification time, hash, inode), true of the disk: the
    build just wrote or checked every file, and need not look at them again."""
    path = out_record(config, "uptodate")
    summary = Summary(*counts, len(files), tuple(warnings))
    record = {
        "inputs": found.key,
        "racy": [list(pair) for pair in found.racy],
        "tree": tree_of(config.paths.out),
        "outputs": _fingerprint({relpath: (e[0], e[1], e[3]) for relpath, e in files.items()}),
        "summary": {**summary.__dict__, "warnings": list(summary.warnings)},
    }
    if read_json(path) != record:
        write_json(path, record)


def forget(config: Config) -> None:
    """A build that leaves out/ incomplete on purpose (the search index left for later)."""
    out_record(config, "uptodate").unlink(missing_ok=True)


def _content(path: str) -> str:
    with open(path, "rb") as file:
        return hashlib.sha256(file.read()).hexdigest()


def _same_contents(racy: object) -> bool:
    """Whether the files recorded by content still hold it."""
    if not isinstance(racy, list):
        return False
    try:
        return all(_content(path) == digest for path, digest in racy)
    except (OSError, TypeError, ValueError):
        return False


def listed_files(folder: Path, suffix: str) -> Iterable[str]:
    """Every file below the folder whose name ends with `suffix` (symbolic links followed, as
    sources.read_sources does; none when there is no such folder), as plain strings: thousands,
    listed on every build."""
    for root, folders, names in os.walk(folder, followlinks=True):
        folders[:] = [name for name in folders if name != "__pycache__"]
        yield from (os.path.join(root, name) for name in names if name.endswith(suffix))


def _package_folder(name: str) -> list[Path]:
    """Where an installed package lives, without importing it; [] when it is not installed."""
    spec = importlib.util.find_spec(name)
    return [Path(folder) for folder in (spec.submodule_search_locations or [])] if spec else []
