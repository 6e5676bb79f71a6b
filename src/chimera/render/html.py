"""One self-contained HTML page from plain sections: text escaped, plots embedded as data: URIs.

Every string a caller passes is data and is escaped by Jinja2's autoescape; the only markup
that reaches the page unescaped is the template itself and Markdown rendered by
``chimera.render.markdown`` (which lets no raw HTML, link target or image source through).
The page has no script and loads nothing: its Content-Security-Policy forbids every fetch
but data: images, so even a mistake here could not reach the network.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, StrictUndefined, Template
from markupsafe import Markup

from chimera import __version__
from chimera.atomic import atomic_writer, write_text
from chimera.render.markdown import render_markdown
from chimera.render.plots import png_size
from chimera.render.template import CONTENT_SECURITY_POLICY, CSS, TEMPLATE


@dataclass(frozen=True, slots=True)
class Table:
    """Rows of plain-text cells under ``columns``; ``numeric`` column indexes align right."""

    columns: Sequence[str]
    rows: Sequence[Sequence[str]]
    caption: str = ""
    numeric: frozenset[int] = frozenset()
    collapsed: bool = False  # folded under its caption (a <details> element; no script)

    def __post_init__(self) -> None:
        for i, row in enumerate(self.rows):
            if len(row) != len(self.columns):
                raise ValueError(
                    f"table {self.caption or self.columns!r}: row {i} has {len(row)} cells, "
                    f"the header {len(self.columns)}"
                )


@dataclass(frozen=True, slots=True)
class Image:
    """A PNG (bytes, as the plot functions return them) with its alternative text."""

    png: bytes
    alt: str
    caption: str = ""

    def __post_init__(self) -> None:
        png_size(self.png)  # raises ValueError for anything but a PNG


@dataclass(frozen=True, slots=True)
class Section:
    """One ``<h2>`` section. Shown in this order: notes (highlighted; ``errors`` in red),
    paragraphs, bullet items, Markdown blocks (rendered safely), tables, images, and
    preformatted blocks (monospace, as written)."""

    heading: str
    paragraphs: Sequence[str] = ()
    items: Sequence[str] = ()
    markdown: Sequence[str] = ()
    tables: Sequence[Table] = ()
    images: Sequence[Image] = ()
    preformatted: Sequence[str] = ()
    notes: Sequence[str] = ()
    errors: Sequence[str] = ()


@cache
def _template() -> Template:
    env = Environment(autoescape=True, undefined=StrictUndefined, keep_trailing_newline=True)
    return env.from_string(TEMPLATE)


def _anchor(index: int, heading: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", heading.lower()).strip("-")[:40]
    return f"s{index}-{slug}" if slug else f"s{index}"


def _image_view(img: Image) -> dict[str, Any]:
    width, height = png_size(img.png)
    uri = "data:image/png;base64," + base64.b64encode(img.png).decode("ascii")
    return {"uri": uri, "alt": img.alt, "caption": img.caption, "width": width, "height": height}


def _section_view(index: int, s: Section) -> dict[str, Any]:
    return {
        "anchor": _anchor(index, s.heading),
        "heading": s.heading,
        "notes": [{"text": t, "error": True} for t in s.errors]
        + [{"text": t, "error": False} for t in s.notes],
        "paragraphs": list(s.paragraphs),
        "bullets": list(s.items),
        "markdown": [render_markdown(m) for m in s.markdown],
        "tables": [
            {
                "caption": t.caption,
                "columns": list(t.columns),
                "rows": [[str(c) for c in row] for row in t.rows],
                "numeric": t.numeric,
                "collapsed": t.collapsed,
            }
            for t in s.tables
        ],
        "images": [_image_view(i) for i in s.images],
        "preformatted": list(s.preformatted),
    }


def html_page(
    title: str,
    sections: Sequence[Section],
    *,
    meta: Sequence[tuple[str, str]] = (),
    footer: str | None = None,
) -> str:
    """The whole page: ``title`` as ``<h1>``, ``meta`` as a key/value list under it, a table
    of contents when there are more than two sections, then each section."""
    return _template().render(
        title=title,
        meta=[(str(k), str(v)) for k, v in meta],
        sections=[_section_view(i, s) for i, s in enumerate(sections, 1)],
        csp=CONTENT_SECURITY_POLICY,
        css=Markup(CSS),  # a constant of this package; escaping would break its quotes
        footer=footer
        if footer is not None
        else f"Written by Chimera {__version__}. Self-contained: no scripts, nothing loaded "
        "from the network.",
    )


def write_html(path: Path | str, html: str) -> Path:
    """Write the page atomically (temp file, then rename)."""
    return write_text(path, html)


def write_png(path: Path | str, png: bytes) -> Path:
    """Write a PNG atomically (temp file, then rename)."""
    with atomic_writer(path, binary=True) as fh:
        fh.write(png)
    return Path(path)


_PLOT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\.png")


def write_plots(folder: Path | str, plots: dict[str, bytes]) -> list[Path]:
    """Each ``name -> png`` as ``folder/name``; the paths written, in ``plots``' order.

    Raises ValueError for a name that is not a plain ``*.png`` file name.
    """
    for name in plots:
        if not _PLOT_NAME.fullmatch(name):
            raise ValueError(f"plot name {name!r} is not a plain file name ending in .png")
    return [write_png(Path(folder) / name, png) for name, png in plots.items()]
