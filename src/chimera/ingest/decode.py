"""Bytes to text: BOM-aware UTF-8/UTF-16, a recorded latin-1 fallback, binary sniffing, newlines."""

from __future__ import annotations

import re
from dataclasses import dataclass

_C1 = re.compile("[\x80-\x9f]")
_CONTROL_BYTES = (
    b"\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f\x10\x11\x12\x13\x14\x15"
    b"\x16\x17\x18\x19\x1a\x1c\x1d\x1e\x1f\x7f"
)
_LINE_SPLIT = re.compile(r"\r\n|\r|\n")


class BinaryContent(Exception):
    """The bytes are not text in any encoding we read."""


@dataclass(frozen=True, slots=True)
class Decoded:
    """Text and how it was obtained; ``oddities`` are details worth a data-quality finding."""

    text: str
    encoding: str
    oddities: tuple[str, ...] = ()


def looks_binary(head: bytes) -> bool:
    """True for bytes that are not text: NULs (outside UTF-16) or many control bytes."""
    if not head:
        return False
    if head.startswith((b"\xff\xfe", b"\xfe\xff", b"\xc3\xbf\xc3\xbe", b"\xc3\xbe\xc3\xbf")):
        return False
    if b"\x00" in head:
        return not _utf16_without_bom(head)
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))
    return controls > max(2, len(head) // 20)


def _utf16_without_bom(head: bytes) -> str | None:
    """'utf-16-le'/'utf-16-be' when every other byte is NUL (ASCII text in UTF-16), else None."""
    sample = head[: len(head) - len(head) % 2]
    if len(sample) < 4:
        return None
    odd_nul = sample[1::2].count(0) / (len(sample) // 2)
    even_nul = sample[0::2].count(0) / (len(sample) // 2)
    if odd_nul > 0.9 and even_nul < 0.1:
        return "utf-16-le"
    if even_nul > 0.9 and odd_nul < 0.1:
        return "utf-16-be"
    return None


def decode(data: bytes) -> Decoded:
    """Decode artifact bytes; raises BinaryContent for binary data."""
    oddities: list[str] = []
    if data.startswith(b"\xef\xbb\xbf"):
        text, enc = _utf8_or_latin1(data[3:], oddities)
        oddities.insert(0, "starts with a UTF-8 byte-order mark")
        enc = "utf-8-sig" if enc == "utf-8" else enc
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        enc = "utf-16-le" if data.startswith(b"\xff\xfe") else "utf-16-be"
        text = _utf16(data[2:], enc)
        oddities.append(f"UTF-16 text ({enc[-2:].upper()}, with byte-order mark)")
    elif data.startswith((b"\xc3\xbf\xc3\xbe", b"\xc3\xbe\xc3\xbf")):
        # A UTF-16 BOM (FF FE) that went through latin-1 -> UTF-8: 'ÿþ' then raw UTF-16 bytes.
        enc = "utf-16-le" if data[1] == 0xBF else "utf-16-be"
        text = _utf16(data[4:], enc)
        oddities.append(
            f"UTF-16 text behind a mangled byte-order mark (bytes C3 BF C3 BE, 'ÿþ'): the file "
            f"was converted as if it were latin-1; read as {enc}"
        )
    else:
        guess = _utf16_without_bom(data[:4096]) if b"\x00" in data[:4096] else None
        if guess is not None:
            text, enc = _utf16(data, guess), guess
            oddities.append(f"UTF-16 text without a byte-order mark; read as {guess}")
        else:
            if looks_binary(data[:8192]):
                raise BinaryContent("binary content (NUL or control bytes)")
            text, enc = _utf8_or_latin1(data, oddities)
    _text_oddities(text, oddities)
    return Decoded(text, enc, tuple(oddities))


def _utf16(data: bytes, enc: str) -> str:
    body = data[: len(data) - len(data) % 2]
    text = body.decode(enc, errors="replace")
    if "\x00" in text:
        raise BinaryContent("NUL characters in UTF-16 text")
    return text


def _utf8_or_latin1(data: bytes, oddities: list[str]) -> tuple[str, str]:
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        text = data.decode("latin-1")
        oddities.append(
            f"not valid UTF-8 (byte 0x{data[exc.start]:02X} at offset {exc.start}); read as latin-1"
        )
        return text, "latin-1"


def _text_oddities(text: str, oddities: list[str]) -> None:
    if not text.isascii():  # O(1) for a str: most artifacts are ASCII and skip two scans
        _non_ascii_oddities(text, oddities)
    crlf = text.count("\r\n")
    cr = text.count("\r") - crlf
    lf = text.count("\n") - crlf
    if sum(1 for n in (crlf, cr, lf) if n) > 1:
        parts = [f"{n} {name}" for n, name in ((crlf, "CRLF"), (lf, "LF"), (cr, "lone CR")) if n]
        oddities.append(f"mixed line endings ({', '.join(parts)})")
    elif cr > 1 and not lf and not crlf:
        oddities.append("CR-only line endings (classic Mac)")


def _non_ascii_oddities(text: str, oddities: list[str]) -> None:
    c1 = _C1.findall(text)
    if c1:
        first = _C1.search(text)
        line = text.count("\n", 0, first.start() if first else 0) + 1
        oddities.append(
            f"{len(c1)} C1 control character(s) (e.g. U+{ord(c1[0]):04X} on line {line}): "
            f"Windows-1252 text decoded as latin-1 and saved again (e.g. a dash became U+0096)"
        )
    bad = text.count("\ufffd")
    if bad:
        oddities.append(
            f"{bad} U+FFFD replacement character(s): the text was mis-decoded before it was saved"
        )


def split_lines(text: str) -> list[str]:
    """Lines split at CRLF, CR or LF (not at the other separators ``str.splitlines`` knows)."""
    # without a CR the only separator is LF, and str.split is 5x faster than the regex
    lines = text.split("\n") if "\r" not in text else _LINE_SPLIT.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines
