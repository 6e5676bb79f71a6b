"""The alias table: column and key recognition, aggregates, units, config keys, extensions."""

from __future__ import annotations

import pytest

from chimera.ingest.fields import Classifier, normalize_key

CLS = Classifier()


@pytest.mark.parametrize(
    ("key", "metric", "unit", "aggregate"),
    [
        ("tokens_s", "tokens_per_s", "tok/s", None),
        ("tokens_per_second", "tokens_per_s", "tok/s", None),
        ("throughput_tok_s", "tokens_per_s", "tok/s", None),
        ("mean_tokens_s", "tokens_per_s", "tok/s", "mean"),
        ("Tokens/s", "tokens_per_s", "tok/s", None),
        ("Tokens per Second", "tokens_per_s", "tok/s", None),
        ("P05 Tokens/s", "tokens_per_s", "tok/s", "p05"),
        ("Peak Throughput (tok/s)", "tokens_per_s", "tok/s", "max"),
        ("avg_tokens_per_second", "tokens_per_s", "tok/s", "mean"),
        ("overall_tokens_per_second", "tokens_per_s", "tok/s", "overall"),
        ("predicted_per_second", "tokens_per_s", "tok/s", None),
        ("ttft_s", "ttft_s", "s", None),
        ("ttft_ms", "ttft_s", "ms", None),
        ("Mean TTFT (s)", "ttft_s", "s", "mean"),
        ("P95 TTFT (s)", "ttft_s", "s", "p95"),
        ("mean_ttft_s", "ttft_s", "s", "mean"),
        ("load_duration", "load_s", "ns", None),
        ("Load Time (s)", "load_s", "s", None),
        ("prompt_eval_duration", "prompt_eval_s", "ns", None),
        ("prompt_eval", "prompt_eval_s", None, None),
        ("eval_s_mean", "eval_s", "s", "mean"),
        ("eval_count", "eval_count", "tokens", None),
        ("Tokens", "eval_count", "tokens", None),
        ("completion_tokens", "eval_count", "tokens", None),
        ("prompt_eval_count", "prompt_eval_count", "tokens", None),
        ("Generation Time (ms)", "latency_ms", "ms", None),
        ("total_generation_time_ms", "latency_ms", "ms", "total"),
        ("mean_time_ms", "latency_ms", "ms", "mean"),
        ("overall_stdev_ms", "latency_ms", "ms", "std"),
        ("Mean (ms)", "latency_ms", "ms", "mean"),
        ("p50_ms", "latency_ms", "ms", "p50"),
        ("total_duration", "latency_ms", "ns", None),
        ("Compile Time (s)", "compile_s", "s", None),
        ("response_chars", "response_chars", "chars", None),
        ("completed", "runs_ok", "runs", None),
        ("successful_tests", "runs_ok", "runs", None),
    ],
)
def test_metric_aliases(key: str, metric: str, unit: str | None, aggregate: str | None) -> None:
    info = CLS.classify(key)
    assert (info.role, info.name, info.unit, info.aggregate) == ("metric", metric, unit, aggregate)
    assert info.recognized


@pytest.mark.parametrize(
    ("key", "role", "name"),
    [
        ("num_gpu", "config", "num_gpu"),
        ("GPU Layers", "config", "num_gpu"),
        ("n_gpu_layers", "config", "num_gpu"),
        ("num_ctx", "config", "num_ctx"),
        ("Context", "config", "num_ctx"),
        ("temp", "config", "temperature"),
        ("top_p", "config", "top_p"),
        ("Quantization", "config", "quantization"),
        ("backend", "config", "backend"),
        ("model", "model", "model"),
        ("Model", "model", "model"),
        ("tag", "tag", "tag"),
        ("error", "failure", "error"),
        ("success", "success", "success"),
        ("status", "status", "status"),
        ("config_name", "label", "config_name"),
        ("options", "options", "options"),
        ("timestamp", "ignore", "timestamp"),
        ("test_timestamp", "ignore", "test_timestamp"),
        ("prompt_index", "ignore", "prompt_index"),
        ("create_time", "ignore", "create_time"),
        ("Created At", "ignore", "created_at"),
        ("run_seed_id", "ignore", "run_seed_id"),
        ("N", "ignore", "n"),
        ("ts", "ignore", "ts"),
        ("ts_count", "other", "ts_count"),
        ("at_rate", "other", "at_rate"),
        ("cpu_percent", "other", "cpu_percent"),
        ("device__attribute_max_threads", "other", "device_attribute_max_threads"),
    ],
)
def test_other_roles(key: str, role: str, name: str) -> None:
    info = CLS.classify(key)
    assert (info.role, info.name) == (role, name)


@pytest.mark.parametrize("key", ["TTFT Δ (ms)", "tokens_s_delta", "Throughput Delta", "Speedup"])
def test_differences_are_not_the_metric(key: str) -> None:
    assert CLS.classify(key).role == "other"
    assert CLS.metric_of(key) is None


def test_normalize_key() -> None:
    assert normalize_key("**Mean TTFT (s)**") == ("mean_ttft", "s")
    # lower-case snake case takes a short cut, to the same result
    assert normalize_key("__gpu__util_") == ("gpu_util", None)
    assert normalize_key("tokens_per_s") == ("tokens_per_s", None)
    assert normalize_key("Throughput (tok/s)") == ("throughput", "tok/s")
    assert normalize_key("tokens per second") == ("tokens_per_s", None)
    assert normalize_key("`eval_count`") == ("eval_count", None)


def test_user_aliases_extend_the_table() -> None:
    plain = Classifier()
    assert plain.classify("gen_rate").role == "other"
    cls = Classifier(
        {"gen_rate": ("tokens_per_s", None), "first_tok_us": ("ttft_s", "us")},
        {"ngpu_layers": "num_gpu"},
    )
    assert (cls.classify("gen_rate").name, cls.classify("gen_rate").unit) == ("tokens_per_s", None)
    info = cls.classify("mean_first_tok_us")
    assert (info.name, info.unit, info.aggregate) == ("ttft_s", "us", "mean")
    assert (cls.classify("ngpu_layers").role, cls.classify("ngpu_layers").name) == (
        "config",
        "num_gpu",
    )
