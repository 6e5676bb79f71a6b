"""An LLM's Markdown as plain text (pure): emphasis, links and code spans removed; reasoning
blocks, control tokens and fences around the whole answer taken off; lines normalised."""

from __future__ import annotations

import re

from chimera.agent.junk import CONTROL_TOKEN

_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_EM_STAR = re.compile(r"(?<![\w*])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![\w*])")
_EM_UNDERSCORE = re.compile(r"(?<![\w_])_(?=[^\s_])(.+?)(?<=[^\s_])_(?![\w_])")
_STRIKE = re.compile(r"~~(.+?)~~")
_CODE_SPAN = re.compile(r"`+([^`]*)`+")


def strip_markdown(text: str) -> str:
    """Plain text: emphasis, code ticks and link targets removed, whitespace collapsed.

    Underscores inside words stay (``tokens_s`` is a field name, not emphasis).
    """
    text = _CODE_SPAN.sub(r"\1", _LINK.sub(r"\1", text))
    for pattern in (_STRONG, _STRONG, _STRIKE, _EM_STAR, _EM_UNDERSCORE):
        text = pattern.sub(r"\2" if pattern is _STRONG else r"\1", text)
    text = text.replace("**", "").replace("__", "")  # unbalanced leftovers
    return " ".join(text.split())


# --- normalisation -----------------------------------------------------------------------------

_THINK_BLOCK = re.compile(r"<(think|thinking|reasoning)>.*?</\1>", re.S | re.I)
_THINK_OPEN = re.compile(r"<(?:think|thinking|reasoning)>", re.I)
_THINK_CLOSE = re.compile(r"</(?:think|thinking|reasoning)>", re.I)
FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})\s*([^\s`]*)")
_MARKDOWN_LANGS = frozenset({"markdown", "md"})


def normalise_lines(text: str) -> list[str]:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _THINK_BLOCK.sub("", text)
    if close := _THINK_CLOSE.search(text):
        text = text[close.end() :]  # the opening tag was in the chat template
    if opening := _THINK_OPEN.search(text):
        text = text[: opening.start()]  # reasoning cut off before any answer
    return _unwrap_markdown_fences(CONTROL_TOKEN.sub("", text).split("\n"))


def _unwrap_markdown_fences(lines: list[str]) -> list[str]:
    """Drop the fences of ```markdown blocks (and of one unlabelled fence around everything),
    keeping their content; code fences nested inside them stay."""
    body = [i for i, line in enumerate(lines) if line.strip()]
    whole = bool(body) and bare_fence(lines[body[-1]]) and _fence_lang(lines[body[0]]) == ""
    out: list[str] = []
    stack: list[bool] = []  # for each open fence: is it one being unwrapped?
    for i, line in enumerate(lines):
        match = FENCE.match(line)
        if match is None:
            out.append(line)
        elif stack and not stack[-1]:  # inside code: only a bare fence closes it
            out.append(line)
            if bare_fence(line):
                stack.pop()
        elif stack and bare_fence(line):  # closes the markdown wrapper itself
            stack.pop()
        else:
            lang = match.group(2).lower()
            unwrap = lang in _MARKDOWN_LANGS or (whole and not stack and i == body[0])
            stack.append(unwrap)
            if not unwrap:
                out.append(line)
    return out


def _fence_lang(line: str) -> str | None:
    match = FENCE.match(line)
    return None if match is None else match.group(2).lower()


def bare_fence(line: str) -> bool:
    return _fence_lang(line) == ""
