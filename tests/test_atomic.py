"""A build killed at any moment leaves out/ exactly as before or exactly as after; the next build recovers.

A corpus of generated digests is built ("before"); then a template edit changes every page and
email ("after"). The "after" build runs again and again as a separate process from the "before"
state, killed with SIGKILL after delays spread over its whole duration, and at the two moments
that matter most, forced from inside (right after the swap, and in the middle of cleaning up).
Each time out/ must equal one of the two reference trees byte for byte: no truncated file, no mix,
nothing ignored.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.make_corpus import make_corpus

from .conftest import ROOT

DIGESTS = 150
# Fractions of the measured build time: very early (before anything is written), all through
# rendering and staging, around the swap at the very end, and after the end.
KILL_AT = (0.0, 0.03, 0.1, 0.25, 0.4, 0.55, 0.7, 0.8, 0.87, 0.92, 0.96, 0.98, 1.0, 1.03, 1.1, 1.25)
# Killed from inside, at exact steps of the writer: halfway through staging the changed files,
# and right after the swap, before the retired tree is put away and the manifest written.
HOOK = """
import os, signal, sys
import publisher.build.outdir as outdir
import publisher.build.writer as writer
moment = sys.argv.pop(1)
def die(): os.kill(os.getpid(), signal.SIGKILL)
if moment == "mid-staging":
    add, count = writer.Writer.add, [0]
    def add_then_maybe_die(self, output):
        add(self, output)
        count[0] += 1
        if count[0] == 400:
            die()
    writer.Writer.add = add_then_maybe_die
else:
    swap = outdir.swap_in
    def swap_then_die(*args):
        swap(*args)
        die()
    outdir.swap_in = swap_then_die
from publisher.cli import main
sys.argv[0] = "publisher"
main()
"""


def tree(folder: Path) -> dict[str, str]:
    """Every file below the folder (nothing ignored) by its SHA-256."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() or p.is_symlink()
    }


def leftovers(project: Path) -> list[str]:
    """Folders a killed build may leave beside out/ (the spare tree and the lock file are kept on purpose)."""
    kept = (".out.spare", ".out.lock")
    return sorted(name for name in os.listdir(project) if name.startswith(".out.") and name not in kept)


