"""The mail commands: `publisher subscribers …`, `publisher unsubscribe`, `publisher send`.

Registered on the main command group by main.py; the same thin layer: options in, one call out.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from ..config import Config
from ..errors import PublisherError
from .options import common_options, database_option, store_target


def _address(text: str) -> str:
    from ..mailing.subscribers import normalise_address

    try:
        return normalise_address(text)
    except ValueError as error:
        raise PublisherError(str(error)) from None


@click.group()
def subscribers() -> None:
    """Who gets the email issues: import a CSV, add, remove, list.

    A subscriber follows every note, or only the notes carrying some tags. Unsubscribed addresses
    (`publisher unsubscribe`) stay on a suppression list that no import or add undoes.
    """


@subscribers.command("import")
@common_options
@database_option
@click.argument("csv_file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--skip-invalid", is_flag=True, help="Import the good rows and report the bad ones.")
def import_subscribers(config: Config, database: Any, csv_file: Path, skip_invalid: bool) -> None:
    """Add or update subscribers from a CSV file with the header `email,name,tags`.

    `tags` is space-separated (`#rlhf math`); empty follows everything. All or nothing: a bad row is
    reported as `file:line: reason` and nothing is imported, unless --skip-invalid. Importing the
    same file again changes nothing; unsubscribed addresses are left out.
    """
    from ..mailing.listfile import import_csv
    from ..mailing.subscribers import Store

    with Store(store_target(config, database)) as store:
        report = import_csv(store, csv_file, skip_invalid=skip_invalid)
    for diagnostic in report.skipped:
        click.echo(f"{diagnostic} (skipped)", err=True)
    click.echo(
        f"{report.added} added, {report.updated} updated, {report.unchanged} unchanged, "
        f"{report.suppressed} unsubscribed (left out), {len(report.skipped)} invalid (skipped)"
        + (f", {report.suppressions} suppressions added" if report.suppressions else "")
    )


@subscribers.command("export")
@common_options
@database_option
@click.argument("csv_file", type=click.Path(path_type=Path, dir_okay=False, allow_dash=True), default="-")
def export_subscribers(config: Config, database: Any, csv_file: Path) -> None:
    """Write everyone in the store as CSV (to CSV_FILE, default: standard output).

    Besides `email,name,tags` it carries the pause, the date added, the suppression list and the
    evidence of each confirmed sign-up, so `publisher subscribers import` of the file into another
    store (SQLite or PostgreSQL) moves the list as it is. Forgotten people appear only as sha256:….
    """
    import os

    from ..mailing.listfile import export_csv
    from ..mailing.subscribers import Store

    with Store(store_target(config, database)) as store:
        text = export_csv(store)
    if str(csv_file) == "-":
        click.echo(text, nl=False)
        return
    partial = csv_file.with_name(f".{csv_file.name}.partial")
    try:
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, csv_file)  # a reader never sees half a file
    except OSError as error:
        raise PublisherError(f"{csv_file}: cannot write: {error.strerror}") from None
    click.echo(f"{csv_file}: {text.count(chr(10)) - 1} rows", err=True)


@subscribers.command("forget")
@common_options
@database_option
@click.argument("email")
def forget_subscriber(config: Config, database: Any, email: str) -> None:
    """Erase a person (a GDPR erasure request): subscriber row, pending sign-up, consent evidence and
    send ledger. Only a hash of the address stays on the suppression list, so no later import or
    sign-up can mail them again."""
    from ..mailing.subscribers import Store

    address = _address(email)
    with Store(store_target(config, database)) as store:
        erased = store.forget(address)
    rows = ", ".join(f"{count} {table}" for table, count in erased.items() if count) or "nothing stored"
    click.echo(f"{address}: forgotten ({rows}); a hash of it stays on the suppression list")


@subscribers.command("add")
@common_options
@database_option
@click.argument("email")
@click.option("--name", default="", help="The subscriber's name.")
@click.option("--tag", "tags", multiple=True, help="Follow only notes with this tag (repeatable). Default: all.")
@click.option("--resubscribe", is_flag=True, help="Lift an earlier unsubscribe: only when the person asked again.")
def add_subscriber(
    config: Config, database: Any, email: str, name: str, tags: tuple[str, ...], resubscribe: bool
) -> None:
    """Add a subscriber, or change the name and tags of one."""
    from ..mailing.subscribers import Store, Subscriber, parse_tags

    try:
        subscriber = Subscriber(_address(email), name.strip(), parse_tags(" ".join(tags)))
    except ValueError as error:
        raise PublisherError(str(error)) from None
    with Store(store_target(config, database)) as store:
        changed = store.add(subscriber, resubscribe=resubscribe)
    click.echo(f"{subscriber.address}: {'saved' if changed else 'unchanged'}")


@subscribers.command("remove")
@common_options
@database_option
@click.argument("email")
def remove_subscriber(config: Config, database: Any, email: str) -> None:
    """Delete a subscriber (to stop all mail to someone for good, use `publisher unsubscribe`)."""
    from ..mailing.subscribers import Store

    address = _address(email)
    with Store(store_target(config, database)) as store:
        if not store.remove(address):
            raise PublisherError(f"{address} is not a subscriber")
    click.echo(f"{address}: removed")


@subscribers.command("list")
@common_options
@database_option
def list_subscribers(config: Config, database: Any) -> None:
    """Print every subscriber: address, name and tags (tab-separated), unsubscribed ones marked."""
    from ..mailing.subscribers import Store

    with Store(store_target(config, database)) as store:
        suppressed = store.suppressed()
        people = store.subscribers()
    for person in people:
        tags = " ".join(f"#{tag}" for tag in person.tags) or "(all)"
        mark = "\tunsubscribed" if person.key in suppressed else ""
        click.echo(f"{person.address}\t{person.name}\t{tags}{mark}")
    active = sum(1 for person in people if person.key not in suppressed)
    click.echo(f"{len(people)} subscribers, {active} active", err=True)


@click.command()
@common_options
@database_option
@click.argument("email")
def unsubscribe(config: Config, database: Any, email: str) -> None:
    """Stop all mail to an address, for good: no later import or send reaches it."""
    from ..mailing.subscribers import Store

    address = _address(email)
    with Store(store_target(config, database)) as store:
        added = store.unsubscribe(address)
    click.echo(f"{address}: {'unsubscribed' if added else 'already unsubscribed'}")


@click.command()
@common_options
@database_option
@click.argument("date", type=click.DateTime(formats=["%Y-%m-%d"]), metavar="DATE", required=False)
@click.option("--new", "new", is_flag=True, help="Send every built issue not yet sent since [list] send_from (CI).")
@click.option("--smtp-host", help="SMTP server. Overrides smtp.host.")
@click.option("--smtp-port", type=click.IntRange(1, 65535), help="Overrides smtp.port.")
@click.option("--smtp-security", type=click.Choice(["starttls", "ssl", "plain"]), help="Overrides smtp.security.")
@click.option("--smtp-user", help="Log in as this user (password: $PUBLISHER_SMTP_PASSWORD). Overrides smtp.username.")
@click.option(
    "--rate", type=click.FloatRange(min=0), help="Messages per second, all connections together; 0: no limit."
)
@click.option(
    "--connections", type=click.IntRange(1, 64), help="Parallel SMTP connections. Overrides smtp.connections."
)
@click.option(
    "--retries", type=click.IntRange(0, 20), help="Attempts after a temporary failure. Overrides smtp.retries."
)
@click.option("--backoff", type=click.FloatRange(min=0, min_open=True), help="Seconds before the first retry.")
@click.option("--retry-pending", is_flag=True, help="Also resend messages an interrupted run left pending.")
@click.option(
    "--workers",
    type=click.IntRange(1, 32),
    default=1,
    show_default=True,
    help="Sender processes on this machine; they split the list (--rate is shared between them).",
)
@click.option(
    "--dry-run",
    type=click.Path(path_type=Path, file_okay=False),
    metavar="FOLDER",
    help="Write each personal message to FOLDER as .eml; connect to nothing, record nothing.",
)
def send(config: Config, database: Any, date: Any, new: bool, **given: Any) -> None:
    """Mail the built email issue of DATE (YYYY-MM-DD) to every subscriber, once.

    Each subscriber gets their own copy: only the notes with their tags (none at all when the issue
    has none of them), their own unsubscribe link, signed with $PUBLISHER_SECRET. Every message is
    recorded in the database before and after it is sent, so running the command again, after a
    failure or an interruption, sends only what was not sent. Runs that overlap split the list:
    each message is claimed by one run before it is sent. Exits 1 when anything failed.

    --new (instead of DATE) sends every built issue from [list] send_from on that no send has
    finished yet, oldest first: what CI runs after deploying. Running it again sends nothing twice.
    """
    if (date is None) == (not new):
        raise click.UsageError("give a DATE (YYYY-MM-DD) or --new, not both")
    import os

    from ..mailing.send import PASSWORD_ENV, SendOptions
    from ..mailing.transport import SmtpSettings

    smtp = config.smtp
    settings = SmtpSettings(
        host=given["smtp_host"] or smtp.host,
        port=given["smtp_port"] or smtp.port,
        security=given["smtp_security"] or smtp.security,
        username=smtp.username if given["smtp_user"] is None else given["smtp_user"],
        password=os.environ.get(PASSWORD_ENV, ""),
        timeout=smtp.timeout,
    )
    if settings.username and not settings.password and not given["dry_run"]:
        raise PublisherError(f"SMTP user {settings.username} needs a password: set {PASSWORD_ENV}")
    workers = 1 if given["dry_run"] else given["workers"]  # a dry run records nothing to split by
    options = SendOptions(
        rate=(smtp.rate if given["rate"] is None else given["rate"]) / workers,
        connections=given["connections"] or smtp.connections,
        retries=smtp.retries if given["retries"] is None else given["retries"],
        backoff=given["backoff"] or smtp.backoff,
        retry_pending=given["retry_pending"],
        dry_run=given["dry_run"],
        return_path=config.bounces.return_path,
    )
    database = store_target(config, database)
    if new:
        from ..mailing.backlog import new_issues

        days = new_issues(config.paths.out, database, config.list.send_from)
        if not days:
            click.echo(f"no new issue to send (none built since {config.list.send_from} that a send has not finished)")
    else:
        days = [date.date()]
    failed = False
    for day in days:
        summary = _send_one(config, database, day, settings, options, workers)
        failed = failed or not summary.ok
        if summary.interrupted:
            break
    if failed:
        sys.exit(1)


def _send_one(config: Config, database: Any, day: Any, settings: Any, options: Any, workers: int) -> Any:
    """Send one issue with a progress bar on a terminal (one worker); print its summary."""
    import contextlib
    import os
    import signal

    from ..mailing.outcomes import summary_lines
    from ..mailing.send import SECRET_ENV, send_issue

    with contextlib.ExitStack() as stack:
        bar: Any = None
        # SIGTERM (a service manager, a CI timeout) stops as gently as Ctrl-C: messages under way finish.
        previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
        stack.callback(signal.signal, signal.SIGTERM, previous)

        def on_plan(total: int) -> None:
            nonlocal bar
            if total and sys.stdout.isatty():
                bar = stack.enter_context(click.progressbar(length=total, label=f"sending {day}"))

        arguments = dict(
            out=config.paths.out, database=database, secret=os.environ.get(SECRET_ENV), smtp=settings, options=options
        )
        if workers > 1:
            from ..mailing.senders import send_with_workers

            summary = send_with_workers(day, workers, **arguments)
        else:
            summary = send_issue(
                day, **arguments, on_plan=on_plan, on_outcome=lambda outcome: bar.update(1) if bar else None
            )
    report, problems = summary_lines(summary, options.dry_run)
    for line in report:
        click.echo(line)
    for line in problems:
        click.echo(line, err=True)
    return summary


@click.command()
@common_options
@database_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True, help="0 picks a free port.")
@click.option("--threads", type=click.IntRange(1, 64), default=4, show_default=True, help="Requests served at once.")
def listen(config: Config, database: Any, host: str, port: int, threads: int) -> None:
    """Run the list endpoint: readers subscribe, confirm, choose topics and unsubscribe.

    Serves the routes under [list] endpoint with waitress, a production WSGI server; put a reverse
    proxy with TLS in front of it. Needs $PUBLISHER_SECRET (the one `send` signs links with) and the
    [smtp] settings (password: $PUBLISHER_SMTP_PASSWORD) for confirmation mail. Shares the
    subscriber database with `publisher send`. Ctrl-C stops.
    """
    import logging

    from waitress.server import create_server

    from ..mailing.endpoint.app import MAX_BODY, create_app, settings_from_environment

    logging.basicConfig(level=logging.INFO, format="%(name)s: %(levelname)s: %(message)s")
    from ..mailing.database import shown
    from ..mailing.subscribers import Store

    settings = settings_from_environment(config, store_target(config, database))
    with Store(settings.database):  # reachable, and its schema up to date, before the first request
        pass
    endpoint = settings.config.list.endpoint
    if endpoint.startswith("http://"):
        click.echo(
            f"warning: list.endpoint {endpoint} is plain http: links carry tokens in the clear; "
            "use https outside your own machine",
            err=True,
        )
    server = create_server(
        create_app(settings=settings),
        host=host,
        port=port,
        threads=threads,
        ident="publisher",
        max_request_body_size=4 * MAX_BODY,  # past this, waitress refuses before the app sees it
        max_request_header_size=32 * 1024,
        clear_untrusted_proxy_headers=False,  # ProxyFix decides, from list.trusted_proxies
    )
    click.echo(
        f"listening on http://{host}:{server.effective_port}/ (public URL {endpoint}, "
        f"store {shown(settings.database)}); Ctrl-C stops",
        err=True,
    )
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()


COMMANDS = (subscribers, unsubscribe, send, listen)
