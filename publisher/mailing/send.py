"""`publisher send DATE`: one personal copy of a built issue to every subscriber who follows it.

    out/email/DATE.html + out/send/DATE.json ─► BuiltIssue (render/assemble.py; nothing is rendered again)
    subscribers, suppression list, ledger    ─► plan: who gets what, who is skipped and why
    per subscriber ─► assemble.personalise ─► message.compose ─► transport ─► ledger

Everything that can be wrong with the run (no secret, no built issue, an SMTP server that cannot
be reached or refuses the login) is found before the first ledger row is written. Then each of
`connections` threads opens its own SMTP connection and its own ledger connection and takes
subscribers from a shared queue; a shared limiter spaces SMTP transactions `1/rate` seconds apart.
A temporary failure (4xx, a lost connection) is retried `retries` times, waiting `backoff`,
2×`backoff`, 4×`backoff`… seconds; a permanent one (5xx) is recorded and the run goes on.

A message is sent only after this run claimed it in the ledger (ledger.py): runs that overlap (a
cron job and a manual run, two terminals) split the subscribers between them, and each reports
only what it sent itself; what another run has under way is counted as "taken by another run".

Ctrl-C stops the run cleanly: every thread finishes the message it is sending, records it, and
stops; the rest is left for the next run.
"""

from __future__ import annotations

import datetime as dt
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import Diagnostic, SendError, shown_path
from ..render import assemble, message, paths
from ..render.assemble import BuiltIssue
from . import tokens, tracing
from .database import Target, has_store, shown
from .ledger import Claim, Ledger, Record, Run, claimable, keep_alive
from .outcomes import Outcome, Summary, held
from .subscribers import Store, Subscriber
from .transport import (
    FolderTransport,
    PermanentFailure,
    RateLimiter,
    SetupFailure,
    SmtpSettings,
    SmtpTransport,
    TemporaryFailure,
    Transport,
    Unreachable,
    check_server,
)

SECRET_ENV = "PUBLISHER_SECRET"
PASSWORD_ENV = "PUBLISHER_SMTP_PASSWORD"
MAX_BACKOFF = 300.0  # seconds: one wait between attempts never exceeds five minutes


@dataclass(frozen=True)
class SendOptions:
    rate: float = 0.0  # SMTP transactions per second over all connections; 0: no limit
    connections: int = 1
    retries: int = 4  # further attempts after a temporary failure
    backoff: float = 2.0  # seconds before the first retry; doubles each time
    retry_pending: bool = False  # resend rows a crashed run left pending (they may have arrived)
    dry_run: Path | None = None  # write .eml files into this folder instead of sending
    return_path: str = ""  # bounces.return_path: each copy's envelope sender is made from it (VERP)


@dataclass(frozen=True)
class Job:
    subscriber: Subscriber
    topics: tuple[str, ...] | None  # tag names of this issue they follow; None: the whole issue


def require_secret(secret: str | None) -> str:
    if not secret:
        raise SendError(
            f"set the environment variable {SECRET_ENV} to a long random string: it signs every "
            "subscriber's unsubscribe link (keep it the same from one send to the next)"
        )
    return secret


def load_issue(out: Path, date: dt.date) -> BuiltIssue:
    """The built issue of DATE, as `build` wrote it; never rendered here."""
    html_path = out / paths.email(date, "html")
    manifest_path = out / paths.send_manifest(date)
    missing = [p for p in (html_path, manifest_path) if not p.is_file()]
    if missing:
        raise SendError(
            Diagnostic(
                shown_path(missing[0]), None, f"no built issue for {date.isoformat()}: run `publisher build` first"
            )
        )
    try:
        issue = BuiltIssue.from_files(html_path.read_bytes(), manifest_path.read_bytes())
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise SendError(
            Diagnostic(shown_path(manifest_path), None, f"cannot read the built issue ({error}); run `publisher build`")
        ) from None
    if not issue.envelope.unsubscribe_url:
        raise SendError(
            "send gives every subscriber their own unsubscribe link: set [email] unsubscribe_url "
            "(an https URL) in the config and run `publisher build` again"
        )
    return issue


def followed_topics(issue: BuiltIssue, subscriber: Subscriber) -> tuple[str, ...] | None:
    """The issue's tags (names) the subscriber follows; None when they follow everything."""
    if not subscriber.tags:
        return None
    return tuple(issue.tags[i].name for i in issue.followed(subscriber.tags))


