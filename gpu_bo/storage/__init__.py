"""Persistence of studies: the interface, the stores, and a registry of URL schemes.

``open_storage(url)`` picks the store by the URL's scheme:

- ``"sqlite:///rel/path.db"`` (relative to the working directory) or ``"sqlite:////abs/path.db"``
  (four slashes: absolute), SQLAlchemy's convention, or a plain path ending in ``.db``,
  ``.sqlite`` or ``.sqlite3``: :class:`SQLiteStorage` (:mod:`gpu_bo.storage.sqlite`);
- ``"memory://"``: a new, empty :class:`InMemoryStorage` (:mod:`gpu_bo.storage.memory`);
- ``"postgresql://user:password@host:port/dbname"`` (or ``postgres://``): :class:`PostgresStorage`
  (:mod:`gpu_bo.storage.postgres`, needs the ``postgres`` extra), shared by many hosts.

The interface every store implements is :class:`Storage` (:mod:`gpu_bo.storage.base`), and one
contract test module (``tests/test_storage_contract.py``) runs against every registered scheme.
A new store is one new file plus one :func:`register_storage` call here (and a URL in the
contract tests).
"""

from __future__ import annotations

import os
from collections.abc import Callable

from gpu_bo.exceptions import StorageError
from gpu_bo.storage.base import DuplicateParams, Storage, StudyInfo, process_owner
from gpu_bo.storage.memory import InMemoryStorage
from gpu_bo.storage.postgres import PostgresStorage, redact_url
from gpu_bo.storage.sqlite import SCHEMA_VERSION, SQLiteStorage

__all__ = ["Storage", "DuplicateParams", "InMemoryStorage", "PostgresStorage", "SQLiteStorage", "StudyInfo",
           "open_storage", "process_owner", "register_storage", "storage_schemes", "SCHEMA_VERSION", "display_url"]

StorageFactory = Callable[[str, bool], Storage]
"""``factory(url, create) -> Storage``: opens the store a URL of its scheme names."""

_FACTORIES: dict[str, StorageFactory] = {}
_EXAMPLES: dict[str, str] = {}
_PATH_SUFFIXES = (".db", ".sqlite", ".sqlite3")


def register_storage(scheme: str, factory: StorageFactory, example: str | None = None) -> None:
    """Make ``open_storage("<scheme>://...")`` call ``factory(url, create)``.

    Args:
        scheme: the URL scheme, e.g. ``"postgresql"`` (a new one, or a built-in one to replace).
        factory: called with the whole URL and the ``create`` flag of :func:`open_storage`;
            returns a :class:`Storage`.
        example: a URL shown in the error for an unknown scheme (default ``"<scheme>://..."``).

    Raises:
        ValueError: ``scheme`` is not a non-empty str of letters, digits, ``+``, ``-``, ``.``.
        TypeError: ``factory`` is not callable.
    """
    if not isinstance(scheme, str) or not scheme or not all(c.isalnum() or c in "+-." for c in scheme):
        raise ValueError(f"scheme: got {scheme!r}, expected a URL scheme such as 'postgresql'")
    if not callable(factory):
        raise TypeError(f"factory: got {type(factory).__name__}, expected a callable (url, create) -> Storage")
    _FACTORIES[scheme] = factory
    _EXAMPLES[scheme] = example or f"'{scheme}://...'"


def storage_schemes() -> list[str]:
    """The registered URL schemes, in registration order."""
    return list(_FACTORIES)


def open_storage(url: str | os.PathLike | Storage, *, create: bool = False) -> Storage:
    """Open a store from a URL.

    Args:
        url: ``"<scheme>://..."`` of a registered scheme (``"sqlite:///relative.db"``,
            ``"sqlite:////absolute.db"``, ``"memory://"``), a path ending in
            ``.db``/``.sqlite``/``.sqlite3``, or a :class:`Storage` (returned as is).
        create: create the file when it does not exist (the runner does; readers such as
            ``gpu-bo show`` do not, so a mistyped path is an error instead of a new empty file).

    Raises:
        StorageError: unknown URL scheme; missing file (with ``create=False``); a corrupt
            file or one that is not a gpu_bo storage file.
        TypeError: ``url`` is neither a str, a path nor a Storage.
    """
    if isinstance(url, Storage):
        return url
    if isinstance(url, os.PathLike):
        return SQLiteStorage(os.fspath(url), create=create)
    if not isinstance(url, str):
        raise TypeError(f"storage: got {type(url).__name__}, expected a URL such as 'sqlite:///study.db'")
    scheme, sep, _ = url.partition("://")
    if sep and scheme in _FACTORIES:
        return _FACTORIES[scheme](url, create)
    if not sep and url.endswith(_PATH_SUFFIXES):
        return SQLiteStorage(url, create=create)
    known = ", ".join(f"{s} ({_EXAMPLES[s]})" for s in _FACTORIES)
    what = f"unknown scheme {scheme!r}" if sep else "no scheme"
    raise StorageError(f"storage: got {display_url(url)!r} ({what}); expected a URL of a known scheme: {known}, "
                       f"or a path ending in {', '.join(_PATH_SUFFIXES)}")


def display_url(url: str) -> str:
    """A storage URL as it may be printed: a password in it is left out.

    ``postgresql://user:secret@host/db`` becomes ``postgresql://user@host/db``; a URL or path
    without credentials is returned as it is.

    Args:
        url: a storage URL or path.
    """
    netloc = url.partition("://")[2].partition("/")[0]
    return redact_url(url) if "@" in netloc else url


def _open_sqlite(url: str, create: bool) -> SQLiteStorage:
    path = url[len("sqlite:///"):] if url.startswith("sqlite:///") else ""
    if not path:
        raise StorageError(f"storage: got {url!r}, expected 'sqlite:///relative/path.db' or "
                           "'sqlite:////absolute/path.db'")
    return SQLiteStorage(path, create=create)


def _open_memory(url: str, create: bool) -> InMemoryStorage:
    if url != "memory://":
        raise StorageError(f"storage: got {url!r}, expected 'memory://' (a new in-memory store)")
    return InMemoryStorage()


register_storage("sqlite", _open_sqlite, "'sqlite:///relative/path.db' or 'sqlite:////absolute/path.db'")
register_storage("memory", _open_memory, "'memory://'")
register_storage("postgresql", lambda url, create: PostgresStorage(url, create=create),
                 "'postgresql://user:password@host:port/dbname' (needs the postgres extra)")
register_storage("postgres", lambda url, create: PostgresStorage(url, create=create),
                 "'postgres://user:password@host:port/dbname'")
