"""Links in real text (publisher/text.py split_links): Markdown links, glued Korean particles,
brackets; and the same rule in the plain-text email (templating.plain_links)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from publisher.render.templating import linkify, plain_links
from publisher.text import is_web_url, split_links


def _links(line: str) -> list[tuple[str, str]]:
    return [(piece.text, piece.href) for piece in split_links(line) if piece.href]


@pytest.mark.parametrize(
    ("line", "links"),
    [
        (
            "[https://arxiv.org/abs/2105.05837](https://arxiv.org/abs/2105.05837)",
            [("https://arxiv.org/abs/2105.05837", "https://arxiv.org/abs/2105.05837")],
        ),
        (
            "BYOL([https://arxiv.org/abs/2006.07733](https://arxiv.org/abs/2006.07733))이",
            [("https://arxiv.org/abs/2006.07733", "https://arxiv.org/abs/2006.07733")],
        ),
        ("코드는 [여기](https://github.com/a/b)에", [("여기", "https://github.com/a/b")]),
        ("(https://arxiv.org/abs/1603.05027)를", [("https://arxiv.org/abs/1603.05027",) * 2]),
        ("ResNet(https://arxiv.org/abs/1805.07925)이나", [("https://arxiv.org/abs/1805.07925",) * 2]),
        ("(https://arxiv.org/abs/1807.09441)에서 봤듯이", [("https://arxiv.org/abs/1807.09441",) * 2]),
        ("https://arxiv.org/abs/1807.09441에서", [("https://arxiv.org/abs/1807.09441",) * 2]),
        ("(https://a.b/c_(d))", [("https://a.b/c_(d)",) * 2]),
        ("see https://a.io/x. Then", [("https://a.io/x",) * 2]),
        ('quoted "https://a.io/x" here', [("https://a.io/x",) * 2]),
        ("<https://a.io/x>", [("https://a.io/x",) * 2]),
        ("[broken](https://GitHub) https://GitHub", []),
        ("[x](javascript:alert(1))", []),
    ],
)
def test_real_text_links(line: str, links: list[tuple[str, str]]):
    assert _links(line) == links


def test_a_markdown_link_is_one_anchor_in_html():
    html = str(linkify("BYOL([https://arxiv.org/abs/2006.07733](https://arxiv.org/abs/2006.07733))이"))
    assert html == 'BYOL(<a href="https://arxiv.org/abs/2006.07733">https://arxiv.org/abs/2006.07733</a>)이'


def test_plain_text_delimits_glued_and_markdown_links():
    assert plain_links("(https://arxiv.org/abs/1603.05027)를") == "(<https://arxiv.org/abs/1603.05027>)를"
    assert plain_links("see https://a.io/x now") == "see https://a.io/x now"
    assert plain_links("[code](https://github.com/a/b) 참고") == "code <https://github.com/a/b> 참고"


# Text as notes have it: words, Hangul particles, brackets, punctuation, Markdown pieces and URLs.
_URL = st.builds(
    lambda host, path: f"https://{host}.org/{path}",
    st.from_regex(r"[a-z][a-z0-9]{0,8}", fullmatch=True),
    st.from_regex(r"[A-Za-z0-9_./()\-%?=&#~]{0,20}", fullmatch=True),
)
_BIT = st.one_of(
    _URL,
    st.sampled_from(["(", ")", "[", "]", "](", "))", ".", ",", "를", "이나", "에서", " ", '"', "'", "<", ">", "#"]),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=6),
)
_MARKDOWN = re.compile(r"\[([^\[\]\n]+)\]\((https?://[^\s()<>]*(?:\([^\s()<>]*\)[^\s()<>]*)*)\)", re.IGNORECASE)


@settings(max_examples=400)
@given(st.lists(_BIT, max_size=12).map("".join))
def test_every_href_is_a_web_url_and_text_is_kept(line: str):
    pieces = split_links(line)
    for piece in pieces:
        if piece.href:
            parts = urlsplit(piece.href)
            assert parts.scheme in ("http", "https") and parts.hostname, piece
            if piece.text == piece.href:  # a bare URL: nothing glued on, no unopened bracket at the end
                assert not re.search("[\\s<>\"'\uac00-\ud7a3]", piece.href), piece
                assert not (piece.href.endswith(")") and piece.href.count(")") > piece.href.count("(")), piece
    visible = "".join(piece.text for piece in pieces)
    # A Markdown link shows its text: the line with each linked `[text](url)` cut to `text`;
    # everything else is the source text, character for character.
    assert visible == _MARKDOWN.sub(lambda m: m[1] if is_web_url(m[2]) else m[0], line)
