"""What machine and software a run ran on, as every run record keeps it."""

from __future__ import annotations

import os
import platform
from typing import Any

from chimera import __version__


def system_info() -> dict[str, Any]:
    """Chimera's and Python's versions, the platform, the machine and its CPU count."""
    return {
        "chimera": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
    }
