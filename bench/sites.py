"""The same archive as a minimal Hugo site and a minimal Pelican site, for bench/compare.py.

Each digest becomes one page holding its full notes (title, authors, the writer's note, the abstract,
tags), as HTML: both generators read HTML content as it is, so neither spends time on Markdown that
publisher does not have to parse either. Tags are the notes' topics (as publisher resolves them).
- Hugo: one page per digest, a `tags` taxonomy, RSS for the home page and for every term, with the
  full content in each item (Hugo's own RSS template carries only a summary), 50 items a feed, 30
  pages a list page.
- Pelican: one article per digest, its default theme, RSS and Atom for everything and for every
  tag, full content, 50 items a feed, 30 articles a page; caching off.

These are benchmark fixtures, not products: the templates are as small as a working site allows.
"""

from __future__ import annotations

import html
from pathlib import Path

from publisher.digests.model import Digest

BASE_URL = "https://example.github.io/publisher/"

HUGO_CONFIG = f"""\
baseURL = "{BASE_URL}"
locale = "ko"
title = "AI 논문 노트"
timeZone = "Asia/Seoul"
disableKinds = ["section"]

[taxonomies]
tag = "tags"

[security]
allowContent = ["text/html", "text/markdown"]

[pagination]
pagerSize = 30

[services.rss]
limit = 50

[outputs]
home = ["html", "rss"]
page = ["html"]
taxonomy = ["html"]
term = ["html", "rss"]
"""

HUGO_LAYOUTS = {
    "_default/baseof.html": """\
<!doctype html>
<html lang="ko"><head><meta charset="utf-8"><title>{{ .Title }}</title>
{{ with .OutputFormats.Get "rss" }}<link rel="alternate" type="application/rss+xml" href="{{ .Permalink }}">{{ end }}
</head><body><main>{{ block "main" . }}{{ end }}</main></body></html>
""",
    "_default/single.html": """\
{{ define "main" }}<h1>{{ .Title }}</h1>{{ .Content }}
<p>{{ with .PrevInSection }}<a href="{{ .RelPermalink }}">{{ .Title }}</a>{{ end }}
{{ with .NextInSection }}<a href="{{ .RelPermalink }}">{{ .Title }}</a>{{ end }}</p>{{ end }}
""",
    "_default/list.html": """\
{{ define "main" }}<h1>{{ .Title }}</h1><ul>
{{ range .Paginator.Pages }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a>
{{ range .GetTerms "tags" }}<a href="{{ .RelPermalink }}">#{{ .LinkTitle }}</a> {{ end }}</li>
{{ end }}</ul>
{{ with .Paginator.Prev }}<a href="{{ .URL }}">newer</a>{{ end }}
{{ with .Paginator.Next }}<a href="{{ .URL }}">older</a>{{ end }}{{ end }}
""",
    "_default/terms.html": """\
{{ define "main" }}<h1>{{ .Title }}</h1><ul>
{{ range .Data.Terms.ByCount }}<li><a href="{{ .Page.RelPermalink }}">#{{ .Page.LinkTitle }}</a> {{ .Count }}</li>
{{ end }}</ul>{{ end }}
""",
    # Hugo's built-in RSS template, with the full content instead of the summary.
    "_default/rss.xml": """\
{{- $pages := .RegularPages -}}{{- if .IsHome -}}{{- $pages = .Site.RegularPages -}}{{- end -}}
{{- $pages = $pages | first 50 -}}
{{- printf "<?xml version=\\"1.0\\" encoding=\\"utf-8\\" standalone=\\"yes\\"?>" | safeHTML }}
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>
<title>{{ .Title }}</title><link>{{ .Permalink }}</link><description>{{ .Title }}</description>
<language>ko</language>
{{ with .OutputFormats.Get "RSS" }}<atom:link href="{{ .Permalink }}" rel="self" type="application/rss+xml"/>{{ end }}
{{- range $pages }}
<item><title>{{ .Title }}</title><link>{{ .Permalink }}</link>
<pubDate>{{ .Date.Format "Mon, 02 Jan 2006 15:04:05 -0700" | safeHTML }}</pubDate><guid>{{ .Permalink }}</guid>
<description>{{ .Content | transform.XMLEscape | safeHTML }}</description></item>
{{- end }}
</channel></rss>
""",
}

