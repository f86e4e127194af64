"""`publisher serve`: the change detection on its own, then the real command over HTTP."""

from __future__ import annotations

import dataclasses
import functools
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from publisher.build import serve
from publisher.build.serve import Changes, changes, reloader, snapshot, watched_files
from publisher.config import Config
from publisher.render.templating import default_theme_dir

DIGEST = "seeds/000_05ad73aa49aa7872.txt"  # the digest of 2024-07-25
ISSUE = "issues/2024-07-25/"
TITLE = "Rule Based Rewards for Language Model Safety"


@pytest.fixture
def inputs(tmp_path: Path) -> Config:
    """A config reading seeds, a theme override and itself from tmp_path."""
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "a.txt").write_text("2024-01-01\n", encoding="utf-8")
    (tmp_path / "theme" / "site").mkdir(parents=True)
    (tmp_path / "theme" / "site" / "base.html").write_text("<html>", encoding="utf-8")
    config_path = tmp_path / "publisher.toml"
    config_path.write_text("[web]\npage_size = 30\n", encoding="utf-8")
    config = Config(source=str(config_path))
    return config.with_paths(seeds=tmp_path / "seeds", templates=tmp_path / "theme", out=tmp_path / "out")


def test_watches_digests_theme_and_config_only(inputs: Config, tmp_path: Path) -> None:
    (tmp_path / "seeds" / ".a.txt.swp").write_bytes(b"editor state")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "index.html").write_text("built", encoding="utf-8")
    watched = watched_files(inputs)
    assert tmp_path / "seeds" / "a.txt" in watched
    assert tmp_path / "theme" / "site" / "base.html" in watched
    assert tmp_path / "publisher.toml" in watched
    assert default_theme_dir() / "static" / "style.css" in watched
    assert tmp_path / "seeds" / ".a.txt.swp" not in watched
    assert not [p for p in watched if (tmp_path / "out") in p.parents]


def test_changes_names_added_changed_and_removed_files(inputs: Config, tmp_path: Path) -> None:
    before = snapshot(inputs)
    found, after = changes(inputs, before)
    assert not found
    assert after == before

    seeds = tmp_path / "seeds"
    (seeds / "a.txt").write_text("2024-01-01\nA title\n노트\n#tag\n", encoding="utf-8")
    (seeds / "sub").mkdir()
    (seeds / "sub" / "b.txt").write_text("2024-01-02\n", encoding="utf-8")
    (tmp_path / "theme" / "site" / "base.html").unlink()
    (tmp_path / "publisher.toml").write_text("[web]\npage_size = 10\n", encoding="utf-8")
    found, after = changes(inputs, before)
    assert found == Changes(
        added=(seeds / "sub" / "b.txt",),
        modified=(tmp_path / "publisher.toml", seeds / "a.txt"),
        removed=(tmp_path / "theme" / "site" / "base.html",),
    )
    assert found.touches(tmp_path / "publisher.toml")
    assert "  added " in found.lines()[0] and found.lines()[0].endswith("b.txt")
    # Compared with the new snapshot, nothing is left to report.
    assert not changes(inputs, after)[0]


