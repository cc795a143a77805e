"""Plain text and Markdown files: one Document per file."""

from __future__ import annotations

import re
from pathlib import Path

from langchain_core.documents import Document

from loaders.base import check_readable_file, decode_bytes, make_document, require_text

_MARKDOWN_TITLE = re.compile(r"^\s*#\s+(.+?)\s*#*\s*$", re.MULTILINE)


def load_text(path: Path, source: str) -> list[Document]:
    check_readable_file(path, source)
    text = decode_bytes(path.read_bytes(), source)
    is_markdown = path.suffix.lower() in {".md", ".markdown"}
    title = None
    if is_markdown:
        match = _MARKDOWN_TITLE.search(text)
        title = match.group(1) if match else None
    doc = make_document(
        text, source, "markdown" if is_markdown else "text", title=title or path.stem
    )
    return require_text([doc], source)
