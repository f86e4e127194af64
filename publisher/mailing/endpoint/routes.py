"""The one blueprint: every route of the list endpoint.

    POST /subscribe                      sign up: the same answer whatever the address's state
    GET  /confirm?token=…  POST /confirm  a page with a button; only the POST confirms
    GET  /preferences?token=…  POST /preferences   topics, a pause, leaving
    GET  /unsubscribe?token=…            a page with a button; changes nothing
    POST /unsubscribe                    from that button (CSRF token): unsubscribes, offers an undo
    POST /unsubscribe?token=…            one-click (RFC 8058): unsubscribes at once, 200, no redirect
    POST /resubscribe                    the undo

GET never changes anything: mail scanners open every link in a message.
"""

from __future__ import annotations

import datetime as dt
import time

from flask import Blueprint, abort, request, send_file
from werkzeug.wrappers import Response

from .. import signups, tokens
from . import forms
from .confirmation import send_confirmation
from .context import page, settings, store
from .forms import FormError

blueprint = Blueprint("list", __name__)
BAD_LINK = "링크가 올바르지 않습니다. 메일에 있는 링크를 그대로 열어 주세요."


@blueprint.get("/")
def home() -> Response:
    return page("home.html")


@blueprint.get("/static/style.css")
def stylesheet() -> Response:
    from ...config import theme_dirs

    for folder in reversed(theme_dirs(settings().config)):
        path = folder / "static" / "style.css"
        if path.is_file():
            return send_file(path, mimetype="text/css", max_age=3600)
    abort(404)


@blueprint.post("/subscribe")
def subscribe() -> Response:
    current, now = settings(), time.time()
    limits = current.config.list
    window = limits.limit_minutes * 60.0
    if request.form.get("website"):  # the honeypot: robots fill it in; they get the same answer, nothing else
        return page("subscribed.html")
    client = forms.who(current.secret, "ip", request.remote_addr or "")
    if not signups.allow(store(), "ip", client, limits.signups_per_ip, window, now):
        abort(429)
    topics = forms.load_topics(current.config.paths.out)
    try:
        address = forms.address(request.form.get("email", ""))
        chosen = forms.chosen_topics(
            request.form.getlist("topic"), bool(request.form.get("everything")), (t.slug for t in topics)
        )
    except FormError as error:
        return page("error.html", 400, message=str(error), code=400)
    mailbox = forms.who(current.secret, "address", address)
    if not signups.allow(store(), "address", mailbox, limits.signups_per_address, window, now):
        abort(429)
    expires = int(now) + limits.confirm_hours * 3600
    consent = signups.Consent(chosen, forms.form_page(request.form.get("page", "")), client)
    before = signups.request(store(), address, consent, dt.datetime.fromtimestamp(expires, dt.UTC))
    if before != "suppressed":  # an unsubscribed address gets no mail from a form, ever
        link = current.endpoint_url("confirm") + "?token=" + tokens.make(current.secret, "confirm", address, expires)
        names = {t.slug: t.name for t in topics}
        send_confirmation(current, address, link, tuple(names[slug] for slug in chosen))
    return page("subscribed.html")


def _read(purpose: tokens.Purpose, token: str | None) -> str:
    """The address a token was made for, or an error page (expired links offer a new sign-up)."""
    try:
        return tokens.read(settings().secret, purpose, token or "", time.time())
    except tokens.ExpiredToken:
        abort(page("expired.html", 410))
    except tokens.BadToken:
        abort(page("error.html", 400, message=BAD_LINK, code=400))


def _checked_form(purpose: tokens.Purpose) -> tuple[str, str]:
    """A POSTed form's address (from its token) after its CSRF token is checked; and the token."""
    token = request.form.get("token", "")
    address = _read(purpose, token)
    try:
        forms.check_csrf(settings().secret, request.form.get("csrf", ""), address, time.time())
    except FormError as error:
        abort(page("error.html", 400, message=str(error), code=400))
    return address, token


def _csrf(address: str) -> str:
    return forms.csrf_token(settings().secret, address, time.time())


def _button_page(purpose: str) -> Response:
    """A GET that changes nothing: the page with the one button whose POST acts (mail scanners GET every link)."""
    token = request.args.get("token", "")
    address = _read(purpose, token)
    return page(f"{purpose}.html", address=address, token=token, csrf=_csrf(address))


@blueprint.get("/confirm")
def confirm_page() -> Response:
    return _button_page("confirm")


@blueprint.post("/confirm")
def confirm() -> Response:
    address, _ = _checked_form("confirm")
    outcome, tags = signups.confirm(store(), address)
    if outcome == "missing":
        return page("expired.html", 410)
    names = {t.slug: t.name for t in forms.load_topics(settings().config.paths.out)}
    return page(
        "confirmed.html",
        outcome=outcome,
        topics=[names.get(slug, slug) for slug in tags],
        preferences=_link("preferences", address),
    )


def _link(purpose: tokens.Purpose, address: str) -> str:
    current = settings()
    return current.endpoint_url(purpose) + "?token=" + tokens.make(current.secret, purpose, address)


def _preferences_page(address: str, token: str, saved: bool = False) -> Response:
    current = signups.preferences(store(), address)
    if current is None:
        return page("not-subscribed.html", 404)
    topics = forms.load_topics(settings().config.paths.out)
    known = {t.slug for t in topics}
    extra = [slug for slug in current.tags if slug not in known]  # topics no longer in the build
    return page(
        "preferences.html",
        address=current.address,
        token=token,
        csrf=_csrf(address),
        topics=topics,
        extra=extra,
        chosen=set(current.tags),
        paused=current.paused,
        saved=saved,
        unsubscribe_token=tokens.make(settings().secret, "unsubscribe", address),
    )


@blueprint.get("/preferences")
def preferences_page() -> Response:
    token = request.args.get("token", "")
    return _preferences_page(_read("preferences", token), token)


@blueprint.post("/preferences")
def preferences() -> Response:
    address, token = _checked_form("preferences")
    current = signups.preferences(store(), address)
    if current is None:
        return page("not-subscribed.html", 404)
    known = {t.slug for t in forms.load_topics(settings().config.paths.out)} | set(current.tags)
    try:
        chosen = forms.chosen_topics(request.form.getlist("topic"), bool(request.form.get("everything")), known)
    except FormError as error:
        return page("error.html", 400, message=str(error), code=400)
    signups.save_preferences(store(), address, chosen, paused=bool(request.form.get("paused")))
    return _preferences_page(address, token, saved=True)


@blueprint.get("/unsubscribe")
def unsubscribe_page() -> Response:
    return _button_page("unsubscribe")


@blueprint.post("/unsubscribe")
def unsubscribe() -> Response:
    if "token" in request.args:
        # One-click (RFC 8058): the List-Unsubscribe URL itself, POSTed by the mail client with
        # `List-Unsubscribe=One-Click` (or an empty body). No cookie, no CSRF token, 200, no redirect.
        if request.form.get("List-Unsubscribe", "One-Click") != "One-Click":
            abort(400)
        address = _read("unsubscribe", request.args["token"])
        signups.leave(store(), address, signups.ONE_CLICK_REASON)
        return page("unsubscribed.html", address=address, token=None, csrf=None)
    address, token = _checked_form("unsubscribe")
    signups.leave(store(), address)
    return page("unsubscribed.html", address=address, token=token, csrf=_csrf(address))


@blueprint.post("/resubscribe")
def resubscribe() -> Response:
    address, _ = _checked_form("unsubscribe")
    undone = signups.undo_leave(store(), address)
    return page("resubscribed.html", undone=undone, preferences=_link("preferences", address))
