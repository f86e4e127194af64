"""The build pipeline: a warm build (cache, kept files, workers) equals a cold one, byte for byte."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bench.make_corpus import make_corpus
from publisher.build.cache import pack, unpack
from publisher.build.pipeline import build
from publisher.config import load_config
from publisher.render.units import DigestParts

from .conftest import ROOT, SEEDS


def content(relpaths: tuple[str, ...]) -> tuple[str, ...]:
    """Without the marker, which changes with any content (it names the tree: outdir.py)."""
    return tuple(path for path in relpaths if path != ".publisher-out")


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A project with the seeds plus generated digests, small pages and feeds (so pagination and
    feed archives exist), and its own copy of the theme to edit."""
    shutil.copytree(SEEDS, tmp_path / "seeds")
    make_corpus(24, tmp_path / "seeds" / "generated", seed=3)
    shutil.copytree(ROOT / "templates", tmp_path / "theme")
    config = (ROOT / "publisher.toml").read_text(encoding="utf-8")
    config = config.replace("size = 50 ", "size = 4 ").replace("page_size = 30", "page_size = 7")
    config = config.replace('# templates = "my-theme"', 'templates = "theme"')
    (tmp_path / "publisher.toml").write_text(config, encoding="utf-8")
    return tmp_path


def run(site: Path, out: str, **options: object):
    config = load_config(site / "publisher.toml").with_paths(out=site / out)
    return build(config, **options)


def assert_warm_equals_cold(site: Path):
    """Build warm into out/ (cache and kept files), cold into cold/ (no cache, one process)."""
    warm = run(site, "out", jobs=2)
    run(site, "cold", jobs=1, use_cache=False)
    assert tree(site / "out") == tree(site / "cold")
    shutil.rmtree(site / "cold")
    return warm


def test_warm_builds_equal_cold_builds_after_every_kind_of_edit(site: Path):
    first = assert_warm_equals_cold(site)
    assert first.rendered > 0
    again = assert_warm_equals_cold(site)
    assert (again.rendered, again.write.written, again.write.removed) == (0, (), ())

    # A digest edited: its note changes everywhere it appears (feeds, pages, email).
    edited = site / "seeds" / next((SEEDS).glob("002_*.txt")).name
    edited.write_text(edited.read_text(encoding="utf-8").replace("Qwen 1.5가 나왔습니다", "큐웬 1.5 출시"), "utf-8")
    report = assert_warm_equals_cold(site)
    assert 0 < report.rendered <= 3 and "email/2024-02-06.html" in report.write.changed

    # A digest added and one deleted.
    (site / "seeds" / "new.txt").write_text("2024-08-02\nA new note\n(Someone)\n새 노트 #\n#math #새태그\n", "utf-8")
    report = assert_warm_equals_cold(site)
    assert "tags/새태그/feed.xml" in report.write.added
    next((site / "seeds").glob("003_*.txt")).unlink()
    report = assert_warm_equals_cold(site)
    assert "email/2024-02-13.eml" in report.write.removed

    # Templates: an edit remakes what uses that template only.
    tag_page = site / "theme" / "site" / "tag.html"
    tag_page.write_text(tag_page.read_text(encoding="utf-8").replace("최근 것부터", "최근 순"), "utf-8")
    report = assert_warm_equals_cold(site)
    assert report.rendered == 0 and content(report.write.changed)
    assert all(path.startswith("tags/") for path in content(report.write.changed))
    email = site / "theme" / "email" / "issue.html"
    email.write_text(email.read_text(encoding="utf-8").replace("이번 호의 노트", "이번 호 노트"), "utf-8")
    report = assert_warm_equals_cold(site)
    changed = content(report.write.changed)
    assert changed and all(path.startswith(("email/", "send/")) for path in changed)

    # The config: every output depends on it.
    config = site / "publisher.toml"
    config.write_text(config.read_text(encoding="utf-8").replace("page_size = 7", "page_size = 5"), "utf-8")
    report = assert_warm_equals_cold(site)
    assert report.write.added == ("page/4/index.html",)  # 29 issues: blocks of 5 counted from the oldest


def test_output_is_the_same_for_any_number_of_workers(site: Path):
    run(site, "one", jobs=1, use_cache=False)
    run(site, "three", jobs=3, use_cache=False)
    assert tree(site / "one") == tree(site / "three")


