"""Search over every note (build/search.py, render/search.py, static/search.js): Pagefind's index in
shards (one a year, one a month in the newest year), built into the staging tree with everything else,
byte-identical across rebuilds, run again only for the shards in which a note changed; and found in
headless Chromium, in Korean and in English, every shard in one search."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

from publisher.build import search
from publisher.build.pipeline import build, check
from publisher.config import load_config
from publisher.digests.catalog import Catalog
from publisher.errors import Diagnostic, OutputError
from publisher.render import paths
from publisher.render.output import Output
from publisher.render.search import index_language, index_shards

from .browser import serve_folder
from .conftest import ROOT, SEEDS, run_cli

CONFIG = load_config(ROOT / "publisher.toml")


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    checked = check(CONFIG.with_paths(seeds=SEEDS))
    assert checked.catalog is not None
    return checked.catalog


def bundle(out: Path) -> dict[str, bytes]:
    folder = out / paths.SEARCH_BUNDLE
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def shards_in(out: Path) -> set[str]:
    return {path.name for path in (out / paths.SEARCH_BUNDLE).iterdir()}


def page_indexes(out: Path) -> list[dict]:
    """The indexes the search page names for its script (`data-indexes`), in its order."""
    page = (out / paths.SEARCH).read_text("utf-8")
    return json.loads(re.search(r"data-indexes='([^']*)'", page)[1])


def inodes(folder: Path) -> dict[Path, int]:
    """Each file's inode: the same ones after a build means the files were kept, not even rewritten."""
    return {p: p.stat().st_ino for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def indexer_calls(monkeypatch) -> list[tuple[str, int]]:
    """The indexer's runs from now on: each one's bundle and number of documents (notes)."""
    calls = []
    real = search.index

    def counting(documents, language, bundle):
        calls.append((bundle, len(documents)))
        return real(documents, language, bundle)

    monkeypatch.setattr(search, "index", counting)
    return calls


def note_text(entry) -> str:
    return " ".join([entry.title, *entry.authors, *entry.commentary, *entry.abstract, *(t.name for t in entry.tags)])


def test_the_index_is_in_out_with_one_record_per_note(built: Path, catalog: Catalog) -> None:
    files = bundle(built)
    # The seeds are all of 2024, the newest year: an index a month with notes (February, June, July).
    assert {name.split("/")[1] for name in files} == {"2024-02", "2024-06", "2024-07"}
    assert "pagefind/2024-07/pagefind.js" in files and "pagefind/2024-07/pagefind-entry.json" in files
    fragments = [name for name in files if "/fragment/" in name]
    assert len(fragments) == sum(len(d.entries) for d in catalog.digests) == 39
    assert len([name for name in fragments if name.startswith("pagefind/2024-06/")]) == 10 + 5
    assert not [name for name in files if "-ui." in name]  # Pagefind's own interfaces are left out
    # One language for every note, the site's: a Korean and an English word are found in one index.
    assert '"ko"' in files["pagefind/2024-07/pagefind-entry.json"].decode() and index_language("ko-KR") == "ko"
    # The search page names every shard's index for its script, newest first, linked from the page.
    assert page_indexes(built) == [
        {"label": "2024년 7월", "url": "../pagefind/2024-07/pagefind.js"},
        {"label": "2024년 6월", "url": "../pagefind/2024-06/pagefind.js"},
        {"label": "2024년 2월", "url": "../pagefind/2024-02/pagefind.js"},
    ]


def redate(source: Path, target: Path, date: str) -> None:
    """A copy of a digest under another date (its first line)."""
    lines = source.read_text("utf-8").splitlines(keepends=True)
    target.write_text(f"{date}\n" + "".join(lines[1:]), "utf-8")


def test_the_shards_are_the_older_years_whole_and_the_newest_year_by_month(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)
    redate(SEEDS / "001_79b7e80049c25ed0.txt", seeds / "older.txt", "2023년 3월 5일")
    redate(SEEDS / "002_aa53cee447462583.txt", seeds / "oldest.txt", "2023년 11월 20일")
    # A digest with no notes: the newest year is that of the newest digest *with notes*.
    (seeds / "empty.txt").write_text("2025년 1월 2일\n", "utf-8")
    checked = check(CONFIG.with_paths(seeds=seeds))
    assert checked.catalog is not None
    shards = index_shards(checked.catalog)
    # From the sources, never from the clock: 2024 is split by month although a later year has come.
    assert [(shard.name, shard.label) for shard in shards] == [
        ("2024-07", "2024년 7월"),
        ("2024-06", "2024년 6월"),
        ("2024-02", "2024년 2월"),
        ("2023", "2023년"),
    ]
    assert [[digest.date.isoformat() for digest in shard.digests] for shard in shards] == [
        ["2024-07-25"],
        ["2024-06-21", "2024-06-10"],
        ["2024-02-13", "2024-02-06"],
        ["2023-11-20", "2023-03-05"],
    ]
    assert index_shards(checked.catalog) == shards  # the same catalog, the same shards
    assert index_shards(dataclasses.replace(checked.catalog, digests=())) == []


def test_a_digest_added_to_the_newest_month_reindexes_that_month_only(project: Path, indexer_calls) -> None:
    seeds = sorted((project / "seeds").glob("*.txt"))
    redate(seeds[1], project / "seeds" / "older.txt", "2023년 3월 5일")
    assert run_cli("build", "--jobs", "1").exit_code == 0
    assert sorted(indexer_calls) == [
        ("pagefind/2023", 10),
        ("pagefind/2024-02", 12 + 6),
        ("pagefind/2024-06", 10 + 5),
        ("pagefind/2024-07", 6),
    ]
    out = project / "out"
    assert shards_in(out) == {"2023", "2024-02", "2024-06", "2024-07"}
    kept = {p: inode for p, inode in inodes(out / "pagefind").items() if "2024-07" not in p.parts}
    indexer_calls.clear()

    # Today's digest, the day after the newest: the notes of its month only, not of its year.
    redate(seeds[2], project / "seeds" / "newer.txt", "2024년 7월 26일")
    report = build(load_config(project / "publisher.toml"), jobs=1)
    assert indexer_calls == [("pagefind/2024-07", 6 + 6)]
    changed = {path.split("/")[1] for path in report.write.changed + report.write.added if path.startswith("pagefind/")}
    assert changed == {"2024-07"}
    # Every other shard's index is the same files, untouched: the same inodes in the new out/
    assert {p: inode for p, inode in inodes(out / "pagefind").items() if "2024-07" not in p.parts} == kept
    indexer_calls.clear()

    # An edit to a digest of an older year re-indexes that year.
    older = project / "seeds" / "older.txt"
    older.write_text(older.read_text("utf-8").replace("굉장히 흥미롭습니다", "정말 흥미롭습니다"), "utf-8")
    assert run_cli("build", "--jobs", "1").exit_code == 0
    assert indexer_calls == [("pagefind/2023", 10)]


def test_a_digest_of_a_new_year_makes_last_years_months_one_index(project: Path, indexer_calls) -> None:
    seeds = sorted((project / "seeds").glob("*.txt"))
    redate(seeds[1], project / "seeds" / "older.txt", "2023년 3월 5일")
    assert run_cli("build", "--jobs", "1").exit_code == 0
    out = project / "out"
    year_before = inodes(out / "pagefind" / "2023")
    indexer_calls.clear()

    redate(seeds[2], project / "seeds" / "newer.txt", "2025년 1월 3일")
    assert run_cli("build", "--jobs", "1").exit_code == 0
    # 2024's months become one index (a one-time re-index of the year), 2025 begins with its January.
    assert sorted(indexer_calls) == [("pagefind/2024", 39), ("pagefind/2025-01", 6)]
    assert shards_in(out) == {"2023", "2024", "2025-01"}
    assert inodes(out / "pagefind" / "2023") == year_before
    assert [index["label"] for index in page_indexes(out)] == ["2025년 1월", "2024년", "2023년"]
    # and the result is what a cold build makes
    assert run_cli("build", "--no-cache", "--jobs", "1", "--out", "cold").exit_code == 0
    assert {k.removeprefix("cold/"): v for k, v in bundle(project / "cold").items()} == bundle(out)


def test_the_index_is_byte_identical_across_builds_and_checked(project: Path) -> None:
    first = run_cli("build", "--no-cache", "--jobs", "1", "--out", "one")
    second = run_cli("build", "--no-cache", "--jobs", "3", "--out", "two")
    assert first.exit_code == second.exit_code == 0, first.output + second.output
    one, two = bundle(project / "one"), bundle(project / "two")
    assert len(one) > 40
    assert {k.replace("one/", ""): v for k, v in one.items()} == two
    # build --check makes the index again and compares: nothing is left out of the check.
    checked = run_cli("build", "--check", "--out", "one")
    assert checked.exit_code == 0, checked.output


def test_a_no_op_build_never_runs_the_indexer_and_an_edit_does(project: Path, indexer_calls) -> None:
    assert run_cli("build", "--jobs", "1").exit_code == 0
    assert sum(count for _, count in indexer_calls) == 39 and len(indexer_calls) == 3
    indexer_calls.clear()
    assert run_cli("build", "--jobs", "1").exit_code == 0
    assert indexer_calls == []  # nothing changed: the index in out/ is kept
    digest = sorted((project / "seeds").glob("*.txt"))[0]  # of 2024-07-25
    digest.write_text(digest.read_text("utf-8").replace("실험은", "실험은 정말"), "utf-8")
    assert run_cli("build", "--jobs", "1").exit_code == 0
    assert indexer_calls == [("pagefind/2024-07", 6)]


def test_a_failing_indexer_leaves_out_as_it_was(project: Path, monkeypatch) -> None:
    assert run_cli("build", "--jobs", "1").exit_code == 0
    before = {p: p.read_bytes() for p in sorted((project / "out").rglob("*")) if p.is_file()}

    def broken(*args):
        raise OutputError(Diagnostic("pagefind", None, "the search indexer failed: disk full"))

    monkeypatch.setattr(search, "index", broken)
    digest = sorted((project / "seeds").glob("*.txt"))[0]
    digest.write_text(digest.read_text("utf-8").replace("실험은", "실험은 정말"), "utf-8")
    result = run_cli("build", "--jobs", "1")
    assert result.exit_code == 1 and "pagefind: the search indexer failed: disk full" in result.output
    assert "Traceback" not in result.output
    after = {p: p.read_bytes() for p in sorted((project / "out").rglob("*")) if p.is_file()}
    assert after == before


def test_the_indexer_reports_its_own_failure(monkeypatch, tmp_path: Path) -> None:
    fake = tmp_path / "pagefind"
    fake.write_text("#!/bin/sh\necho 'Error: no pages found' >&2\nexit 3\n")
    fake.chmod(0o755)
    monkeypatch.setattr(search, "_executable", lambda: str(fake))
    with pytest.raises(OutputError, match="the search indexer failed: Error: no pages found"):
        search.index([], "ko", "pagefind/2024")


def test_the_indexer_leaves_nothing_behind(monkeypatch, tmp_path: Path) -> None:
    """Documents and bundle go through its pipes, never through files: it runs in an empty temporary
    folder of its own (where a pagefind.yml cannot reach it), removed after a failure as after a success."""
    seen, temporary = tmp_path / "seen", tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    real = search._executable()
    fake = tmp_path / "pagefind"
    fake.write_text(f'#!/bin/sh\npwd > {seen}\nls -A >> {seen}\necho "$@" >> {seen}\nexit 3\n')
    fake.chmod(0o755)
    monkeypatch.setattr(search, "_executable", lambda: str(fake))
    with pytest.raises(OutputError):
        search.index([Output("2024-01-01/1.html", b"<p>x</p>")], "ko", "pagefind/2024")
    folder, arguments = seen.read_text().splitlines()
    assert Path(folder).parent == temporary and arguments == "--service"  # and its folder was empty
    assert list(temporary.iterdir()) == []
    monkeypatch.setattr(search, "_executable", lambda: real)
    documents = [Output(f"2024-01-0{n}/1.html", f"<html><body><p>x{n}</p></body></html>".encode()) for n in (1, 2)]
    outputs = search.index(documents, "ko", "y/2024")
    assert outputs and all(output.relpath.startswith("y/2024/") for output in outputs)
    assert [output.relpath for output in outputs] == sorted(output.relpath for output in outputs)
    assert not any(output.relpath.startswith("y/2024/pagefind-ui.") for output in outputs)
    assert list(temporary.iterdir()) == []


# A stand-in for `pagefind --service` that answers every request but refuses the second (message 2).
REFUSES_THE_SECOND = """
import base64, json, sys
pending = b""
while chunk := sys.stdin.buffer.read1(65536):
    *messages, pending = (pending + chunk).split(b",")
    for raw in messages:
        number = json.loads(base64.b64decode(raw))["message_id"]
        payload = {"type": "Error", "message": "Failed to add file"} if number == 2 else {"type": "IndexedFile"}
        reply = json.dumps({"message_id": number, "payload": payload}).encode()
        sys.stdout.buffer.write(base64.b64encode(reply) + b",")
        sys.stdout.flush()
"""


def test_a_document_the_indexer_refuses_is_named(monkeypatch, tmp_path: Path) -> None:
    """The service's error for one document names that document, not just the indexer."""
    fake = tmp_path / "pagefind"
    fake.write_text(f"#!{sys.executable}\n{REFUSES_THE_SECOND}")
    fake.chmod(0o755)
    monkeypatch.setattr(search, "_executable", lambda: str(fake))
    documents = [Output(f"2024-01-01/{n}.html", b"<p>x</p>") for n in (1, 2, 3)]
    with pytest.raises(OutputError, match=r"2024-01-01/2\.html: the search indexer failed: Failed to add file"):
        search.index(documents, "ko", "pagefind/2024")


# ------------------------------------------------------------------------------- in Chromium


def expected_urls(catalog: Catalog, word: str) -> set[str]:
    """The notes with a word that starts with `word`: Pagefind matches the beginning of words, which is
    how Korean is found with its particles (실험 → 실험은, 실험의, 실험하면)."""
    pattern = re.compile(rf"(?<!\w){re.escape(word)}", re.IGNORECASE)
    return {
        paths.relative(paths.HOME, paths.issue_page(digest.date), entry.anchor)
        for digest in catalog.digests
        for entry in digest.entries
        if pattern.search(note_text(entry))
    }


def search_in(page, base: str, query: str, *, type_it: bool = False) -> list[str]:
    """Search as a reader does; the result links, relative to the site's root."""
    if type_it:
        page.goto(base + paths.SEARCH)
        page.fill("#search-query", query)
    else:
        page.goto(f"{base}{paths.SEARCH}?q={query}")
    page.wait_for_function(
        "q => document.getElementById('search-status').textContent.includes(q)", arg=query, timeout=15000
    )
    hrefs = page.eval_on_selector_all("#search-results h2 a", "links => links.map(a => a.href)")
    return [href.removeprefix(base) for href in hrefs]


@pytest.mark.browser
def test_korean_and_english_words_find_their_notes(built: Path, catalog: Catalog, browser) -> None:
    with serve_folder(built) as base:
        page = browser.page(1280)
        try:
            korean = search_in(page, base, "실험")
            assert set(korean) == expected_urls(catalog, "실험") and len(korean) == 5
            english = search_in(page, base, "Lean", type_it=True)
            assert set(english) == expected_urls(catalog, "lean") and len(english) == 2
            assert page.eval_on_selector_all("#search-results h2", "hs => hs.map(h => h.lang)") == ["en", "en"]
            assert "q=Lean" in page.url  # the query is in the address: a search can be shared
            # a result's link opens the note on its issue page
            page.click("#search-results h2 a >> nth=0")
            page.wait_for_load_state()
            assert page.evaluate("location.hash") and page.locator(":target h2").count() == 1
            nothing = search_in(page, base, "zxqvj")
            assert nothing == [] and "없습니다" in page.text_content("#search-status")
        finally:
            page.close()


@pytest.mark.browser
def test_search_results_show_note_text_as_text(tmp_path: Path, browser) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    shutil.copy(SEEDS / sorted(p.name for p in SEEDS.glob("*.txt"))[0], seeds / "a.txt")
    (seeds / "b.txt").write_text(
        "2024-08-01\n<img src=x onerror=alert(1)> Injected <b>bold</b>\n(Mallory <script>alert(2)</script>)\n"
        "Abstract <i>x</i> onerror.\n한국어 노트 <mark>가짜</mark>.\n#hostile\n",
        "utf-8",
    )
    out = tmp_path / "out"
    assert run_cli("build", "--config", ROOT / "publisher.toml", "--seeds", seeds, "--out", out).exit_code == 0
    with serve_folder(out) as base:
        page = browser.page(1280)
        try:
            alerts = []
            page.on("dialog", lambda dialog: (alerts.append(dialog.message), dialog.dismiss()))
            # The note with the word first; July's shard, which lacks it, adds its nearest prefix below
            # (Pagefind's fallback, see test_a_word_one_shard_lacks_...).
            found = search_in(page, base, "onerror")
            assert found[0].startswith("issues/2024-08-01/") and not any("2024-08-01" in url for url in found[1:])
            assert page.text_content("#search-results h2").startswith("<img src=x onerror=alert(1)>")
            counts = page.evaluate(
                "['img', 'b', 'script', 'i'].map(t => document.querySelectorAll('#search-results ' + t).length)"
            )
            assert counts == [0, 0, 0, 0] and alerts == []
            search_in(page, base, "가짜")
            # the note's own <mark> is text; only the indexer's highlight is an element
            assert "<mark>가짜</mark>" in page.text_content("#search-results .excerpt")
        finally:
            page.close()


@pytest.mark.browser
def test_the_search_page_says_so_without_javascript(built: Path, browser) -> None:
    page = browser._browser.new_page(java_script_enabled=False)
    try:
        page.goto((built / paths.SEARCH).as_uri())
        assert "자바스크립트가 필요합니다" in page.text_content("noscript, body")
    finally:
        page.close()


@pytest.fixture(scope="module")
def two_years(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Catalog]:
    """The seeds (2024) and a copy of one of them dated 2023, built: four indexes, 2023 and three
    months of 2024."""
    folder = tmp_path_factory.mktemp("two-years")
    shutil.copytree(SEEDS, folder / "seeds")
    redate(sorted(SEEDS.glob("*.txt"))[1], folder / "seeds" / "older.txt", "2023년 3월 5일")
    config = CONFIG.with_paths(seeds=folder / "seeds", out=folder / "out", cache=folder / "cache")
    build(config)
    checked = check(config)
    assert checked.catalog is not None
    return folder / "out", checked.catalog


@pytest.mark.browser
def test_one_search_finds_the_notes_of_every_shard_ranked_together(two_years, browser) -> None:
    out, catalog = two_years
    with serve_folder(out) as base:
        page = browser.page(1280)
        try:
            found = search_in(page, base, "Claude")
            assert set(found) == expected_urls(catalog, "claude") and len(found) == 3
            years = [url.split("/")[1][:4] for url in found]
            # Ranked by score over every shard, not shard after shard (newest first): the last shard's
            # note comes first.
            assert years == ["2023", "2024", "2024"]
            assert page.text_content("#search-status") == "‘Claude’: 노트 3편"  # every shard counted
            korean = search_in(page, base, "실험")
            assert set(korean) == expected_urls(catalog, "실험")
            # notes from every shard: the older year and each month of the newest
            assert {url.split("/")[1][:7] for url in korean} == {"2023-03", "2024-02", "2024-06", "2024-07"}
        finally:
            page.close()


@pytest.mark.browser
def test_a_word_one_shard_lacks_finds_its_notes_first(two_years, browser) -> None:
    """Pagefind, finding no word that starts with a query's word in an index, searches that index for
    the longest prefix of it that it has (its typo tolerance; it cannot be turned off). Each shard is
    an index, so a word that some shards lack brings those shards' prefix matches too: ranked below
    the notes that have the word, and counted (README, Search)."""
    out, catalog = two_years
    with serve_folder(out) as base:
        page = browser.page(1280)
        try:
            found = search_in(page, base, "Parametrization")
            assert expected_urls(catalog, "parametrization") == {found[0]} and found[0].startswith("issues/2024-07")
            assert len(found) > 1  # the other shards' prefix matches (par…, P…), after it
        finally:
            page.close()


@pytest.mark.browser
@pytest.mark.parametrize(
    ("lost", "named"),
    [(["2023"], "2023년"), (["2024-07"], "2024년 7월"), (["2024-06", "2023"], "2024년 6월, 2023년")],
    ids=["an-older-year", "the-newest-month", "a-month-and-a-year"],
)
def test_a_shard_whose_index_does_not_load_is_left_out_and_named(two_years, browser, tmp_path, lost, named) -> None:
    out, catalog = two_years
    shutil.copytree(out, tmp_path / "out")
    for shard in lost:
        shutil.rmtree(tmp_path / "out" / paths.search_bundle(shard))

    def kept(url: str) -> bool:  # a note of a shard still there (its issue page is issues/<date>/)
        return not any(f"/{shard}-" in url for shard in lost)

    with serve_folder(tmp_path / "out") as base:
        page = browser.page(1280)
        try:
            found = search_in(page, base, "실험")  # in every shard
            assert found and all(kept(url) for url in found)
            assert set(found) == {url for url in expected_urls(catalog, "실험") if kept(url)}
            status = page.text_content("#search-status")
            # The shards left out are named as the site writes dates, newest first.
            assert f"노트 {len(found)}편" in status and f"({named} 색인을 불러오지 못해" in status
        finally:
            page.close()


@pytest.mark.browser
def test_the_search_page_says_so_from_a_file(built: Path, browser) -> None:
    """From file:// a browser loads no module (the index), but the page's own script runs and says why."""
    page = browser.page(1280)
    try:
        page.goto((built / paths.SEARCH).as_uri() + "?q=실험")
        page.wait_for_function("document.getElementById('search-status').textContent !== ''", timeout=15000)
        assert "웹 서버에서 열어 주세요" in page.text_content("#search-status")
    finally:
        page.close()
