"""Topics (publisher/digests/topics.py, catalog.py): one topic per meaning, however it is spelled, with
the config's aliases; a published feed URL never dies; subscribers follow topics."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
import pytest

from publisher.render import paths
from publisher.render.assemble import BuiltIssue
from publisher.text import topic_key

from .conftest import ROOT, run_cli

CONFIG = """[site]
base_url = "https://digest.example.org/"

[topics.aliases]
"reinforcement-learning" = ["rl", "reinforcement_learning"]
"world-models" = ["world_model"]
"""

DIGESTS = {
    # 2020: the writer's old spellings; 2024: the new ones (and #rl, aliased).
    "a.txt": "2020-03-01\nOld one\n노트\n#contrastive_learning #rl\nOld two\n노트\n#Contrastive_Learning #gpt.4\n",
    "b.txt": "2020-03-02\nOld three\n노트\n#contrastive_learning\n",
    "c.txt": "2024-05-01\nNew one\n노트\n#contrastive-learning #reinforcement-learning\nNew two\n노트\n#RL #gpt-4\n",
}


@pytest.fixture
def archive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "seeds").mkdir()
    for name, text in DIGESTS.items():
        (tmp_path / "seeds" / name).write_text(text, "utf-8")
    (tmp_path / "publisher.toml").write_text(CONFIG, "utf-8")
    monkeypatch.chdir(tmp_path)
    result = run_cli("build")
    assert result.exit_code == 0, result.output
    return tmp_path


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("contrastive_learning", "Contrastive-Learning"),
        ("gpt.4", "GPT-4"),
        ("ｃｏｎ", "CON"),  # NFKC: full-width is the same text
        ("a__b", "a-b"),
    ],
)
def test_spellings_of_one_topic_share_a_key(a: str, b: str):
    assert topic_key(a) == topic_key(b)


def test_different_words_are_different_topics():
    assert len({topic_key(t) for t in ("a/b", "a-b", "ab", "수학")}) == 4


def test_one_page_per_topic_with_every_spelling_and_its_notes(archive: Path):
    out = archive / "out"
    folders = sorted(p.name for p in (out / "tags").iterdir() if (p / "index.html").is_file())
    assert folders == ["contrastive-learning", "gpt.4", "reinforcement-learning"]
    page = (out / "tags/contrastive-learning/index.html").read_text("utf-8")
    # Named by the spelling in most notes (#contrastive_learning: 2); the others are listed.
    assert re.search(r'<h1 class="page-title">#contrastive_learning</h1>', page)
    assert re.search(r'class="also-written">다른 표기: .*#contrastive-learning.*#Contrastive_Learning', page)
    assert all(title in page for title in ("Old one", "Old two", "Old three", "New one"))
    feed = feedparser.parse((out / "tags/contrastive-learning/feed.xml").read_bytes())
    # every spelling's notes: an item's title names its first note and how many more
    counts = [1 + int(more[1]) if (more := re.search(r" 외 (\d+)편$", e.title)) else 1 for e in feed.entries]
    assert counts == [1, 1, 2]
    # The tie between #gpt.4 and #gpt-4 (one note each) goes to the newest; the slug stays the first used one's.
    assert "#gpt-4</h1>" in (out / "tags/gpt.4/index.html").read_text("utf-8")


def test_an_aliased_spelling_keeps_its_published_feeds(archive: Path):
    out = archive / "out"
    topic = feedparser.parse((out / "tags/reinforcement-learning/feed.xml").read_bytes())
    assert len(topic.entries) == 2  # #rl of 2020, #reinforcement-learning and #RL of 2024
    for name in ("feed.xml", "atom.xml", "feed.json"):
        assert (out / "tags/rl" / name).is_file(), name
    kept = feedparser.parse((out / "tags/rl/atom.xml").read_bytes())
    assert [e.title for e in kept.entries] == [e.title for e in topic.entries]
    assert [link.href for link in kept.feed.links if link.rel == "self"] == [
        "https://digest.example.org/tags/rl/atom.xml"
    ]
    assert json.loads((out / "tags/rl/feed.json").read_text("utf-8"))["feed_url"].endswith("/tags/rl/feed.json")
    assert not (out / "tags/rl/index.html").exists()
    # The OPML and the tags page offer the topic only.
    opml = (out / paths.OPML).read_text("utf-8")
    assert "tags/reinforcement-learning/feed.xml" in opml and "tags/rl/" not in opml
    assert "tags/rl/" not in (out / paths.TAGS_INDEX).read_text("utf-8")
    # The digests' pages, emails and feeds link the topic, never a spelling's folder.
    issue = (out / "issues/2024-05-01/index.html").read_text("utf-8")
    assert "tags/reinforcement-learning/" in issue and "tags/rl/" not in issue


def test_an_alias_no_digest_uses_is_a_warning_naming_the_config_line(archive: Path):
    result = run_cli("check")
    assert result.exit_code == 0
    assert 'publisher.toml:6: topics.aliases: "world_model" (an alias of "world-models") is a tag no digest uses' in (
        result.output
    )
    assert run_cli("check", "--strict").exit_code == 1


def test_check_json_keeps_tags_as_written_and_adds_topics(archive: Path):
    document = json.loads(run_cli("check", "--json").stdout.split("\npublisher.toml")[0])
    entries = {e["title"]: e for d in document["digests"] for e in d["entries"]}
    assert entries["New two"]["tags"] == ["RL", "gpt-4"]
    assert entries["New two"]["topics"] == ["reinforcement-learning", "gpt.4"]
    assert entries["Old one"]["topics"] == ["contrastive-learning", "reinforcement-learning"]


def test_subscribers_follow_topics_not_spellings(archive: Path):
    out = archive / "out"
    issue = BuiltIssue.from_files(
        (out / paths.email(__import__("datetime").date(2024, 5, 1), "html")).read_bytes(),
        (out / "send/2024-05-01.json").read_bytes(),
    )
    titles = lambda tags: [issue.entries[i].title for i in issue.select(tags)]  # noqa: E731
    assert titles(["#contrastive_learning"]) == ["New one"]
    assert titles(["CONTRASTIVE.LEARNING"]) == ["New one"]
    assert titles(["rl"]) == titles(["reinforcement_learning"]) == ["New one", "New two"]
    assert titles(["gpt.4"]) == titles(["GPT-4"]) == ["New two"]
    assert titles(["unrelated"]) == []


def test_publisher_tags_lists_topics_and_suggests_duplicates(archive: Path):
    (archive / "seeds/d.txt").write_text("2024-05-02\nA\n노트\n#agent\nB\n노트\n#agents\n", "utf-8")
    document = json.loads(run_cli("tags", "--json", "--suggest").stdout.split("\npublisher.toml")[0])
    by_slug = {t["slug"]: t for t in document["topics"]}
    rl = by_slug["reinforcement-learning"]
    assert (rl["notes"], rl["first"], rl["last"]) == (3, "2020-03-01", "2024-05-01")
    assert set(rl["spellings"]) == {"rl", "reinforcement-learning", "RL"}
    assert rl["feed"] == "tags/reinforcement-learning/feed.xml" and rl["kept_feeds"] == ["tags/rl/"]
    assert {"keep": "agent", "merge": "agents", "reason": "singular and plural", "alias": '"agent" = ["agents"]'} in (
        document["suggestions"]
    )
    text = run_cli("tags").stdout
    assert "#contrastive_learning\t4 notes\t2020-03-01..2024-05-01\ttags/contrastive-learning/feed.xml" in text


def test_a_generated_archive_with_drifting_tags_and_pasted_links_builds_cleanly(tmp_path: Path, monkeypatch):
    """make_corpus writes separator and case variants, Markdown links and glued particles: the
    build has no warning but the stray tokens, every topic is one page, every href is a URL."""
    from bench.make_corpus import make_corpus

    make_corpus(60, tmp_path / "seeds", seed=5)
    shutil.copy(ROOT / "publisher.toml", tmp_path / "publisher.toml")
    monkeypatch.chdir(tmp_path)
    result = run_cli("build")
    assert result.exit_code == 0, result.output
    assert all("not a #tag" in line for line in result.output.splitlines()[:-1])
    out = tmp_path / "out"
    catalog_topics = json.loads(run_cli("tags", "--json").stdout.split("\nseeds/")[0])["topics"]
    variants = [t for t in catalog_topics if len(t["spellings"]) > 1]
    assert any("_" in s for t in variants for s in t["spellings"]) and any(
        s.isupper() for t in variants for s in t["spellings"]
    )
    assert sorted(p.name for p in (out / "tags").iterdir() if p.is_dir()) == sorted(t["slug"] for t in catalog_topics)
    hrefs = 0
    for path in out.rglob("*"):
        if path.suffix not in (".html", ".xml", ".json", ".txt") or path.name == "robots.txt":
            continue
        text = path.read_text("utf-8")
        found = re.findall(r'href=\\?"([^"\\]*)\\?"', text) + re.findall(r"href=&quot;(.*?)&quot;", text)
        found += re.findall(r"<(https?://[^>]*)>", text) if path.suffix == ".txt" else []
        for href in found:
            href = href.replace("&amp;", "&")
            if "://" in href:
                hrefs += 1
                assert urlsplit(href).scheme in ("http", "https") and urlsplit(href).hostname, (path, href)
                assert not re.search(r"[\s<>\"'\]\uac00-\ud7a3]", href), (path, href)
                assert href.count(")") <= href.count("("), (path, href)
    assert hrefs > 1000
    assert "[논문]" not in (out / "index.html").read_text("utf-8")
