from __future__ import annotations

import datetime as dt
import unicodedata

import pytest

from publisher.digests.catalog import make_catalog
from publisher.digests.parse import parse_digest
from publisher.errors import SourceError
from publisher.render.units import digest_jobs


def digest(text: str, path: str = "x.txt"):
    return parse_digest(text.encode(), path).digest


def test_newest_first_with_neighbours_and_tag_index():
    a = digest("2024-01-01\nA\n#Math #rlhf\n", "a.txt")
    b = digest("2024-01-03\nB\n#math\nC\n#math\n", "b.txt")
    c = digest("2024-01-02\nD\n#other\n", "c.txt")
    catalog = make_catalog([a, b, c])
    assert [d.date.day for d in catalog.digests] == [3, 2, 1]
    neighbours = [(job.older, job.newer) for job in digest_jobs(catalog) if job.unit == "page"]
    assert [tuple(d.day if d else None for d in pair) for pair in neighbours] == [(2, None), (1, 3), (None, 2)]
    summaries = {s.topic.slug: s for s in catalog.topics}
    assert list(summaries) == ["math", "other", "rlhf"]
    assert summaries["math"].count == 3
    assert summaries["math"].dates == (dt.date(2024, 1, 3), dt.date(2024, 1, 1))
    # Named by the spelling used in the most notes, everywhere; the others are listed.
    assert summaries["math"].topic.name == "math" and summaries["math"].topic.other_spellings == ("Math",)
    assert {t.name for d in catalog.digests for e in d.entries for t in e.tags if t.slug == "math"} == {"math"}


def test_order_does_not_depend_on_input_order():
    items = [digest(f"2024-01-0{n}\nT{n}\n#x\n", f"{n}.txt") for n in range(1, 6)]
    assert make_catalog(items) == make_catalog(list(reversed(items)))


def test_duplicate_dates_are_an_error_naming_both_files():
    items = [
        digest("2024-01-01\nA\n#a/b\n", "a.txt"),
        digest("\n2024년 1월 1일\nB\n#a-b\n", "b.txt"),
    ]
    with pytest.raises(SourceError) as raised:
        make_catalog(items)
    assert str(raised.value).splitlines() == [
        "b.txt:2: date 2024-01-01 is also the date of a.txt:1 (one digest per day)",
    ]


def test_composed_and_decomposed_spellings_are_one_tag():
    """A tag pasted from macOS comes decomposed (NFD): the same text, so the same tag as first
    written, not a clash of slugs."""
    composed = "수학"
    decomposed = unicodedata.normalize("NFD", composed)
    assert decomposed != composed
    items = [
        digest(f"2024-01-01\nA\n#{composed} #rl\n", "a.txt"),
        digest(f"2024-01-02\nB\n#{decomposed} #RL\n", "b.txt"),
    ]
    catalog = make_catalog(items)
    # A tie in notes goes to the spelling used most recently: #RL.
    assert sorted((s.topic.name, s.count) for s in catalog.topics) == [("RL", 2), (composed, 2)]
    assert [s.topic.spellings for s in catalog.topics if s.topic.slug == composed] == [(composed,)]


def test_a_topics_notes_come_from_one_pass_and_equal_a_scan(tmp_path):
    """Catalog.notes_with (one pass over every note, for all topics) lists what a scan per topic
    finds: every note carrying the topic, with its digest, newest first; an unknown topic has none."""
    from bench.make_corpus import make_corpus
    from publisher.digests.parse import parse_sources
    from publisher.digests.sources import read_sources

    make_corpus(60, tmp_path)
    digests, _ = parse_sources(read_sources(tmp_path))
    catalog = make_catalog(digests)
    assert len(catalog.topics) > 20
    for summary in catalog.topics:
        scan = [(d, e) for d in catalog.digests for e in d.entries if any(t.slug == summary.topic.slug for t in e.tags)]
        assert list(catalog.notes_with(summary.topic)) == scan and len(scan) == summary.count
    assert catalog.notes_with(make_catalog([digest("2024-01-01\nT\n#solo\n")]).topics[0].topic) == ()
