"""`publisher send --new`: which built issues still have to go out (what CI runs after deploying).

An issue is new when `build` wrote it (`out/send/DATE.json`), it is not older than `list.send_from`,
and no send of it has gone through its whole list yet (the ledger's `finished` record, written by
`send.send_issue` when every planned copy had its attempt). Without `send_from`, `--new` refuses:
a first run would otherwise mail every issue ever built. A finished issue is never planned again,
so a reader who joins later does not get old issues, and a re-run of the workflow sends nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from ..errors import Diagnostic, SendError
from ..render import paths
from .database import Target, has_store, shown
from .ledger import Ledger

_MANIFEST = re.compile(r"\d{4}-\d{2}-\d{2}\.json")


def built_issues(out: Path) -> list[dt.date]:
    """The dates of every issue the last build wrote, oldest first."""
    folder = out / Path(paths.send_manifest(dt.date(2000, 1, 1))).parent
    dates = []
    for path in folder.glob("*.json") if folder.is_dir() else ():
        if _MANIFEST.fullmatch(path.name):
            try:
                dates.append(dt.date.fromisoformat(path.stem))
            except ValueError:
                continue
    return sorted(dates)


def new_issues(out: Path, database: Target, send_from: dt.date | None) -> list[dt.date]:
    """The issues `send --new` sends, oldest first; SendError says why it cannot decide."""
    if send_from is None:
        raise SendError(
            "send --new needs the date of the first issue the list sends: set [list] send_from = 2024-07-25 in "
            "the config (without it, a first run would mail every issue ever built)"
        )
    if not has_store(database):
        raise SendError(Diagnostic(shown(database), None, "no subscriber database here: add subscribers first"))
    with Ledger(database) as ledger:
        finished = ledger.finished_issues()
    return [day for day in built_issues(out) if day >= send_from and day.isoformat() not in finished]
