"""tags.opml: every tag's feed in one OPML 2.0 file, so a reader imports all topics, or picks some, at once."""

from __future__ import annotations

from ..digests.catalog import Catalog
from ..text import xml_safe
from . import paths, words
from .context import Context
from .output import Output

OPML_DOCS = "http://opml.org/spec2.opml"


def render_opml(catalog: Catalog, context: Context) -> Output:
    """No dateCreated: the file must not change unless the tags do."""
    site_title = xml_safe(context.config.site.title)
    import xml.etree.ElementTree as ET  # only when the OPML is made, not on every build

    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = words.tags_opml_title(site_title)
    ET.SubElement(head, "docs").text = OPML_DOCS
    body = ET.SubElement(root, "body")
    # One folder: readers that keep OPML outlines as folders file every tag feed under the site.
    folder = ET.SubElement(body, "outline", text=site_title, title=site_title)
    for summary in catalog.topics:  # topics only: a merged spelling's feed lives on but is not offered
        tag = summary.topic
        ET.SubElement(
            folder,
            "outline",
            type="rss",
            text=xml_safe(f"#{tag.name}"),
            title=xml_safe(words.tag_title(site_title, tag)),
            xmlUrl=context.urls.public(paths.feed("rss", tag)),
            htmlUrl=context.urls.public(paths.tag_page(tag)),
        )
    ET.indent(root)
    return Output(paths.OPML, ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n")
