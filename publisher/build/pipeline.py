"""`publisher build` and `publisher check`: the whole pipeline, stage by stage.

seeds/*.txt ─► sources ─► parse ─► catalog ─► render ─► writer ─► out/
                                               │  per digest: workers + cache
                                               └─ aggregates: feeds, pages
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..config import Config
from ..digests.catalog import Catalog, make_catalog
from ..digests.model import Digest
from ..digests.parse import parse_sources
from ..digests.sources import read_sources
from ..errors import Diagnostic, SourceError
from ..render.context import Context
from ..render.output import Group, group_key
from ..render.templating import load_theme
from ..render.units import UNITS, DigestJob, DigestParts, aggregate_groups, content_key, digest_jobs
from . import uptodate
from .cache import KeptReading, ParseCache, PartsCache, context_key, job_key, theme_key
from .outdir import LOCK_WAIT, trusted
from .records import out_record, read_json, record_last_build, write_json
from .search import search_groups
from .workers import default_jobs, make_groups, render_digests
from .writer import Writer, WriteReport

# (stage, done, total): for a progress display; total 0 when the stage has no count.
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Checked:
    """The result of reading every digest: a catalog when there were no errors."""

    catalog: Catalog | None
    digests: tuple[Digest, ...]  # every digest that parsed, even when the catalog could not be made
    warnings: tuple[Diagnostic, ...]
    errors: tuple[Diagnostic, ...]


@dataclass(frozen=True)
class BuildReport:
    catalog: Catalog
    warnings: tuple[Diagnostic, ...]
    write: WriteReport
    seconds: float
    stages: dict[str, float] = field(default_factory=dict)  # seconds per stage
    rendered: int = 0  # per-digest units rendered (email, page, feed); the rest were kept or cached
    search_pending: bool = False  # built without the indexer and out/ keeps an out-of-date search index


def check(config: Config, *, use_cache: bool = False, kept: KeptReading | None = None) -> Checked:
    """Read and parse every digest and index them; collect every problem instead of stopping.

    With `use_cache`, digests whose bytes did not change come from the parse cache. With `kept`
    (`publisher serve`), files unchanged since the last reading are neither read nor parsed again."""
    try:
        sources = read_sources(config.paths.seeds, kept.sources if kept is not None else None)
    except SourceError as error:
        return Checked(None, (), (), tuple(error.diagnostics))
    if kept is not None:
        digests, diagnostics = parse_sources(sources, kept.parse)
        kept.done()
    elif use_cache:
        with ParseCache(config.paths.cache) as cache:
            digests, diagnostics = parse_sources(sources, cache.parse)
    else:
        digests, diagnostics = parse_sources(sources)
    warnings = tuple(d for d in diagnostics if d.severity == "warning")
    errors = [d for d in diagnostics if d.severity == "error"]
    catalog = None
    try:
        catalog = make_catalog(digests, config.topics.aliases, config.source)
        warnings += catalog.warnings
    except SourceError as error:
        errors += error.diagnostics
    return Checked(None if errors else catalog, tuple(digests), warnings, tuple(errors))


def build(
    config: Config,
    *,
    strict: bool = False,
    jobs: int | None = None,
    use_cache: bool = True,
    dry_run: bool = False,
    progress: Progress | None = None,
    wait: float = LOCK_WAIT,
    on_wait: Callable[[str], None] | None = None,
    index_search: bool = True,
    inputs: uptodate.Inputs | None = None,
    checked: Checked | None = None,
    kept: KeptReading | None = None,
) -> BuildReport:
    """Read, parse, index, render and write; raise before writing anything if a digest is bad.

    With `dry_run`, nothing is written and nothing is taken from the cache or kept: the report says
    how `out/` differs from a fresh build (`publisher build --check`). Without `use_cache`, nothing
    is read from or written to the cache folder. A build of an output folder that another build is
    writing waits for it up to `wait` seconds (`on_wait` hears that it does). Without
    `index_search`, the search indexer does not run: when the index is out of date, out/ keeps the
    old one as it is and the report says so (`serve` shows a saved digest first, indexes after).
    `inputs` is the caller's stat of the inputs, taken before anything was read (the command line's
    up-to-date check); `checked` the digests the caller has just read (`serve`'s preview): a build
    given them records no up-to-date state, as its reading was not preceded by its own stat. `kept`:
    what the caller keeps of the digests between builds (`serve`), read in place of the parse cache.
    """
    started = time.perf_counter()
    stages: dict[str, float] = {}
    tick = _stopwatch(stages)
    reuse = use_cache and not dry_run
    if checked is None:
        # Stat before reading: an edit from here on is seen by the next build.
        found = (inputs or uptodate.inputs(config)) if reuse else None
        checked = check(config, use_cache=reuse, kept=kept if reuse else None)
    else:
        found = None
    if checked.catalog is None or (strict and checked.warnings):
        raise SourceError(list(checked.errors + checked.warnings))
    theme = load_theme(config.paths.templates)
    if reuse:  # compiled templates kept between builds: a small build need not compile them all again
        theme = dataclasses.replace(theme, compiled=str(config.paths.cache / "templates"))
    context = Context(config, theme)
    tick("parse")
    manifest = out_record(config, "out") if use_cache else None
    with Writer(config.paths.out, manifest, dry_run=dry_run, wait=wait, on_wait=on_wait) as writer:
        run = _Run(checked.catalog, context, writer, reuse, jobs or default_jobs(), progress, index_search)
        try:
            run.render()
            tick("digests")
            run.aggregates()
            tick("aggregates")
            report = run.commit()
            tick("write")
            if reuse:  # under the lock: out/ is still the tree this build made
                _remember_inputs(config, found, checked, run.search_pending, writer.files)
        except BaseException:
            run.forget()
            raise
    if reuse:
        run.remember()
        record_last_build(config, writer.tree, report.added, report.changed, report.removed)
    seconds = time.perf_counter() - started
    return BuildReport(checked.catalog, checked.warnings, report, seconds, stages, run.rendered, run.search_pending)


class _Run:
    """One build's render stage: what to keep, what to take from the cache, what to render.

    Every output belongs to a group with a key: one unit of a digest (its email files, or its web
    page; keyed by the digest, the templates the unit uses, the config and the code) or an
    aggregate group (keyed by what it shows, see render.aggregate_groups). A group whose key made
    files last time, and whose files are still intact in out/, is kept as it is; any other is made,
    from the cache when it holds the unit. Feed fragments are loaded only for groups being made.
    """

    def __init__(
        self,
        catalog: Catalog,
        context: Context,
        writer: Writer,
        reuse: bool,
        workers: int,
        progress: Progress | None,
        index_search: bool = True,
    ) -> None:
        config = context.config
        self.catalog, self.context, self.writer, self.reuse = catalog, context, writer, reuse
        self.workers, self.progress = workers, progress
        self.cache = PartsCache(config.paths.cache) if reuse else None
        self.groups_path = out_record(config, "groups")
        self.shared = context_key(context)
        self.content = {digest.date: content_key(digest) for digest in catalog.digests}
        self.jobs = digest_jobs(catalog)
        self.job_keys = {
            (job.unit, job.digest.date): job_key(job, context, self.shared, self.content[job.digest.date])
            for job in self.jobs
        }
        # Trusted only while out/ holds the tree it was written for (another build may have replaced it).
        self.written = trusted(read_json(self.groups_path), config.paths.out, "groups") if reuse else {}
        self.found_tree = writer.tree  # the tree in out/ that `written` describes (when not empty)
        self.groups: dict[str, list[str]] = {}
        self.fragments: dict[dt.date, tuple[str, ...]] = {}
        self.todo_groups: list[tuple[str, Group]] = []
        self.staging: Path | None = None  # set when workers write new files into staging themselves
        self.rendered = 0
        self.index_search, self.search_pending = index_search, False
        self.search_bundles: dict[str, str] = {}  # group key of each shard's search index → its folder

    def render(self) -> None:
        """Decide what to keep, then render every unit still needed in one batch (workers, cache):
        the email files and pages not kept, and the feed fragments of the groups to be made."""
        self.todo_groups = [(key, group) for key, group in self._aggregate_groups() if not self._keep(key)]
        if not self.index_search:
            self._defer_search()
        needed = {date for _, group in self.todo_groups for date in group.needs}
        todo = [
            job
            for job in self.jobs
            if (job.digest.date in needed if job.unit == "feed" else not self._keep(self._key(job)))
        ]
        if any(job.unit == "email" for job in todo):
            self._prepare_email()
        # A first build: every file is new, so workers write them into staging themselves.
        self.staging = self.writer.fresh_staging() if self.workers > 1 else None
        done = [0]

        def advance(count: int) -> None:
            done[0] += count
            if self.progress:
                self.progress("render", done[0], len(todo))

        for job, parts in zip(todo, self._parts(todo, advance), strict=True):
            if parts.outputs:
                for output in parts.outputs:
                    self.writer.add(output)
                self.groups[self._key(job)] = [output.relpath for output in parts.outputs]

    def aggregates(self) -> None:
        """Make the feeds and pages whose groups were not kept."""
        if self.progress:
            self.progress("feeds and pages", 0, 0)
        groups = [group for _, group in self.todo_groups]
        slow = sum(key in self.search_bundles for key, _ in self.todo_groups)  # they come first
        made = make_groups(groups, self.fragments, self.workers, self.staging, alone=slow)
        for (key, _), outputs in zip(self.todo_groups, made, strict=True):
            for output in outputs:
                self.writer.add(output)
            self.groups[key] = [output.relpath for output in outputs]

    def commit(self) -> WriteReport:
        """Swap the new out/ in. The record of which files each group made names the tree it was
        written for: one that outlived its out/ (a build killed before `remember`, a build with
        --no-cache or another config) no longer matches out/ and is not used."""
        return self.writer.commit()

    def _prepare_email(self) -> None:
        """Inline the email template once a build, here rather than in every worker, or take it from
        the cache: then rendering a single issue (one digest added) needs no premailer at all."""
        from ..render.issues import prepare_email

        if self.cache is None:
            prepared = prepare_email(self.context)
        else:
            key = group_key("email-template", self.shared, theme_key(self.context, UNITS["email"]))
            prepared = self.cache.prepared(key, lambda: prepare_email(self.context))
        self.context = dataclasses.replace(self.context, prepared=prepared)

    def _aggregate_groups(self) -> list[tuple[str, Group]]:
        # The search index first, a group a shard: the slowest groups, so they start while the others
        # are made, each in a worker of its own (make_groups).
        shards = search_groups(self.catalog, self.context, self.content)
        groups = [*(group for _, group in shards), *aggregate_groups(self.catalog, self.context, self.content)]
        keyed = [(group_key(self.shared, theme_key(self.context, g.uses), g.key), g) for g in groups]
        self.search_bundles = {key: bundle for (key, _), (bundle, _) in zip(keyed[: len(shards)], shards, strict=True)}
        return keyed

    def _defer_search(self) -> None:
        """Leave every out-of-date shard of the search index out of this build: out/ keeps the files
        of each one's old index (when intact; else none) and the report asks for a build with the
        indexer. The shards that are up to date were kept as usual."""
        stale = {key for key, _ in self.todo_groups if key in self.search_bundles}
        self.todo_groups = [(key, group) for key, group in self.todo_groups if key not in stale]
        for key in sorted(stale, key=self.search_bundles.__getitem__):
            self.writer.keep_all(self.writer.existing(f"{self.search_bundles[key]}/"))
        self.search_pending = bool(stale)

    def remember(self) -> None:
        """Keep what this build used: cache entries of its digests, and which files each group made."""
        assert self.cache is not None
        self.cache.close(keep=set(self.job_keys.values()))
        if self.groups != self.written or self.writer.tree != self.found_tree:
            write_json(self.groups_path, {"tree": self.writer.tree, "groups": self.groups})

    def forget(self) -> None:
        """After a failed build: keep what was rendered (it is correct), record nothing else."""
        if self.cache is not None:
            self.cache.close()

    def _key(self, job: DigestJob) -> str:
        return self.job_keys[(job.unit, job.digest.date)]

    def _keep(self, key: str) -> bool:
        if self.reuse and self.writer.keep_all(self.written.get(key)):
            self.groups[key] = self.written[key]
            return True
        return False

    def _parts(self, todo: list[DigestJob], progress: Callable[[int], None] | None = None) -> Iterator[DigestParts]:
        keys = [self._key(job) for job in todo]
        for job, parts, miss in render_digests(
            todo, keys, self.context, workers=self.workers, cache=self.cache, progress=progress, staging=self.staging
        ):
            self.rendered += miss
            if job.unit == "feed":
                self.fragments[job.digest.date] = parts.fragments
            yield parts


def _remember_inputs(
    config: Config, found: uptodate.Inputs | None, checked: Checked, search_pending: bool, files: dict[str, list]
) -> None:
    """What lets the next build with the same inputs stop at once; nothing when out/ is left with an
    out-of-date search index on purpose (the next build must make it)."""
    catalog = checked.catalog
    if found is None or catalog is None or search_pending:
        uptodate.forget(config)
        return
    warnings = [str(warning) for warning in checked.warnings]
    counts = (len(catalog.digests), catalog.entry_count, len(catalog.topics))
    uptodate.remember(config, found, files, counts, warnings)


def _stopwatch(stages: dict[str, float]) -> Callable[[str], None]:
    last = [time.perf_counter()]

    def tick(stage: str) -> None:
        now = time.perf_counter()
        stages[stage] = stages.get(stage, 0.0) + now - last[0]
        last[0] = now

    return tick
