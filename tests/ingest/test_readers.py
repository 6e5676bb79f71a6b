"""Readers: CSV/TSV rows, JSON objects with their context, Markdown tables and prose claims."""

from __future__ import annotations

import pytest

from chimera.ingest.readers import prose, report_keys, sniff
from chimera.ingest.readers.csvfile import read_csv
from chimera.ingest.readers.jsonfile import JSONProblem, loads, read_json
from chimera.ingest.readers.markdown import read_markdown
from chimera.ingest.readers.prose import read_text
from chimera.ingest.values import config_value, decimals_of, parse_number


def _no_config(_k: str) -> bool:
    return False


def _config(k: str) -> bool:
    return k.lower() in ("num_gpu", "num_ctx", "temperature", "device")


def test_csv_quoted_semicolon_and_duplicate_headers() -> None:
    p = read_csv(
        '"a";"b";"a"\n"1,5";2;3\n\n4;5;6\n', tsv=False, max_records=10, max_line_chars=1000
    )
    assert [r.values for r in p.records] == [
        {"a": "1,5", "b": "2", "a_2": "3"},
        {"a": "4", "b": "5", "a_2": "6"},
    ]
    assert [r.locator for r in p.records] == ["row 1", "row 2"]
    assert p.schema == ("a", "b", "a_2")


def test_csv_record_limit_is_a_note() -> None:
    p = read_csv("x\n1\n2\n3\n", tsv=False, max_records=2, max_line_chars=1000)
    assert len(p.records) == 2 and p.notes[0][0] == "truncated"


def test_json_records_carry_their_ancestors_and_child_status() -> None:
    doc = (
        '{"model": {"name": "conv", "device": "cuda"}, "backends": {"trt": {"backend": "trt",'
        ' "compilation": {"success": false, "error": "not installed"},'
        ' "benchmark": {"mean_time_ms": 0.0}}}}'
    )
    p = read_json(doc, max_depth=64, max_records=100)
    rec = {r.locator: r for r in p.records}["$.backends.trt.benchmark"]
    assert rec.values == {"mean_time_ms": 0.0}
    ctx = dict(rec.context)
    assert ctx["model"] == {"name": "conv", "device": "cuda"}
    assert ctx["@compilation.success"] is False and ctx["backend"] == "trt"
    assert "backends.trt.compilation.error" in p.schema


def test_json_list_items_without_numbers_but_with_status_are_records() -> None:
    p = read_json(
        '{"results": [{"name": "a", "error": "boom"}, {"name": "b", "t_ms": 3}]}',
        max_depth=64,
        max_records=100,
    )
    assert [r.locator for r in p.records] == ["$.results[0]", "$.results[1]"]


def test_json_loads_accepts_nan_and_refuses_depth() -> None:
    assert loads('{"x": NaN}')["x"] != loads('{"x": NaN}')["x"]  # NaN, via the stdlib
    with pytest.raises(JSONProblem) as exc:
        loads("[" * 5000 + "]" * 5000)
    assert exc.value.reason == "too_deep"
    with pytest.raises(JSONProblem) as exc:
        loads('{"a": 1,')
    assert exc.value.reason == "malformed"


def test_markdown_table_with_glued_header_and_trailing_text() -> None:
    lines = [
        "# Report",
        "- Model: conv",
        "- Device: cpu | Backend | Mean (ms) |",
        "| --- | --- |",
        "| eager | 3.812 |",
        "| | 4.100 |",
        "| jit | 0.5 | ## Next heading glued on",
    ]
    p, long_lines = read_markdown("\n".join(lines), _config, 10_000, 100)
    rows = [r for r in p.records if r.origin == "table"]
    assert [r.values for r in rows] == [
        {"Backend": "eager", "Mean (ms)": "3.812"},
        {"Backend": "eager", "Mean (ms)": "4.100"},  # a blank first cell continues the group
        {"Backend": "jit", "Mean (ms)": "0.5"},
    ]
    assert dict(rows[0].context) == {"Device": "cpu"}
    assert ("doc", "conv") in rows[0].hints and ("heading", "Report") in rows[0].hints
    assert long_lines == 0


def test_markdown_metric_value_tables_and_model_columns() -> None:
    lines = [
        "## Gemma3:270m",
        "| Metric | Value | gemma3:latest | Delta |",
        "| --- | --- | --- | --- |",
        "| **Mean Throughput** | 283.6 tokens/s | 102.85 tokens/s | +34% |",
    ]
    p, _ = read_markdown("\n".join(lines), _no_config, 10_000, 100)
    got = [(r.values, r.hints[0]) for r in p.records]
    assert got == [
        ({"Mean Throughput": "283.6 tokens/s", "__column__": "Value"}, ("heading", "Gemma3:270m")),
        (
            {"Mean Throughput": "102.85 tokens/s", "__column__": "gemma3:latest"},
            ("header", "gemma3:latest"),
        ),
        ({"Mean Throughput": "+34%", "__column__": "Delta"}, ("header", "Delta")),
    ]


