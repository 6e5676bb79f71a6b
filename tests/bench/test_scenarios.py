"""The old tool's three presets and N-agent scenario files."""

from __future__ import annotations

from pathlib import Path

import pytest

from chimera.agent.personas import load_personas
from chimera.bench.scenarios import (
    ScenarioSpec,
    agent_letter,
    load_scenario_file,
    preset_scenario,
    safe_id,
    unique_ids,
)
from chimera.errors import ConfigError
from chimera.options import InferenceOptions

CHIMERA = InferenceOptions(num_gpu=80, num_ctx=1024, temperature=1.0)
CHIMERA2 = InferenceOptions(num_gpu=60, num_ctx=512)


def preset(name: str, chimera2: InferenceOptions = CHIMERA2) -> ScenarioSpec:
    return preset_scenario(
        name,  # type: ignore[arg-type]
        model="gemma3:latest",
        chimera=CHIMERA,
        chimera2=chimera2,
        collector_url="http://a:1",
        insight_url="http://b:2",
        backend="ollama",
    )


def test_baseline_vs_chimera_puts_agent_a_on_server_defaults() -> None:
    s = preset("baseline_vs_chimera")
    a, b = s.agents
    assert (a.agent_id, a.label, a.persona.label) == (
        "collector",
        "Chimera Agent A",
        "DataCollector-9000",
    )
    assert (b.agent_id, b.label, b.persona.label) == ("insight", "Chimera Agent B", "InsightAgent")
    assert a.options.set_options() == {} and b.options == CHIMERA
    assert (a.url, b.url, a.backend, a.model) == (
        "http://a:1",
        "http://b:2",
        "ollama",
        "gemma3:latest",
    )
    assert s.name == "baseline_vs_chimera" and s.note is None


def test_hetero_and_homo_option_sets() -> None:
    a, b = preset("chimera_hetero").agents
    assert (a.options, b.options) == (CHIMERA, CHIMERA2)
    a, b = preset("chimera_homo").agents
    assert a.options == b.options == CHIMERA
    fallback = preset("chimera_hetero", chimera2=InferenceOptions())
    assert fallback.agents[1].options == CHIMERA
    assert fallback.note and "agent B uses the --chimera-* options" in fallback.note


def test_unknown_preset_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="chimera_homo"):
        preset("both")


def test_ids_are_file_safe_and_unique() -> None:
    assert safe_id("Chimera Agent A", "x") == "chimera_agent_a"
    assert safe_id("../../etc/passwd", "x") == "etc_passwd"
    assert safe_id("  ..  ", "agent3") == "agent3"
    assert unique_ids(["a", "a", "b", "a"]) == ["a", "a_2", "b", "a_3"]
    assert unique_ids(["combined"]) == ["combined_2"]  # not the run's combined_report.md
    assert [agent_letter(i) for i in (0, 1, 25, 26)] == ["A", "B", "Z", "27"]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "four.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_scenario_file_with_defaults_overrides_and_its_own_persona(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
name = "four"
backend = "ollama"
url = "http://s:1"
[options]
num_ctx = 2048

[[agents]]
label = "Chimera Agent A"
persona = "collector"

[[agents]]
id = "fast one"
persona = "InsightAgent"
model = "qwen3:4b"
url = "http://s:2"
[agents.options]
num_ctx = 512
temperature = 0.2

[[agents]]
persona = "auditor"
backend = "offline"

[[agents]]
id = "fast one"

[personas.auditor]
label = "Chimera Auditor"
prompt = "You audit."
""",
    )
    s = load_scenario_file(path, load_personas(None), model="gemma3:latest")
    assert s.name == "four"
    ids = [a.agent_id for a in s.agents]
    assert ids == ["chimera_agent_a", "fast_one", "chimera_agent_c", "fast_one_2"]
    a, b, c, d = s.agents
    assert (a.persona.name, a.model, a.url, a.backend) == (
        "collector",
        "gemma3:latest",
        "http://s:1",
        "ollama",
    )
    assert a.options.num_ctx == 2048
    assert (b.model, b.url, b.options.num_ctx, b.options.temperature) == (
        "qwen3:4b",
        "http://s:2",
        512,
        0.2,
    )
    assert (c.persona.label, c.backend, c.label) == (
        "Chimera Auditor",
        "offline",
        "Chimera Agent C",
    )
    assert d.persona.name == "insight" and d.label == "Chimera Agent D"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('name = "x"\n', "agents: Field required"),
        ("agents = []\n", "agents: List should have at least 1 item"),
        ('[[agents]]\ncolour = "red"\n', "agents.0.colour: Extra inputs are not permitted"),
        ('[[agents]]\nbackend = "vllm"\n', "agents.0.backend"),
        ('[[agents]]\npersona = "nobody"\n', "agents[0]: unknown persona 'nobody'"),
        ("[[agents]]\n[agents.options]\ntop_p = 7\n", "agents[0].options: top_p"),
        ("[[agents]\n", "is not valid TOML"),
    ],
)
def test_bad_scenario_files_name_the_file_and_field(
    tmp_path: Path, text: str, message: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_scenario_file(path, load_personas(None), model="m")
    assert str(path) in str(err.value) and message in str(err.value)


def test_missing_scenario_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the scenario file"):
        load_scenario_file(tmp_path / "nope.toml", {}, model="m")


def test_an_agent_with_no_model_anywhere_gets_its_backends_default(tmp_path: Path) -> None:
    from chimera.models import BUNDLED

    if BUNDLED["smollm2"].find() is None:
        pytest.skip("the bundled model is not installed")
    path = tmp_path / "mixed.toml"
    path.write_text(
        '[[agents]]\nid = "local"\nbackend = "llamacpp"\n'
        '[[agents]]\nid = "server"\nbackend = "ollama"\n'
        '[[agents]]\nid = "named"\nbackend = "llamacpp"\nmodel = "m.gguf"\n',
        encoding="utf-8",
    )
    s = load_scenario_file(path, load_personas(None), model=None)
    assert [a.model for a in s.agents] == ["smollm2", "gemma3:latest", "m.gguf"]
