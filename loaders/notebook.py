"""Jupyter notebooks (.ipynb, nbformat 4): one Document per markdown or code cell, outputs skipped.

Code cells are fenced with the kernel's language ("```python"), so the text says what it is and
`language` is in their metadata. `location` is "cell N", counting every cell from 1 as Jupyter
shows them. The title is the notebook's first Markdown heading, else the file name.

    >>> docs = load_notebook(Path("분석.ipynb"), "분석.ipynb")          # doctest: +SKIP
    >>> docs[1].page_content, docs[1].metadata["location"]
    ('```python\\nimport pandas as pd\\n```', 'cell 2')
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from langchain_core.documents import Document

from loaders.base import check_readable_file, decode_bytes, make_document, require_text
from loaders.errors import LoaderError

_HEADING = re.compile(r"^\s*#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)


def load_notebook(path: Path, source: str) -> list[Document]:
    check_readable_file(path, source)
    text = decode_bytes(path.read_bytes(), source)
    try:
        notebook = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LoaderError(
            source, f"invalid notebook JSON at line {exc.lineno}, column {exc.colno} ({exc.msg}); open it in Jupyter and save it again"
        ) from None
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if not isinstance(cells, list):
        if isinstance(notebook, dict) and "worksheets" in notebook:
            raise LoaderError(source, "old notebook format (nbformat 3); convert it: jupyter nbconvert --to notebook --nbformat 4")
        raise LoaderError(source, 'not a Jupyter notebook (no "cells" list); open it in Jupyter and save it again')
    language = kernel_language(notebook)
    sources = [(cell.get("cell_type"), _cell_source(cell)) for cell in cells if isinstance(cell, dict)]
    title = _first_heading(sources) or path.stem
    documents = []
    for number, (kind, body) in enumerate(sources, start=1):
        location = f"cell {number}"
        if kind == "code" and body.strip():
            fenced = f"```{language}\n{body.strip()}\n```"
            documents.append(make_document(fenced, source, "ipynb", title=title, location=location, language=language))
        elif kind in ("markdown", "raw"):
            documents.append(make_document(body, source, "ipynb", title=title, location=location))
    return require_text(documents, source)


def kernel_language(notebook: dict[str, Any]) -> str:
    """The kernel's language: kernelspec.language, else language_info.name, else python."""
    metadata = notebook.get("metadata") or {}
    for section, key in (("kernelspec", "language"), ("language_info", "name")):
        value = (metadata.get(section) or {}).get(key)
        if isinstance(value, str) and value.strip():
            return value.strip().lower()
    return "python"


def _first_heading(sources: list[tuple[str, str]]) -> str | None:
    for kind, body in sources:
        match = _HEADING.search(body) if kind == "markdown" else None
        if match:
            return match.group(1)
    return None


def _cell_source(cell: dict[str, Any]) -> str:
    # nbformat stores a cell's text as one string or as a list of lines (each keeping its "\n").
    body = cell.get("source", "")
    return "".join(body) if isinstance(body, list) else str(body)
