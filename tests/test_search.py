"""Search over every note (build/search.py, render/search.py, static/search.js): Pagefind's index,
built into the staging tree with everything else, byte-identical across rebuilds, run again only when
a note changed; and found in headless Chromium, in Korean and in English."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from publisher.build import search
from publisher.build.pipeline import check
from publisher.config import load_config
from publisher.digests.catalog import Catalog
from publisher.errors import Diagnostic, OutputError
from publisher.render import paths
from publisher.render.search import index_language

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


def note_text(entry) -> str:
    return " ".join([entry.title, *entry.authors, *entry.commentary, *entry.abstract, *(t.name for t in entry.tags)])


def test_the_index_is_in_out_with_one_record_per_note(built: Path, catalog: Catalog) -> None:
    files = bundle(built)
    assert "pagefind/pagefind.js" in files and "pagefind/pagefind-entry.json" in files
    fragments = [name for name in files if name.startswith("pagefind/fragment/")]
    assert len(fragments) == sum(len(d.entries) for d in catalog.digests) == 39
    assert not [name for name in files if "-ui." in name]  # Pagefind's own interfaces are left out
    # One language for every note, the site's: a Korean and an English word are found in one index.
    assert '"ko"' in files["pagefind/pagefind-entry.json"].decode() and index_language("ko-KR") == "ko"


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


def test_a_no_op_build_never_runs_the_indexer_and_an_edit_does(project: Path, monkeypatch) -> None:
    calls = []
    real = search.index

    def counting(documents, language):
        calls.append(len(documents))
        return real(documents, language)

    monkeypatch.setattr(search, "index", counting)
    assert run_cli("build", "--jobs", "1").exit_code == 0
    assert calls == [39]
    assert run_cli("build", "--jobs", "1").exit_code == 0
    assert calls == [39]  # nothing changed: the index in out/ is kept
    digest = sorted((project / "seeds").glob("*.txt"))[0]
    digest.write_text(digest.read_text("utf-8").replace("실험은", "실험은 정말"), "utf-8")
    assert run_cli("build", "--jobs", "1").exit_code == 0
    assert calls == [39, 39]


def test_a_failing_indexer_leaves_out_as_it_was(project: Path, monkeypatch) -> None:
    assert run_cli("build", "--jobs", "1").exit_code == 0
    before = {p: p.read_bytes() for p in sorted((project / "out").rglob("*")) if p.is_file()}

    def broken(documents, language):
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
        search.index([], "ko")


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
            assert len(search_in(page, base, "onerror")) == 1
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
