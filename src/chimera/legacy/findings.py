"""Honest findings on old results (pure): every old speedup flagged with why it is not a
measurement, figures that cannot be right, responses that answer nothing, folder names that
contradict the options, and (given the data analysed) numbers the responses made up."""

from __future__ import annotations

import re
from collections.abc import Sequence

from chimera.ingest.findings import Finding
from chimera.legacy.definitions import LEGACY_SPEEDUP_WHY, definitions_for
from chimera.legacy.records import LegacyFolder, LegacyRun

TOLERANCE = 0.01  # how far an old figure may be off its own formula (rounding)
_NOTHING = re.compile(
    r"(?i)provide (me )?(with )?the (repository|repo) context|"
    r"please (now )?provide (me with )?the|once you provide|"
    r"I need the (details|information|data|context)|"
    r"(total )?(number of )?files analy[sz]ed\W{0,6}:?\W{0,4}0\b|"
    r"no files were analy[sz]ed|zero files were analy[sz]ed|"
    r"provide (the )?(benchmark )?data (you|for)"
)


def _f(v: float | None, digits: int = 2) -> str:
    return "?" if v is None else f"{v:.{digits}f}"


def speedup_reason(folder: LegacyFolder, run: LegacyRun) -> str:
    """Why this run's old speedup is not a measurement, with its own numbers."""
    how = definitions_for(folder.fmt, folder.origin)["sequential_estimate"]
    return (
        f"legacy speedup {_f(run.legacy_speedup)}x = sequential estimate "
        f"{_f(run.sequential_estimate_s)} s / wall {_f(run.wall_s)} s, where the estimate is "
        f"the {how}; {LEGACY_SPEEDUP_WHY}"
    )


def inconsistencies(run: LegacyRun) -> list[str]:
    """Why a run's old figures cannot all be right (empty when nothing shows)."""
    out = []
    n = max(2, len(run.agents))
    s, e = run.legacy_speedup, run.efficiency_percent
    if e is not None and e > 100.0 + TOLERANCE * 100:
        out.append(f"efficiency {e:.1f}% is above 100%")
    if s is not None and s > n * (1 + TOLERANCE):
        out.append(f"speedup {s:.2f}x is above the agent count ({n})")
    if s is not None and e is not None and abs(s / n * 100 - e) > max(0.5, e * TOLERANCE):
        out.append(f"efficiency {e:.1f}% is not speedup {s:.2f}x / {n} x 100")
    seq, wall = run.sequential_estimate_s, run.wall_s
    if s is not None and seq is not None and wall and abs(seq / wall - s) > s * TOLERANCE + 0.01:
        out.append(f"speedup {s:.2f}x is not sequential {seq:.2f} s / wall {wall:.2f} s")
    for a in run.agents:
        if a.ttft_ms is not None and a.ttft_ms == 0:
            out.append(f"agent {a.agent_id}: TTFT of 0 ms")
        answered = bool(a.tokens) or bool(a.response and a.response.strip())
        if a.throughput is not None and a.throughput == 0 and answered:
            out.append(f"agent {a.agent_id}: throughput 0 tok/s on a run that answered")
        if a.throughput is not None and a.throughput == 0 and not answered:
            out.append(f"agent {a.agent_id}: throughput 0 tok/s and no answer, yet not failed")
    return out


def answers_nothing(text: str | None) -> str | None:
    """The passage showing that a response answers nothing, or None."""
    if text is None:
        return None
    if not text.strip():
        return "(empty response)"
    m = _NOTHING.search(text)
    if m is None:
        return None
    start = max(0, m.start() - 40)
    return " ".join(text[start : m.end() + 60].split())


def folder_findings(folder: LegacyFolder) -> list[Finding]:
    """Every finding on one folder, most severe first."""
    where = [folder.path]
    out: list[Finding] = []
    bad = [(r, why) for r in folder.runs if (why := inconsistencies(r))]
    if bad:
        out.append(
            Finding(
                kind="legacy_inconsistent_figures",
                severity="error",
                title=f"{len(bad)} of {len(folder.runs)} old runs in {folder.path} have figures "
                "that cannot all be right",
                files=where,
                evidence=[f"run {r.run_number}: " + "; ".join(why) for r, why in bad],
            )
        )
    speedups = [r for r in folder.runs if r.legacy_speedup is not None]
    if speedups:
        lo = min(r.legacy_speedup or 0.0 for r in speedups)
        hi = max(r.legacy_speedup or 0.0 for r in speedups)
        out.append(
            Finding(
                kind="legacy_speedup",
                severity="warning",
                title=f"{len(speedups)} old speedups ({lo:.2f}x-{hi:.2f}x, {folder.origin}) in "
                f"{folder.path} are not measurements; kept as legacy_concurrency_speedup",
                files=where,
                evidence=[f"run {r.run_number}: {speedup_reason(folder, r)}" for r in speedups],
            )
        )
    empty = [
        f"run {r.run_number} {a.agent_id}: {passage}"
        for r in folder.runs
        for a in r.agents
        if (passage := answers_nothing(a.response))
    ]
    if empty:
        out.append(
            Finding(
                kind="legacy_empty_answer",
                severity="warning",
                title=f"{len(empty)} responses in {folder.path} answer nothing (they ask for "
                "the data or say no files were analysed)",
                files=where,
                evidence=empty,
            )
        )
    out += config_mismatch(folder)
    return out


def config_mismatch(folder: LegacyFolder) -> list[Finding]:
    """The folder name's options against the options the agents were given."""
    evidence = []
    for key, named in folder.folder_config.items():
        wanted = named if isinstance(named, list) else [named]
        for r in folder.runs[:1]:
            given = [a.options.get(key) for a in r.agents if a.options.get(key) is not None]
            if given and not any(_close(g, w) for g in given for w in wanted):
                evidence.append(
                    f"{key}: the folder name says {named}, the agents were given "
                    f"{', '.join(str(g) for g in given)}"
                )
    if not evidence:
        return []
    return [
        Finding(
            kind="legacy_config_mismatch",
            severity="warning",
            title=f"the folder name {folder.path.rsplit('/', 1)[-1]!r} does not match the "
            "options the old run used (the options are stored)",
            files=[folder.path],
            evidence=evidence,
        )
    ]


def _close(a: object, b: object) -> bool:
    try:
        return abs(float(str(a)) - float(str(b))) < 1e-3
    except ValueError:
        return str(a) == str(b)


def unsupported_findings(
    folder: LegacyFolder, checked: Sequence[tuple[str, int, int, list[str]]]
) -> list[Finding]:
    """A finding from fact-checked responses: (who, claims, unsupported, examples) each."""
    bad = [(who, n, u, ex) for who, n, u, ex in checked if u]
    if not bad:
        return []
    total = sum(u for _, _, u, _ in bad)
    return [
        Finding(
            kind="legacy_unsupported_numbers",
            severity="warning",
            title=f"{total} numbers in {len(bad)} old responses in {folder.path} are not in the "
            "data they analysed",
            files=[folder.path],
            evidence=[
                f"{who}: {u} of {n} numbers unsupported, e.g. {', '.join(ex[:4])}"
                for who, n, u, ex in bad
            ],
        )
    ]
