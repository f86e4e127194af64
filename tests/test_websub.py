"""`publisher ping` against a real HTTP server on 127.0.0.1 that records every request."""

from __future__ import annotations

import hashlib
import http.server
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs

import feedparser
import pytest

from publisher.build.ping import RECORD, Feed, is_feed, plan, read_feeds, updated_record
from publisher.build.pipeline import check
from publisher.config import load_config
from publisher.render import paths

from .conftest import run_cli


@dataclass
class Hub:
    """A WebSub hub stand-in: answers every POST with `status` (and `body`), after `delay` seconds."""

    url: str
    requests: list[dict] = field(default_factory=list)
    status: int = 204
    body: bytes = b""
    delay: float = 0.0

    @property
    def topics(self) -> list[str]:
        return [request["form"]["hub.url"][0] for request in self.requests]


@pytest.fixture
def hub() -> Iterator[Hub]:
    state = Hub("")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(length).decode()
            state.requests.append(
                {
                    "path": self.path,
                    "content_type": self.headers.get("Content-Type"),
                    "form": parse_qs(body, keep_blank_values=True, strict_parsing=True),
                }
            )
            time.sleep(state.delay)
            try:
                self.send_response(state.status)
                self.send_header("Content-Length", str(len(state.body)))
                self.end_headers()
                self.wfile.write(state.body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (the timeout test)

        def log_message(self, *args: object) -> None:  # keep the test output clean
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hub"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def feed_hashes(out: Path) -> dict[str, str]:
    return {feed.relpath: feed.sha256 for feed in read_feeds(out, paths.Urls("https://example.com/"))}


def build(project: Path) -> None:
    result = run_cli("build", "-j", "1")
    assert result.exit_code == 0, result.output


def add_note(project: Path, tag: str) -> None:
    """A new note with one new tag at the end of the newest digest (2024-07-25)."""
    seed = project / "seeds" / "000_05ad73aa49aa7872.txt"
    seed.write_text(seed.read_text(encoding="utf-8") + f"\n\nA New Paper\n(Someone)\n새 노트입니다.\n#{tag}\n", "utf-8")


# --- which files are feeds ---------------------------------------------------------------------


def test_is_feed_knows_exactly_the_feeds_the_build_makes(built: Path):
    catalog = check(load_config(Path(__file__).parent.parent / "publisher.toml")).catalog
    expected = {
        paths.feed(fmt, tag)
        for tag in (None, *(summary.topic for summary in catalog.topics))
        for fmt in paths.FEED_FORMATS
    }
    found = {path.relative_to(built).as_posix() for path in built.rglob("*") if path.is_file()}
    assert {relpath for relpath in found if is_feed(relpath)} == expected
    assert len(expected) == 3 * (1 + len(catalog.topics))


@pytest.mark.parametrize(
    "relpath",
    ["archive/1.xml", "tags/math/archive/2.xml", "tags.opml", "index.html", "email/2024-07-25.txt", "send/x.json"],
)
def test_archives_pages_and_other_files_are_not_feeds(relpath: str):
    assert not is_feed(relpath)


# --- the plan (pure) -----------------------------------------------------------------------------

FEEDS = [Feed(name, f"https://example.com/{name}", name.upper()) for name in ("atom.xml", "feed.xml", "feed.json")]


def test_plan_announces_what_differs_from_the_record():
    announced = {"https://example.com/atom.xml": "ATOM.XML", "https://example.com/feed.xml": "old"}
    chosen = plan(FEEDS, announced, last_build=["feed.json"])
    assert [feed.relpath for feed in chosen.announce] == ["feed.json", "feed.xml"]  # changed, and new to the hub
    assert chosen.unchanged == 1


def test_plan_without_a_record_takes_the_last_build_else_everything():
    assert [feed.relpath for feed in plan(FEEDS, None, ["feed.xml", "index.html"]).announce] == ["feed.xml"]
    assert len(plan(FEEDS, None, []).announce) == 3
    assert len(plan(FEEDS, None, None).announce) == 3
    assert "no record" in plan(FEEDS, None, None).reason


def test_plan_all_announces_every_feed():
    announced = {feed.url: feed.sha256 for feed in FEEDS}
    assert plan(FEEDS, announced, None).announce == ()
    assert len(plan(FEEDS, announced, None, everything=True).announce) == 3


def test_a_refused_feed_keeps_its_old_record_so_that_it_is_announced_again():
    announced = {"https://example.com/atom.xml": "old", "https://example.com/feed.xml": "old"}
    chosen = plan(FEEDS, announced, None)
    record = updated_record(announced, chosen, FEEDS, delivered=["https://example.com/feed.json"])
    assert record == {"https://example.com/atom.xml": "old", "https://example.com/feed.xml": "old"} | {
        "https://example.com/feed.json": "FEED.JSON"
    }
    assert len(plan(FEEDS, record, None).announce) == 2


# --- through the CLI, against the recording hub ---------------------------------------------------


def test_first_ping_announces_every_feed_the_build_made_one_request_each(project: Path, hub: Hub):
    build(project)
    result = run_cli("ping", "--hub", hub.url)
    assert result.exit_code == 0, result.output
    feeds = feed_hashes(project / "out")
    assert len(hub.requests) == len(feeds) == 111
    for request in hub.requests:
        assert request["path"] == "/hub"
        assert request["content_type"] == "application/x-www-form-urlencoded"
        assert set(request["form"]) == {"hub.mode", "hub.url"}
        assert request["form"]["hub.mode"] == ["publish"]
        assert len(request["form"]["hub.url"]) == 1
    # Each topic is the feed's own rel="self" URL, as a real feed reader sees it.
    atom = feedparser.parse((project / "out" / "atom.xml").read_bytes())
    self_url = next(link.href for link in atom.feed.links if link.rel == "self")
    assert self_url in hub.topics
    assert sorted(hub.topics) == sorted(f"https://example.github.io/publisher/{relpath}" for relpath in feeds)
    assert "111 accepted, 0 refused" in result.output
    assert "accepted https://example.github.io/publisher/atom.xml: 204" in result.output


def test_a_second_ping_without_changes_announces_nothing(project: Path, hub: Hub):
    build(project)
    assert run_cli("ping", "--hub", hub.url).exit_code == 0
    hub.requests.clear()
    result = run_cli("ping", "--hub", hub.url)
    assert result.exit_code == 0, result.output
    assert hub.requests == []
    assert "nothing to announce: none of the 111 feeds" in result.output


def test_after_a_new_note_only_the_feeds_whose_bytes_changed_are_announced(project: Path, hub: Hub):
    build(project)
    assert run_cli("ping", "--hub", hub.url).exit_code == 0
    before = feed_hashes(project / "out")
    add_note(project, "brand-new")
    build(project)
    after = feed_hashes(project / "out")
    changed = {relpath for relpath, sha in after.items() if before.get(relpath) != sha}
    assert {"atom.xml", "feed.xml", "feed.json", "tags/brand-new/atom.xml"} <= changed < set(after)
    hub.requests.clear()
    result = run_cli("ping", "--hub", hub.url)
    assert result.exit_code == 0, result.output
    assert sorted(hub.topics) == sorted(f"https://example.github.io/publisher/{relpath}" for relpath in changed)


def test_in_ci_the_record_finds_the_changes_a_build_elsewhere_made(project: Path, hub: Hub):
    """out/ is committed: the writer's build changed the feeds; the CI build changes nothing."""
    build(project)
    assert run_cli("ping", "--hub", hub.url).exit_code == 0  # the previous CI run
    before = feed_hashes(project / "out")
    add_note(project, "brand-new")
    build(project)  # on the writer's machine
    build(project)  # in CI: nothing to write
    assert json.loads((project / ".publisher-cache" / "last-build.json").read_text())["changed"] == []
    hub.requests.clear()
    result = run_cli("ping", "--hub", hub.url)
    assert result.exit_code == 0, result.output
    changed = {relpath for relpath, sha in feed_hashes(project / "out").items() if before.get(relpath) != sha}
    assert len(hub.requests) == len(changed) > 0
    assert "since the last announcement" in result.output


def test_with_no_record_and_a_build_that_changed_nothing_every_feed_is_announced(project: Path, hub: Hub):
    """A first CI run, or one whose cache was evicted: nothing tells which feeds are new."""
    build(project)
    build(project)
    result = run_cli("ping", "--hub", hub.url)
    assert result.exit_code == 0, result.output
    assert len(hub.requests) == 111
    assert "every feed (no record" in result.output


def test_a_hub_that_refuses_fails_the_run_with_its_reason_and_is_asked_again(project: Path, hub: Hub):
    build(project)
    hub.status, hub.body = 400, b"hub.url is not a topic I know"
    result = run_cli("ping", "--hub", hub.url)
    assert result.exit_code == 1
    assert "REFUSED https://example.github.io/publisher/atom.xml: 400 Bad Request: hub.url is not a topic" in (
        result.output
    )
    assert "0 accepted, 111 refused" in result.output
    hub.status, hub.body = 202, b""
    hub.requests.clear()
    result = run_cli("ping", "--hub", hub.url)
    assert result.exit_code == 0, result.output
    assert len(hub.requests) == 111


def test_a_hub_error_on_one_feed_fails_the_run_and_only_that_feed_is_asked_again(project: Path, hub: Hub):
    build(project)
    assert run_cli("ping", "--hub", hub.url).exit_code == 0
    add_note(project, "brand-new")
    build(project)
    hub.status = 503
    hub.requests.clear()
    result = run_cli("ping", "--hub", hub.url)
    assert result.exit_code == 1
    assert "503 Service Unavailable" in result.output
    refused = set(hub.topics)
    hub.status = 204
    hub.requests.clear()
    assert run_cli("ping", "--hub", hub.url).exit_code == 0
    assert set(hub.topics) == refused


def test_an_unreachable_hub_fails_fast_after_one_request(project: Path):
    build(project)
    with socket.socket() as probe:  # a port that was free a moment ago: nobody listens there
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}/hub"
    started = time.monotonic()
    result = run_cli("ping", "--hub", closed, "--timeout", "2")
    assert result.exit_code == 1
    assert time.monotonic() - started < 2
    assert "not reached" in result.output
    assert "111 feeds not announced: the hub could not be reached" in result.output
    record = json.loads((project / ".publisher-cache" / RECORD).read_text())
    assert record[closed] == {}  # nothing was delivered: the next run announces everything


