"""A SentencePiece-style vocabulary for tiny test models: specials, 256 byte tokens, text pieces."""

from __future__ import annotations

import random
from dataclasses import dataclass

# gguf's TokenType values; spelled out so the layout of the vocabulary reads in one place.
NORMAL, UNKNOWN, CONTROL, BYTE = 1, 2, 3, 6

UNK_ID, BOS_ID, EOS_ID = 0, 1, 2
SPECIALS: tuple[tuple[str, int], ...] = (("<unk>", UNKNOWN), ("<s>", CONTROL), ("</s>", CONTROL))
N_BYTES = 256
FIRST_TEXT_ID = len(SPECIALS) + N_BYTES
SPACE = "\u2581"  # SentencePiece's word-start marker, shown as a space when detokenized

# Text pieces use letters, digits and mild punctuation only. Without "<", ">", "|" or "["
# no run of sampled pieces can spell a special token or a chat template's stop string
# ("</s>", "<|im_end|>", "[INST]"), so generation never stops before the requested count.
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_CHARS = _LETTERS + _LETTERS.upper() + "0123456789" + ".,;:!?'\"-()/&%+=*#@$_~"
# Letter frequencies make the noise look a little like words.
_COMMON = "etaoinshrdlucmfwypvbgkqjxz"
# llama.cpp copies each piece into a 32-byte buffer; stay well under it.
MAX_PIECE_CHARS = 8


@dataclass(frozen=True, slots=True)
class Vocab:
    """Token texts, scores and types, index = token id."""

    tokens: tuple[str, ...]
    scores: tuple[float, ...]
    types: tuple[int, ...]

    def __len__(self) -> int:
        return len(self.tokens)

    def is_text(self, token_id: int) -> bool:
        """True for the printable pieces the model is allowed to generate."""
        return self.types[token_id] == NORMAL


def min_vocab_size() -> int:
    """Specials, bytes, every single character and the word-start marker."""
    return FIRST_TEXT_ID + len(_CHARS) + 1


def build_vocab(size: int, seed: int) -> Vocab:
    """A vocabulary of exactly ``size`` tokens, the same for the same (size, seed).

    Every prefix of a multi-character piece is itself a piece: llama.cpp's SentencePiece
    tokenizer builds a long piece by merging adjacent pieces, so each step must be in the vocab.
    """
    if size < min_vocab_size():
        raise ValueError(f"vocab size {size} is below the minimum {min_vocab_size()}")
    rng = random.Random(seed)
    pieces: list[str] = [SPACE, *_CHARS]
    seen = set(pieces)
    while len(pieces) < size - FIRST_TEXT_ID:
        word = _random_piece(rng)
        # Add missing prefixes shortest first; stop at the size limit even mid-word, which
        # keeps the prefix rule since what was added is always a prefix chain from the start.
        for end in range(2, len(word) + 1):
            prefix = word[:end]
            if prefix in seen:
                continue
            if len(pieces) >= size - FIRST_TEXT_ID:
                break
            seen.add(prefix)
            pieces.append(prefix)

    tokens = [text for text, _ in SPECIALS]
    types = [kind for _, kind in SPECIALS]
    tokens += [f"<0x{b:02X}>" for b in range(N_BYTES)]
    types += [BYTE] * N_BYTES
    tokens += pieces
    types += [NORMAL] * len(pieces)
    # SentencePiece merges the highest-scoring pair first; longer pieces score higher so a
    # word becomes few tokens, as in a trained vocabulary. Specials and bytes score 0.
    scores = [0.0] * FIRST_TEXT_ID + [float(len(p)) - i * 1e-6 for i, p in enumerate(pieces)]
    return Vocab(tuple(tokens), tuple(scores), tuple(types))


def _random_piece(rng: random.Random) -> str:
    length = rng.randint(2, MAX_PIECE_CHARS - 1)
    letters = "".join(
        _COMMON[min(int(rng.expovariate(0.25)), len(_COMMON) - 1)] for _ in range(length)
    )
    # About half the pieces start a word, as in a trained SentencePiece vocabulary.
    return SPACE + letters if rng.random() < 0.5 else letters
