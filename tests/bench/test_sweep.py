"""Sweeps: grids, the tidy CSV, resume after an interruption, the store, ingest reading it back."""

from __future__ import annotations

import csv
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from chimera.app.sweep import run_sweep
from chimera.backends.base import EndpointSettings, GenerationRequest, StreamEvent
from chimera.bench import sweeplog
from chimera.bench.grid import (
    Choice,
    FloatRange,
    Grid,
    IntRange,
    Point,
    option_specs,
    parse_dimension,
    parse_values,
)
from chimera.bench.measure import METRICS, RunOutcome
from chimera.bench.sweep import SweepSettings, read_sweep
from chimera.errors import ConfigError
from chimera.ingest.pipeline import ingest_paths
from chimera.options import InferenceOptions
from chimera.store import Store
from chimera.store.queries import table_rows
from chimera.testing.synthetic import SyntheticBackend, default_speed

# --- grids and spaces ----------------------------------------------------------------------


def test_values_are_typed_and_checked_by_the_options_model() -> None:
    assert parse_values("num_ctx", "256, 512,256,1024") == (256, 512, 1024)
    assert parse_values("temperature", "0.6,0.8,1") == (0.6, 0.8, 1.0)
    assert parse_values("use_mmap", "true,false") == (True, False)
    with pytest.raises(ConfigError, match="num_ctx"):
        parse_values("num_ctx", "256,0")  # num_ctx >= 1
    with pytest.raises(ConfigError, match="num_gpu"):
        parse_values("num_gpu", "8.5")
    with pytest.raises(ConfigError, match="no values given for top_k"):
        parse_values("top_k", " , ")


def test_grid_is_the_product_first_dimension_slowest() -> None:
    grid = Grid.parse(option_specs({"num_gpu": "0,33", "num_ctx": None}, ["num-ctx=256,512"]))
    assert grid.names == ("num_gpu", "num_ctx") and len(grid) == 4
    keys = [p.key for p in grid.points()]
    assert keys == [
        "num_gpu=0, num_ctx=256",
        "num_gpu=0, num_ctx=512",
        "num_gpu=33, num_ctx=256",
        "num_gpu=33, num_ctx=512",
    ]
    point = grid.points()[1]
    merged = point.options(InferenceOptions(num_predict=64, num_ctx=4096))
    assert (merged.num_gpu, merged.num_ctx, merged.num_predict) == (0, 512, 64)
    assert Grid.parse([]).points() == [Point(())] and Point(()).key == "defaults"


def test_grid_errors_name_the_option() -> None:
    with pytest.raises(ConfigError, match="unknown option 'num_gpus'; known options: num_ctx"):
        Grid.parse([("num_gpus", "1,2")])
    with pytest.raises(ConfigError, match="num_ctx is given twice"):
        Grid.parse([("num_ctx", "1"), ("num-ctx", "2")])
    with pytest.raises(ConfigError, match="cannot be swept"):
        Grid.parse([("stop", "a,b")])
    with pytest.raises(ConfigError, match="'num_ctx' is not NAME=VALUES"):
        option_specs({}, ["num_ctx"])


def test_search_dimensions() -> None:
    assert parse_dimension("num-gpu", "0:99") == IntRange("num_gpu", 0, 99, 1)
    assert parse_dimension("num_gpu", "0:96:8") == IntRange("num_gpu", 0, 96, 8)
    assert parse_dimension("temperature", "0.1:1.0") == FloatRange("temperature", 0.1, 1.0)
    assert parse_dimension("temperature", "0:1") == FloatRange("temperature", 0.0, 1.0)
    assert parse_dimension("num_ctx", "256,512") == Choice("num_ctx", (256, 512))
    for text, message in (
        ("99:0", "LOW must not exceed HIGH"),
        ("0:9:x", "STEP must be a positive integer"),
        ("0:9:0", "STEP must be a positive integer"),
        ("1:", "write LOW:HIGH"),
    ):
        with pytest.raises(ConfigError, match=message):
            parse_dimension("num_gpu", text)
    with pytest.raises(ConfigError, match="a step is only allowed for integers"):
        parse_dimension("top_p", "0.1:0.9:2")
    with pytest.raises(ConfigError, match="not numeric"):
        parse_dimension("use_mmap", "false:true")


# --- sweeps --------------------------------------------------------------------------------


def settings(tmp_path: Path, **over: object) -> SweepSettings:
    values: dict[str, object] = {
        "grid": Grid.parse([("num_gpu", "0,33"), ("num_ctx", "512,4096")]),
        "options": InferenceOptions(num_predict=32),
        "runs": 3,
        "warmup": 1,
        "model": "tiny:1b",
        "endpoint": EndpointSettings(kind="synthetic"),
        "output_dir": tmp_path / "sweep",
        "db": tmp_path / "runs.db",
    }
    values.update(over)
    return SweepSettings.model_validate(values)


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[object, ...]] = []

    def start(self, total: int, done: int) -> None:
        self.events.append(("start", total, done))

    def stage(self, text: str) -> None:
        self.events.append(("stage", text))

    def advance(self, point: Point, run_index: int, outcome: RunOutcome) -> None:
        self.events.append(("advance", point.key, run_index, outcome.status))


async def test_sweep_writes_one_row_per_point_and_run(tmp_path: Path) -> None:
    backend = SyntheticBackend(noise=0)
    observer = Recorder()
    result = await run_sweep(settings(tmp_path), backend=backend, observer=observer)
    assert result.status == "ok" and result.measured == 12 and result.skipped == 0
    assert len(backend.requests) == 4 * (1 + 3)  # a warm-up per point, then 3 runs
    rows = read_csv(tmp_path / "sweep" / "sweep.csv")
    assert list(rows[0]) == sweeplog.row_columns(["num_gpu", "num_ctx", "num_predict"])
    assert [(r["point"], r["run_index"]) for r in rows[:4]] == [
        ("num_gpu=0, num_ctx=512", "1"),
        ("num_gpu=0, num_ctx=512", "2"),
        ("num_gpu=0, num_ctx=512", "3"),
        ("num_gpu=0, num_ctx=4096", "1"),
    ]
    for row in rows:
        opts = InferenceOptions(num_gpu=int(row["num_gpu"]), num_ctx=int(row["num_ctx"]))
        decode, ttft = default_speed(opts)
        assert float(row["decode_tokens_per_s"]) == pytest.approx(decode, abs=1e-3)
        assert float(row["ttft_ms"]) == pytest.approx(ttft, abs=1e-3)
        assert row["load_ms"] == ""  # the warm-up loaded the model
        assert (row["status"], row["model"], row["backend"]) == ("ok", "tiny:1b", "synthetic")
        assert (row["num_predict"], row["output_tokens"]) == ("32", "32")
    summary = read_csv(tmp_path / "sweep" / "sweep_summary.csv")
    assert [s["completed_runs"] for s in summary] == ["3"] * 4
    fast = next(s for s in summary if s["point"] == "num_gpu=33, num_ctx=512")
    assert float(fast["decode_tokens_per_s_mean"]) == pytest.approx(139 * (1 - 512 / 65536))
    assert float(fast["decode_tokens_per_s_std"]) == pytest.approx(0, abs=1e-6)
    assert observer.events[0] == ("start", 12, 0)
    advances = [e for e in observer.events if e[0] == "advance"]
    assert len(advances) == 12 and advances[-1] == ("advance", "num_gpu=33, num_ctx=4096", 3, "ok")
    assert ("stage", "warm-up 1/1 at num_gpu=0, num_ctx=512") in observer.events


async def test_every_call_is_recorded_in_the_store(tmp_path: Path) -> None:
    result = await run_sweep(settings(tmp_path, runs=2), backend=SyntheticBackend())
    with Store(tmp_path / "runs.db") as store:
        [run] = store.runs()
        calls = table_rows(store, "calls", run["id"])
    assert run["id"] == result.run_id and run["kind"] == "sweep" and run["status"] == "ok"
    assert run["output_dir"] == str(tmp_path / "sweep")
    assert len(calls) == 4 * 3
    warm = [c for c in calls if c["warmup"]]
    assert len(warm) == 4 and {c["stage"] for c in warm} == {"warmup"}
    assert all(c["repeat"] is None and c["load_ms"] == 800.0 for c in warm)
    measured = [c for c in calls if not c["warmup"]]
    assert [c["repeat"] for c in measured[:2]] == [1, 2]
    assert measured[0]["point"] == "num_gpu=0, num_ctx=512"
    assert measured[0]["options_json"] == {"num_ctx": 512, "num_gpu": 0, "num_predict": 32}


