"""The digest: deterministic, within its token budget, factual figures first."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from chimera.ingest import IngestResult, ingest_paths
from chimera.ingest.digest import DEFAULT_BUDGET_TOKENS, estimate_tokens, render_digest

Write = Callable[[str, str | bytes], Path]


def test_token_estimate_is_conservative() -> None:
    assert estimate_tokens("") == 0
    assert estimate_tokens("a" * 7) == 2 and estimate_tokens("a" * 8) == 3
    # leaves room for instructions and an answer in a 1024-token window
    assert DEFAULT_BUDGET_TOKENS <= 640


def test_digest_of_a_small_folder_has_the_figures(write: Write, tmp_path: Path) -> None:
    write(
        "r/m_runs.csv",
        "model,num_ctx,ttft_s,tokens_s\nm:1b,2048,0.10,50\nm:1b,2048,0.12,52\nm:1b,4096,0.3,40\n",
    )
    text = render_digest(ingest_paths([tmp_path]))
    assert text.startswith("Files: 1 read (CSV 1); 0 skipped; 0 duplicate copies.\n")
    assert (
        "- m:1b (3 runs): tok/s best 51 ±1.4 n=2 [ctx=2048], worst 40 [ctx=4096]; "
        "TTFT best 0.11 s" in text
    )


def test_digest_of_the_corpus_is_deterministic_and_within_budget(
    corpus_result: IngestResult,
) -> None:
    text = render_digest(corpus_result)
    assert text == render_digest(corpus_result)
    assert estimate_tokens(text) <= DEFAULT_BUDGET_TOKENS
    assert "Files: 104 read (CSV 28, JSON 44, MARKDOWN 29, TEXT 3); 2 skipped (binary 2)" in text
    assert "gemma3:270m" in text and "303.9" in text
    assert "[error] summary_mismatch x3" in text
    assert "[warning] failed_as_zeros" in text and "[warning] warmup_not_excluded" in text


@pytest.mark.parametrize("budget", [120, 300, 600, 1500])
def test_any_budget_is_respected(corpus_result: IngestResult, budget: int) -> None:
    text = render_digest(corpus_result, budget)
    assert estimate_tokens(text) <= budget
    assert text.startswith("Files: 104 read")


def test_a_bigger_budget_adds_detail_not_different_facts(corpus_result: IngestResult) -> None:
    small = render_digest(corpus_result, 600).splitlines()
    big = render_digest(corpus_result, 3000).splitlines()
    kept = [line for line in small if "more line(s) left out" not in line]
    assert all(line in big for line in kept)
    assert len(big) > len(small)
