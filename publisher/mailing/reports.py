"""Bounces and complaints read from a message: what each says about which recipient. Pure.

    multipart/report; report-type=delivery-status   (RFC 3464, a DSN)     per recipient: Action, Status
    multipart/report; report-type=feedback-report   (RFC 5965, ARF)       a complaint: Feedback-Type
    anything else                                    flufl.bounce (GNU Mailman's detectors for the
                                                     bounce formats of servers that send no DSN)

A DSN's `Status` (RFC 3463, `class.subject.detail`) decides, read with the standard library's
parser, which splits `message/delivery-status` into its header blocks:

    hard   5.1.x (the address: no such user, no such domain, bad syntax, moved), 5.2.1 (mailbox
           disabled), 5.0.0 (permanent, no detail: what many servers say for an unknown user)
    soft   any other failure: 4.x.x once the server gave up (4.2.2 mailbox full), 5.2.2 (full),
           5.7.x (policy: the receiving server refused the message, usually for the sender's
           reputation or the content, not because the address is bad), 5.3/5.4/5.6 (systems,
           routing, content)
    delayed  Action: delayed: a warning, the server is still trying
    (none)   Action: delivered, relayed, expanded

A failure without a usable Status falls back to the enhanced code in Diagnostic-Code, then to
soft. flufl.bounce's permanent failures are hard, its temporary ones soft. A complaint is an ARF
report whose Feedback-Type is abuse or fraud; other types (not-spam, virus, auth-failure) name no
complaint about the reader.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import hashlib
import re
from dataclasses import dataclass
from email.message import Message
from email.parser import HeaderParser
from typing import Literal

import flufl.bounce

Kind = Literal["hard", "soft", "complaint", "delayed"]
COMPLAINTS = ("abuse", "fraud")
_STATUS = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])")
# Where the address a report was delivered to shows (the envelope sender of the original: VERP).
DELIVERY_HEADERS = ("Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To", "To")


@dataclass(frozen=True)
class Finding:
    recipient: str  # the original recipient the report names ('' when it names none, as redacted ARF)
    kind: Kind
    status: str  # the DSN Status (5.1.1), or the feedback type (abuse); '' when the report gave none
    detail: str  # the server's diagnostic, or where the finding came from


@dataclass(frozen=True)
class Report:
    report_id: str  # the report's Message-ID (a hash of its bytes when it has none)
    subject: str
    findings: tuple[Finding, ...]
    delivered_to: tuple[str, ...]  # the addresses the report was delivered to: a VERP return path
    quoted: str  # the original message's headers as the report quotes them ('' when it does not)


def status_of(text: str) -> str:
    """The first RFC 3463 status code in `text` (`5.1.1`), or ''."""
    found = _STATUS.search(text or "")
    return ".".join(found.groups()) if found else ""


def classify(action: str, status: str) -> Kind | None:
    """What one recipient's block of a DSN says: see the module's table."""
    action = action.strip().lower()
    if action.startswith("delayed"):
        return "delayed"
    if not action.startswith(("failed", "error")):  # delivered, relayed, expanded: no failure
        return None
    klass, subject, detail = ([*status.split("."), "", "", ""])[:3]
    if klass == "5" and (subject == "1" or (subject, detail) in (("2", "1"), ("0", "0"))):
        return "hard"
    return "soft"


def _address(field: str) -> str:
    """`rfc822; Ann@Example.com` → `Ann@Example.com` (the address-type is optional in the wild)."""
    _, _, address = (field or "").rpartition(";")
    return address.strip().strip("<>").strip()


def _text(value: object) -> str:
    return " ".join(str(value or "").split())


def _dsn_findings(message: Message) -> list[Finding]:
    findings = []
    for part in message.walk():
        if part.get_content_type() != "message/delivery-status" or not part.is_multipart():
            continue
        blocks = part.get_payload()
        for block in blocks:  # the per-message block first, then one per recipient (those have an Action)
            if block.get("Action") is None:
                continue
            recipient = _address(block.get("Original-Recipient", "")) or _address(block.get("Final-Recipient", ""))
            diagnostic = _text(block.get("Diagnostic-Code", ""))
            status = status_of(block.get("Status", "")) or status_of(diagnostic)
            kind = classify(block.get("Action", ""), status)
            if kind is not None:
                findings.append(Finding(recipient, kind, status, diagnostic))
    return findings


def _complaint_findings(message: Message) -> list[Finding]:
    for part in message.walk():
        if part.get_content_type() != "message/feedback-report":
            continue
        fields = part.get_payload(0) if part.is_multipart() else HeaderParser().parsestr(part.get_payload())
        feedback = _text(fields.get("Feedback-Type", "")).lower()
        recipient = _address(fields.get("Original-Rcpt-To", ""))
        detail = f"feedback report from {_text(fields.get('User-Agent', '')) or 'an unnamed agent'}"
        kind: Kind | None = "complaint" if feedback in COMPLAINTS else None
        return [Finding(recipient, kind, feedback, detail)] if kind else []
    return []


def _flufl_findings(message: Message) -> list[Finding]:
    temporary, permanent = flufl.bounce.all_failures(message)
    found = [Finding(a.decode("ascii"), "hard", "", "no DSN; flufl.bounce: permanent failure") for a in permanent]
    found += [Finding(a.decode("ascii"), "soft", "", "no DSN; flufl.bounce: temporary failure") for a in temporary]
    return sorted(found, key=lambda f: (f.recipient, f.kind))


def _quoted_headers(message: Message) -> str:
    """The original message's headers, from the report's message/rfc822 or text/rfc822-headers part."""
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/rfc822" and part.is_multipart():
            original = part.get_payload(0)
            return "".join(f"{name}: {value}\n" for name, value in original.items())
        if kind == "text/rfc822-headers":
            return (part.get_payload(decode=True) or b"").decode("utf-8", "replace")
    return ""


def read_report(data: bytes) -> Report | None:
    """What a message in the bounce mailbox reports; None when it is no bounce or complaint."""
    message = email.message_from_bytes(data, policy=email.policy.compat32)  # the parser flufl.bounce expects
    report_type = (
        (message.get_param("report-type") or "").lower() if message.get_content_type() == "multipart/report" else ""
    )
    if report_type == "feedback-report":
        findings = _complaint_findings(message)
    elif report_type == "delivery-status" or any(
        p.get_content_type() == "message/delivery-status" for p in message.walk()
    ):
        findings = _dsn_findings(message)
    else:
        findings = _flufl_findings(message)
    if not findings:
        return None
    report_id = _text(message.get("Message-ID", "")) or "sha256:" + hashlib.sha256(data).hexdigest()[:32]
    delivered = tuple(
        dict.fromkeys(
            address
            for header in DELIVERY_HEADERS
            for _, address in email.utils.getaddresses(message.get_all(header, []))
            if address
        )
    )
    quoted = _quoted_headers(message)
    if not quoted:  # a bounce that quotes the original only in its text
        quoted = "\n".join(
            (part.get_payload(decode=True) or b"").decode("utf-8", "replace")
            for part in message.walk()
            if part.get_content_maintype() == "text" and not part.is_multipart()
        )
    return Report(report_id, _text(message.get("Subject", "")), tuple(findings), delivered, quoted)