def test_a_damaged_cache_only_costs_time(site: Path):
    run(site, "out")
    reference = tree(site / "out")
    cache = site / ".publisher-cache"
    with sqlite3.connect(cache / "parts.sqlite") as db:
        db.execute("UPDATE parts SET data = x'00ff00'")  # every entry damaged
    (cache / "parsed.pickle").write_bytes(b"not a pickle")
    for record in cache.glob("*.json"):
        record.write_text("{ broken", encoding="utf-8")
    shutil.rmtree(site / "out")
    report = run(site, "out")
    assert report.rendered > 0 and tree(site / "out") == reference
    (cache / "parts.sqlite").write_bytes(b"garbage, not a database")
    assert tree(site / "out") == reference and run(site, "out").write.written == ()


def test_a_new_output_folder_is_made_from_the_cache(site: Path):
    """Nothing to keep in a new folder: every email and feed unit comes from the cache (the .eml
    composed again from the issue's other files), only the uncached issue pages render."""
    first = run(site, "out")
    again = run(site, "elsewhere")
    assert tree(site / "elsewhere") == tree(site / "out")
    assert again.rendered == len(first.catalog.digests)


def test_a_cache_entry_that_unpacks_but_is_incomplete_only_costs_time(site: Path):
    run(site, "out")
    with sqlite3.connect(site / ".publisher-cache" / "parts.sqlite") as db:
        for key, blob in db.execute("SELECT key, data FROM parts").fetchall():
            parts = unpack(blob)
            kept = tuple(output for output in parts.outputs if not output.relpath.startswith("send/"))
            db.execute("UPDATE parts SET data = ? WHERE key = ?", (pack(DigestParts(kept, parts.fragments)), key))
    report = run(site, "elsewhere")
    assert tree(site / "elsewhere") == tree(site / "out")
    assert report.rendered == 2 * len(report.catalog.digests)  # the pages, and every email again


def test_a_build_without_the_cache_leaves_no_record_to_keep_its_files_by(site: Path):
    """--no-cache rewrites out/ but records nothing: the record of the build before must not then
    vouch for files that now hold other content."""
    run(site, "out")
    digest = next((site / "seeds").glob("002_*.txt"))
    original = digest.read_text(encoding="utf-8")
    digest.write_text(original.replace("Qwen 1.5가 나왔습니다", "큐웬 1.5 출시"), "utf-8")
    run(site, "out", use_cache=False)
    digest.write_text(original, "utf-8")
    run(site, "out")
    run(site, "cold", jobs=1, use_cache=False)
    assert tree(site / "out") == tree(site / "cold")


def test_a_file_changed_by_hand_in_out_is_rebuilt_not_kept(site: Path):
    run(site, "out")
    reference = tree(site / "out")
    page = site / "out" / "tags" / "math" / "index.html"
    page.write_text("vandalised", encoding="utf-8")
    (site / "out" / "stray.txt").write_text("not ours", encoding="utf-8")
    report = run(site, "out")
    assert content(report.write.changed) == ("tags/math/index.html",) and report.write.removed == ("stray.txt",)
    assert tree(site / "out") == reference


def test_check_mode_writes_nothing_and_reports_differences(site: Path):
    run(site, "out")
    (site / "out" / "feed.xml").unlink()
    before = tree(site / "out")
    report = run(site, "out", dry_run=True)
    assert report.write.added == ("feed.xml",) and tree(site / "out") == before


def test_progress_reports_stages_and_counts(site: Path):
    seen = []
    run(site, "out", jobs=1, progress=lambda stage, done, total: seen.append((stage, done, total)))
    renders = [entry for entry in seen if entry[0] == "render"]
    assert renders[-1][1] == renders[-1][2] > 0
    assert ("feeds and pages", 0, 0) in seen


# What a rebuild with nothing changed never needs: renderers, the worker pool, the parts cache, the
# date parser for non-Korean dates. Importing them was most of a no-op build's time.
NOT_LOADED_ON_A_NO_OP = (
    "jinja2",
    "feedgen",
    "lxml",
    "premailer",
    "multiprocessing",
    "concurrent.futures",
    "sqlite3",
    "dateutil.parser",
    "xml.etree.ElementTree",
)


