"""Plots as PNG bytes: distributions, heatmaps and bars, drawn with matplotlib's Agg canvas.

Pure: values in, bytes out. matplotlib is imported inside the functions so that ``chimera``
starts without it. Figures are built on a bare ``Figure`` with an Agg canvas, never through
pyplot, so no GUI backend and no global figure state is involved. The same input gives the
same bytes: a fixed style, fixed jitter and no timestamp or software tag in the PNG metadata.
Labels are drawn as plain text (mathtext off), so a ``$`` in a model name is just a dollar.
"""

from __future__ import annotations

import io
import math
import statistics
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.typing import RcKeyType

WIDTH_IN = 8.0
WIDE_IN = 10.0  # plots with long row labels: 1000 px, still inside the page's column
DPI = 100
MAX_LABEL = 56  # characters of a group label shown before an ellipsis
LOG_SPAN = 30.0  # a positive axis switches to log scale when max/min exceeds this
PALETTE = ("#3366aa", "#dd7733", "#33995e", "#aa3377", "#7a6a1f", "#4499bb", "#995533")
STYLE: dict[RcKeyType, Any] = {
    "font.family": "DejaVu Sans",  # shipped with matplotlib: the same glyphs everywhere
    "font.size": 9.0,
    "axes.titlesize": 11.0,
    "axes.labelsize": 9.0,
    "axes.grid": True,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.axisbelow": True,
    "text.parse_math": False,
    "text.usetex": False,
    "path.simplify": True,
}
PNG_METADATA = {"Software": None}  # matplotlib's version string would make bytes vary


def short(label: str, limit: int = MAX_LABEL) -> str:
    """``label`` cut to ``limit`` characters, with an ellipsis when cut."""
    return label if len(label) <= limit else label[: limit - 1] + "…"


def fmt_value(v: float) -> str:
    """Three significant figures, no exponent for everyday magnitudes."""
    if v == 0 or not math.isfinite(v):
        return f"{v:g}"
    magnitude = math.floor(math.log10(abs(v)))
    if -3 <= magnitude < 6:
        return f"{v:.{max(0, 2 - magnitude)}f}"
    return f"{v:.2e}"


@contextmanager
def _figure(height_in: float, width: float = WIDTH_IN) -> Iterator[Figure]:
    import matplotlib  # noqa: F401  (imported here on purpose: see the module docstring)
    from matplotlib import rc_context
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with rc_context(STYLE):
        fig = Figure(figsize=(width, height_in), dpi=DPI, layout="constrained")
        FigureCanvasAgg(fig)
        yield fig


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata=PNG_METADATA, facecolor="white")
    return buf.getvalue()


def _finite(values: Sequence[float | None]) -> list[float]:
    return [float(v) for v in values if v is not None and math.isfinite(v)]


def _jitter(n: int, width: float = 0.28) -> list[float]:
    """Fixed vertical offsets for n points (golden-ratio sequence): no randomness."""
    return [(((i * 0.6180339887) % 1.0) - 0.5) * width for i in range(n)]


def _value_axis(ax: Axes, values: list[float], unit: str, *, horizontal: bool) -> None:
    lo, hi = min(values), max(values)
    log = lo > 0 and hi / lo > LOG_SPAN
    if log:
        from matplotlib.ticker import FuncFormatter, NullFormatter

        axis = ax.xaxis if horizontal else ax.yaxis
        (ax.set_xscale if horizontal else ax.set_yscale)("log")
        # matplotlib's log labels are mathtext ("10^{-1}"), which is switched off here
        axis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
        axis.set_minor_formatter(NullFormatter())
    label = unit + (" (log scale)" if log else "")
    (ax.set_xlabel if horizontal else ax.set_ylabel)(label)


