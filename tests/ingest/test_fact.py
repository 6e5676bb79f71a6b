"""The Fact record: a plain frozen value."""

from __future__ import annotations

import dataclasses
import math
import pickle

import pytest

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


def test_a_fact_is_a_frozen_value() -> None:
    a = _fact(1.0)
    assert a == _fact(1.0) and a != _fact(2.0) and hash(a) == hash(_fact(1.0))
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.metric = "ttft_s"  # type: ignore[misc]
    assert not hasattr(a, "__dict__")  # slotted


def test_with_failure_and_with_model_make_new_facts() -> None:
    a = _fact()
    b = a.with_failure("value is NaN/inf", "nan")
    assert (b.failed, b.failure, b.failure_kind) == (True, "value is NaN/inf", "nan")
    assert (a.failed, a.failure) == (False, None)  # the original is unchanged
    c = a.with_model("x", "path")
    assert (c.model, c.model_from, a.model) == ("x", "path", "m")
    assert a.with_model("m", "field") is a  # nothing to change: the same fact
    assert b.row()["failure"] == "value is NaN/inf" and c.row()["model"] == "x"


def test_with_failure_and_with_model_keep_every_other_field() -> None:
    """They call the constructor field by field: the same as dataclasses.replace."""
    a = dataclasses.replace(_fact(), aggregate="mean", hints=(("path", "runs"),), record=7)
    assert a.with_failure("f", "zeros") == dataclasses.replace(
        a, failed=True, failure="f", failure_kind="zeros"
    )
    assert a.with_model("x", "path") == dataclasses.replace(a, model="x", model_from="path")


def test_row_and_pickle() -> None:
    f = _fact(math.nan)
    assert f.row()["value"] == ""
    assert f.row()["config"] == "num_ctx=2048" == f.config_label
    g = pickle.loads(pickle.dumps(f))
    assert g.astuple()[:9] == f.astuple()[:9] and math.isnan(g.value)
    assert "metric='tokens_per_s'" in repr(f)
