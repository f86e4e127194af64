"""The list endpoint over real HTTP: `publisher listen` (waitress) on 127.0.0.1, aiosmtpd receiving.

One-click unsubscribes as Gmail sends them, tampered tokens, rate limits, the honeypot, link
scanners, and a sign-up answer that tells nobody who is on the list. Each test uses addresses and
client IPs (X-Forwarded-For, from one trusted proxy) of its own, so they share one running endpoint.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from publisher.mailing import tokens

from .list_endpoint import SECRET, SIGNUPS_PER_ADDRESS, SIGNUPS_PER_IP, Answer, ListSite, links

DATE = "2024-07-25"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ListSite]:
    with ListSite(tmp_path_factory.mktemp("list")) as running:
        yield running


def sign_up(site: ListSite, address: str, ip: str, **fields: object) -> Answer:
    form = {"email": address, "everything": "1", "page": site.site_url + "subscribe/", **fields}
    return site.post("/subscribe", form, headers={"X-Forwarded-For": ip})


def confirm_link(message) -> str:
    return next(link for link in links(message) if "/confirm?" in link)


def token_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["token"][0]


def subscribed(site: ListSite, address: str, ip: str) -> None:
    """Sign up and confirm through the endpoint, as a reader would (minus the browser)."""
    before = len(site.mail_to(address))
    assert sign_up(site, address, ip).status == 200
    deadline = time.monotonic() + 15
    while len(site.mail_to(address)) == before:
        assert time.monotonic() < deadline, site.log()
        time.sleep(0.05)
    link = confirm_link(site.mail_to(address)[-1])
    page = site.get(link)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)[1]
    assert site.post("/confirm", {"token": token_of(link), "csrf": csrf}).status == 200


def issue_copy(site: ListSite, address: str):
    """Send the issue and return the copy `address` received."""
    site.cli("send", DATE)
    return next(m for m in site.mail_to(address) if "List-Unsubscribe" in m)


def one_click_url(message) -> str:
    return next(u.strip("<> ") for u in message["List-Unsubscribe"].split(",") if "http" in u)


def test_one_click_unsubscribe_as_gmail_sends_it(site: ListSite):
    subscribed(site, "oneclick@example.com", "198.51.100.1")
    subscribed(site, "bystander@example.com", "198.51.100.2")
    copy = issue_copy(site, "oneclick@example.com")
    assert copy["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = one_click_url(copy)
    assert url.startswith(site.endpoint + "/unsubscribe?token=")
    before = site.suppressed()
    own = token_of(url)
    _, address_part, expires, mac = own.split(".")
    other = tokens.make(SECRET, "unsubscribe", "bystander@example.com").split(".")[1]
    refused = [
        f"1.{address_part}.{expires}.{mac[:-3]}xyz",  # tampered signature
        f"1.{other}.{expires}.{mac}",  # this signature on another address
        tokens.make("another secret", "unsubscribe", "bystander@example.com"),
        tokens.make(SECRET, "preferences", "bystander@example.com"),  # another purpose
        "",
    ]
    for token in refused:
        answer = site.post(f"/unsubscribe?token={token}", b"List-Unsubscribe=One-Click", headers=FORM)
        assert answer.status == 400, token
        assert "<html" in answer.text and "Traceback" not in answer.text
    assert site.suppressed() == before  # nobody

    answer = site.post(url, b"List-Unsubscribe=One-Click", headers=FORM)  # no cookie, no CSRF token
    assert answer.status == 200 and "location" not in answer.headers
    assert "oneclick@example.com" in site.suppressed()
    assert "bystander@example.com" not in site.suppressed()
    listed = site.cli("subscribers", "list").stdout
    assert "oneclick@example.com\t\t(all)\tunsubscribed" in listed
    # RFC 8058 also allows multipart/form-data, and some clients send an empty body.
    for address, body, headers in [
        ("multipart@example.com", MULTIPART, {"Content-Type": "multipart/form-data; boundary=XyZ"}),
        ("empty@example.com", b"", {}),
    ]:
        token = tokens.make(SECRET, "unsubscribe", address)
        assert site.post(f"/unsubscribe?token={token}", body, headers=headers).status == 200
        assert address in site.suppressed()


FORM = {"Content-Type": "application/x-www-form-urlencoded"}
MULTIPART = b'--XyZ\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--XyZ--\r\n'


def test_fetching_every_link_of_every_email_changes_nothing(site: ListSite):
    subscribed(site, "scanner@example.com", "198.51.100.3")
    assert sign_up(site, "pending.scanner@example.com", "198.51.100.4").status == 200
    received = site.wait_for_mail(1)
    mine = [m for m in received if m["To"].addresses[0].addr_spec.endswith("scanner@example.com")]
    copy = issue_copy(site, "scanner@example.com")
    fetched = sorted({link for message in [*mine, copy] for link in links(message)})
    endpoint_links = [link for link in fetched if link.startswith(site.endpoint)]
    # the confirmation links, the preferences and unsubscribe links
    assert {urlsplit(link).path for link in endpoint_links} >= {"/confirm", "/preferences", "/unsubscribe"}
    # The site's own links are fetched from the local copy of the site; others (arxiv.org) are not ours.
    ours = endpoint_links + [u.replace(site.public_url, site.site_url) for u in fetched if site.public_url in u]
    before = site.state()
    for link in ours:
        answer = site.get(link)
        assert answer.status == 200, (link, answer.status)
    assert site.state() == before


def test_the_subscribe_answer_is_the_same_whoever_the_address_is(site: ListSite):
    subscribed(site, "member@example.com", "198.51.100.5")
    assert sign_up(site, "waiting@example.com", "198.51.100.6").status == 200
    site.cli("unsubscribe", "gone@example.com")
    answers = {
        address: sign_up(site, address, f"198.51.100.{10 + n}")
        for n, address in enumerate(
            ["new@example.com", "waiting@example.com", "member@example.com", "gone@example.com"]
        )
    }
    first = answers["new@example.com"]
    assert first.status == 200 and "확인 메일" in first.text
    for address, answer in answers.items():
        assert (answer.status, answer.body) == (first.status, first.body), address
        assert answer.headers.get("set-cookie") is None
    # ... and a suppressed address was neither stored nor mailed, nor made a subscriber.
    assert "gone@example.com" not in {row[0] for row in site.rows("pending")}
    assert not site.mail_to("gone@example.com")


def test_a_filled_honeypot_stores_and_sends_nothing(site: ListSite):
    normal = sign_up(site, "human@example.com", "198.51.100.20")
    mails, before = len(site.messages()), site.state()
    robot = sign_up(site, "robot@example.com", "198.51.100.21", website="http://spam.example/")
    assert (robot.status, robot.body) == (normal.status, normal.body)
    time.sleep(0.5)
    assert len(site.messages()) == mails and site.state() == before
    assert not site.mail_to("robot@example.com")


def test_a_hundred_sign_ups_from_one_ip_are_rate_limited(site: ListSite):
    started = time.monotonic()
    statuses = [sign_up(site, f"flood{n}@example.com", "203.0.113.9").status for n in range(100)]
    assert time.monotonic() - started < 60
    assert statuses == [200] * SIGNUPS_PER_IP + [429] * (100 - SIGNUPS_PER_IP)
    pending = {row[0] for row in site.rows("pending")}
    assert {f"flood{n}@example.com" for n in range(SIGNUPS_PER_IP)} <= pending
    assert not {f"flood{n}@example.com" for n in range(SIGNUPS_PER_IP, 100)} & pending
    # Another client is not held up by that one.
    assert sign_up(site, "neighbour@example.com", "203.0.113.10").status == 200
    # One address, many clients: limited too (nobody can flood a stranger's mailbox).
    answers = [sign_up(site, "victim@example.com", f"203.0.113.{50 + n}").status for n in range(5)]
    assert answers == [200] * SIGNUPS_PER_ADDRESS + [429] * (5 - SIGNUPS_PER_ADDRESS)
    assert len(site.mail_to("victim@example.com")) == SIGNUPS_PER_ADDRESS


def test_confirming_needs_the_post_and_an_unexpired_token(site: ListSite):
    assert sign_up(site, "late@example.com", "198.51.100.30").status == 200
    site.wait_for_mail(1)
    expired = tokens.make(SECRET, "confirm", "late@example.com", expires=int(time.time()) - 1)
    answer = site.get(f"/confirm?token={expired}")
    assert answer.status == 410 and site.public_url + "subscribe/" in answer.text
    forged = tokens.make(SECRET, "confirm", "late@example.com", expires=int(time.time()) - 1) + "x"
    assert site.get(f"/confirm?token={forged}").status == 400
    # A POST without the page's CSRF token is refused; nobody is subscribed.
    fresh = tokens.make(SECRET, "confirm", "late@example.com", expires=int(time.time()) + 60)
    assert site.post("/confirm", {"token": fresh}).status == 400
    assert site.post("/confirm", {"token": fresh, "csrf": "1.x.0.y"}).status == 400
    assert "late@example.com" not in {row[0] for row in site.rows("subscribers")}


def test_a_suppressed_address_is_never_reactivated_from_the_form(site: ListSite):
    assert sign_up(site, "changed.mind@example.com", "198.51.100.31").status == 200
    site.wait_for_mail(1)
    deadline = time.monotonic() + 15
    while not site.mail_to("changed.mind@example.com"):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    link = confirm_link(site.mail_to("changed.mind@example.com")[-1])
    csrf = re.search(r'name="csrf" value="([^"]+)"', site.get(link).text)[1]
    site.cli("unsubscribe", "changed.mind@example.com")  # the writer suppresses it meanwhile
    answer = site.post("/confirm", {"token": token_of(link), "csrf": csrf})
    assert answer.status == 200 and "다시 구독할 수 없습니다" in answer.text
    assert "changed.mind@example.com" not in {row[0] for row in site.rows("subscribers")}
    assert "changed.mind@example.com" in site.suppressed()


def test_every_page_is_safe_to_show(site: ListSite):
    token = tokens.make(SECRET, "unsubscribe", "headers@example.com")
    pages = [
        site.get("/"),
        site.get(f"/unsubscribe?token={token}"),
        site.get("/unsubscribe?token=nonsense"),
        site.get("/no/such/page"),
        site.get("/subscribe"),  # 405: only POST
        site.post("/subscribe", {"email": "not an address", "everything": "1"}, headers={"X-Forwarded-For": "::1"}),
        site.post("/subscribe", b"email=" + b"a" * 100_000, headers=FORM),  # 413
    ]
    assert [p.status for p in pages] == [200, 200, 400, 404, 405, 400, 413]
    for answer in pages:
        policy = answer.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy and "script-src" not in policy and "default-src 'none'" in policy
        assert answer.headers["referrer-policy"] == "no-referrer"
        assert answer.headers["content-type"].startswith("text/html")
        assert '<html lang="ko">' in answer.text and "<script" not in answer.text
        assert "Traceback" not in answer.text and "location" not in answer.headers
    css = site.get("/static/style.css")
    assert css.status == 200 and css.headers["content-type"].startswith("text/css")


def test_a_copy_links_preferences_and_unsubscribe_from_its_footer(site: ListSite, tmp_path: Path):
    subscribed(site, "footer@example.com", "198.51.100.40")
    copy = issue_copy(site, "footer@example.com")
    found = links(copy)
    preferences = [link for link in found if "/preferences?token=" in link]
    unsubscribe = [link for link in found if "/unsubscribe?token=" in link]
    assert len(preferences) == 1 and len(unsubscribe) == 1  # the same link in both parts
    assert tokens.is_for(SECRET, "preferences", token_of(preferences[0]), "footer@example.com", time.time())
    assert unsubscribe[0] == one_click_url(copy)
