"""Same-site web crawler: breadth-first from one URL, robots.txt honoured, one CrawlResult per page.

    >>> for result in crawl("https://docs.example.com/guide/", max_depth=1):   # doctest: +SKIP
    ...     print(result.url, result.error or result.documents[0].metadata["title"])
    https://docs.example.com/guide/ 시작하기
    https://docs.example.com/guide/install 설치
    https://docs.example.com/guide/missing https://docs.example.com/guide/missing: cannot fetch URL: HTTP 404; ...

Rules, in order of application:
- "Same site" is the scheme, host and port of the start URL after its own redirects; links to anything
  else (other hosts, other ports, other schemes such as mailto:) are never fetched.
- robots.txt of the site is read once, through the same session, for the agent `rag-app`
  (RFC 9309: a missing robots.txt (HTTP 4xx) allows everything; an unreachable one (5xx, network
  error) allows nothing). Disallowed links are skipped silently; a disallowed start URL is an error.
- Redirects are followed one hop at a time, so an on-site link that redirects off-site or into a
  disallowed path is dropped before anything there is contacted.
- Links that obviously point at files (.pdf, images, archives, media) are not fetched; any other
  response that is not HTML is dropped after its headers, without downloading the body.
- A page reached twice (same final URL) or with the same extracted text as an earlier page is
  skipped, not yielded. A page that fails (HTTP error, timeout, no main text) yields a CrawlResult
  with `error`, and the crawl goes on.
- `max_pages` counts HTML pages fetched plus pages that failed; skipped non-HTML responses do not count.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import TYPE_CHECKING
from urllib.parse import urldefrag, urljoin, urlsplit, urlunsplit

from loaders.errors import LoaderError
from loaders.html import DEFAULT_MAX_BYTES

if TYPE_CHECKING:
    import requests
    from langchain_core.documents import Document

logger = logging.getLogger(__name__)

ROBOTS_USER_AGENT = "rag-app"
MAX_REDIRECTS = 10
MAX_ROBOTS_BYTES = 512 * 1024
HTML_TYPES = ("text/html", "application/xhtml+xml")
# Links ending in these are files, not pages: never fetched by the crawler.
SKIP_SUFFIXES = (
    ".pdf", ".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg", ".ico", ".bmp", ".tif", ".tiff",
    ".zip", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar", ".tar",
    ".mp3", ".mp4", ".m4a", ".wav", ".ogg", ".webm", ".avi", ".mov",
    ".doc", ".docx", ".xls", ".xlsx", ".ppt", ".pptx", ".hwp", ".hwpx", ".exe", ".dmg", ".iso",
    ".css", ".js", ".json", ".xml", ".rss", ".woff", ".woff2", ".ttf",
)  # fmt: skip
_HTML_SNIFF = re.compile(r"<(?:!doctype\s+html|html|head|body)\b", re.IGNORECASE)
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass
class CrawlResult:
    url: str  # final URL after redirects (the Document source); for an error, the URL that failed
    documents: list[Document] | None
    error: LoaderError | None  # exactly one of documents / error is set

    def __post_init__(self) -> None:
        if (self.documents is None) == (self.error is None):
            raise ValueError("CrawlResult needs exactly one of documents and error")


def crawl(
    start_url: str,
    *,
    max_depth: int,
    max_pages: int = 50,
    timeout: float = 20.0,
    session: requests.Session | None = None,
    on_page: Callable[[CrawlResult, int, int], None] | None = None,
    max_bytes: int | None = None,
    max_seconds: float | None = None,
) -> Iterator[CrawlResult]:
    """Crawl the site of `start_url` breadth-first and yield one CrawlResult per page, lazily.

    `max_depth` 0 fetches only the start page, 1 also the pages it links to, and so on.
    `timeout` is per request (connect and each read), in seconds; `max_seconds` and `max_bytes`
    bound each page's whole download (None: the defaults of `loaders.html.fetch`). `session`: e.g.
    `loaders.url_safety.safe_session(policy)` for URLs typed by others (every page, redirect and
    robots.txt goes through it). `on_page(result, pages_done, max_pages)` is called before each
    result is yielded. An unreachable or failing start URL yields one error result. Raises
    LoaderError at once for a start URL that is not http(s), ValueError for a negative depth or a
    page limit below 1.
    """
    start = _normalize(start_url.strip())
    if start is None:
        scheme = urlsplit(start_url.strip()).scheme
        reason = (
            f"unsupported URL scheme {scheme!r} for crawling; pass an http:// or https:// URL"
            if scheme
            else "not a URL; pass an http:// or https:// URL to crawl"
        )
        raise LoaderError(start_url, reason)
    if max_depth < 0:
        raise ValueError(f"max_depth must be 0 or more, got {max_depth}")
    if max_pages < 1:
        raise ValueError(f"max_pages must be 1 or more, got {max_pages}")
    crawler = _Crawl(start, max_depth, max_pages, timeout, on_page)
    crawler.max_seconds = max_seconds
    if max_bytes is not None:
        crawler.max_bytes = max_bytes
    return crawler.run(session)


class _Redirect(Exception):
    """Raised from fetch's redirect callback, so the crawler checks each hop before following it."""

    def __init__(self, target: str):
        super().__init__(target)
        self.target = target


