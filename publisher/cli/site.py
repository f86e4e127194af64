"""The site commands: `publisher check`, `tags`, `build`, `serve`, `ping`, `new`: options in, one call out."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Iterator
from typing import Any

import click

from ..config import Config
from ..errors import PublisherError
from .options import common_options


@click.command()
@common_options
@click.option("--json", "as_json", is_flag=True, help="Print the whole parsed model as one JSON document.")
@click.option("--strict", is_flag=True, help="Treat warnings as errors (exit 1 on any warning).")
def check(config: Config, as_json: bool, strict: bool) -> None:
    """Read every digest and report problems, without writing anything.

    Prints one line per digest (date, number of entries, tags), then every warning and error as
    `path:line: message`. Exits 1 when there are errors (or warnings, with --strict).
    """
    from ..build.pipeline import check as check_digests
    from ..build.report import digests_json, summary_line

    checked = check_digests(config)
    digests = sorted(checked.digests, key=lambda d: (d.date, d.source), reverse=True)  # tags as written
    if as_json:
        topic_slug = (lambda name: checked.catalog.topic_of(name).slug) if checked.catalog else None
        document = {
            "digests": digests_json(digests, topic_slug),
            "warnings": [d.as_json() for d in checked.warnings],
            "errors": [d.as_json() for d in checked.errors],
        }
        click.echo(json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True))
    else:
        for digest in digests:
            click.echo(summary_line(digest))
        for diagnostic in checked.warnings + checked.errors:
            click.echo(str(diagnostic), err=True)
    if checked.errors or (strict and checked.warnings):
        sys.exit(1)


@click.command()
@common_options
@click.option(
    "--suggest", is_flag=True, help="Also list topics that look like duplicates, with the alias to join them."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document, for scripts.")
def tags(config: Config, suggest: bool, as_json: bool) -> None:
    """List every topic: notes, spellings, first and last date, feed.

    Tags that differ only in case, Unicode form or separators (`-`, `_`, `.`) are one topic, and so
    are the spellings that `[topics.aliases]` in the config joins. Exits 1 when a digest has errors.
    """
    from ..build.pipeline import check as check_digests
    from ..build.report import topics_json, topics_lines

    checked = check_digests(config)
    for diagnostic in checked.warnings + checked.errors:
        click.echo(str(diagnostic), err=True)
    if checked.catalog is None:
        sys.exit(1)
    if as_json:
        click.echo(json.dumps(topics_json(checked.catalog, suggest), ensure_ascii=False, indent=2, sort_keys=True))
    else:
        for line in topics_lines(checked.catalog, suggest):
            click.echo(line)


@click.command()
@common_options
@click.option("--strict", is_flag=True, help="Treat warnings as errors: write nothing on any warning.")
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    help="Worker processes for rendering. Default: the number of CPU cores. Output is the same for any number.",
)
@click.option(
    "--no-cache",
    is_flag=True,
    help="Render everything again and compare every file by its bytes; read and write nothing in the cache "
    "folder (beside the output folder only its lock file, as every build).",
)
@click.option(
    "--wait",
    type=click.FloatRange(min=0),
    default=600,
    show_default=True,
    metavar="SECONDS",
    help="When another build is writing the same output folder (any config), wait this long for it, then stop.",
)
@click.option(
    "--check",
    "check_only",
    is_flag=True,
    help="Write nothing; compare a fresh build with the output folder and list every stale, missing or "
    "extra file (exit 1 when any).",
)
def build(config: Config, strict: bool, jobs: int | None, no_cache: bool, wait: float, check_only: bool) -> None:
    """Build feeds, email issues and web pages from the digests into the output folder.

    Nothing is written when a digest has an error; the output folder is replaced in one step, so
    it always holds one complete build. Files whose bytes did not change are left untouched, and
    digests that did not change are not rendered again (the cache is in paths.cache). When no
    digest, template, config or output changed since the last build, it says so after a stat of
    each, without rendering anything.
    """
    from ..errors import shown_path

    out = shown_path(config.paths.out)
    inputs = None
    if not (no_cache or check_only):
        inputs = _inputs_if_changed(config, out, strict)
        if inputs is None:
            return
    from ..build.pipeline import build as run_build

    with _progress_display() as progress:
        report = run_build(
            config,
            strict=strict,
            jobs=jobs,
            use_cache=not no_cache,
            dry_run=check_only,
            progress=progress,
            wait=wait,
            on_wait=lambda message: click.echo(message, err=True),
            inputs=inputs,
        )
    for warning in report.warnings:
        click.echo(str(warning), err=True)
    write, catalog = report.write, report.catalog
    if check_only:
        problems = (
            [f"{out}/{path}: stale (differs from a fresh build)" for path in write.changed]
            + [f"{out}/{path}: missing" for path in write.added]
            + [f"{out}/{path}: extra (a fresh build does not make it)" for path in write.removed]
        )
        for problem in problems:
            click.echo(problem, err=True)
        if problems:
            click.echo(f"{out} is not what the sources give: run `publisher build`", err=True)
            sys.exit(1)
        click.echo(f"{out} is up to date: {write.unchanged} files match a fresh build")
        return
    counts = (len(catalog.digests), catalog.entry_count, len(catalog.topics))
    changes = (len(write.written), write.unchanged, len(write.removed), report.rendered)
    click.echo(_built_line(out, *counts, *changes, report.seconds))


def _inputs_if_changed(config: Config, out: str, strict: bool) -> Any:
    """The inputs' stat (build/uptodate.py), for the build to record; None when out/ already holds the
    build of exactly these inputs: then this says so as a build that changed nothing would, without
    loading the pipeline."""
    import time

    from ..build.uptodate import inputs, up_to_date

    started = time.perf_counter()
    found = inputs(config)
    summary = up_to_date(config, found, strict=strict)
    if summary is None:
        return found
    for warning in summary.warnings:
        click.echo(warning, err=True)
    counts = (summary.digests, summary.entries, summary.topics)
    click.echo(_built_line(out, *counts, 0, summary.files, 0, 0, time.perf_counter() - started))
    return None


def _built_line(
    out: str,
    digests: int,
    entries: int,
    topics: int,
    written: int,
    unchanged: int,
    removed: int,
    rendered: int,
    seconds: float,
) -> str:
    return (
        f"built {digests} digests, {entries} entries, {topics} topics into {out}: {written} written, {unchanged} "
        f"unchanged, {removed} removed ({rendered} parts rendered, the rest kept or cached) in {seconds:.2f} s"
    )


@contextlib.contextmanager
def _progress_display() -> Iterator[Callable[[str, int, int], None] | None]:
    """Stage and count on one terminal line (stderr), only when it is a terminal."""
    if not sys.stderr.isatty():
        yield None
        return
    shown = [""]

    def progress(stage: str, done: int, total: int) -> None:
        line = f"{stage}: {done}/{total}" if total else f"{stage}…"
        if line != shown[0] and (not total or done == total or done % 25 == 0):
            click.echo(f"\r\033[K{line}", nl=False, err=True)
            shown[0] = line

    try:
        yield progress
    finally:
        if shown[0]:
            click.echo("\r\033[K", nl=False, err=True)


@click.command()
@common_options
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="TCP port; 0 picks a free one."
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
def serve(config: Config, port: int, host: str) -> None:
    """Build, serve the output folder over HTTP, and rebuild whenever an input changes.

    Watches the digests, the templates and the config file (every 0.2 s; less often for a large
    archive) and rebuilds on any change, printing what changed and how long the rebuild took. A
    saved digest's page is served at once, rendered alone, while the rest is rebuilt. A digest with
    an error is reported as `path:line: message` and the last good build stays online. Ctrl-C stops.
    """
    from ..build.serve import reloader
    from ..build.serve import serve as run_server

    seeds = click.get_current_context().params["seeds"]
    run_server(config, host=host, port=port, reload=reloader(config, seeds))


@click.command()
@common_options
@click.option("--hub", "hub_url", metavar="URL", help="The hub to announce to. Overrides feeds.hub.")
@click.option("--all", "everything", is_flag=True, help="Announce every feed, changed or not.")
@click.option("--dry-run", is_flag=True, help="Print what would be announced; contact no hub, record nothing.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True, max=120),
    default=10.0,
    show_default=True,
    help="Seconds to wait for the hub, per request.",
)
def ping(config: Config, hub_url: str | None, everything: bool, dry_run: bool, timeout: float) -> None:
    """Tell the WebSub hub (feeds.hub) which feeds in the output folder changed.

    POSTs hub.mode=publish and hub.url=FEED for each feed whose bytes differ from what was last
    announced to the hub (recorded in paths.cache/websub.json); with no record, the feeds the last
    build changed, or else every feed. Exits 1 when the hub refuses a request or cannot be reached
    (the refused feeds are announced again next time); without a hub it only says so (exit 0).
    """
    from urllib.parse import urlsplit

    from ..build.ping import ping as announce
    from ..errors import shown_path

    hub = config.feeds.hub if hub_url is None else hub_url
    if hub and (urlsplit(hub).scheme not in ("http", "https") or not urlsplit(hub).hostname):
        raise PublisherError(f"--hub {hub}: must be an absolute http(s) URL")
    if not hub:
        click.echo("no WebSub hub configured (feeds.hub): nothing announced")
        return
    out = shown_path(config.paths.out)

    def on_plan(plan: Any) -> None:
        total = len(plan.announce) + plan.unchanged
        if not plan.announce:
            click.echo(f"{hub}: nothing to announce: none of the {total} feeds in {out} changed since last announced")
        else:
            verb = "would announce" if dry_run else "announcing"
            click.echo(f"{hub}: {verb} {len(plan.announce)} of {total} feeds in {out}: {plan.reason}")
            if dry_run:
                for feed in plan.announce:
                    click.echo(f"  {feed.url}")

    def on_answer(answer: Any) -> None:
        click.echo(f"  {'accepted' if answer.ok else 'REFUSED'} {answer}", err=not answer.ok)

    report = announce(
        hub,
        config.paths.out,
        config.paths.cache,
        config.site.base_url,
        everything=everything,
        dry_run=dry_run,
        timeout=timeout,
        on_plan=on_plan,
        on_answer=on_answer,
    )
    if report.answers:
        click.echo(f"{report.accepted} accepted, {report.refused} refused")
    if report.unreached:
        click.echo(f"{report.unreached} feeds not announced: the hub could not be reached", err=True)
    if not report.ok:
        sys.exit(1)


@click.command()
@common_options
@click.option(
    "--date",
    "day",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    metavar="YYYY-MM-DD",
    help="The digest's date. Default: today in site.timezone.",
)
def new(config: Config, day: Any) -> None:
    """Start a digest: write DATE.txt with the date line and one entry to fill in, into the seeds folder.

    Refuses to overwrite a file, or to start a second digest of a date that already has one.
    Prints the new file's path.
    """
    import datetime as dt

    from ..build.pipeline import check as check_digests
    from ..digests.scaffold import create, today
    from ..errors import shown_path

    date = day.date() if day else today(config.site.timezone, dt.datetime.now(dt.UTC))
    click.echo(shown_path(create(config, date, check_digests(config, use_cache=True).digests)))


COMMANDS = (check, tags, build, serve, ping, new)
