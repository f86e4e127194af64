from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from publisher.cli import main

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"


def run_cli(*args: str) -> Result:
    """Run the CLI in-process, as a user would type it."""
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary copy of the project (config and seeds) as the working folder."""
    shutil.copytree(SEEDS, tmp_path / "seeds")
    shutil.copy(ROOT / "publisher.toml", tmp_path / "publisher.toml")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seeds built once into a temporary output folder; returns that folder."""
    out = tmp_path_factory.mktemp("built") / "out"
    result = run_cli("build", "--config", ROOT / "publisher.toml", "--seeds", SEEDS, "--out", out)
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    from .browser import CHROMIUM, CHROMIUM_ARGS, Browser

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield Browser(chromium)
        finally:
            chromium.close()


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory):
    """A self-signed certificate for 127.0.0.1 (tests/smtp_server.py); clients trust it via SSL_CERT_FILE."""
    from .smtp_server import make_certificate

    return make_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="session")
def postgres() -> Iterator[object]:
    """A PostgreSQL server of the tests' own (tests/postgres_server.py), for the whole session."""
    from .postgres_server import PostgresServer

    server = PostgresServer().start()
    try:
        yield server
    finally:
        server.stop()


ENGINES = ["sqlite", "postgresql"]


@pytest.fixture(params=ENGINES)
def store_target(request: pytest.FixtureRequest, tmp_path: Path) -> Path | str:
    """A new, empty subscriber store on each engine: a SQLite file, or a PostgreSQL database's URL."""
    if request.param == "sqlite":
        return tmp_path / "publisher.db"
    return request.getfixturevalue("postgres").fresh()


def query(target: Path | str, sql: str, params: tuple = ()) -> list[tuple]:
    """Rows of one query on a store, whatever its engine (`?` placeholders), for tests that look inside."""
    from publisher.mailing.database import connect

    connection = connect(target)
    try:
        cursor = connection.execute(sql, params)
        return [tuple(row) for row in cursor.fetchall()] if cursor.description else []
    finally:
        connection.close()
