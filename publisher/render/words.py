"""The site's words that code, not templates, must produce: dates and titles (the site is Korean)."""

from __future__ import annotations

import datetime as dt

from ..digests.model import Digest, Tag
from ..digests.parse import date_line


def long_date(date: dt.date) -> str:
    return date_line(date)


def issue_title(digest: Digest) -> str:
    """An issue's title in feeds, pages and email subjects: `2024년 7월 25일 · 논문 노트 6편`."""
    return f"{long_date(digest.date)} · 논문 노트 {len(digest.entries)}편"


def tag_title(site_title: str, tag: Tag) -> str:
    return f"{site_title} · #{tag.name}"


def tag_issue_title(digest: Digest, tag: Tag) -> str:
    """A digest's item in a tag feed, which holds only that tag's notes: `2024년 7월 25일 · #math 노트 2편`."""
    return f"{long_date(digest.date)} · #{tag.name} 노트 {len(digest.entries_with(tag))}편"


def tag_feed_description(tag: Tag) -> str:
    return f"#{tag.name} 태그가 붙은 노트만 모은 피드"


def tags_opml_title(site_title: str) -> str:
    return f"{site_title} · 태그별 피드"


def email_subject(site_title: str, date: dt.date, count: int, topics: tuple[str, ...] = ()) -> str:
    """`[AI 논문 노트] 2024년 7월 25일 · 논문 노트 6편`; a copy filtered by topics names them instead."""
    about = " ".join(f"#{topic}" for topic in topics) or "논문"
    return f"[{site_title}] {long_date(date)} · {about} 노트 {count}편"


PREHEADER_MIN, PREHEADER_MAX = 40, 130


def email_preheader(date: dt.date, titles: tuple[str, ...]) -> str:
    """The hidden preview line of an email issue: the date and the note titles, 40 to 130 characters."""
    text = f"{long_date(date)} · 논문 노트 {len(titles)}편: " + " · ".join(" ".join(t.split()) for t in titles)
    if len(text) < PREHEADER_MIN:
        text += " · 메일로 받아보는 논문 노트"
    if len(text) > PREHEADER_MAX:
        cut = text[: PREHEADER_MAX - 1]
        space = cut.rfind(" ")
        text = (cut[:space] if space > PREHEADER_MAX // 2 else cut).rstrip(" ·:") + "…"
    return text


def email_reason(site_title: str, topics: tuple[str, ...] | None) -> str:
    """Why a reader gets the email: the whole list, or only some topics (at most eight named)."""
    if topics is None:
        return f"{site_title} 메일링 리스트를 구독하셔서 받으신 메일입니다."
    named = " ".join(f"#{topic}" for topic in topics[:8])
    if len(topics) > 8:
        named += f" 외 {len(topics) - 8}개"
    return f"{site_title}에서 {named} 주제를 구독하셔서, 그 주제의 노트만 담아 보내드린 메일입니다."


def email_rest(count: int) -> str:
    """The line that links the notes an oversize email issue had to leave out."""
    return f"…외 {count}편은 웹에서 보기"
