"""Personas: who the agent is told to be, what it must produce, and how long it should be.

The two built-in personas are the old tool's; users add their own in a TOML file:

    [personas.auditor]
    label = "Chimera Auditor"
    prompt = "You are ..."
    target_words = [200, 350]
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chimera.configfile import one_line, problems, read_toml, shown_key
from chimera.errors import ConfigError


class Persona(BaseModel):
    """An LLM persona."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    label: str = Field(description="shown as the report's agent type")
    prompt: str = Field(min_length=1)
    target_words: tuple[int, int] = (250, 450)
    focus: str = Field("analysis", description="what the offline narrative emphasises")


DATA_COLLECTOR = Persona(
    name="collector",
    label="DataCollector-9000",
    prompt=(
        "You are DataCollector-9000, a systems analyst tasked with scanning benchmark "
        "artifacts.\n"
        "Produce a concise data inventory with bullet points that highlight:\n"
        "1. Directory coverage (reports/, csv_data/, artifacts/).\n"
        "2. File counts per type (md, csv, json) and the latest modified timestamp.\n"
        "3. Any gaps or missing telemetry that could impact model evaluation.\n"
        "Keep the response under 250 words."
    ),
    target_words=(120, 250),
    focus="inventory",
)

INSIGHT_AGENT = Persona(
    name="insight",
    label="InsightAgent",
    prompt=(
        "You are InsightAgent, a Chimera-optimised LLM operations specialist.\n"
        "Given the repository context described previously, produce:\n"
        "1. Executive summary of model performance.\n"
        "2. Three optimisation recommendations that balance throughput, TTFT, and quality.\n"
        "3. A risk/mitigation table with at least two rows.\n"
        "Aim for 300-400 words, with numbered sections and bolded metric callouts."
    ),
    target_words=(300, 400),
    focus="insight",
)

BUILTIN: dict[str, Persona] = {p.name: p for p in (DATA_COLLECTOR, INSIGHT_AGENT)}
ALIASES = {
    "datacollector": "collector",
    "datacollector-9000": "collector",
    "insightagent": "insight",
    "insight_agent": "insight",
}


def load_personas(path: Path | None) -> dict[str, Persona]:
    """Built-in personas plus those defined under ``[personas.NAME]`` in a TOML file."""
    personas = dict(BUILTIN)
    if path is None:
        return personas
    data = read_toml(path, "persona file")
    table = data.get("personas", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [personas] must be a table of persona tables")
    for name, fields in table.items():
        try:
            personas[name] = Persona(name=name, **fields)
        except ValidationError as exc:
            raise ConfigError(f"{path}: personas.{shown_key(name)}: {problems(exc)}") from None
        except TypeError as exc:  # not a table, or a 'name' key beside the table's own name
            where = f"personas.{shown_key(name)}"
            raise ConfigError(f"{path}: {where}: {one_line(str(exc))}") from None
    return personas


def get_persona(name: str, personas: dict[str, Persona] | None = None) -> Persona:
    """The persona called ``name`` (case-insensitive; old names like InsightAgent work)."""
    personas = personas if personas is not None else BUILTIN
    key = name if name in personas else ALIASES.get(name.lower(), name.lower())
    if key not in personas:
        raise ConfigError(
            f"unknown persona {name!r}; known: {', '.join(sorted(personas))} "
            "(define more under [personas.NAME] in a TOML file)"
        )
    return personas[key]
