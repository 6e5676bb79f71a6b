"""Which data entities a report names (models, metrics, configurations, files) and which of
the important facts it covers (the top models, the error-level findings) (pure)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from pydantic import BaseModel, ConfigDict

from chimera.agent.known import model_summaries
from chimera.ingest.fields import ALIASES, CONFIG_ALIASES
from chimera.ingest.pipeline import IngestResult

TOP_MODELS = 3  # the models with the best throughput a report should name
TOP_ERROR_KINDS = 3  # the error-level finding kinds a report should mention
_SEP = r"[\s:_\-./]*"
# Aliases that are everyday words: they name an entity only when written as a setting
# ("device=cuda") or, for metrics, not at all.
_COMMON_CONFIG = frozenset(
    {"gpu", "context", "engine", "runtime", "parallel", "backend", "device", "threads", "quant"}
)
_COMMON_METRIC = frozenset(
    {"tokens", "completed", "successful", "successes", "attempted", "load", "elapsed", "prefill"}
)
# How reports write the metrics, beyond their alias names.
_METRIC_PHRASES: dict[str, tuple[str, ...]] = {
    "tokens_per_s": (r"tok/s", r"tokens/s", r"tokens per second", r"throughput"),
    "ttft_s": (r"time to first token",),
    "load_s": (r"load time", r"load duration"),
    "prompt_eval_s": (r"prompt eval\w*", r"prefill time"),
    "eval_s": (r"eval duration", r"decode time"),
    "eval_count": (r"tokens generated", r"output tokens"),
    "compile_s": (r"compil\w+ time",),
}
# Words that show a report discusses a kind of finding, all within one sentence.
_FINDING_CUES: dict[str, tuple[str, ...]] = {
    "failure_marked_success": (r"\bmark\w*|\blabel\w*|\brecord\w*", r"success", r"error|fail"),
    "summary_mismatch": (
        r"\bsummar",
        r"mismatch|disagree|do(?:es)? not (?:match|follow|agree)|inconsisten|contradict|differ",
    ),
    "failed_as_zeros": (r"\bzeros?\b", r"fail"),
    "warmup_not_excluded": (r"warm[\s-]?up",),
    "duplicate_file": (r"duplicat|identical cop",),
    "contradicted_claim": (r"contradict",),
    "high_spread": (r"spread|varian|variab|coefficient of variation",),
    "nan_values": (r"\bnan\b|infinite",),
}
_FILE_TOKEN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-/]*")
_SENTENCES = re.compile(r"(?<=[.!?])\s+|\n")


class Mentions(BaseModel):
    """What a report names: the data entities (``model gemma3:270m``, ``metric ttft_s``,
    ``config num_gpu``, ``file reports/x.csv``), and the important facts covered or missed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    entities: list[str]
    important: list[str]
    covered: list[str]

    @property
    def missing(self) -> list[str]:
        return [name for name in self.important if name not in self.covered]


@dataclass(frozen=True, slots=True)
class _Entity:
    name: str  # e.g. "model gemma3:270m"
    pattern: re.Pattern[str]


def find_mentions(text: str, facts: IngestResult) -> Mentions:
    """The entities of ``facts`` that ``text`` names, and which important facts it covers."""
    lowered = text.lower()
    named = [e.name for e in _entities(facts) if e.pattern.search(lowered)]
    files = _files_named(text, facts)
    named += [f"file {path}" for path in sorted(files)]
    important, covered = _important(lowered, facts, files, set(named))
    return Mentions(entities=named, important=important, covered=covered)


def names_data(facts: IngestResult) -> Callable[[str], bool]:
    """Whether a text names any entity of ``facts`` (a model, metric, configuration or file),
    as ``find_mentions(text, facts).entities`` says, with the patterns built once."""
    entities = _entities(facts)
    return lambda text: (
        any(e.pattern.search(text.lower()) for e in entities) or bool(_files_named(text, facts))
    )


