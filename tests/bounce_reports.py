"""Bounces and complaints as receiving servers write them, after the RFCs' own examples.

    dsn()        a delivery status notification (RFC 3464 §4, its appendix examples; Postfix's layout):
                 multipart/report; report-type=delivery-status, a human part, message/delivery-status
                 (a per-message block, then one block per recipient: Final-Recipient, Action, Status,
                 Diagnostic-Code), and the original's headers (text/rfc822-headers)
    arf()        an abuse report (RFC 5965 §B.1 and §B.2): multipart/report; report-type=feedback-report,
                 a human part, message/feedback-report (Feedback-Type, User-Agent, Version, …) and the
                 whole original message (message/rfc822); Original-Rcpt-To left out, as the big
                 mailbox providers redact it
    qmail()      a bounce in qmail's own format (no DSN), for flufl.bounce's detectors

Each is delivered to the address the server would send it to: a DSN to the copy's envelope sender
(the VERP return path), a complaint to the address registered with the feedback loop.
"""

from __future__ import annotations


def _crlf(text: str) -> bytes:
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")


def original_headers(message: bytes) -> str:
    """The header block of a message, as a bounce quotes it."""
    return message.split(b"\r\n\r\n", 1)[0].decode("ascii")


def dsn(
    *,
    to: str,
    recipient: str,
    action: str,
    status: str,
    diagnostic: str,
    original: bytes,
    number: int,
    mta: str = "mx.example.net",
) -> bytes:
    return _crlf(f"""\
Return-Path: <>
Delivered-To: {to}
Received: by mail.example.org (Postfix, from userid 0) id 4WBq0D; Thu, 25 Jul 2024 07:05:12 +0900 (KST)
Date: Thu, 25 Jul 2024 07:05:12 +0900 (KST)
From: MAILER-DAEMON@{mta} (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: {to}
Auto-Submitted: auto-replied
Message-ID: <dsn-{number}@{mta}>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
	boundary="4WBq0D.1721858712/{mta}"

This is a MIME-encapsulated message.

--4WBq0D.1721858712/{mta}
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host {mta}.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

<{recipient}>: {diagnostic}

--4WBq0D.1721858712/{mta}
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; {mta}
X-Postfix-Queue-ID: 4WBq0D
Arrival-Date: Thu, 25 Jul 2024 07:00:03 +0900 (KST)

Final-Recipient: rfc822; {recipient}
Original-Recipient: rfc822;{recipient}
Action: {action}
Status: {status}
Remote-MTA: dns; mx.example.com
Diagnostic-Code: smtp; {diagnostic}

--4WBq0D.1721858712/{mta}
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

{original_headers(original)}

--4WBq0D.1721858712/{mta}--
""")


def arf(*, to: str, original: bytes, number: int, feedback_type: str = "abuse") -> bytes:
    return _crlf(f"""\
Delivered-To: {to}
From: <staff@mailbox-provider.example>
Date: Thu, 25 Jul 2024 09:30:00 +0900
Subject: FW: complaint about a message from your domain
To: <{to}>
Message-ID: <arf-{number}@mailbox-provider.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report;
	boundary="part1_13d.2e68ed54_boundary"

--part1_13d.2e68ed54_boundary
Content-Type: text/plain; charset="US-ASCII"
Content-Transfer-Encoding: 7bit

This is an email abuse report for an email message received from IP
192.0.2.1 on Thu, 25 Jul 2024 07:00:03 +0900.
For more information about this format please see
http://www.mipassoc.org/arf/.

--part1_13d.2e68ed54_boundary
Content-Type: message/feedback-report

Feedback-Type: {feedback_type}
User-Agent: SomeGenerator/1.0
Version: 1
Original-Mail-From: <digest@example.com>
Arrival-Date: Thu, 25 Jul 2024 07:00:03 +0900
Source-IP: 192.0.2.1
Reported-Domain: example.com
Reported-URI: https://example.github.io/publisher/

--part1_13d.2e68ed54_boundary
Content-Type: message/rfc822
Content-Disposition: inline

{original.decode("ascii")}
--part1_13d.2e68ed54_boundary--
""")


def qmail(*, to: str, recipient: str, original: bytes) -> bytes:
    return _crlf(f"""\
Delivered-To: {to}
Date: 25 Jul 2024 07:05:12 -0000
From: MAILER-DAEMON@qmail.example.net
To: {to}
Subject: failure notice
Message-ID: <qmail-1@qmail.example.net>

Hi. This is the qmail-send program at qmail.example.net.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<{recipient}>:
Sorry, no mailbox here by that name. (#5.1.1)

--- Below this line is a copy of the message.

{original_headers(original)}
""")


def auto_reply(*, to: str) -> bytes:
    """Not a bounce: an out-of-office answer to the list's mail."""
    return _crlf(f"""\
Delivered-To: {to}
From: Fay <fay@example.com>
To: {to}
Subject: Out of office
Auto-Submitted: auto-replied
Message-ID: <ooo-1@example.com>
Content-Type: text/plain; charset=utf-8

I am away until August.
""")
