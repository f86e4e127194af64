"""Several senders over one store: 10,000 messages to a local SMTP sink from 1, 2 and 4 `publisher send`
processes at once, on SQLite and on PostgreSQL; messages per second and each sender's peak memory.

    python bench/bench_senders.py [--messages 10000] [--senders 1 2 4] [--postgres URL]

Without --postgres, a temporary PostgreSQL cluster is started on 127.0.0.1 (tests/postgres_server.py,
Debian's postgresql). The sink is aiosmtpd in a process of its own that only counts (bench_send.py).
Each configuration gets a fresh store with the same subscribers; the senders are started together
and the clock runs until the last one exits (interpreter start-up included). The ledger alone (claim
+ sent, each its own commit, one connection) is timed on each engine too, to show it is not what
bounds the rate.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_send import DATE, build_seeds, free_port, make_subscribers  # noqa: E402


def ledger_alone(target: Path | str, count: int) -> float:
    from publisher.mailing.ledger import Ledger

    with Ledger(target) as ledger:
        run = ledger.open_run()
        started = time.perf_counter()
        for n in range(count):
            key = f"alone{n:05d}@example.com"
            (claim,), _ = ledger.claim("2000-01-01", [(key, key)], run)
            ledger.mark_sent(claim, "250 2.0.0 OK")
        return count / (time.perf_counter() - started)


def run_senders(out: Path, target: Path | str, port: int, senders: int, folder: Path) -> tuple[float, int, float]:
    """(seconds, copies sent, the largest peak RSS of one sender in MiB)."""
    command = [sys.executable, "-m", "publisher", "send", DATE.isoformat(), "--config", str(ROOT / "publisher.toml")]
    command += ["--out", str(out), "--db", str(target), "--smtp-host", "127.0.0.1", "--smtp-port", str(port)]
    command += ["--smtp-security", "plain", "--connections", "2"]
    env = {**os.environ, "PUBLISHER_SECRET": "bench-secret"}
    started = time.perf_counter()
    processes = [
        subprocess.Popen(command, cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(senders)
    ]
    peak, sent = 0, 0
    for process in processes:
        # wait4 gives each child's own peak RSS (RUSAGE_CHILDREN would give the largest of all so far)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        stdout = process.stdout.read() if process.stdout else ""
        if process.returncode not in (0, 1):
            raise SystemExit(f"a sender failed: {process.stderr.read() if process.stderr else ''}")
        sent += int(stdout.split(": ", 1)[1].split(" sent", 1)[0])
        peak = max(peak, usage.ru_maxrss)
    return time.perf_counter() - started, sent, peak / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--senders", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--postgres", help="a postgresql:// URL of an empty database (default: a temporary cluster)")
    args = parser.parse_args()
    server = None
    if args.postgres is None:
        from tests.postgres_server import PostgresServer

        server = PostgresServer().start()
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        out = folder / "out"
        build_seeds(out)
        port = free_port()
        sink = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "bench_send.py"), "--sink", str(port)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            assert sink.stdout is not None and sink.stdout.readline().strip() == "ready"
            print(f"messages: {args.messages}, CPUs: {os.cpu_count()}, 2 SMTP connections per sender")
            print("| engine | senders | messages/s | seconds | sent | peak RSS of one sender |")
            print("|---|---|---|---|---|---|")
            for engine in ("sqlite", "postgresql"):
                for senders in args.senders:
                    target: Path | str = folder / f"{engine}-{senders}.db"
                    if engine == "postgresql":
                        target = args.postgres if args.postgres else server.fresh()  # type: ignore[union-attr]
                    make_subscribers(target, args.messages)  # type: ignore[arg-type]
                    seconds, sent, peak = run_senders(out, target, port, senders, folder)
                    print(f"| {engine} | {senders} | {sent / seconds:,.0f} | {seconds:.1f} | {sent} | {peak:.0f} MiB |")
                    if args.postgres:
                        break  # one given database holds one list
            for engine in ("sqlite", "postgresql"):
                target = folder / "ledger.db" if engine == "sqlite" else (args.postgres or server.fresh())
                print(
                    f"ledger alone on {engine} (claim + sent, 2 commits): {ledger_alone(target, 2_000):,.0f} messages/s"
                )
        finally:
            sink.communicate("")
            if server is not None:
                server.stop()


if __name__ == "__main__":
    main()
