"""--agent-workload: the agent's own analysis and report prompts over a folder of artifacts."""

from __future__ import annotations

from pathlib import Path

import pytest

from chimera.agent.calls import GUARD_REPEAT_PENALTY, TOKEN_CAPS
from chimera.agent.prompts import FACTS_OPEN
from chimera.errors import ConfigError
from chimera.load.agent_workload import read_workload
from chimera.load.prompts import Prompts
from chimera.options import InferenceOptions


def _artifacts(tmp_path: Path) -> Path:
    folder = tmp_path / "bench"
    folder.mkdir()
    (folder / "r.csv").write_text(
        "model,num_gpu,tokens_per_s\nm:1b,80,50.5\nm:1b,40,42.0\nq:3b,80,21.5\n",
        encoding="utf-8",
    )
    return folder


def test_the_analysis_and_report_prompts_of_a_run_with_a_nonce_each(tmp_path: Path) -> None:
    workload = read_workload([_artifacts(tmp_path)], InferenceOptions())
    entries, described = workload.entries("ollama", 8e9)  # a large model: lines, full report
    assert all(e.options is None and e.json_schema is None for e in entries)
    assert described["analysis_shape"] == "lines" and described["report_mode"] == "full"
    analysis, report = (e.messages for e in entries)
    assert analysis is not None and report is not None
    assert [m.role for m in analysis] == ["system", "user"]
    assert FACTS_OPEN in analysis[1].content and "50.5" in analysis[1].content
    assert "Analyse these facts" in analysis[1].content
    assert "Executive Summary" in report[1].content  # the report call's sections
    assert "earlier analysis" in report[1].content and "m:1b" in report[1].content
    assert described["persona"] == "insight" and described["facts"] > 0
    assert [c["call"] for c in described["calls"]] == ["analysis", "report"]
    prompts = Prompts("m", InferenceOptions(), input_tokens=1, nonce="tag", entries=entries)
    first = [prompts.request(i).messages for i in range(4)]
    assert all(m is not None for m in first)
    heads = [m[0].content.splitlines()[0] for m in first if m is not None]
    assert len(set(heads)) == 4 and all("tag" in h for h in heads)  # a nonce per request
    assert first[0] is not None and first[2] is not None
    assert first[0][1] == first[2][1] == analysis[1]  # cycling: analysis, report, analysis
    assert not prompts.needs_calibration


def test_a_missing_path_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"agent-workload: .*nope does not exist"):
        read_workload([tmp_path / "nope"], InferenceOptions())


def test_a_folder_without_facts_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no artifact to analyse in"):
        read_workload([tmp_path], InferenceOptions())


@pytest.mark.parametrize(
    ("kind", "parameters"), [("ollama", 135e6), ("openai", 0.5e9), ("llamacpp", None)]
)
def test_a_small_model_gets_the_calls_chimera_run_sends_it(
    tmp_path: Path, kind: str, parameters: float | None
) -> None:
    # the json analysis with its schema, the brief instructions, the summary call alone, and
    # the loop guards, as chimera run picks them (agent.calls); the user's options still win
    workload = read_workload([_artifacts(tmp_path)], InferenceOptions(temperature=0.7))
    entries, described = workload.entries(kind, parameters)
    analysis, report = entries
    assert described["small_model"] is True
    assert described["analysis_shape"] == "json" and described["report_mode"] == "compose"
    assert analysis.json_schema is not None and report.json_schema is None
    assert analysis.options is not None and report.options is not None
    assert analysis.options.num_predict == TOKEN_CAPS["analysis"]
    assert report.options.num_predict == TOKEN_CAPS["summary"]
    assert analysis.options.repeat_penalty == report.options.repeat_penalty == GUARD_REPEAT_PENALTY
    assert analysis.options.temperature == report.options.temperature == 0.7  # the user's
    assert report.messages is not None and "executive summary" in report.messages[1].content
    assert "## 2." not in report.messages[1].content  # no section of its own to write
    # a request carries the entry's options over the run's, and the schema
    run_options = InferenceOptions(num_predict=128, num_ctx=4096)
    prompts = Prompts("m", run_options, input_tokens=1, nonce="t", entries=entries)
    first, second = prompts.request(0), prompts.request(1)
    assert first.json_schema == analysis.json_schema and second.json_schema is None
    assert first.options.num_predict == TOKEN_CAPS["analysis"] and first.options.num_ctx == 4096
    assert second.options.num_predict == TOKEN_CAPS["summary"]


def test_a_model_of_unknown_size_on_a_server_is_taken_as_large(tmp_path: Path) -> None:
    workload = read_workload([_artifacts(tmp_path)], InferenceOptions())
    entries, described = workload.entries("ollama", None)
    assert described["small_model"] is False and described["model_parameters"] is None
    assert all(e.options is None and e.json_schema is None for e in entries)
