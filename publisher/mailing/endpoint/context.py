"""What a request sees: the application's `Settings`, its database connection, its pages.

Nothing here is module-level state: the settings live on the application (`app.extensions`), the
connection on the request's `g`, opened on first use and closed when the request ends.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from flask import Response, current_app, g, render_template

from ...config import Config
from ...errors import PublisherError
from ...render import paths
from ...render.paths import Urls
from ..send import PASSWORD_ENV, SECRET_ENV
from ..subscribers import Store
from ..transport import SmtpSettings


@dataclass(frozen=True)
class Settings:
    """What every request reads: the config, the secret that signs tokens, how to send mail."""

    config: Config
    secret: str = field(repr=False)
    smtp: SmtpSettings

    @property
    def urls(self) -> Urls:
        return Urls(self.config.site.base_url)

    def endpoint_url(self, route: str) -> str:
        return self.config.list.url(route)


def settings_from_environment(config: Config) -> Settings:
    secret = os.environ.get(SECRET_ENV, "")
    if not secret:
        raise PublisherError(f"set the environment variable {SECRET_ENV}: it signs every link the list endpoint sends")
    if not config.list.endpoint:
        raise PublisherError(f"{config.source}: set [list] endpoint to the public URL the endpoint is served at")
    smtp = config.smtp
    return Settings(
        config,
        secret,
        SmtpSettings(
            host=smtp.host,
            port=smtp.port,
            security=smtp.security,
            username=smtp.username,
            password=os.environ.get(PASSWORD_ENV, ""),
            timeout=smtp.timeout,
        ),
    )


def settings() -> Settings:
    """The settings of the application serving this request."""
    return current_app.extensions["publisher"]


def store() -> Store:
    """The request's connection to the subscriber database, opened on first use."""
    if "store" not in g:
        g.store = Store(settings().config.paths.database)
    return g.store


def close_store(_error: BaseException | None) -> None:
    opened = g.pop("store", None)
    if opened is not None:
        opened.close()


def page(template: str, status: int = 200, **values: object) -> Response:
    """One page of the endpoint, with what every page gets: the site, its home and sign-up URLs."""
    current = settings()
    html = render_template(
        f"list/{template}",
        site=current.config.site,
        home_url=current.urls.public(paths.home()),
        subscribe_url=current.urls.public(paths.SUBSCRIBE),
        **values,
    )
    return Response(html, status, mimetype="text/html")