def plot_distributions(
    groups: Mapping[str, Sequence[float | None]],
    title: str,
    unit: str,
    *,
    color_keys: Mapping[str, str] | None = None,
) -> bytes:
    """One row per group, top to bottom in ``groups``' order: every value as a point, with a
    box (quartiles, whiskers at 1.5 IQR) where a group has 5 or more values and a tick at the
    median where it has 2 to 4. None and non-finite values are left out; so are empty groups.
    Rows with the same ``color_keys[label]`` (the model, say) share a colour; by default
    each row has its own.

    Raises ValueError when nothing is left to plot.
    """
    rows = [(label, _finite(vs)) for label, vs in groups.items()]
    rows = [(label, vs) for label, vs in rows if vs]
    if not rows:
        raise ValueError(f"no values to plot for {title!r}")
    keys = [(color_keys or {}).get(label, label) for label, _ in rows]
    palette = {k: PALETTE[i % len(PALETTE)] for i, k in enumerate(dict.fromkeys(keys))}
    with _figure(1.1 + 0.36 * len(rows), width=WIDE_IN) as fig:
        ax = fig.add_subplot()
        n = len(rows)
        for i, (_label, vs) in enumerate(rows):
            y = n - 1 - i  # first group on top
            color = palette[keys[i]]
            if i % 2 == 0:
                ax.axhspan(y - 0.5, y + 0.5, color="#f3f4f6", zorder=0, linewidth=0)
            if len(vs) >= 5:
                ax.boxplot(
                    [vs],
                    positions=[y],
                    orientation="horizontal",
                    widths=0.6,
                    showfliers=False,
                    patch_artist=True,
                    boxprops={"facecolor": color + "22", "edgecolor": color},
                    medianprops={"color": color, "linewidth": 1.6},
                    whiskerprops={"color": color},
                    capprops={"color": color},
                )
            elif len(vs) >= 2:
                median = statistics.median(vs)
                ax.plot([median, median], [y - 0.3, y + 0.3], color=color, linewidth=1.6)
            offsets = _jitter(len(vs))
            ax.scatter(
                vs, [y + o for o in offsets], s=14, color=color, alpha=0.75, linewidths=0, zorder=3
            )
        ax.set_yticks(range(n), [f"{short(label)}  (n={len(vs)})" for label, vs in rows][::-1])
        ax.set_ylim(-0.5, n - 0.5)
        ax.grid(axis="y", visible=False)
        _value_axis(ax, [v for _, vs in rows for v in vs], unit, horizontal=True)
        ax.set_title(title, loc="left")
        return _png(fig)


def plot_heatmap(
    matrix: Sequence[Sequence[float | None]],
    x_labels: Sequence[str],
    y_labels: Sequence[str],
    title: str,
    unit: str,
    *,
    x_name: str = "",
    y_name: str = "",
) -> bytes:
    """``matrix[row][column]`` as coloured cells, each with its value written in it; rows are
    ``y_labels`` (top to bottom), columns ``x_labels``. None or NaN cells are grey, "n/a".

    Raises ValueError when the shape does not match the labels or no cell has a value.
    """
    if len(matrix) != len(y_labels) or any(len(row) != len(x_labels) for row in matrix):
        raise ValueError(
            f"heatmap {title!r}: matrix is not {len(y_labels)} rows x {len(x_labels)} columns"
        )
    import numpy as np

    data = np.array(
        [[math.nan if v is None else float(v) for v in row] for row in matrix], dtype=float
    )
    if not np.isfinite(data).any():
        raise ValueError(f"no values to plot for {title!r}")
    height = 1.6 + 0.45 * len(y_labels)
    with _figure(max(2.6, height)) as fig:
        ax = fig.add_subplot()
        masked = np.ma.masked_invalid(data)
        from matplotlib import colormaps

        cmap = colormaps["viridis"].with_extremes(bad="#e0e0e0")
        image = ax.imshow(masked, cmap=cmap, aspect="auto")
        lo, hi = float(np.nanmin(data)), float(np.nanmax(data))
        for (r, c), v in np.ndenumerate(data):
            if math.isfinite(v):
                # dark text on the bright (high) end of viridis, white on the dark end
                bright = hi > lo and (v - lo) / (hi - lo) > 0.6
                color = "#111111" if bright else "white"
                ax.text(c, r, fmt_value(v), ha="center", va="center", fontsize=8, color=color)
            else:
                ax.text(c, r, "n/a", ha="center", va="center", fontsize=8, color="#666666")
        ax.set_xticks(range(len(x_labels)), [short(x, 16) for x in x_labels])
        ax.set_yticks(range(len(y_labels)), [short(y, 24) for y in y_labels])
        ax.grid(visible=False)
        ax.set_xlabel(x_name)
        ax.set_ylabel(y_name)
        fig.colorbar(image, ax=ax, label=unit, shrink=0.9)
        ax.set_title(title, loc="left")
        return _png(fig)