@pytest.mark.parametrize("seen_late", [False, True], ids=["next-poll", "after-a-long-rebuild"])
def test_a_rewrite_within_one_clock_tick_is_seen(
    inputs: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seen_late: bool
) -> None:
    """Saved twice within one tick of the file system's clock, with the same size: the time and size
    stay the same, the content does not."""
    config = tmp_path / "publisher.toml"
    stat = config.stat()
    before = snapshot(inputs)
    config.write_text("[web]\npage_size = 10\n", encoding="utf-8")  # as long as "= 30"
    os.utime(config, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    if seen_late:  # the next snapshot comes when the file no longer counts as recently modified
        monkeypatch.setattr(serve, "RACY_NS", 0)
    found, after = changes(inputs, before)
    assert found == Changes(modified=(config,))
    assert not changes(inputs, after)[0]


def test_reloading_the_config_keeps_the_command_line_paths(inputs: Config, tmp_path: Path) -> None:
    (tmp_path / "publisher.toml").write_text("[web]\npage_size = 7\n[paths]\nout = 'elsewhere'\n", encoding="utf-8")
    reloaded = reloader(inputs, seeds=tmp_path / "seeds")()
    assert reloaded.web.page_size == 7
    assert reloaded.paths.seeds == tmp_path / "seeds"
    assert reloaded.paths.out == inputs.paths.out  # the folder being served does not move
    assert reloader(dataclasses.replace(inputs, source="(defaults)"), None)() is not None


class _Terminal:
    """Collects a subprocess's output lines in the background, so the test can wait on them."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self._thread.start()

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def wait_for(condition: Callable[[], object], what: str, seconds: float = 30.0) -> object:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.1)
    raise AssertionError(f"timed out after {seconds} s waiting for {what}")


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode("utf-8")


def test_serve_builds_serves_and_rebuilds_on_change(project: Path) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "publisher", "serve", "--port", "0"],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        # As in a terminal, where Ctrl-C reaches the foreground command: a test run in the
        # background (`pytest &`, some CI runners) would pass SIGINT on ignored, and the server
        # would never see it.
        preexec_fn=functools.partial(signal.signal, signal.SIGINT, signal.SIG_DFL),
    )
    terminal = _Terminal(process)
    try:
        match = wait_for(lambda: re.search(r"at (http://127\.0\.0\.1:\d+/)", terminal.text), "the server's URL")
        base = match[1]
        assert TITLE in fetch(base + ISSUE)
        assert "2024년 7월 25일" in fetch(base)
        with pytest.raises(urllib.error.HTTPError) as missing:
            fetch(base + "no-such-page/")
        assert missing.value.code == 404

        index_before = fetch(base + "pagefind/2024-07/pagefind-entry.json")
        digest = project / DIGEST
        original = digest.read_text(encoding="utf-8")
        digest.write_text(original.replace(TITLE, "Rule Based Rewards, edited while serving"), encoding="utf-8")
        edited_at = time.monotonic()
        wait_for(lambda: "edited while serving" in fetch(base + ISSUE), "the edited title to be served")
        print(f"edit served after {time.monotonic() - edited_at:.2f} s")
        # The page is served once the new tree is in place, a moment before the terminal says so.
        built = r"changed seeds/\S+\n(.*\n)*built 5 digests, 39 entries in \d+\.\d\d s"
        wait_for(lambda: re.search(built, terminal.text), "the terminal to name the changed file and the rebuild")
        # The page came without the indexer; the search index follows in a build of its own.
        indexed = r"; the search index follows\n(.*\n)*built 5 digests, .* removed$"
        wait_for(lambda: re.search(indexed, terminal.text, re.MULTILINE), "the search index to be rebuilt")
        assert fetch(base + "pagefind/2024-07/pagefind-entry.json") != index_before

        # A digest with an error: the terminal says where, the last good build stays online.
        broken = digest.read_text(encoding="utf-8") + "\nBroken entry\n본문 한 줄\n"
        digest.write_text(broken, encoding="utf-8")
        line = broken.splitlines().index("Broken entry") + 1
        wait_for(lambda: "still serving the last good build" in terminal.text, "the failed rebuild")
        assert f'{DIGEST}:{line}: entry "Broken entry" has no tag line' in terminal.text
        page = fetch(base + ISSUE)
        assert "edited while serving" in page
        assert "Broken entry" not in page

        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
        wait_for(lambda: "stopped" in terminal.lines, "the goodbye line", seconds=5)
        assert "Traceback" not in terminal.text
    finally:
        print(terminal.text)  # shown by pytest when the test fails
        if process.poll() is None:
            process.kill()
            process.wait()
