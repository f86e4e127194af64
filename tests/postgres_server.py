"""A PostgreSQL server of the tests' own: a temporary cluster made by `initdb`, on 127.0.0.1.

Debian's postgresql (tests/setup.sh) provides the programs; nothing depends on a service of the
machine. The server refuses to run as root, so under root the cluster belongs to the `postgres`
user (`runuser`). It listens on a free port on 127.0.0.1 only and asks for a password, so the
tests use URLs with one (`postgresql://publisher:…@127.0.0.1:PORT/…`). Each test gets a store
of its own (`fresh()`), and the cluster is deleted at the end.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

USER = "publisher"


def program(name: str) -> str:
    """A PostgreSQL program: on PATH, or in Debian's versioned folder (the newest)."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(Path(p).parent.parent.name))
    if not candidates:
        raise RuntimeError(f"{name} not found: install Debian's postgresql (bash tests/setup.sh)")
    return candidates[-1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PostgresServer:
    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="publisher-pg-"))
        self.password = secrets.token_urlsafe(12)
        self.port = free_port()
        self.owner = pwd.getpwnam("postgres") if os.geteuid() == 0 else None
        self.data = self.folder / "data"
        self.count = 0

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if self.owner else []
        subprocess.run([*prefix, *command], check=True, capture_output=True, cwd=self.folder)

    def start(self) -> PostgresServer:
        (self.folder / "password").write_text(self.password + "\n", encoding="utf-8")
        if self.owner:
            for path in (self.folder, self.folder / "password"):
                os.chown(path, self.owner.pw_uid, self.owner.pw_gid)
        self._run(
            program("initdb"),
            "-D",
            str(self.data),
            "-U",
            USER,
            f"--pwfile={self.folder / 'password'}",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        )
        # fsync off: a test cluster that dies with the machine loses nothing anyone needs.
        options = f"-h 127.0.0.1 -p {self.port} -k {self.folder} -c fsync=off -c max_connections=300"
        self._run(program("pg_ctl"), "-D", str(self.data), "-l", str(self.folder / "log"), "-w", "-o", options, "start")
        return self

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{USER}:{self.password}@127.0.0.1:{self.port}/{database}"

    def fresh(self) -> str:
        """The URL of a new, empty store: a schema of its own (much quicker to make than a database),
        which the URL puts first on the search path."""
        import psycopg

        self.count += 1
        name = f"test_{self.count}"
        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(f"CREATE SCHEMA {name}")
        return f"{self.url()}?options=-csearch_path%3D{name}"

    def stop(self) -> None:
        try:
            self._run(program("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
