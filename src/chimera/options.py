"""Inference options (num_gpu, num_ctx, temperature, ...) and how they are shown.

An option that is ``None`` is unset: it is left out of the request so the server's default
applies, and it is displayed as ``default``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chimera.configfile import problems
from chimera.errors import ConfigError

# The options the old tool's configuration line showed, in its order and with its labels.
LEGACY_DISPLAY: tuple[tuple[str, str], ...] = (
    ("num_gpu", "num_gpu"),
    ("num_ctx", "num_ctx"),
    ("temperature", "temp"),
    ("top_p", "top_p"),
    ("top_k", "top_k"),
    ("repeat_penalty", "repeat_penalty"),
)


class InferenceOptions(BaseModel):
    """Ollama's model options; every field optional. Other backends map what they support."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Load-time options
    num_ctx: int | None = Field(None, ge=1, description="context window, tokens")
    num_gpu: int | None = Field(None, ge=-1, description="layers offloaded to the GPU")
    num_batch: int | None = Field(None, ge=1, description="prompt batch size, tokens")
    num_thread: int | None = Field(None, ge=1, description="CPU threads")
    main_gpu: int | None = Field(None, ge=0)
    low_vram: bool | None = None
    use_mmap: bool | None = None
    use_mlock: bool | None = None
    numa: bool | None = None
    num_keep: int | None = None
    # Sampling and generation
    num_predict: int | None = Field(None, ge=-2, description="max output tokens (-1 unbounded)")
    seed: int | None = None
    temperature: float | None = Field(None, ge=0)
    top_p: float | None = Field(None, ge=0, le=1)
    top_k: int | None = Field(None, ge=0)
    min_p: float | None = Field(None, ge=0, le=1)
    typical_p: float | None = Field(None, ge=0, le=1)
    repeat_penalty: float | None = Field(None, ge=0)
    repeat_last_n: int | None = Field(None, ge=-1)
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    penalize_newline: bool | None = None
    mirostat: int | None = Field(None, ge=0, le=2)
    mirostat_tau: float | None = None
    mirostat_eta: float | None = None
    tfs_z: float | None = None
    stop: list[str] | None = None

    @classmethod
    def parse(cls, values: dict[str, Any], *, where: str = "options") -> InferenceOptions:
        """Validate a mapping of options into InferenceOptions, raising one clear ConfigError."""
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            known = ", ".join(cls.model_fields)
            raise ConfigError(f"invalid {where}: {problems(exc)}. Known options: {known}") from None

    def set_options(self) -> dict[str, Any]:
        """The options that are set, as sent to a server (unset ones are left out)."""
        return self.model_dump(exclude_none=True)

    def merged(self, override: InferenceOptions) -> InferenceOptions:
        """These options with every option set in ``override`` replacing ours."""
        return self.model_copy(update=override.set_options())

    def display(self) -> dict[str, str]:
        """Every known option as text, ``default`` where unset."""
        return {name: _fmt(getattr(self, name)) for name in type(self).model_fields}

    def legacy_line(self) -> str:
        """The old tool's configuration line, e.g. ``num_gpu=80, num_ctx=1024, temp=1, ...``."""
        parts = [f"{label}={_fmt(getattr(self, name))}" for name, label in LEGACY_DISPLAY]
        shown = {name for name, _ in LEGACY_DISPLAY}
        parts += [f"{k}={_fmt(v)}" for k, v in self.set_options().items() if k not in shown]
        return ", ".join(parts)


def _fmt(value: object) -> str:
    if value is None:
        return "default"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return "[" + ", ".join(repr(v) for v in value) + "]"
    return str(value)