class _Skip(Exception):
    """A URL that is not crawled (off-site redirect, robots.txt, not HTML, already fetched)."""


class _Crawl:
    """The state of one crawl; nothing outlives it."""

    def __init__(self, start: str, max_depth: int, max_pages: int, timeout: float, on_page) -> None:
        self.start = start
        self.max_depth = max_depth
        self.max_pages = max_pages
        self.timeout = timeout
        self.on_page = on_page
        self.site: tuple[str, str, int] | None = None  # set after the start URL's redirects
        self.robots: dict[tuple[str, str, int], tuple[object | None, str]] = {}
        self.fetched: set[str] = set()  # final URLs already fetched
        self.hashes: set[str] = set()  # sha256 of extracted text already yielded
        self.max_bytes: int | None = DEFAULT_MAX_BYTES  # per page
        self.max_seconds: float | None = None  # per page download

    def run(self, session: requests.Session | None) -> Iterator[CrawlResult]:
        import requests

        own_session = session is None
        if own_session:
            session = requests.Session()
        try:
            yield from self._crawl(session)
        finally:
            if own_session:
                session.close()

    def _crawl(self, session: requests.Session) -> Iterator[CrawlResult]:
        from loaders.html import html_to_documents

        queue: deque[tuple[str, int]] = deque([(self.start, 0)])
        queued = {self.start}
        pages_done = 0
        while queue and pages_done < self.max_pages:
            url, depth = queue.popleft()
            if url in self.fetched:
                continue
            is_start = self.site is None
            try:
                final_url, html = self._get_html(session, url, is_start)
            except _Skip as skip:
                logger.debug("crawl: skipped %s (%s)", url, skip)
                continue
            except LoaderError as exc:
                pages_done += 1
                self.fetched.add(exc.source)
                result = CrawlResult(exc.source, None, self._explain(exc))
            else:
                if is_start:
                    self.site = _site(final_url)
                pages_done += 1
                queued.add(final_url)
                if depth < self.max_depth:
                    for link in _links(html, final_url):
                        if link not in queued and self._should_follow(link):
                            queued.add(link)
                            queue.append((link, depth + 1))
                try:
                    documents = html_to_documents(html, final_url, "url", fallback_title=final_url)
                except LoaderError:
                    error = LoaderError(final_url, "empty page (no main text found); it may need JavaScript")
                    result = CrawlResult(final_url, None, error)
                else:
                    digest = hashlib.sha256("\n".join(d.page_content.strip() for d in documents).encode()).hexdigest()
                    if digest in self.hashes:
                        logger.debug("crawl: skipped %s (same text as an earlier page)", final_url)
                        continue
                    self.hashes.add(digest)
                    result = CrawlResult(final_url, documents, None)
            if self.on_page is not None:
                self.on_page(result, pages_done, self.max_pages)
            yield result

    def _should_follow(self, url: str) -> bool:
        return _site(url) == self.site and not urlsplit(url).path.lower().endswith(SKIP_SUFFIXES)

    def _get_html(self, session: requests.Session, url: str, is_start: bool) -> tuple[str, str]:
        """Fetch `url`, following redirects one checked hop at a time; returns (final_url, html).

        Raises _Skip for what the crawl leaves out silently, LoaderError for what the user should see.
        (For the start URL every reason to skip is an error: otherwise the crawl would end silently.)
        """
        from loaders.html import fetch

        def stop(target: str) -> None:
            raise _Redirect(target)

        for _hop in range(MAX_REDIRECTS + 1):
            if self.site is not None and _site(url) != self.site:
                raise _Skip(f"redirects off-site to {url}")
            allowed, reason = self._allowed(session, url)
            if not allowed:
                if is_start:
                    raise LoaderError(url, reason)
                raise _Skip(reason)
            if url in self.fetched:
                raise _Skip("already fetched")
            try:
                final_url, content_type, _body, text = fetch(
                    url, session, timeout=self.timeout, accept=_maybe_html, on_redirect=stop,
                    max_bytes=self.max_bytes, max_seconds=self.max_seconds,
                )
            except _Redirect as redirect:
                target = _normalize(redirect.target)
                if target is None:
                    raise LoaderError(url, f"redirects to {redirect.target}, which is not an http(s) URL") from None
                url = target
                continue
            self.fetched.add(url)
            if text is None or not _HTML_SNIFF.search(text[:4096]):
                if is_start:
                    kind = content_type or "no content type"
                    raise LoaderError(url, f"not an HTML page ({kind}); load it as a single URL instead of crawling")
                raise _Skip(f"not HTML ({content_type})")
            return _normalize(final_url) or url, text
        raise LoaderError(url, f"too many redirects (more than {MAX_REDIRECTS}); check the address")

    def _allowed(self, session: requests.Session, url: str) -> tuple[bool, str]:
        site = _site(url)
        if site not in self.robots:
            self.robots[site] = self._read_robots(session, url)
        parser, why = self.robots[site]
        if parser is None:
            return False, why
        if not parser.can_fetch(ROBOTS_USER_AGENT, url):
            return False, f"disallowed by {why}; the site does not allow crawling this page"
        return True, ""

    def _read_robots(self, session: requests.Session, url: str) -> tuple[object | None, str]:
        """(parser, robots URL), or (None, reason) when robots.txt is unreachable (RFC 9309: allow nothing)."""
        import requests
        from urllib.robotparser import RobotFileParser

        from loaders.html import USER_AGENT
        from loaders.url_safety import UnsafeUrlError

        parts = urlsplit(url)
        robots_url = urlunsplit((parts.scheme, parts.netloc, "/robots.txt", "", ""))
        parser = RobotFileParser(robots_url)
        try:
            response = session.get(robots_url, timeout=self.timeout, headers={"User-Agent": USER_AGENT}, stream=True)
        except requests.RequestException as exc:
            return None, (
                f"cannot read {robots_url} ({type(exc).__name__}), so crawling is not allowed; "
                "check the address and your network"
            )
        except UnsafeUrlError as exc:  # a safe session refused the site's address
            raise UnsafeUrlError(url, exc.reason) from None
        with response:
            if response.status_code >= 500:
                status = response.status_code
                return None, f"{robots_url} answers HTTP {status}, so crawling is not allowed; retry later"
            if response.status_code >= 400:  # no robots.txt: everything is allowed
                parser.allow_all = True
            else:
                # RFC 9309: crawlers must read at least 500 KiB; what follows is ignored.
                content = response.raw.read(MAX_ROBOTS_BYTES, decode_content=True) or b""
                parser.parse(content.decode("utf-8", errors="replace").splitlines())
        return parser, robots_url

    def _explain(self, exc: LoaderError) -> LoaderError:
        """Name timeouts as such (fetch reports every network error alike)."""
        import requests
        import urllib3

        cause = exc.__cause__
        timed_out = isinstance(cause, requests.Timeout) or any(
            isinstance(arg, urllib3.exceptions.TimeoutError) for arg in getattr(cause, "args", ())
        )
        if timed_out:
            reason = f"timed out after {self.timeout:g} s; the server is slow or down: retry later or raise the timeout"
            return LoaderError(exc.source, reason)
        return exc


