"""LLM Markdown: rendered for reading, with no raw HTML, link target or image source."""

from __future__ import annotations

import pytest

from chimera.render.markdown import is_safe_link, render_markdown


def test_ordinary_markdown_renders() -> None:
    html = render_markdown(
        "# Summary\n\n**12 tok/s** and *fast*\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"
    )
    assert "<h3>Summary</h3>" in html  # two levels below the page's own <h2>
    assert "<strong>12 tok/s</strong>" in html
    assert "<em>fast</em>" in html
    assert "<td>1</td>" in html


def test_raw_html_is_text() -> None:
    html = render_markdown("<script>alert(1)</script> <img src=x onerror=alert(1)>\n\n<div>x</div>")
    assert "<script" not in html and "<img" not in html and "<div" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


@pytest.mark.parametrize(
    "source",
    [
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x]( javascript:alert(1) )",
        "[x](data:text/html,<script>alert(1)</script>)",
        "[x](vbscript:msgbox)",
        "[x](file:///etc/passwd)",
        "[x](/relative/path)",
        "<javascript:alert(1)>",
        "[x][r]\n\n[r]: javascript:alert(2)",
    ],
)
def test_unsafe_links_are_not_links(source: str) -> None:
    html = render_markdown(source)
    assert "href" not in html and "<a" not in html
    assert 'class="link"' not in html  # shown as the characters written


def test_safe_links_show_their_address_as_text() -> None:
    html = render_markdown("see [docs](https://example.com/a?b=1&c=2) or <mailto:x@y.z>")
    assert "href" not in html and "<a" not in html
    assert (
        '<span class="link">docs</span> <span class="url">(https://example.com/a?b=1&amp;c=2)'
        in html
    )
    assert '<span class="link">mailto:x@y.z</span>' in html


def test_images_are_not_loaded() -> None:
    html = render_markdown("![chart](http://evil.example/p.png) ![x](javascript:alert(1))")
    assert "<img" not in html and "src=" not in html
    assert "[image: chart] (http://evil.example/p.png)" in html


def test_code_is_escaped() -> None:
    html = render_markdown("```html\n<script>alert(1)</script>\n```\n\n`<b>`")
    assert "&lt;script&gt;" in html and "<code>&lt;b&gt;</code>" in html


def test_is_safe_link() -> None:
    assert is_safe_link("https://a.b") and is_safe_link("HTTP://a.b") and is_safe_link("mailto:a@b")
    assert not is_safe_link("java\nscript:alert(1)")
    assert not is_safe_link("data:image/png;base64,xx")
    assert not is_safe_link("//evil.example/x")
