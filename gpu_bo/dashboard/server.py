"""The dashboard's web server: a Starlette app of GET-only JSON endpoints and static assets.

Why Starlette + uvicorn: a small, maintained ASGI toolkit whose ``StaticFiles`` already refuses
paths outside its folder, whose routes answer 405 to any method they do not list (so GET-only
is declared, not checked by hand), and whose ``TestClient`` tests the endpoints without a socket.

Endpoints (all GET; none changes a study):

- ``/`` and ``/study/{name}``: the page (``static/index.html``; the script reads the address);
- ``/api/studies``: :func:`gpu_bo.dashboard.data.study_list`;
- ``/api/studies/{name}``: :func:`~gpu_bo.dashboard.data.study_view`;
- ``/api/studies/{name}/updates?seq=N``: :func:`~gpu_bo.dashboard.data.updates_view`;
- ``/api/studies/{name}/importance?objective=K``: :func:`~gpu_bo.dashboard.data.importance_view`;
- ``/static/...``: the files of ``gpu_bo/dashboard/static/`` only.
"""

from __future__ import annotations

import ipaddress
import threading
from pathlib import Path
from typing import Any

from gpu_bo.dashboard import data
from gpu_bo.exceptions import StorageError
from gpu_bo.storage import Storage

__all__ = ["STATIC", "create_app", "is_loopback", "MISSING_EXTRA"]

STATIC = Path(__file__).resolve().parent / "static"
MISSING_EXTRA = "the dashboard needs starlette and uvicorn: pip install 'gpu-bo[dashboard]'"
_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
# the page's scripts and styles are its own files; nothing is fetched from anywhere else
_CSP = "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (``127.0.0.0/8``, ``::1``)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def create_app(store: Storage) -> Any:
    """The Starlette app serving ``store`` (read only: no endpoint writes to it).

    Args:
        store: an open storage; the app reads it on every request, so trials that another
            process writes to the same file show up.

    Raises:
        ImportError: starlette is not installed (the message names the extra to install).
    """
    try:
        from starlette.applications import Starlette
        from starlette.middleware import Middleware
        from starlette.middleware.base import BaseHTTPMiddleware
        from starlette.responses import FileResponse, JSONResponse
        from starlette.routing import Mount, Route
        from starlette.staticfiles import StaticFiles
    except ImportError:
        raise ImportError(MISSING_EXTRA) from None

    lock = threading.Lock()  # one store, requests served from a thread pool
    fit_lock = threading.Lock()
    importance_cache: dict[tuple[str, int], tuple[int, dict]] = {}

    def guarded(view: Any, *args: Any) -> Any:
        with lock:
            try:
                return JSONResponse(view(store, *args), headers=_HEADERS)
            except StorageError as e:
                return JSONResponse({"error": str(e)}, status_code=404, headers=_HEADERS)

    def page(request: Any) -> Any:
        return FileResponse(STATIC / "index.html", headers=_HEADERS)

    def studies(request: Any) -> Any:
        return guarded(data.study_list)

    def study(request: Any) -> Any:
        return guarded(data.study_view, request.path_params["name"])

    def _int_query(request: Any, key: str) -> int | None:
        try:
            v = int(request.query_params.get(key, "0"))
        except ValueError:
            return None
        return v if v >= 0 else None

    def updates(request: Any) -> Any:
        seq = _int_query(request, "seq")
        if seq is None:
            return JSONResponse({"error": "seq: expected an integer >= 0"}, status_code=400)
        return guarded(data.updates_view, request.path_params["name"], seq)

    def importance(request: Any) -> Any:
        name, k = request.path_params["name"], _int_query(request, "objective")
        if k is None:
            return JSONResponse({"error": "objective: expected an integer >= 0"}, status_code=400)

        with lock:  # read under the store's lock; the GP is fit outside it, so polls go on meanwhile
            try:
                info, st = store.study_info(name), store.load_study(name)
            except StorageError as e:
                return JSONResponse({"error": str(e)}, status_code=404, headers=_HEADERS)
        done = sum(t.state.value == "COMPLETE" for t in st.trials)
        with fit_lock:  # one fit at a time; refit only when the number of completed trials changed
            hit = importance_cache.get((name, k))
            if hit is None or hit[0] != done:
                hit = (done, data.importance_of(st, info.space, k))
                importance_cache[(name, k)] = hit
        return JSONResponse(hit[1], headers=_HEADERS)

    class SecurityHeaders(BaseHTTPMiddleware):
        async def dispatch(self, request: Any, call_next: Any) -> Any:
            response = await call_next(request)
            response.headers["Content-Security-Policy"] = _CSP
            response.headers["X-Content-Type-Options"] = "nosniff"
            return response

    routes = [
        Route("/", page, methods=["GET"]),
        Route("/study/{name:path}", page, methods=["GET"]),
        Route("/api/studies", studies, methods=["GET"]),
        Route("/api/studies/{name}/updates", updates, methods=["GET"]),
        Route("/api/studies/{name}/importance", importance, methods=["GET"]),
        Route("/api/studies/{name}", study, methods=["GET"]),
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
    ]
    return Starlette(routes=routes, middleware=[Middleware(SecurityHeaders)])
