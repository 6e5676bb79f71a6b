"""Write tiny random-weight llama GGUF models for demos and tests (no downloaded weights).

The model's text is noise, but it loads and runs in any llama.cpp build, streams at a
pace set by its size, and never stops early: one hidden channel is held constant through
the network and the special and byte tokens weigh very negatively on it, so they are never
sampled and a request for N tokens yields exactly N printable tokens.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from chimera.errors import ConfigError
from chimera.models.vocab import BOS_ID, EOS_ID, UNK_ID, Vocab, build_vocab, min_vocab_size

# The ChatML template, byte for byte as llama-cpp-python knows it, so its server and the
# in-process backend both format chat requests the same way.
CHAT_TEMPLATE = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + "
    "message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|im_start|>assistant\n' }}{% endif %}"
)
# Which hidden channel is held constant, and how strongly banned tokens weigh against it.
CONST_CHANNEL = 0
BAN_WEIGHT = -1000.0
_NORM_EPS = 1e-5


@dataclass(frozen=True, slots=True)
class TinyModelSpec:
    """The shape of a tiny model; ``None`` fields take a value derived from ``hidden``."""

    hidden: int = 64
    layers: int = 2
    heads: int | None = None
    kv_heads: int | None = None
    ff: int | None = None
    ctx: int = 2048
    vocab: int = 512
    seed: int = 0

    @classmethod
    def preset(cls, name: str, **overrides: Any) -> TinyModelSpec:
        """A named preset (see PRESETS) with the given fields replaced (``None`` = keep)."""
        if name not in PRESETS:
            raise ConfigError(f"unknown model size {name!r}; known sizes: {', '.join(PRESETS)}")
        given = {k: v for k, v in overrides.items() if v is not None}
        unknown = set(given) - set(cls.__dataclass_fields__)
        if unknown:
            raise ConfigError(f"unknown tiny-model field(s): {', '.join(sorted(unknown))}")
        return replace(PRESETS[name], **given).resolved()

    def resolved(self) -> TinyModelSpec:
        """This spec with heads, kv_heads and ff filled in, after checking every field."""
        heads = self.heads if self.heads is not None else max(1, self.hidden // 64)
        kv_heads = self.kv_heads if self.kv_heads is not None else heads
        ff = self.ff if self.ff is not None else _round_up(self.hidden * 8 // 3, 32)
        spec = replace(self, heads=heads, kv_heads=kv_heads, ff=ff)
        spec._check()
        return spec

    def _check(self) -> None:
        def bad(field: str, why: str) -> ConfigError:
            return ConfigError(f"tiny model {field}={getattr(self, field)}: {why}")

        for field in ("hidden", "layers", "heads", "kv_heads", "ff"):
            value = getattr(self, field)
            if value is None or value < 1:
                raise bad(field, "must be at least 1")
        assert self.heads is not None and self.kv_heads is not None
        if self.hidden % self.heads or (self.hidden // self.heads) % 2:
            raise bad("heads", f"must divide hidden={self.hidden} into even head sizes")
        if self.heads % self.kv_heads:
            raise bad("kv_heads", f"must divide heads={self.heads}")
        if self.ctx < 16:
            raise bad("ctx", "must be at least 16 tokens")
        if self.vocab < min_vocab_size():
            raise bad("vocab", f"must be at least {min_vocab_size()} (specials, bytes, chars)")
        if not 0 <= self.seed < 2**32:
            raise bad("seed", "must be in [0, 2**32)")

    @property
    def head_dim(self) -> int:
        assert self.heads is not None
        return self.hidden // self.heads

    def parameter_count(self) -> int:
        """Number of weights (all float32)."""
        s = self.resolved()
        assert s.ff is not None and s.kv_heads is not None
        kv = s.kv_heads * s.head_dim
        per_layer = 2 * s.hidden + 2 * s.hidden * s.hidden + 2 * kv * s.hidden + 3 * s.ff * s.hidden
        return 2 * s.vocab * s.hidden + s.hidden + s.layers * per_layer

    def as_dict(self) -> dict[str, int | None]:
        return asdict(self)


# "tiny" streams at ~1,500 tok/s and proves plumbing; "small" runs near a real GPU model's pace.
PRESETS: dict[str, TinyModelSpec] = {
    "tiny": TinyModelSpec(hidden=64, layers=2, vocab=512),
    "small": TinyModelSpec(hidden=512, layers=8, vocab=2560),
}


def write_tiny_gguf(
    path: str | os.PathLike[str],
    *,
    hidden: int = 64,
    layers: int = 2,
    heads: int | None = None,
    kv_heads: int | None = None,
    ff: int | None = None,
    ctx: int = 2048,
    vocab: int = 512,
    seed: int = 0,
) -> Path:
    """Write a random-weight llama GGUF to ``path`` (atomically) and return the path."""
    spec = TinyModelSpec(hidden, layers, heads, kv_heads, ff, ctx, vocab, seed)
    return write_spec(path, spec)


def write_spec(path: str | os.PathLike[str], spec: TinyModelSpec) -> Path:
    """Write the model ``spec`` describes; the same spec always gives the same bytes."""
    import gguf  # imported here: only this command needs it

    spec = spec.resolved()
    target = Path(path)
    if target.is_dir():
        raise ConfigError(f"{target} is a directory; give a file path such as {target}/tiny.gguf")
    if not target.parent.is_dir():
        raise ConfigError(f"cannot write {target}: directory {target.parent} does not exist")
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    vocab = build_vocab(spec.vocab, spec.seed)
    writer = gguf.GGUFWriter(tmp, "llama")
    try:
        try:
            _add_metadata(writer, spec, vocab)
            for name, array in _tensors(spec, vocab):
                writer.add_tensor(name, array)
            writer.write_header_to_file()
            writer.write_kv_data_to_file()
            writer.write_tensors_to_file()
        finally:
            writer.close()
        tmp.replace(target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    return target


def _add_metadata(writer: Any, spec: TinyModelSpec, vocab: Vocab) -> None:
    writer.add_name(f"chimera-tiny-h{spec.hidden}-l{spec.layers}-s{spec.seed}")
    writer.add_file_type(0)  # all float32
    writer.add_context_length(spec.ctx)
    writer.add_embedding_length(spec.hidden)
    writer.add_block_count(spec.layers)
    writer.add_feed_forward_length(spec.ff)
    writer.add_head_count(spec.heads)
    writer.add_head_count_kv(spec.kv_heads)
    writer.add_layer_norm_rms_eps(_NORM_EPS)
    writer.add_rope_dimension_count(spec.head_dim)
    writer.add_rope_freq_base(10000.0)
    writer.add_vocab_size(len(vocab))
    writer.add_tokenizer_model("llama")
    writer.add_token_list(list(vocab.tokens))
    writer.add_token_scores(list(vocab.scores))
    writer.add_token_types(list(vocab.types))
    writer.add_unk_token_id(UNK_ID)
    writer.add_bos_token_id(BOS_ID)
    writer.add_eos_token_id(EOS_ID)
    writer.add_add_bos_token(True)
    writer.add_add_eos_token(False)
    writer.add_chat_template(CHAT_TEMPLATE)


def _tensors(spec: TinyModelSpec, vocab: Vocab) -> list[tuple[str, np.ndarray[Any, Any]]]:
    """The llama tensors, numpy shape (out, in) as gguf expects, float32."""
    assert spec.ff is not None and spec.kv_heads is not None
    rng = np.random.default_rng(spec.seed)
    h, kv = spec.hidden, spec.kv_heads * spec.head_dim

    def weight(rows: int, cols: int) -> np.ndarray[Any, Any]:
        # 1/sqrt(fan_in) keeps activations near unit scale through the random layers.
        scale = np.float32(1.0 / np.sqrt(cols))
        w: np.ndarray[Any, Any] = rng.standard_normal((rows, cols), dtype=np.float32) * scale
        return w

    def ones(n: int) -> np.ndarray[Any, Any]:
        return np.ones(n, dtype=np.float32)

    embd = rng.standard_normal((len(vocab), h), dtype=np.float32)
    embd[:, CONST_CHANNEL] = 1.0  # every token carries the same value on the constant channel
    out: list[tuple[str, np.ndarray[Any, Any]]] = [("token_embd.weight", embd)]
    for i in range(spec.layers):
        attn_out = weight(h, h)
        ffn_down = weight(h, spec.ff)
        # No block writes to the constant channel, so the residual keeps it as embedded.
        attn_out[CONST_CHANNEL, :] = 0.0
        ffn_down[CONST_CHANNEL, :] = 0.0
        out += [
            (f"blk.{i}.attn_norm.weight", ones(h)),
            (f"blk.{i}.attn_q.weight", weight(h, h)),
            (f"blk.{i}.attn_k.weight", weight(kv, h)),
            (f"blk.{i}.attn_v.weight", weight(kv, h)),
            (f"blk.{i}.attn_output.weight", attn_out),
            (f"blk.{i}.ffn_norm.weight", ones(h)),
            (f"blk.{i}.ffn_gate.weight", weight(spec.ff, h)),
            (f"blk.{i}.ffn_up.weight", weight(spec.ff, h)),
            (f"blk.{i}.ffn_down.weight", ffn_down),
        ]
    output = weight(len(vocab), h)
    # After the final RMS norm the constant channel is always positive, so these rows push
    # every special and byte token far below any text piece.
    output[:, CONST_CHANNEL] = 0.0
    banned = np.array([not vocab.is_text(t) for t in range(len(vocab))])
    output[banned, CONST_CHANNEL] = BAN_WEIGHT
    out += [("output_norm.weight", ones(h)), ("output.weight", output)]
    return out


def _round_up(n: int, multiple: int) -> int:
    return max(multiple, (n + multiple - 1) // multiple * multiple)
