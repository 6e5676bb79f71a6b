"""Check every number in an LLM's text against known facts, aware of rounding, units and
percentages (pure). The rules are written out in docs/factcheck.md.

``values`` (what goes in and out), ``units``, ``grammar`` (how numbers are written and what is
not a claim), ``reading`` (the claims of a text) and ``matching`` (claims against facts).
"""

from chimera.agent.factcheck.matching import check_numbers
from chimera.agent.factcheck.reading import extract_numbers
from chimera.agent.factcheck.values import (
    CheckedClaim,
    FactCheck,
    How,
    KnownNumber,
    NumberClaim,
    Status,
)

__all__ = [
    "CheckedClaim",
    "FactCheck",
    "How",
    "KnownNumber",
    "NumberClaim",
    "Status",
    "check_numbers",
    "extract_numbers",
]
