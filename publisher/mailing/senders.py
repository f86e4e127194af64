"""`publisher send --workers N`: N sender processes on this machine, each a run of its own, over one store.

Each process runs `send.send_issue` with its own SMTP connections and its own ledger connection;
the ledger's claims split the list between them exactly as between senders on several machines
(on PostgreSQL, row locks; on SQLite, one writer at a time). Their summaries are merged into one:
for each subscriber, the outcome of the process that did something about them (a copy one worker
sent is "taken by another run" to the others).
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import multiprocessing
from typing import Any

from ..errors import SendError
from .outcomes import Outcome, Status, Summary
from .send import send_issue

# When workers disagree about a subscriber, the first of these wins: what was done beats what was seen.
_PRECEDENCE: tuple[Status, ...] = (
    "sent",
    "written",
    "failed",
    "not attempted",
    "pending",
    "already sent",
    "suppressed",
    "paused",
    "filtered out",
    "taken by another run",
)


def send_with_workers(date: dt.date, workers: int, **arguments: Any) -> Summary:
    """Send DATE from `workers` processes at once (fresh interpreters: nothing inherited but the
    arguments); one merged summary. A process that dies is reported; what it claimed stays pending."""
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context) as pool:
        futures = [pool.submit(send_issue, date, **arguments) for _ in range(workers)]
        summaries: list[Summary] = []
        interrupted = False
        for future in futures:
            while True:
                try:
                    summaries.append(future.result())
                    break
                except KeyboardInterrupt:  # the workers got it too: each stops cleanly; wait for them
                    interrupted = True
                except concurrent.futures.process.BrokenProcessPool:
                    raise SendError(
                        "a sender process died; run the same command again: what it had claimed is reported "
                        "as pending, everything else is sent once"
                    ) from None
    return merge(summaries, interrupted)


def merge(summaries: list[Summary], interrupted: bool = False) -> Summary:
    """One summary of several runs of the same issue: per subscriber, the outcome that says most."""
    best: dict[str, Outcome] = {}
    for summary in summaries:
        for outcome in summary.outcomes:
            known = best.get(outcome.address.casefold())
            if known is None or _PRECEDENCE.index(outcome.status) < _PRECEDENCE.index(known.status):
                best[outcome.address.casefold()] = outcome
    ordered = tuple(best[key] for key in sorted(best))
    stopped = interrupted or any(summary.interrupted for summary in summaries)
    return Summary(summaries[0].date, ordered, stopped)
