"""The agent's model size, and the shapes it picks by it."""

from __future__ import annotations

import pytest

from chimera.agent.calls import choose_mode, choose_shape
from chimera.agent.model_size import model_parameters, parameters_from_text
from chimera.agent.personas import INSIGHT_AGENT
from chimera.agent.spec import AgentSpec
from chimera.backends.base import EndpointSettings, create_backend
from chimera.testing import TestServer, TestServerConfig


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("135M", 135e6),
        ("4.3B", 4.3e9),
        ("qwen3:4b", 4e9),
        ("llama3.1:8b-instruct-q8_0", 8e9),
        ("SmolLM2-135M-Instruct-Q4_1.gguf", 135e6),
        ("gemma3:latest", None),
        ("q8_0", None),
        ("v1.5b2", None),
        (None, None),
    ],
)
def test_sizes_written_in_text(text: str | None, value: float | None) -> None:
    assert parameters_from_text(text) == value


def spec(**kw: str) -> AgentSpec:
    return AgentSpec(agent_id="a", label="A", persona=INSIGHT_AGENT, model="m", **kw)  # type: ignore[arg-type]


def test_small_models_get_json_and_compose_large_ones_lines_and_full() -> None:
    auto = spec()
    assert (choose_shape(auto, "ollama", 135e6), choose_mode(auto, "ollama", 135e6)) == (
        "json",
        "compose",
    )
    assert (choose_shape(auto, "ollama", 4.3e9), choose_mode(auto, "ollama", 4.3e9)) == (
        "lines",
        "full",
    )
    # unknown size: the bundled model in-process, a larger one on a server
    assert choose_mode(auto, "llamacpp", None) == "compose"
    assert choose_mode(auto, "openai", None) == "full"
    asked = spec(analysis_shape="lines", report_mode="full")
    assert (choose_shape(asked, "llamacpp", 135e6), choose_mode(asked, "llamacpp", 135e6)) == (
        "lines",
        "full",
    )


async def test_the_servers_card_says_first_then_the_name() -> None:
    cfg = TestServerConfig(models=["tiny:latest", "qwen3:4b"])  # the card says 1.2B for both
    async with TestServer(cfg) as srv, create_backend(EndpointSettings(url=srv.url)) as b:
        assert await model_parameters(b, "tiny") == 1.2e9
        assert await model_parameters(b, "qwen3:4b") == 1.2e9
    async with create_backend(EndpointSettings(kind="openai", url="http://127.0.0.1:9")) as b:
        assert await model_parameters(b, "qwen3:4b") == 4e9  # no card on OpenAI: the name
        assert await model_parameters(b, "smollm2") == 135e6  # the bundled model's card
        assert await model_parameters(b, "my-model") is None


def test_the_report_header_names_the_loop_guards_a_small_model_got() -> None:
    from datetime import UTC, datetime

    from chimera.agent.calls import guard_line
    from chimera.agent.spec import AgentRun
    from chimera.options import InferenceOptions

    def run(parameters: float | None, backend: str = "ollama", **options: object) -> AgentRun:
        s = spec().model_copy(update={"options": InferenceOptions.parse(options)})
        return AgentRun(
            spec=s, backend=backend, url="u", started_at=datetime.now(UTC),
            model_parameters=parameters, offline=backend == "offline",
        )  # fmt: skip

    assert guard_line(run(135e6)) == (
        "temperature=0.2, repeat_penalty=1.15, num_predict per call "
        "(analysis 448, summary 160, report 1024)"
    )
    assert guard_line(run(135e6, temperature=0.7)) == (
        "repeat_penalty=1.15, num_predict per call (analysis 448, summary 160, report 1024)"
    )
    assert guard_line(run(135e6, temperature=0.7, repeat_penalty=1.0, num_predict=64)) is None
    assert guard_line(run(4e9)) is None and guard_line(run(None)) is None
    assert guard_line(run(None, "llamacpp")) is not None  # the bundled model, in-process
    assert guard_line(run(None, "offline")) is None
