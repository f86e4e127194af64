"""Digest text → `Digest`, following FORMAT.md. Pure: bytes in, model and warnings out."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import Diagnostic, SourceError
from ..text import anchor_slug, has_controls, has_hangul, is_web_url, slugify, strip_controls
from .model import Digest, Entry, Tag
from .sources import Source

_KOREAN_DATE = re.compile(
    r"(?P<y>\d{4})\s*년\s*(?P<m>\d{1,2})\s*월\s*(?P<d>\d{1,2})\s*일"
    r"(?:\s*\(?[월화수목금토일](?:요일)?\)?)?"
)
_TAG = re.compile(r"#[^\s#]+")
_BYLINE_AUTHORS = re.compile(r"\((?P<authors>.*)\)")
_EXAMPLE_DATE = '"2024년 7월 25일" or "2024-07-25"'


@dataclass(frozen=True)
class Parsed:
    digest: Digest
    warnings: tuple[Diagnostic, ...]


def parse_digest(data: bytes, path: str) -> Parsed:
    """Read one digest file's bytes. Raises SourceError naming the path and line."""
    parsed = _Reader(path).read(_decode(data, path))
    fingerprint = hashlib.sha256(data).hexdigest()
    return Parsed(dataclasses.replace(parsed.digest, fingerprint=fingerprint), parsed.warnings)


def parse_sources(
    sources: list[Source], parse: Callable[[bytes, str], Parsed] = parse_digest
) -> tuple[list[Digest], list[Diagnostic]]:
    """Read every source; one bad file never hides the problems of the others.

    `parse` may be a memo of parse_digest (cache.ParseCache), so a rebuild parses changed files only."""
    digests: list[Digest] = []
    diagnostics: list[Diagnostic] = []
    for source in sources:
        try:
            parsed = parse(source.data, source.path)
        except SourceError as error:
            diagnostics.extend(error.diagnostics)
            continue
        digests.append(parsed.digest)
        diagnostics.extend(parsed.warnings)
    return digests, diagnostics


