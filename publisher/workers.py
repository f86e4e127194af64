"""Per-digest rendering in worker processes, skipping what the cache already holds.

Results come back in job order whatever the number of workers, so the output never depends on
`--jobs`. Workers receive the context once (at start-up), then only small jobs.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor

from .cache import PartsCache, pack
from .context import Context
from .output import Fragments, Group, Output
from .render import DigestJob, DigestParts, render_digest

Progress = Callable[[int], None]  # called with the number of digests just finished

# Below this many units to render, or groups to make, starting processes costs more than it saves.
MIN_PARALLEL = 8
MIN_PARALLEL_GROUPS = 100

_worker_context: Context | None = None


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _start_worker(context: Context) -> None:
    global _worker_context
    _worker_context = context


def _render_in_worker(job: DigestJob) -> tuple[DigestParts, bytes]:
    """Render and pack in the worker: compressing for the cache is done in parallel too, and the
    parent gets the parts as they are (bytes cross the pipe faster than the parent could unpack)."""
    assert _worker_context is not None
    parts = render_digest(job, _worker_context)
    return parts, pack(parts)


def render_digests(
    jobs: list[DigestJob],
    keys: list[str],
    context: Context,
    *,
    workers: int,
    cache: PartsCache | None,
    progress: Progress | None = None,
) -> Iterator[tuple[DigestJob, DigestParts, bool]]:
    """Every job's parts in job order (keys: their cache keys), and whether each was rendered (a miss)."""
    cached = [cache.get(key) if cache else None for key in keys]
    missing = [job for job, parts in zip(jobs, cached, strict=True) if parts is None]
    rendered = iter(_render(missing, context, workers))
    for job, key, parts in zip(jobs, keys, cached, strict=True):
        miss = parts is None
        if miss:
            parts, blob = next(rendered)
            if cache:
                cache.put(key, blob or pack(parts))
        if progress:
            progress(1)
        yield job, parts, miss


def _render(jobs: list[DigestJob], context: Context, workers: int) -> Iterator[tuple[DigestParts, bytes | None]]:
    if workers <= 1 or len(jobs) < MIN_PARALLEL:
        yield from ((render_digest(job, context), None) for job in jobs)
        return
    with _pool(workers, initializer=_start_worker, initargs=(context,)) as pool:
        chunk = max(1, min(16, len(jobs) // (workers * 8)))
        yield from pool.map(_render_in_worker, jobs, chunksize=chunk)


# Aggregate groups hold closures over the catalog: workers get them by fork, not by pickling.
_forked: tuple[list[Group], Fragments] | None = None


def _make_in_fork(index: int) -> list[Output]:
    assert _forked is not None
    groups, fragments = _forked
    return groups[index].make(fragments)


def make_groups(groups: list[Group], fragments: Fragments, workers: int) -> Iterator[list[Output]]:
    """Each group's outputs, in order; in forked workers when that is safe (no other thread runs in
    this process, as under `publisher serve`, and the system can fork), else one after another."""
    global _forked
    if workers <= 1 or len(groups) < MIN_PARALLEL_GROUPS or not _can_fork():
        yield from (group.make(fragments) for group in groups)
        return
    _forked = (groups, fragments)
    try:
        with _pool(workers) as pool:
            yield from pool.map(_make_in_fork, range(len(groups)), chunksize=4)
    finally:
        _forked = None


def _can_fork() -> bool:
    """Forking is safe only while no other thread runs here (`publisher serve` runs a server)."""
    return threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods()


def _pool(workers: int, **options: object) -> ProcessPoolExecutor:
    """Forked workers start at once and need no `if __name__ == "__main__"` in the caller's script;
    with other threads running, forkserver is the safe choice."""
    method = "fork" if _can_fork() else "forkserver"
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context(method), **options)
