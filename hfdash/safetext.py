"""Untrusted text shown on a page makes no link and no image.

Streamlit renders markdown in st.markdown, alerts, captions, subheaders, expander labels and tooltips,
and the browser fetches every image the markdown names. So everything untrusted that reaches one of
them goes through `without_links` first: text from a URL parameter, a model id, an error body, and
markdown from a model (answers, model cards), which keeps its formatting.
"""

from __future__ import annotations

import re

# Characters that start a link, an image, a reference, an autolink or HTML, Streamlit's `:color[...]`
# directives, and math (KaTeX); and the backslash, so the text's own escapes cannot undo ours.
# `<` is enough for HTML and autolinks; `>` (quote) stays usable.
_LINK_STARTS = re.compile(r"([\\\[\]<$])")
# What would still become a link by itself (GFM autolink literals): scheme://, www., and e-mail @. The
# renderer finds these in the text after unescaping it, so escapes cannot stop them: a code span can.
_BARE_LINKS = re.compile(r"(?i)(?:\b[a-z][a-z0-9+.-]*://|\bwww\.)[^\s`]*|[^\s`@]*@[^\s`]*")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.DOTALL)
_LINK_OR_IMAGE = re.compile(r"\[[^\]]*\]\s*[(\[]|<[a-z][a-z0-9+.-]*:|\b(?:https?|ftp)://|\bwww\.", re.IGNORECASE)


def without_links(markdown: str) -> str:
    """`markdown` with its formatting (emphasis, lists, headings, code) but no link or image: their
    syntax shows as typed, and addresses show as text. Code blocks and spans are left as they are."""
    out, fence = [], None
    for line in markdown.splitlines(keepends=True):
        opened = _FENCE.match(line)
        if fence is None and opened:
            fence = opened.group(1)[0] * len(opened.group(1))
            out.append(line)
        elif fence is not None:
            if line.strip().startswith(fence) and set(line.strip()) == {fence[0]}:
                fence = None
            out.append(line)
        else:
            out.append(_outside_code_spans(line))
    return "".join(out)


def has_links_or_images(markdown: str) -> bool:
    """Whether `markdown` would make a link or image if rendered as it is."""
    return bool(_LINK_OR_IMAGE.search(markdown))


def _outside_code_spans(line: str) -> str:
    parts, last = [], 0
    for span in _CODE_SPAN.finditer(line):
        parts.append(_neutralise(line[last:span.start()]))
        parts.append(span.group(0))
        last = span.end()
    parts.append(_neutralise(line[last:]))
    return "".join(parts)


def _neutralise(text: str) -> str:
    parts, last = [], 0
    for bare in _BARE_LINKS.finditer(text):
        parts.append(_LINK_STARTS.sub(r"\\\1", text[last:bare.start()]))
        parts.append(f"`{bare.group(0)}`")
        last = bare.end()
    parts.append(_LINK_STARTS.sub(r"\\\1", text[last:]))
    return "".join(parts)
