"""The process backend's pruning transport: the driver's :class:`~gpu_bo.pruning.LocalPruning`
served to worker processes over a ``multiprocessing.connection`` socket.

The worker pipes of :class:`~gpu_bo.backends.local.ProcessBackend` are read only when the
driver's loop waits for results, which it does not while it fits the GP or maximizes the
acquisition; a report or a question sent there could wait seconds. So the driver serves its
board on its own socket (a Unix socket where there is one, else what ``Listener`` picks), one
daemon thread per worker connection: a question waits only for the board's lock. Reports are
sent without a reply (the worker goes on at once); a later question on the same connection is
answered after them. Connections are authenticated with a random key that travels with the
client.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from multiprocessing.connection import Client, Listener
from typing import Any

from gpu_bo.pruning import LocalPruning

__all__ = ["ServedPruning", "SocketPruningClient"]

_CONNECTIONS: dict[tuple[int, Any], Any] = {}  # (pid, address) -> this worker's open connection


class SocketPruningClient:
    """The worker side: sends reports and questions to a :class:`ServedPruning` (picklable: only
    the address and the key travel; each worker process opens one connection, on first use).

    Args:
        address: the listener's address.
        authkey: the listener's key.
    """

    def __init__(self, address: Any, authkey: bytes) -> None:
        self.address = address
        self.authkey = authkey

    def _conn(self) -> Any:
        key = (os.getpid(), self.address)
        conn = _CONNECTIONS.get(key)
        if conn is None:
            conn = _CONNECTIONS[key] = Client(self.address, authkey=self.authkey)
        return conn

    def report(self, number: int, step: int, value: float) -> None:
        """Send one report (no reply is awaited)."""
        self._conn().send(("report", number, step, value))

    def should_prune(self, number: int) -> bool:
        """Ask the driver for trial ``number``'s decision."""
        conn = self._conn()
        conn.send(("prune", number))
        return bool(conn.recv())


class ServedPruning:
    """The driver side: a :class:`LocalPruning` with a listener thread in front of it.

    Args:
        local: the study's board and pruner (the driver keeps calling it directly).
    """

    def __init__(self, local: LocalPruning) -> None:
        self.local = local
        self._key = os.urandom(32)
        self._listener = Listener(authkey=self._key)
        self._closed = False
        threading.Thread(target=self._accept, daemon=True, name="gpu_bo-pruning-listener").start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                conn = self._listener.accept()
            except Exception:  # noqa: BLE001 - a failed handshake, or the listener closed
                continue
            if self._closed:
                conn.close()
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True, name="gpu_bo-pruning").start()

    def _serve(self, conn: Any) -> None:
        with conn:
            while not self._closed:
                try:
                    op, *args = conn.recv()
                    if op == "report":
                        self.local.report(*args)
                    elif op == "prune":
                        conn.send(self.local.should_prune(*args))
                except (EOFError, OSError):  # the worker ended (or was replaced)
                    return

    def client(self) -> SocketPruningClient:
        """The client each trial's task carries."""
        return SocketPruningClient(self._listener.address, self._key)

    def finish(self, number: int, intermediate: Mapping[int, float]) -> None:
        """See :meth:`gpu_bo.pruning.PruningService.finish`."""
        self.local.finish(number, intermediate)

    def close(self) -> None:
        """Stop listening (a last connection wakes the accepting thread so that it ends)."""
        if self._closed:
            return
        self._closed = True
        try:
            Client(self._listener.address, authkey=self._key).close()
        except Exception:  # noqa: BLE001 - best effort: the thread is a daemon anyway
            pass
        self._listener.close()
