"""Options every command shares, and the one place that turns a PublisherError into a message and exit code."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ..config import CONFIG_NAME, Config, find_config, load_config
from ..errors import PublisherError


def fail(error: PublisherError, verbose: bool) -> None:
    for diagnostic in error.diagnostics:
        click.echo(str(diagnostic), err=True)
    if verbose:
        raise error
    sys.exit(1)


def common_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--config, --seeds, --out and -v for every command; hands the command a loaded Config."""

    @click.option(
        "--config",
        "config_path",
        type=click.Path(path_type=Path, dir_okay=False),
        help=f"Config file. Default: ./{CONFIG_NAME}, else [tool.publisher] in ./pyproject.toml, "
        "else built-in defaults.",
    )
    @click.option(
        "--seeds",
        type=click.Path(path_type=Path, file_okay=False),
        help="Folder of digest files (*.txt, searched recursively). Overrides paths.seeds.",
    )
    @click.option(
        "--out",
        type=click.Path(path_type=Path, file_okay=False),
        help="Output folder, replaced as a whole on every build. Overrides paths.out.",
    )
    @click.option("-v", "--verbose", is_flag=True, help="Show a traceback on errors.")
    @functools.wraps(command)
    def wrapper(config_path: Path | None, seeds: Path | None, out: Path | None, verbose: bool, **kwargs: Any) -> Any:
        try:
            config = load_config(config_path or find_config(Path.cwd()))
            return command(config.with_paths(seeds=seeds, out=out), **kwargs)
        except PublisherError as error:
            fail(error, verbose)

    return wrapper


def database_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """--db: a SQLite file or a postgresql:// URL; the command gets the store to use (a Path or a URL)."""

    def choose_store(context: click.Context, _parameter: click.Parameter, value: str | None) -> Any:
        from ..mailing.database import parse_target

        return None if value is None else parse_target(value)

    return click.option(
        "--db",
        "database",
        metavar="PATH|URL",
        callback=choose_store,
        help="Subscriber database: a SQLite file (made when missing) or a postgresql:// URL. Overrides "
        "$PUBLISHER_DATABASE_URL, [list] database and paths.database.",
    )(command)


def store_target(config: Config, given: Any) -> Any:
    """The store a mail command uses: --db, else $PUBLISHER_DATABASE_URL, else [list] database, else paths.database."""
    from ..mailing.database import choose

    return choose(given, config.list.database, config.paths.database)
