"""Markdown written by an LLM, turned into HTML that cannot run or fetch anything.

Raw HTML in the source is shown as text (markdown-it's ``html`` off). No link becomes an
``href`` and no image a ``src``: a page that works offline has no reason to point outward,
and a link that cannot be clicked cannot be a ``javascript:`` trap. A link to http, https or
mailto is shown as its text followed by the address, as text; any other link (javascript:,
data:, file:, vbscript:, relative) is not a link at all and stays as the characters written.
Headings move down two levels, so an LLM's ``#`` sits under the page's own ``<h2>``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup, escape

SAFE_SCHEMES = ("http://", "https://", "mailto:")
HEADING_SHIFT = 2


def is_safe_link(url: str) -> bool:
    """True for an http, https or mailto address (compared without case or blanks)."""
    folded = "".join(url.split()).lower()
    return folded.startswith(SAFE_SCHEMES)


def _link_open(
    self: Any, tokens: Sequence[Token], idx: int, options: Any, env: dict[str, Any]
) -> str:
    env.setdefault("links", []).append(str(tokens[idx].attrGet("href") or ""))
    return '<span class="link">'


def _link_close(
    self: Any, tokens: Sequence[Token], idx: int, options: Any, env: dict[str, Any]
) -> str:
    href = env["links"].pop()
    shown = tokens[idx - 1].content if idx > 0 and tokens[idx - 1].type == "text" else None
    if shown == href or shown == href.removeprefix("mailto:"):
        return "</span>"  # an autolink: the address is already the text
    return f'</span> <span class="url">({escape(href)})</span>'


def _image(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: dict[str, Any]) -> str:
    token = tokens[idx]
    alt = "".join(c.content for c in token.children or [])
    src = str(token.attrGet("src") or "")
    return f'<span class="image">[image: {escape(alt)}] ({escape(src)})</span>'


def _shift_headings(state: Any) -> None:
    for token in state.tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(6, int(token.tag[1]) + HEADING_SHIFT)}"


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    md.validateLink = is_safe_link  # type: ignore[method-assign]
    md.add_render_rule("link_open", _link_open)
    md.add_render_rule("link_close", _link_close)
    md.add_render_rule("image", _image)
    md.core.ruler.push("chimera_shift_headings", _shift_headings)
    return md


def render_markdown(text: str) -> Markup:
    """``text`` as inert HTML (see the module docstring), marked safe for the page template."""
    html = _parser().render(text, {})
    return Markup(html)  # the parser escaped all text and let no raw HTML through
