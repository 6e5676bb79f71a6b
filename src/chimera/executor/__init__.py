"""Where the work of a sweep, a search or a load level runs: in this process (``local``) or
as tasks and actors of a Ray cluster (``ray``), over a pool of endpoints."""

from chimera.executor.pool import Endpoint, ExecutorSettings, endpoint_pool, read_endpoints

__all__ = ["Endpoint", "ExecutorSettings", "endpoint_pool", "read_endpoints"]
