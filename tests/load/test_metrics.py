"""Per-level figures from hand-made records (pure): rates, concurrency, goodput, honesty."""

from __future__ import annotations

import pytest

from chimera.load.metrics import distribution, summarize
from chimera.load.records import LevelRun, RequestRecord
from chimera.load.spec import LoadLevel, parse_slo


def rec(i: int, sent: float, done: float, ttft: float, **kw: object) -> RequestRecord:
    r = RequestRecord(index=i, level=0, warmup=bool(kw.pop("warmup", False)), status="ok")
    r.sent_s, r.done_s, r.ttft_ms = sent, done, ttft
    r.e2e_ms = (done - sent) * 1000
    r.output_tokens = 10
    r.itl_ms = [5.0] * 49
    r.tpot_ms = 5.0
    for k, v in kw.items():
        setattr(r, k, v)
    return r


def test_distribution_percentiles() -> None:
    d = distribution([float(v) for v in range(1, 101)])
    assert d.n == 100 and d.mean == 50.5 and d.p50 == 50.5 and d.max == 100.0
    assert d.p99 == pytest.approx(99.01) and d.p999 == pytest.approx(99.901)
    assert distribution([]).p50 is None


def test_rates_concurrency_and_tokens() -> None:
    run = LevelRun(0, LoadLevel(concurrency=2), wall_s=2.0, cpu_s=0.2)
    run.records = [
        rec(0, 0.0, 0.5, 100.0, warmup=True),
        rec(1, 0.5, 1.5, 100.0),
        rec(2, 0.5, 1.5, 100.0),
        rec(3, 1.5, 2.5, 100.0),
        rec(4, 1.5, 2.5, 300.0, status="failed", error_type="http_500", output_tokens=None),
    ]
    s = summarize(run)
    assert s.warmup_requests == 1 and s.requests_ok == 3 and s.requests_failed == 1
    assert s.failures_by_type == {"http_500": 1}
    assert s.duration_s == 2.0
    assert s.mean_concurrency == pytest.approx(4 * 1.0 / 2.0)
    assert s.output_tokens_per_s == pytest.approx(30 / 2.0)
    assert s.requests_per_s == pytest.approx(1.5)
    # a closed loop: four requests over its two-second window, what two streams of 1 s
    # requests carry (its dispatches, 3 a second, count two going out together)
    assert s.achieved_rate_rps == pytest.approx(4 / 2.0)
    assert s.ttft_ms.n == 3 and s.ttft_ms.max == 100.0  # the failed one is left out
    assert s.generator.client_cpu_percent == pytest.approx(10.0)
    assert not s.generator.saturated


def test_goodput_counts_requests_meeting_every_slo() -> None:
    run = LevelRun(0, LoadLevel(concurrency=1), wall_s=4.0)
    run.records = [
        rec(0, 0.0, 1.0, 100.0),
        rec(1, 1.0, 2.0, 900.0),  # misses ttft
        rec(2, 2.0, 3.0, 100.0, itl_ms=[5.0] * 47 + [80.0] * 2),  # its own itl p99: 80
        rec(3, 3.0, 4.0, 200.0),
    ]
    s = summarize(run, parse_slo("ttft_p99<=500ms,itl_p99<=50ms"))
    assert s.goodput_rps == pytest.approx(2 / 4.0)
    ttft, itl = s.slo
    assert ttft.target == "ttft_p99<=500ms" and not ttft.met and (ttft.observed_ms or 0) > 500
    assert itl.met  # over the level's 196 gaps, two slow ones are not its p99


def test_a_generator_that_falls_behind_is_flagged() -> None:
    run = LevelRun(0, LoadLevel(rate_rps=10.0), wall_s=1.0, cpu_s=0.97, loop_lag_ms=[1.0, 45.0])
    run.records = [
        rec(i, i * 0.1 + 0.05, i * 0.1 + 0.5, 50.0, scheduled_s=i * 0.1) for i in range(10)
    ]
    g = summarize(run).generator
    assert g.saturated
    assert g.send_lag_ms.p50 == pytest.approx(50.0)
    notes = " ".join(g.notes)
    assert "late" in notes and "event loop" in notes and "97% of a core" in notes


