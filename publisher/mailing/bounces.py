"""`publisher bounces`: read the bounce mailbox, decide about each address, record it, move the report.

    IMAP folder ─► reports.read_report ─► trace to (issue, subscriber) ─► decide ─► Store.record_bounce ─► move

Tracing, most trusted first: the VERP return path the report was delivered to (signed, names the
send), the Message-ID of the original copy the report quotes (names the send), and last the
recipient address the report names (a subscriber; no send, so a soft bounce traced this way is
only recorded).

The rules: a hard bounce or a complaint suppresses the address at once; a soft bounce suppresses
it when `soft_limit` of its last `soft_window` sends (the ledger's) bounced softly, this one
included; a delay is recorded and nothing more. Each decision is recorded with the report it
came from (its Message-ID) before the report is moved to the processed folder, and a report
already recorded is never counted again: a run that stopped between the two does no harm.
A message that is no bounce or complaint, or that names nobody on the list, stays where it is.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .imap import Mailbox
from .ledger import Ledger
from .reports import Finding, Report, read_report
from .subscribers import BounceRecord, Store
from .tracing import Tracer, read_message_ids, read_return_path

SEVERITY = ("delayed", "soft", "hard", "complaint")


@dataclass(frozen=True)
class Rules:
    return_path: str = ""  # bounces.return_path: the base of every VERP address
    soft_limit: int = 3
    soft_window: int = 5


@dataclass(frozen=True)
class Decision:
    record: BounceRecord
    traced_by: str  # "return path" | "Message-ID" | "recipient"
    subject: str  # the report's subject, for the person reading the output


@dataclass(frozen=True)
class Run:
    read: int  # messages in the folder
    decisions: tuple[Decision, ...]
    left: tuple[str, ...]  # messages left in the folder, and why
    repeated: int = 0  # reports recorded before (delivered twice, or a run stopped before moving them)


def trace(
    report: Report, finding: Finding, tracer: Tracer, rules: Rules, listed: set[str]
) -> tuple[str, str, str] | None:
    """(subscriber key, issue or '', how) for one finding of a report; None when it names nobody on the list."""
    if rules.return_path:
        for address in report.delivered_to:
            verp = read_return_path(rules.return_path, address)
            if verp and (key := tracer.by_return_path(*verp)):
                return key, verp[0], "return path"
    for issue, who in read_message_ids(report.quoted):
        if key := tracer.by_message_id(issue, who):
            return key, issue, "Message-ID"
    key = finding.recipient.casefold()
    return (key, "", "recipient") if key in listed else None


def decide(kind: str, issue: str, soft_count: int, rules: Rules) -> tuple[str, str]:
    """(decision, why) for one traced finding; `soft_count` counts this one already."""
    if kind in ("hard", "complaint"):
        return "suppressed", "suppressed at once"
    if kind == "delayed":
        return "ignored", "a delay: the server is still trying"
    if not issue:
        return "ignored", "a soft bounce that names no send is not counted"
    window = f"{soft_count} of the last {rules.soft_window} sends bounced"
    if soft_count >= rules.soft_limit:
        return "suppressed", f"{window} (limit {rules.soft_limit})"
    return "counted", window


def _worst(findings: Iterable[tuple[Finding, tuple[str, str, str]]]) -> dict[str, tuple[Finding, tuple[str, str, str]]]:
    """One finding per subscriber: the most severe (a report's blocks may repeat one recipient)."""
    chosen: dict[str, tuple[Finding, tuple[str, str, str]]] = {}
    for finding, traced in findings:
        current = chosen.get(traced[0])
        if current is None or SEVERITY.index(finding.kind) > SEVERITY.index(current[0].kind):
            chosen[traced[0]] = (finding, traced)
    return chosen


def decisions_for(report: Report, store: Store, tracer: Tracer, rules: Rules, listed: set[str]) -> list[Decision]:
    traced = [(f, t) for f in report.findings if (t := trace(report, f, tracer, rules, listed)) is not None]
    decisions = []
    for key, (finding, (_, issue, how)) in sorted(_worst(traced).items()):
        soft = store.soft_bounces(key, rules.soft_window, issue) if finding.kind == "soft" and issue else 0
        decision, why = decide(finding.kind, issue, soft, rules)
        detail = "; ".join(part for part in (finding.detail, why) if part)
        record = BounceRecord(report.report_id, key, issue, finding.kind, finding.status, detail, decision)
        decisions.append(Decision(record, how, report.subject))
    return decisions


def process(mailbox: Mailbox, store: Store, ledger: Ledger, secret: str, rules: Rules, *, dry_run: bool = False) -> Run:
    """Read every message in the mailbox's folder; record and move each bounce or complaint (not in a dry run)."""
    tracer = Tracer(secret, lambda issue: ledger.records(issue).keys())
    listed = {s.key for s in store.subscribers()} | store.suppressed()
    read, decisions, left, repeated = 0, [], [], 0
    for uid, data in mailbox.messages():
        read += 1
        report = read_report(data)
        if report is None:
            left.append(f"message {uid.decode()}: neither a bounce nor a complaint")
            continue
        found = decisions_for(report, store, tracer, rules, listed)
        if not found:
            left.append(f"message {uid.decode()} ({report.report_id}): names nobody on the list")
            continue
        if not dry_run:
            recorded = [decision for decision in found if store.record_bounce(decision.record)]  # before the move
            repeated += len(found) - len(recorded)
            found = recorded
            mailbox.move(uid)
        decisions += found
    return Run(read, tuple(decisions), tuple(left), repeated)


def run_lines(run: Run, folder: str, processed: str, dry_run: bool) -> list[str]:
    """What `publisher bounces` prints: one line per decision, then the counts."""
    lines = []
    for d in run.decisions:
        r = d.record
        about = f" on {r.issue}" if r.issue else ""
        lines.append(
            f"{r.key}: {r.kind} {r.status or '(no status)'}{about} (by {d.traced_by}): {r.decision} - {r.detail}"
        )
    counts = {
        name: sum(1 for d in run.decisions if d.record.decision == name)
        for name in ("suppressed", "counted", "ignored")
    }
    moved = "" if dry_run else f"; reports moved to {processed}"
    lines.append(
        f"{run.read} messages read in {folder}: {counts['suppressed']} suppressed, {counts['counted']} counted, "
        f"{counts['ignored']} ignored, {run.repeated} already recorded, {len(run.left)} left in {folder}{moved}"
    )
    if dry_run:
        lines.append("dry run: nothing recorded, nothing moved")
    return lines
