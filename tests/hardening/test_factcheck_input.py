"""The fact checker's number reading on any text: claims with finite values, never an exception."""

from __future__ import annotations

import math

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from chimera.agent.factcheck import KnownNumber, check_numbers, extract_numbers

from .conftest import FAST, SLOW

# Text an LLM writes about numbers: digits, separators, exponents, units, scales, markup.
_PIECES = st.sampled_from(
    [
        "1", "9", "0", ".", ",", "e", "E", "-", "+", "x", "%", " ", "\n", "\r", "k", "M",
        "ms", "s", "tok/s", "GB", "GiB", "million", "billion", " to ", "–", ":", "=", "|",
        "```", "```json", "\"", "*", "_", "`", "Raise num_ctx to ", "TTFT", "total", "1e999",
        "9" * 400, "<unused12>", "2025-11-15", "v1.2.3", "7B",
    ]
)  # fmt: skip
numberish = st.lists(_PIECES, max_size=40).map("".join)
any_text = st.one_of(numberish, st.text(max_size=300))
known_numbers = st.lists(
    st.builds(
        KnownNumber,
        value=st.floats(allow_nan=True, allow_infinity=True),
        label=st.text(max_size=20),
        unit=st.sampled_from([None, "ms", "s", "tok/s", "GB", "GiB", "%", "x", "ratio", "files"]),
        derivable=st.booleans(),
    ),
    max_size=8,
)


@FAST
@given(any_text)
@example("speed 1e999 tok/s")  # found: 10.0 ** 999 raised OverflowError
@example("x: " + "9" * 5000)  # found: int() refuses more than 4300 digits (ValueError)
@example("x: " + "9" * 400 + " billion")  # float('9' * 400) is inf: not a claim
def test_extract_numbers_reads_any_text(text: str) -> None:
    for claim in extract_numbers(text):
        assert math.isfinite(claim.value) and math.isfinite(claim.precision), claim
        assert claim.line >= 1


@FAST
@given(any_text, known_numbers)
@example("speed 1e999 tok/s", [KnownNumber(1.0, "a")])
@example("up 300% and 2.5x", [KnownNumber(float("inf"), "ttft a"), KnownNumber(0.0, "ttft b")])
def test_check_numbers_gives_a_verdict_for_every_claim(text: str, known: list[KnownNumber]) -> None:
    result = check_numbers(text, known)
    assert len(result.claims) == len(extract_numbers(text))
    assert all(c.status in ("grounded", "unsupported") for c in result.claims)
    ratio = result.grounded_ratio
    assert ratio is None or 0.0 <= ratio <= 1.0


def test_an_out_of_range_number_is_counted_as_ignored() -> None:
    result = check_numbers("speed 1e999 tok/s and x: " + "9" * 5000, [KnownNumber(1.0, "a")])
    assert result.claims == []
    assert result.ignored_kinds.get("out-of-range") == 2


@pytest.mark.slow
@SLOW
@given(any_text, known_numbers)
def test_check_numbers_on_many_more_texts(text: str, known: list[KnownNumber]) -> None:
    result = check_numbers(text, known)
    assert len(result.claims) == len(extract_numbers(text))
