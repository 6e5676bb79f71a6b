"""Facts from files: models from fields, tags, paths and headings; configuration; units;
failed rows (errors, zeros, NaN, error text marked as success)."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import pytest

from chimera.ingest import IngestSettings, ingest_paths
from chimera.ingest.facts import Fact, _promptish
from chimera.ingest.settings import AliasSpec

Write = Callable[[str, str | bytes], Path]


def _facts(path: Path, settings: IngestSettings | None = None) -> list[Fact]:
    return ingest_paths([path], settings).facts


def test_model_from_a_column_and_units_normalized(write: Write, tmp_path: Path) -> None:
    write("r.csv", "model,ttft_ms,load_duration,tokens_per_second\nqwen2:7b,250,1500000000,42\n")
    got = {(f.metric, f.value, f.unit, f.model, f.model_from) for f in _facts(tmp_path)}
    assert got == {
        ("ttft_s", 0.25, "s", "qwen2:7b", "field"),
        ("load_s", 1.5, "s", "qwen2:7b", "field"),
        ("tokens_per_s", 42.0, "tok/s", "qwen2:7b", "field"),
    }


def test_model_named_only_by_the_path_is_found(write: Write, tmp_path: Path) -> None:
    write("runs/gemma3_270m_param_tuning.csv", "num_gpu,tokens_s\n80,300.5\n")
    write("runs/other.json", '{"model": "gemma3:270m", "tokens_s": 299.0}')
    write("mistral_7b_runs.csv", "tokens_s\n31.5\n")  # no model named anywhere else
    models = {f.source: (f.model, f.model_from) for f in _facts(tmp_path)}
    assert models["runs/gemma3_270m_param_tuning.csv"] == ("gemma3:270m", "path")
    assert models["mistral_7b_runs.csv"] == ("mistral:7b", "path-guess")


def test_model_from_a_tag_column(write: Write, tmp_path: Path) -> None:
    write("known.json", '{"model": "llama3.1:8b-instruct-q4_0", "tokens_s": 70}')
    write("tags.csv", "tag,tokens_s\nq4_0,76.5\nq9_9,12\n")
    by_value = {
        f.value: (f.model, f.model_from) for f in _facts(tmp_path) if f.source == "tags.csv"
    }
    assert by_value == {76.5: ("llama3.1:8b-instruct-q4_0", "tag"), 12.0: ("q9_9", "tag")}


def test_model_from_markdown_headings(write: Write, tmp_path: Path) -> None:
    write(
        "a.json",
        '[{"model": "gemma3:270m", "tokens_s": 300}, {"model": "gemma3:latest", "tokens_s": 100}]',
    )
    write(
        "r.md",
        "# Results\n## Gemma3:270m\n| Tokens/s |\n| --- |\n| 303.9 |\n"
        "## Full model\n- Throughput: 102 tok/s\n",
    )
    got = {(f.model, f.model_from, f.value) for f in _facts(tmp_path) if f.source == "r.md"}
    # the second section names no model: the path names none either
    assert got == {("gemma3:270m", "heading", 303.9), (None, "none", 102.0)}


def test_configuration_from_columns_options_and_labels(write: Write, tmp_path: Path) -> None:
    write(
        "a.csv",
        "model,num_gpu,Context,options,tokens_s\nm,40.00,player_died,"
        '"{""temperature"":0.3,""top_p"":0.9}",10\n',
    )
    write("b.csv", "config_name,tokens_s\ng80_c2048,11\n")
    cfg = {f.source: f.config for f in _facts(tmp_path)}
    # 'Context' holds labels, not a context size: not num_ctx
    assert cfg["a.csv"] == (("num_gpu", "40"), ("temperature", "0.3"), ("top_p", "0.9"))
    assert cfg["b.csv"] == (("config", "g80_c2048"),)


def test_failed_rows_error_text_and_empty_cells(write: Write, tmp_path: Path) -> None:
    write(
        "r.csv",
        "model,num_gpu,ttft_s,tokens_s,error\n"
        "m,1,0.000000,0.00,Failed to connect to Ollama\n"
        "m,2,,,timed out\n"
        "m,3,0.1,50,\n"
        "m,4,0.2,0,\n",
    )
    rows = {}
    for f in _facts(tmp_path):
        rows.setdefault(dict(f.config)["num_gpu"], []).append(f)
    assert all(f.failed and f.failure_kind == "error" for f in rows["1"])
    assert {f.value for f in rows["1"]} == {0.0}
    assert all(f.failed and math.isnan(f.value) for f in rows["2"])
    assert {f.metric for f in rows["2"]} == {"ttft_s", "tokens_per_s"}  # counted as failed
    assert not any(f.failed for f in rows["3"])
    assert all(f.failed and f.failure_kind == "zero_rate" for f in rows["4"])


def test_rows_without_numbers_give_a_failed_run_or_nothing(write: Write, tmp_path: Path) -> None:
    write(
        "runs.csv",
        "model,backend,status\n"
        "m:1b,cpu,ok\n"  # nothing measured, nothing failed: no fact, yet a model named
        "m:1b,gpu,failed\n",  # a failed run with no numbers at all still counts
    )
    write("notes.md", "# Notes\n\n| Step | Result |\n| --- | --- |\n| load | fine |\n")
    facts = _facts(tmp_path)
    assert [(f.metric, f.failed, f.failure_kind, f.model) for f in facts] == [
        ("failed_run", True, "status", "m:1b")
    ]
    assert dict(facts[0].config) == {"backend": "gpu"}


def test_error_text_next_to_a_rate_marked_success(write: Write, tmp_path: Path) -> None:
    write(
        "b.json",
        '{"results": [{"tokens_per_second": 1.02, "success": true, "banter_text":'
        ' "Error generating banter: All connection attempts failed"},'
        ' {"tokens_per_second": 14.2, "success": true, "banter_text": "GG!"},'
        ' {"prompt": "Player failed a mission", "tokens_per_second": 13.9}]}',
    )
    facts = _facts(tmp_path)
    assert [(f.value, f.failed, f.failure_kind) for f in facts] == [
        (1.02, True, "error_text_success"),
        (14.2, False, None),
        (13.9, False, None),
    ]


def test_nan_values_fail_alone(write: Write, tmp_path: Path) -> None:
    write("n.json", '{"model": "m", "runs": [{"ttft_s": NaN, "tokens_s": 5.0}]}')
    facts = {f.metric: f for f in _facts(tmp_path)}
    assert facts["ttft_s"].failed and facts["ttft_s"].failure_kind == "nan"
    assert not facts["tokens_per_s"].failed


def test_a_lone_zero_compile_time_is_not_a_failure(write: Write, tmp_path: Path) -> None:
    write(
        "c.json",
        '{"backends": {"eager": {"compile_time_s": 0.0},'
        ' "trt": {"benchmark": {"mean_time_ms": 0.0, "std_time_ms": 0.0}}}}',
    )
    failed = {f.locator: f.failed for f in _facts(tmp_path)}
    assert failed == {
        "$.backends.eager.compile_time_s": False,
        "$.backends.trt.benchmark.mean_time_ms": True,
        "$.backends.trt.benchmark.std_time_ms": True,
    }


def test_unrecognized_numbers_are_kept_and_aliases_from_settings_apply(
    write: Write, tmp_path: Path
) -> None:
    write("s.csv", "model,gen_rate,cpu_percent,timestamp\nm,33.5,12.5,1759000000\n")
    facts = _facts(tmp_path)
    assert {(f.metric, f.recognized) for f in facts} == {
        ("gen_rate", False),
        ("cpu_percent", False),
    }
    s = IngestSettings(
        aliases={
            "gen_rate": "tokens_per_s",
            "cpu_percent": AliasSpec(metric="latency_ms", unit="s"),
        }
    )
    facts = _facts(tmp_path, s)
    assert {(f.metric, f.value, f.recognized) for f in facts} == {
        ("tokens_per_s", 33.5, True),
        ("latency_ms", 12500.0, True),
    }


def test_byte_identical_copies_give_facts_once(write: Write, tmp_path: Path) -> None:
    write("a/r.csv", "model,tokens_s\nm,1\n")
    write("b/r.csv", "model,tokens_s\nm,1\n")
    r = ingest_paths([tmp_path])
    assert [f.source for f in r.facts] == ["a/r.csv"]
    assert [a.duplicate_of for a in r.artifacts] == [None, "a/r.csv"]


def test_parallel_reading_gives_the_same_result(tmp_path: Path, hostile: object) -> None:
    base = hostile.build_many(tmp_path, 60)  # type: ignore[attr-defined]
    (base / "run_0000" / "copy.csv").write_bytes(
        next((base / "run_0000").glob("*_runs.csv")).read_bytes()
    )
    serial = ingest_paths([base], IngestSettings(workers=1))
    parallel = ingest_paths([base], IngestSettings(workers=2, parallel_min_files=1))
    assert [f.row() for f in parallel.facts] == [f.row() for f in serial.facts]
    assert parallel.stats == serial.stats and parallel.findings == serial.findings
    assert parallel.artifacts == serial.artifacts and len(serial.facts) > 300


@pytest.mark.parametrize(
    ("key", "promptish"),
    [
        ("Prompt", True),
        ("user_INPUT", True),
        ("test_name", True),
        ("tokens_s", False),
        ("Quéry prompt", True),  # not ASCII: the case-blind pattern decides
        ("Prömpt", False),
    ],
)
def test_prompt_columns_are_known_by_name(key: str, promptish: bool) -> None:
    assert _promptish(key) is promptish


def test_a_true_flag_does_not_stand_for_the_number_1_in_a_configuration(tmp_path: Path) -> None:
    (tmp_path / "runs.json").write_text(
        '[{"model": "m:1b", "num_gpu": true, "tokens_per_s": 1.0},'
        ' {"model": "m:1b", "num_gpu": 1, "tokens_per_s": 2.0}]'
    )
    r = ingest_paths([tmp_path], cwd=tmp_path)
    configs = {f.value: f.config for f in r.facts if f.metric == "tokens_per_s"}
    assert ("num_gpu", "1") in configs[2.0]
