"""What the old-format readers share: validation naming the file and field, the agents'
personas, and the LLM's text in an old agent report."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)
PERSONAS = {"collector": "DataCollector-9000", "insight": "InsightAgent"}
_PERSONA_IN_PROMPT = re.compile(r"You are ([A-Z][\w-]+)")


class LegacyFormatError(ValueError):
    """A file in an old format with a field that is missing or of the wrong type."""


def validate(model: type[M], doc: Any, path: Path) -> M:
    """``doc`` as ``model``; LegacyFormatError naming the file and the first bad field."""
    try:
        return model.model_validate(doc)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        raise LegacyFormatError(
            f"{path}: field {where}: {err['msg']} ({exc.error_count()} problem(s); "
            f"is this an old demo's {model.__name__} file?)"
        ) from None


def persona(agent_id: str, prompt: str | None) -> str | None:
    if prompt and (m := _PERSONA_IN_PROMPT.search(prompt)):
        return m.group(1).rstrip(",.")
    return PERSONAS.get(agent_id)


def report_response(text: str) -> str | None:
    """The LLM's text in an old agent report: the Rust demo's header, prompt block and
    metrics list removed; None when nothing else is there."""
    text = text.replace("\r\n", "\n")
    text = re.sub(r"(?s)Prompt:\s*```.*?```\n?", "", text, count=1)
    text = re.sub(r"(?m)^(Model|Ollama URL|Configuration|Base URL):.*\n", "", text)
    text = re.sub(r"(?s)## Metrics\n(?:- [^\n]*\n?|\n)*", "", text, count=1)
    text = re.sub(r"\A# [^\n]*\n", "", text.lstrip(), count=1)
    return text.strip() or None


def agent_report(run_dir: Path | None, role: str, root: Path) -> tuple[str | None, str | None]:
    """(path relative to the folder, response) of the ``role`` agent's report in run_N/
    (collector_report.md, insight_report.md)."""
    path = run_dir / f"{role}_report.md" if run_dir is not None else None
    if path is None or not path.is_file():
        return None, None
    text = path.read_text(encoding="utf-8", errors="replace")
    return str(path.relative_to(root)), report_response(text)
