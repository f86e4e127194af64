"""The commands for a list run on a server: `publisher db upgrade`, `publisher bounces`.

Registered on the main command group by main.py; the same thin layer as mail.py: options in, one call out.
"""

from __future__ import annotations

from typing import Any

import click

from ..config import Config
from ..errors import PublisherError
from .options import common_options, database_option, store_target


@click.command()
@common_options
@database_option
@click.option("--dry-run", is_flag=True, help="Print the decisions; record nothing, move nothing.")
def bounces(config: Config, database: Any, dry_run: bool) -> None:
    """Read bounces and complaints from the IMAP mailbox and suppress the addresses they condemn.

    Reads every message in [bounces] folder (password: $PUBLISHER_IMAP_PASSWORD): delivery status
    notifications (RFC 3464) and complaints (ARF, RFC 5965). A hard bounce (5.1.x) or a complaint
    suppresses the address at once; soft bounces when soft_limit of its last soft_window sends
    bounced. Each decision is recorded with the report it came from, and the report moves to
    [bounces] processed_folder, so running it again counts nothing twice.
    """
    import os

    from ..mailing.bounces import Rules, process, run_lines
    from ..mailing.database import has_store, shown
    from ..mailing.imap import PASSWORD_ENV, ImapSettings, Mailbox
    from ..mailing.ledger import Ledger
    from ..mailing.send import SECRET_ENV, require_secret
    from ..mailing.subscribers import Store

    settings = config.bounces
    # The secret checks the VERP tags `send` made with it; without a return path only Message-IDs trace.
    secret = require_secret(os.environ.get(SECRET_ENV)) if settings.return_path else os.environ.get(SECRET_ENV, "")
    database = store_target(config, database)
    if not has_store(database):
        raise PublisherError(f"{shown(database)}: no subscriber database here: nothing to suppress")
    imap = ImapSettings(
        host=settings.imap_host,
        port=settings.imap_port,
        security=settings.imap_security,
        user=settings.imap_user,
        password=os.environ.get(PASSWORD_ENV, ""),
        folder=settings.folder,
        processed_folder=settings.processed_folder,
    )
    rules = Rules(settings.return_path, settings.soft_limit, settings.soft_window)
    with Mailbox(imap) as mailbox, Store(database) as store, Ledger(database) as ledger:
        run = process(mailbox, store, ledger, secret, rules, dry_run=dry_run)
    for line in run_lines(run, settings.folder, settings.processed_folder, dry_run):
        click.echo(line)
    for line in run.left:
        click.echo(f"left in {settings.folder}: {line}", err=True)


@click.group()
def db() -> None:
    """The subscriber store: a SQLite file (paths.database) or PostgreSQL ([list] database, $PUBLISHER_DATABASE_URL)."""


@db.command("upgrade")
@common_options
@database_option
def upgrade_database(config: Config, database: Any) -> None:
    """Make the store, or upgrade its schema in place (rows are kept). `send` and `listen` do it too."""
    from ..mailing.database import connect, database_errors, shown
    from ..mailing.schema import NewerSchema, upgrade

    target = store_target(config, database)
    connection = connect(target)
    try:
        before, after = upgrade(connection)
    except NewerSchema as newer:
        raise PublisherError(f"{shown(target)}: {newer}") from None
    except database_errors(connection) as problem:
        raise connection.error(problem) from None
    finally:
        connection.close()
    change = f"schema {after}, up to date" if before == after else f"schema {before} → {after}"
    click.echo(f"{shown(target)} ({connection.engine}): {change}")


COMMANDS = (bounces, db)
