"""Typed, validated configuration from `publisher.toml` (or `[tool.publisher]` in pyproject.toml).

Every key is declared below with its type and default. Unknown keys and bad values are errors that
name the key and its line; all problems of a file are reported at once.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import re
import tomllib
import zoneinfo
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, get_type_hints
from urllib.parse import urlsplit

from .errors import ConfigError, Diagnostic, shown_path
from .text import is_http_url, is_mail_address, is_web_url, topic_key

CONFIG_NAME = "publisher.toml"


def _base_url(value: str) -> str:
    if not is_web_url(value):
        raise ValueError("must be an absolute http(s) URL such as https://example.com/digest/")
    return value if value.endswith("/") else value + "/"


def _timezone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError("must be an IANA time zone such as Asia/Seoul") from None
    return value


def _clock(value: str) -> str:
    try:
        dt.time.fromisoformat(value)
    except ValueError:
        raise ValueError('must be a local time such as "07:00"') from None
    return value


def _language(value: str) -> str:
    if not re.fullmatch(r"[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*", value):
        raise ValueError('must be a language tag such as "ko" or "en-US"')
    return value


def _tag_authority(value: str) -> str:
    # RFC 4151: taggingEntity = authority "," date, e.g. "example.com,2024-07-01".
    match = re.fullmatch(r"([a-z0-9.-]+\.[a-z]{2,}|[^@\s]+@[a-z0-9.-]+\.[a-z]{2,}),(\d{4}(-\d{2}){0,2})", value)
    if not match:
        raise ValueError('must be "domain,date" as RFC 4151 tag URIs want, e.g. "example.com,2024"')
    date = match[2]
    dt.date.fromisoformat(date + "-01-01"[len(date) - 4 :])  # rejects impossible dates
    return value


def _positive(value: int) -> int:
    if value < 1:
        raise ValueError("must be a whole number of at least 1")
    return value


def _email_address(value: str) -> str:
    if value and not is_mail_address(value):
        raise ValueError("must be an e-mail address such as digest@example.com")
    return value


def _mailto(value: str) -> str:
    address, _, query = value.removeprefix("mailto:").partition("?")
    if value and not (value.startswith("mailto:") and is_mail_address(address) and re.fullmatch(r"[^\s<>]*", query)):
        raise ValueError("must be a mailto: URL such as mailto:unsubscribe@example.com")
    return value


def _web_url_or_empty(value: str) -> str:
    if value and not is_web_url(value):
        raise ValueError("must be an absolute http(s) URL")
    return value


def _endpoint(value: str) -> str:
    if value and (not is_http_url(value) or urlsplit(value).query or urlsplit(value).fragment):
        raise ValueError("must be the endpoint's public http(s) URL, such as https://list.example.com/")
    return value.rstrip("/")


def _database_url(value: str) -> str:
    if value and not re.match(r"postgres(ql)?://", value, re.IGNORECASE):
        raise ValueError("must be a postgresql:// URL (a SQLite store is paths.database)")
    return value


def _count(value: int) -> int:
    if value < 0:
        raise ValueError("must be a whole number of at least 0")
    return value


def _security(value: str) -> str:
    if value not in ("starttls", "ssl", "plain"):
        raise ValueError('must be "starttls", "ssl" or "plain"')
    return value


def _port(value: int) -> int:
    if not 0 < value < 65536:
        raise ValueError("must be a TCP port from 1 to 65535")
    return value


def _rate(value: float) -> float:
    if value < 0:
        raise ValueError("must be 0 (no limit) or a positive number of messages per second")
    return value


def _retries(value: int) -> int:
    if not 0 <= value <= 20:
        raise ValueError("must be a whole number from 0 to 20")
    return value


def _security_imap(value: str) -> str:
    if value not in ("ssl", "starttls", "plain"):
        raise ValueError('must be "ssl" (port 993), "starttls" or "plain"')
    return value


def _return_path(value: str) -> str:
    if value and (not is_mail_address(value) or "+" in value.partition("@")[0]):
        raise ValueError(
            "must be an e-mail address without a '+' (send adds +<issue>-<tag> to it), e.g. bounces@example.com"
        )
    return value


def _seconds(value: float) -> float:
    if not 0 < value <= 3600:
        raise ValueError("must be a number of seconds above 0 and at most 3600")
    return value


def check(validator):
    return {"check": validator}


@dataclass(frozen=True)
class Site:
    title: str = "AI 논문 노트"
    description: str = "매일 읽은 머신러닝 논문에 대한 짧은 노트"
    base_url: str = field(default="https://example.com/", metadata=check(_base_url))
    author: str = "Digest Writer"
    language: str = field(default="ko", metadata=check(_language))
    timezone: str = field(default="Asia/Seoul", metadata=check(_timezone))
    publish_time: str = field(default="07:00", metadata=check(_clock))

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
    size: int = field(default=50, metadata=check(_positive))
    # RFC 4151 tag URI authority and date: fixed here so that item ids survive a move of the site.
    id_authority: str = field(default="example.com,2024", metadata=check(_tag_authority))
    hub: str = field(default="", metadata=check(_web_url_or_empty))


@dataclass(frozen=True)
class Web:
    page_size: int = field(default=30, metadata=check(_positive))  # issues per index page
    tag_page_size: int = field(default=50, metadata=check(_positive))  # notes per tag page


@dataclass(frozen=True)
class Email:
    from_address: str = field(default="digest@example.com", metadata=check(_email_address))
    from_name: str = ""  # empty: the site title
    list_address: str = field(default="digest@example.com", metadata=check(_email_address))
    unsubscribe_mailto: str = field(default="mailto:unsubscribe@example.com", metadata=check(_mailto))
    unsubscribe_url: str = field(default="https://example.com/unsubscribe", metadata=check(_web_url_or_empty))
    max_bytes: int = field(default=100_000, metadata=check(_positive))


@dataclass(frozen=True)
class MailingList:
    """`publisher listen`: the web endpoint where readers subscribe, confirm, choose topics and leave."""

    endpoint: str = field(default="", metadata=check(_endpoint))  # its public URL; empty: no endpoint
    from_address: str = field(default="", metadata=check(_email_address))  # confirmations; empty: email.from_address
    from_name: str = ""  # empty: email.from_name, else the site title
    confirm_hours: int = field(default=72, metadata=check(_positive))  # a confirmation link's lifetime
    signups_per_ip: int = field(default=5, metadata=check(_positive))  # per client IP and limit_minutes
    signups_per_address: int = field(default=3, metadata=check(_positive))  # per address and limit_minutes
    limit_minutes: int = field(default=60, metadata=check(_positive))
    trusted_proxies: int = field(default=0, metadata=check(_count))  # reverse proxies that set X-Forwarded-For
    # A PostgreSQL store shared by several machines (postgresql://…); empty: the SQLite file paths.database.
    database: str = field(default="", metadata=check(_database_url))
    # `send --new` sends no issue older than this (None: `--new` refuses, so a first run never mails the archive)
    send_from: dt.date | None = None

    def url(self, route: str) -> str:
        """The public URL of one of the endpoint's routes ("" when there is no endpoint)."""
        return f"{self.endpoint}/{route}" if self.endpoint else ""


