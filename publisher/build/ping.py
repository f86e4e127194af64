"""`publisher ping`: tell the WebSub hub which feeds changed, so subscribers get them at once.

    out/ feeds ─► SHA-256 per feed ─┐
    <cache>/websub.json ────────────┼─► plan: which feed URLs to announce ─► POST hub.mode=publish
    <cache>/last-build.json ────────┘                                            one per feed URL

Which feeds are new is decided from the bytes in out/, not from what the last build wrote: out/ is
committed, so in CI the writer's laptop did the build that changed the feeds and the CI build
changes nothing. `websub.json` remembers, per hub, the SHA-256 of every feed URL as last announced
(the workflow keeps the cache folder between runs); a feed is announced when its bytes differ from
that record. With no record for the hub (a first run, an evicted CI cache), the feeds that the last
build of this out/ added or changed are announced (`last-build.json`, written by every build); when
that names none either, every feed is: a needless ping costs the hub one fetch, a missing one
leaves subscribers waiting. A feed the hub refused keeps its old record, so the next run retries it.

`plan` is pure; reading out/, the two records and the HTTP POST (urllib, bounded by a timeout) are
the edges.
"""

from __future__ import annotations

import hashlib
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from .. import __version__
from ..digests.model import Tag
from ..errors import Diagnostic, PublisherError, shown_path
from ..render import paths
from .outdir import tree_of
from .records import LAST_BUILD, read_json, write_json

RECORD = "websub.json"
TIMEOUT = 10.0  # seconds for each request to the hub
_BODY_SHOWN = 200  # characters of a refusal's body worth printing


def is_feed(relpath: str) -> bool:
    """Whether an output path is a subscription feed (main or per tag; RFC 5005 archives are not).

    Asks paths.feed itself rather than matching names here: a tag feed lives in its tag's folder, so
    the folder's last part is the only slug that could have made this path.
    """
    folder = relpath.rpartition("/")[0]
    tag = Tag(folder.rpartition("/")[2], folder.rpartition("/")[2]) if folder else None
    return any(paths.feed(fmt, tag) == relpath for fmt in paths.FEED_FORMATS)


@dataclass(frozen=True)
class Feed:
    relpath: str  # under out/
    url: str  # public URL: the topic the hub knows, the feed's rel="self"
    sha256: str


@dataclass(frozen=True)
class Plan:
    announce: tuple[Feed, ...]  # in path order
    unchanged: int
    reason: str  # why these feeds, for the person reading the output


def plan(
    feeds: Iterable[Feed],
    announced: Mapping[str, str] | None,
    last_build: Iterable[str] | None,
    *,
    everything: bool = False,
) -> Plan:
    """Which feeds to announce: those whose bytes differ from what the hub was last told.

    `announced` maps feed URL → SHA-256 as last announced to this hub (None: never). `last_build`
    is what the last build of this out/ added or changed (None: no record of it).
    """
    feeds = sorted(feeds, key=lambda feed: feed.relpath)
    if everything:
        chosen, reason = feeds, "every feed (--all)"
    elif announced is not None:
        chosen = [feed for feed in feeds if announced.get(feed.url) != feed.sha256]
        reason = "feeds whose bytes changed since the last announcement"
    else:
        built = set(last_build or ())
        chosen = [feed for feed in feeds if feed.relpath in built]
        reason = "feeds the last build added or changed (no record of earlier announcements to this hub)"
        if not chosen:
            chosen, reason = feeds, "every feed (no record of earlier announcements to this hub, nor of a build)"
    return Plan(tuple(chosen), len(feeds) - len(chosen), reason)


def updated_record(
    announced: Mapping[str, str] | None, chosen: Plan, feeds: Iterable[Feed], delivered: Iterable[str]
) -> dict[str, str]:
    """The record after a run: URL → SHA-256 of every current feed as the hub now knows it.

    Feeds not announced are taken as known (they did not change); a feed the hub refused keeps its
    old entry, or gets none, so that the next run announces it again.
    """
    asked, accepted, before = {feed.url for feed in chosen.announce}, set(delivered), announced or {}
    record = {}
    for feed in feeds:
        if feed.url in accepted or feed.url not in asked:
            record[feed.url] = feed.sha256
        elif feed.url in before:
            record[feed.url] = before[feed.url]
    return dict(sorted(record.items()))


