"""Reading digests: the files in the seeds folder, turned into the frozen model.

    sources.py   the digest files, read as bytes (the only I/O here)
    parse.py     one digest's bytes → `Digest` (pure; the grammar of ../shared/FORMAT.md)
    model.py     the frozen dataclasses `Digest`, `Entry`, `Tag`, `Topic`
    catalog.py   every digest together: order, the topics, checks across files
    topics.py    tags → topics: aliases, names, unique slugs, the slugs kept for merged spellings
    scaffold.py  `publisher new`: the skeleton of a new digest, written without overwriting

Other packages use `model` (`Topic` among it), `catalog.Catalog`/`make_catalog`, `topics.alias_keys`,
`parse.parse_digest`/`parse_sources`
and `sources.read_sources`. This package imports nothing of `publisher` but `errors`, `config` and `text`.
"""
