"""A project with a running list endpoint, for tests: the real `publisher listen` (waitress) on
127.0.0.1, the built site served on 127.0.0.1, and aiosmtpd receiving every message.

    with ListSite(tmp_path) as site:
        site.post("/subscribe", {"email": "ann@example.com", "everything": "1"})
        site.wait_for_mail(1)
        site.cli("subscribers", "list")
"""

from __future__ import annotations

import email
import http.client
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from .conftest import ROOT, SEEDS
from .smtp_server import RecordingHandler, SmtpServer, free_port

SECRET = "list-endpoint-test-secret-0123456789"
SIGNUPS_PER_IP = 5
SIGNUPS_PER_ADDRESS = 3


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


def publisher_command() -> list[str]:
    script = Path(sys.executable).parent / "publisher"
    return [str(script)] if script.exists() else [sys.executable, "-m", "publisher"]


def links(message: EmailMessage) -> list[str]:
    """Every http(s) URL in both parts of a message (hrefs in the HTML, <…> in the text)."""
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    found = re.findall(r"<(https?://[^>\s]+)>", text) + [
        href.replace("&amp;", "&") for href in re.findall(r'href="(https?://[^"]+)"', html)
    ]
    return sorted(set(found))


class ListSite:
    def __init__(self, folder: Path, *, trusted_proxies: int = 1) -> None:
        self.folder = folder
        self.trusted_proxies = trusted_proxies
        self.smtp = SmtpServer(RecordingHandler())
        self.port = free_port()
        self.site_port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.site_url = f"http://127.0.0.1:{self.site_port}/"  # the built site, served here
        self.public_url = "https://example.github.io/publisher/"  # site.base_url: where it would be published
        self.database = folder / "publisher.db"
        self.processes: list[subprocess.Popen] = []

    # The project: the repository's config and seeds, with the endpoint and the SMTP server set.
    def _write_project(self) -> None:
        shutil.copytree(SEEDS, self.folder / "seeds")
        config = (ROOT / "publisher.toml").read_text(encoding="utf-8")
        for section in ("list", "smtp"):  # the repository's own, replaced below
            config = re.sub(rf"^\[{section}\]\n.*?(?=^\[|\Z)", "", config, flags=re.DOTALL | re.MULTILINE)
        config += f"""
[list]
endpoint = "{self.endpoint}"
from_address = "list@example.com"
signups_per_ip = {SIGNUPS_PER_IP}
signups_per_address = {SIGNUPS_PER_ADDRESS}
trusted_proxies = {self.trusted_proxies}

[smtp]
host = "{self.smtp.host}"
port = {self.smtp.port}
security = "plain"
retries = 0
timeout = 10.0
"""
        (self.folder / "publisher.toml").write_text(config, encoding="utf-8")

    def environment(self) -> dict[str, str]:
        env = {**os.environ, "PUBLISHER_SECRET": SECRET}
        env.pop("PUBLISHER_SMTP_PASSWORD", None)
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        return env

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run the `publisher` command in the project, as a person would."""
        result = subprocess.run(
            [*publisher_command(), *args],
            cwd=self.folder,
            env=self.environment(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        if check:
            assert result.returncode == 0, result.stderr
        return result

    def __enter__(self) -> ListSite:
        self._write_project()
        self.smtp.__enter__()
        try:
            self.cli("build")
            log = (self.folder / "listen.log").open("w")
            self.processes.append(
                subprocess.Popen(
                    [*publisher_command(), "listen", "--port", str(self.port)],
                    cwd=self.folder,
                    env=self.environment(),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
            self.processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(self.site_port)],
                    cwd=self.folder / "out",
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
            self._wait_until_up()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + 30
        for port in (self.port, self.site_port):
            while True:
                try:
                    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                    connection.request("GET", "/")
                    connection.getresponse().read()
                    break
                except OSError:
                    if time.monotonic() > deadline or any(p.poll() is not None for p in self.processes):
                        raise RuntimeError("the endpoint did not start:\n" + self.log()) from None
                    time.sleep(0.1)

    def log(self) -> str:
        return (self.folder / "listen.log").read_text(encoding="utf-8", errors="replace")

    def __exit__(self, *exc: object) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        self.smtp.__exit__(None, None, None)

    # HTTP, without following redirects (a redirect is an answer to look at, never to follow).
    def request(
        self,
        method: str,
        url: str,
        body: bytes | dict | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        parts = urlsplit(url if "://" in url else self.endpoint + url)
        headers = dict(headers or {})
        if isinstance(body, dict):
            body = urlencode(body, doseq=True).encode("ascii")
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        try:
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            connection.request(method, path or "/", body=body, headers=headers)
            response = connection.getresponse()
            return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
        finally:
            connection.close()

    def get(self, url: str, **kwargs) -> Answer:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, body: bytes | dict | None = None, **kwargs) -> Answer:
        return self.request("POST", url, body, **kwargs)

    # What the SMTP server received.
    def messages(self) -> list[EmailMessage]:
        return [
            email.message_from_bytes(m.data, policy=default_policy)  # type: ignore[misc]
            for m in list(self.smtp.handler.received)
        ]

    def wait_for_mail(self, count: int, timeout: float = 15) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while len(self.smtp.handler.received) < count:
            assert time.monotonic() < deadline, f"{len(self.smtp.handler.received)} messages, expected {count}"
            time.sleep(0.05)
        return self.messages()

    def mail_to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages() if m["To"].addresses[0].addr_spec.casefold() == address.casefold()]

    # The store, read directly: what the tests assert about.
    def rows(self, table: str) -> list[tuple]:
        with sqlite3.connect(self.database) as connection:
            return sorted(connection.execute(f"SELECT * FROM {table}").fetchall())

    def suppressed(self) -> set[str]:
        return {row[0] for row in self.rows("suppressed")}

    def state(self) -> dict[str, list[tuple]]:
        return {table: self.rows(table) for table in ("subscribers", "suppressed", "pending", "consents")}
