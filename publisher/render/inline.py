"""CSS inlined into an HTML email by premailer, and the test of two documents being the same tree.

premailer and lxml load only when called: a build whose email template is cached imports neither.
"""

from __future__ import annotations

import logging


def same_document(a: str, b: str) -> bool:
    """Whether two HTML documents are the same tree, whitespace-only differences aside."""
    return _canonical(a) == _canonical(b)


def _canonical(html: str) -> bytes:
    import lxml.html
    from lxml import etree

    tree = lxml.html.document_fromstring(html)
    for node in tree.iter():
        node.text = " ".join(node.text.split()) if node.text else None
        node.tail = " ".join(node.tail.split()) if node.tail else None
    return etree.tostring(tree, method="c14n")


def inline_css(html: str) -> str:
    """Every rule that can be inlined, inlined; the <style> block keeps only the media queries."""
    import premailer  # slow to import (cssutils, requests): only builds that inline pay for it

    return premailer.Premailer(
        html,
        allow_network=False,
        strip_important=False,  # the media queries need !important to win over inline styles
        keep_style_tags=False,
        remove_classes=False,  # the media queries select by class
        disable_basic_attributes=["bgcolor"],  # written by hand where Outlook needs it, not on every link
        disable_validation=True,
        cssutils_logging_level=logging.CRITICAL,
    ).transform()
