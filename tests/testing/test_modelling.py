"""The pure parts of the test servers' model: tokens, counts, keep_alive, timings."""

from __future__ import annotations

import math

import pytest

from chimera.testing.modelling import (
    Timings,
    count_words,
    default_text,
    parse_keep_alive,
    resolve_model,
    split_tokens,
    truncate,
)


@pytest.mark.parametrize(
    ("text", "pieces"),
    [
        ("Hello world", ["Hello", " world"]),
        ("  lead\nand  gaps ", ["  lead", "\nand", "  gaps "]),
        ("one", ["one"]),
        ("   ", ["   "]),
        ("", []),
    ],
)
def test_split_tokens_keeps_leading_space_and_joins_back(text: str, pieces: list[str]) -> None:
    assert split_tokens(text) == pieces
    assert "".join(split_tokens(text)) == text


def test_default_text_counts_from_one() -> None:
    assert default_text(3) == "tok1 tok2 tok3"
    assert split_tokens(default_text(32))[-1] == " tok32"


def test_count_words_over_all_texts() -> None:
    assert count_words("a b  c", None, "", "d\ne") == 5


def test_truncate_marks_length_only_when_it_cuts() -> None:
    pieces = ["a", " b", " c"]
    assert truncate(pieces, 2) == (["a", " b"], "length")
    assert truncate(pieces, 3) == (pieces, "stop")
    assert truncate(pieces, None) == (pieces, "stop")
    assert truncate(pieces, -1) == (pieces, "stop")  # Ollama: -1 = no limit


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (None, None),
        (0, 0.0),
        ("0", 0.0),
        (30, 30.0),
        ("5m", 300.0),
        ("1h30m", 5400.0),
        ("1.5s", 1.5),
        ("250ms", 0.25),
        ("nonsense", None),
    ],
)
def test_parse_keep_alive(value: object, seconds: float | None) -> None:
    assert parse_keep_alive(value) == seconds


def test_negative_keep_alive_is_forever() -> None:
    assert parse_keep_alive(-1) == math.inf
    assert parse_keep_alive("-1m") == math.inf


def test_resolve_model_adds_latest_like_ollama() -> None:
    models = ["tiny:latest", "big:7b"]
    assert resolve_model("tiny", models) == "tiny:latest"
    assert resolve_model("big:7b", models) == "big:7b"
    assert resolve_model("big", models) is None


def test_timings_are_the_modelled_values_in_ns() -> None:
    t = Timings.model(
        queue_ns=5,
        load_ns=1_000_000,
        prefill_ms=200,
        token_interval_ms=10,
        prompt_eval_count=7,
        eval_count=4,
    )
    assert t.ollama_fields() == {
        "total_duration": 5 + 1_000_000 + 200_000_000 + 40_000_000,
        "load_duration": 1_000_000,
        "prompt_eval_count": 7,
        "prompt_eval_duration": 200_000_000,
        "eval_count": 4,
        "eval_duration": 40_000_000,
    }
    block = t.llamacpp_fields()
    assert block["prompt_ms"] == 200.0
    assert block["predicted_per_second"] == 100.0
    assert block["prompt_per_second"] == 35.0


def test_llamacpp_rates_over_zero_time_are_null() -> None:
    t = Timings.model(
        queue_ns=0, load_ns=0, prefill_ms=0, token_interval_ms=0, prompt_eval_count=3, eval_count=2
    )
    assert t.llamacpp_fields()["predicted_per_second"] is None
    assert t.llamacpp_fields()["prompt_per_second"] is None
