"""The old multi-agent demos' results in a tree: named in a finding (their speedup is never a
measurement; ``chimera import`` loads them judged), and Chimera's own summaries, which reuse
the old field names for measured figures, read under Chimera's meaning."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from chimera.ingest.findings import FileView, Finding

LEGACY_METRICS = frozenset({"legacy_concurrency_speedup", "legacy_efficiency_percent"})
# the old names as Chimera's own summary.json uses them, for measured figures
_CHIMERA_NAMES = {
    "legacy_concurrency_speedup": "concurrency_speedup",
    "legacy_efficiency_percent": "efficiency_percent",
}


def _chimera_file(view: FileView) -> bool:
    return "chimera_version" in view.schema


def relabel_chimera(views: Sequence[FileView]) -> None:
    """In Chimera's own files (they carry chimera_version), concurrency_speedup and
    efficiency_percent are measured: their facts take Chimera's names back."""
    for view in views:
        if not _chimera_file(view):
            continue
        view.facts = [
            replace(f, metric=name)
            if (name := _CHIMERA_NAMES.get(f.metric)) is not None
            and not f.original_key.startswith("legacy")
            else f
            for f in view.facts
        ]


def legacy_results(views: Sequence[FileView]) -> list[Finding]:
    """One finding naming the files that hold the old demos' speedups, with a few figures."""
    files: list[str] = []
    evidence: list[str] = []
    for view in views:
        if _chimera_file(view):
            continue
        speedups = [
            f.value
            for f in view.facts
            if f.metric == "legacy_concurrency_speedup" and f.aggregate is None
        ]
        if not speedups:
            continue
        files.append(view.path)
        shown = ", ".join(f"{v:.2f}x" for v in speedups[:4])
        more = f" (+{len(speedups) - 4} more)" if len(speedups) > 4 else ""
        evidence.append(f"{view.path}: legacy speedup {shown}{more}")
    if not files:
        return []
    return [
        Finding(
            kind="legacy_results",
            severity="warning",
            title=f"{len(files)} files hold old demo results: their concurrency_speedup is "
            "the legacy speedup (agents' times together summed / wall time), never a "
            "measurement; `chimera import` loads them with findings",
            files=files,
            evidence=evidence,
        )
    ]
