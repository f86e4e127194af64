"""`publisher serve`'s first answer to a saved digest: its web page, rendered alone and served from
memory while the full rebuild runs (as Hugo's server renders the pages being viewed first).

The page is rendered by the same unit, from the same catalog, as the build makes it, so it is the
page the build will write. The rebuild follows at once and the preview is dropped when it ends,
whether it succeeds or not: out/ is still written only by the build, in one swap.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ..config import Config
from ..errors import PublisherError, shown_path
from ..render.context import Context
from ..render.templating import load_theme
from ..render.units import digest_jobs, render_digest
from .pipeline import Checked


def preview_pages(config: Config, checked: Checked, saved: Iterable[Path]) -> dict[str, bytes]:
    """The web pages of the saved digests, from the digests just read (the rebuild then uses them
    too), by path in out/; {} when they cannot be made now (a digest with an error, say: the rebuild
    reports it)."""
    wanted = {shown_path(path) for path in saved}
    try:
        if checked.catalog is None:
            return {}
        context = Context(config, load_theme(config.paths.templates))
        jobs = [job for job in digest_jobs(checked.catalog) if job.unit == "page" and job.digest.source in wanted]
        return {output.relpath: output.data for job in jobs for output in render_digest(job, context).outputs}
    except PublisherError:
        return {}
