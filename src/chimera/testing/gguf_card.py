"""A GGUF file's catalogue entry (details, model_info) read from its header, as Ollama shows it.

The header is read directly rather than with ``gguf.GGUFReader``, which builds every token of
the vocabulary into arrays (4 s for SmolLM2's 49k tokens); here arrays are skipped over.
Ollama's /api/show, not verbose, sends every key but ``general.name`` and
``tokenizer.chat_template``, a non-empty array as ``null``, and adds
``general.parameter_count`` (the tensors' elements).
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from chimera.testing.modelling import ModelCard

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
_HIDDEN_KEYS = ("general.name", "tokenizer.chat_template")
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


def gguf_card(path: Path, name: str) -> ModelCard:
    """The catalogue entry of the GGUF at ``path``, served as ``name`` (reads the file)."""
    header = read_header(path)
    kv = header.kv
    arch = str(kv.get("general.architecture", "unknown"))
    info = {k: v for k, v in kv.items() if k not in _HIDDEN_KEYS}
    info["general.parameter_count"] = header.parameter_count
    file_type = kv.get("general.file_type")
    stat = path.stat()
    return ModelCard(
        name=name,
        size=stat.st_size,
        digest=file_digest(path),
        modified_epoch=stat.st_mtime,
        details={
            "parent_model": "",
            "format": "gguf",
            "family": arch,
            "families": [arch],
            "parameter_size": human_number(header.parameter_count),
            "quantization_level": _FILE_TYPES.get(file_type, "unknown")
            if isinstance(file_type, int)
            else "unknown",
        },
        model_info=dict(sorted(info.items())),
        # what Ollama shows for a model that uses its own (Jinja) chat template
        template=str(kv.get("tokenizer.chat_template") or "{{ .Prompt }}"),
        license=str(kv.get("general.license", "")),
        source=str(path),
    )