def _maybe_html(content_type: str) -> bool:
    return content_type in HTML_TYPES or not content_type  # no type: download and sniff


def _normalize(url: str) -> str | None:
    """Absolute http(s) URL without fragment, lower-case scheme and host, default port and empty
    path spelled the usual way, percent-encoding made canonical; None for anything else."""
    from requests.utils import requote_uri

    url = urldefrag(url)[0]
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # a malformed port or IPv6 address
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    if parts.username or parts.password:  # never carry credentials found in a link
        return None
    return requote_uri(urlunsplit((scheme, netloc, parts.path or "/", parts.query, "")))


def _site(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or _DEFAULT_PORTS.get(scheme, 0)


def _links(html: str, base_url: str) -> list[str]:
    """Normalized http(s) targets of <a href> and <area href>, in page order, <base href> honoured,
    rel="nofollow" links left out."""
    collector = _LinkCollector()
    collector.feed(html)
    collector.close()
    base = urljoin(base_url, collector.base) if collector.base else base_url
    links: list[str] = []
    for href in collector.hrefs:
        link = _normalize(urljoin(base, href))
        if link is not None and link not in links:
            links.append(link)
    return links


class _LinkCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []
        self.base: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: (value or "").strip() for name, value in attrs}
        href = values.get("href")
        if not href:
            return
        if tag == "base" and self.base is None:
            self.base = href
        elif tag in ("a", "area") and "nofollow" not in values.get("rel", "").lower().split():
            self.hrefs.append(href)
