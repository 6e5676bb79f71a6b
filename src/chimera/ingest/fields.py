"""The documented alias table: what a column or key means (metric, configuration, model, ...).

Keys are normalized first (lower case, Markdown emphasis and parenthesised units removed,
``tokens/s`` -> ``tokens_per_s``, other punctuation -> ``_``), then looked up: exact alias,
then with an aggregate word (mean, p95, ...) removed, then with a unit suffix (``_ms``) removed.
The tables below are the reference for docs/ingest.md; users extend them in config.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Literal, NamedTuple

from chimera import quantities

# canonical metric -> (normalized unit, meaning)
CANONICAL_METRICS: dict[str, tuple[str, str]] = {
    "tokens_per_s": ("tok/s", "decode throughput: output tokens per second"),
    "ttft_s": ("s", "time to first token"),
    "load_s": ("s", "model load time"),
    "prompt_eval_s": ("s", "prompt evaluation (prefill) time"),
    "eval_s": ("s", "generation (decode) time"),
    "eval_count": ("tokens", "output tokens generated"),
    "prompt_eval_count": ("tokens", "prompt tokens evaluated"),
    "total_tokens": ("tokens", "prompt plus output tokens"),
    "latency_ms": ("ms", "end-to-end time of one call or one timed iteration"),
    "compile_s": ("s", "compilation / engine build time"),
    "response_chars": ("chars", "response length in characters"),
    "runs_ok": ("runs", "runs that completed (a summary's count)"),
    "runs_total": ("runs", "runs attempted (a summary's count)"),
    "legacy_concurrency_speedup": (
        "x",
        "the old demos' concurrency_speedup: the agents' durations measured while running "
        "together, summed, / the wall time; never a measured speedup (docs/legacy.md)",
    ),
    "legacy_efficiency_percent": ("%", "the old demos' efficiency: legacy speedup / 2 x 100"),
    "legacy_throughput_delta": (
        "tok/s",
        "the old demos' throughput of one agent minus the other's",
    ),
    "legacy_ttft_delta_ms": ("ms", "the old demos' TTFT of one agent minus the other's"),
    "legacy_sequential_estimate_s": (
        "s",
        "the old demos' sequential estimate: the agents' durations while running together, "
        "summed (not a sequential run)",
    ),
    "concurrency_speedup": (
        "x",
        "Chimera's measured speedup: the agents' alone times summed / the wall time together "
        "(read from Chimera's own summaries only)",
    ),
    "efficiency_percent": ("%", "Chimera's measured efficiency: concurrency_speedup / N x 100"),
    "concurrent_wall_s": ("s", "multi-agent: all agents launched together -> the last one's end"),
}

# alias (normalized) -> (canonical metric, unit of the values when the alias implies one)
_ALIASES: dict[str, tuple[str, str | None]] = {}


def _add(metric: str, unit: str | None, *names: str) -> None:
    for n in names:
        _ALIASES[n] = (metric, unit)


_add(
    "tokens_per_s",
    "tok/s",
    "tokens_per_s",
    "tokens_s",
    "tokens_per_sec",
    "tokens_per_second",
    "tokens_sec",
    "tok_s",
    "tok_per_s",
    "toks_per_s",
    "tps",
    "throughput",
    "throughput_tok_s",
    "throughput_tokens_s",
    "throughput_tokens_per_s",
    "throughput_tok_per_s",
    "eval_rate",
    "eval_tokens_per_s",
    "decode_tokens_per_s",
    "decode_tps",
    "generation_tps",
    "gen_tps",
    "output_tokens_per_s",
    "output_tps",
    "token_generation_speed",
    "generation_speed",
    "generation_throughput",
    "token_throughput",
    "decode_throughput",
    "predicted_per_second",
    "output_tokens_per_second",
    "output_throughput",
    "throughput_tokens_per_sec",
)
_add("ttft_s", None, "ttft", "time_to_first_token", "first_token_latency", "first_token_time")
_add("ttft_s", "s", "ttft_s", "ttft_sec", "ttft_seconds", "first_token_s")
_add("ttft_s", "ms", "ttft_ms", "first_token_ms", "time_to_first_token_ms")
_add("load_s", None, "load", "load_time", "model_load", "model_load_time")
_add("load_s", "s", "load_s", "model_load_s", "load_time_s")
_add("load_s", "ms", "load_ms", "load_time_ms")
_add("load_s", "ns", "load_duration")
_add("prompt_eval_s", None, "prompt_eval", "prompt_eval_time", "prefill", "prefill_time")
_add("prompt_eval_s", "s", "prompt_eval_s", "prefill_s")
_add("prompt_eval_s", "ms", "prompt_eval_ms", "prefill_ms")
_add("prompt_eval_s", "ns", "prompt_eval_duration")
_add("eval_s", None, "eval_time", "decode_time")
_add("eval_s", "s", "eval_s", "decode_s")
_add("eval_s", "ms", "eval_ms", "decode_ms")
_add("eval_s", "ns", "eval_duration")
_add("eval_s", "ms", "predicted_ms")
_add("prompt_eval_s", "ms", "prompt_ms")
_add("eval_count", "tokens", "predicted_n")
_add("prompt_eval_count", "tokens", "prompt_n")
_add(
    "eval_count",
    "tokens",
    "eval_count",
    "tokens",
    "output_tokens",
    "completion_tokens",
    "generated_tokens",
    "tokens_generated",
    "num_tokens",
    "n_tokens",
    "response_tokens",
    "eval_tokens",
)
_add("prompt_eval_count", "tokens", "prompt_eval_count", "prompt_tokens", "input_tokens")
_add("total_tokens", "tokens", "total_tokens")
_add(
    "latency_ms",
    None,
    "latency",
    "e2e_latency",
    "generation_time",
    "response_time",
    "request_latency",
    "wall_time",
    "elapsed",
    "end_to_end_latency",
    "total_time",
)
_add(
    "latency_ms",
    "ms",
    "latency_ms",
    "e2e_ms",
    "e2e_latency_ms",
    "generation_time_ms",
    "response_time_ms",
    "duration_ms",
    "time_ms",
    "elapsed_ms",
    "total_time_ms",
    "wall_clock_ms",
)
_add("latency_ms", "s", "latency_s", "e2e_s", "duration_s", "elapsed_s", "generation_time_s")
_add("latency_ms", "ns", "total_duration")
_add("compile_s", None, "compile_time", "compilation_time", "build_time")
_add("compile_s", "s", "compile_s", "compile_time_s", "compilation_time_s")
_add("compile_s", "ms", "compile_ms", "compile_time_ms")
_add("response_chars", "chars", "response_chars", "response_length", "response_len", "output_chars")
_add(
    "runs_ok",
    "runs",
    "completed",
    "successful_tests",
    "successful",
    "successes",
    "success_count",
    "n_ok",
    "ok_count",
    "completed_runs",
)
_add("runs_total", "runs", "total_tests", "total_runs", "attempted")
# The old multi-agent demos' figures (docs/legacy.md): their speedup is never a measured one.
_add("legacy_concurrency_speedup", "x", "concurrency_speedup", "legacy_concurrency_speedup")
_add("legacy_efficiency_percent", "%", "efficiency_percent", "average_efficiency")
_add("legacy_throughput_delta", "tok/s", "throughput_delta")
_add("legacy_ttft_delta_ms", "ms", "ttft_delta_ms")
_add("legacy_sequential_estimate_s", "s", "sequential_estimated_s", "sequential_estimate_s")
_add("legacy_sequential_estimate_s", "ms", "sequential_estimate_ms")
_add("concurrent_wall_s", "s", "concurrent_wall_time_s", "concurrent_wall_s")
_add("concurrent_wall_s", "ms", "concurrent_wall_time_ms")
_add("legacy_sequential_estimate_s", "s", "sequential_estimated_time")
_add("concurrent_wall_s", "s", "concurrent_wall_time")
# the old demos' per-agent figures, under their own definitions (docs/legacy.md)
_add(
    "tokens_per_s",
    "tok/s",
    *(f"{a}_throughput" for a in ("collector", "insight", "baseline", "chimera")),
)
_add("ttft_s", "ms", *(f"{a}_ttft_ms" for a in ("collector", "insight", "baseline", "chimera")))

ALIASES: Mapping[str, tuple[str, str | None]] = _ALIASES

# configuration key (canonical, in display order) and its aliases
CONFIG_KEYS: tuple[str, ...] = (
    "num_gpu",
    "num_ctx",
    "temperature",
    "top_p",
    "top_k",
    "repeat_penalty",
    "num_batch",
    "num_thread",
    "num_predict",
    "quantization",
    "backend",
    "device",
    "batch_size",
    "concurrency",
)
CONFIG_ALIASES: dict[str, str] = {k: k for k in CONFIG_KEYS} | {
    "gpu_layers": "num_gpu",
    "n_gpu_layers": "num_gpu",
    "ngl": "num_gpu",
    "gpu": "num_gpu",
    "ctx": "num_ctx",
    "context": "num_ctx",
    "context_size": "num_ctx",
    "n_ctx": "num_ctx",
    "ctx_size": "num_ctx",
    "context_length": "num_ctx",
    "context_window": "num_ctx",
    "temp": "temperature",
    "topp": "top_p",
    "topk": "top_k",
    "repetition_penalty": "repeat_penalty",
    "n_batch": "num_batch",
    "threads": "num_thread",
    "n_threads": "num_thread",
    "max_tokens": "num_predict",
    "quant": "quantization",
    "quant_type": "quantization",
    "engine": "backend",
    "runtime": "backend",
    "parallel": "concurrency",
}
# configuration keys whose values must be integers (guards e.g. a "Context" column of labels)
INT_CONFIG = frozenset(
    {
        "num_gpu",
        "num_ctx",
        "top_k",
        "num_batch",
        "num_thread",
        "num_predict",
        "batch_size",
        "concurrency",
    }
)
FLOAT_CONFIG = frozenset({"temperature", "top_p", "repeat_penalty"})

MODEL_KEYS = frozenset({"model", "model_name", "model_id", "llm", "model_tag"})
TAG_KEYS = frozenset({"tag", "quant_tag"})
FAILURE_KEYS = frozenset(
    {
        "error",
        "errors",
        "err",
        "exception",
        "error_message",
        "error_msg",
        "failure",
        "failure_reason",
        "traceback",
    }
)
SUCCESS_KEYS = frozenset({"success", "ok", "succeeded", "passed"})
STATUS_KEYS = frozenset({"status", "state", "outcome"})
LABEL_KEYS = frozenset({"config_name", "config", "configuration", "config_id", "variant"})
OPTIONS_KEYS = frozenset({"options", "model_options", "inference_options"})
# numeric keys that identify or time-stamp a row rather than measure anything
_IGNORE_RE = re.compile(
    r"(^|_)(timestamp|datetime|date|time|created|created_at|generated_at|pid|id|index|idx|row|"
    r"port|version|year|month|day|hour|rank|seed_?id)$|^(#|no|num|n)$|_at$|^create_time$|^ts$"
)
# the last '_' word of every key _IGNORE_RE matches (a cheap test before the search)
_IGNORE_TAILS = frozenset(
    {
        "timestamp",
        "datetime",
        "date",
        "time",
        "created",
        "at",
        "pid",
        "id",
        "seedid",
        "index",
        "idx",
        "row",
        "port",
        "version",
        "year",
        "month",
        "day",
        "hour",
        "rank",
        "#",
        "no",
        "num",
        "n",
        "ts",
    }
)

AGGREGATE_WORDS: dict[str, str] = {
    "mean": "mean",
    "avg": "mean",
    "average": "mean",
    "median": "median",
    "p50": "p50",
    "p5": "p05",
    "p05": "p05",
    "p10": "p10",
    "p25": "p25",
    "p75": "p75",
    "p90": "p90",
    "p95": "p95",
    "p99": "p99",
    "min": "min",
    "minimum": "min",
    "max": "max",
    "maximum": "max",
    "peak": "max",
    "std": "std",
    "stdev": "std",
    "stddev": "std",
    "sd": "std",
    "cv": "cv",
    "total": "total",
    "sum": "total",
    "overall": "overall",
}
# the time words a key may end with ("latency_ms", "ttft_seconds")
_UNIT_SUFFIX: dict[str, str] = {
    w: quantities.ALIASES[w]
    for w in (
        *("s", "sec", "secs", "seconds", "ms", "msec", "millis", "milliseconds"),
        *("ns", "us", "micros", "min", "minutes"),
    )
}
# units as written in headers or cells -> normalized unit: what ingest measures (times, rates,
# counts, percentages); sizes and multipliers are numbers in units it does not ("3.3 GB", "12x")
UNIT_WORDS: dict[str, str] = {
    w.lower(): c
    for w, c in quantities.ALIASES.items()
    if quantities.UNITS[c].kind in ("time", "throughput", "percent")
    or quantities.UNITS[c].kind.startswith("count:")
}
_DELTA_RE = re.compile(
    r"δ|Δ|\bdelta\b|\bchange\b|\bimprovement\b|\bspeedup\b|\bratio\b|\bvs\b|"
    r"\bgain\b|\bpenalty\b|\bregression\b|%",
    re.IGNORECASE,
)
_PAREN_RE = re.compile(r"\(([^()]*)\)")
_PER_S_RE = re.compile(
    r"\b(tokens?|toks?|t)\s*/\s*s(ec(ond)?)?\b|\b(tokens?|toks?)\s+per\s+"
    r"s(ec(ond)?)?\b"
)
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_SNAKE_RE = re.compile(r"[a-z0-9_]+")

Role = Literal[
    "metric",
    "config",
    "model",
    "tag",
    "failure",
    "success",
    "status",
    "label",
    "options",
    "ignore",
    "other",
]


# the roles named by key sets, the earlier set winning where they overlap
_ROLE_SETS: tuple[tuple[frozenset[str], Role], ...] = (
    (MODEL_KEYS, "model"),
    (TAG_KEYS, "tag"),
    (FAILURE_KEYS, "failure"),
    (SUCCESS_KEYS, "success"),
    (STATUS_KEYS, "status"),
    (LABEL_KEYS, "label"),
    (OPTIONS_KEYS, "options"),
)
_KEY_ROLES: dict[str, Role] = {}
for _keys, _role in reversed(_ROLE_SETS):
    _KEY_ROLES.update(dict.fromkeys(_keys, _role))


class FieldInfo(NamedTuple):
    """What one key means (a named tuple: made once per distinct key, three times faster than
    a frozen dataclass)."""

    role: Role
    name: str  # canonical metric or config key; the normalized key otherwise
    unit: str | None = None  # unit implied by the key (``_ms``, ``(s)``, alias), if any
    aggregate: str | None = None  # mean, median, p95, ... when the key names a summary
    recognized: bool = False  # the metric came from the alias table


def normalize_key(key: str) -> tuple[str, str | None]:
    """(normalized key, unit named in parentheses) for a column header or JSON key."""
    if _SNAKE_RE.fullmatch(key):  # lower-case snake case: only underscore runs to fold
        return ("_".join(filter(None, key.split("_"))) if "__" in key else key.strip("_")), None
    text = key.strip().strip("*_`").replace("`", "").replace("*", "").lower()
    unit: str | None = None
    for inner in _PAREN_RE.findall(text):
        u = UNIT_WORDS.get(inner.strip().replace(" ", ""))
        if u is not None:
            unit = u
    text = _PAREN_RE.sub(" ", text)
    text = _PER_S_RE.sub(" tokens_per_s ", text)
    text = text.replace("/s", " per s ").replace(" per second", " per s")
    norm = _NON_ALNUM.sub("_", text).strip("_")
    return norm, unit


class Classifier:
    """Classifies keys with the built-in tables plus a user's extensions (memoized)."""

    def __init__(
        self,
        aliases: Mapping[str, tuple[str, str | None]] | None = None,
        config_aliases: Mapping[str, str] | None = None,
    ) -> None:
        self.aliases: dict[str, tuple[str, str | None]] = dict(ALIASES)
        for key, spec in (aliases or {}).items():
            self.aliases[normalize_key(key)[0]] = spec
        self.config_aliases = dict(CONFIG_ALIASES)
        for key, target in (config_aliases or {}).items():
            self.config_aliases[normalize_key(key)[0]] = normalize_key(target)[0]
        self._memo: dict[str, FieldInfo] = {}

    def classify(self, key: str) -> FieldInfo:
        info = self._memo.get(key)
        if info is None:
            info = self._classify(key)
            self._memo[key] = info
        return info

    def metric_of(self, label: str) -> FieldInfo | None:
        """The metric a free-text label names (Markdown/text), or None; deltas never count."""
        if _DELTA_RE.search(label):
            return None
        info = self.classify(label)
        return info if info.role == "metric" and info.recognized else None

    def _classify(self, key: str) -> FieldInfo:
        norm, paren_unit = normalize_key(key)
        if not norm:
            if paren_unit in ("ms", "s", "us", "ns"):  # e.g. "(ms)"
                return FieldInfo("metric", "latency_ms", paren_unit, None, True)
            return FieldInfo("other", norm)
        role = _KEY_ROLES.get(norm)
        if role is not None:
            return FieldInfo(role, norm)
        if norm in self.config_aliases:
            return FieldInfo("config", self.config_aliases[norm])
        metric = self._metric(norm, paren_unit)
        if metric is not None:
            if _DELTA_RE.search(key):  # 'TTFT Δ (ms)', 'tokens_s_delta': a difference, not a TTFT
                return FieldInfo("other", norm, metric.unit)
            return metric
        if norm.rpartition("_")[2] in _IGNORE_TAILS and _IGNORE_RE.search(norm):
            return FieldInfo("ignore", norm)
        return FieldInfo("other", norm, _unit_suffix(norm) or paren_unit)

    def _metric(self, norm: str, paren_unit: str | None) -> FieldInfo | None:
        words = norm.split("_")
        full = self.aliases.get(norm)
        if full is not None:
            return FieldInfo("metric", full[0], paren_unit or full[1], None, True)
        if (
            paren_unit is None
            and words[0] not in AGGREGATE_WORDS
            and words[-1] not in AGGREGATE_WORDS
            and words[-1] not in _UNIT_SUFFIX
        ):
            return None  # no aggregate or unit word at either end: what follows finds nothing
        # aggregate words at either end: mean_tokens_s, eval_s_mean, overall_mean_ms
        found: list[str] = []
        base = words
        for _ in range(3):
            if base and base[0] in AGGREGATE_WORDS:
                found.append(AGGREGATE_WORDS[base[0]])
                base = base[1:]
            elif len(base) > 1 and base[-1] in AGGREGATE_WORDS and base[-2] != "per":
                found.append(AGGREGATE_WORDS[base[-1]])
                base = base[:-1]
        specific = [a for a in found if a not in ("overall", "total")]
        aggregate = specific[0] if specific else (found[0] if found else None)
        unit = paren_unit
        if base and base[-1] in _UNIT_SUFFIX and (len(base) == 1 or base[-2] != "per"):
            unit = unit or _UNIT_SUFFIX[base[-1]]
            stem = base[:-1]
        else:
            stem = base
        if not stem and found and unit in ("ms", "s", "us", "ns"):
            return FieldInfo("metric", "latency_ms", unit, aggregate, True)  # 'mean_ms', 'Std (ms)'
        if base and found:
            hit = self.aliases.get("_".join(base))
            if hit is not None:
                return FieldInfo("metric", hit[0], paren_unit or hit[1], aggregate, True)
        if stem and unit is not None:
            joined = "_".join(stem)
            hit = self.aliases.get(joined) or (("latency_ms", None) if joined == "time" else None)
            if hit is not None and CANONICAL_METRICS.get(hit[0], ("",))[0] in ("s", "ms"):
                return FieldInfo("metric", hit[0], unit, aggregate, True)
        return None


def _unit_suffix(norm: str) -> str | None:
    last = norm.rsplit("_", 1)[-1]
    return _UNIT_SUFFIX.get(last) if "_" in norm else None


def metric_unit(metric: str) -> str:
    """The normalized unit of a canonical metric ('' for an unrecognized one)."""
    spec = CANONICAL_METRICS.get(metric)
    return spec[0] if spec else ""
