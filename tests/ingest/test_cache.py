"""The parse cache: reuse while a file's stat is unchanged, rebuild on any doubt, never fail."""

from __future__ import annotations

import json
import logging
import os
import pickle
from pathlib import Path

import pytest

from chimera.ingest import cache as cache_mod
from chimera.ingest import ingest_paths
from chimera.ingest import walk as walk_mod
from chimera.ingest.cache import ParseCache
from chimera.ingest.export import result_json
from chimera.ingest.settings import IngestSettings

CSV = "model,tokens_per_s,ttft_s\ngemma3:270m,100.5,0.2\ngemma3:270m,102.5,0.21\n"
REPORT = "# Gemma\n\nModel: gemma3:270m\n\n- Throughput: 101.5 tok/s\n- TTFT: 0.2 s\n"


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A small tree whose files count as settled at once (no racy window)."""
    monkeypatch.setattr(walk_mod, "RACY_WINDOW_NS", 0)
    monkeypatch.setenv("CHIMERA_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "data"
    (root / "runs").mkdir(parents=True)
    (root / "runs" / "gemma.csv").write_text(CSV)
    (root / "report.md").write_text(REPORT)
    (root / "broken.json").write_text('{"model": "x", "tokens_per_s": ')
    return root


def _snapshot(root: Path, settings: IngestSettings | None = None) -> tuple[str, int]:
    r = ingest_paths([root], settings or IngestSettings(), cwd=root)
    facts = [f.astuple() for f in r.facts]
    return json.dumps(result_json(r), sort_keys=True, default=str) + repr(facts), r.cached_files


def _cache_files(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "cache").glob("ingest-*.pickle"))


def test_a_second_ingest_reuses_every_parse_with_the_same_result(
    tree: Path, tmp_path: Path
) -> None:
    cold, hits = _snapshot(tree)
    assert hits == 0
    warm, hits = _snapshot(tree)
    assert hits == 3  # two files and the malformed JSON's skip
    assert warm == cold
    no_cache, hits = _snapshot(tree, IngestSettings(cache=False))
    assert (no_cache, hits) == (cold, 0)
    (cache_file,) = _cache_files(tmp_path)
    assert cache_file.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "cache").stat().st_mode & 0o777 == 0o700


def test_a_skip_from_the_cache_names_the_file_as_displayed_now(tree: Path) -> None:
    ingest_paths([tree], cwd=tree)
    r = ingest_paths([tree], cwd=tree.parent)  # another base: other display paths
    assert r.cached_files == 3
    assert [(s.path, s.reason) for s in r.skipped] == [("data/broken.json", "malformed")]
    assert r.artifacts[0].path.startswith("data/")


def test_a_changed_file_is_read_again_even_with_the_same_size(tree: Path) -> None:
    ingest_paths([tree], cwd=tree)
    csv_path = tree / "runs" / "gemma.csv"
    before = csv_path.stat()
    csv_path.write_text(CSV.replace("100.5", "200.5"))
    os.utime(csv_path, ns=(before.st_atime_ns, before.st_mtime_ns))  # as `cp -p` would leave it
    assert csv_path.stat().st_size == before.st_size
    r = ingest_paths([tree], cwd=tree)
    assert r.cached_files == 2  # the report and the skip; the CSV's ctime moved
    values = sorted(f.value for f in r.facts if f.metric == "tokens_per_s" and f.origin == "data")
    assert values == [102.5, 200.5]


def test_a_file_changed_just_before_the_walk_is_not_cached(
    tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(walk_mod, "RACY_WINDOW_NS", 3600 * 10**9)  # everything is "just changed"
    ingest_paths([tree], cwd=tree)
    assert ingest_paths([tree], cwd=tree).cached_files == 0
    assert not _cache_files(tmp_path)  # nothing worth saving


def test_deleted_files_leave_the_cache(tree: Path, tmp_path: Path) -> None:
    ingest_paths([tree], cwd=tree)
    (tree / "report.md").unlink()
    assert ingest_paths([tree], cwd=tree).cached_files == 2
    cache = ParseCache.open([tree], IngestSettings())
    assert cache is not None
    assert len(cache._old) == 2


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"not a pickle at all",
        pickle.dumps(("chimera-parse-cache", "old header"))[:-3],  # torn write
        pickle.dumps(("another", {"x": 1})),
    ],
)
def test_a_corrupt_or_stale_cache_file_is_rebuilt(
    tree: Path, tmp_path: Path, content: bytes
) -> None:
    cold, _ = _snapshot(tree)
    (cache_file,) = _cache_files(tmp_path)
    cache_file.write_bytes(content)
    again, hits = _snapshot(tree)
    assert (again, hits) == (cold, 0)
    assert _snapshot(tree) == (cold, 3)  # rebuilt


class _Boom:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("touch pwned",))


def test_a_planted_pickle_cannot_run_code(
    tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest_paths([tree], cwd=tree)
    (cache_file,) = _cache_files(tmp_path)
    cache_file.write_bytes(pickle.dumps(_Boom()))
    monkeypatch.chdir(tmp_path)
    assert ingest_paths([tree], cwd=tree).cached_files == 0
    assert not (tmp_path / "pwned").exists()


def test_a_cache_file_others_can_write_is_ignored(
    tree: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ingest_paths([tree], cwd=tree)
    (cache_file,) = _cache_files(tmp_path)
    cache_file.chmod(0o666)
    with caplog.at_level(logging.WARNING, logger="chimera.ingest.cache"):
        assert ingest_paths([tree], cwd=tree).cached_files == 0
    assert "others can write it" in caplog.text


def test_a_cache_that_cannot_be_written_does_not_stop_ingestion(
    tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache directory should be")
    monkeypatch.setenv("CHIMERA_CACHE_DIR", str(blocker / "cache"))
    with caplog.at_level(logging.WARNING, logger="chimera.ingest.cache"):
        r = ingest_paths([tree], cwd=tree)
    assert len(r.artifacts) == 2
    assert "parse cache not saved" in caplog.text


def test_other_settings_or_roots_use_another_cache_file(tree: Path, tmp_path: Path) -> None:
    ingest_paths([tree], cwd=tree)
    r = ingest_paths([tree], IngestSettings(max_line_chars=500), cwd=tree)
    assert r.cached_files == 0  # the parse depends on the settings
    r = ingest_paths([tree / "runs"], cwd=tree)
    assert r.cached_files == 0
    assert len(_cache_files(tmp_path)) == 3
    assert ingest_paths([tree], cwd=tree).cached_files == 3  # the first is still there


def test_the_oldest_cache_files_are_pruned(
    tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache_mod, "MAX_CACHE_FILES", 2)
    for limit in (200, 300, 400):
        ingest_paths([tree], IngestSettings(max_line_chars=limit), cwd=tree)
    assert len(_cache_files(tmp_path)) == 2
    assert ingest_paths([tree], IngestSettings(max_line_chars=200), cwd=tree).cached_files == 0
    assert ingest_paths([tree], IngestSettings(max_line_chars=400), cwd=tree).cached_files == 3


def test_big_trees_read_in_parallel_are_not_cached(tree: Path, tmp_path: Path) -> None:
    settings = IngestSettings(parallel_min_files=2)
    ingest_paths([tree], settings, cwd=tree)
    assert ingest_paths([tree], settings, cwd=tree).cached_files == 0
    assert not _cache_files(tmp_path)


def test_big_files_and_files_past_the_budget_are_not_cached(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tree / "big.csv").write_text(CSV + "gemma3:270m,101.0,0.2\n" * 200)  # ~4.5 KB
    monkeypatch.setattr(cache_mod, "MAX_ENTRY_BYTES", 4096)
    ingest_paths([tree], cwd=tree)
    assert ingest_paths([tree], cwd=tree).cached_files == 3  # not big.csv
    monkeypatch.setattr(cache_mod, "MAX_ENTRY_BYTES", 2**20)
    # within the size limit now, but past the budget the other files leave
    monkeypatch.setattr(cache_mod, "BUDGET_BYTES", (tree / "big.csv").stat().st_size - 1)
    assert ingest_paths([tree], cwd=tree).cached_files == 3
    assert ingest_paths([tree], cwd=tree).cached_files == 3
    monkeypatch.setattr(cache_mod, "BUDGET_BYTES", 8 * 2**20)
    ingest_paths([tree], cwd=tree)
    assert ingest_paths([tree], cwd=tree).cached_files == 4
