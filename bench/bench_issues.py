"""Time per email issue (jinja2 render + premailer inline + .txt + .eml): seeds, 500 generated, 10 huge digests.

    python bench/bench_issues.py [--digests 500] [--seed 1]

The generated digests come from make_corpus.py (the seed format, with its quirks). They are written
to a temporary folder and read by the real reader, so the issues are made exactly as `publisher
build` makes them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import make_corpus  # noqa: E402
from publisher import issues, paths  # noqa: E402
from publisher.build.pipeline import check  # noqa: E402
from publisher.config import load_config  # noqa: E402
from publisher.render.context import Context  # noqa: E402
from publisher.render.templating import load_theme  # noqa: E402


def time_issues(seeds: Path) -> tuple[list[float], list[int], int]:
    config = load_config(ROOT / "publisher.toml").with_paths(seeds=seeds)
    catalog = check(config).catalog
    context = Context(config, load_theme(config.paths.templates))
    issues.render_issue(catalog.digests[-1], context)  # warm up: templates, premailer, cssutils
    millis, sizes, trimmed = [], [], 0
    for digest in catalog.digests:
        started = time.perf_counter()
        outputs = issues.render_issue(digest, context)
        millis.append((time.perf_counter() - started) * 1000)
        html = next(o.data for o in outputs if o.relpath == paths.email(digest.date, "html"))
        sizes.append(len(html))
        manifest = next(o.data for o in outputs if o.relpath == paths.send_manifest(digest.date))
        trimmed += b'"trim": 0,' not in manifest
    return millis, sizes, trimmed


def row(name: str, millis: list[float], sizes: list[int], trimmed: int) -> str:
    p95 = statistics.quantiles(millis, n=20, method="inclusive")[-1] if len(millis) > 1 else millis[0]
    return (
        f"{name:<12}{len(millis):>7}{statistics.mean(millis):>9.1f}{statistics.median(millis):>9.1f}"
        f"{p95:>9.1f}{max(millis):>9.1f}{statistics.mean(sizes) / 1000:>10.1f}{max(sizes) / 1000:>10.1f}{trimmed:>9}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--digests", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    head = f"{'set':<12}{'issues':>7}{'mean ms':>9}{'median':>9}{'p95':>9}{'max':>9}"
    print(head + f"{'mean KB':>10}{'max KB':>10}{'trimmed':>9}")
    print(row("seeds", *time_issues(ROOT / "seeds")))
    with tempfile.TemporaryDirectory() as folder:
        make_corpus.make_corpus(args.digests, Path(folder), args.seed)
        print(row("generated", *time_issues(Path(folder))))
    rng, tags = random.Random(args.seed), make_corpus.tag_names()
    with tempfile.TemporaryDirectory() as folder:
        for n in range(10):  # 40 long entries each: shortened to fit under [email] max_bytes
            date = dt.date(2020, 1, 1) + dt.timedelta(days=n)
            (Path(folder) / f"{date.isoformat()}.txt").write_bytes(
                make_corpus.digest(rng, date, tags, [1.0] * len(tags), 40)
            )
        print(row("huge (40)", *time_issues(Path(folder))))


if __name__ == "__main__":
    main()
