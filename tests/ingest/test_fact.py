"""The compact Fact record behaves like the plain record it replaces."""

from __future__ import annotations

import math
import pickle

from chimera.ingest.fact import FACT_FIELDS, Fact


def _fact(value: float = 1.5, failed: bool = False, key: str = "tokens_s") -> Fact:
    return Fact(
        "a.csv",
        "row 1",
        "data",
        "runs.csv",
        "m",
        "field",
        (("num_ctx", "2048"),),
        "tokens_per_s",
        None,
        value,
        "tok/s",
        key,
        True,
        failed,
        "error: x" if failed else None,
        "error" if failed else None,
        2,
        0,
    )


def test_every_field_reads_back_in_constructor_order() -> None:
    f = _fact(failed=True)
    assert f.astuple() == tuple(getattr(f, n) for n in FACT_FIELDS)
    assert f.metric == "tokens_per_s" and f.unit == "tok/s" and f.original_key == "tokens_s"
    assert f.failed and f.failure == "error: x" and f.failure_kind == "error"
    assert f.hints == ()
    assert Fact(*f.astuple()) == f


def test_facts_of_one_column_share_their_traits() -> None:
    a, b = _fact(1.0), _fact(2.0)
    assert a.traits is b.traits  # one tuple for all the fields but the value
    assert _fact(key="tps").traits is not a.traits
    assert a.traits.original_key == "tokens_s" and a.traits.decimals == 2
    assert a != b and _fact(1.0) == a


def test_facts_of_one_model_and_configuration_share_their_setup() -> None:
    a, b = _fact(1.0), _fact(2.0, key="other")
    assert a.setup is b.setup and a.setup.config == (("num_ctx", "2048"),)
    b.model = "n"
    assert b.setup is not a.setup and (b.model, b.model_from, a.model) == ("n", "field", "m")
    b.model = "m"
    assert b.setup is a.setup


def test_assigning_a_shared_field_reinterns() -> None:
    a, b = _fact(), _fact(key="other")
    a.original_key = "other"
    assert a.traits is b.traits
    a.fail("error: y", "error")
    assert (a.failed, a.failure, a.failure_kind) == (True, "error: y", "error")
    c = _fact(key="other")
    c.fail("error: y", "error")
    assert a.traits is c.traits
    assert not b.failed and b.failure is None


def test_assignment_changes_one_fact_only() -> None:
    a, b = _fact(), _fact()
    a.failed, a.failure, a.failure_kind = True, "value is NaN/inf", "nan"
    a.metric = "ttft_s"
    a.model, a.model_from = "x", "path"
    assert (a.failed, a.failure, a.failure_kind, a.metric) == (
        True,
        "value is NaN/inf",
        "nan",
        "ttft_s",
    )
    assert (b.failed, b.failure, b.metric, b.model) == (False, None, "tokens_per_s", "m")
    assert a.row()["failure"] == "value is NaN/inf" and a.row()["model"] == "x"


def test_row_and_pickle() -> None:
    f = _fact(math.nan)
    assert f.row()["value"] == ""
    assert f.row()["config"] == "num_ctx=2048" == f.config_label
    g = pickle.loads(pickle.dumps(f))
    assert g.astuple()[:9] == f.astuple()[:9] and math.isnan(g.value)
    assert "metric='tokens_per_s'" in repr(f)
