"""`publisher new`: start the digest of a day, a file that `publisher check` already accepts.

`skeleton` is pure (the date comes in; the CLI takes "today" in the site's time zone); `create`
is the edge that refuses to overwrite a file or to start a second digest of a date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path
from zoneinfo import ZoneInfo

from ..config import Config
from ..errors import Diagnostic, PublisherError, shown_path
from .model import Digest
from .parse import date_line

# One entry to write over: a title, a byline, the note (Korean, so it reads as commentary), a tag line.
_ENTRY = """\
논문 제목
(저자)
이 논문에 대한 노트를 여기에 씁니다. 초록(영어)을 붙인다면 이 줄 위에 둡니다.
#태그
"""


def skeleton(date: dt.date) -> str:
    """The text of a new digest: the date line as the seeds write it, a blank line, one entry."""
    return f"{date_line(date)}\n\n{_ENTRY}"


def file_name(date: dt.date) -> str:
    """`2024-07-25.txt`: sorts by date in a listing (the name itself carries no meaning)."""
    return f"{date.isoformat()}.txt"


def today(timezone: str, now: dt.datetime) -> dt.date:
    """The date in the site's time zone at the moment `now` (tz-aware)."""
    return now.astimezone(ZoneInfo(timezone)).date()


def create(config: Config, date: dt.date, digests: Iterable[Digest]) -> Path:
    """Write the skeleton of `date` into the seeds folder; refuse when one of `digests` (the folder's) has that date."""
    target = config.paths.seeds / file_name(date)
    same_date = [digest.source for digest in digests if digest.date == date]
    if same_date:
        raise PublisherError(
            Diagnostic(same_date[0], None, f"already holds the digest of {date.isoformat()}: edit that file")
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with target.open("x", encoding="utf-8", newline="\n") as file:  # "x": never overwrite
            file.write(skeleton(date))
    except FileExistsError:
        raise PublisherError(Diagnostic(shown_path(target), None, "already exists: not overwritten")) from None
    return target
