"""A reader's whole journey in headless Chromium, at a phone's width: the built site served on
127.0.0.1, `publisher listen` on 127.0.0.1, aiosmtpd receiving the mail.

Subscribe page → confirmation mail → Confirm → `publisher subscribers list` → `publisher send`
→ preferences (add a topic) → unsubscribe → undo. Every page is saved in tests/screenshots/
(list-*.png) for a person to look at.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .browser import SCREENSHOTS
from .list_endpoint import ListSite, links

pytestmark = pytest.mark.browser

READER = "reader@example.com"
DATE = "2024-07-25"


def look(page, name: str) -> None:
    """Save the page for a person, and check it fits a phone's width (no sideways scrolling)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"list-{name}.png"), full_page=True)
    scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll <= inner, f"{name}: {scroll}px wide in a {inner}px window"


def subscriber_line(site: ListSite) -> str:
    return next(line for line in site.cli("subscribers", "list").stdout.splitlines() if line.startswith(READER))


def test_a_reader_subscribes_chooses_topics_and_leaves(tmp_path: Path, browser):
    with ListSite(tmp_path) as site:
        page = browser.page(width=390)
        page.goto(site.site_url + "subscribe/")
        assert page.is_checked("input[name=everything]")  # ticked by default
        topics = page.eval_on_selector_all("input[name=topic]", "boxes => boxes.map(b => b.value)")
        counts = [t["count"] for t in json.loads((tmp_path / "out/send/topics.json").read_text())["topics"]]
        assert counts == sorted(counts, reverse=True) and len(topics) == len(counts)  # most used first
        look(page, "1-subscribe-page")
        page.fill("input[name=email]", READER)
        page.check("input[name=topic][value=math]")
        page.check("input[name=topic][value=rlhf]")
        page.click("form.signup button[type=submit]")
        assert page.url == site.endpoint + "/subscribe" and "확인 메일을 보냈습니다" in page.content()
        look(page, "2-check-your-mail")

        (confirmation,) = site.wait_for_mail(1)
        assert confirmation["To"].addresses[0].addr_spec == READER
        assert confirmation["From"].addresses[0].addr_spec == "list@example.com"
        assert "List-Unsubscribe" not in confirmation
        (link,) = [u for u in links(confirmation) if "/confirm?" in u]
        confirmation_html = confirmation.get_body(("html",)).get_content()
        mail_page = browser.page(width=390)
        mail_page.set_content(confirmation_html)
        look(mail_page, "3-confirmation-mail")
        mail_page.close()

        page.goto(link)
        look(page, "4-confirm-page")
        assert READER not in site.cli("subscribers", "list").stdout  # opening the link changed nothing
        page.click("button:has-text('구독 확인')")
        assert "구독해 주셔서 고맙습니다" in page.content()
        look(page, "5-confirmed")
        assert subscriber_line(site) == f"{READER}\t\t#math #rlhf"

        site.cli("send", DATE)
        (copy,) = [m for m in site.mail_to(READER) if "List-Unsubscribe" in m]
        manifest = json.loads((tmp_path / f"out/send/{DATE}.json").read_text())
        names = [t["slug"] for t in manifest["tags"]]
        text = copy.get_body(("plain",)).get_content()
        for entry in manifest["entries"]:
            followed = {"math", "rlhf"} & {names[i] for i in entry["tags"]}
            assert (entry["title"] in text) == bool(followed), entry["title"]

        (preferences,) = [u for u in links(copy) if "/preferences?" in u]
        page.goto(preferences)
        assert page.is_checked("input[name=topic][value=math]") and not page.is_checked("input[name=everything]")
        look(page, "6-preferences")
        page.check("input[name=topic][value=framework]")
        page.click("button:has-text('저장')")
        assert "저장했습니다" in page.content()
        look(page, "7-preferences-saved")
        assert subscriber_line(site) == f"{READER}\t\t#framework #math #rlhf"

        (unsubscribe,) = [u for u in links(copy) if "/unsubscribe?" in u]
        page.goto(unsubscribe)
        look(page, "8-unsubscribe-page")
        assert "unsubscribed" not in subscriber_line(site)  # the GET changed nothing
        page.click("button:has-text('구독 해지')")
        assert "더 이상 메일을 보내지 않습니다" in page.content()
        look(page, "9-unsubscribed")
        assert subscriber_line(site).endswith("\tunsubscribed")
        page.click("button:has-text('해지 취소')")
        assert "해지를 취소했습니다" in page.content()
        look(page, "10-undone")
        assert subscriber_line(site) == f"{READER}\t\t#framework #math #rlhf"

        page.goto(site.endpoint + "/confirm?token=1.broken.0.token")
        look(page, "11-bad-link")
        page.close()
