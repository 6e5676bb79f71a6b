"""Scenario, persona and ingest-settings TOML of any content: a value, or a ConfigError on one
line naming the file; never another exception."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from chimera.agent.personas import BUILTIN, load_personas
from chimera.bench.scenarios import load_scenario_file
from chimera.errors import ConfigError
from chimera.ingest.settings import load_settings

from .conftest import FAST, SLOW


def toml_value(v: Any) -> str:
    """``v`` as a TOML literal (tables inline, so any nesting fits on one line)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return (
            "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
        )
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return (
        "{"
        + ", ".join(f"{json.dumps(k, ensure_ascii=False)} = {toml_value(x)}" for k, x in v.items())
        + "}"
    )


def toml_doc(table: dict[str, Any]) -> str:
    return "".join(
        f"{json.dumps(k, ensure_ascii=False)} = {toml_value(v)}\n" for k, v in table.items()
    )


scalars = (
    st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(["ollama", "openai", "offline", "auto", "insight", "collector", "x y"])
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


def tables(keys: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """Tables of the loader's own keys (and an unknown one now and then), values of any type."""
    return st.dictionaries(
        st.sampled_from([*keys, "unknown"]) | st.text(max_size=6), values, max_size=6
    )


AGENT_KEYS = ["id", "label", "persona", "model", "backend", "url", "api_key_env", "options",
              "connect_timeout_s", "first_token_timeout_s", "idle_timeout_s"]  # fmt: skip
PERSONA_KEYS = ["label", "prompt", "target_words", "focus", "name"]
SETTINGS_KEYS = ["max_file_bytes", "first_n", "max_records_per_file", "max_json_depth",
                 "max_line_chars", "aliases", "config_aliases", "failure_patterns", "workers",
                 "model_families", "cache"]  # fmt: skip
OPTION_KEYS = ["num_ctx", "num_gpu", "temperature", "top_p", "seed", "stop", "num_predict"]

scenario_docs = st.builds(
    lambda top, agents, options, personas: {
        **top,
        **({"agents": agents} if agents is not None else {}),
        **({"options": options} if options is not None else {}),
        **({"personas": personas} if personas is not None else {}),
    },
    tables(["name", "model", "backend", "url", "api_key_env", "idle_timeout_s"]),
    st.none() | st.lists(tables(AGENT_KEYS) | values, max_size=3),
    st.none() | tables(OPTION_KEYS) | values,
    st.none() | st.dictionaries(st.text(max_size=6), tables(PERSONA_KEYS) | values, max_size=2),
).map(toml_doc)
persona_docs = st.builds(
    lambda personas: {"personas": personas},
    st.dictionaries(st.text(max_size=8), tables(PERSONA_KEYS) | values, max_size=3) | values,
).map(toml_doc)
settings_docs = (
    tables(SETTINGS_KEYS) | st.builds(lambda t: {"ingest": t}, tables(SETTINGS_KEYS))
).map(toml_doc)
# Any text, with the characters that make or break TOML over-represented
broken_text = st.text(
    alphabet=st.sampled_from("[]{}=\"'#\n\\ .,ab1éx\x00\x7f"), max_size=60
) | st.text(max_size=60)


LOADERS = ["scenario", "personas", "settings"]


def _write(tmp_path: Path, content: str | bytes) -> Path:
    path = tmp_path / "config.toml"
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def _one_line_error(path: Path, exc: ConfigError) -> None:
    message = str(exc)
    assert "\n" not in message and "\r" not in message, message
    assert str(path) in message, message


def _load(loader: str, path: Path) -> object:
    if loader == "scenario":
        return load_scenario_file(path, dict(BUILTIN), model=None)
    if loader == "personas":
        return load_personas(path)
    return load_settings(path)


def _check(tmp_path: Path, loader: str, content: str | bytes) -> None:
    path = _write(tmp_path, content)
    try:
        _load(loader, path)
    except ConfigError as exc:
        _one_line_error(path, exc)


@FAST
@given(scenario_docs | broken_text)
@example(
    '[[agents]]\nid = "a"\n[agents.options]\n"a\\nb" = 1\n'
)  # found: a key's newline in the message
@example('name = "x"\n[[agents]]\npersona = "p"\n[personas.p]\nlabel = 3\n')
def test_scenario_files(tmp_path: Path, content: str) -> None:
    _check(tmp_path, "scenario", content)


@FAST
@given(persona_docs | broken_text)
@example(
    '[personas."a b"]\nprompt = "x"\nlabel = "y"\n'
)  # found: ValidationError printed on 4 lines
@example('[personas.p]\nname = "q"\nprompt = "x"\nlabel = "y"\n')
@example('"personas" = {"\\n" = []}\n')  # found: a persona named "\n" broke the line
def test_persona_files(tmp_path: Path, content: str) -> None:
    _check(tmp_path, "personas", content)


@FAST
@given(settings_docs | broken_text)
@example('failure_patterns = ["(", "a\\nb"]\n')
def test_settings_files(tmp_path: Path, content: str) -> None:
    _check(tmp_path, "settings", content)


@pytest.mark.parametrize("loader", LOADERS)
@FAST
@given(content=st.binary(max_size=80))
@example(content=b'name = "caf\xe9"\n')  # found: latin-1 bytes raised UnicodeDecodeError
def test_any_bytes(tmp_path: Path, loader: str, content: bytes) -> None:
    _check(tmp_path, loader, content)


@pytest.mark.parametrize("loader", LOADERS)
def test_a_file_that_is_not_utf8_names_its_line(tmp_path: Path, loader: str) -> None:
    path = _write(tmp_path, b'# ok\nname = "caf\xe9"\n')
    with pytest.raises(ConfigError, match=r"line 2: byte 0xE9 is not UTF-8") as info:
        _load(loader, path)
    _one_line_error(path, info.value)


@pytest.mark.parametrize("loader", LOADERS)
def test_bad_toml_names_file_and_line(tmp_path: Path, loader: str) -> None:
    path = _write(tmp_path, "# one\n# two\n[[agents]\n")
    with pytest.raises(ConfigError, match=r"line 3") as info:
        _load(loader, path)
    _one_line_error(path, info.value)


@pytest.mark.slow
@SLOW
@given(scenario_docs | persona_docs | settings_docs | broken_text, st.sampled_from(LOADERS))
def test_many_more_config_files(tmp_path: Path, content: str, loader: str) -> None:
    _check(tmp_path, loader, content)
