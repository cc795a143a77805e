"""HTML files and http(s) URLs: main content through trafilatura, so menus and footers stay out."""

from __future__ import annotations

import re
from pathlib import Path

from langchain_core.documents import Document

from loaders.base import check_readable_file, decode_bytes, make_document, require_text
from loaders.errors import LoaderError

FETCH_TIMEOUT_SECONDS = 20
USER_AGENT = "rag-app/0.1 (+https://github.com/rag-app)"
_META_CHARSET = re.compile(rb"""<meta[^>]+charset=["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_TITLE_TAG = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def load_html_file(path: Path, source: str) -> list[Document]:
    check_readable_file(path, source)
    return html_to_documents(decode_bytes(path.read_bytes(), source), source, "html", fallback_title=path.stem)


def load_url(url: str) -> list[Document]:
    import requests

    try:
        response = requests.get(url, timeout=FETCH_TIMEOUT_SECONDS, headers={"User-Agent": USER_AGENT})
    except requests.RequestException as exc:
        raise LoaderError(url, f"cannot fetch URL ({type(exc).__name__}); check the address and your network") from exc
    if response.status_code >= 400:
        raise LoaderError(url, f"cannot fetch URL: HTTP {response.status_code}; check the address")
    content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/pdf" or response.content[:5] == b"%PDF-":
        from loaders.pdf import load_pdf_bytes

        return load_pdf_bytes(response.content, url, default_title=url.rstrip("/").rsplit("/", 1)[-1])
    if content_type and not content_type.startswith("text/") and "html" not in content_type and "xml" not in content_type:
        raise LoaderError(url, f"unsupported content type {content_type!r}; pass an HTML page, a PDF or a text file")
    text = _decode_response(response, url)
    if content_type.startswith("text/plain"):
        return require_text([make_document(text, url, "url", title=url)], url)
    return html_to_documents(text, url, "url", fallback_title=url)


def _decode_response(response, url: str) -> str:
    """The declared charset when the server sends one, else the page's <meta charset>, else UTF-8/CP949.

    requests assumes ISO-8859-1 for text/* without a charset, which garbles every Korean page.
    """
    if "charset=" in response.headers.get("content-type", "").lower():
        return response.text
    meta = _META_CHARSET.search(response.content[:4096])
    if meta:
        try:
            return response.content.decode(meta.group(1).decode("ascii"), errors="replace")
        except LookupError:
            pass  # an unknown charset name: fall through to detection
    return decode_bytes(response.content, url)


def html_to_documents(html: str, source: str, source_type: str, fallback_title: str) -> list[Document]:
    import trafilatura

    text = trafilatura.extract(
        html, include_comments=False, include_tables=True, favor_recall=True, deduplicate=False
    )
    title = _html_title(html, trafilatura)
    doc = make_document(text or "", source, source_type, title=title or fallback_title)
    return require_text([doc], source)


def _html_title(html: str, trafilatura) -> str | None:
    metadata = trafilatura.extract_metadata(html)
    if metadata is not None and metadata.title:
        return metadata.title.strip()
    match = _TITLE_TAG.search(html)
    return match.group(1).strip() if match and match.group(1).strip() else None
