"""`publisher serve`: build once, serve the output folder over HTTP, rebuild when an input changes.

Inputs are watched by polling (no extra dependency, works on every file system): a snapshot of
every digest, theme file and the config file (modification time and size; and the content of a
file modified in the last seconds, see `snapshot`) is compared with the previous one every 0.2 s
(or ten times as long as the last look took). A rebuild is a full `build()`: the writer swaps the
output folder in one step and skips files whose bytes did not change, so there is no
partial-rebuild logic to get wrong. A saved digest's own page comes first: rendered alone and
served from memory while the rebuild runs (preview.py), dropped when it ends. The search
index alone waits: the indexer takes seconds, so a rebuild leaves it out (out/ keeps the previous
index) and a second build makes it once the edits pause. The server resolves each request against
the output folder's path, so it always serves one complete build;
when a rebuild fails nothing is written and the last good build stays.
"""

from __future__ import annotations

import functools
import hashlib
import io
import threading
import time
import traceback
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import click
import jinja2

from ..config import Config, load_config
from ..digests.sources import shown_path
from ..errors import ConfigError, Diagnostic, PublisherError
from ..render.templating import default_theme_dir
from .cache import KeptReading
from .pipeline import BuildReport, Checked, build, check
from .preview import preview_pages
from .uptodate import listed_files

# The watcher looks again after this long, or after ten times what the last look took (at most a
# tenth of a core: a larger archive is looked at less often).
POLL_SECONDS = 0.2
NO_CONFIG = "(defaults)"  # Config.source when no file was read

Snapshot = dict[Path, tuple[int, int, str]]  # file → (modification time in ns, size, content hash or "")

# A file modified this recently may be modified again within the same tick of the file system's
# clock, keeping its time (and often its size): such files are compared by content too.
RACY_NS = 2_000_000_000


@dataclass(frozen=True)
class Changes:
    added: tuple[Path, ...] = ()
    modified: tuple[Path, ...] = ()
    removed: tuple[Path, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.added or self.modified or self.removed)

    def touches(self, path: Path) -> bool:
        return path in self.added + self.modified + self.removed

    def lines(self) -> list[str]:
        """One line per file, as printed in the terminal: `  changed seeds/004.txt`."""
        kinds = (("added", self.added), ("changed", self.modified), ("removed", self.removed))
        return [f"  {kind} {shown_path(path)}" for kind, found in kinds for path in found]


def config_file(config: Config) -> Path | None:
    return None if config.source == NO_CONFIG else Path(config.source)


def watched_files(config: Config) -> list[Path]:
    """What a build reads: the digests (*.txt, as digests/sources.py), every theme file, the config file."""
    found = [Path(p) for p in listed_files(config.paths.seeds, ".txt")]
    for folder in filter(None, (default_theme_dir(), config.paths.templates)):
        found += [Path(p) for p in listed_files(folder, "")]
    if (source := config_file(config)) is not None:
        found.append(source)
    return sorted(found)


def snapshot(config: Config) -> Snapshot:
    taken: Snapshot = {}
    now = time.time_ns()
    for path in watched_files(config):
        try:
            stat = path.stat()
            content = _content(path) if now - stat.st_mtime_ns < RACY_NS else ""
        except FileNotFoundError:
            continue  # deleted while we looked
        taken[path] = (stat.st_mtime_ns, stat.st_size, content)
    return taken


