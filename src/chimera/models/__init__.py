"""Model files Chimera can make itself: tiny random-weight GGUFs for demos and tests."""

from chimera.models.tiny import PRESETS, TinyModelSpec, write_spec, write_tiny_gguf

__all__ = ["PRESETS", "TinyModelSpec", "write_spec", "write_tiny_gguf"]
