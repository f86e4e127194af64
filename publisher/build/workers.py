"""Per-digest rendering in worker processes, skipping what the cache already holds.

Results come back in job order whatever the number of workers, so the output never depends on
`--jobs`. Workers receive the context once (at start-up), then only small jobs.
"""

from __future__ import annotations

import collections
import contextlib
import ctypes
import os
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from ..render.context import Context
from ..render.output import Fragments, Group, Output
from ..render.units import DigestJob, DigestParts, cached_form, from_cache, render_digest
from .cache import PartsCache, pack
from .writer import Staged, stage

if TYPE_CHECKING:  # multiprocessing loads only when a build starts workers (not on a no-op build)
    from concurrent.futures import ProcessPoolExecutor

T = TypeVar("T")
R = TypeVar("R")
Progress = Callable[[int], None]  # called with the number of digests just finished

# Below this many units to render, or groups to make, starting processes costs more than it saves.
MIN_PARALLEL = 8
MIN_PARALLEL_GROUPS = 100

_worker_context: Context | None = None


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


_worker_staging: Path | None = None  # set when workers write their outputs themselves


def _start_worker(context: Context, staging: Path | None) -> None:
    global _worker_context, _worker_staging
    _worker_context, _worker_staging = context, staging


# Units worth caching. An issue page renders in about half a millisecond, less than its cache entry
# costs to write and read back; a kept page never renders anyway (pipeline.py).
CACHED_UNITS = frozenset({"email", "feed"})


def _render_in_worker(job: DigestJob) -> tuple[DigestParts, bytes | None]:
    """Render and pack in the worker: compressing for the cache is done in parallel too, and the
    parent gets the parts as they are (bytes cross the pipe faster than the parent could unpack)."""
    assert _worker_context is not None
    parts = render_digest(job, _worker_context)
    blob = pack(cached_form(job, parts)) if job.unit in CACHED_UNITS else None
    if _worker_staging is not None:
        parts = DigestParts(tuple(stage(_worker_staging, output) for output in parts.outputs), parts.fragments)
    return parts, blob


def render_digests(
    jobs: list[DigestJob],
    keys: list[str],
    context: Context,
    *,
    workers: int,
    cache: PartsCache | None,
    progress: Progress | None = None,
    staging: Path | None = None,
) -> Iterator[tuple[DigestJob, DigestParts, bool]]:
    """Every job's parts in job order (keys: their cache keys), and whether each was rendered (a miss).

    With `staging` (a fresh staging folder), workers write the outputs there themselves and the parts
    carry `Staged` records in their place."""
    cached = [_cached(cache, job, key) for job, key in zip(jobs, keys, strict=True)]
    missing = [job for job, parts in zip(jobs, cached, strict=True) if parts is None]
    rendered = iter(_render(missing, context, workers, staging))
    for job, key, parts in zip(jobs, keys, cached, strict=True):
        miss = parts is None
        if miss:
            parts, blob = next(rendered)
            if cache and job.unit in CACHED_UNITS:
                cache.put(key, blob or pack(cached_form(job, parts)))
        if progress:
            progress(1)
        yield job, parts, miss


def _cached(cache: PartsCache | None, job: DigestJob, key: str) -> DigestParts | None:
    """The unit's parts from the cache; None when it does not hold them, or holds them damaged."""
    parts = cache.get(key) if cache is not None and job.unit in CACHED_UNITS else None
    try:
        return None if parts is None else from_cache(job, parts)
    except Exception:  # a damaged entry only costs the time to render it again
        return None


def _render(
    jobs: list[DigestJob], context: Context, workers: int, staging: Path | None
) -> Iterator[tuple[DigestParts, bytes | None]]:
    if workers <= 1 or len(jobs) < MIN_PARALLEL:
        yield from ((render_digest(job, context), None) for job in jobs)
        return
    with _pool(workers, initializer=_start_worker, initargs=(context, staging)) as pool:
        chunk = max(1, min(16, len(jobs) // (workers * 8)))
        yield from _bounded_map(pool, _render_in_worker, _chunks(jobs, chunk), workers)


# Aggregate groups hold closures over the catalog: workers get them by fork, not by pickling.
_forked: tuple[list[Group], Fragments, Path | None] | None = None


def _make_in_fork(index: int) -> list[Output] | list[Staged]:
    assert _forked is not None
    groups, fragments, staging = _forked
    outputs = groups[index].make(fragments)
    return outputs if staging is None else [stage(staging, output) for output in outputs]


def make_groups(
    groups: list[Group], fragments: Fragments, workers: int, staging: Path | None = None, alone: int = 0
) -> Iterator[list[Output] | list[Staged]]:
    """Each group's outputs, in order; in forked workers when that is safe (no other thread runs in
    this process, as under `publisher serve`, and the system can fork), else one after another.
    With `staging`, forked workers write the outputs there and return `Staged` records.

    The first `alone` groups are slow (the search index, a shard each: seconds, where the others take
    milliseconds): each goes to a worker on its own, so that they run side by side rather than in
    one chunk, and two of them are reason enough to start workers."""
    global _forked
    if workers <= 1 or (len(groups) < MIN_PARALLEL_GROUPS and alone < 2) or not _can_fork():
        yield from (group.make(fragments) for group in groups)
        return
    _forked = (groups, fragments, staging)
    numbers = list(range(len(groups)))
    try:
        with _pool(workers) as pool:
            chunks = _chunks(numbers[:alone], 1) + _chunks(numbers[alone:], 4)
            yield from _bounded_map(pool, _make_in_fork, chunks, workers)
    finally:
        _forked = None


def _chunks(items: list[T], size: int) -> list[list[T]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _run_chunk(function: Callable[[T], R], chunk: list[T]) -> list[R]:
    return [function(item) for item in chunk]


def _bounded_map(
    pool: ProcessPoolExecutor, function: Callable[[T], R], chunks: list[list[T]], workers: int
) -> Iterator[R]:
    """pool.map over chunks, in order, but with only a few chunks in flight: Executor.map submits
    everything at once, and finished results then wait in memory while the build writes (hundreds
    of MB)."""
    pending: collections.deque = collections.deque()
    for piece in chunks:
        pending.append(pool.submit(_run_chunk, function, piece))
        if len(pending) >= 2 * workers:
            yield from pending.popleft().result()
    while pending:
        yield from pending.popleft().result()


def _can_fork() -> bool:
    """Forking is safe only while no other thread runs here (`publisher serve` runs a server)."""
    import multiprocessing

    return threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods()


def _pool(workers: int, initializer: Callable[..., None] | None = None, initargs: tuple = ()) -> ProcessPoolExecutor:
    """Forked workers start at once and need no `if __name__ == "__main__"` in the caller's script;
    with other threads running, forkserver is the safe choice."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    method = "fork" if _can_fork() else "forkserver"
    parent = os.getpid() if method == "fork" else None  # a forkserver's workers are the server's children
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context(method),
        initializer=_start_child,
        initargs=(parent, initializer, initargs),
    )


_PR_SET_PDEATHSIG = 1


def _start_child(parent: int | None, initializer: Callable[..., None] | None, initargs: tuple) -> None:
    """A worker dies with the process that started it. A build killed with SIGKILL (by hand, by CI's
    timeout, by the OOM killer) cannot shut its pool down, and its idle workers would live on for
    ever, holding its output pipes open, so that whoever waits for the build's output waits too."""
    with contextlib.suppress(OSError, AttributeError):  # Linux only; elsewhere a normal shutdown ends them
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if parent is not None and os.getppid() != parent:
        os._exit(1)  # the build died before the line above ran
    if initializer is not None:
        initializer(*initargs)
