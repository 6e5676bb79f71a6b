"""Writing tiny random-weight GGUF models."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from chimera.errors import ConfigError
from chimera.models import PRESETS, TinyModelSpec, write_spec, write_tiny_gguf
from chimera.models.tiny import BAN_WEIGHT, CHAT_TEMPLATE, CONST_CHANNEL
from chimera.models.vocab import FIRST_TEXT_ID


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read(path: Path) -> Any:
    from gguf import GGUFReader

    return GGUFReader(path)


def field(reader: Any, key: str) -> Any:
    return reader.fields[key].contents()


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    a = write_tiny_gguf(tmp_path / "a.gguf", seed=1)
    b = write_tiny_gguf(tmp_path / "b.gguf", seed=1)
    c = write_tiny_gguf(tmp_path / "c.gguf", seed=2)
    assert digest(a) == digest(b) != digest(c)


def test_written_atomically_and_replaces(tmp_path: Path) -> None:
    target = tmp_path / "m.gguf"
    target.write_text("old")
    out = write_tiny_gguf(target)
    assert out == target
    assert target.read_bytes()[:4] == b"GGUF"
    assert [p.name for p in tmp_path.iterdir()] == ["m.gguf"]  # no temp file left


def test_failed_write_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import gguf

    def boom(self: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(gguf.GGUFWriter, "write_tensors_to_file", boom)
    with pytest.raises(OSError, match="disk full"):
        write_tiny_gguf(tmp_path / "m.gguf")
    assert list(tmp_path.iterdir()) == []


def test_llama_metadata_and_tokenizer(tmp_path: Path) -> None:
    path = write_tiny_gguf(tmp_path / "m.gguf", hidden=128, layers=3, ctx=512, vocab=600)
    r = read(path)
    assert field(r, "general.architecture") == "llama"
    assert field(r, "llama.context_length") == 512
    assert field(r, "llama.embedding_length") == 128
    assert field(r, "llama.block_count") == 3
    assert field(r, "llama.feed_forward_length") == 352  # 8/3 * 128 rounded up to 32
    assert field(r, "llama.attention.head_count") == 2
    assert field(r, "llama.attention.head_count_kv") == 2
    assert field(r, "llama.rope.dimension_count") == 64
    assert field(r, "llama.vocab_size") == 600
    assert field(r, "tokenizer.ggml.model") == "llama"
    tokens = field(r, "tokenizer.ggml.tokens")
    assert len(tokens) == len(field(r, "tokenizer.ggml.scores")) == 600
    assert "<0x00>" in tokens and "<0xFF>" in tokens
    assert field(r, "tokenizer.ggml.bos_token_id") == 1
    assert field(r, "tokenizer.ggml.eos_token_id") == 2
    assert field(r, "tokenizer.chat_template") == CHAT_TEMPLATE


def test_tensors_and_the_constant_channel(tmp_path: Path) -> None:
    path = write_tiny_gguf(tmp_path / "m.gguf", hidden=64, layers=2, kv_heads=1, ff=96)
    tensors = {t.name: t for t in read(path).tensors}
    per_block = ["attn_norm", "attn_q", "attn_k", "attn_v", "attn_output"]
    per_block += ["ffn_norm", "ffn_gate", "ffn_up", "ffn_down"]
    expected = {"token_embd.weight", "output_norm.weight", "output.weight"}
    expected |= {f"blk.{i}.{n}.weight" for i in range(2) for n in per_block}
    assert set(tensors) == expected
    assert list(tensors["blk.0.attn_k.weight"].shape) == [64, 64]  # ggml order: (in, out)
    assert list(tensors["blk.1.ffn_down.weight"].shape) == [96, 64]
    embd = tensors["token_embd.weight"].data
    assert (embd[:, CONST_CHANNEL] == 1.0).all()
    for i in range(2):
        assert (tensors[f"blk.{i}.attn_output.weight"].data[CONST_CHANNEL] == 0).all()
        assert (tensors[f"blk.{i}.ffn_down.weight"].data[CONST_CHANNEL] == 0).all()
    out = tensors["output.weight"].data
    assert (out[:FIRST_TEXT_ID, CONST_CHANNEL] == BAN_WEIGHT).all()
    assert (out[FIRST_TEXT_ID:, CONST_CHANNEL] == 0).all()


def test_presets() -> None:
    tiny, small = TinyModelSpec.preset("tiny"), TinyModelSpec.preset("small")
    assert (tiny.hidden, tiny.layers) == (64, 2)
    assert (small.hidden, small.layers) == (512, 8)
    assert tiny.parameter_count() * 4 < 1_000_000
    assert 105e6 < small.parameter_count() * 4 < 120e6
    assert TinyModelSpec.preset("small", layers=2, seed=None).layers == 2
    assert set(PRESETS) == {"tiny", "small"}


def test_file_size_matches_the_parameter_count(tmp_path: Path) -> None:
    spec = TinyModelSpec.preset("tiny", seed=4)
    path = write_spec(tmp_path / "m.gguf", spec)
    weights = spec.parameter_count() * 4
    assert weights < path.stat().st_size < weights + 64_000  # header and tokenizer


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"hidden": 0}, "hidden=0: must be at least 1"),
        ({"heads": 3}, "heads=3: must divide hidden=64"),
        ({"hidden": 128, "heads": 4, "kv_heads": 3}, "kv_heads=3: must divide heads=4"),
        ({"vocab": 10}, "vocab=10: must be at least"),
        ({"ctx": 8}, "ctx=8"),
        ({"seed": -1}, "seed=-1"),
    ],
)
def test_bad_shapes_are_config_errors(tmp_path: Path, fields: dict[str, int], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        write_tiny_gguf(tmp_path / "m.gguf", **fields)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def test_bad_preset_and_paths(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="known sizes: tiny, small"):
        TinyModelSpec.preset("huge")
    with pytest.raises(ConfigError, match="unknown tiny-model field"):
        TinyModelSpec.preset("tiny", width=3)
    with pytest.raises(ConfigError, match="is a directory"):
        write_tiny_gguf(tmp_path)
    with pytest.raises(ConfigError, match="does not exist"):
        write_tiny_gguf(tmp_path / "no" / "m.gguf")


def test_loads_in_llama_cpp_and_round_trips_text(tmp_path: Path) -> None:
    llama_cpp = pytest.importorskip("llama_cpp")
    path = write_tiny_gguf(tmp_path / "m.gguf")
    llm = llama_cpp.Llama(str(path), n_ctx=256, verbose=False)
    try:
        text = "Héllo, wörld! 42 <tags> & ünïcode ✓"
        tokens = llm.tokenize(text.encode(), add_bos=True, special=False)
        assert tokens[0] == 1  # BOS
        assert llm.detokenize(tokens[1:]).decode() == " " + text  # SentencePiece's space prefix
        assert llm.n_ctx() == 256
        assert llm.metadata["general.architecture"] == "llama"
    finally:
        llm.close()
