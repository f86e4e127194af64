"""Write N realistic digests in the seed format, deterministically: `make_corpus.py N OUT_DIR [--seed S]`.

Per digest 1-20 entries (mean about 2.7, as in a real archive: 3,326 notes in 1,220 digests); long
English abstract lines and several Korean commentary lines per entry; about 350 distinct tags used with
a Zipf-like skew; a few URLs; and the quirks of FORMAT.md (URL bylines, organisation authors without
abstract, split URLs, a lone ".", LaTeX-ish text, a stray token after the tags, CRLF line endings, a
BOM, no final newline). As real archives have them, tags drift: a third of the hyphenated tags are
written with `_` in the first 60% of the days and with `-` after (the writer switched separators), and
a few uses are in capitals (`#RLHF`). URLs in notes come as Markdown links (`[url](url)`,
`[논문](url)`), in brackets and with Korean particles glued on (`(https://arxiv.org/abs/1603.05027)를`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import itertools
import random
from pathlib import Path

WORDS = (
    "language",
    "model",
    "reward",
    "policy",
    "preference",
    "alignment",
    "scaling",
    "law",
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
    "tree",
    "verifier",
    "reasoning",
    "math",
    "proof",
    "benchmark",
    "evaluation",
    "multilingual",
    "instruction",
    "tuning",
    "synthetic",
    "feedback",
    "critique",
    "diffusion",
    "video",
    "image",
    "retrieval",
    "embedding",
    "pretraining",
    "finetuning",
    "distillation",
    "quantization",
    "kernel",
    "throughput",
    "memory",
    "latency",
    "training",
    "stability",
    "optimizer",
    "learning",
    "rate",
    "curriculum",
    "agent",
    "tool",
    "code",
    "execution",
    "safety",
)
KOREAN = (
    "흥미로운 결과네요.",
    "이 부분은 조금 더 살펴봐야 할 것 같습니다.",
    "결국 데이터의 구성이 핵심이라는 이야기를 하고 있네요.",
    "Reward Model을 어떻게 학습시키는지가 중요한 문제입니다.",
    "스케일링을 하면 이 차이가 사라지는지 궁금하네요.",
    "실용적으로 바로 적용해볼 수 있는 방법이라고 할 수 있겠네요.",
    "벤치마크 스코어만으로는 판단하기 어렵습니다.",
    "추론 비용을 줄이는 방향의 연구가 계속 나오고 있네요.",
    "수학 문제에 대해서는 Verifier가 효과적이라는 결과입니다.",
    "이전 연구와 비교하면 꽤 단순한 방법입니다.",
)
PREFIXES = (
    "rl",
    "rlhf",
    "rlaif",
    "dpo",
    "sft",
    "moe",
    "lm",
    "llm",
    "vlm",
    "asr",
    "tts",
    "rag",
    "ssm",
    "kv",
    "math",
    "code",
    "agent",
    "tool",
    "safety",
    "alignment",
    "reasoning",
    "search",
    "vision",
    "video",
    "audio",
    "speech",
    "retrieval",
    "embedding",
    "benchmark",
    "evaluation",
    "dataset",
    "corpus",
    "pretraining",
    "finetuning",
    "distillation",
    "quantization",
    "pruning",
    "efficiency",
    "inference",
    "decoding",
    "tokenizer",
    "optimizer",
    "scaling",
    "interpretability",
    "robotics",
    "diffusion",
)
SUFFIXES = ("", "-law", "-model", "-data", "-training", "-eval", "-theory", "-system", "-kernel")
URL_FORMS = ("({url})", "[{url}]({url})", "BYOL([{url}]({url}))이", "({url})를", "{url}에서", "[논문]({url}) 참고")
ORGS = ("Anthropic", "OpenAI", "Google DeepMind", "Meta AI", "Character.AI", "Team PyTorch", "Qwen Team")


def tag_names(count: int = 350) -> list[str]:
    names = [p + s for s, p in itertools.product(SUFFIXES, PREFIXES)]
    names += ["수학", "강화학습", "정렬", "추론", "데이터"]
    return names[:count]


def spelled(tag: str, progress: float, rng: random.Random) -> str:
    """A tag as the writer wrote it `progress` (0-1) of the way through the archive."""
    switched = int(hashlib.sha256(tag.encode()).hexdigest(), 16) % 3 == 0
    if "-" in tag and switched and progress < 0.6:
        tag = tag.replace("-", "_")
    return tag.upper() if rng.random() < 0.03 else tag


def sentence(rng: random.Random, words: int) -> str:
    text = " ".join(rng.choice(WORDS) for _ in range(words))
    return text[0].upper() + text[1:] + "."


def entry(rng: random.Random, tags: list[str], weights: list[float], last: bool, progress: float = 1.0) -> list[str]:
    title = " ".join(rng.choice(WORDS).capitalize() for _ in range(rng.randint(3, 10)))
    kind = rng.random()
    lines = [f"{title}: {sentence(rng, 6)[:-1]}"]
    if kind < 0.1:
        lines.append(f"https://github.com/example/{rng.choice(WORDS)}-{rng.randint(1, 999)}")
    elif kind < 0.2:
        lines.append(f"({rng.choice(ORGS)})")
    else:
        authors = ", ".join(
            f"{rng.choice(WORDS).title()} {rng.choice(WORDS).title()}" for _ in range(rng.randint(1, 12))
        )
        lines.append(f"({authors})")
        # A long abstract line (papers paste one 1,000-1,700 character paragraph), sometimes broken.
        abstract = " ".join(sentence(rng, rng.randint(8, 25)) for _ in range(rng.randint(6, 12)))
        if rng.random() < 0.05:
            lines += [abstract[:300], "https://GitHub", ". com/example/repo and our data at", "."]
        elif rng.random() < 0.05:
            lines += [abstract[:200] + " R$^3$ and ReST$^\\text{EM}$ with \\textit{8×8×} tiles.", abstract[200:]]
        else:
            lines.append(abstract)
    for _ in range(rng.randint(1, 5)):
        line = rng.choice(KOREAN) + " " + rng.choice(KOREAN)
        if rng.random() < 0.1:
            url = f"https://arxiv.org/abs/{rng.randint(2301, 2412)}.{rng.randint(10000, 99999)}"
            line += " " + rng.choice(URL_FORMS).format(url=url)
        lines.append(line)
    chosen = dict.fromkeys(rng.choices(tags, weights=weights, k=rng.randint(1, 4)))
    tag_line = " ".join(f"#{spelled(t, progress, rng)}" for t in chosen)
    if last and rng.random() < 0.02:
        tag_line += " a"  # the stray token of seed 004
    lines.append(tag_line)
    return lines


def digest(
    rng: random.Random,
    date: dt.date,
    tags: list[str],
    weights: list[float],
    entries: int | None = None,
    progress: float = 1.0,
) -> bytes:
    """One digest's bytes; `entries` fixes the number of entries (default: 1-20, mean about 2.7);
    `progress` is how far through the archive the day is (0-1), for the tags' spelling."""
    count = entries or min(20, 1 + int(rng.expovariate(1 / 2.05)))
    lines = [f"{date.year}년 {date.month}월 {date.day}일"]
    for index in range(count):
        lines += entry(rng, tags, weights, index == count - 1, progress)
    newline = "\r\n" if rng.random() < 0.05 else "\n"
    text = newline.join(lines)
    if rng.random() < 0.5:
        text += newline
    data = text.encode("utf-8")
    return b"\xef\xbb\xbf" + data if rng.random() < 0.02 else data


def make_corpus(count: int, out: Path, seed: int = 1) -> list[Path]:
    rng = random.Random(seed)
    tags = tag_names()
    weights = [1 / rank for rank in range(1, len(tags) + 1)]
    out.mkdir(parents=True, exist_ok=True)
    start = dt.date(2000, 1, 1)
    written = []
    for number in range(count):
        data = digest(rng, start + dt.timedelta(days=number), tags, weights, progress=number / max(1, count))
        path = out / f"{number:05d}_{hashlib.sha256(data).hexdigest()[:16]}.txt"
        path.write_bytes(data)
        written.append(path)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int)
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    paths = make_corpus(args.count, args.out, args.seed)
    print(f"wrote {len(paths)} digests to {args.out}")


if __name__ == "__main__":
    main()
