"""Model files Chimera can run: bundled real models (by alias) and tiny random-weight GGUFs."""

from chimera.models.bundled import (
    BUNDLED,
    DEFAULT_MODEL,
    BundledModel,
    NoSuchModelError,
    bundled_model,
    default_model,
    resolve_gguf,
)
from chimera.models.tiny import PRESETS, TinyModelSpec, write_spec, write_tiny_gguf

__all__ = [
    "BUNDLED",
    "DEFAULT_MODEL",
    "PRESETS",
    "BundledModel",
    "NoSuchModelError",
    "TinyModelSpec",
    "bundled_model",
    "default_model",
    "resolve_gguf",
    "write_spec",
    "write_tiny_gguf",
]
