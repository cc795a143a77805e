"""Derived indexes (BM25, corpus statistics) cached per process and on disk, keyed by a version stamp.

The manifest gets a new version on every write. A derived index stores the version it was built
from, so a process notices another process's ingest with one small read, and a crash between the
manifest write and the rebuild is repaired on the next load. Nothing is rebuilt per query.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Callable, Protocol, TypeVar

log = logging.getLogger(__name__)


class Versioned(Protocol):
    version: str

    def save(self, directory: Path) -> None: ...


T = TypeVar("T", bound=Versioned)

_cache: dict[str, Versioned] = {}
_lock = threading.Lock()


def load_versioned(directory: Path, version: str, load: Callable[[Path], T | None], rebuild: Callable[[], T]) -> T:
    """The object for `directory` at `version`: from memory, else from disk, else `rebuild()` and save."""
    key = str(directory)
    with _lock:
        cached = _cache.get(key)
    if cached is not None and cached.version == version:
        return cached  # type: ignore[return-value]
    loaded = load(directory)
    if loaded is None or loaded.version != version:
        log.info("rebuilding %s", directory)
        loaded = rebuild()
        loaded.save(directory)
    with _lock:
        _cache[key] = loaded
    return loaded
