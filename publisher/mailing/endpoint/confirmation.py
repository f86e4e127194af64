"""The confirmation email of a sign-up: rendered from the theme (`templates/list/confirm-email.*`),
composed like every other message (`render.message`), sent over the configured SMTP server.

It holds nothing the visitor typed except the address: the topics are named from the build's own
list. A failure to send is logged, never shown: the answer to a sign-up must not depend on it.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets

from flask import render_template

from ...render import message
from ..transport import PermanentFailure, SmtpTransport, TemporaryFailure
from .context import Settings

log = logging.getLogger("publisher.listen")


def confirmation_message(settings: Settings, address: str, link: str, topics: tuple[str, ...]) -> bytes:
    config = settings.config
    site, email, listing = config.site, config.email, config.list
    sender = listing.from_address or email.from_address
    values = {"site": site, "address": address, "link": link, "topics": topics, "hours": listing.confirm_hours}
    text = render_template("list/confirm-email.txt", **values)
    html = render_template("list/confirm-email.html", **values)
    envelope = message.Envelope(
        from_name=listing.from_name or email.from_name or site.title,
        from_address=sender,
        to=address,
        subject=f"{site.title} 구독 확인",
        date=dt.datetime.now(dt.UTC),
        message_id=message.message_id(f"confirm-{secrets.token_hex(12)}", sender.rpartition("@")[2]),
        list_id=message.list_id(site.title, email.list_address),
        language=site.language,
    )
    return message.compose(envelope, text, html)


def send_confirmation(settings: Settings, address: str, link: str, topics: tuple[str, ...]) -> bool:
    """Send it; False (and a log line, without the link) when the server did not take it."""
    data = confirmation_message(settings, address, link, topics)
    sender = settings.config.list.from_address or settings.config.email.from_address
    transport = SmtpTransport(settings.smtp)
    try:
        transport.send(data, sender, address)
    except (TemporaryFailure, PermanentFailure) as error:
        log.error("confirmation to %s not sent: %s", address, error)
        return False
    finally:
        transport.close()
    return True
