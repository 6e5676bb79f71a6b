"""A GGUF file's header: its key-value metadata and parameter count, read directly.

``gguf.GGUFReader`` builds every token of the vocabulary into arrays (4 s for SmolLM2's 49k
tokens); here arrays are skipped over. Used for what a model is (quantization, architecture,
parameters) wherever Chimera reports it, and by the test kit's Ollama catalogue.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

# GGUF value types -> struct formats (little-endian); 8 = string, 9 = array
_SCALARS = {
    0: "<B",
    1: "<b",
    2: "<H",
    3: "<h",
    4: "<I",
    5: "<i",
    6: "<f",
    7: "<?",
    10: "<Q",
    11: "<q",
    12: "<d",
}
_STRING, _ARRAY, _FLOAT32 = 8, 9, 6
# llama.cpp's llama_ftype values, named as Ollama names quantizations
_FILE_TYPES = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K",
    11: "Q3_K_S", 12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S",
    17: "Q5_K_M", 18: "Q6_K", 19: "IQ2_XXS", 20: "IQ2_XS", 21: "Q2_K_S", 22: "IQ3_XS",
    23: "IQ3_XXS", 24: "IQ1_S", 25: "IQ4_NL", 26: "IQ3_S", 27: "IQ3_M", 28: "IQ2_S",
    29: "IQ2_M", 30: "IQ4_XS", 31: "IQ1_M", 32: "BF16",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class GgufHeader:
    kv: dict[str, Any]  # arrays as None (empty ones as [])
    parameter_count: int


def _read(f: IO[bytes], fmt: str) -> Any:
    size = struct.calcsize(fmt)
    data = f.read(size)
    if len(data) != size:
        raise ValueError("the GGUF header ends early")
    return struct.unpack(fmt, data)[0]


def _string(f: IO[bytes]) -> str:
    return f.read(_read(f, "<Q")).decode("utf-8", "replace")


def _value(f: IO[bytes], kind: int) -> Any:
    if kind == _STRING:
        return _string(f)
    if kind == _ARRAY:
        item, count = _read(f, "<I"), _read(f, "<Q")
        for _ in range(count):  # skipped, not kept: Ollama shows arrays as null
            _value(f, item)
        return [] if count == 0 else None
    value = _read(f, _SCALARS[kind])
    # a float32 as Go prints it: its shortest decimal form, not the double's
    return float(str(np.float32(value))) if kind == _FLOAT32 else value


def read_header(path: Path) -> GgufHeader:
    """The key-value metadata and parameter count of the GGUF file at ``path``."""
    with path.open("rb") as f:
        if f.read(4) != b"GGUF":
            raise ValueError(f"{path} is not a GGUF file")
        _read(f, "<I")  # version
        tensors, keys = _read(f, "<Q"), _read(f, "<Q")
        kv = {}
        for _ in range(keys):
            key = _string(f)
            kv[key] = _value(f, _read(f, "<I"))
        params = 0
        for _ in range(tensors):
            _string(f)
            dims = [_read(f, "<Q") for _ in range(_read(f, "<I"))]
            _read(f, "<I")  # type
            _read(f, "<Q")  # offset
            params += int(np.prod(dims, dtype=np.int64))
    return GgufHeader(kv, params)


def human_number(n: int) -> str:
    """A parameter count as Ollama writes it (135M, 1.24B)."""
    for unit, size in (("T", 10**12), ("B", 10**9), ("M", 10**6), ("K", 10**3)):
        if n >= size:
            x = n / size
            return (
                f"{x:.0f}{unit}" if x >= 100 else f"{x:.1f}{unit}" if x >= 10 else f"{x:.2f}{unit}"
            )
    return str(n)


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def quantization(file_type: object) -> str:
    """``general.file_type`` named as Ollama names quantizations; ``unknown`` if not known."""
    return _FILE_TYPES.get(file_type, "unknown") if isinstance(file_type, int) else "unknown"