class PowerCut(Exception):
    """Stands for Ctrl-C or a killed process in the middle of a sweep."""


class DiesAfter(SyntheticBackend):
    def __init__(self, calls: int) -> None:
        super().__init__(noise=0)
        self.left = calls

    async def stream(self, request: GenerationRequest) -> AsyncIterator[StreamEvent]:
        if self.left == 0:
            raise PowerCut
        self.left -= 1
        async for event in super().stream(request):
            yield event


async def test_resume_after_an_interruption_skips_finished_runs(tmp_path: Path) -> None:
    s = settings(tmp_path)
    # point 1: warm-up + 3 runs; point 2: warm-up + 1 run; then the power goes
    with pytest.raises(PowerCut):
        await run_sweep(s, backend=DiesAfter(6))
    rows = read_csv(tmp_path / "sweep" / "sweep.csv")
    assert len(rows) == 4
    with Store(tmp_path / "runs.db") as store:
        [run] = store.runs()
    assert run["status"] == "interrupted"
    partial = read_csv(tmp_path / "sweep" / "sweep_summary.csv")
    assert [p["completed_runs"] for p in partial] == ["3", "1"]

    backend = SyntheticBackend(noise=0)
    observer = Recorder()
    result = await run_sweep(s, backend=backend, observer=observer)
    assert observer.events[0] == ("start", 12, 4)
    assert result.measured == 8 and result.skipped == 4 and result.status == "ok"
    # point 2 is warmed up again before its runs 2 and 3; points 3 and 4 in full
    assert len(backend.requests) == (1 + 2) + 2 * (1 + 3)
    rows = read_csv(tmp_path / "sweep" / "sweep.csv")
    pairs = [(r["point"], r["run_index"]) for r in rows]
    assert len(pairs) == 12 and len(set(pairs)) == 12
    with Store(tmp_path / "runs.db") as store:
        [run] = store.runs()  # the same store run, finished now
        calls = table_rows(store, "calls", run["id"])
    assert run["id"] == result.run_id and run["status"] == "ok"
    assert sum(1 for c in calls if not c["warmup"]) == 12

    again = SyntheticBackend()
    result = await run_sweep(s, backend=again)
    assert result.measured == 0 and result.skipped == 12 and again.requests == []


async def test_more_runs_on_resume_adds_only_the_new_ones(tmp_path: Path) -> None:
    await run_sweep(settings(tmp_path, runs=1, warmup=0), backend=SyntheticBackend())
    backend = SyntheticBackend()
    result = await run_sweep(settings(tmp_path, runs=2, warmup=0), backend=backend)
    assert result.measured == 4 and len(backend.requests) == 4
    assert sorted({r["run_index"] for r in result.rows}) == ["1", "2"]


async def test_a_line_cut_by_a_kill_is_dropped_and_measured_again(tmp_path: Path) -> None:
    s = settings(tmp_path, runs=1, warmup=0)
    await run_sweep(s, backend=SyntheticBackend())
    path = tmp_path / "sweep" / "sweep.csv"
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: len(text) - 20], encoding="utf-8")  # the last row half written
    backend = SyntheticBackend()
    result = await run_sweep(s, backend=backend)
    assert result.measured == 1 and len(backend.requests) == 1
    rows = read_csv(path)
    assert len(rows) == 4 and all(r["status"] == "ok" for r in rows)


async def test_a_different_sweep_in_the_folder_is_refused_unless_fresh(tmp_path: Path) -> None:
    await run_sweep(settings(tmp_path, runs=1), backend=SyntheticBackend())
    with pytest.raises(ConfigError, match="holds a different sweep \\(model: was 'tiny:1b'"):
        await run_sweep(settings(tmp_path, runs=1, model="other"), backend=SyntheticBackend())
    other_grid = settings(tmp_path, runs=1, grid=Grid.parse([("num_ctx", "512")]))
    with pytest.raises(ConfigError, match="swept: was"):
        await run_sweep(other_grid, backend=SyntheticBackend())
    fresh = other_grid.model_copy(update={"fresh": True})
    result = await run_sweep(fresh, backend=SyntheticBackend())
    assert result.measured == 1 and len(result.rows) == 1
    with Store(tmp_path / "runs.db") as store:
        assert len(store.runs()) == 2  # a fresh sweep is a new run