@dataclass(frozen=True)
class Smtp:
    host: str = ""
    port: int = field(default=587, metadata=check(_port))
    security: str = field(default="starttls", metadata=check(_security))
    username: str = ""
    rate: float = field(default=0.0, metadata=check(_rate))
    connections: int = field(default=1, metadata=check(_positive))
    retries: int = field(default=4, metadata=check(_retries))  # further attempts after a temporary failure
    backoff: float = field(default=2.0, metadata=check(_seconds))  # first wait before a retry; doubles
    timeout: float = field(default=30.0, metadata=check(_seconds))  # for each SMTP command


@dataclass(frozen=True)
class Bounces:
    """Where bounces come back (VERP return path) and the IMAP mailbox `publisher bounces` reads."""

    return_path: str = field(default="", metadata=check(_return_path))  # empty: bounces go to email.from_address
    imap_host: str = ""
    imap_port: int = field(default=993, metadata=check(_port))
    imap_security: str = field(default="ssl", metadata=check(_security_imap))
    imap_user: str = ""  # the password comes from the environment variable PUBLISHER_IMAP_PASSWORD
    folder: str = "INBOX"  # where bounces and complaints arrive
    processed_folder: str = "Processed"  # where read reports go, so a re-run never counts one twice
    soft_limit: int = field(default=3, metadata=check(_positive))  # soft bounces that suppress an address …
    soft_window: int = field(default=5, metadata=check(_positive))  # … within its last this many sends


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