def survivors(folder: Path) -> list[int]:
    """Processes still running in the folder: workers a killed build left behind (Linux /proc)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.readlink(f"/proc/{pid}/cwd") == str(folder):
                found.append(int(pid))
        except OSError:
            continue
    return found


def assert_no_survivors(folder: Path) -> None:
    deadline = time.monotonic() + 5
    while survivors(folder) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = survivors(folder)
    for pid in left:  # ours: started by this test in its own folder
        os.kill(pid, signal.SIGKILL)
    assert left == [], "a killed build left worker processes running"


class Project:
    def __init__(self, root: Path) -> None:
        self.root = root
        make_corpus(DIGESTS, root / "seeds", seed=9)
        shutil.copytree(ROOT / "templates", root / "theme")
        config = (ROOT / "publisher.toml").read_text(encoding="utf-8")
        (root / "publisher.toml").write_text(config.replace('# templates = "my-theme"', 'templates = "theme"'), "utf-8")
        self.saved = root.parent / f"{root.name}-saved"

    def command(self, moment: str | None = None) -> list[str]:
        head = [sys.executable, "-m", "publisher"] if moment is None else [sys.executable, "-c", HOOK, moment]
        return [*head, "build", "--jobs", "2"]

    def build(self, moment: str | None = None) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(self.command(moment), cwd=self.root, capture_output=True, timeout=60)

    def start(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(self.command(), cwd=self.root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def edit(self) -> None:
        """Change every page and every email: the shared layout and the email template."""
        for name, old, new in (
            ("site/base.html", "</footer>", "<p>edited</p></footer>"),
            ("email/issue.html", "이번 호의 노트", "이번 호 노트"),
        ):
            path = self.root / "theme" / name
            text = path.read_text(encoding="utf-8")
            assert old in text, name
            path.write_text(text.replace(old, new), encoding="utf-8")

    def save(self) -> None:
        """The state before the edited build: out/, whatever lies beside it, and the cache."""
        shutil.rmtree(self.saved, ignore_errors=True)
        self.saved.mkdir()
        self._copy(self.root, self.saved)

    def restore(self) -> None:
        for name in os.listdir(self.root):
            if name == "out" or (name.startswith((".out", ".publisher-cache")) and name != ".out.lock"):
                shutil.rmtree(self.root / name)
        self._copy(self.saved, self.root)

    @staticmethod
    def _copy(source: Path, target: Path) -> None:
        """Output trees as hard links: the same files, inodes and times, as the writer's manifest
        recorded them (the writer never writes into a file of out/, it replaces files; a build
        that did would change the saved tree too, and the comparison with `before` would catch it).
        The cache is copied: SQLite writes into its file."""
        for name in os.listdir(source):
            if name == ".out.lock":
                continue  # a lock file: the build takes it, nothing to restore
            if name == "out" or name.startswith(".out"):
                shutil.copytree(source / name, target / name, symlinks=True, copy_function=os.link)
            elif name.startswith(".publisher-cache"):
                shutil.copytree(source / name, target / name, symlinks=True)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    project = Project(tmp_path_factory.mktemp("atomic") / "project")
    yield project
    for pid in survivors(project.root):  # only after a failure: never leave our processes behind
        os.kill(pid, signal.SIGKILL)


def test_a_killed_build_leaves_out_before_or_after_and_the_next_build_recovers(project: Project):
    assert project.build().returncode == 0
    before = tree(project.root / "out")
    project.save()
    project.edit()
    started = time.perf_counter()
    assert project.build().returncode == 0
    duration = time.perf_counter() - started
    after = tree(project.root / "out")
    assert tree(project.saved / "out") == before  # the build replaced files, it never wrote into one
    changed = [path for path in after if before.get(path) != after[path]]
    assert len(changed) > 2 * DIGESTS  # the edit touches every issue page and every email

    outcomes = []
    for fraction in KILL_AT:
        project.restore()
        process = project.start()
        time.sleep(fraction * duration)
        process.send_signal(signal.SIGKILL)
        process.wait()
        assert_no_survivors(project.root)
        state = tree(project.root / "out")
        assert state in (before, after), f"killed at {fraction:.2f} of {duration:.2f} s: out/ is mixed or truncated"
        outcomes.append("before" if state == before else "after")
    for moment, expected in (("mid-staging", before), ("after-swap", after)):
        project.restore()
        result = project.build(moment)
        assert result.returncode == -signal.SIGKILL, (moment, result.stderr.decode())
        assert_no_survivors(project.root)
        assert tree(project.root / "out") == expected, moment
        outcomes.append(moment)
    assert outcomes.count("before") >= 3, (duration, outcomes)  # the timed kills did land inside the build

    # The next build after a kill (with whatever it left: staging, spare, a cache half-updated) recovers.
    result = project.build()
    assert result.returncode == 0, result.stderr.decode()
    assert tree(project.root / "out") == after
    assert leftovers(project.root) == []
    print(f"build {duration:.2f} s; outcomes {outcomes}")  # shown with -s


def test_a_build_that_fails_midway_changes_nothing(tmp_path: Path):
    """A render error after every digest's files were staged: the tags page, made last, fails."""
    project = Project(tmp_path / "project")
    assert project.build().returncode == 0
    before = tree(project.root / "out")
    project.edit()
    page = project.root / "theme" / "site" / "tags.html"
    text = page.read_text(encoding="utf-8")
    page.write_text(text.replace("{% block main %}", "{% block main %}{{ no_such_variable }}"), "utf-8")
    result = project.build()
    assert result.returncode != 0
    assert tree(project.root / "out") == before and leftovers(project.root) == []
