"""``chimera run --html``: report.html and the PNGs beside report.md, which links them."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from chimera.app.run import RunSettings, run_session
from chimera.cli.app import main
from chimera.render.run import PLOT_TITLES, THROUGHPUT_PNG, TTFT_PNG

from .conftest import PageAudit

Audit = Callable[[str], PageAudit]


def settings(tmp_path: Path, paths: list[Path], **kw: object) -> RunSettings:
    return RunSettings(
        paths=paths, backend="offline", output_dir=tmp_path / "out", store=False, **kw
    )  # type: ignore[arg-type]


async def test_html_run_writes_page_and_plots(
    tmp_path: Path, hostile_dir: Path, audit: Audit
) -> None:
    outcome = await run_session(settings(tmp_path, [hostile_dir], html=True))
    out = tmp_path / "out"
    assert [f.name for f in outcome.files] == [
        "throughput.png",
        "ttft.png",
        "report.md",
        "metrics.json",
        "report.html",
    ]
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "\n## Plots\n![throughput](throughput.png)\n![ttft](ttft.png)\n\n## Fact Check" in report
    page = audit((out / "report.html").read_text(encoding="utf-8"))
    embedded = [
        base64.b64decode((v or "").split(",", 1)[1])
        for t, n, v in page.attrs
        if t == "img" and n == "src"
    ]
    assert embedded == [(out / "throughput.png").read_bytes(), (out / "ttft.png").read_bytes()]


async def test_without_html_no_page_no_plots(tmp_path: Path, hostile_dir: Path) -> None:
    outcome = await run_session(settings(tmp_path, [hostile_dir]))
    assert sorted(f.name for f in outcome.files) == ["metrics.json", "report.md"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["metrics.json", "report.md"]
    assert "## Plots" not in (tmp_path / "out" / "report.md").read_text(encoding="utf-8")


async def test_repeated_runs_each_get_their_page(tmp_path: Path, hostile_dir: Path) -> None:
    await run_session(settings(tmp_path, [hostile_dir], html=True, runs=2))
    for i in (1, 2):
        folder = tmp_path / "out" / f"run_{i}"
        assert (folder / "report.html").is_file() and (folder / "ttft.png").is_file()


def test_cli_html_flag_on_the_corpus(
    tmp_path: Path,
    corpus: Path,
    audit: Audit,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "reports"
    argv = ["chimera", "run", str(corpus), "--backend", "offline", "--html", "--no-store", "-q"]
    monkeypatch.setattr("sys.argv", [*argv, "--output-dir", str(out)])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code in (0, None)
    printed = capsys.readouterr().out
    assert re.search(r"wrote .*report\.html", printed)
    page = audit((out / "report.html").read_text(encoding="utf-8"))
    assert sum(1 for t in page.tags if t == "img") == 2
    # long evidence lists are cut in the findings table and kept whole in a folded table
    assert "... " in page.all_text and "more under All evidence" in page.all_text
    assert "All evidence and files (" in page.all_text
    alts = [v for _, n, v in page.attrs if n == "alt"]
    assert alts == [PLOT_TITLES[THROUGHPUT_PNG], PLOT_TITLES[TTFT_PNG]]
