from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from publisher.text import anchor_slug, has_hangul, links_in, slugify, split_links


@pytest.mark.parametrize(
    ("tag", "slug"),
    [
        ("rlhf", "rlhf"),
        ("RLHF", "rlhf"),
        ("scaling-law", "scaling-law"),
        ("수학", "수학"),
        ("../../etc", "etc"),
        ("a/b", "a-b"),
        ("CON", "con-tag"),
        ("nul.txt", "nul-tag.txt"),  # Windows reserves `nul.anything` too
        ("...", "tag-6eae3a5b"),
    ],
)
def test_slugs(tag: str, slug: str):
    assert slugify(tag) == slug


@given(st.text(min_size=1, max_size=300))
def test_any_tag_gives_one_safe_path_segment(tag: str):
    slug = slugify(tag)
    assert slug and slug not in (".", "..")
    assert "/" not in slug and "\\" not in slug and "\0" not in slug
    assert not slug.startswith((".", "-")) and len(slug.encode()) <= 255
    assert slug == slug.casefold() or not slug.isascii()


def test_long_tags_stay_distinct():
    assert slugify("x" * 100 + "a") != slugify("x" * 100 + "b")


def test_anchor_slug_cuts_at_a_word_boundary():
    title = "LEAN-GitHub: Compiling GitHub LEAN repositories for a Versatile Lean Prover"
    assert anchor_slug(title) == "lean-github-compiling-github-lean-repositories-for-a"
    assert anchor_slug("!!!") == "entry"


def test_hangul_ranges():
    assert has_hangul("한") and has_hangul("ㄱ") and has_hangul("\u1100")
    assert not has_hangul("Rule Based Rewards 漢字")


@pytest.mark.parametrize(
    ("line", "links"),
    [
        ("see (https://arxiv.org/abs/2312.08935) 로", ["https://arxiv.org/abs/2312.08935"]),
        (
            "https://x.com/AnthropicAI/status/1803774865473696237 예고",
            ["https://x.com/AnthropicAI/status/1803774865473696237"],
        ),
        ("https://en.wikipedia.org/wiki/Foo_(bar).", ["https://en.wikipedia.org/wiki/Foo_(bar)"]),
        ("https://GitHub", []),
        (". com/InternLM/InternLM-Math", []),
        ("javascript:alert(1) data:text/html,x", []),
        ("http://localhost/x ftp://x.org/y", []),
        ('"><img src=x onerror=alert(1)> https://a.io/"x', ["https://a.io/"]),
    ],
)
def test_only_well_formed_web_urls_become_links(line: str, links: list[str]):
    assert links_in([line]) == links


@given(st.text(max_size=200))
def test_split_links_loses_no_text(line: str):
    assert "".join(piece.text for piece in split_links(line)) == line