def default_theme_dir() -> Path:
    """The built-in theme: inside the installed package, or the repository's `templates/`."""
    package = Path(__file__).parent
    packaged = package / "templates"
    return packaged if packaged.is_dir() else package.parent / "templates"


def theme_dirs(config: Config) -> tuple[Path, ...]:
    """The theme's folders, the one that wins last: the built-in theme, then `paths.templates`."""
    return (default_theme_dir(),) if config.paths.templates is None else (default_theme_dir(), config.paths.templates)


def find_config(start: Path) -> Path | None:
    """publisher.toml in the folder, else a pyproject.toml with [tool.publisher], else None."""
    for name in (CONFIG_NAME, "pyproject.toml"):
        candidate = start / name
        if candidate.is_file() and (name == CONFIG_NAME or b"[tool.publisher" in candidate.read_bytes()):
            return candidate
    return None


def load_config(path: Path | None) -> Config:
    """Read and validate a config file; None gives the defaults. Paths resolve against its folder."""
    if path is None:
        return Config()
    shown = shown_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(Diagnostic(shown, None, "config file not found")) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(Diagnostic(shown, None, f"cannot read config file: {error}")) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        line = getattr(error, "lineno", None) or _line_from_message(str(error))
        raise ConfigError(Diagnostic(shown, line, f"not valid TOML: {error}")) from None
    prefix = ""
    if path.name == "pyproject.toml":
        data, prefix = data.get("tool", {}).get("publisher", {}), "tool.publisher."
    return parse_config(data, shown, text, path.parent, prefix)


def parse_config(data: dict[str, Any], shown: str, text: str = "", root: Path = Path("."), prefix: str = "") -> Config:
    problems: list[Diagnostic] = []

    def problem(key: str, message: str) -> None:
        problems.append(Diagnostic(shown, _line_of(text, key, prefix), f"{key}: {message}"))

    sections: dict[str, Any] = {}
    for name, table in data.items():
        if name not in SECTIONS:
            problem(name, f"unknown section{_suggest(name, SECTIONS)}")
        elif not isinstance(table, dict):
            problem(name, "must be a table, e.g. [" + name + "]")
        elif name == "topics":
            sections[name] = _read_topics(
                table, lambda line, msg: problems.append(Diagnostic(shown, line, msg)), _alias_lines(text, prefix)
            )
        else:
            sections[name] = _read_section(name, table, root, problem)
    if problems:
        raise ConfigError(problems)
    return Config(**sections, source=shown)


def _read_section(name: str, table: dict[str, Any], root: Path, problem) -> Any:
    cls = SECTIONS[name]
    known = {f.name: f for f in fields(cls)}
    hints = get_type_hints(cls)
    values: dict[str, Any] = {}
    for key, value in table.items():
        dotted = f"{name}.{key}"
        if key not in known:
            problem(dotted, f"unknown key{_suggest(key, known)}")
            continue
        try:
            value = _coerce(value, hints[key], root)
            validator = known[key].metadata.get("check")
            values[key] = validator(value) if validator else value
        except (TypeError, ValueError) as error:
            problem(dotted, str(error))
    return cls(**values)


