"""The digest reader against FORMAT.md: every quirk of the real seeds and every rule."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from publisher.digests.parse import parse_date_line, parse_digest
from publisher.errors import SourceError
from publisher.text import split_links

from .conftest import SEEDS


def seed(prefix: str):
    path = next(SEEDS.glob(f"{prefix}_*.txt"))
    return parse_digest(path.read_bytes(), f"seeds/{path.name}")


def entry(prefix: str, title_start: str):
    return next(e for e in seed(prefix).digest.entries if e.title.startswith(title_start))


def test_seeds_give_the_expected_model():
    parsed = [parse_digest(p.read_bytes(), p.name) for p in sorted(SEEDS.glob("*.txt"))]
    assert [p.digest.date for p in parsed] == [
        dt.date(2024, 7, 25),
        dt.date(2024, 6, 10),
        dt.date(2024, 2, 6),
        dt.date(2024, 2, 13),
        dt.date(2024, 6, 21),
    ]
    assert sum(len(p.digest.entries) for p in parsed) == 39
    assert len({tag for p in parsed for tag in p.digest.tags}) == 36


def test_stray_token_after_tags_is_dropped_with_a_warning_naming_file_and_line():
    parsed = seed("004")
    last = parsed.digest.entries[-1]
    assert [t.name for t in last.tags] == ["instruction-tuning", "alignment", "synthetic-data"]
    assert [str(w) for w in parsed.warnings] == [
        f'{parsed.digest.source}:35: dropped "a" from the tag line: not a #tag'
    ]


def test_url_byline_becomes_the_link_and_authors_stay_empty():
    qwen = entry("002", "Qwen 1.5")
    assert qwen.link == "https://github.com/QwenLM/Qwen1.5"
    assert qwen.authors == ()
    assert qwen.commentary[0].startswith("Qwen 1.5가 나왔습니다")


@pytest.mark.parametrize(("prefix", "title"), [("004", "Claude 3.5 Sonnet"), ("001", "Claude's Character")])
def test_organisation_author_without_abstract_is_commentary_only(prefix: str, title: str):
    note = entry(prefix, title)
    assert note.authors == ("Anthropic",)
    assert note.abstract == ()
    assert note.commentary


def test_short_list_like_lines_stay_one_line_each():
    note = entry("004", "Optimizing AI Inference at Character.AI")
    assert note.commentary[:4] == (
        "Character.AI의 추론 최적화를 위한 아키텍처 변형.",
        "GQA 대신 MQA",
        "Local Attention 5 + Global Attention 1 레이어 조합",
        "레이어 간 KV 캐시 공유.",
    )
    assert len(note.commentary) == 7


def test_broken_abstract_lines_are_kept_as_written_and_only_real_urls_link():
    lean = entry("000", "LEAN-GitHub")
    assert "https://GitHub" in lean.abstract
    assert ". com/InternLM/InternLM-Math and our data at" in lean.abstract
    assert all(piece.href is None for piece in split_links("https://GitHub"))
    lavit = entry("002", "Video-LaVIT")
    assert "." in lavit.abstract
    assert lavit.abstract[-1] == "https://video-lavit.github.io/"


def test_fragments_after_the_abstract_stay_in_the_same_entry():
    pink = entry("003", "Suppressing Pink Elephants")
    assert pink.abstract[1] == "Pink Elephant''), and instead discuss a preferred entity ("
    assert pink.abstract[2].startswith("Grey Elephant'')")
    assert [t.name for t in pink.tags] == ["alignment", "rlaif"]


def test_latex_ish_text_is_kept_verbatim():
    assert "R$^3$" in entry("003", "Training Large Language Models for Reasoning").abstract[0]
    assert "\\textbf{Direct Principle Feedback}" in entry("003", "Suppressing Pink").abstract[2]
    assert "ReST-MCTS*" in entry("001", "ReST-MCTS*").title


def test_long_lines_are_neither_wrapped_nor_cut():
    lines = (SEEDS / next(SEEDS.glob("001_*.txt")).name).read_text().split("\n")
    longest = max(lines, key=len)
    assert len(longest) >= 1400
    body = [line for e in seed("001").digest.entries for line in e.abstract + e.commentary]
    assert longest in body


def test_url_in_parentheses_links_without_the_closing_parenthesis():
    line = next(line for e in seed("002").digest.entries for line in e.commentary if "2312.08935" in line)
    links = [p.href for p in split_links(line) if p.href]
    assert links == ["https://arxiv.org/abs/2312.08935"]


def test_abstract_is_the_lines_before_the_first_hangul_line():
    rbr = entry("003", "Aya Dataset")
    assert len(rbr.abstract) == 1 and rbr.abstract[0].startswith("Datasets are foundational")
    assert rbr.commentary and all(rbr.commentary)


def test_bom_crlf_and_missing_final_newline_are_fine():
    text = "\ufeff2024-07-25\r\n\r\nTitle\r\n(A, B)\r\nAbstract line.\r\n한국어 노트\r\n#x #Y"
    digest = parse_digest(text.encode(), "x.txt").digest
    (note,) = digest.entries
    assert digest.date == dt.date(2024, 7, 25)
    assert (note.title, note.authors, note.abstract, note.commentary) == (
        "Title",
        ("A", "B"),
        ("Abstract line.",),
        ("한국어 노트",),
    )
    assert [t.slug for t in note.tags] == ["x", "y"]


def test_no_hangul_means_the_whole_body_is_commentary():
    note = parse_digest(b"2024-07-25\nT\nline one\nline two\n#x\n", "x.txt").digest.entries[0]
    assert (note.abstract, note.commentary) == ((), ("line one", "line two"))


def test_tags_compare_case_insensitively_and_anchors_are_unique():
    digest = parse_digest(b"2024-07-25\nSame\n#RLHF\nSame\n#rlhf #Rlhf\n", "x.txt").digest
    first, second = digest.entries
    assert first.tags == second.tags[:1] and len(second.tags) == 1
    assert (first.anchor, second.anchor) == ("same", "same-2")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("2024년 7월 25일", dt.date(2024, 7, 25)),
        ("2024년7월25일", dt.date(2024, 7, 25)),
        ("2024-07-25", dt.date(2024, 7, 25)),
        ("2024-07-01", dt.date(2024, 7, 1)),
        ("2024/07/01", dt.date(2024, 7, 1)),
        ("2024.07.01", dt.date(2024, 7, 1)),
        ("13/02/2024", dt.date(2024, 2, 13)),
        ("July 25, 2024", dt.date(2024, 7, 25)),
        ("25 July 2024", dt.date(2024, 7, 25)),
        ("Rule Based Rewards", ""),
        ("2024년 13월 40일", 'impossible date "2024년 13월 40일": month must be in 1..12'),
        ("2024-02-30", 'impossible date "2024-02-30": day is out of range for month'),
        ("01/02/2024", 'ambiguous or incomplete date "01/02/2024": write it as YYYY-MM-DD'),
        ("July 2024", 'ambiguous or incomplete date "July 2024": write it as YYYY-MM-DD'),
    ],
)
def test_date_lines(line: str, expected: object):
    assert parse_date_line(line) == expected


def test_control_characters_are_removed_with_a_warning():
    parsed = parse_digest(b"2024-07-25\nTi\x00tle\x1b\n#x\n", "x.txt")
    assert parsed.digest.entries[0].title == "Title"
    assert [str(w) for w in parsed.warnings] == ["x.txt:2: removed 2 control character(s)"]


def test_a_tag_line_where_a_title_belongs_is_an_error():
    with pytest.raises(SourceError) as raised:
        parse_digest(b"2024-07-25\n#x\n", "x.txt")
    assert str(raised.value) == "x.txt:2: expected an entry title, found a tag line"


def test_every_seed_line_lands_somewhere():
    """No non-blank line is lost: each is a date, title, byline, body or tag line."""
    for path in sorted(Path(SEEDS).glob("*.txt")):
        digest = parse_digest(path.read_bytes(), path.name).digest
        lines = [line for line in path.read_text(encoding="utf-8").split("\n") if line.strip()]
        kept = 1 + sum(1 + bool(e.authors or e.link) + len(e.abstract) + len(e.commentary) + 1 for e in digest.entries)
        assert kept == len(lines), path.name
