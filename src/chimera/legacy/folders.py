"""What the old demos' folder names say: scenario, configuration and model (pure).

Examples: ``chimera-homo_gpu80_ctx512_temp10`` (num_gpu 80, num_ctx 512, temperature 1.0),
``gpu80_ctx512_temp08`` (temperature 0.8), ``bvc_gpu60_ctx1024_temp0p6``,
``chimera_hetero_gpu80-100_ctx512-1024`` and ``gpu80_100_ctx512_1024`` (one value per agent),
``het_g60c512t06__g120c1024t08``; ``gemma3_latest`` names gemma3:latest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePath

from chimera.ingest.names import MODEL_FAMILIES

_SCENARIOS: tuple[tuple[str, str], ...] = (
    ("baseline-vs-chimera", "baseline_vs_chimera"),
    ("baseline_vs_chimera", "baseline_vs_chimera"),
    ("bvc", "baseline_vs_chimera"),
    ("chimera-homo", "chimera_homo"),
    ("chimera_homo", "chimera_homo"),
    ("homo", "chimera_homo"),
    ("chimera-hetero", "chimera_hetero"),
    ("chimera_hetero", "chimera_hetero"),
    ("hetero", "chimera_hetero"),
    ("baseline", "baseline"),
)
_KEYS = {"gpu": "num_gpu", "ctx": "num_ctx", "temp": "temperature", "g": "num_gpu"}
_KEYS |= {"c": "num_ctx", "t": "temperature"}
_TOKEN = re.compile(r"(gpu|ctx|temp)(\d+(?:p\d+)?)((?:[-_]\d+(?:p\d+)?)*)(?=_|$)")
_COMPACT = re.compile(r"g(\d+)c(\d+)t(\d+(?:p\d+)?)")
_MODEL = re.compile(r"^[a-z][a-z0-9.\-]*_[a-z0-9][a-z0-9.\-_]*$")


@dataclass(frozen=True, slots=True)
class FolderConfig:
    """What one folder name says; ``options`` holds one value per agent when they differ."""

    name: str
    scenario: str | None = None
    options: dict[str, list[float]] = field(default_factory=dict)

    def flat(self) -> dict[str, float | int | list[float | int]]:
        """Options with a single value unwrapped (num_ctx: 512; hetero: num_ctx: [512, 1024])."""
        out: dict[str, float | int | list[float | int]] = {}
        for key, values in self.options.items():
            shown = [int(v) if key != "temperature" and v.is_integer() else v for v in values]
            out[key] = shown[0] if len(shown) == 1 else shown
        return out


def _value(key: str, text: str) -> float:
    """A number as the old folder names wrote it: temp08 = 0.8, temp10 = 1.0, temp0p6 = 0.6."""
    if "p" in text:
        return float(text.replace("p", "."))
    if key == "temperature" and len(text) >= 2:
        return float(f"{text[0]}.{text[1:]}")
    return float(text)


def parse_folder_name(name: str) -> FolderConfig:
    """The scenario and options a folder name carries (empty when it carries none)."""
    low = name.lower()
    scenario = None
    for prefix, canonical in _SCENARIOS:
        if low == prefix or low.startswith(prefix + "_") or low.startswith(prefix + "-"):
            scenario = canonical
            break
    options: dict[str, list[float]] = {}
    for m in _TOKEN.finditer(low):
        key = _KEYS[m.group(1)]
        parts = [m.group(2), *re.findall(r"\d+(?:p\d+)?", m.group(3))]
        options.setdefault(key, []).extend(_value(key, p) for p in parts)
    if not options:
        for m in _COMPACT.finditer(low):
            for key, text in zip(("num_gpu", "num_ctx", "temperature"), m.groups(), strict=True):
                options.setdefault(key, []).append(_value(key, text))
    return FolderConfig(name=name, scenario=scenario, options=options)


def config_from_path(path: PurePath, depth: int = 3) -> FolderConfig:
    """What the folder and its nearest ancestors' names say: the options from the nearest
    name that has some, the scenario from the nearest that names one (``run_1`` and
    ``results`` say nothing, ``chimera-homo/gpu80_ctx512`` says both)."""
    options: dict[str, list[float]] = {}
    scenario = None
    name = path.name
    for part in reversed(path.parts[-depth:]):
        cfg = parse_folder_name(part)
        if cfg.options and not options:
            options, name = cfg.options, part
        scenario = scenario or cfg.scenario
    return FolderConfig(name=name, scenario=scenario, options=options)


def model_from_path(path: PurePath) -> str | None:
    """The model an ancestor folder names (the nearest one), ``gemma3_latest`` read as
    ``gemma3:latest``; None when no folder names one."""
    for part in reversed(path.parts):
        low = part.lower()
        if not any(low.startswith(f) for f in MODEL_FAMILIES) or not _MODEL.match(low):
            continue
        if _TOKEN.search(low) or parse_folder_name(low).scenario:
            continue
        name, _, tag = low.partition("_")
        return f"{name}:{tag}"
    return None