def test_a_generator_behind_its_own_schedule_is_flagged() -> None:
    run = LevelRun(0, LoadLevel(rate_rps=10.0), wall_s=2.0)
    # scheduled every 0.1 s, but dispatched every 0.2 s (each lag grows)
    run.records = [rec(i, i * 0.2, i * 0.2 + 0.1, 50.0, scheduled_s=i * 0.1) for i in range(10)]
    s = summarize(run)
    assert s.scheduled_rate_rps == pytest.approx(10.0) and s.achieved_rate_rps == pytest.approx(5.0)
    assert s.generator.saturated
    assert any("5.00 req/s of the 10.00 scheduled" in n for n in s.generator.notes)


def test_an_empty_level_has_no_figures() -> None:
    s = summarize(LevelRun(0, LoadLevel(concurrency=1)))
    assert s.requests_ok == 0 and s.requests_per_s is None and s.ttft_ms.n == 0


def test_an_open_loop_the_server_cannot_keep_up_with_is_over_saturated() -> None:
    def level(ttfts: list[float]) -> LevelRun:
        run = LevelRun(0, LoadLevel(rate_rps=10.0), wall_s=2.0)
        run.records = [
            rec(i, i * 0.1, i * 0.1 + t / 1000 + 0.05, t, scheduled_s=i * 0.1)
            for i, t in enumerate(ttfts)
        ]
        return run

    growing = summarize(level([50.0 + 40 * i for i in range(15)]))
    assert growing.over_saturated is not None
    assert "from 130 ms" in growing.over_saturated and "to 530 ms" in growing.over_saturated
    steady = summarize(level([50.0, 60.0, 55.0] * 5))
    assert steady.over_saturated is None
    closed = LevelRun(
        0, LoadLevel(concurrency=4), records=level([50.0 + 40 * i for i in range(15)]).records
    )
    assert summarize(closed).over_saturated is None  # a closed loop cannot over-saturate
    behind = level([50.0 + 40 * i for i in range(15)])
    behind.cpu_s = behind.wall_s  # the client used a whole core: it could not keep up
    s = summarize(behind)
    assert s.generator.saturated and s.over_saturated is None  # never the server's limit


def test_a_level_not_judged_for_over_saturation_says_so() -> None:
    def level(ttfts: list[float], load: LoadLevel) -> LevelRun:
        run = LevelRun(0, load, wall_s=2.0)
        run.records = [
            rec(i, i * 0.1, i * 0.1 + t / 1000 + 0.05, t, scheduled_s=i * 0.1)
            for i, t in enumerate(ttfts)
        ]
        return run

    open_loop = LoadLevel(rate_rps=10.0)
    steady = summarize(level([50.0, 60.0, 55.0] * 5, open_loop))
    assert steady.over_saturated is None and steady.over_saturation_checked  # judged: no
    assert summarize(level([50.0] * 15, LoadLevel(concurrency=4))).over_saturation_checked is False
    assert summarize(level([50.0] * 5, open_loop)).over_saturation_checked is False  # few
    behind = level([50.0] * 15, open_loop)
    behind.cpu_s = behind.wall_s  # a saturated generator: its TTFTs say nothing of the server
    s = summarize(behind)
    assert s.generator.saturated and not s.over_saturation_checked
    growing = summarize(level([50.0 + 40 * i for i in range(15)], open_loop))
    assert growing.over_saturated and growing.over_saturation_checked


def test_slo_met_needs_every_target_and_no_failure() -> None:
    run = LevelRun(0, LoadLevel(concurrency=1), wall_s=1.0)
    run.records = [rec(0, 0.0, 0.5, 100.0), rec(1, 0.5, 1.0, 100.0)]
    assert summarize(run, parse_slo("ttft_p99<=200ms")).slo_met is True
    assert summarize(run, parse_slo("ttft_p99<=200ms,e2e_p50<=100ms")).slo_met is False
    assert summarize(run).slo_met is None
    run.records.append(rec(2, 1.0, 1.1, 100.0, status="failed", error_type="http_500"))
    assert summarize(run, parse_slo("ttft_p99<=200ms")).slo_met is False


def test_a_closed_loops_rate_holds_when_answers_end_in_pairs() -> None:
    # two slots answering in lockstep, 1 s a request: 2 req/s whatever the count; the
    # completions' own span ((n - 1) / span: 7 / 3 s) read 17% high
    run = LevelRun(0, LoadLevel(concurrency=2), wall_s=4.0)
    run.records = [rec(i, float(i // 2), float(i // 2 + 1), 100.0) for i in range(8)]
    assert summarize(run).achieved_rate_rps == pytest.approx(2.0)
