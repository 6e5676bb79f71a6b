"""Numbers in cells: parsing with shown decimals and units, and the short cuts that skip work."""

from __future__ import annotations

import math

import pytest

from chimera.ingest.values import (
    MISSING,
    Number,
    cell_number,
    decimals_of,
    float_decimals,
    parse_cell,
    parse_number,
)


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("12.50", (12.5, 2, None)),
        ("  -3 ", (-3.0, 0, None)),
        ("1e-3", (0.001, 3, None)),
        ("3,503", (3503.0, 0, None)),
        ("0.06s", (0.06, 2, "s")),
        ("**303.9 tok/s**", (303.9, 1, "tok/s")),
        ("3.3 GB", None),
        ("n/a", None),
        ("", None),
    ],
)
def test_parse_cell_and_parse_number_agree(
    text: str, want: tuple[float, int, str | None] | None
) -> None:
    assert parse_cell(text) == want
    assert parse_number(text) == (None if want is None else Number(*want))


def test_nan_and_infinity_show_no_decimals() -> None:
    got = parse_cell("nan")
    assert got is not None and math.isnan(got[0]) and got[1:] == (0, None)
    assert parse_cell("-inf") == (-math.inf, 0, None)


@pytest.mark.parametrize(
    "value", [0.0, -0.0, 1.0, -1.25, 0.1, 1e-05, 1e22, 123456.789, 5e-324, 2.5e-300]
)
def test_float_decimals_match_the_repr(value: float) -> None:
    assert float_decimals(value) == decimals_of(repr(value))


def test_cell_number_by_type() -> None:
    assert cell_number("7.50") == (7.5, 2, None)
    assert cell_number(0.25) == (0.25, 2, None)
    assert cell_number(3) == (3.0, 0, None)
    assert cell_number(None) is MISSING and cell_number("  ") is MISSING
    assert cell_number(True) is None and cell_number([1]) is None and cell_number("x") is None
    assert float_decimals(math.inf) == 0
