"""HTML files and http(s) URLs: main content through trafilatura, so menus and footers stay out."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urljoin

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
    _final_url, content_type, body, text = fetch(url)
    if content_type == "application/pdf" or body[:5] == b"%PDF-":
        from loaders.pdf import load_pdf_bytes

        return load_pdf_bytes(body, url, default_title=url.rstrip("/").rsplit("/", 1)[-1])
    if text is None:
        raise LoaderError(url, f"unsupported content type {content_type!r}; pass an HTML page, a PDF or a text file")
    if content_type.startswith("text/plain"):
        return require_text([make_document(text, url, "url", title=url)], url)
    return html_to_documents(text, url, "url", fallback_title=url)


def fetch(
    url: str,
    session=None,
    *,
    timeout: float = FETCH_TIMEOUT_SECONDS,
    accept: Callable[[str], bool] | None = None,
    on_redirect: Callable[[str], None] | None = None,
) -> tuple[str, str, bytes, str | None]:
    """GET `url` (through `session` when given) and return `(final_url, content_type, body, text)`.

    `content_type` is the lower-case media type without parameters ("" when the server sends none).
    `text` is the decoded body of text, HTML and XML responses, None for PDFs and binary types.
    `accept(content_type)` returning False skips downloading the body (`body` is b"", `text` None).
    `on_redirect(target_url)` is called before each redirect is followed; raise from it to stop there.
    Raises LoaderError for network errors, timeouts and HTTP status >= 400.
    """
    import requests

    hooks = {"response": functools.partial(_redirect_hook, on_redirect)} if on_redirect else None
    own_session = session is None
    if own_session:
        session = requests.Session()
    try:
        try:
            response = session.get(
                url, timeout=timeout, headers={"User-Agent": USER_AGENT}, stream=True, hooks=hooks
            )
        except requests.RequestException as exc:
            raise _fetch_error(url, exc) from exc
        with response:
            if response.status_code >= 400:
                raise LoaderError(url, f"cannot fetch URL: HTTP {response.status_code}; check the address")
            content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
            if accept is not None and not accept(content_type):
                return response.url, content_type, b"", None
            try:
                body = response.content
            except requests.RequestException as exc:  # e.g. a read timeout in the middle of the body
                raise _fetch_error(url, exc) from exc
            is_text = _is_text_type(content_type) and body[:5] != b"%PDF-"
            return response.url, content_type, body, _decode_response(response, url) if is_text else None
    finally:
        if own_session:
            session.close()


def _fetch_error(url: str, exc: Exception) -> LoaderError:
    return LoaderError(url, f"cannot fetch URL ({type(exc).__name__}); check the address and your network")


def _is_text_type(content_type: str) -> bool:
    return not content_type or content_type.startswith("text/") or "html" in content_type or "xml" in content_type


def _redirect_hook(on_redirect: Callable[[str], None], response, **_kwargs):
    """requests response hook: runs for every response, redirects included, before one is followed."""
    if response.is_redirect:
        target = urljoin(response.url, response.headers["location"])
        response.close()
        on_redirect(target)
    return response


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
