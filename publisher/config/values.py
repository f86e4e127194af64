"""The checks of single config values: each returns the value (normalised) or raises ValueError saying why."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from urllib.parse import urlsplit

from ..text import is_http_url, is_mail_address, is_web_url


def words(value: str) -> str:
    """Text a reader sees as a name or a summary (the feeds' required title and description)."""
    if not value.strip():
        raise ValueError("must not be empty: feeds, pages and emails show it")
    return value.strip()


def base_url(value: str) -> str:
    if not is_web_url(value):
        raise ValueError("must be an absolute http(s) URL such as https://example.com/digest/")
    return value if value.endswith("/") else value + "/"


def timezone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError("must be an IANA time zone such as Asia/Seoul") from None
    return value


def clock(value: str) -> str:
    try:
        dt.time.fromisoformat(value)
    except ValueError:
        raise ValueError('must be a local time such as "07:00"') from None
    return value


def language(value: str) -> str:
    if not re.fullmatch(r"[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*", value):
        raise ValueError('must be a language tag such as "ko" or "en-US"')
    return value


def tag_authority(value: str) -> str:
    # RFC 4151: taggingEntity = authority "," date, e.g. "example.com,2024-07-01".
    match = re.fullmatch(r"([a-z0-9.-]+\.[a-z]{2,}|[^@\s]+@[a-z0-9.-]+\.[a-z]{2,}),(\d{4}(-\d{2}){0,2})", value)
    if not match:
        raise ValueError('must be "domain,date" as RFC 4151 tag URIs want, e.g. "example.com,2024"')
    date = match[2]
    dt.date.fromisoformat(date + "-01-01"[len(date) - 4 :])  # rejects impossible dates
    return value


def positive(value: int) -> int:
    if value < 1:
        raise ValueError("must be a whole number of at least 1")
    return value


def email_address(value: str) -> str:
    if value and not is_mail_address(value):
        raise ValueError("must be an e-mail address such as digest@example.com")
    return value


def mailto(value: str) -> str:
    address, _, query = value.removeprefix("mailto:").partition("?")
    if value and not (value.startswith("mailto:") and is_mail_address(address) and re.fullmatch(r"[^\s<>]*", query)):
        raise ValueError("must be a mailto: URL such as mailto:unsubscribe@example.com")
    return value


def web_url_or_empty(value: str) -> str:
    if value and not is_web_url(value):
        raise ValueError("must be an absolute http(s) URL")
    return value


def endpoint(value: str) -> str:
    if value and (not is_http_url(value) or urlsplit(value).query or urlsplit(value).fragment):
        raise ValueError("must be the endpoint's public http(s) URL, such as https://list.example.com/")
    return value.rstrip("/")


def database_url(value: str) -> str:
    if value and not re.match(r"postgres(ql)?://", value, re.IGNORECASE):
        raise ValueError("must be a postgresql:// URL (a SQLite store is paths.database)")
    return value


def count(value: int) -> int:
    if value < 0:
        raise ValueError("must be a whole number of at least 0")
    return value


def security(value: str) -> str:
    if value not in ("starttls", "ssl", "plain"):
        raise ValueError('must be "starttls", "ssl" or "plain"')
    return value


def port(value: int) -> int:
    if not 0 < value < 65536:
        raise ValueError("must be a TCP port from 1 to 65535")
    return value


def rate(value: float) -> float:
    if value < 0:
        raise ValueError("must be 0 (no limit) or a positive number of messages per second")
    return value


def retries(value: int) -> int:
    if not 0 <= value <= 20:
        raise ValueError("must be a whole number from 0 to 20")
    return value


def security_imap(value: str) -> str:
    if value not in ("ssl", "starttls", "plain"):
        raise ValueError('must be "ssl" (port 993), "starttls" or "plain"')
    return value


def return_path(value: str) -> str:
    if value and (not is_mail_address(value) or "+" in value.partition("@")[0]):
        raise ValueError(
            "must be an e-mail address without a '+' (send adds +<issue>-<tag> to it), e.g. bounces@example.com"
        )
    return value


def seconds(value: float) -> float:
    if not 0 < value <= 3600:
        raise ValueError("must be a number of seconds above 0 and at most 3600")
    return value


def check(validator):
    return {"check": validator}
