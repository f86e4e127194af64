"""What a send did: each subscriber's outcome, the run's summary, and the report printed at its end.

Pure: `send.py` decides and records; this says it. `held` explains a ledger row that keeps a
subscriber from being sent to now (already sent, another run's claim, or pending).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..errors import shown_path
from .ledger import Record

Status = Literal[
    "sent",
    "written",
    "already sent",
    "failed",
    "suppressed",
    "paused",
    "filtered out",
    "pending",
    "taken by another run",
    "not attempted",
]


@dataclass(frozen=True)
class Outcome:
    address: str
    status: Status
    detail: str = ""  # the server's reply, or the reason


@dataclass(frozen=True)
class Summary:
    date: dt.date
    outcomes: tuple[Outcome, ...]
    interrupted: bool = False

    def count(self, status: Status) -> int:
        return sum(1 for outcome in self.outcomes if outcome.status == status)

    def having(self, status: Status) -> tuple[Outcome, ...]:
        return tuple(outcome for outcome in self.outcomes if outcome.status == status)

    @property
    def ok(self) -> bool:
        """False when something failed or was left unsent: the CLI exits 1."""
        return not self.interrupted and not self.having("failed") and not self.having("not attempted")


def held(address: str, record: Record) -> Outcome:
    """Why a subscriber with this ledger record is not sent to now."""
    if record.state == "sent":
        return Outcome(address, "already sent", record.reply)
    if record.live:
        detail = f"claimed {record.updated} by the run started {record.run_started}"
        return Outcome(address, "taken by another run", detail)
    return Outcome(address, "pending", f"attempt {record.attempts} started {record.updated} and never finished")


def summary_lines(summary: Summary, dry_run: Path | None = None) -> tuple[list[str], list[str]]:
    """The end-of-run report: the counts (for stdout), then every failure and open question (stderr)."""
    done = "written" if dry_run else "sent"
    counts = [(done, summary.count(done)), *((s, summary.count(s)) for s in _REPORTED)]
    counts += [(s, summary.count(s)) for s in _REPORTED_WHEN_ANY if summary.count(s)]
    report = [f"{summary.date.isoformat()}: " + ", ".join(f"{n} {label}" for label, n in counts)]
    if dry_run:
        report.append(f"dry run: messages written to {shown_path(dry_run)}; nothing sent, nothing recorded")
    problems = [f"failed: {o.address}: {o.detail}" for o in summary.having("failed")]
    problems += [f"pending: {o.address}: {o.detail}" for o in summary.having("pending")]
    if summary.having("pending"):
        problems.append(
            "pending: an earlier run stopped while sending these; the server may have accepted them, so they "
            "were not sent again. Check the SMTP server's log, then add --retry-pending to send them."
        )
    if summary.interrupted:
        problems.append("interrupted: run the same command again to send the rest")
    elif summary.having("not attempted"):
        problems.append("stopped: the SMTP server could not be reached; run the same command again later")
    elif summary.having("failed"):
        problems.append("run the same command again to retry the failed ones; nothing is sent twice")
    return report, problems


_REPORTED_WHEN_ANY: tuple[Status, ...] = ("paused", "pending", "taken by another run", "not attempted")
_REPORTED: tuple[Status, ...] = ("already sent", "failed", "suppressed", "filtered out")
