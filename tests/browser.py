"""Headless Chromium (Debian's /usr/bin/chromium) driven by Playwright, for layout checks.

Screenshots land in tests/screenshots/ (git-ignored) for a person to look at.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

SCREENSHOTS = Path(__file__).parent / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Flags that keep Chromium off the (closed) network and quiet, as on this kind of machine.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass(frozen=True)
class Layout:
    scroll_width: int
    inner_width: int

    @property
    def overflows(self) -> bool:
        return self.scroll_width > self.inner_width


class Browser:
    def __init__(self, browser) -> None:
        self._browser = browser

    def page(self, width: int = 390):
        """A new page (a Playwright Page) at a viewport width: 390 is a phone."""
        return self._browser.new_page(viewport={"width": width, "height": 900})

    def layout(self, url: str, width: int, screenshot: str | None = None, *, strip_style: bool = False) -> Layout:
        """Load a page at a viewport width; measure horizontal overflow; optionally save a PNG."""
        page = self._browser.new_page(viewport={"width": width, "height": 900})
        try:
            page.goto(url, wait_until="load")
            if strip_style:  # as some mail clients do
                page.evaluate("document.querySelectorAll('style').forEach(s => s.remove())")
            layout = Layout(*page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]"))
            if screenshot:
                SCREENSHOTS.mkdir(exist_ok=True)
                page.screenshot(path=str(SCREENSHOTS / screenshot), full_page=True)
            return layout
        finally:
            page.close()