def _decode(data: bytes, path: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        bad = data[error.start : error.end].hex(" ")
        raise SourceError(Diagnostic(path, line, f"not UTF-8 text: byte {bad} at column {column}")) from None


def date_line(date: dt.date) -> str:
    """The date line as the seeds write it, `2024년 7월 25일`: what `parse_date_line` reads back."""
    return f"{date.year}년 {date.month}월 {date.day}일"


def parse_date_line(text: str) -> dt.date | str:
    """The date a line names; else why it names none: '' when it is no date at all, or a message."""
    text = text.strip()
    korean = _KOREAN_DATE.fullmatch(text)
    if korean:
        try:
            return dt.date(*(int(korean[k]) for k in "ymd"))
        except ValueError as error:
            return f'impossible date "{text}": {error}'
    from dateutil import parser as dateparser  # only here: most archives write Korean dates

    try:
        # A date that reads the same with two different defaults is complete; one that reads the
        # same day-first and month-first is unambiguous. Year-first dates are always year-month-day.
        day_orders = (False,) if re.match(r"\d{4}\D", text) else (False, True)
        readings = {
            dateparser.parse(text, default=default, dayfirst=dayfirst, yearfirst=not dayfirst).date()
            for default in (dt.datetime(2000, 1, 1), dt.datetime(2001, 2, 2))
            for dayfirst in day_orders
        }
    except dateparser.ParserError as error:
        reason = str(error).split(":")[0]
        return "" if reason.startswith("Unknown string format") else f'impossible date "{text}": {reason}'
    except (OverflowError, ValueError) as error:
        return f'impossible date "{text}": {error}'
    if len(readings) > 1:
        return f'ambiguous or incomplete date "{text}": write it as YYYY-MM-DD'
    return readings.pop()


@dataclass
class _OpenEntry:
    title: str
    line: int
    authors: tuple[str, ...] = ()
    link: str | None = None
    body: list[str] = field(default_factory=list)
    expects_byline: bool = True


@dataclass
class _Reader:
    path: str
    warnings: list[Diagnostic] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    anchors: set[str] = field(default_factory=set)

    def error(self, line: int | None, message: str) -> SourceError:
        return SourceError(Diagnostic(self.path, line, message))

    def warn(self, line: int, message: str) -> None:
        self.warnings.append(Diagnostic(self.path, line, message, "warning"))

    def read(self, text: str) -> Parsed:
        lines = self.clean_lines(text)
        if not lines:
            raise self.error(1, f"empty file: expected a date line such as {_EXAMPLE_DATE}")
        (date_number, date_text), *rest = lines
        date = parse_date_line(date_text)
        if date == "":
            raise self.error(
                date_number,
                f'expected a date line such as {_EXAMPLE_DATE}, found "{_shorten(date_text)}"',
            )
        if isinstance(date, str):
            raise self.error(date_number, date)
        entry: _OpenEntry | None = None
        for number, line in rest:
            if _tag_tokens(line):
                if entry is None:
                    raise self.error(number, "expected an entry title, found a tag line")
                self.close(entry, self.read_tags(number, line))
                entry = None
            elif entry is None:
                entry = _OpenEntry(line.strip(), number)
            else:
                self.add_line(entry, line)
        if entry is not None:
            raise self.error(
                entry.line,
                f'entry "{_shorten(entry.title)}" has no tag line before the end of the file',
            )
        if not self.entries:
            self.warn(date_number, "digest has a date but no entries")
        return Parsed(Digest(date, self.path, tuple(self.entries), date_number), tuple(self.warnings))

    def clean_lines(self, text: str) -> list[tuple[int, str]]:
        """Numbered non-blank lines, line endings and control characters removed."""
        numbered = []
        dirty = has_controls(text.replace("\r\n", "\n"))  # most files have none: skip the per-line scan
        for number, line in enumerate(text.split("\n"), start=1):
            line = line.removesuffix("\r")
            if dirty:
                line, removed = strip_controls(line)
                if removed:
                    self.warn(number, f"removed {removed} control character(s)")
            if line.strip():
                numbered.append((number, line))
        return numbered

    def add_line(self, entry: _OpenEntry, line: str) -> None:
        byline = line.strip()
        if entry.expects_byline:
            entry.expects_byline = False
            authors = _BYLINE_AUTHORS.fullmatch(byline)
            if authors:
                names = (name.strip() for name in authors["authors"].split(","))
                entry.authors = tuple(name for name in names if name)
                return
            if " " not in byline and is_web_url(byline):
                entry.link = byline
                return
        entry.body.append(line)

    def read_tags(self, number: int, line: str) -> tuple[Tag, ...]:
        tags: dict[Tag, None] = {}
        for token in line.split():
            if _TAG.fullmatch(token):
                name = token[1:]
                tags.setdefault(Tag(name, slugify(name)))
            else:
                self.warn(number, f'dropped "{_shorten(token)}" from the tag line: not a #tag')
        return tuple(tags)

    def close(self, entry: _OpenEntry, tags: tuple[Tag, ...]) -> None:
        split = next((i for i, line in enumerate(entry.body) if has_hangul(line)), 0)
        self.entries.append(
            Entry(
                title=entry.title,
                authors=entry.authors,
                link=entry.link,
                abstract=tuple(entry.body[:split]),
                commentary=tuple(entry.body[split:]),
                tags=tags,
                anchor=self.unique_anchor(entry.title),
                line=entry.line,
            )
        )

    def unique_anchor(self, title: str) -> str:
        base = anchor_slug(title)
        anchor, n = base, 1
        while anchor in self.anchors:
            n += 1
            anchor = f"{base}-{n}"
        self.anchors.add(anchor)
        return anchor


def _tag_tokens(line: str) -> bool:
    """A tag line is one whose first token is a #tag (FORMAT.md)."""
    first = line.split(maxsplit=1)[0]
    return _TAG.fullmatch(first) is not None


def _shorten(text: str, limit: int = 60) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"
