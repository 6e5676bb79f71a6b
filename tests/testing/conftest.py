"""The test-server fixtures, used here as users would use them in their own suites."""

from chimera.testing.pytest_plugin import chimera_server, chimera_server_thread

__all__ = ["chimera_server", "chimera_server_thread"]
