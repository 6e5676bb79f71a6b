"""Folder names: scenario, options per agent, and the model an ancestor folder names."""

from __future__ import annotations

from pathlib import PurePath

import pytest

from chimera.legacy.folders import config_from_path, model_from_path, parse_folder_name


@pytest.mark.parametrize(
    ("name", "scenario", "options"),
    [
        (
            "chimera-homo_gpu80_ctx512_temp10",
            "chimera_homo",
            {"num_gpu": 80, "num_ctx": 512, "temperature": 1.0},
        ),
        ("gpu80_ctx512_temp08", None, {"num_gpu": 80, "num_ctx": 512, "temperature": 0.8}),
        (
            "baseline-vs-chimera_gpu80_ctx512_temp10",
            "baseline_vs_chimera",
            {"num_gpu": 80, "num_ctx": 512, "temperature": 1.0},
        ),
        (
            "bvc_gpu120_ctx1024_temp0p6",
            "baseline_vs_chimera",
            {"num_gpu": 120, "num_ctx": 1024, "temperature": 0.6},
        ),
        ("gpu80_ctx512_temp1", None, {"num_gpu": 80, "num_ctx": 512, "temperature": 1.0}),
        (
            "chimera_hetero_gpu80-100_ctx512-1024",
            "chimera_hetero",
            {"num_gpu": [80, 100], "num_ctx": [512, 1024]},
        ),
        ("gpu80_100_ctx1024_2048", None, {"num_gpu": [80, 100], "num_ctx": [1024, 2048]}),
        (
            "hetero_het_g60c512t06__g120c1024t08",
            "chimera_hetero",
            {"num_gpu": [60, 120], "num_ctx": [512, 1024], "temperature": [0.6, 0.8]},
        ),
        ("run_1", None, {}),
    ],
)
def test_folder_names(name: str, scenario: str | None, options: dict[str, object]) -> None:
    cfg = parse_folder_name(name)
    assert cfg.scenario == scenario
    assert cfg.flat() == options


def test_the_nearest_ancestor_carries_what_run_n_does_not() -> None:
    cfg = config_from_path(PurePath("r/runtime-smol/chimera_homo_gpu80_ctx1024/run_3"))
    assert cfg.scenario == "chimera_homo" and cfg.flat() == {"num_gpu": 80, "num_ctx": 1024}
    cfg = config_from_path(PurePath("tr110/phase1/chimera-homo/gpu60_ctx512_temp0p8"))
    assert cfg.scenario == "chimera_homo" and cfg.flat()["temperature"] == 0.8


@pytest.mark.parametrize(
    ("path", "model"),
    [
        (
            "multi/python/llama3p1_8b_q4_0/llama3.1_8b-instruct-q4_0/chimera-homo_gpu80_ctx512_temp10",
            "llama3.1:8b-instruct-q4_0",
        ),
        ("multi/rust/gemma3_latest/baseline-vs-chimera_gpu80_ctx512_temp10", "gemma3:latest"),
        ("single/python/qwen2.5_7b/gpu60_ctx512_temp08", "qwen2.5:7b"),
        ("Demo_rust_multiagent_results/bvc_gpu80_ctx512_temp0p6", None),
    ],
)
def test_model_from_path(path: str, model: str | None) -> None:
    assert model_from_path(PurePath(path)) == model
