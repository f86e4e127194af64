"""Reading what readers send: addresses, topics, the page a form was on, CSRF tokens, hashed IPs.

Pure functions over the submitted values; the routes decide what to answer. Nothing a visitor
typed is ever echoed into an email except the address itself.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Iterable
from pathlib import Path

from ...render import assemble, paths
from ...render.assemble import ListTopic
from ...text import is_http_url
from .. import tokens
from ..subscribers import normalise_address

MAX_PAGE = 500  # characters of the form's page URL kept as evidence

log = logging.getLogger("publisher.listen")


class FormError(ValueError):
    """The form cannot be used as sent; the message is shown to the reader."""


def load_topics(out: Path) -> tuple[ListTopic, ...]:
    """The topics the last build wrote (most used first); none when there is no build yet."""
    try:
        return assemble.read_topics((out / paths.TOPICS).read_bytes())
    except FileNotFoundError:
        log.warning("%s not found: run `publisher build`; only 'everything' can be chosen", out / paths.TOPICS)
    except (OSError, ValueError) as error:
        log.warning("cannot read %s (%s): run `publisher build`", out / paths.TOPICS, error)
    return ()


def address(text: str) -> str:
    """The submitted address, normalised (syntax only, no DNS); FormError says why not."""
    if len(text) > 320:
        raise FormError("이메일 주소가 너무 깁니다.")
    try:
        return normalise_address(text)
    except ValueError:
        raise FormError("이메일 주소를 확인해 주세요.") from None


def chosen_topics(chosen: Iterable[str], everything: bool, known: Iterable[str]) -> tuple[str, ...]:
    """ListTopic slugs a form chose: the ticked topics, or () for everything when none is ticked."""
    allowed = set(known)
    picked = set(chosen)
    if picked - allowed:
        raise FormError("알 수 없는 주제가 있습니다. 페이지를 새로 고친 뒤 다시 골라 주세요.")
    if picked:
        return tuple(sorted(picked))
    if everything:
        return ()
    raise FormError("‘모든 노트’나 주제를 하나 이상 골라 주세요.")


def form_page(text: str) -> str:
    """The page the form says it was on, kept as consent evidence when it is a plain http(s) URL."""
    text = text.strip()
    return text if len(text) <= MAX_PAGE and is_http_url(text) else ""


def who(secret: str, kind: str, value: str) -> str:
    """A keyed hash of an IP or address: rate limits and evidence without storing the value."""
    key = hmac.new(secret.encode("utf-8"), b"publisher list " + kind.encode("ascii"), hashlib.sha256).digest()
    return hmac.new(key, value.casefold().encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def csrf_token(secret: str, mail_address: str, now: float) -> str:
    """The token a page's form carries: short-lived, for the one address the page is about."""
    return tokens.make(secret, "form", mail_address, int(now) + tokens.FORM_SECONDS)


def check_csrf(secret: str, token: str, mail_address: str, now: float) -> None:
    if not tokens.is_for(secret, "form", token, mail_address, now):
        raise FormError("이 양식은 만료되었습니다. 메일 속 링크를 다시 열어 주세요.")
