"""`create_app(config)`: the list endpoint as a Flask application (the shape of Flask's `flaskr`).

No module-level state: everything the requests share lives on the application (its `Settings`),
and the database is opened for a request when it needs it and closed in teardown. Pages come from
the same jinja2 theme as the site (`templates/list/*.html`, overridable through `paths.templates`)
and the site's stylesheet is served from it too. Every answer carries headers that keep tokens
where they belong: a Content-Security-Policy without inline script or framing, no Referer to other
sites, no caching. Errors are pages, never tracebacks.
"""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask, Response
from jinja2 import ChoiceLoader, FileSystemLoader, StrictUndefined
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from ...config import Config, find_config, load_config, theme_dirs
from .context import Settings, close_store, page, settings_from_environment
from .routes import blueprint

MAX_BODY = 64 * 1024  # a form with every topic ticked is a few KB

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
    "Referrer-Policy": "no-referrer",  # tokens are in the URLs: never tell another site
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
}

# What each error status tells the reader (the message is theirs to act on, never a traceback).
ERROR_TEXT = {
    400: "요청을 처리할 수 없습니다.",
    404: "없는 페이지입니다.",
    405: "이 주소는 그렇게 열 수 없습니다.",
    413: "보낸 내용이 너무 큽니다.",
    429: "요청이 너무 많습니다. 잠시 뒤에 다시 시도해 주세요.",
}

log = logging.getLogger("publisher.listen")


def create_app(config: Config | None = None, settings: Settings | None = None) -> Flask:
    """The endpoint for this config (default: ./publisher.toml), secrets from the environment."""
    if settings is None:
        config = config or load_config(find_config(Path.cwd()))
        settings = settings_from_environment(config)
    app = Flask(__name__, static_folder=None, template_folder=None)
    app.config.update(MAX_CONTENT_LENGTH=MAX_BODY, MAX_FORM_MEMORY_SIZE=MAX_BODY, MAX_FORM_PARTS=2000)
    app.extensions["publisher"] = settings
    # The theme's folders, the override first: it wins file by file, as in `publisher build`.
    app.jinja_loader = ChoiceLoader([FileSystemLoader(str(folder)) for folder in reversed(theme_dirs(settings.config))])
    app.jinja_options = {**app.jinja_options, "undefined": StrictUndefined, "trim_blocks": True, "lstrip_blocks": True}
    if settings.config.list.trusted_proxies:  # only then is X-Forwarded-For the client's address
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.config.list.trusted_proxies)  # type: ignore[method-assign]
    app.register_blueprint(blueprint)
    app.after_request(_secure)
    app.teardown_appcontext(close_store)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _crash)
    return app


def _secure(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    return response


def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    return page("error.html", status, message=ERROR_TEXT.get(status, "요청을 처리할 수 없습니다."), code=status)


def _crash(error: Exception) -> Response:
    log.exception("request failed")
    return page("error.html", 500, message="서버에 문제가 생겼습니다. 잠시 뒤에 다시 시도해 주세요.", code=500)