def model_pattern(model: str) -> re.Pattern[str]:
    """How a report writes a model: its letter and digit runs with any separators between
    ("Gemma 3 270M", "gemma3_270m" and "gemma3:270m"); a ``:latest`` tag may be left out."""
    name = model.lower()
    latest = name.endswith(":latest")
    parts = re.findall(r"[a-z]+|\d+", name.removesuffix(":latest") if latest else name)
    body = _SEP.join(map(re.escape, parts))
    if latest:  # "gemma3" means gemma3:latest, unless another tag follows it
        body += (
            rf"(?:{_SEP}latest|(?![:_\-.]?[a-z0-9]*\d)(?![:_\-][a-z])"
            r"(?!\s+\d+(?:\.\d+)?[bm](?![a-z0-9])))"
        )
    return re.compile(rf"(?<![a-z0-9]){body}(?![a-z0-9])")


def _words(name: str) -> str:
    return _SEP.join(map(re.escape, re.split(r"[_\s]+", name.lower())))


def _entities(facts: IngestResult) -> list[_Entity]:
    out = [_Entity(f"model {m}", model_pattern(m)) for m in facts.models()]
    metrics = sorted({s.metric for s in facts.stats})
    for metric in metrics:
        names = {metric} | {
            alias
            for alias, (canonical, _) in ALIASES.items()
            if canonical == metric and alias not in _COMMON_METRIC
        }
        spelled = [_words(n) for n in sorted(names)] + list(_METRIC_PHRASES.get(metric, ()))
        out.append(_Entity(f"metric {metric}", _any(spelled)))
    keys = sorted({k for s in facts.stats for k in s.config})
    for key in keys:
        aliases = sorted(a for a, k in CONFIG_ALIASES.items() if k == key)
        spelled = [_words(a) + (r"\s*[=:]\s*\S" if a in _COMMON_CONFIG else "") for a in aliases]
        out.append(_Entity(f"config {key}", _any(spelled)))
    return out


def _any(alternatives: Sequence[str]) -> re.Pattern[str]:
    return re.compile(r"(?<![a-z0-9])(?:" + "|".join(alternatives) + r")(?![a-z0-9])")


def _files_named(text: str, facts: IngestResult) -> set[str]:
    """Artifacts named by their file name, with or without the extension (a bare stem only
    when it is distinctive: it has a digit, '_' or '-')."""
    by_name: dict[str, set[str]] = {}
    for artifact in facts.artifacts:
        path = PurePosixPath(artifact.path)
        by_name.setdefault(path.name.lower(), set()).add(artifact.path)
        if re.search(r"[\d_-]", path.stem) and len(path.stem) >= 6:
            by_name.setdefault(path.stem.lower(), set()).add(artifact.path)
    found: set[str] = set()
    for token in _FILE_TOKEN.findall(text):
        name = token.rstrip(".-/").rsplit("/", 1)[-1].lower()
        found |= by_name.get(name, set())
    return found


def _important(
    lowered: str, facts: IngestResult, files: set[str], named: set[str]
) -> tuple[list[str], list[str]]:
    """The important facts (top models by best throughput, error-level finding kinds) and
    those the text covers."""
    best = {m.model: m.best.mean for m in model_summaries(facts) if m.best and m.best.mean}
    top = sorted(best, key=lambda model: (-best[model], model))[:TOP_MODELS]
    important: list[str] = []
    covered: list[str] = []
    for model in top:
        name = f"model {model}"
        important.append(name)
        if name in named:
            covered.append(name)
    kinds: dict[str, set[str]] = {}
    for finding in facts.findings:
        if finding.severity == "error":
            kinds.setdefault(finding.kind, set()).update(finding.files)
    sentences = _SENTENCES.split(lowered)
    for kind, kind_files in list(kinds.items())[:TOP_ERROR_KINDS]:
        name = f"finding {kind}"
        important.append(name)
        if kind_files & files or _discussed(kind, sentences):
            covered.append(name)
    return important, covered


def _discussed(kind: str, sentences: list[str]) -> bool:
    spelled = re.compile(_words(kind))
    cues = [re.compile(c) for c in _FINDING_CUES.get(kind, ())]
    return any(spelled.search(s) or (cues and all(c.search(s) for c in cues)) for s in sentences)