async def test_failed_points_are_rows_with_their_reason(tmp_path: Path) -> None:
    backend = SyntheticBackend(
        fail=lambda o: "out of memory" if o.num_ctx == 4096 and o.num_gpu == 33 else None
    )
    result = await run_sweep(settings(tmp_path, runs=2), backend=backend)
    assert result.status == "ok" and result.failed == 2
    bad = [r for r in result.rows if r["status"] == "failed"]
    assert {r["point"] for r in bad} == {"num_gpu=33, num_ctx=4096"}
    assert "out of memory" in bad[0]["error"] and bad[0]["decode_tokens_per_s"] == ""
    summary = {s["point"]: s for s in result.summary}
    assert summary["num_gpu=33, num_ctx=4096"]["completed_runs"] == 0
    assert summary["num_gpu=33, num_ctx=4096"]["decode_tokens_per_s_mean"] is None
    with Store(tmp_path / "runs.db") as store:
        [run] = store.runs()
    assert run["status"] == "ok" and run["error"] == "2 of 8 runs failed"
    everything = SyntheticBackend(fail=lambda o: "down")
    result = await run_sweep(settings(tmp_path / "b", runs=1), backend=everything)
    assert result.status == "failed"


async def test_ingest_reads_the_sweep_back_with_model_and_config(tmp_path: Path) -> None:
    await run_sweep(settings(tmp_path, runs=2), backend=SyntheticBackend(noise=0))
    facts = ingest_paths([tmp_path / "sweep"])
    assert facts.inventory.ingested == 2  # sweep.csv and the summary; not the manifest
    rows = [f for f in facts.facts if f.source.endswith("sweep.csv")]
    assert {f.model for f in rows} == {"tiny:1b"}
    assert {f.metric for f in rows} == {
        "tokens_per_s",
        "ttft_s",
        "prompt_eval_s",
        "eval_s",
        "latency_ms",
        "prompt_eval_count",
        "eval_count",
    }
    assert all(f.recognized and f.aggregate is None for f in rows)
    config = {"num_gpu": "33", "num_ctx": "512", "num_predict": "32", "backend": "synthetic"}
    fast = [f for f in rows if f.metric == "tokens_per_s" and dict(f.config) == config]
    assert [f.value for f in fast] == [pytest.approx(139 * (1 - 512 / 65536))] * 2
    ttft = next(f for f in rows if f.metric == "ttft_s" and ("num_gpu", "0") in f.config)
    assert ttft.unit == "s" and ttft.value == pytest.approx((30 + 512 / 20 + 4 * 33) / 1000)
    means = [f for f in facts.facts if f.source.endswith("summary.csv") and f.aggregate]
    assert {f.aggregate for f in means} == {"mean", "std", "median", "min", "max"}
    assert not set(facts.unrecognized) & {"point", "run_index", "completed_runs", "total_runs"}


async def test_read_sweep_gives_the_rows_back(tmp_path: Path) -> None:
    done = await run_sweep(settings(tmp_path, runs=1), backend=SyntheticBackend())
    back = read_sweep(tmp_path / "sweep")
    assert back.rows == done.rows and back.run_id == done.run_id
    assert back.option_names == ["num_gpu", "num_ctx", "num_predict"]
    manifest = json.loads((tmp_path / "sweep" / sweeplog.MANIFEST_NAME).read_text())
    assert manifest["identity"]["swept"] == ["num_gpu", "num_ctx"]
    with pytest.raises(ConfigError, match="holds no sweep"):
        read_sweep(tmp_path)


async def test_no_store_records_nothing(tmp_path: Path) -> None:
    result = await run_sweep(settings(tmp_path, runs=1, store=False), backend=SyntheticBackend())
    assert result.run_id is None and not (tmp_path / "runs.db").exists()


