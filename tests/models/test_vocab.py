"""The tiny models' SentencePiece-style vocabulary."""

from __future__ import annotations

import pytest

from chimera.models.vocab import (
    BYTE,
    CONTROL,
    FIRST_TEXT_ID,
    MAX_PIECE_CHARS,
    NORMAL,
    SPACE,
    build_vocab,
    min_vocab_size,
)


def test_exact_size_and_layout() -> None:
    v = build_vocab(600, seed=1)
    assert len(v) == len(v.tokens) == len(v.scores) == len(v.types) == 600
    assert v.tokens[:3] == ("<unk>", "<s>", "</s>")
    assert v.types[1] == v.types[2] == CONTROL
    assert v.tokens[3:FIRST_TEXT_ID] == tuple(f"<0x{b:02X}>" for b in range(256))
    assert set(v.types[3:FIRST_TEXT_ID]) == {BYTE}
    assert set(v.types[FIRST_TEXT_ID:]) == {NORMAL}
    assert len(set(v.tokens)) == 600  # no duplicates


def test_every_prefix_of_a_piece_is_a_piece() -> None:
    v = build_vocab(2000, seed=7)
    pieces = set(v.tokens[FIRST_TEXT_ID:])
    multi = [p for p in pieces if len(p) > 1]
    assert len(multi) > 1000
    for p in multi:
        for end in range(1, len(p)):
            assert p[:end] in pieces, (p, p[:end])


def test_pieces_are_printable_short_and_cannot_spell_a_stop_string() -> None:
    v = build_vocab(3000, seed=3)
    for p in v.tokens[FIRST_TEXT_ID:]:
        text = p.replace(SPACE, " ")
        assert text.isprintable()
        assert len(p) <= MAX_PIECE_CHARS
        assert len(p.encode()) < 32  # llama.cpp copies a piece into a 32-byte buffer
        assert not set(text) & set("<>|[]")


def test_deterministic_for_a_seed() -> None:
    assert build_vocab(800, seed=5) == build_vocab(800, seed=5)
    assert build_vocab(800, seed=5) != build_vocab(800, seed=6)


def test_longer_pieces_score_higher() -> None:
    # SentencePiece merges the best-scoring pair first, so words become few, long tokens.
    v = build_vocab(700, seed=0)
    text = sorted(zip(v.scores[FIRST_TEXT_ID:], v.tokens[FIRST_TEXT_ID:], strict=True))
    lengths = [len(p) for _, p in text]
    assert lengths == sorted(lengths)


def test_too_small_is_refused() -> None:
    with pytest.raises(ValueError, match="minimum"):
        build_vocab(min_vocab_size() - 1, seed=0)
    assert len(build_vocab(min_vocab_size(), seed=0)) == min_vocab_size()