def personal_message_id(issue: BuiltIssue, subscriber: Subscriber) -> str:
    """Derived from (issue, subscriber): a resent copy carries the same id, so clients can drop it."""
    who = tracing.message_tag(subscriber.key)  # bounces and complaints are traced back by it
    domain = issue.envelope.from_address.rpartition("@")[2]
    return message.message_id(f"issue-{issue.date.isoformat()}.{who}", domain)


def personal_copy(issue: BuiltIssue, job: Job, secret: str) -> bytes:
    """One subscriber's message, as it goes on the wire. Pure; ValueError when it cannot be made."""
    subscriber = job.subscriber
    url = paths.personal_link(issue.envelope.unsubscribe_url, tokens.make(secret, "unsubscribe", subscriber.address))
    preferences = ""
    if issue.preferences_url:
        preferences = paths.personal_link(issue.preferences_url, tokens.make(secret, "preferences", subscriber.address))
    copy = assemble.personalise(issue, job.topics, url, preferences)
    message_id = personal_message_id(issue, subscriber)
    envelope = assemble.with_envelope(issue, copy, subscriber.address, message_id, url, to_name=subscriber.name)
    return message.compose(envelope, copy.text, copy.html)


def plan(
    issue: BuiltIssue,
    subscribers: list[Subscriber],
    suppressed: set[str],
    records: dict[str, Record],
    retry_pending: bool = False,
) -> tuple[list[Job], list[Outcome]]:
    """Who gets a copy (jobs), and who does not and why (outcomes decided up front)."""
    jobs: list[Job] = []
    decided: list[Outcome] = []
    for subscriber in subscribers:
        record = records.get(subscriber.key)
        topics = followed_topics(issue, subscriber)
        if subscriber.key in suppressed:
            decided.append(Outcome(subscriber.address, "suppressed"))
        elif subscriber.paused:
            decided.append(Outcome(subscriber.address, "paused"))
        elif record is not None and not claimable(record, retry_pending):
            decided.append(held(subscriber.address, record))
        elif topics == ():
            decided.append(Outcome(subscriber.address, "filtered out"))
        else:
            jobs.append(Job(subscriber, topics))
    return jobs, decided


@dataclass
class _Run:
    """What the sending threads share."""

    issue: BuiltIssue
    secret: str = field(repr=False)
    options: SendOptions
    database: Target
    make_transport: Callable[[], Transport]
    active: Run | None  # this run in the ledger (None: a dry run, which records nothing)
    jobs: queue.SimpleQueue[Job] = field(default_factory=queue.SimpleQueue)
    results: queue.SimpleQueue[Outcome | BaseException] = field(default_factory=queue.SimpleQueue)
    stop: threading.Event = field(default_factory=threading.Event)
    limiter: RateLimiter = field(default_factory=lambda: RateLimiter(0))


def _worker(run: _Run) -> None:
    ledger: Ledger | None = None
    transport: Transport | None = None
    try:
        ledger = None if run.options.dry_run else Ledger(run.database)
        transport = run.make_transport()
        while not run.stop.is_set():
            try:
                job = run.jobs.get_nowait()
            except queue.Empty:
                return
            run.results.put(_deliver(run, job, transport, ledger))
    except BaseException as error:  # a bug or a broken database: stop everyone, report in the main thread
        run.stop.set()
        run.results.put(error)
    finally:
        if transport is not None:
            transport.close()
        if ledger is not None:
            ledger.close()


def _deliver(run: _Run, job: Job, transport: Transport, ledger: Ledger | None) -> Outcome:
    """Send one copy: claim it (nobody else sends it), send, record how it went."""
    issue, subscriber, options = run.issue, job.subscriber, run.options
    day, key, address = issue.date.isoformat(), subscriber.key, subscriber.address
    try:
        data, problem = personal_copy(issue, job, run.secret), None
    except ValueError as error:
        data, problem = b"", f"cannot make the message: {error}"
    sender = issue.envelope.from_address
    if options.return_path:  # bounces come back to an address naming this (issue, subscriber)
        sender = tracing.return_path(options.return_path, run.secret, day, key)
    for attempt in range(1, options.retries + 2):
        if problem is None:
            run.limiter.wait(run.stop)
        if attempt == 1 and run.stop.is_set():
            return Outcome(address, "not attempted")
        claim = None
        if ledger is not None and run.active is not None:
            claims, refused = ledger.claim(day, [(key, address)], run.active, retry_pending=options.retry_pending)
            if not claims:
                return held(address, refused[key])
            claim = claims[0]  # committed before the first SMTP command
            if attempt == 1 and run.stop.is_set():  # stopped while waiting for the database
                ledger.release(claim)
                return Outcome(address, "not attempted")
        if problem is not None:
            return _failed(ledger, claim, address, problem)
        try:
            reply = transport.send(data, sender, address)
        except TemporaryFailure as error:
            if attempt > options.retries:
                if isinstance(error, Unreachable):
                    run.stop.set()  # the server is gone: the others would only wait through their retries too
                return _failed(ledger, claim, address, f"{error} (gave up after {attempt} attempts)")
            _failed(ledger, claim, address, f"{error} (retrying)")  # not `sending` while it waits: no pending
            if run.stop.wait(min(options.backoff * 2 ** (attempt - 1), MAX_BACKOFF)):
                return Outcome(address, "failed", f"{error} (run interrupted before retrying)")
            continue  # claimed again: another run may have taken it meanwhile
        except PermanentFailure as error:
            return _failed(ledger, claim, address, str(error))
        if ledger is not None and claim is not None:
            ledger.mark_sent(claim, reply)  # right after the 250: the duplicate window
        return Outcome(address, "written" if options.dry_run else "sent", reply)
    raise AssertionError("unreachable: the last attempt always returns")


