"""A sweep's heatmaps and page."""

from __future__ import annotations

from pathlib import Path

from chimera.app.sweep import run_sweep
from chimera.backends.base import EndpointSettings
from chimera.bench.grid import Grid
from chimera.bench.sweep import SweepSettings, read_sweep
from chimera.render.plots import png_size
from chimera.render.sweep import heatmap_axes, heatmap_matrix, write_sweep_html
from chimera.testing.synthetic import SyntheticBackend


def test_heatmap_axes_prefer_num_gpu_by_num_ctx() -> None:
    assert heatmap_axes(["temperature", "num_ctx", "num_gpu"]) == ("num_gpu", "num_ctx")
    assert heatmap_axes(["num_ctx", "temperature"]) == ("num_ctx", "temperature")
    assert heatmap_axes(["num_ctx"]) is None


def test_matrix_averages_over_the_other_options_and_orders_numerically() -> None:
    summary = [
        {"num_gpu": "80", "num_ctx": "1024", "temperature": "0.6", "m": "10"},
        {"num_gpu": "80", "num_ctx": "1024", "temperature": "0.8", "m": "20"},
        {"num_gpu": "120", "num_ctx": "256", "temperature": "0.6", "m": "7"},
        {"num_gpu": "80", "num_ctx": "256", "temperature": "0.6", "m": ""},
    ]
    matrix, x, y = heatmap_matrix(summary, "num_gpu", "num_ctx", "m")
    assert (x, y) == (["256", "1024"], ["80", "120"])
    assert matrix == [[None, 15.0], [7.0, None]]


async def test_sweep_page_has_heatmaps_and_no_script(tmp_path: Path) -> None:
    settings = SweepSettings(
        grid=Grid.parse([("num_gpu", "40,80"), ("num_ctx", "256,512")]),
        model="m",
        endpoint=EndpointSettings(kind="synthetic"),
        runs=2,
        warmup=0,
        output_dir=tmp_path / "sw",
        store=False,
    )
    await run_sweep(settings, backend=SyntheticBackend(noise=0.05))
    files = write_sweep_html(read_sweep(tmp_path / "sw"), title="Sweep <b>x</b>")
    names = sorted(p.name for p in files)
    assert names == [
        "heatmap_decode_tokens_per_s.png",
        "heatmap_ttft_ms.png",
        "runs_decode_tokens_per_s.png",
        "runs_ttft_ms.png",
        "sweep.html",
    ]
    assert png_size((tmp_path / "sw" / "heatmap_ttft_ms.png").read_bytes())[0] > 300
    page = (tmp_path / "sw" / "sweep.html").read_text(encoding="utf-8")
    assert "Sweep &lt;b&gt;x&lt;/b&gt;" in page and "<script" not in page
    assert page.count("data:image/png;base64,") == 4
