"""Artifacts of any bytes through the CSV/JSON/Markdown/text readers and the ingest pipeline:
a parse or a Skipped with its reason, never an exception."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from chimera.ingest.pipeline import IngestResult, ingest_paths
from chimera.ingest.readers import FileRead
from chimera.ingest.reading import Reader
from chimera.ingest.records import Skipped
from chimera.ingest.settings import IngestSettings
from chimera.ingest.walk import Candidate

from .conftest import FAST, SLOW

EXTENSIONS = ["csv", "tsv", "json", "jsonl", "md", "txt", ""]
# small caps, so the size, line and record limits are reached by small inputs too
SETTINGS = IngestSettings(
    max_file_bytes=4096, max_line_chars=80, max_records_per_file=5, max_json_depth=3, cache=False
)

json_docs = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats()
    | st.text(max_size=8)
    | st.sampled_from(["model", "tokens_per_second", "error", "ttft_ms", "num_ctx"]),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "model",
                    "tokens_per_s",
                    "ttft_ms",
                    "options",
                    "results",
                    "error",
                    "success",
                    "status",
                    "num_ctx",
                ]
            )
            | st.text(max_size=6),
            inner,
            max_size=4,
        )
    ),
    max_leaves=20,
).map(lambda d: json.dumps(d, allow_nan=True))
# Text made of what the readers split and match on
_PIECES = st.sampled_from(
    [",", ";", "\t", "|", '"', "\n", "\r\n", "\r", " ", "---", "| --- |", "#", "```", ":", "=",
     "1", "2.5", "-3e4", "1,234", "ms", "tok/s", "%", "model", "Model: x", "num_ctx=2048",
     "tokens_per_second", "\ufeff", "\x00", "é", "{", "}", "[", "]", "x" * 90]
)  # fmt: skip
structured_text = st.lists(_PIECES, max_size=60).map("".join)
contents = (
    st.binary(max_size=300)
    | structured_text.map(str.encode)
    | json_docs.map(str.encode)
    | st.lists(json_docs, max_size=4).map(lambda ls: "\n".join(ls).encode())
    | st.text(max_size=200).map(lambda t: t.encode("utf-16"))
    | st.text(max_size=200).map(lambda t: t.encode("latin-1", "replace"))
)


def _candidate(path: Path, ext: str) -> Candidate:
    fmt = {"csv": "csv", "tsv": "tsv", "json": "json", "jsonl": "jsonl", "md": "markdown",
           "txt": "text"}.get(ext)  # fmt: skip
    return Candidate(str(path), path.name, path.stat().st_size, 0.0, fmt, 0)  # type: ignore[arg-type]


@FAST
@given(contents, st.sampled_from(EXTENSIONS))
@example(b'{"a": ' * 2000 + b"1" + b"}" * 2000, "json")  # deeper than orjson's limit
@example(b"x\n" + b"1," * 100 + b"\n", "csv")  # a row longer than the line limit
@example(b"| a |\n| --- |\n" + b"| 1 |\n" * 10, "md")  # more rows than the record limit
def test_any_file_is_read_or_skipped(tmp_path: Path, data: bytes, ext: str) -> None:
    path = tmp_path / (f"artifact.{ext}" if ext else "artifact")
    path.write_bytes(data)
    out = Reader(SETTINGS).parse(_candidate(path, ext))
    if isinstance(out, Skipped):
        assert out.reason and out.detail
    else:
        got, _key, _mentions = out
        assert isinstance(got, FileRead)


def _ingest(tmp_path: Path, files: list[tuple[bytes, str]]) -> IngestResult:
    root = Path(tempfile.mkdtemp(dir=tmp_path))  # a folder per example: tmp_path is shared
    for i, (data, ext) in enumerate(files):
        (root / (f"f{i}.{ext}" if ext else f"f{i}")).write_bytes(data)
    return ingest_paths([root], SETTINGS, cwd=root)


@FAST
@given(st.lists(st.tuples(contents, st.sampled_from(EXTENSIONS)), min_size=1, max_size=4))
def test_a_folder_of_any_files_is_ingested(tmp_path: Path, files: list[tuple[bytes, str]]) -> None:
    result = _ingest(tmp_path, files)
    listed = {a.path for a in result.artifacts} | {s.path for s in result.skipped}
    assert len(listed) == len(files)  # every file is either read or skipped with its reason


@pytest.mark.slow
@SLOW
@given(st.lists(st.tuples(contents, st.sampled_from(EXTENSIONS)), min_size=1, max_size=6))
def test_many_more_folders(tmp_path: Path, files: list[tuple[bytes, str]]) -> None:
    result = _ingest(tmp_path, files)
    assert len(result.artifacts) + len(result.skipped) == len(files)
