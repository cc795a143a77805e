"""Bounds on loading one file or web page: its size and how long the load may take.

    >>> docs = load_limited("report.pdf", max_bytes=100 * 2**20, timeout=300)      # doctest: +SKIP
    >>> load_limited("huge.csv", max_bytes=2**20, timeout=300)                      # doctest: +SKIP
    LoaderError: huge.csv: the file is 812.0 MB, larger than the 1 MB limit; split it or raise RAG_APP_MAX_SOURCE_MB

Files and web pages load in a worker thread that is given `timeout` seconds; past that the load is
reported as failed and its result, if it ever comes, is dropped (a Python thread cannot be killed,
so the abandoned work runs to its end in the background, as a daemon thread). Databases and
YouTube transcripts are not bounded here: they stream rows or call one fixed service.

A reader that fails on a damaged file in a way it did not foresee (a parser's RecursionError or
MemoryError) fails that source alone, with a one-line LoaderError that names the exception; the
traceback goes to the DEBUG log. bench/fuzz_ingest.py counts how often that happens.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from langchain_core.documents import Document

from loaders import is_file_source, is_web_url, is_youtube, load_source
from loaders.errors import LoaderError, RagError

log = logging.getLogger(__name__)

DEFAULT_MAX_SOURCE_MB = 100.0
DEFAULT_LOAD_TIMEOUT = 300.0


def load_limited(
    source: str,
    *,
    max_bytes: int | None,
    timeout: float | None,
    url_policy=None,
    **options: Any,
) -> list[Document]:
    """`load_source(source, **options)` with a size cap (files before reading, downloads while
    reading) and a time limit for files and web pages; `url_policy` (a `url_safety.UrlPolicy`)
    makes web fetches refuse private addresses. None: no limit / no policy."""
    if is_file_source(source) and max_bytes is not None:
        path = Path(source)
        if path.is_file() and path.stat().st_size > max_bytes:
            size = path.stat().st_size
            raise LoaderError(
                source, f"the file is {size / 2**20:.1f} MB, larger than the {max_bytes / 2**20:g} MB limit; split it or raise RAG_APP_MAX_SOURCE_MB"
            )
    web = is_web_url(source) and not is_youtube(source)

    def fetch_and_read() -> list[Document]:
        if not web:
            return load_source(source, **options)
        if url_policy is None:
            return load_source(source, max_bytes=max_bytes, **options)
        from loaders.url_safety import safe_session

        with safe_session(url_policy) as session:
            return load_source(source, session=session, max_bytes=max_bytes, **options)

    def load() -> list[Document]:
        try:
            return fetch_and_read()
        except RagError:
            raise
        except Exception as exc:  # noqa: BLE001 - a reader's own bug on a damaged file fails that file alone
            log.debug("unexpected error while loading %s", source, exc_info=True)
            raise LoaderError(source, unexpected_reason(exc)) from exc

    if timeout is None or not (web or is_file_source(source)):
        return load()
    return _with_timeout(load, timeout, source)


def unexpected_reason(exc: BaseException) -> str:
    """The one-line reason for an error a reader did not expect (a third-party parser's
    RecursionError, MemoryError, zlib.error... on a damaged file); the traceback is logged at DEBUG.

    >>> unexpected_reason(RecursionError("maximum recursion depth exceeded"))
    'cannot be read (unexpected RecursionError: maximum recursion depth exceeded); the file may be damaged: open and save it again, or run with --log-level DEBUG and report it'
    """
    detail = " ".join(str(exc).split())[:200]
    return (
        f"cannot be read (unexpected {type(exc).__name__}{': ' + detail if detail else ''}); the file may be damaged: "
        "open and save it again, or run with --log-level DEBUG and report it"
    )


def _with_timeout(load, timeout: float, source: str) -> list[Document]:
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["documents"] = load()
        except BaseException as exc:  # handed to the caller's thread below, as it was raised
            outcome["error"] = exc

    worker = threading.Thread(target=run, name="rag-app load", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise LoaderError(
            source, f"loading took longer than {timeout:g} s, so it was given up; split the file, or raise RAG_APP_LOAD_TIMEOUT"
        )
    if "error" in outcome:
        raise outcome["error"]
    return outcome["documents"]
