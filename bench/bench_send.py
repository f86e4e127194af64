"""Send 10,000 personal copies of a built issue to a local SMTP sink; report messages/s and peak memory.

    python bench/bench_send.py [--messages 10000] [--connections 2]

The seeds are built into a temporary folder by `publisher build` (a separate process, so its
memory is not counted); the sink is aiosmtpd in another process (a handler that only counts).
Besides the whole run it times each part on its own, to show which one bounds the rate:
the ledger alone (claim + sent, each its own committed transaction) and making the personal
copies alone (cutting the built issue, composing the MIME message).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATE = dt.date(2024, 7, 25)
TOPICS = (("math",), ("rlaif", "framework"), ("llm",))  # 3 in 10 follow topics (all in the issue), 7 everything


def sink(port: int) -> None:
    """The SMTP sink, run as `bench_send.py --sink PORT`: counts messages, keeps nothing."""
    from aiosmtpd.controller import Controller

    class Count:
        count = 0

        async def handle_DATA(self, server, session, envelope) -> str:
            Count.count += 1
            return "250 2.0.0 OK"

    controller = Controller(Count(), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    sys.stdin.read()  # until the parent closes our stdin
    controller.stop()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def build_seeds(out: Path) -> None:
    """The repository's seeds built into `out`: the issues the benchmarks send."""
    subprocess.run(
        [sys.executable, "-m", "publisher", "build", "--config", str(ROOT / "publisher.toml"),
         "--seeds", str(ROOT / "seeds"), "--out", str(out)],
        check=True, capture_output=True,
    )  # fmt: skip


def make_subscribers(db: Path, count: int) -> None:
    from publisher.mailing.subscribers import Store, Subscriber

    people = [
        Subscriber(f"reader{n:05d}@example.com", f"Reader {n}", TOPICS[n % 10] if n % 10 < len(TOPICS) else ())
        for n in range(count)
    ]
    with Store(db) as store:
        store.import_subscribers(people, [])


def bench_ledger(folder: Path, count: int) -> float:
    from publisher.mailing.ledger import Ledger

    with Ledger(folder / "ledger-only.db") as ledger:
        run = ledger.open_run()
        started = time.perf_counter()
        for n in range(count):
            key = f"reader{n:05d}@example.com"
            (claim,), _ = ledger.claim(DATE.isoformat(), [(key, key)], run)
            ledger.mark_sent(claim, "250 2.0.0 OK")
        return count / (time.perf_counter() - started)


def bench_copies(out: Path, count: int) -> float:
    from publisher.mailing.send import Job, load_issue, personal_copy
    from publisher.mailing.subscribers import Subscriber

    issue = load_issue(out, DATE)
    started = time.perf_counter()
    for n in range(count):
        tags = TOPICS[n % 10] if n % 10 < len(TOPICS) else ()
        topics = tuple(t.name for t in issue.tags if t.slug in tags) or None
        personal_copy(issue, Job(Subscriber(f"reader{n:05d}@example.com", "", tags), topics), "secret")
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--connections", type=int, default=2)
    parser.add_argument("--sink", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sink:
        sink(args.sink)
        return

    from publisher.mailing.send import SendOptions, send_issue
    from publisher.mailing.transport import SmtpSettings

    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        out = folder / "out"
        build_seeds(out)
        db = folder / "subscribers.db"
        make_subscribers(db, args.messages)
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, __file__, "--sink", str(port)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        try:
            assert server.stdout is not None and server.stdout.readline().strip() == "ready"
            rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            started = time.perf_counter()
            summary = send_issue(
                DATE,
                out=out,
                database=db,
                secret="bench-secret",
                smtp=SmtpSettings("127.0.0.1", port, "plain"),
                options=SendOptions(connections=args.connections),
            )
            seconds = time.perf_counter() - started
            rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        finally:
            server.communicate("")
        sent = summary.count("sent")
        print(f"subscribers: {args.messages}, connections: {args.connections}, CPUs: {os.cpu_count()}")
        print(f"sent {sent} (filtered out {summary.count('filtered out')}, failed {summary.count('failed')})")
        print(f"send: {sent / seconds:,.0f} messages/s ({seconds:.1f} s)")
        print(f"peak RSS of the sender: {rss_after / 1024:.0f} MiB (before sending: {rss_before / 1024:.0f} MiB)")
        print(f"ledger alone (claim + sent, 2 commits): {bench_ledger(folder, 2_000):,.0f} messages/s")
        print(f"personal copies alone (cut + compose): {bench_copies(out, 2_000):,.0f} messages/s")


if __name__ == "__main__":
    main()
