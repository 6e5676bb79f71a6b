"""Ollama-named options as llama-cpp-python takes them (pure): which are load-time
(``Llama()`` arguments, applied by ``LlamaCppBackend.load``), which are sampling
(``generate()`` arguments), which are refused, and a JSON schema as a grammar."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from chimera.errors import ConfigError
from chimera.options import InferenceOptions

# Ollama's long-standing default; llama.cpp's own (the model's training context) can be
# 128k tokens for current models, far more KV cache than a benchmark wants by surprise.
DEFAULT_N_CTX = 2048


# Options fixed when the model is loaded -> Llama() arguments. Only a load applies them.
LOAD_PARAMS = {
    "num_ctx": "n_ctx",
    "num_gpu": "n_gpu_layers",
    "num_thread": "n_threads",
    "num_batch": "n_batch",
    "main_gpu": "main_gpu",
    "use_mmap": "use_mmap",
    "use_mlock": "use_mlock",
    "numa": "numa",
}


# Sampling options -> Llama.generate() arguments; unset ones keep generate()'s defaults.
SAMPLE_PARAMS = {
    "temperature": "temp",
    "top_p": "top_p",
    "top_k": "top_k",
    "min_p": "min_p",
    "typical_p": "typical_p",
    "repeat_penalty": "repeat_penalty",
    "presence_penalty": "presence_penalty",
    "frequency_penalty": "frequency_penalty",
    "mirostat": "mirostat_mode",
    "mirostat_tau": "mirostat_tau",
    "mirostat_eta": "mirostat_eta",
}


# Handled one by one below: max tokens, seed, stop strings and the repeat-penalty window.
OTHER_PARAMS = ("num_predict", "seed", "stop", "repeat_last_n")


# Accepted by Ollama but not applied by llama-cpp-python 0.3.36; refused rather than ignored.
UNSUPPORTED = ("low_vram", "num_keep", "tfs_z", "penalize_newline")


@dataclass(frozen=True, slots=True)
class CallPlan:
    """What one request's options mean for llama-cpp-python."""

    load: dict[str, Any]  # Llama() arguments: those asked, with the defaults filled in
    asked: dict[str, Any]  # the load-time options the request set, as Llama() arguments
    sample: dict[str, Any]
    max_tokens: int | None  # None = until the context is full
    seed: int | None
    stop: tuple[str, ...]
    repeat_last_n: int | None


def plan_call(options: InferenceOptions) -> CallPlan:
    """Map Ollama-style options onto llama-cpp-python's load and sampling arguments."""
    set_ = options.set_options()
    refused = [name for name in UNSUPPORTED if name in set_]
    if refused:
        raise ConfigError(
            f"the llamacpp backend cannot apply {', '.join(refused)} (llama-cpp-python does "
            "not support them); remove them from the options"
        )
    asked = {LOAD_PARAMS[k]: v for k, v in set_.items() if k in LOAD_PARAMS}
    load = {"n_ctx": DEFAULT_N_CTX, **asked}
    if "n_threads" in load:
        # As Ollama's num_thread does: the prompt is read on the same threads. Without this,
        # llama-cpp-python reads prompts on every core whatever n_threads says.
        load["n_threads_batch"] = load["n_threads"]
    num_predict = options.num_predict
    return CallPlan(
        load=load,
        asked=asked,
        sample={SAMPLE_PARAMS[k]: v for k, v in set_.items() if k in SAMPLE_PARAMS},
        max_tokens=None if num_predict is None or num_predict < 0 else num_predict,
        seed=options.seed,
        stop=tuple(s for s in options.stop or () if s),
        repeat_last_n=options.repeat_last_n,
    )


def differing(loaded: dict[str, Any], asked: dict[str, Any]) -> list[str]:
    """The load-time options (Ollama names, with both values) a call asks differently from
    how the model was loaded."""
    names = {v: k for k, v in LOAD_PARAMS.items()}
    return [
        f"{names[arg]} {value!r} (loaded with {loaded.get(arg)!r})"
        for arg, value in asked.items()
        if loaded.get(arg) != value
    ]


def json_grammar(schema: dict[str, Any]) -> Any:
    """The GBNF grammar that holds sampling to ``schema`` (llama-cpp-python's converter)."""
    from llama_cpp.llama_grammar import LlamaGrammar

    try:
        return LlamaGrammar.from_json_schema(json.dumps(schema), verbose=False)
    except (ValueError, RuntimeError) as exc:
        raise ConfigError(f"llama.cpp cannot turn the JSON schema into a grammar: {exc}") from None
