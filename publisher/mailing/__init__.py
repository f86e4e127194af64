"""The mailing list: who gets which issues, and sending them once each over SMTP.

    subscribers.py  the store: subscribers, their topics, the suppression list (SQLite)
    ledger.py       the send ledger: which run claimed each (issue, subscriber), what went out, what is pending
    transport.py    SMTP: connections, rate, retries
    send.py         `publisher send`: personal copies cut from a built issue, sent, recorded

It reads what the build wrote (`out/email/DATE.html`, `out/send/DATE.json`) through
`render.paths`, `render.assemble` and `render.message`; it never renders.
The command line uses `subscribers.Store`, `send.send_issue` and `transport.SmtpSettings`.
"""
