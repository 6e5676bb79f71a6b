"""Grouping artifact observations for distribution plots."""

from __future__ import annotations

import math

from chimera.ingest.facts import Fact
from chimera.render.groups import UNKNOWN_MODEL, metric_groups


def fact(
    model: str | None,
    value: float,
    config: tuple[tuple[str, str], ...] = (),
    *,
    metric: str = "tokens_per_s",
    unit: str = "tok/s",
    origin: str = "data",
    aggregate: str | None = None,
    failed: bool = False,
) -> Fact:
    return Fact(
        source="a.csv",
        locator="row 1",
        origin=origin,
        family="a.csv",
        model=model,
        model_from="field",
        config=config,
        metric=metric,
        aggregate=aggregate,
        value=value,
        unit=unit,
        original_key=metric,
        recognized=True,
        failed=failed,
        failure=None,
        failure_kind=None,
        decimals=1,
        record=0,
    )


CTX1 = (("num_ctx", "1024"),)
CTX2 = (("num_ctx", "2048"),)


def test_groups_per_model_and_configuration() -> None:
    facts = [
        fact("m1", 10.0, CTX1),
        fact("m1", 11.0, CTX1),
        fact("m1", 20.0, CTX2),
        fact("m1", 21.0, CTX2),
        fact("m1", 30.0),
        fact("m1", 31.0),
    ]
    g = metric_groups(facts, "tokens_per_s")
    assert g.unit == "tok/s"
    assert g.groups == {
        "m1": [30.0, 31.0],
        "m1 · num_ctx=1024": [10.0, 11.0],
        "m1 · num_ctx=2048": [20.0, 21.0],
    }
    assert g.models == dict.fromkeys(g.groups, "m1")
    assert g.observations == 6 and g.omitted == 0


def test_single_runs_are_pooled_per_model() -> None:
    facts = [fact("m", float(i), (("num_gpu", str(i)),)) for i in range(5)]
    facts.append(fact("solo", 3.0, CTX1))
    g = metric_groups(facts, "tokens_per_s")
    assert g.groups == {
        "m · 5 settings, 1 run each": [0.0, 1.0, 2.0, 3.0, 4.0],
        "solo · num_ctx=1024": [3.0],
    }


def test_what_is_left_out() -> None:
    facts = [
        fact("m", 1.0),
        fact("m", 2.0),
        fact("m", 99.0, failed=True),
        fact("m", math.nan),
        fact("m", 50.0, aggregate="mean"),
        fact("m", 60.0, origin="table"),
        fact("m", 70.0, origin="prose"),
        fact("m", 0.5, metric="ttft_s", unit="s"),
        fact(None, 5.0),
        fact(None, 6.0),
        fact("m", 1000.0, unit="tok/min"),
    ]
    g = metric_groups(facts, "tokens_per_s")
    assert g.groups == {UNKNOWN_MODEL: [5.0, 6.0], "m": [1.0, 2.0]}
    assert g.other_units == 1
    assert metric_groups(facts, "latency_ms").groups == {}


def test_rows_are_capped_keeping_the_largest() -> None:
    facts = [fact(f"m{i:02d}", float(v)) for i in range(30) for v in range(2 + (i % 3))]
    g = metric_groups(facts, "tokens_per_s", max_rows=10)
    assert len(g.groups) == 10 and g.omitted == 20
    assert all(len(v) == 4 for v in g.groups.values())
    assert list(g.groups) == sorted(g.groups)
