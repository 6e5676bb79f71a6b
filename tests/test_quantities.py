"""The one numeral grammar and unit table, and that every reader uses it."""

from __future__ import annotations

import math

import pytest

from chimera.agent.factcheck import grammar
from chimera.agent.known import text_numbers
from chimera.agent.structured import numbers_in
from chimera.ingest.fields import UNIT_WORDS
from chimera.ingest.values import parse_cell
from chimera.quantities import (
    NUMERAL_IN_TEXT,
    UNIT_AFTER,
    canonical_unit,
    convert,
    in_base,
    numeral_value,
    unit_of,
)


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("1,024 tokens", [1024.0]),
        ("took 3.5 s and .5 s", [3.5, 0.5]),
        ("items 1,2 and 3", [1.0, 2.0, 3.0]),  # a list, not a grouped thousand
        ("12,3456", [12.0, 3456.0]),
    ],
)
def test_numerals_in_text(text: str, want: list[float]) -> None:
    assert [numeral_value(m.group(0)) for m in NUMERAL_IN_TEXT.finditer(text)] == want


def test_the_fact_check_reads_numerals_with_the_one_grammar() -> None:
    assert grammar.NUMBER is NUMERAL_IN_TEXT


def test_validation_skips_versions_and_keeps_sentence_ends() -> None:
    assert numbers_in("llama.cpp 1.2.3 did 12.") == {"12.0"}
    assert numbers_in("1,024 and 1024.0 and 5 %") == {"1024.0", "5.0%"}


def test_units_as_written_map_to_one_canonical_name() -> None:
    assert canonical_unit("milliseconds") == canonical_unit("ms") == "ms"
    assert canonical_unit("Tokens/Sec") == "tok/s"
    assert canonical_unit("furlongs") is None
    assert unit_of("furlongs").kind == "other:furlongs" and unit_of(None).kind == "none"
    assert unit_of("GiB").binary and unit_of("GiB").power == 3


def test_convert_within_a_kind_only() -> None:
    assert convert(1500.0, "ms", "s") == pytest.approx(1.5)
    assert convert(2.0, "min", "s") == pytest.approx(120.0)
    assert convert(1.0, "GB", "MB") == pytest.approx(1000.0)
    assert convert(3.0, "ms", "tok/s") is None
    assert convert(3.0, "tokens", "chars") is None  # counts of different things
    assert convert(3.0, None, "s") == 3.0 and convert(3.0, "ms", "") == 3.0
    assert in_base(2.0, "KiB") == ("bytes", 2048.0) and in_base(2.0, "%") == ("%", 2.0)


def test_prose_units_leave_counts_and_multipliers_to_the_grammar() -> None:
    assert UNIT_AFTER.match(" tokens/s").group("u") == "tokens/s"  # type: ignore[union-attr]
    assert UNIT_AFTER.match(" s").group("u") == "s"  # type: ignore[union-attr]
    for word in (" tokens", " x", " runs", " ratio"):
        assert UNIT_AFTER.match(word) is None, word


def test_ingest_reads_cell_units_from_the_table() -> None:
    assert parse_cell("12.50 ms") == (12.5, 2, "ms")
    assert parse_cell("3,503 tokens") == (3503.0, 0, "tokens")
    assert parse_cell("2 h") == (2.0, 0, "h")  # any time unit of the table
    assert parse_cell("3.3 GB") is None  # a size: a number in a unit ingest does not measure
    assert UNIT_WORDS["tps"] == "tok/s" and "gb" not in UNIT_WORDS and "x" not in UNIT_WORDS
    got = parse_cell("nan")
    assert got is not None and math.isnan(got[0])


def test_known_numbers_take_units_from_the_table() -> None:
    [a, b, c] = text_numbers("mean 12.5 ms, 3 GiB and 7 min", "digest")
    assert (a.value, a.unit) == (12.5, "ms")
    assert (b.value, b.unit) == (3.0, "GiB")
    assert (c.value, c.unit) == (7.0, "count")  # a unit the check does not convert: a count
