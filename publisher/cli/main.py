"""The `publisher` command group: every command of `site.py` and `mail.py` under one name."""

from __future__ import annotations

import gc

import click

from .. import __version__
from . import mail, server, site


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="publisher")
def main() -> None:
    """Publish dated research digests as feeds, email issues and a web archive.

    A digest is a plain-text file that starts with its date and holds notes on several papers,
    each closed by a line of #tags. `publisher build` turns a folder of them into RSS, Atom and
    JSON feeds (also one set per tag), email issues and web pages under the output folder.
    """
    # A build holds millions of long-lived objects (the catalog, the manifests): with the default
    # thresholds the collector scans them all again and again, a quarter of a one-digest build of
    # 12,200 digests. mypy raises them the same way; garbage cycles are still collected, later.
    gc.set_threshold(200_000, 30, 30)


for _command in (*site.COMMANDS, *mail.COMMANDS, *server.COMMANDS):
    main.add_command(_command)
