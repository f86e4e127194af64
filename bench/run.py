"""Build benchmarks for issue 7: `python bench/run.py [--sizes 1000 10000] [--runs 3]`.

Generates corpora with make_corpus.py, then times the real command line (`python -m publisher
build`) in a fresh project folder per size: cold build (no cache, no out/), no-op rebuild, one
digest added, one template edited (the email issue, a tag page, the stylesheet), one digest
deleted. Prints wall-clock medians, the peak memory of the whole process tree (the build and its
workers: proportional set sizes, summed while they run), and where a cold build's time goes (one
process, stage by stage).
Figures, not tests: nothing here passes or fails.

Every run builds in a project folder of its own, and the folders are deleted only at the end. When
ext4 allocates an inode it skips inodes freed in the last minute or so (`recently_deleted`), one by
one, so creating the ~6,600 files of a cold build right after deleting a previous build's files
costs up to a second more, in the kernel. That case is real (`rm -rf out && publisher build`), so
it is measured too, last of all (so that it slows nothing else): "cold, right after deleting".
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import itertools
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.make_corpus import digest, make_corpus, tag_names  # noqa: E402


def tree_memory(pid: int) -> int:
    """Memory of a process and all its descendants, in bytes: the sum of their proportional set
    sizes (Linux /proc/*/smaps_rollup), so pages that forked workers share with the build are
    counted once, not once per process."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            with open(f"/proc/{current}/smaps_rollup") as rollup:
                total += next(int(line.split()[1]) * 1024 for line in rollup if line.startswith("Pss:"))
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as children:
                    todo += [int(child) for child in children.read().split()]
        except (OSError, ValueError, StopIteration):
            continue
    return total


@dataclasses.dataclass(frozen=True)
class Measure:
    """One command's run: wall seconds, CPU seconds (user + system, of the command and every process
    it waited for: a build's workers), and the peak memory of its process tree in bytes."""

    wall: float
    cpu: float
    peak: int


def measure(command: list[str], cwd: Path, what: str = "") -> Measure:
    """Run a command to its end and measure it. Memory is sampled every 50 ms: reading it costs CPU
    that the command would otherwise have."""
    subprocess.run(["sync"], check=False)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = [0]

    def sample() -> None:
        while process.poll() is None:
            peak[0] = max(peak[0], tree_memory(process.pid))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample)
    sampler.start()
    errors = process.stderr.read() if process.stderr else b""
    code = process.wait()
    wall = time.perf_counter() - started
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if code != 0:
        raise SystemExit(f"{what or command[0]} failed in {cwd} (exit {code}):\n{errors.decode(errors='replace')}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Measure(wall, cpu, peak[0])


def timed_build(project: Path, *args: str) -> tuple[float, int]:
    """Wall seconds and peak tree memory of one `publisher build` in the project folder."""
    run = measure([sys.executable, "-m", "publisher", "build", *args], project, "publisher build")
    return run.wall, run.peak


def project_for(corpus: Path, folder: Path) -> Path:
    shutil.copytree(corpus, folder / "seeds")
    shutil.copytree(ROOT / "templates", folder / "theme")
    config = (ROOT / "publisher.toml").read_text(encoding="utf-8")
    (folder / "publisher.toml").write_text(config.replace('# templates = "my-theme"', 'templates = "theme"'), "utf-8")
    return folder


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def scenarios(corpus: Path, runs: int, work: Path) -> dict[str, tuple[float, int]]:
    """Median wall time and the largest peak memory of each scenario, in new folders under `work`."""
    results: dict[str, list[tuple[float, int]]] = {}

    def record(name: str, measure: tuple[float, int]) -> None:
        results.setdefault(name, []).append(measure)

    projects = []
    for run in range(runs):
        project = project_for(corpus, work / f"{corpus.name}-run-{run}")
        projects.append(project)
        record("cold", timed_build(project))
        record("no-op", timed_build(project))
        extra = digest(random.Random(9), dt.date(2099, 1, 1), tag_names(), [1.0] * len(tag_names()))
        (project / "seeds" / "added.txt").write_bytes(extra)
        record("add one digest", timed_build(project))
        edit(project / "theme" / "email" / "issue.html", "이번 호의 노트", "이번 호 노트")
        record("email template edited", timed_build(project))
        edit(project / "theme" / "site" / "tag.html", "최근 것부터", "최근 순")
        record("tag page template edited", timed_build(project))
        with (project / "theme" / "static" / "style.css").open("a", encoding="utf-8") as css:
            css.write("\n/* edited */\n")
        record("stylesheet edited", timed_build(project))
        (project / "seeds" / "added.txt").unlink()
        record("one digest deleted", timed_build(project))
        record("--jobs 1, cold", timed_build(project, "--jobs", "1", "--no-cache", "--out", "cold-one-worker"))
    return {
        name: (statistics.median(s for s, _ in measures), max(m for _, m in measures))
        for name, measures in results.items()
    }


def cold_after_deleting(projects: list[Path]) -> float:
    """Median seconds of a cold build run at once after deleting the last build (out/, the spare
    tree, the cache) in each project: `rm -rf out .publisher-cache && publisher build`."""
    seconds = []
    for project in projects:
        for made in ("out", ".out.spare", ".publisher-cache"):  # the spare: see writer.py
            if (project / made).exists():
                shutil.rmtree(project / made)
        seconds.append(timed_build(project)[0])
    return statistics.median(seconds)


def scratch_folder() -> Path | None:
    """Where benchmark projects go: beside the repository when possible, on the disk a writer's project
    would be on. /tmp may be a small RAM disk, or (on this shared machine) a folder where thousands of
    files were just deleted, which makes creating files there ten times slower (see above)."""
    return ROOT.parent if os.access(ROOT.parent, os.W_OK) else None


def stage_shares(corpus: Path) -> dict[str, float]:
    """CPU seconds (user + system, of this one process) per stage of a cold build: parse, render
    (email without inlining, inlining, pages, feed HTML), aggregates (feeds, pages), write. CPU time,
    not wall time: on a shared machine the neighbours' load would otherwise decide the shares."""
    from publisher.build.pipeline import check
    from publisher.build.writer import write_outputs
    from publisher.config import load_config
    from publisher.render import archive, feeds, issues
    from publisher.render.context import Context
    from publisher.render.output import Output
    from publisher.render.templating import load_theme
    from publisher.render.units import content_key, digest_jobs, render_digest

    shares: dict[str, float] = {}

    def clock(name: str, started: float) -> float:
        now = time.process_time()
        shares[name] = shares.get(name, 0.0) + now - started
        return now

    config = load_config(ROOT / "publisher.toml").with_paths(seeds=corpus)
    t = time.process_time()
    catalog = check(config).catalog
    t = clock("parse", t)
    context = Context(config, load_theme())
    outputs: list[Output] = []
    fragments = {}
    context = dataclasses.replace(context, prepared=issues.prepare_email(context))  # premailer, once
    t = clock("inline (template, once)", t)
    for job in digest_jobs(catalog):
        parts = render_digest(job, context)
        outputs += parts.outputs
        fragments[job.digest.date] = fragments.get(job.digest.date) or parts.fragments
        t = clock({"email": "render email", "page": "render issue pages", "feed": "render feed HTML"}[job.unit], t)
    keys = {d.date: content_key(d) for d in catalog.digests}
    for stage, groups in (("feeds", feeds.feed_groups), ("index and tag pages", archive.site_groups)):
        for group in groups(catalog, context, keys):
            outputs += group.make(fragments)
        t = clock(stage, t)
    with tempfile.TemporaryDirectory(dir=scratch_folder()) as tmp:
        t = time.process_time()
        write_outputs(outputs, Path(tmp) / "out")
        clock("write", t)
    return shares


def print_stage_shares(corpus: Path, size: int) -> None:
    """`stage_shares` as a Markdown table, for the README."""
    shares = stage_shares(corpus)
    total = sum(shares.values())
    print(f"\nWhere a cold build's CPU time goes ({size:,} digests, one process, {total:.2f} s of CPU):\n")
    print("| stage | seconds | share |")
    print("|---|---:|---:|")
    for name, seconds in shares.items():
        print(f"| {name} | {seconds:.2f} | {seconds / total:.0%} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--runs", type=int, default=3, help="runs per scenario (the median is shown)")
    args = parser.parse_args()
    cold: dict[int, float] = {}
    # Projects go beside the repository when possible: /tmp may be a small RAM disk.
    with tempfile.TemporaryDirectory(dir=scratch_folder()) as tmp:
        for size in args.sizes:
            corpus = Path(tmp) / f"corpus-{size}"
            make_corpus(size, corpus)
            runs = args.runs if size <= 1000 else 1
            plural = "s" * (runs > 1)
            print(
                f"\n## {size:,} digests ({runs} run{plural} each: median wall time, peak memory of the process tree)\n"
            )
            print("| scenario | seconds | peak MB |")
            print("|---|---:|---:|")
            results = scenarios(corpus, runs, Path(tmp))
            for name, (seconds, peak) in results.items():
                print(f"| {name} | {seconds:.2f} | {peak / 2**20:.0f} |")
            cold[size] = results["cold"][0]
            if size == args.sizes[0]:
                first_projects = sorted(Path(tmp).glob(f"{corpus.name}-run-*"))
                print_stage_shares(corpus, size)
        after = cold_after_deleting(first_projects)
        print(f"\ncold, right after deleting the last build ({args.sizes[0]:,} digests): {after:.2f} s (median)")
    sizes = sorted(cold)
    for small, large in itertools.pairwise(sizes):
        ratio = cold[large] / cold[small]
        print(
            f"\ncold build, {large:,} vs {small:,} digests: {ratio:.1f}× the time for {large / small:.0f}× the digests"
        )


if __name__ == "__main__":
    main()
