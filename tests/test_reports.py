"""Reading bounces and complaints (reports.py) and tracing them to a send (tracing.py): pure, no server."""

from __future__ import annotations

import datetime as dt

import pytest

from publisher.mailing import tracing
from publisher.mailing.reports import classify, read_report, status_of
from publisher.mailing.send import personal_message_id
from publisher.mailing.subscribers import Subscriber

from . import bounce_reports

ORIGINAL = (
    b"From: =?utf-8?b?7JWI?= <digest@example.com>\r\nTo: ann@example.com\r\nSubject: test\r\n"
    b"Message-ID: <issue-2024-07-25.0123456789abcdef0123@example.com>\r\n\r\nbody\r\n"
)
VERP = "bounces+20240725-aaaaaaaaaaaaaaaaaaaa@example.com"


@pytest.mark.parametrize(
    ("action", "status", "kind"),
    [
        ("failed", "5.1.1", "hard"),  # unknown user
        ("failed", "5.1.2", "hard"),  # no such domain
        ("failed", "5.2.1", "hard"),  # mailbox disabled
        ("failed", "5.0.0", "hard"),
        ("failed", "5.2.2", "soft"),  # mailbox full, even as a 5
        ("failed", "4.2.2", "soft"),  # the server gave up on a full mailbox
        ("failed", "5.7.1", "soft"),  # policy: not the address's fault
        ("failed", "5.4.4", "soft"),  # routing
        ("Failed (permanent)", "5.1.1", "hard"),
        ("delayed", "4.4.1", "delayed"),
        ("delivered", "2.0.0", None),
        ("relayed", "2.0.0", None),
        ("failed", "", "soft"),  # no status at all: the cautious reading
    ],
)
def test_the_status_code_decides(action: str, status: str, kind: str | None):
    assert classify(action, status) == kind


def test_status_codes_are_read_from_fields_with_comments():
    assert status_of("5.1.1 (bad destination mailbox address)") == "5.1.1"
    assert status_of("smtp; 550 5.7.1 <a@b.c>: rejected") == "5.7.1"
    assert status_of("smtp; 550 user unknown 10.1.1.1") == ""  # an IP address is no status


def test_a_dsn_gives_its_recipient_status_diagnostic_and_where_it_was_delivered():
    data = bounce_reports.dsn(
        to=VERP, recipient="ann@example.com", action="failed", status="5.1.1",
        diagnostic="550 5.1.1 <ann@example.com>: User unknown", original=ORIGINAL, number=1,
    )  # fmt: skip
    report = read_report(data)
    assert report is not None
    assert report.report_id == "<dsn-1@mx.example.net>"
    [finding] = report.findings
    assert (finding.recipient, finding.kind, finding.status) == ("ann@example.com", "hard", "5.1.1")
    assert finding.detail == "smtp; 550 5.1.1 <ann@example.com>: User unknown"
    assert VERP in report.delivered_to
    assert tracing.read_message_ids(report.quoted) == [("2024-07-25", "0123456789abcdef0123")]


def test_a_status_missing_from_the_dsn_is_read_from_the_diagnostic():
    data = bounce_reports.dsn(
        to=VERP, recipient="ann@example.com", action="failed", status="",
        diagnostic="550 5.1.1 <ann@example.com>: User unknown", original=ORIGINAL, number=1,
    )  # fmt: skip
    assert read_report(data).findings[0].status == "5.1.1"


def test_an_abuse_report_is_a_complaint_and_other_feedback_is_not():
    report = read_report(bounce_reports.arf(to="fbl@example.com", original=ORIGINAL, number=4))
    [finding] = report.findings
    assert (finding.recipient, finding.kind, finding.status) == ("", "complaint", "abuse")  # recipient redacted
    assert tracing.read_message_ids(report.quoted) == [("2024-07-25", "0123456789abcdef0123")]
    assert (
        read_report(bounce_reports.arf(to="fbl@example.com", original=ORIGINAL, number=5, feedback_type="not-spam"))
        is None
    )


def test_a_bounce_without_dsn_goes_to_flufl_bounce_and_an_auto_reply_is_nothing():
    report = read_report(bounce_reports.qmail(to=VERP, recipient="ann@example.com", original=ORIGINAL))
    [finding] = report.findings
    assert (finding.recipient, finding.kind, finding.status) == ("ann@example.com", "hard", "")
    assert "flufl.bounce" in finding.detail
    assert read_report(bounce_reports.auto_reply(to=VERP)) is None


def test_return_paths_name_one_send_and_need_the_secret():
    path = tracing.return_path("bounces@example.com", "s3cret", "2024-07-25", "ann@example.com")
    issue, tag = tracing.read_return_path("bounces@example.com", path)
    assert issue == "2024-07-25"
    right = tracing.Tracer("s3cret", lambda issue: ["ann@example.com", "bob@example.com"])
    wrong = tracing.Tracer("another secret", lambda issue: ["ann@example.com", "bob@example.com"])
    assert right.by_return_path(issue, tag) == "ann@example.com"
    assert wrong.by_return_path(issue, tag) is None
    assert tracing.read_return_path("bounces@example.com", path.upper()) == (issue, tag)  # servers fold case
    assert tracing.read_return_path("bounces@example.com", path.replace("example.com", "example.org")) is None
    assert tracing.read_return_path("bounces@example.com", "bounces@example.com") is None
    assert tracing.read_return_path("bounces@example.com", path.replace("+2024", "+x2024")) is None


def test_the_message_id_of_a_copy_traces_back_to_its_subscriber():
    class Issue:  # what personal_message_id reads
        date = dt.date(2024, 7, 25)

        class envelope:
            from_address = "digest@example.com"

    message_id = personal_message_id(Issue, Subscriber("Ann@Example.com"))
    [(issue, who)] = tracing.read_message_ids(f"Message-ID: {message_id}")
    tracer = tracing.Tracer("", lambda issue: ["ann@example.com", "bob@example.com"])
    assert (issue, tracer.by_message_id(issue, who)) == ("2024-07-25", "ann@example.com")
