"""A GGUF's catalogue entry, read from its header the way Ollama's /api/show reports it."""

from __future__ import annotations

from pathlib import Path

import pytest

from chimera.models import TinyModelSpec, write_tiny_gguf
from chimera.testing.gguf_card import gguf_card, human_number, read_header


def test_the_header_gives_typed_metadata_and_the_parameter_count(tmp_path: Path) -> None:
    path = write_tiny_gguf(tmp_path / "t.gguf", hidden=64, layers=2)
    header = read_header(path)
    assert header.parameter_count == TinyModelSpec(hidden=64, layers=2).parameter_count()
    kv = header.kv
    assert kv["general.architecture"] == "llama" and kv["llama.block_count"] == 2
    assert kv["llama.attention.layer_norm_rms_epsilon"] == 1e-05  # float32 as Go prints it
    assert kv["tokenizer.ggml.tokens"] is None  # arrays are skipped, shown as null


def test_the_card_is_what_ollama_shows(tmp_path: Path) -> None:
    path = write_tiny_gguf(tmp_path / "t.gguf")
    card = gguf_card(path, "t:latest")
    assert card.details == {
        "parent_model": "",
        "format": "gguf",
        "family": "llama",
        "families": ["llama"],
        "parameter_size": human_number(read_header(path).parameter_count),
        "quantization_level": "F32",
    }
    assert card.size == path.stat().st_size and len(card.digest) == 64
    assert "general.name" not in card.model_info
    assert "tokenizer.chat_template" not in card.model_info
    assert card.template.startswith("{% for message in messages %}")
    assert card.model_info["general.parameter_count"] == read_header(path).parameter_count


def test_not_a_gguf_file(tmp_path: Path) -> None:
    path = tmp_path / "x.gguf"
    path.write_bytes(b"nope")
    with pytest.raises(ValueError, match="not a GGUF"):
        read_header(path)


@pytest.mark.parametrize(
    ("n", "shown"),
    [
        (134_515_008, "135M"),
        (1_235_814_400, "1.24B"),
        (8_030_261_248, "8.03B"),
        (27_000_000_000, "27.0B"),
        (172_352, "172K"),
        (999, "999"),
    ],
)
def test_human_number_as_ollama_formats_it(n: int, shown: str) -> None:
    assert human_number(n) == shown