def test_markdown_prose_claims_with_section_config() -> None:
    lines = [
        "### Best (q4_0)",
        "Top configuration: num_gpu=40, num_ctx=1024, temperature=0.4",
        "- **Tokens/s:** 78.42",
        "- TTFT: 0.088 s",
        "",
        "- Throughput: 70.1 tok/s",
        "```",
        "tokens_per_s: 1.0",
        "```",
    ]
    p, _ = read_markdown("\n".join(lines), _config, 10_000, 100)
    got = [(r.values, dict(r.context)) for r in p.records]
    cfg = {"num_gpu": "40", "num_ctx": "1024", "temperature": "0.4"}
    assert got == [
        ({"Tokens/s": "78.42"}, cfg),
        ({"TTFT": "0.088 s"}, cfg),
        ({"Throughput": "70.1 tok/s"}, {}),  # a blank line ends the configuration's scope
    ]  # nothing from the fenced code block


def test_markdown_long_lines_are_not_scanned() -> None:
    p, long_lines = read_markdown("- TTFT: 0.1 s" + " " * 200, _no_config, 100, 100)
    assert (p.records, long_lines) == ([], 1)


def _claims(text: str, max_line_chars: int = 10_000, max_records: int = 100) -> list[object]:
    p, long_lines = read_markdown(text, _config, max_line_chars, max_records)
    got = [(r.locator, r.values, dict(r.context), r.hints) for r in p.records]
    return [got, p.notes, long_lines]


def test_markdown_blank_line_of_spaces_ends_the_configuration() -> None:
    text = "Top configuration: num_gpu=40\n- Throughput: 70 tok/s\n  \t \n- TTFT: 12 ms"
    assert _claims(text)[0] == [
        ("line 2", {"Throughput": "70 tok/s"}, {"num_gpu": "40"}, ()),
        ("line 4", {"TTFT": "12 ms"}, {}, ()),
    ]


def test_markdown_table_right_after_a_fence_closes() -> None:
    # the separator row has no leading '|' and two-dash cells: still a table
    text = "```\n| a | b |\n|---|---|\n```\n| Backend | Mean (ms) |\n:-- | --:\n| eager | 3.8 |"
    assert _claims(text)[0] == [
        ("table 1 row 1", {"Backend": "eager", "Mean (ms)": "3.8"}, {}, ()),
    ]


def test_markdown_unclosed_fence_hides_the_rest() -> None:
    text = "- TTFT: 1 ms\n```python\n- TTFT: 2 ms\n| x | y |\n|---|---|\n| 1 | 2 |"
    assert _claims(text) == [[("line 1", {"TTFT": "1 ms"}, {}, ())], [], 0]


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_markdown_line_ends_cr_crlf_and_lf_read_alike(newline: str) -> None:
    lines = ["# Report", "- TTFT: 12 ms", "", "| A | B |", "|---|---|", "| x | 1 |", ""]
    report = (("heading", "Report"),)
    assert _claims(newline.join(lines)) == [
        [
            ("line 2", {"TTFT": "12 ms"}, {}, report),
            ("table 1 row 1", {"A": "x", "B": "1"}, {}, report),
        ],
        [],
        0,
    ]


def test_markdown_long_lines_in_the_middle_are_counted_not_read() -> None:
    # the long all-blank line is a long line, not a blank one: the configuration stays
    lines = ["Device: cpu", "- TTFT: 1 ms", "x" * 150 + " TTFT: 3 ms", " " * 150]
    lines += ["- Latency: 2 ms", "", "- Mean: 4 ms"]
    assert _claims("\n".join(lines), max_line_chars=100) == [
        [
            ("line 2", {"TTFT": "1 ms"}, {"Device": "cpu"}, ()),
            ("line 5", {"Latency": "2 ms"}, {"Device": "cpu"}, ()),
            ("line 7", {"Mean": "4 ms"}, {}, ()),
        ],
        [],
        2,
    ]


def test_markdown_heading_inside_a_fence_is_no_heading() -> None:
    text = "# Outer\n```\n# Inner\n- TTFT: 9 ms\n```\n- TTFT: 1 ms"
    assert _claims(text)[0] == [("line 6", {"TTFT": "1 ms"}, {}, (("heading", "Outer"),))]


def test_markdown_bar_lines_without_a_separator_are_no_table() -> None:
    # a line starting with '|' is left alone; one with a '|' inside is prose
    text = "| TTFT: 5 ms |\nMean: 3 ms | p95: 4 ms\ntext"
    assert _claims(text)[0] == [("line 2", {"Mean": "3 ms"}, {}, ())]


