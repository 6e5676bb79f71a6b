"""The JSON documents an agent run is written as: ``metrics.json`` (every call with its
prompt, response and metrics; timings; the digest, fact sheet and structured analysis) and,
over repeated runs, ``summary.json`` (pure)."""

from __future__ import annotations

from typing import Any

from chimera import __version__
from chimera.agent.spec import AgentRun
from chimera.calls import call_totals
from chimera.ingest.pipeline import IngestResult
from chimera.stats import describe
from chimera.system import system_info


def metrics_document(run: AgentRun, facts: IngestResult, run_id: str | None) -> dict[str, Any]:
    """metrics.json: every call with its prompt, response and metrics; timings; the digest."""
    spec = run.spec
    return {
        "chimera_version": __version__,
        "store_run_id": run_id,
        "agent": {
            "id": spec.agent_id,
            "label": spec.label,
            "persona": spec.persona.name,
            "model": spec.model,
            "backend": run.backend,
            "url": run.url,
            "options": spec.options.set_options(),
            "configuration": spec.options.legacy_line(),
        },
        "status": run.status,
        "error": run.error,
        "note": run.note,
        "offline": run.offline,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "timings_s": run.timings.model_dump(),
        "totals": call_totals([r.metrics for r in run.results()]).model_dump(),
        "calls": [
            {
                "stage": c.stage,
                "messages": [m.model_dump() for m in c.messages],
                "response": c.result.text if c.result else None,
                "done_reason": c.result.done_reason if c.result else None,
                "started_at": c.result.started_at if c.result else None,
                "endpoint": c.result.endpoint if c.result else None,
                "metrics": c.result.metrics.model_dump() if c.result else None,
                "error": c.error,
                "error_type": c.error_type,
            }
            for c in run.calls
        ],
        "factcheck": run.factcheck.model_dump(mode="json") if run.factcheck else None,
        "junk": run.junk,
        "quality": run.quality.model_dump() if run.quality else None,
        "digest": run.digest,
        "digest_budget_tokens": run.digest_budget_tokens,
        "factsheet": run.factsheet,
        "analysis": analysis_document(run),
        "ingest": {
            "files": facts.inventory.ingested,
            "skipped": facts.inventory.skipped,
            "measurements": len(facts.facts),
            "findings": len(facts.findings),
            "timings_s": facts.timings_s,
        },
        "system": system_info(),
    }


def analysis_document(run: AgentRun) -> dict[str, Any] | None:
    """The structured analysis as metrics.json and the store keep it: the shape asked for
    and the one the findings came from (json, lines or narrator), who wrote the body, the
    findings with their fact ids, the recommendations, what was rejected and why, and what
    the narrator wrote instead."""
    if run.structured is None:
        return None
    return {
        "shape_asked": run.analysis_shape,  # "shape" is what the findings came from
        "report_mode": run.report_mode,
        "model_parameters": run.model_parameters,
        **run.structured.model_dump(mode="json"),
    }


def summary_document(runs: list[AgentRun]) -> dict[str, Any]:
    """Across repeated runs: mean and standard deviation of each headline figure."""

    def spread(values: list[float]) -> dict[str, float | int | None]:
        d = describe(values)
        return {"n": d.n, "mean": d.mean, "std": d.std}

    totals = [call_totals([r.metrics for r in run.results()]) for run in runs]
    return {
        "runs": len(runs),
        "failed": sum(1 for r in runs if r.status != "ok"),
        "decode_tokens_per_s": spread(
            [t.decode_tokens_per_s for t in totals if t.decode_tokens_per_s is not None]
        ),
        "ttft_ms": spread([t.ttft_ms for t in totals if t.ttft_ms is not None]),
        "total_s": spread([r.timings.total_s for r in runs]),
        "grounded_ratio": spread(
            [
                r.factcheck.grounded_ratio
                for r in runs
                if r.factcheck and r.factcheck.grounded_ratio is not None
            ]
        ),
        "quality": spread([r.quality.total for r in runs if r.quality]),
    }
