"""Plots: PNG bytes of the expected size, the same bytes for the same input, clear errors."""

from __future__ import annotations

import subprocess
import sys

import pytest

from chimera.render.plots import (
    DPI,
    WIDE_IN,
    WIDTH_IN,
    fmt_value,
    plot_bar_panels,
    plot_bars,
    plot_distributions,
    plot_heatmap,
    png_size,
    short,
)

GROUPS = {
    "gemma3:latest · num_ctx=1024": [101.0, 103.5, 99.2, 104.1, 100.7, 102.2],
    "gemma3:latest · num_ctx=2048": [96.0, 97.5, 95.1],
    "llama3.1:8b": [45.0],
}


def test_distributions_png_has_the_documented_size() -> None:
    png = plot_distributions(GROUPS, "Decode throughput", "tok/s")
    width, height = png_size(png)
    assert width == int(WIDE_IN * DPI)
    assert height == round((1.1 + 0.36 * 3) * DPI)


def test_same_input_same_bytes_and_no_software_tag() -> None:
    a = plot_distributions(GROUPS, "Decode throughput", "tok/s")
    b = plot_distributions(GROUPS, "Decode throughput", "tok/s")
    assert a == b
    assert b"matplotlib" not in a.lower()  # no Software text chunk naming the version
    assert plot_distributions({**GROUPS, "llama3.1:8b": [46.0]}, "Decode throughput", "tok/s") != a


def test_more_groups_make_a_taller_figure() -> None:
    many = {f"model-{i}": [float(i), float(i) + 1] for i in range(10)}
    assert (
        png_size(plot_distributions(many, "t", "s"))[1]
        > png_size(plot_distributions(GROUPS, "t", "s"))[1]
    )


def test_non_finite_and_empty_groups_are_left_out() -> None:
    with_junk = {**GROUPS, "nothing": [], "nan": [float("nan"), None]}
    assert plot_distributions(with_junk, "t", "tok/s") == plot_distributions(GROUPS, "t", "tok/s")


def test_nothing_to_plot_is_an_error() -> None:
    with pytest.raises(ValueError, match="no values to plot"):
        plot_distributions({"a": [float("nan")]}, "t", "tok/s")
    with pytest.raises(ValueError, match="no values to plot"):
        plot_bars(["a"], [None], None, "t", "x")
    with pytest.raises(ValueError, match="no values to plot"):
        plot_heatmap([[None]], ["1"], ["2"], "t", "tok/s")


def test_labels_are_plain_text_not_mathtext() -> None:
    # Unbalanced or odd "$" would make mathtext raise; a model name is just text here.
    hostile = {"a$b \\frac{ $x^": [1.0, 2.0], "<script>alert(1)</script>": [3.0]}
    assert png_size(plot_distributions(hostile, "$$ title {", "$"))[0] == int(WIDE_IN * DPI)
    assert png_size(plot_bars(["$x"], [1.0], [0.1], "$", "$"))[0] == int(WIDTH_IN * DPI)


def test_wide_range_switches_to_log_scale_and_still_renders() -> None:
    wide = {"cold": [0.05, 0.06, 12.0, 30.0], "warm": [0.04, 0.05]}
    assert png_size(plot_distributions(wide, "TTFT", "s"))[0] == int(WIDE_IN * DPI)


def test_heatmap_checks_its_shape() -> None:
    png = plot_heatmap(
        [[10.0, 12.0, None], [11.0, 13.5, 9.0]],
        ["60", "80", "120"],
        ["256", "512"],
        "Mean decode tokens/s",
        "tok/s",
        x_name="num_gpu",
        y_name="num_ctx",
    )
    assert png_size(png)[0] == int(WIDTH_IN * DPI)
    with pytest.raises(ValueError, match="2 rows x 3 columns"):
        plot_heatmap([[1.0, 2.0]], ["a", "b", "c"], ["x", "y"], "t", "u")


def test_bars_with_errors_reference_and_missing_values() -> None:
    png = plot_bars(["run 1", "run 2", "run 3"], [1.6, 0.9, None], [0.1, None, None], "S", "x",
                    reference=1.0)  # fmt: skip
    assert png_size(png)[1] == round((1.2 + 0.4 * 3) * DPI)
    assert png != plot_bars(["run 1", "run 2", "run 3"], [1.6, 0.9, None], None, "S", "x")
    with pytest.raises(ValueError, match="differ in length"):
        plot_bars(["a", "b"], [1.0], None, "t", "x")


def test_bar_panels() -> None:
    png = plot_bar_panels(
        ["1. analysis", "2. report"],
        [("Decode", [50.0, 55.0], "tok/s"), ("TTFT", [120.0, None], "ms")],
        "calls",
    )
    assert png_size(png)[0] == int(WIDTH_IN * DPI)
    with pytest.raises(ValueError, match="differ in length"):
        plot_bar_panels(["a"], [("Decode", [1.0, 2.0], "tok/s")], "calls")
    with pytest.raises(ValueError, match="no panels"):
        plot_bar_panels(["a"], [], "calls")


def test_png_size_rejects_other_bytes() -> None:
    with pytest.raises(ValueError, match="not a PNG"):
        png_size(b"GIF89a" + b"\0" * 30)


def test_helpers() -> None:
    assert short("x" * 10, 5) == "xxxx…"
    assert short("abc", 5) == "abc"
    assert [fmt_value(v) for v in (0.0, 0.012345, 1.5, 303.9, 12345678.0)] == [
        "0",
        "0.0123",
        "1.50",
        "304",
        "1.23e+07",
    ]


def test_chimera_starts_without_matplotlib() -> None:
    # Every command module registered, as `chimera --help` does: no plotting library loaded.
    code = (
        "import sys, chimera.cli.app as a; a._register(); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'matplotlib' "
        "or m.startswith('chimera.render')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
