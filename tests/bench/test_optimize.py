"""Optuna-guided search on a fake backend whose speed is a known function of the options."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest

from chimera.app.optimize import run_optimize
from chimera.bench.grid import parse_dimension
from chimera.bench.optimize import (
    OptimizeSettings,
    TrialRecord,
    best_points,
    point_results,
    run_value,
    small_grid,
)
from chimera.errors import ConfigError
from chimera.options import InferenceOptions
from chimera.store import Store
from chimera.store.queries import table_rows
from chimera.testing.synthetic import SyntheticBackend

pytest.importorskip("optuna")

# decode (40 + 3 * min(num_gpu, 33)) * (1 - num_ctx / 65536); best at num_gpu >= 33, num_ctx 512
BEST_DECODE = 139 * (1 - 512 / 65536)


def settings(tmp_path: Path, **over: object) -> OptimizeSettings:
    values: dict[str, object] = {
        "space": (parse_dimension("num_gpu", "0:60"), parse_dimension("num_ctx", "512,16384")),
        "options": InferenceOptions(num_predict=16),
        "trials": 20,
        "runs": 3,
        "warmup": 1,
        "model": "m",
        "seed": 3,
        "db": tmp_path / "runs.db",
    }
    values.update(over)
    return OptimizeSettings.model_validate(values)


async def test_throughput_search_finds_the_fast_region(tmp_path: Path) -> None:
    result = await run_optimize(settings(tmp_path), backend=SyntheticBackend(noise=0.01))
    assert result.status == "ok" and len(result.trials) == 20
    [best] = result.best
    assert best.params["num_ctx"] == 512 and best.params["num_gpu"] >= 30
    assert best.decode_tokens_per_s is not None and best.objective is not None
    assert best.decode_tokens_per_s.mean > 0.95 * BEST_DECODE
    # the best point has the highest mean over its pooled runs
    means = {p.point: p.objective.mean for p in point_results(result.trials) if p.objective}
    assert best.objective.mean == max(means.values())


async def test_best_point_uncertainty_pools_every_run_there(tmp_path: Path) -> None:
    s = settings(tmp_path, space=(parse_dimension("num_ctx", "512,16384"),), trials=6, runs=4)
    result = await run_optimize(s, backend=SyntheticBackend(noise=0.02, seed=1))
    [best] = result.best
    there = [t for t in result.trials if t.point == best.point]
    assert best.point == "num_ctx=512" and best.trials == [t.number for t in there]
    samples = [v for t in there for v in t.samples["decode_tokens_per_s"]]
    s_ = best.decode_tokens_per_s
    assert s_ is not None and s_.n == len(samples) == 4 * len(there)
    assert s_.mean == pytest.approx(math.fsum(samples) / len(samples))
    assert s_.std is not None and s_.ci_low is not None and s_.ci_high is not None
    assert s_.ci_low < s_.mean < s_.ci_high
    true = 40 * (1 - 512 / 65536)  # num_gpu unset: 0
    assert s_.ci_low < true < s_.ci_high  # 2% noise around the true value
    assert best.objective is not None and best.objective.mean == pytest.approx(s_.mean)


def test_small_discrete_spaces_are_tried_in_full_first() -> None:
    space = [parse_dimension("num_ctx", "256,512,1024"), parse_dimension("num_thread", "1:2")]
    assert small_grid(space, 6) == [
        {"num_ctx": c, "num_thread": n} for c in (256, 512, 1024) for n in (1, 2)
    ]
    assert small_grid(space, 5) == []  # the budget does not cover them
    assert small_grid([*space, parse_dimension("temperature", "0.1:1")], 100) == []


async def test_a_small_space_is_searched_exhaustively(tmp_path: Path) -> None:
    s = settings(
        tmp_path,
        space=(parse_dimension("num_ctx", "512,4096,16384"), parse_dimension("num_gpu", "0,33")),
        trials=8,
        runs=1,
        store=False,
    )
    result = await run_optimize(s, backend=SyntheticBackend(noise=0.01))
    assert len({t.point for t in result.trials[:6]}) == 6
    assert result.best[0].point == "num_ctx=512, num_gpu=33"


async def test_ttft_search_minimizes(tmp_path: Path) -> None:
    result = await run_optimize(
        settings(tmp_path, objective="ttft"), backend=SyntheticBackend(noise=0.01)
    )
    [best] = result.best
    # ttft = 30 + num_ctx / 20 + 4 * (33 - min(num_gpu, 33)): 55.6 ms at best
    assert best.params["num_ctx"] == 512 and best.ttft_ms is not None
    assert best.ttft_ms.mean < 1.2 * 55.6


def _trial(number: int, point: str, decode: list[float], ttft: float = 10.0) -> TrialRecord:
    return TrialRecord(
        number=number,
        point=point,
        params={"num_ctx": int(point.split("=")[1])},
        state="complete",
        value=math.fsum(decode) / len(decode),
        decode_tokens_per_s=math.fsum(decode) / len(decode),
        ttft_ms=ttft,
        runs_ok=len(decode),
        samples={"objective": decode, "decode_tokens_per_s": decode, "ttft_ms": [ttft] * 3},
    )


def test_a_lucky_trial_does_not_win_alone() -> None:
    trials = [
        _trial(0, "num_ctx=512", [100, 101, 99]),
        _trial(1, "num_ctx=1024", [130, 129, 131]),  # lucky
        _trial(2, "num_ctx=1024", [70, 71, 69]),  # the same point again: mean 100
        _trial(3, "num_ctx=512", [104, 106, 105]),
    ]
    [best] = best_points("throughput", trials)
    assert best.point == "num_ctx=512" and best.trials == [0, 3]
    assert best.objective is not None and best.objective.mean == pytest.approx(102.5)
    assert best.objective.n == 6
    snappy = _trial(4, "num_ctx=2048", [1, 1, 1], ttft=5.0)
    for t in (trials[0], snappy):
        t.samples["objective"] = t.samples["ttft_ms"]
    [fastest] = best_points("ttft", [trials[0], snappy])
    assert fastest.point == "num_ctx=2048"


def test_mix_objective_is_scale_free() -> None:
    assert run_value("throughput", 0.5, 100.0, 50.0) == 100.0
    assert run_value("ttft", 0.5, 100.0, 50.0) == 50.0
    base = run_value("mix", 0.5, 100.0, 50.0)
    assert base == pytest.approx(0.5 * math.log(100) - 0.5 * math.log(50))
    # at weight 0.5 a 10% faster decode and a 10% shorter TTFT are worth the same
    faster = run_value("mix", 0.5, 110.0, 50.0) - base
    snappier = run_value("mix", 0.5, 100.0, 50.0 / 1.1) - base
    assert faster == pytest.approx(snappier)
    assert run_value("mix", 1.0, 100.0, 50.0) == pytest.approx(math.log(100))


def tradeoff(options: InferenceOptions) -> tuple[float, float]:
    """A bigger batch decodes faster but starts later: no point wins both."""
    batch = options.num_batch or 1
    return 50.0 + batch, 10.0 + 2.0 * batch


async def test_pareto_front_holds_only_undominated_points(tmp_path: Path) -> None:
    s = settings(
        tmp_path, space=(parse_dimension("num_batch", "1:40"),), objective="pareto", trials=15
    )
    result = await run_optimize(s, backend=SyntheticBackend(speed=tradeoff, noise=0))
    assert len(result.best) >= 2
    points = point_results(result.trials)
    measured = [(p.decode_tokens_per_s.mean, p.ttft_ms.mean) for p in points]  # type: ignore[union-attr]
    for best in result.best:
        assert best.objective is None
        assert best.decode_tokens_per_s is not None and best.ttft_ms is not None
        d, t = best.decode_tokens_per_s.mean, best.ttft_ms.mean
        assert not any(
            md is not None and mt is not None and md >= d and mt <= t and (md, mt) != (d, t)
            for md, mt in measured
        )


async def test_the_same_seed_suggests_the_same_points(tmp_path: Path) -> None:
    s = settings(tmp_path, trials=8, runs=1, warmup=0, store=False)
    one = await run_optimize(s, backend=SyntheticBackend())
    two = await run_optimize(s, backend=SyntheticBackend())
    other = await run_optimize(s.model_copy(update={"seed": 99}), backend=SyntheticBackend())
    assert [t.point for t in one.trials] == [t.point for t in two.trials]
    assert [t.point for t in one.trials] != [t.point for t in other.trials]


async def test_failed_trials_are_recorded_and_never_best(tmp_path: Path) -> None:
    backend = SyntheticBackend(
        fail=lambda o: "CUDA out of memory" if (o.num_gpu or 0) > 30 else None
    )
    result = await run_optimize(settings(tmp_path, trials=12), backend=backend)
    failed = [t for t in result.trials if t.state == "failed"]
    assert failed and all(t.value is None and "out of memory" in (t.error or "") for t in failed)
    [best] = result.best
    assert best.params["num_gpu"] <= 30
    with Store(tmp_path / "runs.db") as store:
        [run] = store.runs()
        trials = table_rows(store, "trials", run["id"])
        calls = table_rows(store, "calls", run["id"])
    assert run["kind"] == "optimize" and run["status"] == "ok"
    assert run["error"] == f"{len(failed)} of 12 trials failed"
    assert [t["number"] for t in trials] == list(range(12))
    assert {t["state"] for t in trials} == {"complete", "failed"}
    ok = next(t for t in trials if t["state"] == "complete")
    assert ok["runs_ok"] == 3 and len(ok["samples_json"]["objective"]) == 3
    assert ok["objective"] == pytest.approx(ok["decode_tokens_per_s"])
    assert json.loads(run["settings_json"])["space"] == {
        "num_gpu": {"low": 0, "high": 60, "step": 1},
        "num_ctx": {"choices": [512, 16384]},
    }
    assert len(calls) == 12 * 4 and {c["trial"] for c in calls} == set(range(12))
    assert sum(c["warmup"] for c in calls) == 12


async def test_no_trial_succeeding_is_a_failed_search(tmp_path: Path) -> None:
    result = await run_optimize(
        settings(tmp_path, trials=3), backend=SyntheticBackend(fail=lambda o: "down")
    )
    assert result.status == "failed" and result.best == []


async def test_missing_optuna_says_how_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "optuna", None)
    with pytest.raises(ConfigError, match=r"pip install 'chimera-bench\[optimize\]'"):
        await run_optimize(settings(tmp_path), backend=SyntheticBackend())
