"""Names: a file's source family, and a model's name from fields, tags, headings or paths."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from functools import lru_cache

from chimera.ingest.records import Hint

# Families of locally run LLMs: a path token starting with one of these may name a model.
MODEL_FAMILIES: tuple[str, ...] = (
    "llama",
    "codellama",
    "tinyllama",
    "gemma",
    "codegemma",
    "mistral",
    "mixtral",
    "qwen",
    "phi",
    "deepseek",
    "starcoder",
    "granite",
    "olmo",
    "smollm",
    "falcon",
    "vicuna",
    "nemotron",
    "command-r",
    "aya",
    "dolphin",
    "openchat",
    "zephyr",
    "solar",
    "stablelm",
    "internlm",
    "glm",
    "baichuan",
    "gpt-oss",
    "yi",
    "orca",
    "hermes",
    "llava",
    "minicpm",
    "exaone",
)
# Path tokens that say what a file is, not which model it measured.
ROLE_WORDS = frozenset(
    {
        "param",
        "params",
        "tuning",
        "summary",
        "runs",
        "run",
        "results",
        "result",
        "baseline",
        "baselines",
        "bench",
        "benchmark",
        "benchmarks",
        "report",
        "reports",
        "metrics",
        "fixed",
        "test",
        "tests",
        "sweep",
        "data",
        "raw",
        "stats",
        "output",
        "outputs",
        "log",
        "logs",
        "eval",
        "quant",
        "prompt",
        "suite",
        "analysis",
        "perf",
        "performance",
        "latency",
        "throughput",
        "timings",
        "ollama",
        "llamacpp",
        "vllm",
        "demo",
        "inference",
        "comprehensive",
        "system",
        "ml",
        "final",
        "lessons",
        "digest",
        "notes",
        "csv",
        "json",
        "md",
    }
)
_SPLIT = re.compile(r"[_\s]+")
_TIMESTAMPISH = re.compile(r"^\d[\d\-T:.]*$|^\d{8}-\d{6}$|^v?\d+(\.\d+)*$")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def slug(name: str) -> str:
    return _NON_ALNUM.sub("_", name.lower()).strip("_")


@lru_cache(maxsize=4096)
def family_of(stem: str, fmt: str) -> str:
    """``gemma3_270m_param_tuning`` -> ``param_tuning.csv``: the stem without leading model or
    backend tokens and timestamps, plus the format; files of one family share a schema."""
    tokens = [t for t in _SPLIT.split(stem.lower()) if t]
    tokens = [t for t in tokens if not _TIMESTAMPISH.match(t)] or tokens
    i = 0
    if len(tokens) > 1 and (_family_token(tokens[0]) or tokens[0] in _BACKENDS):
        i = 1
        while (
            i < len(tokens) - 1
            and tokens[i] not in ROLE_WORDS
            and (any(ch.isdigit() for ch in tokens[i]) or tokens[i] in _BACKENDS)
        ):
            i += 1
    name = "_".join(tokens[i:]) or stem.lower()
    return sys.intern(f"{name}.{_EXT.get(fmt, fmt)}")


_BACKENDS = frozenset({"ollama", "llamacpp", "vllm", "lmstudio", "openai"})
_EXT = {"markdown": "md", "text": "txt"}


@lru_cache(maxsize=4096)  # a tree's files start with few distinct words
def _family_token(token: str) -> bool:
    return any(
        token.startswith(f) and (len(token) == len(f) or not token[len(f)].isalpha())
        for f in MODEL_FAMILIES
    )


class ModelIndex:
    """Resolves model hints against the model names stated in the data."""

    def __init__(self, known: Iterable[str], families: Iterable[str] = ()) -> None:
        names = {k for k in known if k}
        # Ollama: 'x' and 'x:latest' are one model
        self.known = sorted(n for n in names if f"{n}:latest" not in names)
        self.families = tuple(MODEL_FAMILIES) + tuple(f.lower() for f in families)
        aliases: dict[str, set[str]] = {}
        for m in self.known:
            for a in _aliases(m):
                aliases.setdefault(a, set()).add(m)
        self._alias = {a: next(iter(ms)) for a, ms in aliases.items() if len(ms) == 1}
        self._slugs = sorted(
            ((slug(a), m) for a, m in self._alias.items() if not _is_tagish(a)),
            key=lambda x: -len(x[0]),
        )
        words = sorted(self._alias, key=len, reverse=True)
        self._mention = (
            re.compile(
                r"(?<![\w.:/-])(" + "|".join(re.escape(w) for w in words) + r")(?![\w:/-])",
                re.IGNORECASE,
            )
            if words
            else None
        )
        self._memo: dict[tuple[Hint, ...], tuple[str | None, str]] = {}
        self._canonical: dict[str, str] = {}
        # hint tuples differ by row, their parts repeat (a file's path, a section's heading):
        # what each text names is worked out once
        self._texts: dict[tuple[str, str], str | None] = {}

    def canonical(self, name: str) -> str:
        """An explicit name, cleaned; 'gemma3' becomes 'gemma3:latest' when that is known, and a
        report's shorthand ('Llama3.1:q4_0', 'Gemma3:1b-qat') the one known model it fits."""
        done = self._canonical.get(name)
        if done is not None:
            return done
        out = self._canonical_uncached(name)
        if len(self._canonical) < 4096:
            self._canonical[name] = out
        return out

    def _canonical_uncached(self, name: str) -> str:
        clean = name.replace("**", "").replace("`", "").strip()
        hit = self._alias.get(clean.lower())
        if hit is not None:
            return hit
        base, _, tag = clean.lower().partition(":")
        if tag and base:
            parts = set(tag.split("-"))
            fits = [
                k
                for k in self.known
                if k.lower().partition(":")[0] == base
                and parts <= set(k.lower().partition(":")[2].split("-"))
            ]
            if len(fits) == 1:
                return fits[0]
        return clean

    def resolve(self, hints: tuple[Hint, ...]) -> tuple[str | None, str]:
        """(model, where it came from) for hints in priority order; (None, 'none') if none fit."""
        hit = self._memo.get(hints)
        if hit is None:
            hit = self._resolve(hints)
            self._memo[hints] = hit
        return hit

    def _resolve(self, hints: tuple[Hint, ...]) -> tuple[str | None, str]:
        for kind, text in hints:
            if kind == "tag":
                m = self._alias.get(text.strip().strip("`*").lower())
                return (m, "tag") if m else (text.strip(), "tag")
            if kind in ("header", "label"):
                m = self._alias.get(text.replace("**", "").replace("`", "").strip().lower())
                if m:
                    return m, kind
                if kind == "header":
                    return None, "unresolved-column"
                continue
            if kind in ("heading", "doc"):
                m = self._named_by("mention", text)
                if m:
                    return m, kind
                continue
            if kind in ("path", "dir"):
                m = self._named_by("path", text)
                if m:
                    return m, kind
        for kind, text in hints:
            if kind in ("path", "dir"):
                guess = self._named_by("guess", text)
                if guess:
                    return guess, "path-guess"
        return None, "none"

    def _named_by(self, how: str, text: str) -> str | None:
        """The model ``text`` names: by a mention, as a path, or as a guess from a path."""
        key = (how, text)
        if key in self._texts:
            return self._texts[key]
        if how == "mention":
            got = self._mentioned(text)
        elif how == "path":
            got = self._from_path(text)
        else:
            got = self._guess(text)
        if len(self._texts) < 65536:
            self._texts[key] = got
        return got

    def _mentioned(self, text: str) -> str | None:
        if self._mention is None:
            return None
        found = {self._alias[m.group(1).lower()] for m in self._mention.finditer(text)}
        return found.pop() if len(found) == 1 else None

    def _from_path(self, stem: str) -> str | None:
        s = slug(stem)
        for sl, model in self._slugs:
            if s == sl or s.startswith(sl + "_"):
                return model
        return None

    def _guess(self, stem: str) -> str | None:
        tokens = [t for t in _SPLIT.split(stem.lower()) if t]
        tokens = [t for t in tokens if not _TIMESTAMPISH.match(t)]
        while tokens and tokens[-1] in ROLE_WORDS:
            tokens.pop()
        if not tokens or not any(tokens[0].startswith(f) for f in self.families):
            return None
        if any(t in ROLE_WORDS for t in tokens):
            tokens = tokens[: next(i for i, t in enumerate(tokens) if t in ROLE_WORDS)]
        if not tokens:
            return None
        guess = tokens[0] + (":" + "_".join(tokens[1:]) if len(tokens) > 1 else "")
        # 'llama3' beside known 'llama3.1:8b-...' names a family, not one model: too vague
        if any(k.lower().startswith(tokens[0]) for k in self.known):
            return None
        return guess


def _is_tagish(alias: str) -> bool:
    return ":" not in alias and bool(re.match(r"^(q\d|f16|fp16|bf16|int\d|\d)", alias))


def _aliases(model: str) -> set[str]:
    """Lower-case names a model goes by: full, without ':latest', its tag and quantization."""
    low = model.lower()
    out = {low}
    name, _, tag = low.partition(":")
    if tag == "latest":
        out.add(name)
    elif tag:
        out.add(tag)
        last = tag.rsplit("-", 1)[-1]
        if last != tag and re.match(r"^(q\d|f16|fp16|bf16|int\d|qat)", last):
            out.add(last)
    return out
