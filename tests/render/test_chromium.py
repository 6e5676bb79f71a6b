"""The page in a real browser (headless Chromium, Debian package ``chromium``): it loads with no
console error, no blocked or outgoing request, no dialog, and every plot decodes.

The browser is driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``: fd 3
in, fd 4 out, NUL-separated JSON), so no port is opened. Skipped when Chromium is absent.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest

from chimera.agent.workflow import run_agent
from chimera.ingest.pipeline import ingest_paths
from chimera.render.html import Image, Section, html_page, write_html
from chimera.render.plots import plot_bars
from chimera.render.run import render_run_html, run_plots

from .conftest import HostileLLM, PageAudit, spec


def _find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        if found := shutil.which(name):
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


CHROMIUM = _find_chromium()
# About 1.5 s per page (browser start included): fast enough to run by default.
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed (Debian: apt install chromium)"
)
FLAGS = (
    "--headless",
    "--no-sandbox",  # tests may run as root in a container
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--no-first-run",
    "--no-default-browser-check",
    "--mute-audio",
    "--remote-debugging-pipe",
)
TIMEOUT_S = 60.0


class Browser:
    """A DevTools client on the browser's pipe: commands, and every event kept in order."""

    def __init__(self, pid: int, to_browser: int, from_browser: int) -> None:
        self.pid, self.wfd, self.rfd = pid, to_browser, from_browser
        self.buffer = b""
        self.events: list[dict[str, Any]] = []
        self.next_id = 0

    def _read(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.rfd], [], [], left)[0]:
                raise TimeoutError("Chromium did not answer in time")
            chunk = os.read(self.rfd, 1 << 16)
            if not chunk:
                raise EOFError("Chromium closed its DevTools pipe")
            self.buffer += chunk
        raw, self.buffer = self.buffer.split(b"\0", 1)
        message: dict[str, Any] = json.loads(raw)
        return message

    def send(
        self, method: str, params: dict[str, Any] | None = None, session: str | None = None
    ) -> dict[str, Any]:
        self.next_id += 1
        message: dict[str, Any] = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.wfd, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            got = self._read(deadline)
            if got.get("id") == self.next_id:
                if "error" in got:
                    raise RuntimeError(f"{method}: {got['error']}")
                result: dict[str, Any] = got.get("result", {})
                return result
            self.events.append(got)

    def wait_for(self, method: str, session: str) -> None:
        deadline = time.monotonic() + TIMEOUT_S
        seen = lambda e: e.get("method") == method and e.get("sessionId") == session  # noqa: E731
        while not any(seen(e) for e in self.events):
            self.events.append(self._read(deadline))

    def drain(self, seconds: float) -> None:
        """Collect whatever arrives in the next ``seconds`` (late console messages, say)."""
        deadline = time.monotonic() + seconds
        try:
            while True:
                self.events.append(self._read(deadline))
        except TimeoutError:
            return


