"""Headless Chromium (Debian's /usr/bin/chromium) driven by Playwright, for layout checks.

Screenshots land in tests/screenshots/ (git-ignored) for a person to look at.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SCREENSHOTS = Path(__file__).parent / "screenshots"
# axe-core, installed by tests/setup.sh from tests/package.json (npm ci): never fetched at run time.
AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
WCAG_A_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
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

    def page(self, width: int = 390, *, dark: bool = False):
        """A new page (a Playwright Page) at a viewport width (390 is a phone), light or dark as the
        reader's system setting says. Close it when done."""
        return self._browser.new_page(
            viewport={"width": width, "height": 900}, color_scheme="dark" if dark else "light"
        )

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


@contextlib.contextmanager
def serve_folder(folder: Path, prefix: str = "/publisher/") -> Iterator[str]:
    """A built folder served on 127.0.0.1 as GitHub Pages serves it: under the base URL's path (the
    seeds' config says /publisher/), and 404.html, with status 404, for a page that does not exist.
    Returns the site's URL."""

    class Pages(http.server.SimpleHTTPRequestHandler):
        def translate_path(self, path: str) -> str:
            inside = path.split("?", 1)[0].split("#", 1)[0]
            if not inside.startswith(prefix):
                return str(folder / "no such file")
            return super().translate_path("/" + inside[len(prefix) :])

        def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
            page = folder / "404.html"
            if code != 404 or not page.is_file():
                return super().send_error(code, message, explain)
            body = page.read_bytes()
            self.send_response(404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Pages, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}{prefix}"
    finally:
        server.shutdown()
        server.server_close()


def axe_violations(page) -> list[dict]:
    """Run axe-core's WCAG 2.x A and AA rules on a loaded Playwright page: every violation, with its nodes."""
    page.add_script_tag(path=str(AXE))
    options = json.dumps({"runOnly": {"type": "tag", "values": WCAG_A_AA}, "resultTypes": ["violations"]})
    result = page.evaluate(f"async () => (await axe.run(document, {options})).violations")
    return [{"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]} for v in result]
