"""The search index: Pagefind (PyPI `pagefind-bin`, its binary inside the wheel) run over the notes,
one index a year.

Each year's index is an aggregate group of the build (pipeline.py): its key holds the content key
of every digest of that year, the search template and Pagefind's version, so a build keeps the
index of every year in which no note changed and runs the indexer over the changed years' notes
only (Pagefind has no incremental mode: a digest added costs one year, not the archive). When it
runs, it reads the documents of render/search.py from a temporary folder and writes its bundle into
another; the bundle comes back as outputs under `pagefind/<year>/`, which the writer stages with
everything else and swaps in at once. The search page merges the years in the browser
(static/search.js). For the same documents and version, Pagefind writes the same bytes
(tests/test_search.py).
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import subprocess
import tempfile
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path

from ..digests.catalog import Catalog
from ..errors import Diagnostic, OutputError
from ..render import paths, search
from ..render.context import Context
from ..render.output import Group, Output, group_key

# Pagefind also writes its own search interfaces; the search page has its own (static/search.js).
_LEFT_OUT = ("pagefind-ui.", "pagefind-modular-ui.", "pagefind-component-ui.", "pagefind-highlight.")


@functools.lru_cache(maxsize=1)
def indexer_version() -> str:
    try:
        return metadata.version("pagefind-bin")
    except metadata.PackageNotFoundError:
        return "missing"


def search_groups(catalog: Catalog, context: Context, keys: Mapping[dt.date, str]) -> list[tuple[str, Group]]:
    """One group per year with notes, newest first, each with the folder its index is written to
    (`pagefind/<year>`), keyed by the notes it indexes."""
    language = search.index_language(context.config.site.language)
    groups = []
    for year in search.index_years(catalog):
        digests = search.of_year(catalog, year)
        bundle = paths.search_bundle(year)
        key = group_key("search", indexer_version(), language, bundle, *(keys[digest.date] for digest in digests))

        def make(_: object, digests: list = digests, bundle: str = bundle) -> list[Output]:
            return index(search.search_documents(digests, context), language, bundle)

        groups.append((bundle, Group(key, (), make, uses=(search.TEMPLATE,))))
    return groups


def index(documents: list[Output], language: str, bundle: str) -> list[Output]:
    """Pagefind's bundle for these documents, as outputs under `bundle`, sorted by path."""
    executable = _executable()
    # Its own folder as working directory, and none of the PAGEFIND_* settings of the environment:
    # a pagefind.yml or a variable of the person building must not change the index.
    env = {name: value for name, value in os.environ.items() if not name.upper().startswith("PAGEFIND_")}
    # The system's temporary folder: one beside out/ measured no faster here, cold or incremental (README).
    with tempfile.TemporaryDirectory(prefix="publisher-search-") as folder:
        site, written = Path(folder, "site"), Path(folder, "bundle")
        for document in documents:
            target = site / document.relpath
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(document.data)
        command = [executable, "--site", str(site), "--output-path", str(written)]
        command += ["--force-language", language, "--silent"]
        result = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            reason = (result.stderr or result.stdout).strip() or f"exit code {result.returncode}"
            raise OutputError(Diagnostic(executable, None, f"the search indexer failed: {reason}"))
        files = sorted(path for path in written.rglob("*") if path.is_file())
        return [
            Output(f"{bundle}/{path.relative_to(written).as_posix()}", path.read_bytes())
            for path in files
            if not path.name.startswith(_LEFT_OUT)
        ]


def _executable() -> str:
    try:
        from pagefind_bin import get_executable

        return str(get_executable())
    except (ImportError, FileNotFoundError):
        raise OutputError(
            Diagnostic(
                "pagefind-bin", None, "the search indexer is not installed: python3 -m pip install 'pagefind[bin]'"
            )
        ) from None