def _content(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def changes(config: Config, before: Snapshot) -> tuple[Changes, Snapshot]:
    """What changed in the inputs since the snapshot `before`, and the snapshot to compare with next."""
    after = snapshot(config)

    def modified(path: Path) -> bool:
        (old_time, old_size, old_content), (time_ns, size, content) = before[path], after[path]
        if (old_time, old_size) != (time_ns, size):
            return True
        try:  # recently modified when `before` was taken: compare the contents
            return bool(old_content) and old_content != (content or _content(path))
        except FileNotFoundError:
            return True

    found = Changes(
        added=tuple(sorted(after.keys() - before.keys())),
        modified=tuple(sorted(p for p in after.keys() & before.keys() if modified(p))),
        removed=tuple(sorted(before.keys() - after.keys())),
    )
    return found, after


def rebuild(
    config: Config, *, index_search: bool = True, checked: Checked | None = None, kept: KeptReading | None = None
) -> BuildReport | None:
    """Build and say how it went; on any error print it and leave the last good build in place (None).
    `checked`: the digests as just read for the preview, not read again."""
    try:
        echo = functools.partial(click.echo, err=True)
        report = build(config, on_wait=echo, index_search=index_search, checked=checked, kept=kept)
    except PublisherError as error:
        _problems(error.diagnostics)
        return None
    except jinja2.TemplateSyntaxError as error:
        _problems([Diagnostic(f"templates/{error.name}", error.lineno, error.message or str(error))])
        return None
    except Exception:  # a dev server outlives a bad template or a bug; show it and keep serving
        click.echo(traceback.format_exc(), err=True, nl=False)
        _problems([])
        return None
    for warning in report.warnings:
        click.echo(str(warning), err=True)
    write, catalog = report.write, report.catalog
    click.echo(
        f"built {len(catalog.digests)} digests, {catalog.entry_count} entries in {report.seconds:.2f} s: "
        f"{len(write.written)} written, {write.unchanged} unchanged, {len(write.removed)} removed"
        + ("; the search index follows" if report.search_pending else "")
    )
    return report


def _problems(diagnostics: list[Diagnostic]) -> None:
    for diagnostic in diagnostics:
        click.echo(str(diagnostic), err=True)
    click.echo("build failed: still serving the last good build", err=True)


class _OutputHandler(SimpleHTTPRequestHandler):
    """Serves files of the output folder; every request looks the path up again. A page the server
    holds a preview of (preview.py) is served from memory instead, until the rebuild ends."""

    server: _Server

    def send_head(self):
        relpath = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path).lstrip("/")
        page = self.server.previews.get(relpath + "index.html" if relpath.endswith("/") or not relpath else relpath)
        if page is None:
            return super().send_head()
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        return io.BytesIO(page)

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-cache")  # a rebuilt page shows on the next reload
        super().end_headers()

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        status = code.value if isinstance(code, HTTPStatus) else code
        if str(status).startswith(("4", "5")):  # only what went wrong: a missing page, say
            super().log_request(code, size)

    def log_error(self, format: str, *args: object) -> None:
        pass  # log_request above already names the failed request and its status


class _Server(ThreadingHTTPServer):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.previews: dict[str, bytes] = {}  # replaced as a whole, never changed in place: threads read it


def make_server(out_dir: Path, host: str, port: int) -> _Server:
    handler = functools.partial(_OutputHandler, directory=str(out_dir.absolute()))
    try:
        return _Server((host, port), handler)
    except OSError as error:
        raise PublisherError(Diagnostic(f"{host}:{port}", None, f"cannot listen: {error.strerror}")) from None


def serve(
    config: Config,
    *,
    host: str,
    port: int,
    reload: Callable[[], Config],
    poll: float = POLL_SECONDS,
) -> None:
    """Build, serve, and rebuild on every change until Ctrl-C. `reload` reads the config file again."""
    before = snapshot(config)  # taken first, so an edit during the first build is not missed
    kept = KeptReading()  # the digests as last read: after the first build, a save reads and parses that file alone
    rebuild(config, kept=kept)
    server = make_server(config.paths.out, host, port)
    thread = threading.Thread(target=server.serve_forever, name="publisher-serve", daemon=True)
    thread.start()
    click.echo(f"serving {shown_path(config.paths.out)} at http://{host}:{server.server_address[1]}/ (Ctrl-C stops)")
    search_due = False  # pages rebuilt without the search indexer: index when the edits pause
    try:
        looked = 0.0
        while True:
            time.sleep(max(poll, 10 * looked))
            started = time.perf_counter()
            found, after = changes(config, before)
            looked = time.perf_counter() - started
            if not found:
                if search_due:  # once: a failed index build is tried again after the next change
                    search_due = False
                    rebuild(config, kept=kept)
                continue
            before = after
            click.echo("\n".join(found.lines()))
            source = config_file(config)
            if source is not None and found.touches(source):
                try:
                    config = reload()
                except ConfigError as error:
                    _problems(error.diagnostics)
                    continue
                before = snapshot(config)  # the new config may point at other folders
            # A saved digest's own page first, from memory; then the pages (the indexer takes
            # seconds); the search index on the next quiet poll.
            saved = found.added + found.modified
            checked = None
            if saved and not found.removed and all(path.suffix == ".txt" for path in saved):
                checked = check(config, kept=kept)
                server.previews = preview_pages(config, checked, saved)
            report = rebuild(config, index_search=False, checked=checked, kept=kept)
            server.previews = {}
            search_due = search_due or bool(report and report.search_pending)
    except KeyboardInterrupt:
        click.echo("stopped")
    finally:
        server.shutdown()
        server.server_close()


def reloader(config: Config, seeds: Path | None) -> Callable[[], Config]:
    """Read the config file again, keeping the command line's --seeds and the served folder."""
    source = config_file(config)
    if source is None:
        return lambda: config
    return lambda: load_config(source).with_paths(seeds=seeds, out=config.paths.out)
