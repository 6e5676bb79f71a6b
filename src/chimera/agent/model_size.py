"""How many parameters the agent's model has, as far as can be told without loading it: the
server's own model card (Ollama's ``details.parameter_size``), the bundled model's card, or a
size written in the name ("qwen3:4b", "SmolLM2-135M-Instruct.gguf"). None when nothing says.

The agent picks its shapes by it (``calls.choose_mode``): a small model gets the composed
report, a large one writes every section.
"""

from __future__ import annotations

import re
from pathlib import PurePath

from chimera.backends.base import Backend
from chimera.errors import ChimeraError
from chimera.models.bundled import bundled_model

_UNITS = {"k": 1e3, "m": 1e6, "b": 1e9, "t": 1e12}
# "135M", "4.3B", "8b" as a size: digits and a unit, not part of a longer word or version
_SIZE = re.compile(r"(?<![a-z0-9.])(\d+(?:\.\d+)?)([kmbt])(?![a-z0-9])", re.I)


def parameters_from_text(text: str | None) -> float | None:
    """The first size written in ``text`` ("1.2B" -> 1.2e9; "qwen3:4b" -> 4e9), else None."""
    if not text:
        return None
    m = _SIZE.search(text)
    return float(m.group(1)) * _UNITS[m.group(2).lower()] if m else None


# (url, model) -> parameters: asked once per process, not once per run (a multiagent
# benchmark's timed phases must not wait on the server's catalogue)
_KNOWN: dict[tuple[str, str], float | None] = {}


async def model_parameters(backend: Backend, model: str) -> float | None:
    """The model's parameter count: the server's card for it, else the bundled model's card,
    else a size in its name; None when none of them says (never a guess)."""
    key = (backend.url, model)
    if key not in _KNOWN:
        _KNOWN[key] = await _ask(backend, model)
    return _KNOWN[key]


async def _ask(backend: Backend, model: str) -> float | None:
    if backend.kind == "ollama":
        try:
            info = await backend.server_info()
        except ChimeraError:
            info = None
        wanted = {model, f"{model}:latest"}
        for entry in info.models if info else []:
            if entry.name in wanted and (n := parameters_from_text(entry.parameter_size)):
                return n
    if (bundled := bundled_model(model)) is not None:
        return parameters_from_text(bundled.parameters)
    return parameters_from_text(PurePath(model).name)
