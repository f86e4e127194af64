"""The site checked by tools nobody here wrote: the Nu HTML Checker (vnu.jar) over every web page of the
seeds build and of a generated 1,000-digest build, and axe-core's WCAG 2 A/AA rules in headless
Chromium, light and dark. Both come from tests/package.json, installed by tests/setup.sh (npm ci);
Java from Debian's default-jre-headless. Nothing is downloaded at run time."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from bench.make_corpus import make_corpus
from publisher.render import paths

from .browser import AXE, SCREENSHOTS, axe_violations, serve_folder
from .conftest import ROOT, run_cli

VNU = Path(__file__).parent / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
SETUP = "run `bash tests/setup.sh` (Java from default-jre-headless; vnu-jar and axe-core by npm ci in tests/)"


def vnu_errors(out: Path) -> str:
    """Every error the Nu HTML Checker finds in the web pages of a build (email/ holds the email
    issues: HTML for mail clients, checked by tests/test_issues.py, not web pages)."""
    java = shutil.which("java")
    assert java and VNU.is_file(), SETUP
    folders = sorted(str(p) for p in out.iterdir() if p.name not in ("email", "send"))
    result = subprocess.run(
        [java, "-jar", str(VNU), "--skip-non-html", "--errors-only", *folders],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode in (0, 1), result.stderr
    return result.stderr + result.stdout


def test_the_nu_html_checker_finds_no_error_in_the_seeds_build(built: Path) -> None:
    pages = [p for p in built.rglob("*.html") if "email" not in p.relative_to(built).parts]
    assert len(pages) == 46
    assert vnu_errors(built) == ""


@pytest.fixture(scope="module")
def big_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("big")
    make_corpus(1000, root / "seeds", seed=19)
    out = root / "out"
    result = run_cli("build", "--config", ROOT / "publisher.toml", "--seeds", root / "seeds", "--out", out)
    assert result.exit_code == 0, result.output
    return out


def test_the_nu_html_checker_finds_no_error_in_a_1000_digest_build(big_build: Path) -> None:
    pages = [p for p in big_build.rglob("*.html") if "email" not in p.relative_to(big_build).parts]
    assert len(pages) > 1300
    assert vnu_errors(big_build) == ""


# The pages a reader meets: home, an issue, the tags page, a topic page, the subscribe page, the search
# page (with results) and the 404 page.
AXE_PAGES = {
    "home": paths.home(),
    "issue": "issues/2024-07-25/index.html",
    "tags": paths.TAGS_INDEX,
    "topic": "tags/rlhf/index.html",
    "subscribe": paths.SUBSCRIBE,
    "search": paths.SEARCH + "?q=실험",
    "404": "issues/1999-01-01/no-such-page/",  # served 404.html, as GitHub Pages does
}


@pytest.mark.browser
@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_axe_finds_no_wcag_a_or_aa_violation(built: Path, browser, dark: bool) -> None:
    assert AXE.is_file(), SETUP
    found = {}
    with serve_folder(built) as base:
        for name, relpath in AXE_PAGES.items():
            page = browser.page(1280, dark=dark)
            try:
                response = page.goto(base + relpath, wait_until="load")
                assert response.status == (404 if name == "404" else 200), relpath
                assert page.evaluate("getComputedStyle(document.body).fontSize") == "17px", relpath  # styled
                if name == "search":  # with its results shown, as a reader sees it
                    page.wait_for_selector("#search-results li")
                    page.screenshot(path=str(SCREENSHOTS / f"search-{'dark' if dark else 'light'}.png"))
                if name == "issue":
                    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
                found[name] = axe_violations(page)
            finally:
                page.close()
    assert found == {name: [] for name in AXE_PAGES}


@pytest.mark.browser
@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_axe_finds_no_violation_on_paginated_pages(big_build: Path, browser, dark: bool) -> None:
    """The pager (dates, newer and older links) shows only where there are pages to turn: the first
    page and archive pages of the 1,000-digest build and of its busiest topic."""
    busiest = max(big_build.glob("tags/*/page/1/index.html"), key=lambda p: len(list(p.parent.parent.iterdir())))
    topic = busiest.relative_to(big_build).parent.parent.parent.as_posix()
    pages = [paths.home(), paths.home(1), paths.home(2), f"{topic}/index.html", f"{topic}/page/1/index.html"]
    found = {}
    with serve_folder(big_build) as base:
        for relpath in pages:
            page = browser.page(1280, dark=dark)
            try:
                assert page.goto(base + relpath, wait_until="load").status == 200, relpath
                assert page.locator("nav.pager").count() == 1, relpath
                found[relpath] = axe_violations(page)
            finally:
                page.close()
    assert found == {relpath: [] for relpath in pages}
