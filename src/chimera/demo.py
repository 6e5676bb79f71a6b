"""``chimera demo``: the whole pipeline on a machine with no server and nothing downloaded.

Runs the bundled real model (SmolLM2-135M-Instruct, from the ``llamacpp`` extra) in-process
with llama.cpp, or a random-weight model it writes (``size``): sweeps two options, has two
agents analyse the sweep's results concurrently (alone first, then together: honest speedup),
and writes the reports, the summary and the HTML pages. With ``backend="ollama"`` the same
pipeline runs on an Ollama server's model instead.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from chimera.app.multiagent import MultiAgentSettings, run_multiagent
from chimera.app.sweep import run_sweep
from chimera.backends.base import EndpointSettings
from chimera.backends.llamacpp import INSTALL_HINT
from chimera.bench.grid import Grid
from chimera.bench.results import MultiAgentOutcome
from chimera.bench.scenarios import preset_scenario
from chimera.bench.sweep import SweepResult, SweepSettings
from chimera.errors import ConfigError
from chimera.models import (
    DEFAULT_MODEL,
    TinyModelSpec,
    bundled_model,
    default_model,
    resolve_gguf,
    write_spec,
)
from chimera.options import InferenceOptions

NOISE_NOTE = (
    "The demo model has random weights: its text is noise, so its reports are noise "
    "too (the fact check flags their numbers); the timings are real measurements."
)

DEMO_CONTEXT = 4096
# Output tokens per LLM call. The sweep times decoding, which 32 tokens already shows; an
# agent's analysis and report are capped so the demo stays a few minutes on 2 CPU cores with
# the real model, which decodes about 50 tokens/s there and reads its ~1,000-token prompts
# at 100-230 tokens/s: the prompts are most of an agent's time.
SWEEP_TOKENS = 32
AGENT_TOKENS = 256
# The agents' two option sets (the old tool's chimera_hetero): SmolLM2's recommended
# sampling (temperature 0.2, top_p 0.9) and a warmer one; a mild repeat penalty keeps a
# 135M model out of loops. Random-weight models ignore all this.
AGENT_A = InferenceOptions(temperature=0.2, top_p=0.9, repeat_penalty=1.1, seed=1)
AGENT_B = InferenceOptions(temperature=0.6, top_p=0.9, repeat_penalty=1.1, seed=2)


def real_note(model: str) -> str:
    """What the reports' text is when a real model wrote it."""
    bundled = bundled_model(model)
    what = (
        f"a real {bundled.parameters}-parameter model, the bundled {bundled.alias} (run in-process)"
        if bundled is not None
        else model
    )
    return (
        f"The reports were written by {what}: the text is that model's own, and the fact "
        "check marks which of its numbers the data supports; the timings are real measurements."
    )


class DemoSettings(BaseModel):
    """What ``chimera demo`` can be told; every field has a default."""

    model_config = ConfigDict(extra="forbid")

    output_dir: Path = Path("chimera_demo")
    backend: Literal["llamacpp", "ollama"] = "llamacpp"
    size: Literal["tiny", "small"] | None = Field(
        None, description="llamacpp: a random-weight model of this size instead of a real one"
    )
    model: str | None = Field(
        None,
        description="llamacpp: a GGUF path or bundled model (default smollm2); "
        "ollama: the model (default gemma3:latest)",
    )
    url: str | None = None
    sweep_runs: int = Field(3, ge=1)
    agent_runs: int | None = Field(
        None,
        ge=1,
        description="measured multi-agent runs; default 2, or 1 with a real model in-process "
        "(each agent call there takes seconds on a CPU)",
    )
    db: Path | None = None
    store: bool = True


class DemoOutcome(BaseModel):
    """Where everything went."""

    model_config = ConfigDict(extra="forbid")

    model: str
    note: str = Field(description="what the reports' text is: noise, or a real model's")
    sweep: SweepResult
    multiagent: MultiAgentOutcome
    files: dict[str, Path]

    @property
    def ok(self) -> bool:
        return self.sweep.status == "ok" and self.multiagent.ok


