"""Decoding: BOMs, UTF-16, the recorded latin-1 fallback, mangled BOMs, binary, line ends."""

from __future__ import annotations

import pytest

from chimera.ingest.decode import BinaryContent, decode, looks_binary, split_lines


def test_plain_utf8_has_no_oddities() -> None:
    d = decode(b"model,tokens_s\nphi3,1.5\n")
    assert (d.encoding, d.oddities) == ("utf-8", ())


def test_utf8_bom_is_stripped_and_noted() -> None:
    d = decode(b"\xef\xbb\xbfa,b\n1,2\n")
    assert d.text.startswith("a,b") and d.encoding == "utf-8-sig"
    assert d.oddities == ("starts with a UTF-8 byte-order mark",)


@pytest.mark.parametrize(("codec", "name"), [("utf-16-le", "LE"), ("utf-16-be", "BE")])
def test_utf16_with_bom(codec: str, name: str) -> None:
    bom = b"\xff\xfe" if codec.endswith("le") else b"\xfe\xff"
    d = decode(bom + "tokens_s\n12.5\n".encode(codec))
    assert d.text == "tokens_s\n12.5\n" and d.encoding == codec
    assert d.oddities == (f"UTF-16 text ({name}, with byte-order mark)",)


def test_utf16_without_bom_is_recognized_not_binary() -> None:
    data = "model,ttft_s\nx,0.1\n".encode("utf-16-le")
    assert not looks_binary(data)
    d = decode(data)
    assert d.text.startswith("model,ttft_s") and "without a byte-order mark" in d.oddities[0]


def test_latin1_fallback_is_recorded_with_the_offending_byte() -> None:
    d = decode("Temperature: 54.7\xb0C\n".encode("latin-1"))
    assert d.encoding == "latin-1" and d.text == "Temperature: 54.7°C\n"
    assert d.oddities == ("not valid UTF-8 (byte 0xB0 at offset 17); read as latin-1",)


def test_a_utf16_bom_mangled_through_latin1_is_repaired() -> None:
    # what reports/profiling/ncu_summary.csv holds: 'ÿþ' in UTF-8, then UTF-16-LE text
    data = "\xff\xfe".encode() + "==ERROR== bad option\r\n".encode("utf-16-le")
    d = decode(data)
    assert d.text == "==ERROR== bad option\r\n" and d.encoding == "utf-16-le"
    assert "mangled byte-order mark" in d.oddities[0]


def test_c1_controls_and_replacement_characters_are_noted() -> None:
    d = decode("Lessons \u0096 2025\nbad \ufffd byte\n".encode())
    assert any("1 C1 control character(s) (e.g. U+0096 on line 1)" in o for o in d.oddities)
    assert any("U+FFFD" in o for o in d.oddities)


def test_binary_is_refused() -> None:
    with pytest.raises(BinaryContent):
        decode(bytes(range(256)) * 4)
    with pytest.raises(BinaryContent):
        decode(b"\x89PNG\r\n\x1a\n" + b"\x00\x01\x02" * 100)
    assert not looks_binary(b"a,b\n1,2\n")


@pytest.mark.parametrize(
    ("data", "note"),
    [
        (b"a\r\nb\nc\n", "mixed line endings (1 CRLF, 2 LF)"),
        (b"a\rb\rc\r", "CR-only line endings (classic Mac)"),
        (b"a\r\nb\r\n", None),
    ],
)
def test_line_endings(data: bytes, note: str | None) -> None:
    d = decode(data)
    assert split_lines(d.text) == ["a", "b", "c"][: len(split_lines(d.text))]
    assert (note in d.oddities) if note else d.oddities == ()


def test_split_lines_only_splits_at_cr_and_lf() -> None:
    # U+0085 (NEL) and U+2028 are text here, not line breaks (str.splitlines would split them)
    assert split_lines("a\u0085b\r\nc\rd\ne") == ["a\u0085b", "c", "d", "e"]
