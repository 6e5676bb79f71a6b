"""Joining or starting the Ray cluster the ``ray`` executor runs on, and leaving it after."""

from __future__ import annotations

import contextlib
import gc
import socket
import warnings
from collections.abc import Iterator
from typing import Any

from chimera.configfile import one_line
from chimera.errors import ConfigError
from chimera.executor.pool import ExecutorSettings

INSTALL_HINT = "--executor ray needs Ray; install it with `pip install 'chimera-bench[ray]'`"
CONNECT_TIMEOUT_S = 5.0  # a cluster address that does not answer by then is unreachable


def import_ray() -> Any:
    """The ``ray`` module, or a ConfigError saying how to install it."""
    try:
        import ray
    except ImportError:
        raise ConfigError(INSTALL_HINT) from None
    return ray


def _host_port(address: str) -> tuple[str, int] | None:
    """``HOST:PORT`` of an address (``ray://`` or not); None for ``auto``."""
    if address == "auto":
        return None
    rest = address.removeprefix("ray://")
    host, sep, port = rest.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ConfigError(
            f"--ray-address {address!r} is not auto, HOST:PORT or ray://HOST:PORT; give the "
            "address `ray start --head` printed"
        )
    return host.strip("[]"), int(port)


def check_reachable(address: str) -> None:
    """A TCP connection to the cluster's address, so that a wrong address fails in seconds
    with its name, not after Ray's own minute of retries."""
    target = _host_port(address)
    if target is None:
        return
    try:
        with socket.create_connection(target, timeout=CONNECT_TIMEOUT_S):
            pass
    except OSError as exc:
        raise ConfigError(
            f"cannot reach the Ray cluster at {address}: {one_line(str(exc))}; start it with "
            "`ray start --head` or give the address it printed"
        ) from None


@contextlib.contextmanager
def ray_cluster(settings: ExecutorSettings) -> Iterator[Any]:
    """Ray, connected: to the cluster at ``settings.address``, or to an instance started here
    on the loopback (no dashboard) and shut down on leaving. Yields the ``ray`` module."""
    ray = import_ray()
    if ray.is_initialized():  # the caller's own connection (a test, a notebook): used as is
        yield ray
        return
    kwargs: dict[str, Any] = {
        "include_dashboard": False,
        "log_to_driver": False,  # a worker's logs stay in the session folder
        "configure_logging": False,
    }
    if settings.address is None:
        kwargs.update(address="local", _node_ip_address="127.0.0.1", num_cpus=settings.num_cpus)
    else:
        check_reachable(settings.address)
        kwargs["address"] = settings.address
        kwargs.pop("include_dashboard")
    try:
        ray.init(**kwargs)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = settings.address or "this machine"
        raise ConfigError(
            f"cannot start or join the Ray cluster at {where}: {one_line(str(exc))}"
        ) from None
    try:
        yield ray
    finally:
        shutdown(ray)


def shutdown(ray: Any) -> None:
    """``ray.shutdown()`` waiting for the processes it started to end (none left running, or
    as a zombie), and the log files Ray opened for them closed now (left to the garbage
    collector they would warn, unclosed, in whatever code runs next)."""
    ray.shutdown(wait_for_processes=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


def dead_worker_reason(exc: BaseException) -> str:
    """One line saying a Ray worker or node died, from Ray's error."""
    first = one_line(str(exc)).split(". ")[0] if str(exc) else type(exc).__name__
    return f"the Ray worker died ({type(exc).__name__}: {first[:200]})"
