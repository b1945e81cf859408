"""without_links: formatting stays, no link or image syntax survives (the browser tests check the rendering)."""

import re

import pytest

from hfdash.safetext import has_links_or_images, without_links


@pytest.mark.parametrize("text", [
    "![t](http://127.0.0.1:9/track.png)",
    "a](https://evil.example/phish)[b",
    r"!\[t\](http://evil.example/x.png)",  # the text's own escapes cannot undo ours
    "[ref][1]\n\n[1]: http://evil.example/x.png",
    "<http://evil.example/raw> and <img src=x>",
    "see https://evil.example or www.evil.example or mail me@evil.example",
    ":red[coloured] and $\\href{http://evil.example}{x}$",
])
def test_no_link_syntax_survives(text):
    live = _unescaped(without_links(text))
    for syntax in ("[", "]", "<", "$", "@", "://", "www."):
        assert syntax not in live


def _unescaped(text: str) -> str:
    """The characters markdown would still treat as syntax: escaped ones and code spans dropped."""
    text = re.sub(r"`[^`]*`", "", text)
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            i += 2
            continue
        out.append(text[i])
        i += 1
    return "".join(out)


def test_formatting_and_code_are_kept():
    text = "# Title\n\n**bold** and *it*\n\n- one\n- two\n\n`[x](y)` stays code\n\n```\n[a](b) ![c](d)\n```\n"
    safe = without_links(text)
    assert safe.startswith("# Title\n\n**bold** and *it*\n\n- one\n- two\n\n`[x](y)` stays code")
    assert "```\n[a](b) ![c](d)\n```\n" in safe


def test_plain_text_is_unchanged():
    text = "The capital of France is Paris. 2 * 3 = 6; a_b_c > d."
    assert without_links(text) == text and not has_links_or_images(text)
