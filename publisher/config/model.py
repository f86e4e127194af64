"""Every config key, declared once with its type, default and check, as frozen dataclasses."""

from __future__ import annotations

import dataclasses
import datetime as dt
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path
from typing import get_type_hints

from . import values

CONFIG_NAME = "publisher.toml"


@dataclass(frozen=True)
class Site:
    title: str = field(default="AI 논문 노트", metadata=values.check(values.words))
    description: str = field(default="매일 읽은 머신러닝 논문에 대한 짧은 노트", metadata=values.check(values.words))
    base_url: str = field(default="https://example.com/", metadata=values.check(values.base_url))
    author: str = "Digest Writer"
    language: str = field(default="ko", metadata=values.check(values.language))
    timezone: str = field(default="Asia/Seoul", metadata=values.check(values.timezone))
    publish_time: str = field(default="07:00", metadata=values.check(values.clock))

    def published(self, date: dt.date) -> dt.datetime:
        """When a digest of that date counts as published: its local publish time."""
        return dt.datetime.combine(date, dt.time.fromisoformat(self.publish_time), zoneinfo.ZoneInfo(self.timezone))


@dataclass(frozen=True)
class Paths:
    seeds: Path = Path("seeds")
    out: Path = Path("out")
    templates: Path | None = None  # None: the built-in theme
    cache: Path = Path(".publisher-cache")
    database: Path = Path("publisher.db")


@dataclass(frozen=True)
class Feeds:
    size: int = field(default=50, metadata=values.check(values.positive))
    # RFC 4151 tag URI authority and date: fixed here so that item ids survive a move of the site.
    id_authority: str = field(default="example.com,2024", metadata=values.check(values.tag_authority))
    hub: str = field(default="", metadata=values.check(values.web_url_or_empty))


@dataclass(frozen=True)
class Web:
    page_size: int = field(default=30, metadata=values.check(values.positive))  # issues per index page
    tag_page_size: int = field(default=50, metadata=values.check(values.positive))  # notes per tag page


@dataclass(frozen=True)
class Email:
    from_address: str = field(default="digest@example.com", metadata=values.check(values.email_address))
    from_name: str = ""  # empty: the site title
    list_address: str = field(default="digest@example.com", metadata=values.check(values.email_address))
    unsubscribe_mailto: str = field(default="mailto:unsubscribe@example.com", metadata=values.check(values.mailto))
    unsubscribe_url: str = field(
        default="https://example.com/unsubscribe", metadata=values.check(values.web_url_or_empty)
    )
    max_bytes: int = field(default=100_000, metadata=values.check(values.positive))


@dataclass(frozen=True)
class MailingList:
    """`publisher listen`: the web endpoint where readers subscribe, confirm, choose topics and leave."""

    endpoint: str = field(default="", metadata=values.check(values.endpoint))  # its public URL; empty: no endpoint
    from_address: str = field(
        default="", metadata=values.check(values.email_address)
    )  # confirmations; empty: email.from_address
    from_name: str = ""  # empty: email.from_name, else the site title
    confirm_hours: int = field(default=72, metadata=values.check(values.positive))  # a confirmation link's lifetime
    signups_per_ip: int = field(default=5, metadata=values.check(values.positive))  # per client IP and limit_minutes
    signups_per_address: int = field(default=3, metadata=values.check(values.positive))  # per address and limit_minutes
    limit_minutes: int = field(default=60, metadata=values.check(values.positive))
    trusted_proxies: int = field(
        default=0, metadata=values.check(values.count)
    )  # reverse proxies that set X-Forwarded-For
    # A PostgreSQL store shared by several machines (postgresql://…); empty: the SQLite file paths.database.
    database: str = field(default="", metadata=values.check(values.database_url))
    # `send --new` sends no issue older than this (None: `--new` refuses, so a first run never mails the archive)
    send_from: dt.date | None = None

    def url(self, route: str) -> str:
        """The public URL of one of the endpoint's routes ("" when there is no endpoint)."""
        return f"{self.endpoint}/{route}" if self.endpoint else ""


@dataclass(frozen=True)
class Smtp:
    host: str = ""
    port: int = field(default=587, metadata=values.check(values.port))
    security: str = field(default="starttls", metadata=values.check(values.security))
    username: str = ""
    rate: float = field(default=0.0, metadata=values.check(values.rate))
    connections: int = field(default=1, metadata=values.check(values.positive))
    retries: int = field(default=4, metadata=values.check(values.retries))  # further attempts after a temporary failure
    backoff: float = field(default=2.0, metadata=values.check(values.seconds))  # first wait before a retry; doubles
    timeout: float = field(default=30.0, metadata=values.check(values.seconds))  # for each SMTP command


@dataclass(frozen=True)
class Bounces:
    """Where bounces come back (VERP return path) and the IMAP mailbox `publisher bounces` reads."""

    return_path: str = field(
        default="", metadata=values.check(values.return_path)
    )  # empty: bounces go to email.from_address
    imap_host: str = ""
    imap_port: int = field(default=993, metadata=values.check(values.port))
    imap_security: str = field(default="ssl", metadata=values.check(values.security_imap))
    imap_user: str = ""  # the password comes from the environment variable PUBLISHER_IMAP_PASSWORD
    folder: str = "INBOX"  # where bounces and complaints arrive
    processed_folder: str = "Processed"  # where read reports go, so a re-run never counts one twice
    soft_limit: int = field(
        default=3, metadata=values.check(values.positive)
    )  # soft bounces that suppress an address …
    soft_window: int = field(default=5, metadata=values.check(values.positive))  # … within its last this many sends


@dataclass(frozen=True)
class Alias:
    """One line of `[topics.aliases]`: `"reinforcement-learning" = ["rl", "reinforcement_learning"]`."""

    topic: str  # the topic's name, as the config writes it
    spellings: tuple[str, ...]
    line: int | None = None  # in the config file, for messages


@dataclass(frozen=True)
class Topics:
    # [topics.aliases] "reinforcement-learning" = ["rl", "reinforcement_learning"]: one topic
    aliases: tuple[Alias, ...] = ()


@dataclass(frozen=True)
class Config:
    site: Site = Site()
    paths: Paths = Paths()
    feeds: Feeds = Feeds()
    web: Web = Web()
    email: Email = Email()
    list: MailingList = MailingList()
    smtp: Smtp = Smtp()
    bounces: Bounces = Bounces()
    topics: Topics = Topics()
    source: str = "(defaults)"  # the file it came from, for messages

    def with_paths(self, **overrides: Path | None) -> Config:
        """The same config with some paths replaced (command-line options win over the file)."""
        given = {key: value for key, value in overrides.items() if value is not None}
        return dataclasses.replace(self, paths=dataclasses.replace(self.paths, **given))


SECTIONS = {name: hint for name, hint in get_type_hints(Config).items() if name != "source"}
