"""``chimera demo``: the whole pipeline on a machine with no server and nothing downloaded.

Writes a tiny random-weight model, sweeps two options on the embedded llama.cpp backend, has
two agents analyse the sweep's results concurrently (alone first, then together: honest
speedup), and writes the reports, the summary and the HTML pages. With ``backend="ollama"`` the
same pipeline runs on an Ollama server's model instead.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from chimera.backends.base import EndpointSettings
from chimera.bench.grid import Grid
from chimera.bench.multiagent import MultiAgentSettings, run_multiagent
from chimera.bench.results import MultiAgentOutcome
from chimera.bench.scenarios import preset_scenario
from chimera.bench.sweep import SweepResult, SweepSettings, run_sweep
from chimera.models import TinyModelSpec, write_spec
from chimera.options import InferenceOptions

NOISE_NOTE = (
    "The demo model has random weights: its text is noise, so its reports are noise "
    "too (the fact check flags their numbers); the timings are real measurements."
)


DEMO_CONTEXT = 4096


class DemoSettings(BaseModel):
    """What ``chimera demo`` can be told; every field has a default."""

    model_config = ConfigDict(extra="forbid")

    output_dir: Path = Path("chimera_demo")
    backend: Literal["llamacpp", "ollama"] = "llamacpp"
    size: Literal["tiny", "small"] = Field("tiny", description="llamacpp: the model's size")
    model: str | None = Field(None, description="ollama: the model (default gemma3:latest)")
    url: str | None = None
    sweep_runs: int = Field(3, ge=1)
    agent_runs: int = Field(2, ge=1)
    db: Path | None = None
    store: bool = True


class DemoOutcome(BaseModel):
    """Where everything went."""

    model_config = ConfigDict(extra="forbid")

    model: str
    sweep: SweepResult
    multiagent: MultiAgentOutcome
    files: dict[str, Path]

    @property
    def ok(self) -> bool:
        return self.sweep.status == "ok" and self.multiagent.ok


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
    if settings.backend == "llamacpp":
        spec = TinyModelSpec.preset(settings.size, ctx=DEMO_CONTEXT)
        (out / "model").mkdir(parents=True, exist_ok=True)
        model = str(write_spec(out / "model" / f"{settings.size}.gguf", spec).resolve())
        say(f"wrote the {settings.size} demo model ({spec.hidden} hidden, {spec.layers} layers)")
    else:
        model = settings.model or "gemma3:latest"
    endpoint = EndpointSettings(kind=settings.backend, url=settings.url)
    say(
        "sweeping num_ctx and "
        + ("num_thread" if settings.backend == "llamacpp" else "temperature")
    )
    sweep = await run_sweep(
        SweepSettings(
            grid=_grid(settings),
            options=InferenceOptions(num_predict=64, seed=1),
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
    # Two option sets (the old tool's chimera_hetero), with a context large enough for the
    # tiny model's byte-level tokenizer, which spends several tokens on each word.
    scenario = preset_scenario(
        "chimera_hetero",
        model=model,
        chimera=InferenceOptions(num_ctx=DEMO_CONTEXT, temperature=0.6, num_predict=256, seed=1),
        chimera2=InferenceOptions(num_ctx=DEMO_CONTEXT, temperature=1.0, num_predict=256, seed=2),
        backend=settings.backend,
        collector_url=settings.url,
        insight_url=settings.url,
    )
    agents = await run_multiagent(
        MultiAgentSettings(
            paths=[out / "sweep"],
            scenario=scenario,
            runs=settings.agent_runs,
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
    return DemoOutcome(model=model, sweep=sweep, multiagent=agents, files=files)
