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


def tag_issue_title(digest: Digest, tag: Tag) -> str:
    """A digest's item in a tag feed, which holds only that tag's notes: `2024년 7월 25일 · #math 노트 2편`."""
    return f"{long_date(digest.date)} · #{tag.name} 노트 {len(digest.entries_with(tag))}편"


def tag_feed_description(tag: Tag) -> str:
    return f"#{tag.name} 태그가 붙은 노트만 모은 피드"


def tags_opml_title(site_title: str) -> str:
    return f"{site_title} · 태그별 피드"
