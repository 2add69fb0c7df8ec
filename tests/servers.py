"""Servers the tests, the benchmarks and the load test start on this machine: a free loopback port to
put one on, and stopping one. Standard library only, so that anything may import it."""
from __future__ import annotations

import socket
import subprocess


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on now (the system picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop(*processes: subprocess.Popen, timeout: float = 20) -> None:
    """Ask each process to end, wait up to ``timeout`` seconds for each, and kill those still running."""
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
