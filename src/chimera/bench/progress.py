"""Progress of a multi-agent session as an injected observer; ``None`` runs headless.

The engine calls the observer; it never prints. ``RichProgress`` shows a live table per agent
and run on a rich console (stderr by default).
"""

from __future__ import annotations

import time
from typing import Protocol

from rich.console import Console, Group
from rich.live import Live
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from chimera.bench.results import MultiAgentOutcome, Phase, RunRecord
from chimera.bench.scenarios import ScenarioSpec

PHASES: tuple[Phase, ...] = ("alone", "together")


class MultiAgentObserver(Protocol):
    """What the engine reports while it runs."""

    def session_started(self, scenario: ScenarioSpec, runs: int, warmup: int) -> None: ...

    def phase_started(self, run: str, phase: Phase) -> None:
        """``run`` names the run (``run 2/3``, ``warm-up 1/1``)."""

    def agent_stage(self, agent_id: str, phase: Phase, stage: str) -> None:
        """``stage``: analysis, report, check, then ok or failed."""

    def run_finished(self, record: RunRecord) -> None: ...

    def note(self, message: str) -> None: ...

    def session_finished(self, outcome: MultiAgentOutcome) -> None:
        """Called once at the end, also when the session was interrupted."""


class NullObserver:
    """Does nothing: the headless observer."""

    def session_started(self, scenario: ScenarioSpec, runs: int, warmup: int) -> None:
        return None

    def phase_started(self, run: str, phase: Phase) -> None:
        return None

    def agent_stage(self, agent_id: str, phase: Phase, stage: str) -> None:
        return None

    def run_finished(self, record: RunRecord) -> None:
        return None

    def note(self, message: str) -> None:
        return None

    def session_finished(self, outcome: MultiAgentOutcome) -> None:
        return None


class RichProgress(NullObserver):
    """A live table: one row per agent with its stage and times alone and together."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True, highlight=False)
        self.outcome: MultiAgentOutcome | None = None
        self._live: Live | None = None
        self._title = ""
        self._run = ""
        self._phase: Phase = "alone"
        self._ids: list[str] = []
        self._stage: dict[tuple[str, Phase], str] = {}
        self._started: dict[tuple[str, Phase], float] = {}
        self._done_s: dict[tuple[str, Phase], float] = {}
        self._lines: list[str] = []

    def __enter__(self) -> RichProgress:
        self._live = Live(
            self._render(), console=self.console, refresh_per_second=4, transient=False
        )
        self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.update(self._render(), refresh=True)
            self._live.__exit__(None, None, None)
            self._live = None

    def _refresh(self) -> None:
        if self._live is not None:
            self._live.update(self._render())

    def _render(self) -> Group:
        table = Table(box=None, expand=False)
        for col in ("agent", "alone", "together"):
            table.add_column(col)
        now = time.perf_counter()
        for agent_id in self._ids:
            cells = []
            for phase in PHASES:
                key = (agent_id, phase)
                stage = self._stage.get(key, "")
                if key in self._done_s:
                    style = "green" if stage == "ok" else "red"
                    cells.append(f"[{style}]{stage}[/] {self._done_s[key]:.2f}s")
                elif key in self._started:
                    cells.append(f"{stage} {now - self._started[key]:.1f}s")
                else:
                    cells.append("[dim]waiting[/]")
            table.add_row(escape(agent_id), *cells)
        head = escape(self._title)
        if self._run:
            head += f" · [bold]{escape(self._run)}[/], agents {self._phase}"
        lines = (Text.from_markup(line) for line in self._lines[-8:])
        return Group(Text.from_markup(head), table, *lines)

    def session_started(self, scenario: ScenarioSpec, runs: int, warmup: int) -> None:
        self._ids = [a.agent_id for a in scenario.agents]
        extra = f" + {warmup} warm-up" if warmup else ""
        self._title = f"{scenario.name}: {len(self._ids)} agents, {runs} runs{extra}"
        self._refresh()

    def phase_started(self, run: str, phase: Phase) -> None:
        self._run, self._phase = run, phase
        for agent_id in self._ids:
            self._stage.pop((agent_id, phase), None)
            self._started.pop((agent_id, phase), None)
            self._done_s.pop((agent_id, phase), None)
        self._refresh()

    def agent_stage(self, agent_id: str, phase: Phase, stage: str) -> None:
        key = (agent_id, phase)
        if stage in ("ok", "failed"):
            self._done_s[key] = time.perf_counter() - self._started.get(key, time.perf_counter())
        else:
            self._started.setdefault(key, time.perf_counter())
        self._stage[key] = stage
        self._refresh()

    def run_finished(self, record: RunRecord) -> None:
        fig = record.figures
        if fig is None:
            line = f"{record.name}: [red]failed[/] ({escape(', '.join(record.failed_agents))})"
        else:
            contention = "[yellow]contention[/]" if fig.contention else "no contention"
            line = (
                f"{record.name}: speedup {fig.concurrency_speedup:.2f}x, efficiency "
                f"{fig.efficiency_percent:.1f}%, {contention}"
            )
        self._lines.append(line + (" (warm-up, excluded)" if record.warmup else ""))
        self._refresh()

    def note(self, message: str) -> None:
        self._lines.append(f"[yellow]note:[/] {escape(message)}")
        self._refresh()

    def session_finished(self, outcome: MultiAgentOutcome) -> None:
        self.outcome = outcome
        self._refresh()
