"""The only writer to the output folder.

A build is all or nothing. The new tree is assembled in a staging folder beside `out/` while the
outputs stream in: unchanged files become hard links to the current ones (same bytes, same
modification time), changed files are written fresh. At the end the staging folder takes the
place of `out/` in one atomic `renameat2` exchange, so a build killed at any moment leaves `out/`
as it was before or as it is after, never mixed; leftovers of a killed build are cleaned up by the
next one.

To tell unchanged files without reading them, the writer keeps a manifest of what it last wrote
(path → size, modification time, SHA-256, inode) in the cache folder; a file whose size, time and
inode still match is known by its hash. Without a manifest it compares bytes. The tree a swap
retires is kept beside `out/` as the spare, which the next build updates in place instead of
copying every folder again.

Another build (another config, another cache) may have written `out/` or the spare since: each
record names the tree it describes (outdir.py) and is used only while the folder names that tree.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import posixpath
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import Diagnostic, OutputError
from ..render import paths
from ..render.output import Output
from . import outdir
from .records import read_json, write_json


@dataclass(frozen=True)
class WriteReport:
    added: tuple[str, ...]
    changed: tuple[str, ...]
    unchanged: int
    removed: tuple[str, ...]

    @property
    def written(self) -> tuple[str, ...]:
        return tuple(sorted(self.added + self.changed))

    @property
    def differs(self) -> bool:
        return bool(self.added or self.changed or self.removed)


def check_path(path: str) -> Diagnostic | None:
    """Refuse paths that could leave the output folder or are not in normal form."""
    if (
        not path
        or path.startswith("/")
        or "\\" in path
        or "\0" in path
        or posixpath.normpath(path) != path
        or any(part in ("", ".", "..") for part in path.split("/"))
    ):
        return Diagnostic(path or "(empty path)", None, "unsafe output path refused")
    return None


@dataclass
class Writer:
    """Takes outputs one by one; `commit` swaps them in, `dry_run` only compares (build --check).

    The staging folder starts at the first output that differs from `out/`: a build in which
    nothing changed writes nothing at all. The tree a swap retires is kept as the spare; the next
    build updates the spare in place as its staging folder (double buffering), so a small change
    costs a few files, not a copy of every folder and link. A staging folder that a killed build
    left is never trusted: it is deleted.
    """

    out_dir: Path
    manifest_path: Path | None = None  # where the stat manifest lives (the cache folder); None: keep none
    dry_run: bool = False
    wait: float = outdir.LOCK_WAIT  # seconds to wait for another build of the same folder
    on_wait: Callable[[str], None] | None = None  # told when this build has to wait
    tree: str = field(init=False)  # the id of the tree in out/: the one found, then the one committed
    _current: dict[str, str] = field(init=False)  # relative path → its file in out/
    _manifest: dict[str, list] = field(init=False)
    _new_manifest: dict[str, list] = field(init=False, default_factory=dict)
    _seen: set[str] = field(init=False, default_factory=set)
    _digests: dict[str, str] = field(init=False, default_factory=dict)  # SHA-256 of every output: the tree id
    _dirs: set[str] = field(init=False, default_factory=set)
    _added: list[str] = field(init=False, default_factory=list)
    _changed: list[str] = field(init=False, default_factory=list)
    _unchanged: int = field(init=False, default=0)
    _carried: list[str] | None = field(init=False, default_factory=list)  # unchanged, not linked yet
    _staging: Path = field(init=False)
    _recycled: dict[str, list] | None = field(init=False, default=None)  # the spare's manifest, when reused
    _made: set[str] = field(init=False, default_factory=lambda: {""})  # staging folders that exist
    _lock: int | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.out_dir = Path(os.path.abspath(self.out_dir))  # `--out .` names the folder by its own name
        if not self.out_dir.name:
            raise OutputError(Diagnostic(str(self.out_dir), None, "the output folder cannot be a file system root"))
        self._staging = outdir.staging(self.out_dir)
        if not self.dry_run:
            outdir.refuse_foreign(self.out_dir)  # before the lock file: nothing beside a folder that is not ours
            self._lock = outdir.lock(self.out_dir, self.wait, self.on_wait)
            outdir.recover(self.out_dir)
            outdir.refuse_foreign(self.out_dir)
        self._current = outdir.existing_files(self.out_dir)
        self.tree = outdir.tree_of(self.out_dir)
        self._manifest = outdir.trusted(read_json(self.manifest_path), self.out_dir, "files")

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.discard()

    def fresh_staging(self) -> Path | None:
        """The staging folder, for workers to write new files into directly, when every output is
        new (nothing in out/ to compare with or keep: a first build). None otherwise."""
        if self.dry_run or self._current or self._carried is None or self._seen:
            return None
        spare = outdir.spare(self.out_dir)
        if spare.exists():
            shutil.rmtree(spare)  # files written straight in must never land on an old tree
        self._stage()
        return self._staging

    def add(self, output: Output | Staged) -> None:
        if isinstance(output, Staged):
            self._claim(output.relpath)
            self._added.append(output.relpath)
            self._new_manifest[output.relpath] = list(output.entry)
            self._digests[output.relpath] = output.entry[2]
            return
        path, data = output.relpath, output.data
        self._claim(path)
        digest = hashlib.sha256(data).hexdigest()
        self._digests[path] = digest
        current = self._current.get(path)
        entry = self._same_as(path, current, data, digest) if current is not None else None
        if entry is not None:
            self._unchanged += 1
            self._carry(path, entry)
            return
        (self._changed if current is not None else self._added).append(path)
        if not self.dry_run:
            self._stage()
            target = self._target(path)
            if self._recycled is not None:
                temporary = target + _TEMPORARY
                _write(temporary, data)
                os.replace(temporary, target)  # a new inode: never write through a shared one
            else:
                _write(target, data)
            self._new_manifest[path] = _entry(target, digest)

    def keep_all(self, relpaths: list[str] | None) -> bool:
        """Keep these files as they are, if every one is still as this writer last wrote it."""
        if not relpaths or self.dry_run:
            return False
        entries = []
        for path in relpaths:
            entry = None if path in self._seen else self._intact(path)
            if entry is None:
                return False
            entries.append(entry)
        for path, entry in zip(relpaths, entries, strict=True):
            self._claim(path)
            self._unchanged += 1
            self._digests[path] = entry[2]
            self._carry(path, entry)
        return True

    def existing(self, prefix: str) -> list[str]:
        """The files in out/ whose relative paths start with `prefix`, sorted."""
        return sorted(path for path in self._current if path.startswith(prefix))

    def report(self) -> WriteReport:
        removed = tuple(sorted(set(self._current) - self._seen - {paths.MARKER}))
        return WriteReport(tuple(sorted(self._added)), tuple(sorted(self._changed)), self._unchanged, removed)

    def commit(self) -> WriteReport:
        """Swap the staged tree in (when anything differs) and remember what was written."""
        # Nothing added, changed or removed: the tree is the one out/ names (a no-op build skips the hash).
        same = not (self._added or self._changed) and self._current.keys() - self._seen <= {paths.MARKER}
        tree = self.tree if self.tree and same else outdir.tree_id(self._digests)
        self.add(Output(paths.MARKER, outdir.marker_text(tree)))
        report = self.report()
        if not self.dry_run and report.differs:
            self._stage()
            if self._recycled is not None:
                self._prune_staging()
            retired = outdir.swap_in(self._staging, self.out_dir)  # renames keep each file's stat
            if retired is not None and self.manifest_path is not None:
                # The retired tree is the one found in out/: the manifest describes it only if trusted.
                write_json(_spare_manifest(self.manifest_path), {"tree": self.tree, "files": self._manifest})
                os.replace(retired, outdir.spare(self.out_dir))
            elif retired is not None:
                shutil.rmtree(retired)
        self.discard()
        if not self.dry_run:
            # A build that kept every file as it was leaves the manifest as it was (11,000 entries).
            if self.manifest_path is not None and (tree != self.tree or self._new_manifest != self._manifest):
                write_json(self.manifest_path, {"tree": tree, "files": self._new_manifest})
            self.tree = tree
        return report

    @property
    def files(self) -> dict[str, list]:
        """After `commit`: the manifest entry of every file in out/ (size, modification time, SHA-256, inode)."""
        return self._new_manifest

    def discard(self) -> None:
        if not self.dry_run and self._staging.exists():
            shutil.rmtree(self._staging)  # a failed build's half-made tree
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None

    def _claim(self, path: str) -> None:
        problem = check_path(path)
        if problem is None and path in self._seen:
            problem = Diagnostic(path, None, "two outputs want the same path")
        parent = posixpath.dirname(path)
        # A folder already in _dirs had its parents checked when it was added: a file per folder pays.
        known = parent in self._dirs
        clash = path in self._dirs or (not known and any(p in self._seen for p in _parents(parent)))
        if problem is None and clash:
            problem = Diagnostic(path, None, "output is both a file and a folder")
        if problem:
            raise OutputError(problem)
        self._seen.add(path)
        if not known:
            self._dirs.update(_parents(parent))

    def _carry(self, path: str, entry: list) -> None:
        """An unchanged file (`entry`: its manifest entry, true of the file in out/ now) goes into
        the new tree as a hard link, now or when staging starts."""
        if self.dry_run:
            return
        self._new_manifest[path] = entry
        if self._carried is None:
            self._link(path)
        else:
            self._carried.append(path)

    def _stage(self) -> None:
        """Start the staging folder: the spare tree when there is a trustworthy one, else a new one."""
        if self._carried is None:
            return
        spare = outdir.spare(self.out_dir)
        record = read_json(_spare_manifest(self.manifest_path)) if self.manifest_path else {}
        recycled = outdir.trusted(record, spare, "files")  # {} when another build replaced the spare
        if spare.is_dir() and recycled:
            os.replace(spare, self._staging)  # from here, a crash leaves a staging folder: deleted later
            self._recycled = recycled
            self._made.update(parent for path in recycled for parent in _parents(posixpath.dirname(path)))
        else:
            if spare.exists():
                shutil.rmtree(spare)
            self._staging.mkdir(parents=True)
        carried, self._carried = self._carried, None
        for path in carried:
            self._link(path)

    def _target(self, path: str) -> str:
        """Where a file goes in the staging tree, its folder made (once: thousands of files share few).
        A plain string: this runs for every file of the tree, where pathlib costs more than the stat."""
        folder = posixpath.dirname(path)
        staging = os.fspath(self._staging)
        if folder not in self._made:
            for parent in _parents(folder):  # outermost first; each made once, without probing
                if parent not in self._made:
                    with contextlib.suppress(FileExistsError):
                        os.mkdir(f"{staging}/{parent}")
                    self._made.add(parent)
        return f"{staging}/{path}"

    def _link(self, path: str) -> None:
        """Make the staged file the very file in out/ (same inode, bytes and time)."""
        source, entry = self._current[path], self._new_manifest[path]
        target = self._target(path)
        if self._recycled is not None:
            if _same_file(target, self._recycled.get(path), entry):
                return  # the spare already holds this very file
            temporary = target + _TEMPORARY
            if _link(source, temporary):
                os.replace(temporary, target)
                return
        elif _link(source, target):
            return
        _write(target, Path(source).read_bytes())  # no hard links on this system: a copy
        self._new_manifest[path] = _entry(target, entry[2])

    def _prune_staging(self) -> None:
        """Remove from the recycled tree every file and folder the new build does not make."""
        for path, file in outdir.existing_files(self._staging).items():
            if path not in self._seen:
                os.unlink(file)
        for folder, _, _ in sorted(os.walk(self._staging), key=lambda item: -len(item[0])):
            relative = Path(folder).relative_to(self._staging).as_posix()
            if relative != "." and relative not in self._dirs:
                with contextlib.suppress(OSError):
                    os.rmdir(folder)

    def _intact(self, path: str) -> list | None:
        """The manifest entry of a file in out/ unchanged since this writer wrote it (size,
        modification time and inode as recorded; one stat), else None."""
        known, current = self._manifest.get(path), self._current.get(path)
        if known is None or current is None:
            return None
        try:
            stat = os.stat(current)
        except OSError:
            return None
        return known if known[:2] == [stat.st_size, stat.st_mtime_ns] and known[3:] == [stat.st_ino] else None

    def _same_as(self, path: str, current: str, data: bytes, digest: str) -> list | None:
        """The manifest entry of the file in out/ when it holds these very bytes, else None."""
        known = self._intact(path)
        if known is not None:
            return known if known[2] == digest else None
        try:
            same = os.stat(current).st_size == len(data) and Path(current).read_bytes() == data
            return _entry(current, digest) if same else None
        except OSError:
            return None


_TEMPORARY = ".publisher-tmp"


@dataclass(frozen=True)
class Staged:
    """An output a worker process already wrote into a fresh staging folder (see Writer.fresh_staging):
    the parent takes the record instead of the bytes, so it neither receives, hashes nor writes them."""

    relpath: str
    entry: tuple  # the manifest entry: size, modification time, SHA-256, inode


def stage(staging: Path, output: Output) -> Staged:
    """Write one output into a fresh staging folder (in a worker); what Writer.add then records."""
    target = staging / output.relpath
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(output.data)
    return Staged(output.relpath, tuple(_entry(target, hashlib.sha256(output.data).hexdigest())))


def _entry(path: Path | str, digest: str) -> list:
    """A manifest entry: what tells, without reading it, that a file is still the one written."""
    stat = os.stat(path)
    return [stat.st_size, stat.st_mtime_ns, digest, stat.st_ino]


def _same_file(target: str, recorded: list | None, wanted: list) -> bool:
    """Whether the staged file is the wanted inode, as the spare's manifest says and the disk agrees."""
    if recorded is None or recorded[3:] != wanted[3:]:
        return False
    try:
        stat = os.stat(target)
    except OSError:
        return False
    return [stat.st_size, stat.st_mtime_ns, stat.st_ino] == [recorded[0], recorded[1], recorded[3]]


def write_outputs(outputs, out_dir: Path, manifest_path: Path | None = None) -> WriteReport:
    """Write an iterable of outputs as one atomic build."""
    with Writer(out_dir, manifest_path) as writer:
        for output in outputs:
            writer.add(output)
        return writer.commit()


def _parents(folder: str) -> list[str]:
    parts = folder.split("/") if folder else []
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def _write(target: str, data: bytes) -> None:
    with open(target, "wb") as file:
        file.write(data)


def _link(source: Path | str, target: str) -> bool:
    try:
        os.link(source, target)
        return True
    except OSError:
        return False  # no hard links here: the caller writes the bytes instead


def _spare_manifest(manifest_path: Path) -> Path:
    return manifest_path.with_name(f"{manifest_path.stem}.spare.json")
