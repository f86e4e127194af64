"""The store's two engines behind one connection: SQLite (a file, the default) and PostgreSQL (a URL).

Every query in the mailing list is written once, with `?` placeholders and SQL both engines speak
(`INSERT … ON CONFLICT`, no `INSERT OR …`); the PostgreSQL connection turns `?` into psycopg's `%s`.
A `transaction()` is all or nothing and, by default, exclusive: SQLite's `BEGIN IMMEDIATE` lets one
writer in at a time, and on PostgreSQL a transaction-level advisory lock gives the same guarantee,
so a read-then-write (an upsert, a rate limit, a confirmation) never interleaves with another one.
The send ledger's claims ask for `exclusive=False` and lock only their rows on PostgreSQL.

A target names the database: a path (SQLite) or a `postgresql://` URL. A URL is shown with its
password replaced by `***`, in every message and error.
"""

from __future__ import annotations

import functools
import os
import re
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from ..errors import Diagnostic, SendError, shown_path

Target = Path | str  # a SQLite file, or a postgresql:// URL
Engine = Literal["sqlite", "postgresql"]

URL_ENV = "PUBLISHER_DATABASE_URL"
_URL = re.compile(r"^postgres(?:ql)?://", re.IGNORECASE)
# Any constant would do: every publisher store takes the same one (pg_advisory_xact_lock's key space).
_WRITE_LOCK = 0x7075626C  # "publ"


def is_url(target: Target) -> bool:
    return isinstance(target, str) and bool(_URL.match(target))


def parse_target(text: str) -> Target:
    """What a user typed (--db, the config, the environment): a URL stays text, anything else is a path."""
    return text if _URL.match(text) else Path(text)


def shown(target: Target) -> str:
    """The target as messages show it: a path relative to the working folder, a URL without its password."""
    if not isinstance(target, str):
        return shown_path(target)
    parts = urlsplit(target)
    if parts.password is None:
        return target
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))


def choose(given: Target | None, configured_url: str, path: Path, environ: Mapping[str, str] = os.environ) -> Target:
    """The store a command uses: --db, else $PUBLISHER_DATABASE_URL, else [list] database, else paths.database."""
    if given is not None:
        return given
    for text in (environ.get(URL_ENV, "").strip(), configured_url):
        if text:
            return parse_target(text)
    return path


class Connection:
    """One connection to the store; not shared between threads."""

    engine: Engine
    target: Target

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Run one statement; the cursor has `fetchone`, `fetchall`, `rowcount` and iterates rows (tuples)."""
        raise NotImplementedError

    @contextmanager
    def transaction(self, *, exclusive: bool = True) -> Iterator[Connection]:
        raise NotImplementedError
        yield self

    def schema_version(self) -> int:
        raise NotImplementedError

    def set_schema_version(self, version: int) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def error(self, problem: BaseException) -> SendError:
        """A database error as the user sees it: the store named (no password), what went wrong."""
        text = str(problem).strip() or type(problem).__name__
        if isinstance(self.target, str):
            password = urlsplit(self.target).password
            text = text.replace(password, "***") if password else text
        return SendError(Diagnostic(shown(self.target), None, f"not a usable subscriber database: {text}"))


class SqliteConnection(Connection):
    engine: Engine = "sqlite"

    def __init__(self, path: Path) -> None:
        self.target = path
        if path.is_dir():
            raise SendError(Diagnostic(shown_path(path), None, "is a folder, not a subscriber database"))
        path.parent.mkdir(parents=True, exist_ok=True)
        # Autocommit, explicit BEGIN; a minute's busy timeout: other writers queue instead of failing.
        self.raw = sqlite3.connect(path, timeout=60, isolation_level=None, check_same_thread=False)
        try:
            self.raw.execute("PRAGMA journal_mode = WAL")
            # FULL: a commit is on disk before the next SMTP transaction starts, even after a power cut.
            self.raw.execute("PRAGMA synchronous = FULL")
        except sqlite3.DatabaseError as problem:
            self.raw.close()
            raise self.error(problem) from None

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        return self.raw.execute(sql, params)

    @contextmanager
    def transaction(self, *, exclusive: bool = True) -> Iterator[Connection]:
        # IMMEDIATE either way: SQLite has one writer at a time, and taking the lock up front
        # means a read in the transaction is never followed by a failed upgrade to a write lock.
        self.raw.execute("BEGIN IMMEDIATE")
        try:
            yield self
        except BaseException:
            self.raw.execute("ROLLBACK")
            raise
        self.raw.execute("COMMIT")

    def schema_version(self) -> int:
        return self.raw.execute("PRAGMA user_version").fetchone()[0]

    def set_schema_version(self, version: int) -> None:
        self.raw.execute(f"PRAGMA user_version = {int(version)}")

    def close(self) -> None:
        self.raw.close()


class PostgresConnection(Connection):
    engine: Engine = "postgresql"

    def __init__(self, url: str) -> None:
        import psycopg  # only when a URL names a PostgreSQL store

        self.target = url
        self.errors = psycopg.Error
        try:
            self.raw = psycopg.connect(url, autocommit=True, connect_timeout=15, application_name="publisher")
        except psycopg.Error as problem:
            raise self.error(problem) from None

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.raw.execute(_pyformat(sql), tuple(params))

    @contextmanager
    def transaction(self, *, exclusive: bool = True) -> Iterator[Connection]:
        with self.raw.transaction():
            if exclusive:
                self.raw.execute("SELECT pg_advisory_xact_lock(%s)", (_WRITE_LOCK,))
            yield self

    def schema_version(self) -> int:
        (exists,) = self.raw.execute("SELECT to_regclass('publisher_schema') IS NOT NULL").fetchone()
        if not exists:
            return 0
        row = self.raw.execute("SELECT max(version) FROM publisher_schema").fetchone()
        return row[0] or 0

    def set_schema_version(self, version: int) -> None:
        self.raw.execute("CREATE TABLE IF NOT EXISTS publisher_schema (version INTEGER NOT NULL)")
        self.raw.execute("DELETE FROM publisher_schema")
        self.raw.execute("INSERT INTO publisher_schema (version) VALUES (%s)", (version,))

    def close(self) -> None:
        self.raw.close()


@functools.lru_cache(maxsize=256)
def _pyformat(sql: str) -> str:
    """`?` placeholders as psycopg's `%s` (a literal `%` doubled); no query here has `?` in a string."""
    return sql.replace("%", "%%").replace("?", "%s")


def connect(target: Target) -> Connection:
    """Open the store the target names (a SQLite file is made when missing; its schema is not)."""
    if is_url(target):
        return PostgresConnection(str(target))
    path = Path(target)
    try:
        return SqliteConnection(path)
    except sqlite3.DatabaseError as problem:
        raise SendError(Diagnostic(shown_path(path), None, f"not a usable subscriber database: {problem}")) from None


def has_store(target: Target) -> bool:
    """Whether the target holds a store already (a mistyped --db must not become a new, empty list)."""
    if not is_url(target):
        return Path(target).is_file()
    connection = connect(target)
    try:
        return connection.schema_version() > 0
    finally:
        connection.close()


def database_errors(connection: Connection) -> tuple[type[BaseException], ...]:
    """The exceptions an engine raises for a broken or refused database."""
    if isinstance(connection, PostgresConnection):
        return (connection.errors,)
    return (sqlite3.DatabaseError,)