def test_markdown_record_limit_stops_at_the_next_line() -> None:
    assert _claims("- A: 1 ms\n- B: 2 ms\n\nplain", max_records=2)[1:] == [
        [("truncated", "only the first 2 records were read")],
        0,
    ]
    assert _claims("- A: 1 ms\n- B: 2 ms", max_records=2)[1] == []  # nothing left unread


def test_text_claims_with_cr_line_ends_and_a_long_line() -> None:
    text = (
        "TTFT: 1 ms\rDevice: cpu\r\nLatency: 2 ms\n" + "y" * 120 + " Mean: 3 ms\n  \n- Mean: 4 ms"
    )
    records, long_lines = read_text(text, _config, 100)
    assert [(r.locator, r.values, dict(r.context)) for r in records] == [
        ("line 1", {"TTFT": "1 ms"}, {}),
        ("line 3", {"Latency": "2 ms"}, {"Device": "cpu"}),
        ("line 6", {"Mean": "4 ms"}, {"Device": "cpu"}),  # blank lines end nothing in text
    ]
    assert long_lines == 1


@pytest.mark.parametrize(
    "text",
    [
        "- a: 1 - b: 2",
        "- - x",
        "a -\tb *  c • d",
        "**Bold:** 3 ms - ",
        "x`k`=3 a=b=1 `num_ctx`=2048, temp = 0.7 ==5",
        "prose " * 12 + "GPU=80, CTX=2048 " + "more prose " * 10 + "TEMP=1.0",
        "q8_0: mean_latency_ms=46.570 tokens_per_s=2.008 mem_mb=0",
        "a" * 41 + "=1 " + "b" * 42 + "=2" + " pad" * 60 + " é=3 _x=4 .y=5 `z`=6",
    ],
)
def test_prose_shortcuts_give_what_their_patterns_give(text: str) -> None:
    # bullet segments and 'label=value' pairs are found from the '-'/'*'/'=' characters; the
    # patterns they stand for try every position
    assert list(prose._segments(text)) == [s for s in prose._BULLET_SPLIT.split(text) if s]
    for pattern in (prose._WORD_VALUE, prose._EQUALS):
        assert prose._eq_pairs(pattern, text) == pattern.findall(text)


@pytest.mark.parametrize(
    ("text", "fmt"),
    [
        ('{"a": 1}', "json"),
        ('{"a": 1}\n{"a": 2}\n', "jsonl"),
        ("a,b\n1,2\n", "csv"),
        ("a\tb\n1\t2\n", "tsv"),
        ("# Title\ntext\n", "markdown"),
        ("just words\n", None),
    ],
)
def test_sniff(text: str, fmt: str | None) -> None:
    assert sniff(text) == fmt


@pytest.mark.parametrize(
    ("text", "value", "decimals", "unit"),
    [
        ("77.50", 77.5, 2, None),
        ("3,503", 3503.0, 0, None),
        ("0.06s", 0.06, 2, "s"),
        ("**303.9 tok/s**", 303.9, 1, "tok/s"),
        ("1.62s (first prompt: 7.84s)", 1.62, 2, "s"),
        ("1e-3", 0.001, 3, None),
        ("12%", 12.0, 0, "%"),
    ],
)
def test_parse_number(text: str, value: float, decimals: int, unit: str | None) -> None:
    n = parse_number(text)
    assert n is not None and (n.value, n.decimals, n.unit) == (value, decimals, unit)


@pytest.mark.parametrize("text", ["", "-", "3.3 GB", "1,5", "TRUE", "~6-7 GB", "n/a"])
def test_not_numbers(text: str) -> None:
    assert parse_number(text) is None


def test_config_values_are_canonical() -> None:
    assert [config_value(v) for v in ("40.00", 1024, 0.40, "**q4_0**", "default", None)] == [
        "40",
        "1024",
        "0.4",
        "q4_0",
        None,
        None,
    ]
    assert decimals_of("0.0865") == 4 and decimals_of("12") == 0


def test_report_keys_mentions_and_timestamp_blind_key() -> None:
    text = (
        "Data: reports/gemma3/gemma3_1b-it-qat_baseline.csv and `Runs.JSON`, not notes.txt.\n"
        + "x" * 200
        + ".jsonl\nRun at 2025-11-14 18:53:30Z (epoch 1731610410).\n"
    )
    key, mentions = report_keys("markdown", text)
    # the name before the extension, up to 120 characters of it, in lower case
    assert mentions == {"gemma3_1b-it-qat_baseline.csv", "runs.json", "x" * 120 + ".jsonl"}
    other = text.replace("2025-11-14 18:53:30Z", "2026-01-02 03:04:05Z").replace(
        "1731610410", "1767323045"
    )
    assert report_keys("markdown", other)[0] == key != ""  # timestamps do not count
    assert report_keys("markdown", text.replace("Runs", "Other"))[0] != key
    assert report_keys("csv", text) == ("", frozenset())
