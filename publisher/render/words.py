"""The site's words that code, not templates, must produce: dates and titles (the site is Korean)."""

from __future__ import annotations

import datetime as dt

from ..digests.model import Digest, Tag
from ..digests.parse import date_line


def long_date(date: dt.date) -> str:
    return date_line(date)


def month_name(date: dt.date) -> str:
    """The month of a date, as long_date writes it: `2024년 5월`."""
    return f"{date.year}년 {date.month}월"


def date_span(oldest: dt.date, newest: dt.date) -> str:
    """The dates a page of the archive covers, as long_date writes them, without repeating the year
    or the month: `2003년 4월 5일 – 5월 4일`, `2003년 4월 5일 – 20일`, `2003년 12월 30일 – 2004년 1월 2일`."""
    if oldest == newest:
        return long_date(oldest)
    if oldest.year != newest.year:
        end = long_date(newest)
    elif oldest.month != newest.month:
        end = f"{newest.month}월 {newest.day}일"
    else:
        end = f"{newest.day}일"
    return f"{long_date(oldest)} – {end}"


def year_name(date: dt.date) -> str:
    return f"{date.year}년"


def issue_title(digest: Digest) -> str:
    """An issue's title in feeds, pages and email subjects: `2024년 7월 25일 · 논문 노트 6편`."""
    return f"{long_date(digest.date)} · 논문 노트 {len(digest.entries)}편"


def notes_title(titles: tuple[str, ...] | list[str]) -> str:
    """A feed item's title, which a reader's list shows alone: the first note's title, and how many
    more, `Rule Based Rewards for Language Model Safety 외 2편`."""
    first = " ".join(titles[0].split())
    return first if len(titles) == 1 else f"{first} 외 {len(titles) - 1}편"


def tag_title(site_title: str, tag: Tag) -> str:
    return f"{site_title} · #{tag.name}"


DESCRIPTION_MAX = 200  # what share previews and search engines show, about


def issue_description(digest: Digest) -> str:
    """An issue page's own description: its date and its notes' titles, cut at a title."""
    text = f"{long_date(digest.date)} · 논문 노트 {len(digest.entries)}편"
    for i, entry in enumerate(digest.entries):
        title = " ".join(entry.title.split())
        more = f" 외 {len(digest.entries) - i}편"
        if len(text) + len(title) + 3 + len(more) > DESCRIPTION_MAX and i > 0:
            return text + more
        text += (": " if i == 0 else " · ") + title
    return text


def tag_description(site_title: str, tag: Tag, count: int) -> str:
    return f"{site_title}: #{tag.name} 태그가 붙은 노트 {count}편"


def tag_archive_description(site_title: str, tag: Tag, span: str) -> str:
    """An archive page of a topic: its dates, not the topic's total, which would change it every day."""
    return f"{site_title}: #{tag.name} 태그가 붙은 노트, {span}"


def tags_description(count: int) -> str:
    return f"태그 {count}개와 노트 수, 태그마다의 RSS·Atom·JSON 피드: 관심 있는 주제만 구독하는 방법"


def subscribe_description(topics: int) -> str:
    return f"새 노트를 메일이나 피드로 받아 보기: 모든 노트, 또는 주제 {topics}개 중 고른 것만"


def search_description(notes: int) -> str:
    return f"논문 노트 {notes}편의 제목, 저자, 노트, 초록, 태그에서 찾기"


def not_found_description() -> str:
    return "찾으시는 페이지가 없습니다. 전체 목록, 태그, 검색에서 찾아보세요."


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
