"""The theme (templates and static files, read once) and the one jinja2 environment over it."""

from __future__ import annotations

import functools
import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from markupsafe import Markup, escape

from ..config import default_theme_dir
from ..errors import ConfigError, Diagnostic
from ..text import has_hangul, split_links

if TYPE_CHECKING:
    import jinja2


# {% extends "x" %}, {% include 'x' %}, {% import "x" as m %}, {% from "x" import m %}; a
# non-literal argument leaves `name` empty.
_REFERENCE = re.compile(r"""\{%-?\s*(?:extends|include|import|from)\s+(?:(["'])(?P<name>[^"']+)\1|\S)""")


@dataclass(frozen=True)
class Theme:
    """Every file of the theme by POSIX path; an override folder wins file by file."""

    files: tuple[tuple[str, bytes], ...]
    # Where jinja2 may keep compiled templates between builds (the build's cache folder), or None.
    # Not part of what the theme is: the same files render the same bytes wherever it points.
    compiled: str | None = field(default=None, compare=False)

    @functools.lru_cache(maxsize=64)  # noqa: B019 - themes live for a build; few distinct arguments
    def fingerprint_of(self, uses: tuple[str, ...]) -> str:
        """The fingerprint of what renders with these templates (or folders, ending in '/') read:
        the templates themselves and every template they extend, include or import."""
        names = self.closure(uses)
        digest = hashlib.sha256()
        for name, data in self.files:
            if name in names:  # the closure holds every file of a folder use too
                digest.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
        return digest.hexdigest()

    def closure(self, uses: tuple[str, ...]) -> frozenset[str]:
        """The templates these ones read, directly or not. A reference that is not a literal name
        (`{% include variable %}`) could be any template: then every file of the theme counts."""
        files = dict(self.files)
        seen: set[str] = set()
        todo = [name for name in uses if not name.endswith("/")]
        todo += [name for name in files for use in uses if use.endswith("/") and name.startswith(use)]
        while todo:
            name = todo.pop()
            if name in seen or name not in files:
                continue
            seen.add(name)
            text = files[name].decode("utf-8", "replace")
            for match in _REFERENCE.finditer(text):
                if match["name"] is None:
                    return frozenset(files)
                todo.append(match["name"])
        return frozenset(seen)

    def text(self, name: str) -> str:
        return dict(self.files)[name].decode("utf-8")

    def static_files(self) -> list[tuple[str, bytes]]:
        return [(name.removeprefix("static/"), data) for name, data in self.files if name.startswith("static/")]


def load_theme(override: Path | None = None) -> Theme:
    files: dict[str, bytes] = {}
    for folder in filter(None, (default_theme_dir(), override)):
        if not folder.is_dir():
            raise ConfigError(Diagnostic(str(folder), None, "templates folder not found"))
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                files[path.relative_to(folder).as_posix()] = path.read_bytes()
    return Theme(tuple(sorted(files.items())))


def linkify(line: str) -> Markup:
    """A line as escaped HTML in which only well-formed http(s) URLs are links."""
    return Markup("").join(
        Markup('<a href="{0}">{1}</a>').format(piece.href, piece.text) if piece.href else escape(piece.text)
        for piece in split_links(line)
    )


def plain_links(line: str) -> str:
    """A line for the plain-text email, its links delimited as `split_links` cut them: a mail client
    guesses where a bare URL ends, so a URL with text glued to it (`…/1603.05027)를`) goes in
    angle brackets (RFC 3986, appendix C), and a Markdown link becomes `text <url>`."""
    pieces = split_links(line)
    out = []
    for index, piece in enumerate(pieces):
        if piece.href is None:
            out.append(piece.text)
        elif piece.text != piece.href:
            out.append(f"{piece.text} <{piece.href}>")
        else:
            after = pieces[index + 1].text[:1] if index + 1 < len(pieces) else ""
            out.append(f"<{piece.href}>" if after and not after.isspace() else piece.href)
    return "".join(out)


def lang_of(text: str) -> str:
    """The language tag of a piece of a note: `ko` when it has Hangul, else `en` (the papers' titles,
    authors and abstracts are English). Pages, emails and feed HTML put it on every element that
    holds such text, `lang="{{ entry.title | lang_of }}"`, so a screen reader reads English titles
    with English rules on a Korean page (WCAG 3.1.2). An attribute value, not a whole attribute:
    premailer inlines the email template with its jinja2 tags in place, and parses it as HTML."""
    return "ko" if has_hangul(text) else "en"


@functools.lru_cache(maxsize=8)
def environment(theme: Theme) -> jinja2.Environment:
    """Strict and escaped: a missing variable is an error, HTML and XML output is autoescaped."""
    import jinja2  # loaded only when something is rendered: a build that keeps every file needs none

    sources = {
        name: data.decode("utf-8") for name, data in theme.files if name.endswith((".html", ".txt", ".xml", ".css"))
    }
    # A compiled template is stored under the hash of its source: an edited template compiles anew.
    compiled = None if theme.compiled is None else jinja2.FileSystemBytecodeCache(_folder(theme.compiled))
    env = jinja2.Environment(
        loader=jinja2.DictLoader(sources),
        bytecode_cache=compiled,
        undefined=jinja2.StrictUndefined,
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "xml"), default_for_string=True),
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["linkify"] = linkify
    env.filters["plain_links"] = plain_links
    env.filters["lang_of"] = lang_of
    return env


def _folder(path: str) -> str:
    os.makedirs(path, exist_ok=True)
    return path


def render(theme: Theme, name: str, **context: object) -> str:
    return environment(theme).get_template(name).render(**context)
