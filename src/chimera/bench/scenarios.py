"""Multi-agent scenarios: the old tool's three presets and any N agents from a TOML file.

A scenario file (every key optional except ``[[agents]]``; agent keys override file keys,
which override the command line's)::

    name = "four_agents"
    model = "gemma3:latest"
    backend = "ollama"                 # auto | ollama | openai | llamacpp | offline
    url = "http://127.0.0.1:11434"
    idle_timeout_s = 60                # also connect_timeout_s, first_token_timeout_s (seconds)
    [options]                          # every agent's options
    num_ctx = 2048

    [[agents]]
    id = "collector"                   # file-safe id (default: from the label); names its report
    label = "Chimera Agent A"
    persona = "collector"              # collector, insight, or one under [personas.NAME]
    url = "http://127.0.0.1:11435"
    [agents.options]
    num_gpu = 80
"""

from __future__ import annotations

import re
import string
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chimera.agent.endpoint import BackendChoice
from chimera.agent.personas import Persona, get_persona, load_personas
from chimera.backends.base import Timeouts
from chimera.configfile import problems, read_toml
from chimera.errors import ConfigError
from chimera.models.bundled import default_model
from chimera.options import InferenceOptions

PresetName = Literal["baseline_vs_chimera", "chimera_hetero", "chimera_homo"]
PRESETS: tuple[PresetName, ...] = ("baseline_vs_chimera", "chimera_hetero", "chimera_homo")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


class AgentPlan(BaseModel):
    """One agent of a scenario, before ``auto`` is resolved to a server or offline."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    agent_id: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", description="file-safe, unique")
    label: str
    persona: Persona
    model: str = Field(min_length=1)
    backend: BackendChoice = "auto"
    url: str | None = Field(None, description="None = the backend kind's default")
    api_key_env: str | None = None
    options: InferenceOptions = InferenceOptions()
    timeouts: Timeouts = Timeouts()

    def with_timeouts(self, base: Timeouts) -> AgentPlan:
        """This agent with ``base``'s timeouts where it sets none of its own."""
        return self.model_copy(update={"timeouts": self.timeouts.over(base)})