def _bars(
    ax: Axes,
    labels: Sequence[str],
    values: Sequence[float | None],
    errors: Sequence[float | None] | None,
    unit: str,
    reference: float | None,
) -> None:
    n = len(labels)
    ys = [n - 1 - i for i in range(n)]
    vals = [v if v is not None and math.isfinite(v) else 0.0 for v in values]
    errs = [e if e is not None and math.isfinite(e) else 0.0 for e in (errors or [None] * n)]
    colors = [PALETTE[i % len(PALETTE)] for i in range(n)]
    ax.barh(ys, vals, color=colors, height=0.6)
    with_err = [(y, v, e) for y, v, e in zip(ys, vals, errs, strict=True) if e > 0]
    if with_err:
        ey, ev, ee = zip(*with_err, strict=True)
        ax.errorbar(ev, ey, xerr=ee, fmt="none", ecolor="#222222", elinewidth=1, capsize=3)
    top = max([abs(v) + e for v, e in zip(vals, errs, strict=True)] + [reference or 0.0])
    for y, v, e, raw in zip(ys, vals, errs, values, strict=True):
        text = "n/a" if raw is None or not math.isfinite(raw) else fmt_value(v)
        x = v + e if v >= 0 else v - e
        ax.text(x + top * 0.01, y, text, va="center", fontsize=8)
    if reference is not None:
        ax.axvline(reference, color="#444444", linestyle="--", linewidth=1)
    ax.set_yticks(ys, [short(x) for x in labels])
    ax.set_xlim(min(0.0, *vals), top * 1.18 if top > 0 else 1.0)
    ax.grid(axis="y", visible=False)
    ax.set_xlabel(unit)


def _check_bars(title: str, n: int, *series: Sequence[float | None] | None) -> None:
    if any(s is not None and len(s) != n for s in series):
        raise ValueError(f"bars {title!r}: labels, values and errors differ in length")
    if not _finite(series[0] or ()):
        raise ValueError(f"no values to plot for {title!r}")


def plot_bars(
    labels: Sequence[str],
    values: Sequence[float | None],
    errors: Sequence[float | None] | None,
    title: str,
    unit: str,
    *,
    reference: float | None = None,
) -> bytes:
    """Horizontal bars, one per label (top to bottom), with ± ``errors`` as whiskers where
    given and the value written beside each bar; a None value is written "n/a". ``reference``
    draws a dashed line (1.0 for a speedup, say).

    Raises ValueError when lengths differ or no value is finite.
    """
    _check_bars(title, len(labels), values, errors)
    with _figure(1.2 + 0.4 * len(labels)) as fig:
        ax = fig.add_subplot()
        _bars(ax, labels, values, errors, unit, reference)
        ax.set_title(title, loc="left")
        return _png(fig)


def plot_bar_panels(
    labels: Sequence[str], panels: Sequence[tuple[str, Sequence[float | None], str]], title: str
) -> bytes:
    """Side-by-side bar panels over the same ``labels``, each ``(heading, values, unit)``:
    several metrics of the same calls or runs (decode tok/s and TTFT, say) in one figure.

    Raises ValueError when a panel's length differs from ``labels`` or a panel has no value.
    """
    if not panels:
        raise ValueError(f"no panels to plot for {title!r}")
    for heading, values, _unit in panels:
        _check_bars(f"{title}: {heading}", len(labels), values)
    with _figure(1.4 + 0.4 * len(labels)) as fig:
        axes = fig.subplots(1, len(panels), sharey=True, squeeze=False)[0]
        for ax, (heading, values, unit) in zip(axes, panels, strict=True):
            _bars(ax, labels, values, None, unit, None)
            ax.set_title(heading, loc="left", fontsize=9)
        fig.suptitle(title, x=0.01, ha="left", fontsize=11)
        return _png(fig)


def png_size(png: bytes) -> tuple[int, int]:
    """(width, height) in pixels from a PNG's header; ValueError when it is not a PNG."""
    if png[:8] != b"\x89PNG\r\n\x1a\n" or png[12:16] != b"IHDR":
        raise ValueError("not a PNG image")
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
