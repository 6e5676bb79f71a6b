"""load.html: the levels, latency against load, the timeline, the distributions."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from chimera.load.metrics import summarize
from chimera.load.records import LevelRun, RequestRecord
from chimera.load.report import LoadReport
from chimera.load.spec import LoadLevel
from chimera.render.load import (
    FAILED_COLOR,
    draw_timeline,
    level_starts,
    load_plots,
    plot_latency_vs_load,
    render_load_html,
    write_load_html,
)
from chimera.render.plots import _figure, png_size


def _level(i: int, level: LoadLevel, ttft: float, n: int = 8) -> LevelRun:
    run = LevelRun(i, level, wall_s=2.0)
    for k in range(n):
        r = RequestRecord(index=i * 100 + k, level=i, warmup=False, status="ok")
        r.sent_s, r.done_s, r.ttft_ms, r.e2e_ms = k * 0.2, k * 0.2 + 0.3, ttft + k, 300.0
        r.output_tokens, r.itl_ms = 10, [5.0] * 9
        run.records.append(r)
    bad = RequestRecord(index=i * 100 + n, level=i, warmup=False, sent_s=1.0, done_s=1.1)
    bad.error_type = "http_500"
    run.records.append(bad)
    return run


def _report() -> tuple[LoadReport, list[RequestRecord]]:
    runs = [_level(0, LoadLevel(concurrency=1), 50.0), _level(1, LoadLevel(rate_rps=8.0), 90.0)]
    report = LoadReport(
        chimera_version="t", started_at="now", backend="ollama", url="http://127.0.0.1:1",
        model="m<b>", settings={}, prompts={"source": "synthetic"},
        levels=[summarize(r) for r in runs], status="ok",
    )  # fmt: skip
    return report, [rec for r in runs for rec in r.records]


def test_levels_run_end_to_end_on_one_clock() -> None:
    _, records = _report()
    assert level_starts(records) == {0: 0.0, 1: pytest.approx(1.7)}


def test_the_plots_and_the_page(tmp_path: Path) -> None:
    report, records = _report()
    plots = load_plots(report, records)
    assert list(plots) == ["latency_vs_load.png", "timeline.png", "ttft_ms.png", "e2e_ms.png"]
    assert all(png_size(png)[0] > 0 for png in plots.values())
    page = render_load_html(report, plots)
    assert "<script" not in page and "m&lt;b&gt;" in page
    assert "level 1 failures: http_500 1" in page and "TTFT p99" in page
    files = write_load_html(report, records, tmp_path)
    assert [f.name for f in files][-1] == "load.html" and all(f.exists() for f in files)


def test_the_servers_own_figures_get_a_plot() -> None:
    report, records = _report()
    report.levels[0].telemetry = [
        {"t_s": 0.0, "requests_running": 1.0, "requests_waiting": 0.0},
        {"t_s": 1.0, "requests_running": 2.0, "requests_waiting": 3.0, "error": "x"},
    ]
    plots = load_plots(report, records)
    assert "server.png" in plots and png_size(plots["server.png"])[1] > 0


def test_reasoning_gets_its_own_distribution_and_gpus_a_panel() -> None:
    report, records = _report()
    assert "ttfot_ms.png" not in load_plots(report, records)  # no reasoning: it is TTFT
    for r in records:
        r.ttfot_ms = None if r.ttft_ms is None else r.ttft_ms + 40.0
    report.levels[0].telemetry = [
        {"t_s": 0.0, "gpu_memory_used_bytes": 1 << 30, "gpu_utilization_percent": 35.0},
        {"t_s": 1.0, "gpu": "unknown", "gpu_error": "GPU is lost"},  # not plotted as 0
    ]
    plots = load_plots(report, records)
    assert list(plots)[2:5] == ["server.png", "ttft_ms.png", "ttfot_ms.png"]
    assert png_size(plots["ttfot_ms.png"])[0] > 0


def test_one_level_has_no_curve() -> None:
    report, _ = _report()
    with pytest.raises(ValueError, match="two levels"):
        plot_latency_vs_load(report.levels[:1])


def test_failed_requests_are_drawn_when_sent_on_a_row_of_their_own() -> None:
    _, records = _report()  # each level's failure sent at 1.0 s, ended at 1.1 s
    with _figure(5.5) as fig:
        draw_timeline(fig, records)
        ttft, failed, in_flight = fig.axes
        points = [c.get_offsets() for c in ttft.collections]
        (rug,) = failed.collections
        assert [t.get_text() for t in failed.get_yticklabels()] == ["failed"]
        xs = sorted(float(x) for x, _ in rug.get_offsets())
    assert xs == pytest.approx([1.0, 1.7 + 1.0])  # when sent (the levels end to end)
    assert tuple(rug.get_facecolor()[0][:3]) == pytest.approx(_rgb(FAILED_COLOR))
    assert all(y > 0 for offsets in points for _, y in offsets)  # no fake TTFT of 0
    assert in_flight.get_ylabel() == "in flight"


def _rgb(color: str) -> tuple[float, ...]:
    return tuple(int(color[i : i + 2], 16) / 255 for i in (1, 3, 5))


def test_warm_up_requests_are_drawn_apart_and_the_legend_sits_above_the_points() -> None:
    _, records = _report()
    warm = dataclasses.replace(records[0], index=99, warmup=True, ttft_ms=123.0)
    with _figure(5.5) as fig:
        draw_timeline(fig, [warm, *records])
        ttft = fig.axes[0]
        labels = [t.get_text() for t in ttft.get_legend().get_texts()]
        by_label = {c.get_label(): c for c in ttft.collections}
        anchor = ttft.get_legend().get_bbox_to_anchor().transformed(ttft.transAxes.inverted())
    assert "warm-up" in labels
    assert [float(y) for _, y in by_label["warm-up"].get_offsets()] == [123.0]
    assert all(123.0 not in [float(y) for _, y in c.get_offsets()]
               for label, c in by_label.items() if label != "warm-up")  # fmt: skip
    assert anchor.y0 >= 1.0  # above the panel


def test_without_failures_the_timeline_has_no_failed_row() -> None:
    _, records = _report()
    with _figure(5.5) as fig:
        draw_timeline(fig, [r for r in records if r.status == "ok"])
        assert len(fig.axes) == 2


def test_an_interrupted_level_is_marked_on_the_page() -> None:
    report, _ = _report()
    report.levels[1].interrupted, report.levels[1].requests_cancelled = True, 3
    page = render_load_html(report, {})
    row = page.split("<tr>")[-1]  # the levels table's last row: level 1
    assert "interrupted: 3 requests cancelled" in row
    assert "level 1: interrupted: 3 requests cancelled" in page
    assert "interrupted" not in page.split("<tr>")[-2]  # level 0 ran to its end
