"""The command line: options, one call per command, errors turned into clean messages."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from . import __version__
from .config import CONFIG_NAME, Config, find_config, load_config
from .errors import PublisherError


def _fail(error: PublisherError, verbose: bool) -> None:
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
            _fail(error, verbose)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="publisher")
def main() -> None:
    """Publish dated research digests as feeds, email issues and a web archive.

    A digest is a plain-text file that starts with its date and holds notes on several papers,
    each closed by a line of #tags. `publisher build` turns a folder of them into RSS, Atom and
    JSON feeds (also one set per tag), email issues and web pages under the output folder.
    """


@main.command()
@common_options
@click.option("--json", "as_json", is_flag=True, help="Print the whole parsed model as one JSON document.")
@click.option("--strict", is_flag=True, help="Treat warnings as errors (exit 1 on any warning).")
def check(config: Config, as_json: bool, strict: bool) -> None:
    """Read every digest and report problems, without writing anything.

    Prints one line per digest (date, number of entries, tags), then every warning and error as
    `path:line: message`. Exits 1 when there are errors (or warnings, with --strict).
    """
    from .build import check as check_digests
    from .report import digests_json, summary_line

    checked = check_digests(config)
    digests = (
        checked.catalog.digests if checked.catalog else sorted(checked.digests, key=lambda d: d.date, reverse=True)
    )
    if as_json:
        document = {
            "digests": digests_json(digests),
            "warnings": [d.as_json() for d in checked.warnings],
            "errors": [d.as_json() for d in checked.errors],
        }
        click.echo(json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True))
    else:
        for digest in digests:
            click.echo(summary_line(digest))
        for diagnostic in checked.warnings + checked.errors:
            click.echo(str(diagnostic), err=True)
    if checked.errors or (strict and checked.warnings):
        sys.exit(1)


@main.command()
@common_options
@click.option("--strict", is_flag=True, help="Treat warnings as errors: write nothing on any warning.")
def build(config: Config, strict: bool) -> None:
    """Build feeds, email issues and web pages from the digests into the output folder.

    Nothing is written when a digest has an error; the output folder is replaced in one step, so
    it always holds one complete build. Files whose bytes did not change are left untouched.
    """
    from .build import build as run_build
    from .errors import shown_path

    report = run_build(config, strict=strict)
    for warning in report.warnings:
        click.echo(str(warning), err=True)
    write = report.write
    catalog = report.catalog
    click.echo(
        f"built {len(catalog.digests)} digests, {catalog.entry_count} entries, {len(catalog.tags)} tags "
        f"into {shown_path(config.paths.out)}: {len(write.written)} written, {write.unchanged} unchanged, "
        f"{len(write.removed)} removed in {report.seconds:.2f} s"
    )
