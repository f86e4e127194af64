"""The site's words that code, not templates, must produce: dates and titles (the site is Korean)."""

from __future__ import annotations

import datetime as dt

from .model import Digest, Tag


def long_date(date: dt.date) -> str:
    return f"{date.year}년 {date.month}월 {date.day}일"


def issue_title(digest: Digest) -> str:
    """An issue's title in feeds, pages and email subjects: `2024년 7월 25일 · 논문 노트 6편`."""
    return f"{long_date(digest.date)} · 논문 노트 {len(digest.entries)}편"


def tag_title(site_title: str, tag: Tag) -> str:
    return f"{site_title} · #{tag.name}"
