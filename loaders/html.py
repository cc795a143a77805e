"""HTML files and http(s) URLs: main content through trafilatura, so menus and footers stay out."""

from __future__ import annotations

import functools
import logging
import re
import time
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from langchain_core.documents import Document

from loaders.base import check_readable_file, decode_bytes, make_document, require_text
from loaders.errors import LoaderError

FETCH_TIMEOUT_SECONDS = 20
# The largest page or file downloaded (the app passes RAG_APP_MAX_SOURCE_MB).
DEFAULT_MAX_BYTES = 100 * 2**20
USER_AGENT = "rag-app/0.1 (+https://github.com/rag-app)"
_READ_CHUNK = 64 * 1024
_META_CHARSET = re.compile(rb"""<meta[^>]+charset=["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_NOISY_LOGGERS = ("trafilatura", "htmldate", "courlan", "justext")
_HEADER_CHARSET = re.compile(r"""charset=["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_TITLE_TAG = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def load_html_file(path: Path, source: str) -> list[Document]:
    check_readable_file(path, source)
    return html_to_documents(decode_bytes(path.read_bytes(), source), source, "html", fallback_title=path.stem)


def load_url(url: str, *, session=None, max_bytes: int | None = DEFAULT_MAX_BYTES) -> list[Document]:
    """One web page, PDF or text file. `session`: e.g. `url_safety.safe_session(policy)` for URLs
    typed by others; `max_bytes`: the largest body downloaded (None: no limit)."""
    _final_url, content_type, body, text = fetch(url, session, max_bytes=max_bytes)
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
    max_bytes: int | None = DEFAULT_MAX_BYTES,
    max_seconds: float | None = None,
) -> tuple[str, str, bytes, str | None]:
    """GET `url` (through `session` when given) and return `(final_url, content_type, body, text)`.

    `content_type` is the lower-case media type without parameters ("" when the server sends none).
    `text` is the decoded body of text, HTML and XML responses, None for PDFs and binary types.
    `accept(content_type)` returning False skips downloading the body (`body` is b"", `text` None).
    `on_redirect(target_url)` is called before each redirect is followed; raise from it to stop there.
    `timeout` bounds the connection and each read, `max_seconds` the whole download (None: no
    limit), `max_bytes` the body (None: no limit).
    Raises LoaderError for network errors, timeouts, HTTP status >= 400, a body over `max_bytes`,
    and (UnsafeUrlError) an address a safe session refuses.
    """
    import requests

    from loaders.url_safety import UnsafeUrlError

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
        except UnsafeUrlError as exc:  # raised by a safe session's connection, for this URL or a redirect
            raise UnsafeUrlError(url, ("" if exc.source == _origin(url) else "it redirects elsewhere: ") + exc.reason) from None
        with response:
            if response.status_code >= 400:
                raise LoaderError(url, f"cannot fetch URL: HTTP {response.status_code}; check the address")
            content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
            if accept is not None and not accept(content_type):
                return response.url, content_type, b"", None
            body = _read_body(response, url, max_bytes, max_seconds)
            is_text = _is_text_type(content_type) and body[:5] != b"%PDF-"
            return response.url, content_type, body, _decode_body(response.headers, body, url) if is_text else None
    finally:
        if own_session:
            session.close()


def _origin(url: str) -> str:
    from loaders.url_safety import host_port

    try:
        parts = urlsplit(url)
        return host_port(parts.hostname or "", parts.port or (443 if parts.scheme.lower() == "https" else 80))
    except ValueError:
        return ""


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


def _read_body(response, url: str, max_bytes: int | None, max_seconds: float | None) -> bytes:
    """The body, refused once it passes `max_bytes` or the download takes longer than `max_seconds`."""
    import requests
    import urllib3

    too_big = f"the response is larger than {_mb(max_bytes)}; raise RAG_APP_MAX_SOURCE_MB if it is expected"
    declared = response.headers.get("content-length", "")
    if max_bytes is not None and declared.isdigit() and int(declared) > max_bytes:
        raise LoaderError(url, too_big)
    deadline = time.monotonic() + max_seconds if max_seconds is not None else None
    parts: list[bytes] = []
    size = 0
    try:
        # read1: whatever one network read brings (decompressed in bounded steps), so neither a
        # trickling server nor a gzip bomb can hold a read past the checks below.
        while part := response.raw.read1(_READ_CHUNK, decode_content=True):
            parts.append(part)
            size += len(part)
            if max_bytes is not None and size > max_bytes:
                raise LoaderError(url, too_big)
            if deadline is not None and time.monotonic() > deadline:
                raise LoaderError(url, f"the download took longer than {max_seconds:g} s; the server is slow, retry later")
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:  # e.g. a read timeout
        raise _fetch_error(url, exc) from exc
    return b"".join(parts)


def _mb(n: int | None) -> str:
    return f"{n / 2**20:g} MB"


def _decode_body(headers, body: bytes, url: str) -> str:
    """The declared charset when the server sends one, else the page's <meta charset>, else UTF-8/CP949.

    requests assumes ISO-8859-1 for text/* without a charset, which garbles every Korean page.
    """
    declared = _HEADER_CHARSET.search(headers.get("content-type", ""))
    meta = declared or _META_CHARSET.search(body[:4096])
    if meta:
        name = meta.group(1)
        try:
            return body.decode(name if isinstance(name, str) else name.decode("ascii"), errors="replace")
        except LookupError:
            pass  # an unknown charset name: fall through to detection
    return decode_bytes(body, url)


def html_to_documents(html: str, source: str, source_type: str, fallback_title: str) -> list[Document]:
    """The page's main text (trafilatura); when trafilatura finds none, e.g. in a page nested deeper
    than lxml parses, all visible text (the standard library's parser has no depth limit)."""
    import trafilatura

    # trafilatura and lxml log a line or two for every empty, broken or deeply nested page, which
    # repeats what the one-line error says; a RAG app's user has no use for them.
    for name in _NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.CRITICAL)
    text = trafilatura.extract(
        html, include_comments=False, include_tables=True, favor_recall=True, deduplicate=False
    )
    if not (text or "").strip():
        text = visible_text(html)
    title = _html_title(html, trafilatura)
    doc = make_document(text or "", source, source_type, title=title or fallback_title)
    return require_text([doc], source)


def visible_text(html: str) -> str:
    """Text outside script, style, head and the like, one line per block element.

    >>> visible_text("<div><div><p>첫 줄</p><script>x()</script><p>second  line</p></div></div>")
    '첫 줄\nsecond line'
    """
    collector = _TextCollector()
    collector.feed(html)
    collector.close()
    lines = (" ".join(line.split()) for line in "".join(collector.parts).splitlines())
    return "\n".join(line for line in lines if line)


class _TextCollector(HTMLParser):
    HIDDEN = {"script", "style", "noscript", "template", "head", "title", "svg", "iframe", "object"}
    BLOCKS = {
        "p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article",
        "table", "ul", "ol", "dd", "dt", "blockquote", "pre", "hr", "header", "footer", "main",
    }  # fmt: skip

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0  # depth inside hidden elements

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in self.HIDDEN:
            self.hidden += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def _html_title(html: str, trafilatura) -> str | None:
    metadata = trafilatura.extract_metadata(html)
    if metadata is not None and metadata.title:
        return metadata.title.strip()
    match = _TITLE_TAG.search(html)
    return match.group(1).strip() if match and match.group(1).strip() else None
