"""A content-addressed cache of per-digest parts, kept outside out/ (`paths.cache`).

An entry's key hashes everything its outputs depend on: the digest as parsed, its neighbours'
dates, the theme's files, the config (less its paths) and the package version. So an entry is
never stale: any change gives another key. A missing, truncated or damaged entry only costs the
time to render it again; entries no build used any more are pruned. Parsed digests are cached the
same way (ParseCache), by the bytes they were read from.

The cache folder is trusted like the source tree: entries are pickles (see SECURITY.md).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import pickle
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from .. import __version__
from ..config import Paths
from ..digests.parse import Parsed, parse_digest
from ..render.context import Context, Prepared
from ..render.output import group_key
from ..render.units import DigestJob, DigestParts
from .records import write_atomically

if TYPE_CHECKING:  # sqlite3 loads only when the parts cache is opened (never on a no-op build)
    import sqlite3

_FORMAT = b"publisher-cache-1\n"


def context_key(context: Context) -> str:
    """What every output depends on besides its own data and templates: the code and the config.
    Paths do not change what is rendered."""
    config = dataclasses.replace(context.config, paths=Paths(), source="")
    return group_key("context", __version__, code_fingerprint(), repr(config))


def theme_key(context: Context, uses: tuple[str, ...]) -> str:
    return context.theme.fingerprint_of(uses)


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """publisher's own source: an edit to a renderer (even without a new version) is a new context."""
    package = Path(__file__).parent.parent
    files = sorted(package.rglob("*.py"))
    return group_key(
        "code", *(f"{path.relative_to(package)}:{hashlib.sha256(path.read_bytes()).hexdigest()}" for path in files)
    )


def job_key(job: DigestJob, context: Context, shared: str, digest_key: str) -> str:
    return group_key("job", shared, theme_key(context, job.uses), job.unit, digest_key, repr((job.older, job.newer)))


def pack(parts: DigestParts) -> bytes:
    return zlib.compress(pickle.dumps(parts, protocol=pickle.HIGHEST_PROTOCOL), 1)


def unpack(blob: bytes) -> DigestParts:
    parts = pickle.loads(zlib.decompress(blob))
    if not isinstance(parts, DigestParts):
        raise ValueError("not a rendered unit")
    return parts


class PartsCache:
    """Rendered units by key, in one SQLite file (stdlib): zlib-compressed pickles, written in one
    transaction per build, so a cold build does not create thousands of files. A damaged database
    is dropped and made again: it only costs time."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "parts.sqlite"
        self._db: sqlite3.Connection | None = None
        self._keys: set[str] | None = None  # what the database holds, read once

    def _connect(self) -> sqlite3.Connection:
        import sqlite3

        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                self._db = self._open()
            except sqlite3.DatabaseError:
                self.path.unlink(missing_ok=True)
                self._db = self._open()
        return self._db

    def _open(self) -> sqlite3.Connection:
        import sqlite3

        db = sqlite3.connect(self.path, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE IF NOT EXISTS parts (key TEXT PRIMARY KEY, data BLOB NOT NULL)")
        db.execute("CREATE TABLE IF NOT EXISTS prepared (key TEXT PRIMARY KEY, data BLOB NOT NULL)")
        db.execute("BEGIN")
        return db

    def get(self, key: str) -> DigestParts | None:
        """The entry's parts; None when missing or damaged (a miss only costs time)."""
        try:
            if self._keys is None:  # one query, not one per miss: a first build misses every unit
                self._keys = {row[0] for row in self._connect().execute("SELECT key FROM parts")}
            if key not in self._keys:
                return None
            row = self._connect().execute("SELECT data FROM parts WHERE key = ?", (key,)).fetchone()
            return unpack(row[0]) if row else None
        except Exception:  # any damage: render again
            return None

    def put(self, key: str, blob: bytes) -> None:
        """Store a packed entry (see `pack`): workers pack in parallel, so the parent only stores."""
        self._connect().execute("INSERT OR REPLACE INTO parts VALUES (?, ?)", (key, blob))
        if self._keys is not None:
            self._keys.add(key)

    def prepared(self, key: str, make: Callable[[], Prepared]) -> Prepared:
        """What `make` gives for this key, made once and kept (the inlined email template)."""
        try:
            row = self._connect().execute("SELECT data FROM prepared WHERE key = ?", (key,)).fetchone()
            value = pickle.loads(zlib.decompress(row[0])) if row else None
        except Exception:  # any damage: make it again
            value = None
        if not isinstance(value, Prepared):
            value = make()
            blob = zlib.compress(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL), 1)
            self._connect().execute("DELETE FROM prepared")  # one theme at a time
            self._connect().execute("INSERT INTO prepared VALUES (?, ?)", (key, blob))
        return value

    def close(self, keep: set[str] | None = None) -> None:
        """Commit; with `keep`, first delete every entry not in it (no build uses them any more)."""
        if self._db is None:
            return
        if keep is not None:
            self._db.execute("CREATE TEMP TABLE used (key TEXT PRIMARY KEY)")
            self._db.executemany("INSERT OR IGNORE INTO used VALUES (?)", ((key,) for key in keep))
            self._db.execute("DELETE FROM parts WHERE key NOT IN (SELECT key FROM used)")
        self._db.execute("COMMIT")
        self._db.close()
        self._db = None
        self._keys = None


class ParseMemo:
    """Parsed digests by what they were parsed from (`key`): `parse` takes the parse from `known`
    when it is there, parses otherwise, and records every parse it hands out in `used`, which is
    what the next reading may know (no parse of an old version survives it)."""

    def __init__(self) -> None:
        self.known: dict = {}
        self.used: dict = {}

    def key(self, data: bytes, path: str) -> object:
        raise NotImplementedError

    def parse(self, data: bytes, path: str) -> Parsed:
        key = self.key(data, path)
        parsed = self.known.get(key)
        if not isinstance(parsed, Parsed):
            parsed = parse_digest(data, path)  # raises for a bad digest: errors are never kept
        self.used[key] = parsed
        return parsed


class ParseCache(ParseMemo):
    """Parsed digests by the bytes they were parsed from (and the parser's code): one file, loaded
    once, so a rebuild parses only the digests that changed. Use as a context manager."""

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.path = folder / "parsed.pickle"

    def __enter__(self) -> ParseCache:
        try:
            blob = self.path.read_bytes()
            known = pickle.loads(blob[len(_FORMAT) :]) if blob.startswith(_FORMAT) else {}
            self.known = known if isinstance(known, dict) else {}
        except Exception:
            self.known = {}
        return self

    def __exit__(self, *exc: object) -> None:
        if self.used.keys() != self.known.keys():
            write_atomically(self.path, _FORMAT + pickle.dumps(self.used, protocol=pickle.HIGHEST_PROTOCOL))

    def key(self, data: bytes, path: str) -> str:
        return group_key(code_fingerprint(), path, hashlib.sha256(data).hexdigest())


class KeptReading(ParseMemo):
    """What `publisher serve` keeps in memory between its builds: every digest file as last read (by
    its stat) and its parse (by its bytes), so that a save costs reading and parsing the saved file,
    not the archive, nor loading the parse cache from disk and hashing every file."""

    def __init__(self) -> None:
        super().__init__()
        self.sources: dict = {}  # read_sources' `kept`

    def key(self, data: bytes, path: str) -> tuple[str, bytes]:
        return (path, data)  # an unchanged file's bytes are the object read before: its hash is kept

    def done(self) -> None:
        """After a reading of every digest: what it used is what the next one knows."""
        self.known, self.used = self.used, {}