@dataclass(frozen=True)
class Answer:
    """The hub's answer to one publish request."""

    url: str  # the feed announced
    status: int | None  # HTTP status; None when the hub could not be reached
    reason: str

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def __str__(self) -> str:
        status = f"{self.status} {self.reason}" if self.status is not None else f"not reached: {self.reason}"
        return f"{self.url}: {status}"


Post = Callable[[str, str, float], Answer]


def publish(hub: str, feed_url: str, timeout: float = TIMEOUT) -> Answer:
    """POST `hub.mode=publish&hub.url=<feed>` (form-encoded) to the hub; the HTTP edge."""
    body = urllib.parse.urlencode({"hub.mode": "publish", "hub.url": feed_url}).encode()
    request = urllib.request.Request(
        hub,
        data=body,
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded", "User-Agent": f"publisher/{__version__}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return Answer(feed_url, response.status, response.reason)
    except urllib.error.HTTPError as error:
        detail = " ".join(error.read(4096).decode("utf-8", "replace").split())[:_BODY_SHOWN]
        return Answer(feed_url, error.code, f"{error.reason}: {detail}" if detail else str(error.reason))
    except (urllib.error.URLError, OSError) as error:  # refused, no route, DNS, timeout
        return Answer(feed_url, None, str(getattr(error, "reason", error)))


@dataclass(frozen=True)
class PingReport:
    hub: str
    plan: Plan
    answers: tuple[Answer, ...]  # one per feed asked about, in plan order
    skipped: int  # feeds not asked about: the hub could not be reached

    @property
    def accepted(self) -> int:
        return sum(1 for answer in self.answers if answer.ok)

    @property
    def refused(self) -> int:
        return sum(1 for answer in self.answers if answer.status is not None and not answer.ok)

    @property
    def unreached(self) -> int:
        """Feeds not announced because the hub could not be reached."""
        return len(self.answers) - self.accepted - self.refused + self.skipped

    @property
    def ok(self) -> bool:
        return not self.refused and not self.unreached  # (a dry run asks nothing and is fine)


def ping(
    hub: str,
    out: Path,
    cache: Path,
    base_url: str,
    *,
    everything: bool = False,
    dry_run: bool = False,
    timeout: float = TIMEOUT,
    post: Post = publish,
    on_plan: Callable[[Plan], None] | None = None,
    on_answer: Callable[[Answer], None] | None = None,
) -> PingReport:
    """Announce the changed feeds of `out` to `hub` and record what the hub accepted."""
    feeds = read_feeds(out, paths.Urls(base_url))
    if not feeds:
        raise PublisherError(Diagnostic(shown_path(out), None, "no feeds here: run `publisher build` first"))
    records = read_json(cache / RECORD)  # none, or damaged: fall back to the last build
    announced = records.get(hub)
    chosen = plan(feeds, announced, read_last_build(cache, out), everything=everything)
    if on_plan:
        on_plan(chosen)
    answers: list[Answer] = []
    if not dry_run:
        for feed in chosen.announce:
            answer = post(hub, feed.url, timeout)
            answers.append(answer)
            if on_answer:
                on_answer(answer)
            if answer.status is None:
                break  # the hub is unreachable: asking again for every feed would only wait out more timeouts
        delivered = [answer.url for answer in answers if answer.ok]
        records[hub] = updated_record(announced, chosen, feeds, delivered)
        write_json(cache / RECORD, records)
    return PingReport(hub, chosen, tuple(answers), 0 if dry_run else len(chosen.announce) - len(answers))


def read_feeds(out: Path, urls: paths.Urls) -> list[Feed]:
    """Every feed in the output folder with its public URL and the SHA-256 of its bytes."""
    if not out.is_dir():
        return []
    found = []
    for path in out.rglob("*"):
        relpath = path.relative_to(out).as_posix()
        if is_feed(relpath) and path.is_file():  # the name first: out/ holds thousands of other files
            found.append(Feed(relpath, urls.public(relpath), hashlib.sha256(path.read_bytes()).hexdigest()))
    return sorted(found, key=lambda feed: feed.relpath)


def read_last_build(cache: Path, out: Path) -> tuple[str, ...] | None:
    """What the last build added or changed, when that build wrote this output folder."""
    record = read_json(cache / LAST_BUILD)
    if not record or Path(record.get("out", "")).resolve() != out.resolve() or record.get("tree") != tree_of(out):
        return None  # no record, or out/ was built since by a build that kept none (--no-cache, another cache)
    return tuple(record.get("added", ())) + tuple(record.get("changed", ()))
