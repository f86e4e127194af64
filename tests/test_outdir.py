"""Builds that overlap or interleave: two configs (two caches) writing one output folder.

Project layout, as a person with two config files in two folders would have it:

    x/publisher.toml   seeds/ (the five seeds and 24 generated digests) → ../out, cache x/.publisher-cache
    y/publisher.toml   y/seeds/ (the five seeds only)                 → ../out, cache y/.publisher-cache

The lock belongs to out/ (a file beside it), so the two exclude each other; every record in a cache
names the tree it describes (out/.publisher-out), so neither trusts a record the other made stale.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.make_corpus import make_corpus
from publisher.build import outdir
from publisher.build.ping import read_last_build

from .conftest import ROOT, SEEDS, run_cli


@pytest.fixture
def two(tmp_path: Path) -> Path:
    shutil.copytree(SEEDS, tmp_path / "seeds")
    make_corpus(24, tmp_path / "seeds" / "generated", seed=5)
    shutil.copytree(SEEDS, tmp_path / "y" / "seeds")
    config = (ROOT / "publisher.toml").read_text(encoding="utf-8")
    (tmp_path / "x").mkdir()
    x = config.replace('seeds = "seeds"', 'seeds = "../seeds"').replace('out = "out"', 'out = "../out"')
    (tmp_path / "x" / "publisher.toml").write_text(x, encoding="utf-8")
    y = config.replace('out = "out"', 'out = "../out"').replace('title = "AI 논문 노트"', 'title = "Other notes"')
    (tmp_path / "y" / "publisher.toml").write_text(y, encoding="utf-8")
    return tmp_path


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def files(folder: Path) -> dict[str, tuple[int, int, bytes]]:
    """Every file with its size, modification time and bytes: what any write would change."""
    return {path: (len(data), (folder / path).stat().st_mtime_ns, data) for path, data in tree(folder).items()}


def command(project: Path, name: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "publisher", "build", "--config", str(project / name / "publisher.toml"), *args]


def cold(project: Path, name: str) -> dict[str, bytes]:
    """What a fresh build of this config gives (no cache, a new folder)."""
    fresh = project / f"cold-{name}"
    result = run_cli("build", "--config", project / name / "publisher.toml", "--out", fresh, "--no-cache")
    assert result.exit_code == 0, result.output
    made = tree(fresh)
    shutil.rmtree(fresh)
    return made


def wait_for(text: str, path: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while text not in path.read_text(encoding="utf-8", errors="replace"):
        assert time.monotonic() < deadline, f"no {text!r} in {path.name}: {path.read_text(encoding='utf-8')}"
        time.sleep(0.05)


def test_two_configs_building_one_out_at_once_take_turns(two: Path):
    """Started together, the two builds exclude each other through the lock beside out/: the
    second waits, says so, then builds; both succeed and out/ is whole. Before, each locked its
    own cache folder, and one deleted the other's staging tree."""
    holder = outdir.lock(two / "out")  # held while both start, so that they surely overlap
    processes, logs = [], []
    for name in ("x", "y"):
        log = two / f"{name}.log"
        with log.open("wb") as stderr:
            processes.append(subprocess.Popen(command(two, name), cwd=two, stdout=subprocess.PIPE, stderr=stderr))
        logs.append(log)
    for log in logs:
        wait_for("out: waiting for another publisher build", log)
    os.close(holder)
    for process, log in zip(processes, logs, strict=True):
        stdout, _ = process.communicate(timeout=120)
        stderr = log.read_text(encoding="utf-8")
        assert process.returncode == 0, stderr
        assert b"built " in stdout and "Traceback" not in stderr
    # out/ holds exactly one config's build, whole: whichever went second.
    assert tree(two / "out") in (cold(two, "x"), cold(two, "y"))
    checks = [subprocess.run(command(two, name, "--check"), cwd=two, capture_output=True) for name in ("x", "y")]
    assert sorted(check.returncode for check in checks) == [0, 1]
    assert sorted(p.name for p in two.iterdir() if p.name.startswith(".out")) == [".out.lock", ".out.spare"]


def test_a_build_that_cannot_wait_stops_with_a_clear_message(two: Path):
    holder = outdir.lock(two / "out")
    try:
        result = run_cli("build", "--config", two / "x" / "publisher.toml", "--wait", "0")
    finally:
        os.close(holder)
    assert result.exit_code == 1
    assert f"another publisher build (process {os.getpid()}) is still writing this folder" in result.stderr
    assert "Traceback" not in result.output and not (two / "out").exists()


def test_builds_of_two_configs_in_turn_trust_no_record_the_other_made_stale(two: Path):
    """x, y, x, an edit, x, y: each build's records (manifest, spare tree, kept groups) describe
    the tree it left; after the other config's build they no longer match out/ and are not used.
    Before, the fourth build followed x's record of a spare tree that y had replaced and died
    with FileNotFoundError in the staging folder."""
    digest = next((two / "seeds").glob("002_*.txt"))
    for step, name in enumerate(["x", "y", "x", "edit", "x", "y", "y", "x"]):
        if name == "edit":
            text = digest.read_text(encoding="utf-8")
            digest.write_text(text.replace("Qwen 1.5가 나왔습니다", f"큐웬 1.5 출시 {step}"), encoding="utf-8")
            continue
        result = run_cli("build", "--config", two / name / "publisher.toml")
        assert result.exit_code == 0, (step, name, result.output)
        assert tree(two / "out") == cold(two, name), (step, name)


def test_no_cache_writes_nothing_in_the_cache_folder(two: Path):
    """`--no-cache` reads and writes nothing in the cache folder: beside out/ only the lock file
    and the swap, as every build. The records a cached build left then no longer match out/."""
    config, cache = two / "x" / "publisher.toml", two / "x" / ".publisher-cache"
    result = run_cli("build", "--config", config, "--no-cache")
    assert result.exit_code == 0, result.output
    assert not cache.exists()
    assert sorted(p.name for p in two.iterdir() if p.name.startswith(".out")) == [".out.lock"]

    assert run_cli("build", "--config", config).exit_code == 0  # a cached build: now there is a cache
    before = files(cache)
    assert read_last_build(cache, two / "out") is not None
    digest = next((two / "seeds").glob("002_*.txt"))
    digest.write_text(digest.read_text(encoding="utf-8").replace("Qwen 1.5가 나왔습니다", "큐웬"), encoding="utf-8")
    result = run_cli("build", "--config", config, "--no-cache")
    assert result.exit_code == 0, result.output
    assert files(cache) == before  # not a byte, not a time, not a lock file
    assert read_last_build(cache, two / "out") is None  # its changes are not this out/'s: ping announces all
    result = run_cli("build", "--config", config)  # a cached build after it: records from before are not used
    assert result.exit_code == 0, result.output
    assert tree(two / "out") == cold(two, "x")
