"""`publisher serve`'s preview of a saved digest (build/preview.py): the very page the rebuild writes,
served from memory until the rebuild ends."""

from __future__ import annotations

import shutil
import threading
import urllib.request
from pathlib import Path

import pytest

from publisher.build import cache, uptodate
from publisher.build.cache import KeptReading
from publisher.build.pipeline import build, check
from publisher.build.preview import preview_pages
from publisher.build.serve import make_server
from publisher.config import Config, load_config

from .conftest import ROOT, SEEDS

DIGEST = "000_05ad73aa49aa7872.txt"  # the digest of 2024-07-25
PAGE = "issues/2024-07-25/index.html"
TITLE = "Rule Based Rewards for Language Model Safety"


@pytest.fixture
def config(tmp_path: Path) -> Config:
    shutil.copytree(SEEDS, tmp_path / "seeds")
    shutil.copy(ROOT / "publisher.toml", tmp_path / "publisher.toml")
    loaded = load_config(tmp_path / "publisher.toml")
    build(loaded, index_search=False)
    return loaded


def test_the_preview_is_the_page_the_rebuild_writes(config: Config):
    digest = config.paths.seeds / DIGEST
    digest.write_text(digest.read_text(encoding="utf-8").replace(TITLE, "Edited & previewed"), encoding="utf-8")
    pages = preview_pages(config, check(config, use_cache=True), [digest])
    assert list(pages) == [PAGE]
    assert "Edited &amp; previewed" in pages[PAGE].decode("utf-8")
    assert pages[PAGE] != (config.paths.out / PAGE).read_bytes()  # out/ still holds the last build
    build(config, index_search=False)
    assert (config.paths.out / PAGE).read_bytes() == pages[PAGE]


def test_the_rebuild_takes_the_digests_the_preview_read(config: Config):
    """serve reads the digests once for the preview and the rebuild; such a build, not preceded by
    its own stat of the inputs, leaves no up-to-date record for `publisher build` to trust."""
    digest = config.paths.seeds / DIGEST
    digest.write_text(digest.read_text(encoding="utf-8").replace(TITLE, "Read once"), encoding="utf-8")
    checked = check(config, use_cache=True)
    pages = preview_pages(config, checked, [digest])
    report = build(config, checked=checked)
    assert report.catalog is checked.catalog
    assert (config.paths.out / PAGE).read_bytes() == pages[PAGE]
    assert not uptodate.out_record(config, "uptodate").exists()


def test_a_new_digest_is_previewed_with_its_neighbours(config: Config):
    source = (config.paths.seeds / DIGEST).read_text(encoding="utf-8")
    added = config.paths.seeds / "new.txt"
    added.write_text(source.replace("2024년 7월 25일", "2024년 7월 26일", 1), encoding="utf-8")
    pages = preview_pages(config, check(config, use_cache=True), [added])
    assert list(pages) == ["issues/2024-07-26/index.html"]
    build(config, index_search=False)
    assert (config.paths.out / "issues/2024-07-26/index.html").read_bytes() == pages["issues/2024-07-26/index.html"]


def test_a_digest_with_an_error_has_no_preview(config: Config):
    digest = config.paths.seeds / DIGEST
    digest.write_text(digest.read_text(encoding="utf-8") + "\nBroken entry\n본문 한 줄\n", encoding="utf-8")
    assert preview_pages(config, check(config, use_cache=True), [digest]) == {}


def test_the_server_serves_a_preview_until_it_is_dropped(config: Config):
    server = make_server(config.paths.out, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"

    def fetch(path: str) -> bytes:
        with urllib.request.urlopen(base + path, timeout=5) as response:
            return response.read()

    try:
        built = fetch(PAGE)
        server.previews = {PAGE: b"<!doctype html><title>preview</title>"}
        for path in (PAGE, "issues/2024-07-25/", "issues/2024-07-25/?q=1"):
            assert fetch(path) == b"<!doctype html><title>preview</title>"
        assert fetch("") == (config.paths.out / "index.html").read_bytes()  # other pages: from out/
        server.previews = {}
        assert fetch(PAGE) == built
    finally:
        server.shutdown()
        server.server_close()


def test_serve_reads_and_parses_only_the_saved_digest(config: Config, monkeypatch):
    """serve keeps the digests its builds read (KeptReading): a save reads and parses that file alone, and
    the result equals a reading of everything; a removed digest is forgotten, a bad one never kept."""
    parsed: list[str] = []
    real = cache.parse_digest
    monkeypatch.setattr(cache, "parse_digest", lambda data, path: parsed.append(Path(path).name) or real(data, path))
    kept = KeptReading()
    build(config, index_search=False, kept=kept)  # serve's first build fills what it keeps
    assert len(parsed) == 5
    parsed.clear()
    first = check(config, kept=kept)
    assert parsed == [] and len(first.digests) == 5
    parsed.clear()
    assert check(config, kept=kept) == first and parsed == []
    digest = config.paths.seeds / DIGEST
    digest.write_text(digest.read_text(encoding="utf-8").replace(TITLE, "Saved once"), encoding="utf-8")
    again = check(config, kept=kept)
    assert parsed == [DIGEST]
    assert again == check(config) and again != first
    other = sorted(config.paths.seeds.glob("*.txt"))[-1]
    other.unlink()
    parsed.clear()
    assert check(config, kept=kept) == check(config) and parsed == []
    assert not any(path.endswith(other.name) for path, _ in kept.known)
    digest.write_text("not a date\n", encoding="utf-8")
    assert check(config, kept=kept).errors and check(config, kept=kept).errors
    assert parsed == [DIGEST, DIGEST]