@contextmanager
def chromium(profile: Path) -> Iterator[Browser]:
    to_r, to_w = os.pipe()
    from_r, from_w = os.pipe()
    actions = [
        (os.POSIX_SPAWN_DUP2, to_r, 3),
        (os.POSIX_SPAWN_DUP2, from_w, 4),
        (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
        (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0),
    ]
    argv = [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", "about:blank"]
    # its own process group, so the browser's helpers go when it does
    pid = os.posix_spawn(str(CHROMIUM), argv, dict(os.environ), file_actions=actions, setpgroup=0)
    os.close(to_r)
    os.close(from_w)
    browser = Browser(pid, to_w, from_r)
    try:
        yield browser
    finally:
        with suppress(OSError, EOFError, TimeoutError, RuntimeError):
            browser.send("Browser.close")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and os.waitpid(pid, os.WNOHANG) == (0, 0):
            time.sleep(0.05)
        try:
            os.killpg(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        os.close(to_w)
        os.close(from_r)


def load(page: Path, profile: Path) -> dict[str, Any]:
    """Open ``page``; what happened: requests, console/log errors, exceptions, dialogs, images."""
    with chromium(profile) as b:
        target = b.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = b.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        for domain in ("Page", "Network", "Runtime", "Log"):
            b.send(f"{domain}.enable", session=session)
        url = page.resolve().as_uri()
        b.send("Page.navigate", {"url": url}, session=session)
        b.wait_for("Page.loadEventFired", session)
        b.drain(0.5)
        probe = (
            "JSON.stringify({scripts: document.scripts.length, "
            "images: [...document.images].map(i => [i.complete, i.naturalWidth]), "
            "title: document.title, sections: document.querySelectorAll('section').length})"
        )
        dom = b.send(
            "Runtime.evaluate", {"expression": probe, "returnByValue": True}, session=session
        )
        events = [e for e in b.events if e.get("sessionId") == session]

    def of(method: str) -> list[dict[str, Any]]:
        return [e["params"] for e in events if e.get("method") == method]

    requests = [p["request"]["url"] for p in of("Network.requestWillBeSent")]
    return {
        "url": url,
        "outside": [u for u in requests if u != url and not u.startswith("data:")],
        "failed": list(of("Network.loadingFailed")),
        "log": [
            p["entry"] for p in of("Log.entryAdded") if p["entry"]["level"] in ("error", "warning")
        ],
        "console": list(of("Runtime.consoleAPICalled")),
        "exceptions": of("Runtime.exceptionThrown"),
        "dialogs": of("Page.javascriptDialogOpening"),
        "dom": json.loads(dom["result"]["value"]),
    }


def assert_clean(seen: dict[str, Any]) -> None:
    assert seen["outside"] == [], seen["outside"]
    assert seen["failed"] == []
    assert seen["log"] == []
    assert seen["console"] == []
    assert seen["exceptions"] == []
    assert seen["dialogs"] == []  # no alert() ran
    assert seen["dom"]["scripts"] == 0


async def test_hostile_report_loads_clean(
    tmp_path: Path, hostile_dir: Path, audit: Callable[[str], PageAudit]
) -> None:
    facts = ingest_paths([hostile_dir])
    async with HostileLLM() as backend:
        run = await run_agent(spec(), facts, backend)
    plots = run_plots(run, facts)
    html = render_run_html(run, facts, plots)
    audit(html)
    page = write_html(tmp_path / "report.html", html)
    seen = load(page, tmp_path / "profile")
    assert_clean(seen)
    assert seen["dom"]["title"] == run.spec.label  # the hostile label, as text
    assert len(seen["dom"]["images"]) == len(plots) == 3
    assert all(done and width > 0 for done, width in seen["dom"]["images"])  # data: PNGs decode
    assert seen["dom"]["sections"] >= 8


def test_the_check_sees_a_blocked_request_and_a_script(tmp_path: Path) -> None:
    # The same check on a page that breaks the rules must fail, or it proves nothing.
    png = plot_bars(["a"], [1.0], None, "t", "x")
    good = html_page("ok", [Section("S", images=[Image(png, alt="a")])])
    bad = good.replace(
        "</main>",
        '<img src="http://127.0.0.1:9/x.png"><script>alert(1)</script></main>',
    )
    page = write_html(tmp_path / "bad.html", bad)
    seen = load(page, tmp_path / "profile")
    assert seen["dialogs"] == []  # the CSP stopped the inline script ...
    assert seen["dom"]["scripts"] == 1
    assert seen["outside"] == ["http://127.0.0.1:9/x.png"]  # ... and the outside image
    assert [f["blockedReason"] for f in seen["failed"]] == ["csp"]
    blocked = " ".join(e["text"] for e in seen["log"])
    assert "img-src data:" in blocked and "inline script" in blocked
    with pytest.raises(AssertionError):
        assert_clean(seen)
