"""The mailing list: who gets which issues, and sending them once each over SMTP.

    database.py     the store's two engines behind one connection: SQLite (a file) or PostgreSQL (a URL)
    schema.py       the one schema of both engines, versioned, upgraded in place (`publisher db upgrade`)
    subscribers.py  the store: subscribers, their topics, the suppression list, forgetting a person
    listfile.py     the list as CSV: `subscribers import` and `export` (moves a list between stores)
    ledger.py       the send ledger: which run claimed each (issue, subscriber), what went out, what is pending
    transport.py    SMTP: connections, rate, retries
    send.py         `publisher send`: personal copies cut from a built issue, sent, recorded
    senders.py      `send --workers N`: N sender processes, one run each, their summaries merged
    outcomes.py     what a send did: each subscriber's outcome, the summary, the report at the end
    backlog.py      `publisher send --new`: the built issues from `list.send_from` on that no send finished
    tracing.py      which (issue, subscriber) a report is about: VERP return paths, Message-IDs
    reports.py      bounces (DSN, RFC 3464; flufl.bounce for the rest) and complaints (ARF, RFC 5965) read
    imap.py         the bounce mailbox over IMAP: read every message, move the read ones
    bounces.py      `publisher bounces`: trace, decide (hard, soft, complaint), record, move
    tokens.py       signed tokens, one purpose each, bound to one address: every link and form
    signups.py      what readers do through the endpoint: sign up, confirm, topics, pause, leave
    endpoint/       `publisher listen`: the web application readers use (Flask, one blueprint)

It reads what the build wrote (`out/email/DATE.html`, `out/send/DATE.json`) through
`render.paths`, `render.assemble` and `render.message`; it never renders.
The command line uses `subscribers.Store`, `send.send_issue`, `backlog.new_issues`,
`transport.SmtpSettings`, `bounces.process` over an `imap.Mailbox`, and `endpoint.create_app`.
"""
