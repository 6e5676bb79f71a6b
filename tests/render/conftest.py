"""Hostile artifacts, a hostile LLM, and an audit of a page's every tag and attribute."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar

import pytest

from chimera.agent.personas import INSIGHT_AGENT
from chimera.agent.spec import AgentSpec
from chimera.backends.base import EndpointSettings
from chimera.backends.offline import OfflineBackend
from chimera.render.template import CONTENT_SECURITY_POLICY, CSS

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
JS_LINK = "[x](javascript:alert(1))"
EVIL_MODEL = "llama<b>bold</b>"
EVIL_FILE = f"notes{IMG}.md"
HOSTILE_LLM = f"""# Executive Summary

{EVIL_MODEL} runs at **987.6 tok/s** {SCRIPT} and {IMG} see {JS_LINK} or
[y](JAVASCRIPT:alert(2)) or [z](data:text/html,{SCRIPT}) ![p](http://evil.example/p.png)
<iframe src="http://evil.example/"></iframe> <a href="javascript:alert(3)">a</a>

## Key Findings
- {EVIL_MODEL} is the slowest {SCRIPT}
- <svg onload=alert(4)>

## Recommendations
1. Use num_ctx=2048 {IMG}
2. See <https://example.com/x> for more
"""


class HostileLLM(OfflineBackend):
    """A fake model server: answers every call with markup meant to run in the page."""

    kind: ClassVar[str] = "fake"

    def __init__(self) -> None:
        super().__init__(EndpointSettings(kind="offline"), responder=lambda _r: HOSTILE_LLM)


def spec(model: str = EVIL_MODEL, label: str = f"Agent {SCRIPT}") -> AgentSpec:
    persona = INSIGHT_AGENT.model_copy(update={"prompt": f"Be helpful. {SCRIPT} {IMG}"})
    return AgentSpec(agent_id="insight", label=label, persona=persona, model=model)


# What the page may contain: the template's own tags and those safe Markdown produces.
ALLOWED_TAGS = frozenset(
    [
        "html",
        "head",
        "meta",
        "title",
        "style",
        "body",
        "main",
        "header",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "dl",
        "dt",
        "dd",
        "nav",
        "a",
        "section",
        "div",
        "p",
        "ul",
        "ol",
        "li",
        "table",
        "caption",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "figure",
        "img",
        "figcaption",
        "pre",
        "code",
        "span",
        "strong",
        "em",
        "del",
        "s",
        "blockquote",
        "hr",
        "br",
        "details",
        "summary",
        "footer",
    ]
)
ALLOWED_ATTRS = frozenset(
    [
        "charset",
        "http-equiv",
        "content",
        "name",
        "lang",
        "id",
        "class",
        "href",
        "src",
        "alt",
        "width",
        "height",
        "style",
        "start",
    ]
)


def hostile_artifacts(root: Path) -> Path:
    """A benchmark folder whose every text field tries to inject markup."""
    (root / "csv_data").mkdir(parents=True)
    (root / "reports").mkdir()
    rows = ["model,num_ctx,tokens_per_second,ttft_s,notes"]
    rows += [f'"{EVIL_MODEL}",1024,{50 + i},{0.1 + i / 100},"{SCRIPT}"' for i in range(6)]
    rows += [f'gemma3:latest,2048,{80 + i},{0.2 + i / 100},"{IMG}"' for i in range(6)]
    (root / "csv_data" / "bench.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (root / "reports" / EVIL_FILE).write_text(
        f"# Bench {SCRIPT}\n\n{IMG}\n\n{JS_LINK}\n\n| Model | Tokens/s |\n|---|---|\n"
        f"| {EVIL_MODEL} | 52.0 |\n",
        encoding="utf-8",
    )
    results = [
        {"tokens_per_second": 0, "ttft_s": 0, "error": f"{IMG} {JS_LINK}", "success": True},
        {"tokens_per_second": 51.0, "ttft_s": 0.12, "success": True},
    ]
    (root / "csv_data" / "run.json").write_text(
        json.dumps({"model": EVIL_MODEL, "results": results}), encoding="utf-8"
    )
    return root


@pytest.fixture
def hostile_dir(tmp_path: Path) -> Path:
    return hostile_artifacts(tmp_path / "artifacts")


class PageAudit(HTMLParser):
    """Every start tag with its attributes, the text, and the style sheet of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str, str | None]] = []
        self.text: list[str] = []
        self.styles: list[str] = []
        self._open: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += [(tag, k, v) for k, v in attrs]
        self._open = tag

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        self._open = None

    def handle_data(self, data: str) -> None:
        (self.styles if self._open == "style" else self.text).append(data)

    @property
    def all_text(self) -> str:
        return "".join(self.text)


def audit_page(html: str) -> PageAudit:
    """Parse ``html`` and assert it is inert: known tags and attributes only, no event
    handler, no script, no link or source outside the page, the CSP first in <head>."""
    page = PageAudit()
    page.feed(html)
    page.close()
    assert set(page.tags) <= ALLOWED_TAGS, set(page.tags) - ALLOWED_TAGS
    assert "script" not in page.tags and "iframe" not in page.tags and "svg" not in page.tags
    for tag, name, value in page.attrs:
        assert not name.startswith("on"), (tag, name, value)
        assert name in ALLOWED_ATTRS, (tag, name, value)
        folded = re.sub(r"\s+", "", value or "").lower()
        assert "javascript:" not in folded and "vbscript:" not in folded, (tag, name, value)
        if name == "href":
            assert (value or "").startswith("#"), (tag, name, value)  # in-page anchors only
        if name == "src":
            assert tag == "img" and (value or "").startswith("data:image/png;base64,"), value
        if name in ("href", "src"):
            assert not re.search(r"https?://", value or ""), (tag, name, value)
        if name == "style":
            assert re.fullmatch(r"text-align:(left|right|center)", value or ""), value
    metas = [(n, v) for t, n, v in page.attrs if t == "meta" and n in ("http-equiv", "content")]
    assert metas[:2] == [
        ("http-equiv", "Content-Security-Policy"),
        ("content", CONTENT_SECURITY_POLICY),
    ]
    assert page.tags[:4] == ["html", "head", "meta", "meta"]  # charset, then the CSP
    assert page.styles == [CSS]  # exactly our style sheet, nothing injected into it
    return page


@pytest.fixture
def audit() -> Callable[[str], PageAudit]:
    return audit_page
