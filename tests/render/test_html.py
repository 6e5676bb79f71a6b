"""The page: one file, escaped text, embedded images, a strict CSP, atomic writes."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from chimera.render.html import (
    Image,
    Section,
    Table,
    html_page,
    write_html,
    write_plots,
)
from chimera.render.plots import plot_bars
from chimera.render.template import CONTENT_SECURITY_POLICY

PNG = plot_bars(["a"], [1.0], None, "t", "x")


def test_page_has_the_csp_and_no_script() -> None:
    html = html_page("T", [Section("S", paragraphs=["p"])])
    csp = CONTENT_SECURITY_POLICY.replace("'", "&#39;")
    assert f'<meta http-equiv="Content-Security-Policy" content="{csp}">' in html
    assert "default-src &#39;none&#39;; img-src data:; style-src &#39;unsafe-inline&#39;" in html
    assert "<script" not in html.lower()
    assert html.index("Content-Security-Policy") < html.index("<style>")  # before anything else


def test_every_text_field_is_escaped() -> None:
    evil = "<script>alert(1)</script>"
    section = Section(
        evil,
        paragraphs=[evil],
        items=[evil],
        tables=[Table([evil], [[evil]], caption=evil)],
        images=[Image(PNG, alt='"><script>alert(1)</script>', caption=evil)],
        preformatted=[evil],
        notes=[evil],
        errors=[evil],
    )
    html = html_page(evil, [section, section, section], meta=[(evil, evil)], footer=evil)
    assert "<script" not in html
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 12


def test_images_are_data_uris_with_their_size() -> None:
    html = html_page("T", [Section("S", images=[Image(PNG, alt="chart")])])
    uri = "data:image/png;base64," + base64.b64encode(PNG).decode()
    assert f'<img src="{uri}" alt="chart" width="800" height="160">' in html


def test_markdown_blocks_are_rendered_safely() -> None:
    html = html_page("T", [Section("S", markdown=["**b** <script>x</script> [l](javascript:x)"])])
    assert "<strong>b</strong>" in html and "&lt;script&gt;" in html
    assert "javascript:x" in html and 'href="javascript' not in html


def test_table_numeric_columns_and_collapse() -> None:
    t = Table(["name", "tok/s"], [["a", "1.0"], ["b", "2.0"]], caption="c", numeric=frozenset({1}))
    html = html_page(
        "T", [Section("S", tables=[t, Table(["x"], [["y"]], caption="more", collapsed=True)])]
    )
    assert '<th class="num">tok/s</th>' in html and '<td class="num">2.0</td>' in html
    assert "<details><summary>more (1 rows)</summary>" in html


def test_table_rows_must_match_the_header() -> None:
    with pytest.raises(ValueError, match="row 1 has 1 cells, the header 2"):
        Table(["a", "b"], [["1", "2"], ["3"]])


def test_image_must_be_a_png() -> None:
    with pytest.raises(ValueError, match="not a PNG"):
        Image(b"<svg onload=alert(1)>", alt="x")


def test_table_of_contents_links_are_fragments() -> None:
    html = html_page("T", [Section(h) for h in ("One", "Two <b>", "Three")])
    assert '<a href="#s1-one">One</a>' in html
    assert '<a href="#s2-two-b">Two &lt;b&gt;</a>' in html
    assert '<section id="s3-three">' in html


def test_write_html_and_plots(tmp_path: Path) -> None:
    page = write_html(tmp_path / "out" / "report.html", html_page("T", []))
    assert page.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    written = write_plots(tmp_path / "out", {"a.png": PNG, "b.png": PNG})
    assert [p.name for p in written] == ["a.png", "b.png"]
    assert (tmp_path / "out" / "a.png").read_bytes() == PNG
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.png", "b.png", "report.html"]


@pytest.mark.parametrize("name", ["../x.png", "a/b.png", ".hidden.png", "x.svg", ""])
def test_plot_names_must_be_plain_png_names(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match="plain file name"):
        write_plots(tmp_path, {name: PNG})
    assert list(tmp_path.iterdir()) == []
