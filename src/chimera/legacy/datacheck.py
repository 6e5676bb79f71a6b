"""Fact-check the old responses' numbers against the folder of artifacts they analysed."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from chimera.agent.factcheck import KnownNumber, check_numbers
from chimera.agent.known import known_numbers
from chimera.ingest.digest import DEFAULT_BUDGET_TOKENS, render_digest
from chimera.ingest.findings import Finding
from chimera.ingest.pipeline import ingest_paths
from chimera.legacy.findings import unsupported_findings
from chimera.legacy.records import LegacyFolder


def data_known(data: Sequence[Path]) -> list[KnownNumber]:
    """What a response about ``data`` may cite: the numbers an agent run checks against."""
    facts = ingest_paths(data)
    return known_numbers(facts, [("digest", render_digest(facts, DEFAULT_BUDGET_TOKENS))])


def check_folder(folder: LegacyFolder, known: Sequence[KnownNumber]) -> list[Finding]:
    """A finding when the folder's responses state numbers the data does not hold."""
    checked = []
    for run in folder.runs:
        for agent in run.agents:
            if not agent.response:
                continue
            result = check_numbers(agent.response, known)
            bad = result.unsupported
            checked.append(
                (
                    f"run {run.run_number} {agent.agent_id}",
                    len(result.claims),
                    len(bad),
                    [c.claim.raw for c in bad],
                )
            )
    return unsupported_findings(folder, checked)
