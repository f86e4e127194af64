"""`publisher build` and `publisher check`: the whole pipeline, stage by stage.

seeds/*.txt ─► sources ─► parse ─► catalog ─► render ─► writer ─► out/
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from .catalog import Catalog, make_catalog
from .config import Config
from .context import Context
from .errors import Diagnostic, SourceError
from .parse import parse_sources
from .render import render_all
from .sources import read_sources
from .templating import load_theme
from .writer import WriteReport, write_outputs


@dataclass(frozen=True)
class Checked:
    """The result of reading every digest: a catalog when there were no errors."""

    catalog: Catalog | None
    digests: tuple  # every digest that parsed, even when the catalog could not be made
    warnings: tuple[Diagnostic, ...]
    errors: tuple[Diagnostic, ...]


@dataclass(frozen=True)
class BuildReport:
    catalog: Catalog
    warnings: tuple[Diagnostic, ...]
    write: WriteReport
    seconds: float


def check(config: Config) -> Checked:
    """Read and parse every digest and index them; collect every problem instead of stopping."""
    try:
        sources = read_sources(config.paths.seeds)
    except SourceError as error:
        return Checked(None, (), (), tuple(error.diagnostics))
    digests, diagnostics = parse_sources(sources)
    warnings = tuple(d for d in diagnostics if d.severity == "warning")
    errors = [d for d in diagnostics if d.severity == "error"]
    catalog = None
    try:
        catalog = make_catalog(digests)
    except SourceError as error:
        errors += error.diagnostics
    if errors:
        catalog = None
    return Checked(catalog, tuple(digests), warnings, tuple(errors))


def build(config: Config, *, strict: bool = False) -> BuildReport:
    """Read, parse, index, render and write; raise before writing anything if a digest is bad."""
    started = time.perf_counter()
    checked = check(config)
    if checked.catalog is None or (strict and checked.warnings):
        raise SourceError(list(checked.errors + checked.warnings))
    context = Context(config, load_theme(config.paths.templates))
    outputs = render_all(checked.catalog, context)
    written = write_outputs(outputs, config.paths.out)
    return BuildReport(checked.catalog, checked.warnings, written, time.perf_counter() - started)