def test_a_slow_hub_is_given_up_after_the_timeout(project: Path, hub: Hub):
    build(project)
    hub.delay = 3.0
    started = time.monotonic()
    result = run_cli("ping", "--hub", hub.url, "--timeout", "0.3")
    assert result.exit_code == 1
    assert time.monotonic() - started < 2
    assert "timed out" in result.output
    assert len(hub.requests) == 1


def test_dry_run_lists_the_feeds_and_contacts_no_one(project: Path, hub: Hub):
    build(project)
    result = run_cli("ping", "--hub", hub.url, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "would announce 111 of 111 feeds" in result.output
    assert "  https://example.github.io/publisher/tags/math/feed.json" in result.output
    assert hub.requests == []
    assert not (project / ".publisher-cache" / RECORD).exists()


def test_the_configured_hub_is_used(project: Path):
    config = project / "publisher.toml"
    config.write_text(config.read_text().replace('hub = ""', 'hub = "https://hub.example.com/"'), "utf-8")
    build(project)
    result = run_cli("ping", "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("https://hub.example.com/: would announce 111 of 111 feeds")


def test_without_a_hub_ping_says_so_and_succeeds(project: Path):
    build(project)
    result = run_cli("ping")
    assert result.exit_code == 0
    assert result.output == "no WebSub hub configured (feeds.hub): nothing announced\n"


def test_ping_before_any_build_is_a_clean_error(project: Path, hub: Hub):
    result = run_cli("ping", "--hub", hub.url)
    assert result.exit_code == 1
    assert "out: no feeds here: run `publisher build` first" in result.output
    assert hub.requests == []


def test_a_bad_hub_option_is_refused(project: Path):
    result = run_cli("ping", "--hub", "ftp://hub.example.com/")
    assert result.exit_code == 1
    assert "--hub ftp://hub.example.com/: must be an absolute http(s) URL" in result.output


def test_feed_hashes_are_sha256_of_the_bytes(built: Path):
    assert feed_hashes(built)["atom.xml"] == hashlib.sha256((built / "atom.xml").read_bytes()).hexdigest()
