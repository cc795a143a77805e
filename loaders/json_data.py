"""JSON and JSON Lines files: one Document per record, rendered as "key: value" lines.

A record is an element of a top-level array, a top-level key of an object (or, when that key holds
a list of objects, each object in it: the usual {"items": [...]} shape), or one line of a .jsonl
file. Nested values are flattened with dotted paths and list indexes ("address.city: 서울",
"orders[0].id: 7"); a list of plain values is one comma-separated line; nulls and empty strings are
left out, as empty cells are in spreadsheets. `location` is the record's JSON pointer (RFC 6901)
for .json files and "line N" for .jsonl files.

    >>> docs = load_json(Path("shops.json"), "shops.json")            # doctest: +SKIP
    >>> docs[1].page_content, docs[1].metadata["location"]
    ('name: 강남점\\naddress.city: 서울\\ntags: 주차, 24시간', '/items/1')
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from langchain_core.documents import Document

from loaders.base import check_readable_file, decode_bytes, make_document, require_text
from loaders.errors import LoaderError


def _unreadable(source: str, exc: Exception) -> LoaderError:
    """JSON that parses as text but that Python cannot hold: nesting past the recursion limit, or
    an integer too long to convert."""
    if isinstance(exc, RecursionError):
        return LoaderError(source, "JSON nested too deeply to read (thousands of levels); flatten the file")
    return LoaderError(source, f"JSON value cannot be read ({str(exc).splitlines()[0][:120]}); fix or remove it")


def load_json(path: Path, source: str) -> list[Document]:
    check_readable_file(path, source)
    text = decode_bytes(path.read_bytes(), source)
    try:
        data = json.loads(text)
        documents = [
            make_document(render_record(value, prefix), source, "json", title=path.stem, location=pointer or None)
            for pointer, prefix, value in json_records(data)
        ]
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data" and text.lstrip().startswith(("{", "[")):
            # Several values one after another: a JSON Lines file saved with a .json name.
            return _documents_from_lines(text, path, source, "json")
        raise LoaderError(
            source, f"invalid JSON at line {exc.lineno}, column {exc.colno} ({exc.msg}); fix the file there"
        ) from None
    except (RecursionError, ValueError) as exc:
        raise _unreadable(source, exc) from None
    return require_text(documents, source)


def load_jsonl(path: Path, source: str) -> list[Document]:
    check_readable_file(path, source)
    return _documents_from_lines(decode_bytes(path.read_bytes(), source), path, source, "jsonl")


def _documents_from_lines(text: str, path: Path, source: str, source_type: str) -> list[Document]:
    documents = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = render_record(json.loads(line))
        except json.JSONDecodeError as exc:
            raise LoaderError(
                source,
                f"invalid JSON on line {number}, column {exc.colno} ({exc.msg}); each line must be one complete JSON value",
            ) from None
        except (RecursionError, ValueError) as exc:
            raise _unreadable(source, exc) from None
        documents.append(make_document(record, source, source_type, title=path.stem, location=f"line {number}"))
    return require_text(documents, source)


def json_records(data: Any) -> list[tuple[str, str, Any]]:
    """(JSON pointer, path prefix for the rendered keys, value) for each record of a document.

        >>> json_records({"title": "목록", "items": [{"a": 1}, {"a": 2}]})
        [('/title', 'title', '목록'), ('/items/0', '', {'a': 1}), ('/items/1', '', {'a': 2})]
    """
    if isinstance(data, list):
        return [(f"/{index}", "", item) for index, item in enumerate(data)]
    if not isinstance(data, dict):
        return [("", "", data)]
    records = []
    for key, value in data.items():
        pointer = "/" + str(key).replace("~", "~0").replace("/", "~1")
        if isinstance(value, list) and value and all(isinstance(item, (dict, list)) for item in value):
            records.extend((f"{pointer}/{index}", "", item) for index, item in enumerate(value))
        else:
            records.append((pointer, str(key), value))
    return records


def render_record(value: Any, prefix: str = "") -> str:
    """
    >>> render_record({"name": "김", "address": {"city": "서울"}, "tags": ["a", "b"], "memo": None})
    'name: 김\\naddress.city: 서울\\ntags: a, b'
    """
    return "\n".join(_field_lines(value, prefix))


def _field_lines(value: Any, path: str) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _field_lines(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        if all(not isinstance(item, (dict, list)) for item in value):
            texts = [text for text in map(_scalar_text, value) if text]
            if texts:
                yield f"{path}: {', '.join(texts)}" if path else ", ".join(texts)
        else:
            for index, item in enumerate(value):
                yield from _field_lines(item, f"{path}[{index}]")
    else:
        text = _scalar_text(value)
        if text:
            yield f"{path}: {text}" if path else text


def _scalar_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    return json.dumps(value)  # true/false, and numbers as they read in JSON