def _model(settings: DemoSettings, say: Callable[[str], None]) -> tuple[str, str]:
    """The model to run and the note on its text; writes the random-weight one if asked."""
    if settings.backend == "ollama":
        if settings.size is not None:
            raise ConfigError(
                "--size writes a model for the llamacpp backend; with ollama, give --model"
            )
        model = settings.model or default_model("ollama")
        return model, real_note(f"{model} on Ollama")
    if importlib.util.find_spec("llama_cpp") is None:
        raise ConfigError(INSTALL_HINT)
    if settings.size is None:
        model = settings.model or DEFAULT_MODEL
        resolve_gguf(model)  # missing package or file: one line now, not a failed sweep later
        return model, real_note(model)
    if settings.model is not None:
        raise ConfigError("give --model or --size, not both: --size writes a random-weight model")
    spec = TinyModelSpec.preset(settings.size, ctx=DEMO_CONTEXT)
    (settings.output_dir / "model").mkdir(parents=True, exist_ok=True)
    path = write_spec(settings.output_dir / "model" / f"{settings.size}.gguf", spec)
    say(f"wrote the {settings.size} demo model ({spec.hidden} hidden, {spec.layers} layers)")
    return str(path.resolve()), NOISE_NOTE


def _grid(settings: DemoSettings) -> Grid:
    if settings.backend == "llamacpp":
        return Grid.parse([("num_ctx", "256,512"), ("num_thread", "1,2")])
    return Grid.parse([("num_ctx", "1024,2048"), ("temperature", "0.6,1.0")])


async def run_demo(
    settings: DemoSettings, say: Callable[[str], None] = lambda _m: None
) -> DemoOutcome:
    """Model -> sweep -> two agents on the sweep's results -> reports and HTML."""
    from chimera.render.multiagent import write_multiagent_html  # matplotlib: only here
    from chimera.render.sweep import write_sweep_html

    out = settings.output_dir
    model, note = _model(settings, say)
    endpoint = EndpointSettings(kind=settings.backend, url=settings.url)
    say(
        f"sweeping num_ctx and "
        f"{'num_thread' if settings.backend == 'llamacpp' else 'temperature'} on {model}"
    )
    sweep = await run_sweep(
        SweepSettings(
            grid=_grid(settings),
            options=InferenceOptions(num_predict=SWEEP_TOKENS, seed=1),
            runs=settings.sweep_runs,
            warmup=1,
            model=model,
            endpoint=endpoint,
            output_dir=out / "sweep",
            fresh=True,
            db=settings.db,
            store=settings.store,
            label="chimera demo sweep",
        )
    )
    files = {"sweep csv": sweep.csv_path, "sweep summary": sweep.summary_path}
    for path in write_sweep_html(sweep, title="Chimera demo: sweep"):
        if path.suffix == ".html":
            files["sweep page"] = path

    say("two agents analyse the sweep: each alone, then together")
    # A context large enough for the tiny model's byte-level tokenizer, which spends several
    # tokens on each word.
    base = InferenceOptions(num_ctx=DEMO_CONTEXT, num_predict=AGENT_TOKENS)
    real_in_process = settings.backend == "llamacpp" and settings.size is None
    scenario = preset_scenario(
        "chimera_hetero",
        model=model,
        chimera=base.merged(AGENT_A),
        chimera2=base.merged(AGENT_B),
        backend=settings.backend,
        collector_url=settings.url,
        insight_url=settings.url,
    )
    agents = await run_multiagent(
        MultiAgentSettings(
            paths=[out / "sweep"],
            scenario=scenario,
            # A real model's agent round takes minutes on a CPU: one measured run and no
            # warm-up round (the session's preload call loads the model). Random weights are
            # fast enough for the usual warm-up and two runs.
            runs=settings.agent_runs or (1 if real_in_process else 2),
            warmup=0 if real_in_process else 1,
            output_dir=out / "multiagent",
            db=settings.db,
            store=settings.store,
        )
    )
    for path in agents.files:
        if path.name in ("summary.md", "summary.json"):
            files[f"multi-agent {path.name}"] = path
    last = next((r for r in reversed(agents.records) if r.folder), None)
    if last is not None and last.folder is not None:
        for path in sorted(last.folder.glob("*.md")):
            files[f"{last.name} {path.stem.replace('_', ' ')}"] = path
    for path in write_multiagent_html(agents):
        if path.suffix == ".html":
            files["multi-agent page"] = path
    return DemoOutcome(model=model, note=note, sweep=sweep, multiagent=agents, files=files)
