"""Rendering, pure: the model in, `Output(relpath, bytes)` values out; nothing here touches `out/`.

    templating.py   the theme and the one strict, autoescaping jinja2 environment
    context.py      what every renderer is handed: config, theme, URLs
    paths.py        the only place that computes output paths and public URLs
    output.py       `Output`, `Group`: what a render stage gives the build
    units.py        the per-digest units (email, web page, feed entry HTML) and the aggregate groups
    issues.py       email issues: HTML (inline.py: premailer), plain text, the .eml, the send manifest
    assemble.py     `BuiltIssue`: the send manifest, and a personal copy cut from a built issue
    message.py      the MIME message of an issue, written directly
    archive.py      the web pages: index, issues, tags, search, 404
    discovery.py    what crawlers read: sitemap.xml, robots.txt
    search.py       the documents the search index is made of (one per note), and its shards
    feeds.py        feeds planned over digests (feedmodel.py); feedwriters.py serialises them:
                    RSS and Atom as strings by feedxml.py (feedgen's bytes, without its lxml trees)
    opml.py         the OPML list of tag feeds
    words.py        the site's words that code must produce: dates and titles

The mailing list reads what a build wrote through `paths`, `assemble` and `message` only: they
define the built files and the messages cut from them. It never imports the rest.
"""