def test_a_rebuild_with_nothing_changed_loads_no_renderer_pool_or_cache_database(site: Path):
    def loaded() -> set[str]:
        result = subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "publisher", "build"],
            cwd=site,
            capture_output=True,
            text=True,
            check=True,
        )
        return {
            line.rpartition("|")[2].strip() for line in result.stderr.splitlines() if line.startswith("import time:")
        }

    assert {"jinja2", "multiprocessing", "sqlite3"} <= loaded()  # the first build needs them all
    assert sorted(set(NOT_LOADED_ON_A_NO_OP) & loaded()) == []


def test_a_rebuild_with_nothing_changed_looks_at_each_output_once(site: Path, monkeypatch: pytest.MonkeyPatch):
    """A no-op build's cost is one `stat` per file of out/ (is it still as written?), not two, and
    it leaves the records of out/ as they are."""
    import os

    first = run(site, "out", jobs=1)
    outputs = {str(site / "out" / path) for path in content(first.write.written)}  # the marker is checked apart
    looked: list[str] = []
    real_stat = os.stat

    def counting_stat(path, *args, **kwargs):
        if os.fspath(path) in outputs:
            looked.append(os.fspath(path))
        return real_stat(path, *args, **kwargs)

    records = sorted((site / ".publisher-cache").glob("[go]*-*.json"))  # the writer's manifest, the groups
    assert [path.name.split("-")[0] for path in records] == ["groups", "out"]
    stamps = [(path.stat().st_ino, path.stat().st_mtime_ns) for path in records]
    monkeypatch.setattr(os, "stat", counting_stat)
    second = run(site, "out", jobs=1)
    monkeypatch.undo()
    assert [(path.stat().st_ino, path.stat().st_mtime_ns) for path in records] == stamps  # not written again
    assert not second.write.differs and second.write.unchanged == len(outputs) + 1
    from collections import Counter

    assert set(looked) == outputs
    assert [(path, count) for path, count in Counter(looked).items() if count > 1] == []


def test_a_build_without_the_indexer_keeps_the_old_index_and_says_it_is_due(
    site: Path, monkeypatch: pytest.MonkeyPatch
):
    """`publisher serve` shows an edit first and indexes after: the pages change at once, the
    search index stays as it was (never half made), and the build after makes what a cold one does."""
    from publisher.build import search

    run(site, "out", jobs=1)
    index_before = {path: data for path, data in tree(site / "out").items() if path.startswith("pagefind/")}
    # 2000 whole; 2024, the newest year, an index a month
    assert {path.split("/")[1] for path in index_before} == {"2000", "2024-02", "2024-06", "2024-07"}
    # An edit in 2000 and in 2024-07: both indexes are out of date, and both wait.
    for digest in (next((site / "seeds" / "generated").glob("*.txt")), next((site / "seeds").glob("000_*.txt"))):
        digest.write_bytes(digest.read_bytes().replace(b"#", b"#serving-edit #", 1))

    def no_indexer(*args: object) -> list:
        raise AssertionError("the indexer ran")

    with monkeypatch.context() as patch:
        patch.setattr(search, "index", no_indexer)
        deferred = run(site, "out", jobs=1, index_search=False)
        assert deferred.search_pending and deferred.write.differs
        assert (site / "out" / "tags" / "serving-edit").is_dir()  # the pages are new
        index_now = {path: data for path, data in tree(site / "out").items() if path.startswith("pagefind/")}
        assert index_now == index_before  # the index is the old one, whole
        again = run(site, "out", jobs=1, index_search=False)
        assert again.search_pending and not again.write.differs  # still due, and nothing else to do
    caught_up = assert_warm_equals_cold(site)  # with the indexer: the same out/ as a cold build
    assert not caught_up.search_pending
    reindexed = {path.split("/")[1] for path in caught_up.write.changed if path.startswith("pagefind/")}
    assert reindexed == {"2000", "2024-07"}
    assert not run(site, "out", jobs=1, index_search=False).search_pending  # an index up to date is kept
    # An edit in one year: that year's index waits, the other shards are up to date and kept as they are.
    digest = next((site / "seeds" / "generated").glob("*.txt"))
    digest.write_bytes(digest.read_bytes().replace(b"#serving-edit", b"#serving-edit-again", 1))
    with monkeypatch.context() as patch:
        patch.setattr(search, "index", no_indexer)
        deferred = run(site, "out", jobs=1, index_search=False)
    assert deferred.search_pending and not [path for path in deferred.write.changed if path.startswith("pagefind/")]
    caught_up = run(site, "out", jobs=1)
    assert {path.split("/")[1] for path in caught_up.write.changed if path.startswith("pagefind/")} == {"2000"}