class ScenarioSpec(BaseModel):
    """A named set of agents that run alone, then together."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    agents: tuple[AgentPlan, ...] = Field(min_length=1)
    note: str | None = Field(None, description="how the scenario was read, when not obvious")


def safe_id(text: str, fallback: str) -> str:
    """A file-name-safe id from an id or label: ``Chimera Agent A`` -> ``chimera_agent_a``."""
    out = _UNSAFE.sub("_", text.strip()).strip("._-").lower()
    return out or fallback


def unique_ids(ids: list[str]) -> list[str]:
    """The ids with repeats suffixed ``_2``, ``_3`` ... so that no two reports share a name
    (``combined`` too: ``combined_report.md`` is the run's own report)."""
    seen: set[str] = {"combined"}
    out = []
    for base in ids:
        candidate, n = base, 1
        while candidate in seen:
            n += 1
            candidate = f"{base}_{n}"
        seen.add(candidate)
        out.append(candidate)
    return out


def agent_letter(index: int) -> str:
    """A, B, ... Z, then 27, 28 ...: how reports name the i-th agent (0-based)."""
    return string.ascii_uppercase[index] if index < 26 else str(index + 1)


def preset_scenario(
    name: PresetName,
    *,
    model: str,
    chimera: InferenceOptions,
    chimera2: InferenceOptions,
    collector_url: str | None = None,
    insight_url: str | None = None,
    backend: BackendChoice = "auto",
    api_key_env: str | None = None,
) -> ScenarioSpec:
    """The old tool's scenarios: agent A is the collector, agent B the insight agent.

    ``baseline_vs_chimera``: A on the server's defaults, B on ``chimera``;
    ``chimera_hetero``: A on ``chimera``, B on ``chimera2`` (``chimera`` when it is empty);
    ``chimera_homo``: both on ``chimera``.
    """
    note = None
    if name == "baseline_vs_chimera":
        a_opts, b_opts = InferenceOptions(), chimera
    elif name == "chimera_homo":
        a_opts, b_opts = chimera, chimera
    elif name == "chimera_hetero":
        a_opts, b_opts = chimera, chimera2
        if not chimera2.set_options():
            b_opts = chimera
            note = "no --chimera2-* option was given: agent B uses the --chimera-* options"
    else:
        raise ConfigError(f"unknown scenario {name!r}; choose one of {', '.join(PRESETS)}")
    common: dict[str, Any] = {"model": model, "backend": backend, "api_key_env": api_key_env}
    agents = (
        AgentPlan(
            agent_id="collector",
            label="Chimera Agent A",
            persona=get_persona("collector"),
            url=collector_url,
            options=a_opts,
            **common,
        ),
        AgentPlan(
            agent_id="insight",
            label="Chimera Agent B",
            persona=get_persona("insight"),
            url=insight_url,
            options=b_opts,
            **common,
        ),
    )
    return ScenarioSpec(name=name, agents=agents, note=note)


class _AgentEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str | None = None
    label: str | None = None
    persona: str = "insight"
    model: str | None = None
    backend: BackendChoice | None = None
    url: str | None = None
    api_key_env: str | None = None
    connect_timeout_s: float | None = Field(None, gt=0)
    first_token_timeout_s: float | None = Field(None, gt=0)
    idle_timeout_s: float | None = Field(None, gt=0)
    options: dict[str, Any] = Field(default_factory=dict)


class _ScenarioFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    model: str | None = None
    backend: BackendChoice | None = None
    url: str | None = None
    api_key_env: str | None = None
    connect_timeout_s: float | None = Field(None, gt=0)
    first_token_timeout_s: float | None = Field(None, gt=0)
    idle_timeout_s: float | None = Field(None, gt=0)
    options: dict[str, Any] = Field(default_factory=dict)
    agents: list[_AgentEntry] = Field(min_length=1)
    personas: dict[str, Any] = Field(default_factory=dict, description="read by load_personas")


def load_scenario_file(
    path: Path,
    personas: dict[str, Persona],
    *,
    model: str | None,
    backend: BackendChoice = "auto",
    url: str | None = None,
    api_key_env: str | None = None,
) -> ScenarioSpec:
    """Read a scenario TOML file; ``model``, ``backend``, ``url`` are the defaults it overrides.

    An agent whose model is given nowhere runs its backend's default (``default_model``: the
    bundled SmolLM2 for llamacpp).

    Its agents may name the ``personas`` given and those under the file's own
    ``[personas.NAME]`` tables.
    """
    raw = read_toml(path, "scenario file")
    try:
        data = _ScenarioFile.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(
            f"{path}: {problems(exc)}. A scenario needs one [[agents]] table per agent "
            "(keys: id, label, persona, model, backend, url, api_key_env, options, "
            "connect_timeout_s, first_token_timeout_s, idle_timeout_s)"
        ) from None
    own = load_personas(path) if data.personas else {}
    personas = {**personas, **{k: v for k, v in own.items() if k in data.personas}}
    base_opts = InferenceOptions.parse(data.options, where=f"{path}: [options]")
    labels = [e.label or f"Chimera Agent {agent_letter(i)}" for i, e in enumerate(data.agents)]
    ids = unique_ids(
        [safe_id(e.id or labels[i], f"agent{i + 1}") for i, e in enumerate(data.agents)]
    )
    agents = []
    for i, entry in enumerate(data.agents):
        where = f"{path}: agents[{i}]"
        try:
            persona = get_persona(entry.persona, personas)
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc}") from None
        opts = base_opts.merged(InferenceOptions.parse(entry.options, where=f"{where}.options"))
        kind = entry.backend or data.backend or backend
        agents.append(
            AgentPlan(
                agent_id=ids[i],
                label=labels[i],
                persona=persona,
                model=entry.model or data.model or model or default_model(kind),
                backend=kind,
                url=entry.url or data.url or url,
                api_key_env=entry.api_key_env or data.api_key_env or api_key_env,
                options=opts,
                timeouts=_timeouts(entry).over(_timeouts(data)),
            )
        )
    return ScenarioSpec(name=data.name or path.stem, agents=tuple(agents))


def _timeouts(table: _AgentEntry | _ScenarioFile) -> Timeouts:
    return Timeouts(
        connect_timeout_s=table.connect_timeout_s,
        first_token_timeout_s=table.first_token_timeout_s,
        idle_timeout_s=table.idle_timeout_s,
    )
