"""Time per email issue (jinja2 render + premailer inline + .txt + .eml): seeds, 500 generated, 10 huge digests.

    python bench/bench_issues.py [--digests 500] [--seed 1]

The generated digests follow the seed format (FORMAT.md): 1-20 entries each, English abstracts,
Korean commentary, a few URLs, tags from a small pool. They are written to a temporary folder and
read by the real reader, so the issues are made exactly as `publisher build` makes them.
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

from publisher import issues, paths  # noqa: E402
from publisher.build import check  # noqa: E402
from publisher.config import load_config  # noqa: E402
from publisher.context import Context  # noqa: E402
from publisher.templating import load_theme  # noqa: E402

WORDS = [
    "language",
    "model",
    "reward",
    "policy",
    "preference",
    "alignment",
    "scaling",
    "data",
    "mixture",
    "token",
    "context",
    "attention",
    "transformer",
    "sparse",
    "expert",
    "routing",
    "inference",
    "decoding",
    "search",
    "verifier",
    "reasoning",
    "math",
    "benchmark",
    "multilingual",
    "instruction",
    "synthetic",
    "feedback",
    "diffusion",
    "video",
    "retrieval",
    "embedding",
    "pretraining",
    "distillation",
    "quantization",
    "kernel",
    "latency",
]
KOREAN = (
    "흥미로운 결과네요.",
    "이 부분은 조금 더 살펴봐야 할 것 같습니다.",
    "결국 데이터의 구성이 핵심이라는 이야기를 하고 있네요.",
    "Reward Model을 어떻게 학습시키는지가 중요한 문제입니다.",
    "스케일링을 하면 이 차이가 사라지는지 궁금하네요.",
    "벤치마크 스코어만으로는 판단하기 어렵습니다.",
    "이전 연구(https://arxiv.org/abs/2312.08935)와 비교하면 꽤 단순한 방법입니다.",
)
TAGS = ("llm", "rlhf", "alignment", "math", "reasoning", "scaling-law", "moe", "video", "dataset", "수학")


def digest_text(rng: random.Random, date: dt.date, huge: bool = False) -> str:
    """A digest of 1-20 entries; `huge`: 40 entries with the longest abstracts and notes (trimmed to fit)."""
    lines = [f"{date.year}년 {date.month}월 {date.day}일"]
    for _ in range(40 if huge else rng.randint(1, 20)):
        lines.append(" ".join(rng.choice(WORDS).capitalize() for _ in range(rng.randint(3, 10))))
        lines.append("(" + ", ".join(f"Author {rng.randint(1, 999)}" for _ in range(rng.randint(1, 8))) + ")")
        for _ in range(3 if huge else rng.randint(0, 3)):
            words = " ".join(rng.choice(WORDS) for _ in range(200 if huge else rng.randint(20, 200)))
            lines.append(words.capitalize() + ".")
        for _ in range(5 if huge else rng.randint(1, 5)):
            lines.append(" ".join(rng.choice(KOREAN) for _ in range(6 if huge else rng.randint(1, 6))))
        lines.append(" ".join(f"#{tag}" for tag in rng.sample(TAGS, rng.randint(1, 3))))
    return "\n".join(lines) + "\n"


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
    rng = random.Random(args.seed)
    for name, count, huge in (("generated", args.digests, False), ("huge (40)", 10, True)):
        with tempfile.TemporaryDirectory() as folder:
            for n in range(count):
                date = dt.date(2020, 1, 1) + dt.timedelta(days=n)
                (Path(folder) / f"{date.isoformat()}.txt").write_text(digest_text(rng, date, huge), encoding="utf-8")
            print(row(name, *time_issues(Path(folder))))


if __name__ == "__main__":
    main()