async def test_agent_mode_runs_the_agent_at_each_point(tmp_path: Path) -> None:
    data = tmp_path / "reports"
    data.mkdir()
    (data / "bench.csv").write_text("model,num_gpu,tokens_per_s\nm,80,50.5\nm,40,42.0\n")
    s = settings(
        tmp_path,
        mode="agent",
        paths=[data],
        runs=1,
        warmup=0,
        grid=Grid.parse([("temperature", "0.2,0.8")]),
        endpoint=EndpointSettings(kind="offline"),
        options=InferenceOptions(),
    )
    result = await run_sweep(s)
    assert result.status == "ok" and len(result.rows) == 2
    assert [r["temperature"] for r in result.rows] == ["0.2", "0.8"]
    assert all(r["backend"] == "offline" and r["output_tokens"] for r in result.rows)
    with Store(tmp_path / "runs.db") as store:
        [run] = store.runs()
        agents = table_rows(store, "agents", run["id"])
        calls = table_rows(store, "calls", run["id"])
    assert [a["agent_id"] for a in agents] == ["insight", "insight"]
    assert "[temperature=0.2] run 1" in agents[0]["label"]
    assert [c["stage"] for c in calls] == ["analysis", "report"] * 2
    assert all(c["agent_row"] is not None and c["point"] for c in calls)
    with pytest.raises(ConfigError, match="agent mode needs the artifacts"):
        await run_sweep(s.model_copy(update={"paths": [], "fresh": True}))


@pytest.fixture(scope="module")
def tiny_gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("llama_cpp")
    from chimera.models import write_tiny_gguf

    return write_tiny_gguf(tmp_path_factory.mktemp("models") / "tiny.gguf")


async def test_llamacpp_sweep_measures_each_point(tmp_path: Path, tiny_gguf: Path) -> None:
    s = settings(
        tmp_path,
        grid=Grid.parse([("num_ctx", "256,512")]),
        options=InferenceOptions(num_predict=16, seed=1),
        runs=2,
        warmup=0,
        model=str(tiny_gguf),
        endpoint=EndpointSettings(kind="llamacpp"),
    )
    result = await run_sweep(s)
    assert result.status == "ok" and len(result.rows) == 4
    # Each point's num_ctx is applied by a load before its runs (a call never reloads): no
    # measured run pays for a load, and the load is kept as a warm-up call, timed.
    assert all(row["load_ms"] == "" for row in result.rows)
    with Store(tmp_path / "runs.db") as store:
        [run] = store.runs()
        calls = table_rows(store, "calls", run["id"])
    loads = [c for c in calls if c["stage"] == "load"]
    assert [c["point"] for c in loads] == ["num_ctx=256", "num_ctx=512"]
    assert all(c["warmup"] and c["load_ms"] > 0 for c in loads)
    assert [c["options_json"] for c in loads] == [{"num_ctx": 256}, {"num_ctx": 512}]
    for row in result.rows:
        assert row["backend"] == "llamacpp" and row["model"] == str(tiny_gguf)
        assert float(row["decode_tokens_per_s"]) > 0 and float(row["ttft_ms"]) > 0
        assert float(row["prompt_eval_ms"]) > 0 and int(row["prompt_tokens"]) > 0
        assert set(METRICS) <= set(row)


async def test_each_measured_run_starts_with_its_own_nonce(tmp_path: Path) -> None:
    """A server's prompt cache must not serve run 2 from run 1's prompt (see docs/sweep.md)."""
    await run_sweep(settings(tmp_path, runs=2), backend=SyntheticBackend())
    with Store(tmp_path / "runs.db") as store:
        [run] = store.runs()
        calls = table_rows(store, "calls", run["id"])
    measured = [c["prompt"] for c in calls if not c["warmup"]]
    firsts = [p.split("\n", 1)[0] for p in measured]
    assert len(measured) == 8 and len(set(firsts)) == 8
    assert all(
        f.startswith("[chimera ") and f.endswith(f" r{r}]")
        for f, r in zip(firsts, [1, 2] * 4, strict=True)
    )
    assert "num_gpu=0, num_ctx=512 r1]" in firsts[0]
    # the rest of the prompt is the same, and the warm-ups carry no nonce
    assert len({p.split("\n", 1)[1] for p in measured}) == 1
    assert not any(c["prompt"].startswith("[chimera") for c in calls if c["warmup"])


async def test_keep_prompt_cache_sends_the_same_prompt_every_run(tmp_path: Path) -> None:
    await run_sweep(settings(tmp_path, runs=2, prompt_nonce=False), backend=SyntheticBackend())
    with Store(tmp_path / "runs.db") as store:
        [run] = store.runs()
        calls = table_rows(store, "calls", run["id"])
    assert len({c["prompt"] for c in calls}) == 1
