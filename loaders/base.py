"""Shared helpers for loaders: the fixed metadata keys, text decoding and normalisation."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Any

from langchain_core.documents import Document

from loaders.errors import LoaderError

# The only metadata keys the pipeline writes (see ARCHITECTURE.md). Values are str/int/float;
# a key whose value would be None is left out, because Chroma rejects None values.
METADATA_KEYS = (
    "source",  # path, URL, SQLAlchemy URL without password + "#table", YouTube URL
    "source_type",  # text, markdown, pdf, html, url, sql, json, jsonl, ipynb, code, image, ...
    "title",
    "page",  # 1-based page number (PDF)
    "start_seconds",  # transcripts
    "row_id",  # databases
    "location",  # where else a part lives: "/items/2" (JSON pointer), "line 7", "lines 10-42", "cell 3"
    "language",  # source code and notebook code cells: "python", "java", ...
    "symbol",  # source code: the definition's name
    "chunk_index",  # position of the chunk inside its source
    "content_hash",  # sha256 of the chunk text
)

# Encodings tried in order for text files. CP949 (a superset of EUC-KR) is common for Korean
# files written on Windows; it is tried after UTF-8 so valid UTF-8 is never misread.
TEXT_ENCODINGS = ("utf-8-sig", "cp949")

_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def normalize_text(text: str) -> str:
    """NFC (so Hangul typed on macOS, which is NFD, matches), unified newlines, no control chars."""
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL_CHARS.sub("", text)


def decode_bytes(data: bytes, source: str) -> str:
    for encoding in TEXT_ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise LoaderError(source, "cannot decode text (not UTF-8 or CP949/EUC-KR); save it as UTF-8")


def make_document(text: str, source: str, source_type: str, **metadata: Any) -> Document:
    meta = {"source": source, "source_type": source_type}
    meta.update({key: value for key, value in metadata.items() if value is not None})
    return Document(page_content=normalize_text(text), metadata=meta)


def require_text(documents: list[Document], source: str) -> list[Document]:
    """Drop blank documents; a source with no text at all is an error, not a silent no-op."""
    kept = [doc for doc in documents if doc.page_content.strip()]
    if not kept:
        raise LoaderError(source, "document is empty (no extractable text); check the file or URL")
    return kept


def check_readable_file(path: Path, source: str) -> None:
    if not path.exists():
        raise LoaderError(source, "file not found; check the path")
    if not path.is_file():
        raise LoaderError(source, "not a regular file; pass a file, a directory, a URL or a database URL")
