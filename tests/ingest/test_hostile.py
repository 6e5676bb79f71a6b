"""The issue's hostile tree: nothing crashes, every bad file is listed with its reason, every
good file beside them is ingested."""

from __future__ import annotations

import os
from pathlib import Path
from types import ModuleType

import pytest

from chimera.ingest import IngestResult, IngestSettings, ingest_paths, readers

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX fifos/symlinks")


@pytest.fixture(scope="module")
def hostile_result(tmp_path_factory: pytest.TempPathFactory, hostile: ModuleType) -> IngestResult:
    d = hostile.build_hostile_tree(tmp_path_factory.mktemp("tree"))
    # Root reads a mode-000 file anyway; make the permission failure real for everyone.
    real_read = readers.read_bytes

    def guarded_read(path: str, limit: int, size_hint: int) -> bytes:
        if path.endswith("noperm.csv"):
            raise PermissionError(13, "Permission denied", path)
        return real_read(path, limit, size_hint)

    def delete_later_file(display: str) -> None:
        if display == "good.csv":  # read before vanish.csv: delete it mid-scan
            (d / "vanish.csv").unlink()

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(readers, "read_bytes", guarded_read)
        return ingest_paths([d], IngestSettings(), on_file=delete_later_file)


def test_every_bad_file_is_listed_with_its_reason(
    hostile_result: IngestResult, hostile: ModuleType
) -> None:
    reasons = {s.path: s.reason for s in hostile_result.skipped}
    assert reasons == hostile.EXPECTED_SKIPS
    details = {s.path: s.detail for s in hostile_result.skipped}
    assert "1024 levels" in details["deep.json"]
    assert "unexpected end of data" in details["truncated.json"]
    assert "over the 67,108,864-byte cap" in details["over_cap.csv"]
    assert "named pipe" in details["fifo.csv"]
    assert "a directory above it" in details["loop"]
    assert "Permission denied" in details["noperm.csv"]
    assert "under a .csv name" in details["binary.csv"]


def test_every_good_file_beside_them_is_ingested(
    hostile_result: IngestResult, hostile: ModuleType
) -> None:
    assert {a.path for a in hostile_result.artifacts} == set(hostile.GOOD_FILES)
    by_path = {a.path: a for a in hostile_result.artifacts}
    assert by_path["utf16.csv"].encoding == "utf-16-le"
    assert by_path["latin1.csv"].encoding == "latin-1"
    assert by_path["notes"].format == "text"  # no extension: sniffed
    values = {(f.source, f.metric, f.value) for f in hostile_result.facts if not f.failed}
    assert ("utf16.csv", "tokens_per_s", 51.5) in values
    assert ("latin1.csv", "tokens_per_s", 90.0) in values
    assert ("ragged.csv", "ttft_s", 0.3) in values
    assert ("good.json", "ttft_s", 0.18) in values  # 180 ms normalized to seconds
    assert ("runs.jsonl", "tokens_per_s", 60.0) in values  # derived: 120 tokens / 2 s
    assert ("mixed_newlines.md", "tokens_per_s", 10.0) in values  # after a lone CR


def test_oddities_of_readable_files_become_findings(hostile_result: IngestResult) -> None:
    kinds = {f.kind: f for f in hostile_result.findings}
    ragged = "\n".join(kinds["malformed_rows"].evidence)
    assert "ragged.csv: 2 row(s) do not have the header's 3 fields (rows 1, 2)" in ragged
    assert "runs.jsonl: 1 line(s) are not valid JSON (lines 2)" in ragged
    enc = "\n".join(kinds["encoding"].evidence)
    assert "latin1.csv: not valid UTF-8 (byte 0xE9" in enc
    assert "utf16.csv: UTF-16 text" in enc
    assert "mixed_newlines.md: mixed line endings (1 CRLF, 1 LF, 1 lone CR)" in enc
    assert "long_line.txt: 1 line(s) longer than the line limit" in kinds["truncated"].evidence[0]


def test_a_fifty_megabyte_csv_line_is_dropped_not_split(tmp_path: Path) -> None:
    big = tmp_path / "wide.csv"
    with big.open("w") as fh:
        fh.write("model,tokens_s\nphi3:mini,12.5\n" + "1," * (25 * 2**20) + "\n")
    r = ingest_paths([big])
    assert [a.records for a in r.artifacts] == [1]
    assert [f.value for f in r.facts if f.metric == "tokens_per_s"] == [12.5]
    assert any(f.kind == "truncated" for f in r.findings)


def test_a_permission_denied_file_is_unreadable_for_a_normal_user(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads mode-000 files; covered with a fake open above")
    p = tmp_path / "secret.csv"
    p.write_text("model,tokens_s\nx,1\n")
    p.chmod(0)
    try:
        r = ingest_paths([tmp_path])
    finally:
        p.chmod(0o600)
    assert [(s.path, s.reason) for s in r.skipped] == [("secret.csv", "unreadable")]


def test_json_nested_deeper_than_flattening_is_cut_not_crashed(tmp_path: Path) -> None:
    doc = '{"a": ' * 600 + '{"tokens_s": 5}' + "}" * 600
    (tmp_path / "deep_ok.json").write_text('{"model": "m1", "x": ' + doc + "}")
    r = ingest_paths([tmp_path])
    assert not r.skipped
    assert not [f for f in r.facts if f.metric == "tokens_per_s"]  # below max_json_depth
    assert any("nested deeper than 64" in e for f in r.findings for e in f.evidence)