PELICAN_CONFIG = """\
SITENAME = "AI 논문 노트"
SITEURL = ""
PATH = "content"
TIMEZONE = "Asia/Seoul"
DEFAULT_LANG = "ko"
RELATIVE_URLS = True
FEED_DOMAIN = "https://example.github.io/publisher"
FEED_ALL_ATOM = "feeds/all.atom.xml"
FEED_ALL_RSS = "feeds/all.rss.xml"
TAG_FEED_ATOM = "feeds/tag-{slug}.atom.xml"
TAG_FEED_RSS = "feeds/tag-{slug}.rss.xml"
CATEGORY_FEED_ATOM = None
AUTHOR_FEED_ATOM = None
AUTHOR_FEED_RSS = None
FEED_MAX_ITEMS = 50
RSS_FEED_SUMMARY_ONLY = False
DEFAULT_PAGINATION = 30
CACHE_CONTENT = False
LOAD_CONTENT_CACHE = False
DELETE_OUTPUT_DIRECTORY = False
"""


def notes_html(digest: Digest) -> str:
    """A digest's full notes as HTML: what each generator puts on the page and in each feed item."""
    parts = []
    for entry in digest.entries:
        escape = html.escape
        parts.append(f'<article id="{escape(entry.anchor)}"><h2>{escape(entry.title)}</h2>')
        if entry.authors:
            parts.append(f"<p>{escape(', '.join(entry.authors))}</p>")
        parts += [f"<p>{escape(line)}</p>" for line in entry.commentary]
        if entry.abstract:
            quoted = "".join(f"<p>{escape(line)}</p>" for line in entry.abstract)
            parts.append(f"<blockquote>{quoted}</blockquote>")
        parts.append("<p>" + " ".join(f"#{escape(tag.name)}" for tag in entry.tags) + "</p></article>")
    return "\n".join(parts)


def title(digest: Digest) -> str:
    return f"{digest.date.year}년 {digest.date.month}월 {digest.date.day}일"


def _toml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def hugo_site(digests: list[Digest], folder: Path) -> Path:
    (folder / "content" / "issues").mkdir(parents=True)
    (folder / "hugo.toml").write_text(HUGO_CONFIG, encoding="utf-8")
    for name, text in HUGO_LAYOUTS.items():
        (folder / "layouts" / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / "layouts" / name).write_text(text, encoding="utf-8")
    for digest in digests:
        tags = ", ".join(_toml_string(tag.name) for tag in digest.tags)
        front = f"+++\ntitle = {_toml_string(title(digest))}\ndate = {digest.date.isoformat()}T07:00:00+09:00\n"
        page = f"{front}tags = [{tags}]\n+++\n{notes_html(digest)}\n"
        (folder / "content" / "issues" / f"{digest.date.isoformat()}.html").write_text(page, encoding="utf-8")
    return folder


def pelican_site(digests: list[Digest], folder: Path) -> Path:
    (folder / "content").mkdir(parents=True)
    (folder / "pelicanconf.py").write_text(PELICAN_CONFIG, encoding="utf-8")
    for digest in digests:
        tags = ", ".join(html.escape(tag.name.replace(",", " ")) for tag in digest.tags)
        page = (
            f"<html><head><title>{html.escape(title(digest))}</title>\n"
            f'<meta name="date" content="{digest.date.isoformat()} 07:00">\n'
            f'<meta name="slug" content="{digest.date.isoformat()}">\n'
            f'<meta name="tags" content="{tags}">\n'
            f'<meta name="category" content="digest">\n'
            f"</head><body>\n{notes_html(digest)}\n</body></html>\n"
        )
        (folder / "content" / f"{digest.date.isoformat()}.html").write_text(page, encoding="utf-8")
    return folder
