"""Loaders: a source (file, directory, http(s) URL, SQLAlchemy URL) -> LangChain Documents.

    >>> from loaders import load_source
    >>> docs = load_source("samples/ko/07_rag.md")
    >>> docs[0].metadata["source_type"]
    'markdown'
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Callable

from langchain_core.documents import Document

from loaders.code import LANGUAGE_BY_SUFFIX as CODE_LANGUAGE_BY_SUFFIX
from loaders.errors import LoaderError, RagError
from loaders.ocr import IMAGE_SUFFIXES

TEXT_SUFFIXES = {".txt", ".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
PDF_SUFFIXES = {".pdf"}
# Office and Korean word-processor files: suffix -> (module, function).
OFFICE_LOADERS = {
    ".docx": ("loaders.office", "load_docx"),
    ".pptx": ("loaders.office", "load_pptx"),
    ".xlsx": ("loaders.office", "load_xlsx"),
    ".csv": ("loaders.office", "load_csv"),
    ".hwpx": ("loaders.hwp", "load_hwpx"),
    ".hwp": ("loaders.hwp", "load_hwp"),
}
# Structured data, notebooks, images (read by OCR) and source code: suffix -> (module, function).
DATA_AND_CODE_LOADERS = {
    ".json": ("loaders.json_data", "load_json"),
    ".jsonl": ("loaders.json_data", "load_jsonl"),
    ".ndjson": ("loaders.json_data", "load_jsonl"),
    ".ipynb": ("loaders.notebook", "load_notebook"),
    **{suffix: ("loaders.ocr", "load_image") for suffix in IMAGE_SUFFIXES},
    **{suffix: ("loaders.code", "load_code") for suffix in CODE_LANGUAGE_BY_SUFFIX},
}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | PDF_SUFFIXES | set(OFFICE_LOADERS) | set(DATA_AND_CODE_LOADERS)
_YOUTUBE = re.compile(r"^(?:youtube:|https?://(?:www\.|m\.)?(?:youtube\.com/|youtu\.be/))", re.IGNORECASE)
SQL_SCHEMES = ("sqlite", "postgresql", "postgres", "mysql", "mariadb", "oracle", "mssql", "duckdb")

__all__ = [
    "LoaderError",
    "RagError",
    "SUPPORTED_SUFFIXES",
    "expand_sources",
    "is_file_source",
    "is_sql_url",
    "is_web_url",
    "is_youtube",
    "load_source",
]


def is_youtube(source: str) -> bool:
    """youtube:ID, https://www.youtube.com/watch?v=ID, https://youtu.be/ID (and m./shorts/embed forms)."""
    return bool(_YOUTUBE.match(source))


def is_web_url(source: str) -> bool:
    return source.lower().startswith(("http://", "https://"))


def is_file_source(source: str) -> bool:
    """A path on disk (file or directory), as opposed to a URL, database URL or YouTube id."""
    return not (is_youtube(source) or is_web_url(source) or is_sql_url(source) or "://" in source)


def is_sql_url(source: str) -> bool:
    scheme = source.split("://", 1)[0].lower() if "://" in source else ""
    return scheme.split("+", 1)[0] in SQL_SCHEMES


def expand_sources(sources: list[str]) -> list[str]:
    """Directories become the supported files under them (recursively, sorted); others pass through.

    Hidden files and folders (".git", ".venv") are skipped. A directory with no supported file is an
    error for that directory only.
    """
    expanded: list[str] = []
    for source in sources:
        path = Path(source)
        if not is_file_source(source) or not path.is_dir():
            expanded.append(source)
            continue
        files = sorted(
            str(p)
            for p in path.rglob("*")
            if p.is_file()
            and p.suffix.lower() in SUPPORTED_SUFFIXES
            and not any(part.startswith(".") for part in p.relative_to(path).parts)
        )
        expanded.extend(files or [source])
    return expanded


def load_source(
    source: str,
    *,
    table: str | None = None,
    query: str | None = None,
    languages: tuple[str, ...] | None = None,
    on_rows: Callable[[int], None] | None = None,
    session=None,
    max_bytes: int | None = None,
) -> list[Document]:
    """Load one source (not a directory: see `expand_sources`). Raises LoaderError with the fix.

    `table`/`query` select rows of a database, read in batches with `on_rows(rows so far)` after
    each; `languages` orders YouTube transcript languages. For web pages, `session` is the
    `requests.Session` to fetch with (`loaders.url_safety.safe_session` refuses private addresses)
    and `max_bytes` the largest download (None: 100 MB). Size and time limits for every file and
    page: `loaders.limits.load_limited`.
    """
    if is_youtube(source):
        from loaders.youtube import DEFAULT_LANGUAGES, load_youtube

        return load_youtube(source, languages=tuple(languages or DEFAULT_LANGUAGES))
    if is_web_url(source):
        from loaders.html import DEFAULT_MAX_BYTES, load_url

        return load_url(source, session=session, max_bytes=max_bytes or DEFAULT_MAX_BYTES)
    if is_sql_url(source):
        from loaders.sql import load_sql

        return load_sql(source, table=table, query=query, on_rows=on_rows)
    if "://" in source:  # youtube: has no "//", and was handled above
        scheme = source.split("://", 1)[0]
        raise LoaderError(source, f"unsupported URL scheme {scheme!r}; use http(s):// or a SQLAlchemy database URL")
    path = Path(source)
    if path.is_dir():
        raise LoaderError(source, f"no supported files in directory (supported: {', '.join(sorted(SUPPORTED_SUFFIXES))})")
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        from loaders.text import load_text

        return load_text(path, source)
    if suffix in PDF_SUFFIXES:
        from loaders.pdf import load_pdf

        return load_pdf(path, source)
    if suffix in HTML_SUFFIXES:
        from loaders.html import load_html_file

        return load_html_file(path, source)
    if suffix in OFFICE_LOADERS or suffix in DATA_AND_CODE_LOADERS:
        module, function = OFFICE_LOADERS.get(suffix) or DATA_AND_CODE_LOADERS[suffix]
        return getattr(importlib.import_module(module), function)(path, source)
    if not path.exists():
        raise LoaderError(source, "file not found; check the path")
    raise LoaderError(
        source, f"unsupported file type {suffix or '(none)'!r}; supported: {', '.join(sorted(SUPPORTED_SUFFIXES))}"
    )
