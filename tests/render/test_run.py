"""``chimera run``'s page on hostile artifacts and a hostile LLM: everything shown, nothing
live; plots per model and configuration; the run's calls and checks in tables."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

import pytest

from chimera.agent.narrate import responder
from chimera.agent.personas import INSIGHT_AGENT
from chimera.agent.spec import AgentRun
from chimera.agent.workflow import run_agent
from chimera.backends.base import GenerationRequest
from chimera.backends.offline import OfflineBackend
from chimera.ingest.pipeline import IngestResult, ingest_paths
from chimera.render.plots import png_size
from chimera.render.run import CALLS_PNG, THROUGHPUT_PNG, TTFT_PNG, render_run_html, run_plots

from .conftest import (
    EVIL_FILE,
    EVIL_MODEL,
    HOSTILE_LLM,
    IMG,
    JS_LINK,
    SCRIPT,
    HostileLLM,
    PageAudit,
    spec,
)

Audit = Callable[[str], PageAudit]


async def hostile_run(facts: IngestResult) -> AgentRun:
    async with HostileLLM() as backend:
        return await run_agent(spec(), facts, backend)


async def test_hostile_llm_and_artifacts_are_shown_as_text(hostile_dir: Path, audit: Audit) -> None:
    facts = ingest_paths([hostile_dir])
    run = await hostile_run(facts)
    assert run.status == "ok" and not run.offline
    plots = run_plots(run, facts)
    assert list(plots) == [THROUGHPUT_PNG, TTFT_PNG, CALLS_PNG]
    html = render_run_html(run, facts, plots)
    page = audit(html)
    text = page.all_text
    # The hostile strings reached the page (else this test proves nothing) as plain text:
    for needle in (SCRIPT, IMG, JS_LINK, EVIL_MODEL, f"Agent {SCRIPT}", EVIL_FILE):
        assert needle in text, needle
    assert "[y](JAVASCRIPT:alert(2))" in text  # an unsafe link stays as written
    assert '<iframe src="http://evil.example/"></iframe>' in text
    assert "[image: p] (http://evil.example/p.png)" in text
    assert "<b>" not in html and "<script" not in html.lower()
    # The model name from the artifacts is in the data-quality evidence and data summary too.
    assert f"error: {IMG} {JS_LINK}" in text
    # Every plot is embedded, byte for byte, as a data: URI.
    srcs = [v for t, n, v in page.attrs if t == "img" and n == "src"]
    assert [base64.b64decode((s or "").split(",", 1)[1]) for s in srcs] == list(plots.values())


async def test_offline_narrator_over_hostile_facts(hostile_dir: Path, audit: Audit) -> None:
    facts = ingest_paths([hostile_dir])
    async with OfflineBackend(responder=responder(facts, INSIGHT_AGENT)) as backend:
        run = await run_agent(spec(), facts, backend)
    assert run.offline
    plots = run_plots(run, facts)
    assert list(plots) == [THROUGHPUT_PNG, TTFT_PNG]  # no call plot: no inference measured
    page = audit(render_run_html(run, facts, plots))
    assert EVIL_MODEL in (run.report_body or "") and EVIL_MODEL in page.all_text
    assert "No LLM was used (offline narrator)" in page.all_text


async def test_metrics_and_fact_check_tables(hostile_dir: Path, audit: Audit) -> None:
    facts = ingest_paths([hostile_dir])
    run = await hostile_run(facts)
    html = render_run_html(run, facts, {})
    text = audit(html).all_text
    assert "1. analysis" in text and "2. report" in text and "All calls" in text
    assert "Numbers not found in the facts" in text and "987.6 tok/s" in text
    assert ">Plots</h2>" not in html and "<figure>" not in html  # no plots, no section


async def test_plots_follow_the_artifacts(hostile_dir: Path) -> None:
    facts = ingest_paths([hostile_dir])
    run = await hostile_run(facts)
    plots = run_plots(run, facts)
    # two groups (model x configuration) of 6 plus the JSON's single run pooled per model
    assert png_size(plots[THROUGHPUT_PNG])[1] == round((1.1 + 0.36 * 3) * 100)
    assert run_plots(run, facts) == plots  # deterministic


async def test_no_artifact_measurements_no_distribution_plots(tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text("# Notes\n\nNothing measured here.\n", encoding="utf-8")
    facts = ingest_paths([tmp_path])
    run = await hostile_run(facts)
    assert list(run_plots(run, facts)) == [CALLS_PNG]


@pytest.mark.parametrize("failing", ["analysis", "report"])
async def test_failed_call_is_rendered(hostile_dir: Path, audit: Audit, failing: str) -> None:
    from chimera.errors import BackendError

    def respond(request: GenerationRequest) -> str:
        if request.purpose == failing:
            raise BackendError(f"server gone {SCRIPT}", url="http://127.0.0.1:9")
        return HOSTILE_LLM

    facts = ingest_paths([hostile_dir])

    class Dying(OfflineBackend):
        kind: ClassVar[str] = "fake"

    async with Dying(responder=respond) as backend:
        run = await run_agent(spec(), facts, backend)
    assert run.status == "failed"
    text = audit(render_run_html(run, facts, run_plots(run, facts))).all_text
    assert f"This run failed: {failing} call failed: server gone {SCRIPT}" in text
    assert f"failed: server gone {SCRIPT}" in text  # the call's row in the metrics table


@pytest.mark.parametrize(
    "live",
    [
        SCRIPT,
        IMG,
        '<a href="javascript:alert(1)">x</a>',
        '<a href="https://evil.example/">x</a>',
        '<img src="http://evil.example/p.png">',
        '<p style="background:url(http://evil.example/)">x</p>',
        '<iframe src="data:text/html,x"></iframe>',
        "<style>body{}</style>",
    ],
)
async def test_the_audit_catches_live_markup(hostile_dir: Path, audit: Audit, live: str) -> None:
    facts = ingest_paths([hostile_dir])
    html = render_run_html(await hostile_run(facts), facts, {})
    audit(html)
    with pytest.raises(AssertionError):
        audit(html.replace("</main>", live + "</main>"))