def _read_topics(table: dict[str, Any], report, lines: dict[str, int]) -> Topics:
    """`[topics.aliases]`: each topic's other spellings. A spelling may name one topic only."""
    for key in table:
        if key != "aliases":
            report(lines.get(key), f"topics.{key}: unknown key{_suggest(key, ['aliases'])}")
    aliases = table.get("aliases", {})
    if not isinstance(aliases, dict):
        report(lines.get("aliases"), 'topics.aliases: must be a table: [topics.aliases] "topic" = ["spelling", …]')
        return Topics()
    owner: dict[str, tuple[str, int | None]] = {}  # spelling's key → (topic, line)
    read = []
    for topic, spellings in aliases.items():
        dotted = f'topics.aliases."{topic}"'
        line = lines.get(topic, lines.get("aliases"))
        if not isinstance(spellings, list) or not all(isinstance(s, str) and s.strip("# ") for s in spellings):
            report(line, f'{dotted}: must be a list of tags, e.g. ["rl", "reinforcement_learning"]')
            continue
        names = tuple(dict.fromkeys(s.strip().removeprefix("#") for s in spellings))
        for name in (topic.removeprefix("#"), *names):
            other = owner.setdefault(topic_key(name), (topic, line))
            if other[0] != topic:
                report(
                    line,
                    f'{dotted}: "{name}" is also a spelling of topic "{other[0]}" (line {other[1]}): '
                    "a spelling names one topic",
                )
        read.append(Alias(topic.removeprefix("#"), names, line))
    return Topics(tuple(read))


def _coerce(value: Any, hint: Any, root: Path) -> Any:
    """Check a TOML value against a field's type; paths resolve against the config's folder."""
    if hint in (Path, Path | None):
        if not isinstance(value, str):
            raise TypeError("must be a path (a string)")
        if not value and hint == Path | None:
            return None
        return root / value if root != Path(".") else Path(value)
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint == dt.date | None:  # a TOML date (2024-07-25) or the same as a string; "" for none
        if isinstance(value, str) and not value:
            return None
        if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return dt.date.fromisoformat(value)
        if type(value) is dt.date:
            return value
        raise ValueError(f"must be a date such as 2024-07-25, not {value!r}")
    expected = {str: "a string", int: "a whole number", float: "a number", bool: "true or false"}
    if type(value) is not hint:
        raise TypeError(f"must be {expected.get(hint, hint)}, not {type(value).__name__} {value!r}")
    return value


def _suggest(word: str, choices: Any) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f' (did you mean "{close[0]}"?)' if close else ""


def _line_of(text: str, dotted: str, prefix: str = "") -> int | None:
    """The line where a key is set: after its [section] header when there is one. `prefix` is where
    the config lives in the file: "tool.publisher." in pyproject.toml."""
    section, _, key = (prefix + dotted).rpartition(".")
    lines = text.splitlines()
    own_table = re.compile(rf"^\s*\[\s*{re.escape(prefix + dotted)}\s*\]")
    found = next((i for i, line in enumerate(lines) if own_table.match(line)), None)
    if found is not None:  # a key that is a table itself: `[site]`
        return found + 1
    start = 0
    if section:
        header = re.compile(rf"^\s*\[\s*{re.escape(section)}\s*\]")
        start = next((i for i, line in enumerate(lines) if header.match(line)), 0)
    pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
    for index in range(start, len(lines)):
        if pattern.match(lines[index]):
            return index + 1
    return None


def _alias_lines(text: str, prefix: str = "") -> dict[str, int]:
    """Where each key of `[topics.aliases]` is set (topic names may hold dots, so not _line_of);
    also where `aliases` itself is, for an inline table under `[topics]`."""
    lines: dict[str, int] = {}
    table = None
    key = re.compile(r"""^\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|([A-Za-z0-9_-]+))\s*=""")
    for number, line in enumerate(text.splitlines(), start=1):
        header = re.match(r"^\s*\[\s*([^\]]+?)\s*\]", line)
        if header:
            table = header[1].replace(" ", "").removeprefix(prefix.rstrip(".")).lstrip(".")
            continue
        found = key.match(line)
        if found and table in ("topics.aliases", "topics"):
            name = next(group for group in found.groups() if group is not None)
            lines.setdefault(name, number)
    return lines


def _line_from_message(message: str) -> int | None:
    match = re.search(r"line (\d+)", message)
    return int(match[1]) if match else None
