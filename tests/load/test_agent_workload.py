"""--agent-workload: the agent's own analysis and report prompts over a folder of artifacts."""

from __future__ import annotations

from pathlib import Path

import pytest

from chimera.agent.prompts import FACTS_OPEN
from chimera.errors import ConfigError
from chimera.load.agent_workload import agent_entries
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
    entries, described = agent_entries([_artifacts(tmp_path)], InferenceOptions())
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
        agent_entries([tmp_path / "nope"], InferenceOptions())


def test_a_folder_without_facts_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no artifact to analyse in"):
        agent_entries([tmp_path], InferenceOptions())
