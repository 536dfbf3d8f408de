"""Untrusted text made safe to show: one function for plotly, one for Streamlit markdown.

Text from a file, a URL or a user (a centre's name, a patient id, a cause of death, a cohort label)
is data, never markup. Plotly renders a subset of HTML in every text property (`<a href>`,
`<span style>`, `<br>`) and fills `%{…}` placeholders in hover templates; Streamlit's markdown
renders emphasis, links, HTML-like tags and, through GitHub-flavoured markdown, turns bare
`https://…`, `www.…` and e-mail addresses into live links. Everything such text passes through on
its way to a screen or an exported file goes through `plotly_text` or `markdown_text`.
"""

from __future__ import annotations

import html
import re

# U+2060 WORD JOINER: invisible, not a word character, so it breaks the link patterns without
# changing what a reader sees.
_JOINER = "\u2060"

# GFM's literal autolinks: a scheme's "://", "www." and the "@" of an e-mail address.
_SCHEME = re.compile(r"(?i)(\b[a-z][a-z0-9+.\-]*:)(//)")
_WWW = re.compile(r"(?i)\b(www)(\.)")
_AT = re.compile(r"@")
# The characters that start emphasis, code, links, HTML, tables, maths or entities anywhere in a line.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]#|<>~$&])")
# ... and those that start a list item or a quote at the beginning of the text.
_BLOCK_START = re.compile(r"^(\s*\d*)([-+.)])(?=\s|$)")


def plotly_text(text: object) -> str:
    """`text` shown literally in any plotly text property (title, legend, tick, hover, annotation)."""
    escaped = html.escape("" if text is None else str(text), quote=False)
    return escaped.replace("%{", "%" + _JOINER + "{")


def markdown_text(text: object) -> str:
    """`text` shown literally inside Streamlit markdown: no emphasis, no HTML, no link of any kind."""
    value = "" if text is None else str(text)
    value = _SCHEME.sub(lambda m: m.group(1) + _JOINER + m.group(2), value)
    value = _WWW.sub(lambda m: m.group(1) + _JOINER + m.group(2), value)
    value = _AT.sub(_JOINER + "@", value)
    value = _MARKDOWN_SPECIAL.sub(r"\\\1", value)
    # a line break would start a new markdown block (a heading, a list, a table row)
    value = value.replace("\r\n", " ").replace("\r", " ").replace("\n", " ")
    return _BLOCK_START.sub(r"\1\\\2", value)
