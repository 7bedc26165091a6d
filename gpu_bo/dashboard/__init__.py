"""The live web dashboard of the studies in a storage: ``gpu-bo dashboard sqlite:///study.db``.

A local web page (Starlette app served by uvicorn; ``pip install 'gpu-bo[dashboard]'``) listing
the studies of a storage and, per study, the best-so-far history, parallel coordinates, parameter
importance, slices, the Pareto front (several objectives), intermediate values and a trial table.
The page polls for trials written since it loaded, so a running study shows up live.

Safe by default: it binds ``127.0.0.1`` (a warning for any other host), serves GET only, renders
every name, value and error as text, and serves only the files of its ``static/`` folder. All
its assets ship in the wheel; the page fetches nothing from the network.
"""

from __future__ import annotations

import warnings

from gpu_bo.dashboard.server import MISSING_EXTRA, create_app, is_loopback
from gpu_bo.storage import Storage

__all__ = ["create_app", "serve", "is_loopback"]


def serve(store: Storage, host: str = "127.0.0.1", port: int = 8080, log_level: str = "warning") -> None:
    """Serve the dashboard of ``store`` until interrupted (Ctrl-C).

    Args:
        store: an open storage, read (never written) on every request.
        host: the address to bind; anything but a loopback address warns, since the page has
            no login and shows every study of the storage to whoever reaches the port.
        port: the TCP port (0: a free one).
        log_level: uvicorn's log level.

    Raises:
        ImportError: starlette or uvicorn is missing (the message names the extra to install).
    """
    try:
        import uvicorn
    except ImportError:
        raise ImportError(MISSING_EXTRA) from None
    if not is_loopback(host):
        warnings.warn(f"--host {host}: the dashboard is reachable from other machines and has no login; "
                      "anyone who reaches the port sees every study of the storage (it cannot change them)",
                      UserWarning, stacklevel=2)
    uvicorn.run(create_app(store), host=host, port=port, log_level=log_level)
