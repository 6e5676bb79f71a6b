"""A GGUF file's catalogue entry (details, model_info) read from its header, as Ollama shows it.

The header is read directly rather than with ``gguf.GGUFReader``, which builds every token of
the vocabulary into arrays (4 s for SmolLM2's 49k tokens); here arrays are skipped over.
Ollama's /api/show, not verbose, sends every key but ``general.name`` and
``tokenizer.chat_template``, a non-empty array as ``null``, and adds
``general.parameter_count`` (the tensors' elements).
"""

from __future__ import annotations

from pathlib import Path

from chimera.models.gguf import GgufHeader, file_digest, human_number, quantization, read_header
from chimera.testing.modelling import ModelCard

__all__ = ["GgufHeader", "file_digest", "gguf_card", "human_number", "read_header"]

_HIDDEN_KEYS = ("general.name", "tokenizer.chat_template")


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
            "quantization_level": quantization(file_type),
        },
        model_info=dict(sorted(info.items())),
        # what Ollama shows for a model that uses its own (Jinja) chat template
        template=str(kv.get("tokenizer.chat_template") or "{{ .Prompt }}"),
        license=str(kv.get("general.license", "")),
        source=str(path),
    )
