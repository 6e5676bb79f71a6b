"""Trace files: timestamped requests, replayed on schedule; a bad line named."""

from __future__ import annotations

from pathlib import Path

import pytest

from chimera.backends.base import EndpointSettings, create_backend
from chimera.errors import ConfigError
from chimera.load.plan import FixedPlan, execute_plan
from chimera.load.prompts import INSTRUCTION, Calibration, PromptEntry, Prompts, calibrate
from chimera.load.spec import LoadLevel, LoadSpec
from chimera.load.trace import read_trace
from chimera.options import InferenceOptions
from chimera.testing import TestServer

TRACE = """\
{"timestamp": 100.0, "input_tokens": 30, "output_tokens": 4}
{"timestamp": 100.05, "input_tokens": 60, "output_tokens": 6}

{"timestamp": 100.1, "prompt": "Say hi.", "output_tokens": 2}
{"timestamp": 100.3, "messages": [{"role": "user", "content": "Count."}]}
{"timestamp": 100.3, "input_tokens": 45}
"""


def test_a_trace_reads_as_offsets_and_requests(tmp_path: Path) -> None:
    f = tmp_path / "t.jsonl"
    f.write_text(TRACE, encoding="utf-8")
    trace = read_trace(f)
    assert trace.offsets_s == pytest.approx([0.0, 0.05, 0.1, 0.3, 0.3])
    sizes = [(e.synthetic, e.input_tokens, e.output_tokens) for e in trace.entries]
    assert sizes == [(True, 30, 4), (True, 60, 6), (False, None, 2), (False, None, None),
                     (True, 45, None)]  # fmt: skip


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ('{"input_tokens": 5}', "timestamp must be a number"),
        ('{"timestamp": "soon", "input_tokens": 5}', "timestamp must be a number"),
        ('{"timestamp": 0.5, "input_tokens": 5}', "goes back before 1"),
        ('{"timestamp": 2, "input_tokens": -1}', "input_tokens must be a positive integer"),
        ("{", "line 2"),
        ("[1, 2]", "the line is an array, not a JSON object"),
        ("3", "the line is a number, not a JSON object"),
        ('"x"', "the line is a string, not a JSON object"),
        (
            '{"timestamp": 2, "input_tokens": 8, "outptu_tokens": 5}',
            "unknown key 'outptu_tokens'; the keys allowed are timestamp, prompt, messages, "
            "input_tokens, output_tokens, max_tokens",
        ),
        ('{"timestamp": 2, "prompt": "a", "id": 7, "user": "u"}', "unknown keys 'id', 'user'"),
    ],
)
def test_a_bad_trace_line_is_named(tmp_path: Path, line: str, why: str) -> None:
    f = tmp_path / "t.jsonl"
    f.write_text('{"timestamp": 1, "prompt": "a"}\n' + line + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=why) as info:
        read_trace(f)
    assert f"{f} line 2" in str(info.value) and info.value.exit_code == 2


def test_a_line_with_only_a_timestamp_is_a_synthetic_prompt_of_the_runs_sizes(
    tmp_path: Path,
) -> None:
    f = tmp_path / "t.jsonl"
    f.write_text('{"timestamp": 0}\n{"timestamp": 1, "input_tokens": 9}\n', encoding="utf-8")
    entries = read_trace(f).entries
    assert entries[0] == PromptEntry(None, None, None, None) and entries[0].synthetic
    prompts = Prompts(
        "tiny:latest", InferenceOptions(num_predict=7), input_tokens=20, nonce=None,
        calibration=Calibration(1.0, 0.0, True, ""), entries=entries,
    )  # fmt: skip
    first, second = prompts.request(0), prompts.request(1)
    assert first.options.num_predict == 7  # --output-tokens
    assert first.messages is not None and second.messages is not None
    # --input-tokens 20: the instruction and 20 words; the second line's own 9
    instruction = len(INSTRUCTION.split())
    assert len(first.messages[0].content.split()) == instruction + 20
    assert len(second.messages[0].content.split()) == instruction + 9


async def test_a_trace_is_replayed_at_its_timestamps_with_its_sizes(tmp_path: Path) -> None:
    f = tmp_path / "t.jsonl"
    f.write_text(TRACE, encoding="utf-8")
    trace = read_trace(f)
    spec = LoadSpec(levels=(LoadLevel(trace=True),), trace_file=f, output_tokens=8)
    prompts = Prompts(
        "tiny:latest", InferenceOptions(num_predict=8), input_tokens=20, nonce="tr",
        entries=trace.entries,
    )  # fmt: skip
    async with (
        TestServer(token_interval_ms=1) as srv,
        create_backend(EndpointSettings(url=srv.url)) as backend,
    ):
        prompts.calibration = await calibrate(backend, prompts)
        (run,), _ = await execute_plan(
            backend, prompts, spec, FixedPlan(spec.levels), trace=trace.offsets_s
        )
    assert [r.scheduled_s for r in run.records] == pytest.approx(trace.offsets_s)
    assert all(r.sent_s >= (r.scheduled_s or 0) for r in run.records)
    # the modelled server counts a word as a token: the synthetic lines land on their sizes
    assert [run.records[i].prompt_tokens for i in (0, 1, 4)] == [30, 60, 45]
    assert [r.output_tokens for r in run.records] == [4, 6, 2, 8, 8]
