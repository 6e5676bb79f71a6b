"""Comparisons: verdicts on samples with known answers, and samples read from CSVs and the store."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from scipy import stats

from chimera.backends.base import CallMetrics, CallResult
from chimera.bench.compare import Side, compare_sides, mannwhitney_floor
from chimera.bench.sides import Selector, csv_side, load_side, split_ref, store_side
from chimera.errors import ConfigError, InputFileError
from chimera.store import Store
from chimera.store.bench import add_bench_call
from chimera.store.load import add_level, add_requests
from chimera.store.queries import resolve_run


def side(label: str, **values: list[float]) -> Side:
    return Side(label=label, source="test", values=values)


def test_faster_throughput_and_slower_ttft_get_the_right_words() -> None:
    a = side("A", decode_tokens_per_s=[100, 102, 98, 101, 99], ttft_ms=[50, 52, 48, 51, 49])
    b = side("B", decode_tokens_per_s=[120, 122, 118, 121, 119], ttft_ms=[60, 62, 58, 61, 59])
    result = compare_sides(a, b)
    tps, ttft = result.metrics
    assert tps.metric == "decode_tokens_per_s" and tps.better == "higher"
    assert tps.significant is True and tps.verdict.startswith("B is better: +20.0% (p < 0.001")
    assert ttft.significant is True and ttft.verdict.startswith("B is worse: +20.0%")
    ref = stats.ttest_ind([120, 122, 118, 121, 119], [100, 102, 98, 101, 99], equal_var=False)
    assert tps.p_value == pytest.approx(ref.pvalue)
    assert tps.difference is not None and tps.difference.diff == pytest.approx(20.0)
    assert tps.effect == "large"


def test_no_significant_difference_is_said_plainly() -> None:
    a = side("A", decode_tokens_per_s=[100, 110, 90, 105])
    b = side("B", decode_tokens_per_s=[101, 111, 91, 104])
    [m] = compare_sides(a, b).metrics
    p = stats.ttest_ind([101, 111, 91, 104], [100, 110, 90, 105], equal_var=False).pvalue
    assert m.significant is False
    assert m.verdict == f"no significant difference (p = {p:.3g} ≥ 0.05)"


def test_one_run_a_side_says_the_test_cannot_be_done() -> None:
    a = side("A", decode_tokens_per_s=[100.0])
    b = side("B", decode_tokens_per_s=[130.0, 131.0])
    [m] = compare_sides(a, b).metrics
    assert m.significant is None and m.p_value is None
    assert m.verdict.startswith("cannot test: n=1 on A")
    assert m.difference is not None and m.difference.pct_change == pytest.approx(30.5)


def test_constant_sides_and_missing_metrics() -> None:
    a = side("A", output_tokens=[128, 128, 128], ttft_ms=[1.0, 2.0])
    b = side("B", output_tokens=[128, 128, 128], load_ms=[5.0, 6.0])
    by = {m.metric: m for m in compare_sides(a, b).metrics}
    assert by["output_tokens"].verdict == "no difference: the same value in every run"
    assert by["output_tokens"].significant is False
    assert by["ttft_ms"].verdict == "cannot compare: no ttft_ms values on B"
    assert by["load_ms"].verdict == "cannot compare: no load_ms values on A"
    c = side("C", output_tokens=[64, 64])
    [m] = compare_sides(a, c, metrics=["output_tokens"]).metrics
    assert m.verdict == "cannot test (no spread on either side); B is -50.0% in every run"


def test_token_counts_have_no_better_direction() -> None:
    a = side("A", prompt_tokens=[10, 11, 10, 11])
    b = side("B", prompt_tokens=[20, 21, 20, 21])
    [m] = compare_sides(a, b).metrics
    assert m.better == "none" and m.verdict.startswith("B is higher: +95.2%")


def test_mann_whitney_decides_when_asked_and_its_floor_is_noted() -> None:
    assert mannwhitney_floor(3, 3) == pytest.approx(0.1)
    assert mannwhitney_floor(5, 5) == pytest.approx(2 / 252)
    a = side("A", decode_tokens_per_s=[100, 101, 102])
    b = side("B", decode_tokens_per_s=[120, 121, 122])
    [m] = compare_sides(a, b, test="mannwhitney").metrics
    assert m.significant is False and m.p_value == pytest.approx(0.1)
    assert "smallest possible p is 0.1" in m.notes[0]
    [w] = compare_sides(a, b).metrics  # Welch decides: significant, and the notes say why MW isn't
    assert w.significant is True and "cannot reach 0.05" in w.notes[0]
    a5 = side("A", decode_tokens_per_s=[100, 101, 102, 103, 104])
    b5 = side("B", decode_tokens_per_s=[120, 121, 122, 123, 124])
    [m5] = compare_sides(a5, b5, test="mannwhitney").metrics
    assert m5.significant is True and m5.notes == []


# --- sides from files ----------------------------------------------------------------------

SWEEP = (
    "point,run_index,num_ctx,model,backend,status,error,started_at,decode_tokens_per_s,ttft_ms\n"
    '"num_ctx=256",1,256,m,ollama,ok,,t,100.0,20.0\n'
    '"num_ctx=256",2,256,m,ollama,ok,,t,102.0,21.0\n'
    '"num_ctx=256",3,256,m,ollama,failed,server died,t,,\n'
    '"num_ctx=1024",1,1024,m,ollama,ok,,t,90.0,30.0\n'
    '"num_ctx=1024",2,1024,m,ollama,ok,,t,91.0,31.0\n'
)


def test_sweep_points_are_picked_by_selector(tmp_path: Path) -> None:
    (tmp_path / "sw").mkdir()
    (tmp_path / "sw" / "sweep.csv").write_text(SWEEP, encoding="utf-8")
    a = csv_side(tmp_path / "sw", Selector.parse("num_ctx=256"), "A")
    assert a.values == {"decode_tokens_per_s": [100.0, 102.0], "ttft_ms": [20.0, 21.0]}
    assert a.notes == ["1 failed row(s) left out"]
    assert a.source.endswith("sweep.csv@num_ctx=256")
    whole = csv_side(tmp_path / "sw" / "sweep.csv", Selector(), "all")
    assert whole.values["decode_tokens_per_s"] == [100.0, 102.0, 90.0, 91.0]
    assert any("pools 2 sweep points" in n for n in whole.notes)
    b = load_side("@num_ctx=1024.0", "B", None, default_target=str(tmp_path / "sw"))
    assert b.values["ttft_ms"] == [30.0, 31.0]  # 1024.0 == 1024
    with pytest.raises(ConfigError, match="no successful rows match"):
        csv_side(tmp_path / "sw", Selector.parse("num_ctx=512"), "X")


def test_any_csv_with_known_metric_names_and_labels(tmp_path: Path) -> None:
    path = tmp_path / "old.csv"
    path.write_text(
        "config,tokens_per_second,ttft_s,success\n"
        "baseline,50.0,0.5,true\nbaseline,52.0,0.7,true\nbaseline,0,0,false\n"
        "chimera,60.0,0.2,true\nchimera,61.0,0.3,true\n",
        encoding="utf-8",
    )
    base = csv_side(path, Selector.parse("baseline"), "baseline")
    assert base.values["decode_tokens_per_s"] == [50.0, 52.0]
    assert base.values["ttft_ms"] == [pytest.approx(500.0), pytest.approx(700.0)]  # s -> ms
    chim = csv_side(path, Selector.parse("chimera"), "chimera")
    assert chim.values["decode_tokens_per_s"] == [60.0, 61.0]
    (tmp_path / "none.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="no metric column"):
        csv_side(tmp_path / "none.csv", Selector(), "X")
    with pytest.raises(InputFileError, match=r"without sweep\.csv"):
        csv_side(tmp_path, Selector(), "X")


def test_references_split_on_the_last_at() -> None:
    assert split_ref("runs/a@b/sweep.csv@num_ctx=256,baseline") == (
        "runs/a@b/sweep.csv",
        Selector({"num_ctx": "256"}, ("baseline",)),
    )
    assert split_ref("abc123") == ("abc123", Selector())


# --- sides from the store ------------------------------------------------------------------


def _result(
    tps: float, ttft: float, tokens: int = 100, options: dict[str, int] | None = None
) -> CallResult:
    return CallResult(
        options=options or {},
        backend="ollama",
        url="u",
        model="m",
        endpoint="/api/generate",
        text="",
        done_reason="stop",
        started_at=datetime.now(UTC),
        metrics=CallMetrics(
            decode_tokens_per_s=tps,
            ttft_ms=ttft,
            output_tokens=tokens,
            eval_ms=tokens / tps * 1000,
        ),
    )


def test_store_runs_give_one_sample_per_call_or_per_agent_run(tmp_path: Path) -> None:
    with Store(tmp_path / "runs.db") as store:
        sweep = store.start_run("sweep")
        for ctx, tps in ((256, [100.0, 104.0]), (1024, [90.0, 92.0])):
            opts = {"num_ctx": ctx}
            add_bench_call(
                store,
                sweep,
                stage="warmup",
                point=f"num_ctx={ctx}",
                repeat=None,
                warmup=True,
                result=_result(1.0, 999.0, options=opts),
            )
            for i, v in enumerate(tps, 1):
                add_bench_call(
                    store,
                    sweep,
                    stage="generate",
                    point=f"num_ctx={ctx}",
                    repeat=i,
                    result=_result(v, 10.0 + i, options=opts),
                )
            store.add_call(sweep, stage="generate", error="boom", options=opts)
        s = store_side(store, sweep[:6], Selector.parse("num_ctx=256"), "A")
        assert s.values["decode_tokens_per_s"] == [pytest.approx(100.0), pytest.approx(104.0)]
        assert s.values["ttft_ms"] == [11.0, 12.0]  # the warm-up and the failed call left out
        assert s.notes == ["one sample per call"]

        agents = store.start_run("run")
        for tokens in (100, 300):
            row = store.add_agent(agents, {"agent_id": "insight", "status": "ok"})
            store.add_call(agents, stage="analysis", agent_row=row, result=_result(50.0, 10.0))
            store.add_call(
                agents, stage="report", agent_row=row, result=_result(100.0, 30.0, tokens)
            )
        s = store_side(store, agents, Selector(), "B")
        # per agent run: tokens over decode time; mean TTFT of its two calls
        assert s.values["decode_tokens_per_s"] == [pytest.approx(200 / 3), pytest.approx(400 / 5)]
        assert s.values["ttft_ms"] == [20.0, 20.0]
        assert s.notes == ["one sample per agent run"]
        only_reports = store_side(store, agents, Selector.parse("report"), "B")
        assert only_reports.values["ttft_ms"] == [30.0, 30.0]

        with pytest.raises(ConfigError, match="no run 'ffff'"):
            store_side(store, "ffff", Selector(), "X")


def test_a_prefix_shared_by_two_runs_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    Store(path).close()
    db = sqlite3.connect(path)
    for run_id in ("abc1" + "0" * 28, "abc2" + "0" * 28):
        db.execute(
            "INSERT INTO runs (id, kind, status, started_at) VALUES (?, 'run', 'ok', 't')",
            (run_id,),
        )
    db.commit()
    db.close()
    with Store(path) as store:
        with pytest.raises(ConfigError, match="'abc' matches several runs"):
            resolve_run(store, "abc")
        assert resolve_run(store, "ABC2") == "abc2" + "0" * 28


# --- load runs: levels and kinds -----------------------------------------------------------


def _load_run(store: Store, levels: dict[int, str]) -> str:
    """A load run with three ok, measured requests at each level (label -> ``c=N``)."""
    run_id = store.start_run("load")
    for level, text in levels.items():
        add_requests(
            store,
            run_id,
            [
                {"level": level, "idx": i, "warmup": False, "status": "ok", "ttft_ms": 10.0 + i}
                for i in range(3)
            ],
        )
        add_level(store, run_id, {"level": level, "label": text, "summary_json": {}})
    return run_id


def test_a_level_the_load_run_does_not_have_is_named_with_those_it_has(tmp_path: Path) -> None:
    with Store(tmp_path / "runs.db") as store:
        run_id = _load_run(store, {0: "c=2", 1: "c=4"})
        assert store_side(store, run_id, Selector.parse("level=1"), "A").values["ttft_ms"] == [
            10.0,
            11.0,
            12.0,
        ]
        with pytest.raises(ConfigError) as err:
            store_side(store, run_id, Selector.parse("level=7"), "A")
        assert str(err.value) == (
            f"run {run_id[:12]} has no level 7; its levels are 0 (c=2), 1 (c=4): pick one with "
            f"{run_id[:12]}@level=0, or leave out @level to pool them"
        )


def test_runs_of_unlike_kinds_are_refused_naming_both_kinds(tmp_path: Path) -> None:
    with Store(tmp_path / "runs.db") as store:
        load = _load_run(store, {0: "c=2"})
        sweep = store.start_run("sweep")
        for i in range(3):
            add_bench_call(
                store, sweep, stage="generate", point="p", repeat=i, result=_result(50.0, 9.0 + i)
            )
        a = store_side(store, load, Selector(), "A")
        b = store_side(store, sweep, Selector(), "B")
        assert (a.kind, b.kind) == ("load", "sweep")
        with pytest.raises(ConfigError) as err:
            compare_sides(a, b)
        message = str(err.value)
        assert message.startswith("cannot compare runs of different kinds: ")
        assert f"A (run {load[:12]}) is a load run: requests sent at a set concurrency" in message
        assert f"B (run {sweep[:12]}) is a sweep run: calls at option settings" in message
        assert (
            "Compare a load run with load runs; a sweep run with sweep or optimize runs" in message
        )
        # alike kinds still compare: a load run with another, a sweep run with its own log
        assert compare_sides(a, store_side(store, _load_run(store, {0: "c=4"}), Selector(), "B"))
        (tmp_path / "sw").mkdir()
        (tmp_path / "sw" / "sweep.csv").write_text(SWEEP, encoding="utf-8")
        log = csv_side(tmp_path / "sw", Selector(), "B")
        assert log.kind == "sweep" and compare_sides(b, log)
        with pytest.raises(ConfigError, match=r"A .* is a load run.* B .* is a sweep run"):
            compare_sides(a, log)
        # a side whose kind is not known (any CSV, or built by hand) is not refused
        assert compare_sides(a, side("B", ttft_ms=[1.0, 2.0]))
