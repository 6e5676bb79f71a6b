"""The pool of endpoints in this process: --same-endpoint, and a sweep log written before the
endpoint column resumed."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pytest

from chimera.app.sweep import run_sweep
from chimera.backends.base import EndpointSettings
from chimera.bench import sweeplog
from chimera.bench.grid import Grid
from chimera.bench.sweep import SweepSettings, option_columns
from chimera.errors import ConfigError
from chimera.executor import Endpoint, endpoint_pool
from chimera.options import InferenceOptions
from chimera.testing import ServerThread
from chimera.testing.synthetic import SyntheticBackend

Cli = Callable[..., int]


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_the_pool_is_the_urls_then_the_file_and_same_endpoint_keeps_the_first() -> None:
    assert [e.url for e in endpoint_pool(["http://a:1", "http://b:1"], None)] == [
        "http://a:1",
        "http://b:1",
    ]
    assert endpoint_pool(["http://a:1", "http://b:1"], None, same_endpoint=True) == [
        Endpoint(url="http://a:1")
    ]
    with pytest.raises(ConfigError, match="http://a:1 is given twice"):
        endpoint_pool(["http://a:1", "http://a:1"], None)


def test_same_endpoint_puts_every_point_on_the_first_server(cli: Cli, tmp_path: Path) -> None:
    timing = {"prefill_ms": 2, "token_interval_ms": 1, "default_tokens": 4}
    out = tmp_path / "sw"
    with ServerThread(**timing) as a, ServerThread(**timing) as b:
        code = cli(
            "sweep", "--model", "tiny:latest", "--num-ctx", "256,512", "--runs", "2",
            "--num-predict", "4", "--url", a.url, "--url", b.url, "--same-endpoint",
            "--output-dir", str(out), "--no-store", "--quiet",
        )  # fmt: skip
        assert code == 0
        assert b.generation_requests == 0
    assert [r["endpoint"] for r in rows(out / "sweep.csv")] == [a.url] * 4


async def test_a_log_from_before_the_endpoint_column_gains_it_on_resume(tmp_path: Path) -> None:
    settings = SweepSettings(
        grid=Grid.parse([("num_ctx", "256,512")]),
        options=InferenceOptions(num_predict=8),
        runs=2,
        warmup=0,
        model="tiny:1b",
        endpoint=EndpointSettings(kind="synthetic"),
        output_dir=tmp_path / "sweep",
        store=False,
    )
    backend = SyntheticBackend(noise=0)
    first = await run_sweep(settings.model_copy(update={"runs": 1}), backend=backend)
    path = first.csv_path
    old = [c for c in sweeplog.row_columns(option_columns(settings)) if c != "endpoint"]
    with path.open("w", encoding="utf-8", newline="") as f:  # as an older Chimera wrote it
        writer = csv.DictWriter(f, old, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(first.rows)
    resumed = await run_sweep(settings, backend=backend)
    assert resumed.skipped == 2 and resumed.measured == 2
    assert [r["endpoint"] for r in rows(path)] == ["", "", "synthetic://", "synthetic://"]
    assert [r["run_index"] for r in rows(path)] == ["1", "1", "2", "2"]


def test_optimize_over_two_servers_says_where_each_trial_ran(
    cli: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    timing = {"prefill_ms": 2, "token_interval_ms": 1, "default_tokens": 4}
    with ServerThread(**timing) as a, ServerThread(**timing) as b:
        code = cli(
            "optimize", "--model", "tiny:latest", "--num-ctx", "256,512,1024,2048",
            "--trials", "4", "--runs", "1", "--num-predict", "4", "--url", a.url,
            "--url", b.url, "--db", str(tmp_path / "runs.db"), "--json",
        )  # fmt: skip
        assert code == 0
        assert a.generation_requests == b.generation_requests == 4  # 2 trials x (1 + 1)
    err = capsys.readouterr().err
    assert f"trial 0 on {a.url}" in err and f"trial 1 on {b.url}" in err


async def test_the_page_lists_the_pool_with_its_labels(tmp_path: Path) -> None:
    from chimera.render.sweep import write_sweep_html

    timing = {"prefill_ms": 2, "token_interval_ms": 1, "default_tokens": 4}
    with ServerThread(**timing) as a, ServerThread(**timing) as b:
        settings = SweepSettings(
            grid=Grid.parse([("num_ctx", "256,512")]),
            options=InferenceOptions(num_predict=4),
            runs=1,
            warmup=0,
            model="tiny:latest",
            endpoints=[
                Endpoint(url=a.url, labels={"host": "gpu1", "gpu": "A100"}),
                Endpoint(url=b.url, labels={"host": "gpu2"}),
            ],
            output_dir=tmp_path / "sweep",
            store=False,
        )
        result = await run_sweep(settings)
    page = next(p for p in write_sweep_html(result) if p.suffix == ".html")
    text = page.read_text(encoding="utf-8")
    assert f"{a.url} (gpu=A100, host=gpu1)" in text and f"{b.url} (host=gpu2)" in text
    assert {r["endpoint"] for r in result.summary} == {a.url, b.url}