def send_issue(
    date: dt.date,
    *,
    out: Path,
    database: Target,
    secret: str | None,
    smtp: SmtpSettings,
    options: SendOptions = SendOptions(),
    on_plan: Callable[[int], None] | None = None,
    on_outcome: Callable[[Outcome], None] | None = None,
) -> Summary:
    """Send the built issue of DATE to every subscriber who should get it and has not yet."""
    secret = require_secret(secret)
    issue = load_issue(out, date)
    if options.dry_run is None:
        try:
            check_server(smtp)  # before any ledger row: a bad host, port, TLS or login stops here
        except SetupFailure as error:
            raise SendError(str(error)) from None
    if not has_store(database):  # a mistyped --db would otherwise be a new, empty list: "0 sent"
        raise SendError(Diagnostic(shown(database), None, "no subscriber database here: add subscribers first"))
    with Store(database) as store:
        subscribers = store.subscribers()
        suppressed = store.suppressed()
    with Ledger(database) as ledger:
        records = ledger.records(date.isoformat())
        active = None if options.dry_run else ledger.open_run()
    try:
        jobs, decided = plan(issue, subscribers, suppressed, records, options.retry_pending)
        if on_plan:
            on_plan(len(jobs))

        def make_transport() -> Transport:
            return FolderTransport(options.dry_run) if options.dry_run else SmtpTransport(smtp)

        run = _Run(issue, secret, options, database, make_transport, active, limiter=RateLimiter(options.rate))
        for job in jobs:
            run.jobs.put(job)
        with keep_alive(database, active):
            outcomes, interrupted = _collect(run, len(jobs), on_outcome)
    finally:
        if active is not None:
            with Ledger(database) as ledger:
                ledger.close_run(active)
    while True:  # what Ctrl-C left in the queue
        try:
            outcomes.append(Outcome(run.jobs.get_nowait().subscriber.address, "not attempted"))
        except queue.Empty:
            break
    ordered = sorted(decided + outcomes, key=lambda o: o.address.casefold())
    summary = Summary(date, tuple(ordered), interrupted)
    if options.dry_run is None and not interrupted and not summary.having("not attempted"):
        with Ledger(database) as ledger:  # everyone had their attempt: `send --new` leaves this issue
            ledger.finish_issue(date.isoformat())
    return summary


def _failed(ledger: Ledger | None, claim: Claim | None, address: str, reason: str) -> Outcome:
    if ledger is not None and claim is not None:
        ledger.mark_failed(claim, reason)
    return Outcome(address, "failed", reason)


def _collect(run: _Run, total: int, on_outcome: Callable[[Outcome], None] | None) -> tuple[list[Outcome], bool]:
    threads = [
        threading.Thread(target=_worker, args=(run,), daemon=True) for _ in range(min(run.options.connections, total))
    ]
    for thread in threads:
        thread.start()
    outcomes: list[Outcome] = []
    failure: BaseException | None = None
    interrupted = False

    def take(item: Outcome | BaseException) -> None:
        nonlocal failure
        if isinstance(item, BaseException):
            failure = failure or item
        else:
            outcomes.append(item)
            if on_outcome:
                on_outcome(item)

    try:
        while any(thread.is_alive() for thread in threads):
            try:
                take(run.results.get(timeout=0.1))
            except queue.Empty:
                continue
    except KeyboardInterrupt:
        interrupted = True
        run.stop.set()  # each thread finishes and records the message under way, then stops
        for thread in threads:
            thread.join()
    while True:
        try:
            take(run.results.get_nowait())
        except queue.Empty:
            break
    if failure is not None:
        raise failure
    return outcomes, interrupted
