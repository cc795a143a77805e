"""loaders.crawl against two small sites served on 127.0.0.1 by the test itself.

Every request goes through a requests.Session whose adapter logs each URL and refuses any host other
than 127.0.0.1, so "never fetched" is checked on the wire, not inferred from the results.
"""

from __future__ import annotations

import http.server
import threading
from dataclasses import dataclass, field

import pytest
import requests
from requests.adapters import HTTPAdapter

from loaders import LoaderError
from loaders.crawl import CrawlResult, crawl

NAV_WORD = "Zebracrumbmenu"  # only in <nav>
FOOTER_WORD = "Quetzalfooterco"  # only in <footer>
SLOW_SECONDS = 3.0
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def page(title: str, ko: str, en: str, links: list[str] = (), footer_links: list[str] = ()) -> str:
    """A page whose main text (Korean + English, in <article>) is unique to `title`."""
    nav = "".join(f'<li><a href="{href}">{NAV_WORD} {i}</a></li>' for i, href in enumerate(links))
    foot = "".join(f'<a href="{href}">{FOOTER_WORD} link</a> ' for href in footer_links)
    return f"""<!DOCTYPE html>
<html lang="ko"><head><meta charset="utf-8"><title>{title}</title></head>
<body>
<nav><ul>{nav}</ul></nav>
<article>
<h1>{title}</h1>
<p>{ko} 이 문단은 크롤러 시험을 위한 본문이며 메뉴나 바닥글과 달리 검색 색인에 들어가야 하는 내용이다.</p>
<p>{en} This paragraph is main content written for the crawler test, and unlike menus and footers it belongs in the index.</p>
<p>{ko} 형태소 분석기를 쓰면 조사와 어미가 떨어져 나가 같은 명사가 하나의 검색어로 모인다.</p>
</article>
<footer><p>Copyright {FOOTER_WORD} 2026. {foot}</p></footer>
</body></html>
"""


def html(body: str, status: int = 200, headers: dict | None = None, delay: float = 0.0):
    return status, {"Content-Type": "text/html; charset=utf-8", **(headers or {})}, body.encode("utf-8"), delay


@dataclass
class Site:
    """A threaded HTTP server on 127.0.0.1 serving `routes` (path -> (status, headers, body, delay))."""

    routes: dict = field(default_factory=dict)
    requested: list = field(default_factory=list)  # paths, in request order

    def __post_init__(self):
        site = self
        stop = self.stop = threading.Event()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                site.requested.append(self.path)
                status, headers, body, delay = site.routes.get(
                    self.path, (404, {"Content-Type": "text/html"}, b"<html><body>not found</body></html>", 0.0)
                )
                if delay:
                    stop.wait(delay)
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:  # the client gave up (timeout test)
                    pass

            def log_message(self, format, *args):  # noqa: A002
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()


class LocalOnlyAdapter(HTTPAdapter):
    """Logs every URL sent; refuses (and logs) anything not on 127.0.0.1."""

    def __init__(self, log: list[str]):
        super().__init__(max_retries=0)
        self.log = log

    def send(self, request, **kwargs):
        self.log.append(request.url)
        if requests.utils.urlparse(request.url).hostname != "127.0.0.1":
            raise requests.ConnectionError(f"test refuses to contact {request.url}")
        return super().send(request, **kwargs)


@pytest.fixture(scope="module")
def other_site():
    site = Site()
    site.routes["/other.html"] = html(page("다른 사이트", "다른 포트의 문서이다.", "Another port, another site."))
    yield site
    site.close()


@pytest.fixture(scope="module")
def site(other_site):
    s = Site()
    b = s.base
    r = s.routes
    r["/robots.txt"] = (
        200,
        {"Content-Type": "text/plain"},
        # A group for rag-app: the crawler must pick it (the * group would forbid everything).
        b"User-agent: rag-app\nDisallow: /private/\n\nUser-agent: *\nDisallow: /\n",
        0.0,
    )
    # Depth tree: index -> a, b ; a -> c ; b -> c, d ; c -> e
    r["/index.html"] = html(page("크롤링 시작 페이지", "시작 페이지의 한국어 본문.", "Start page English body.",
                                 ["/index.html", "/docs/a.html", "/docs/b.html"],
                                 ["http://example.invalid/x", f"{other_site.base}/other.html"]))
    r["/docs/a.html"] = html(page("문서 A 검색 증강", "문서 A는 검색 증강 생성을 설명한다.", "Alpha explains retrieval.",
                                  ["/docs/c.html", "/index.html#top"]))
    r["/docs/b.html"] = html(page("문서 B 형태소", "문서 B는 형태소 분석을 다룬다.", "Bravo covers morphology.",
                                  ["/docs/c.html", "/docs/d.html"]))
    r["/docs/c.html"] = html(page("문서 C 색인", "문서 C는 역색인 구조를 설명한다.", "Charlie describes the inverted index.",
                                  ["/docs/e.html"]))
    r["/docs/d.html"] = html(page("문서 D 평가", "문서 D는 검색 평가 지표를 정리한다.", "Delta lists evaluation metrics."))
    r["/docs/e.html"] = html(page("문서 E 깊은 곳", "문서 E는 세 번째 깊이에 있다.", "Echo sits at depth three."))
    # Everything else hangs off /special/start.html (depth 1 from there).
    r["/special/start.html"] = html(page("특수 경우 시작", "특수 경우 모음의 첫 페이지.", "Special cases start here.", [
        "/private/secret.html",  # robots.txt: Disallow
        "/files/report.pdf",  # PDF by suffix: never fetched
        "/files/chart",  # image/png without suffix: fetched, dropped after the headers
        "/special/moved",  # 301 -> /special/target.html
        "/special/target.html",
        "/special/copy1.html", "/special/copy2.html",  # identical content
        "/special/missing.html",  # 404
        "/special/empty.html",  # navigation only, no main text
        "/special/after.html",  # still crawled after the failures
        "/special/page.html?lang=en#intro", "/special/page.html?lang=en#outro",  # one URL (fragments)
        "mailto:someone@example.invalid", "javascript:void(0)",
        "http://example.invalid/x", f"{other_site.base}/other.html",
    ]))
    r["/private/secret.html"] = html(page("비밀 문서", "로봇 배제 대상 문서.", "Robots says no."))
    r["/files/report.pdf"] = (200, {"Content-Type": "application/pdf"}, b"%PDF-1.4 not fetched", 0.0)
    r["/files/chart"] = (200, {"Content-Type": "image/png"}, PNG_BYTES, 0.0)
    r["/special/moved"] = (301, {"Location": f"{b}/special/target.html"}, b"", 0.0)
    r["/special/target.html"] = html(page("이동된 목적지", "리다이렉트의 목적지 문서.", "Redirect target page."))
    copy = page("복사본 문서", "같은 내용이 두 주소에 있다.", "Same content, two addresses.")
    r["/special/copy1.html"] = html(copy)
    r["/special/copy2.html"] = html(copy)
    # No text at all (a JavaScript-only page); with any text left, trafilatura's recall mode keeps it.
    r["/special/empty.html"] = html(
        '<html><head><title>빈 페이지</title></head><body><nav><a href="/special/start.html"></a></nav>'
        '<div id="app"></div><script>document.title = "app";</script></body></html>'
    )
    r["/special/after.html"] = html(page("실패 뒤의 페이지", "실패한 페이지 뒤에도 크롤링은 계속된다.", "The crawl goes on."))
    r["/special/page.html?lang=en"] = html(page("질의 문자열 페이지", "질의 문자열이 유지된다.", "The query string is kept."))
    # Slow page: the server sleeps longer than the crawl's timeout.
    r["/slow/start.html"] = html(page("느린 사이트 시작", "느린 페이지로 가는 링크가 있다.", "Links to a slow page.",
                                      ["/slow/sleepy.html", "/slow/fast.html"]))
    r["/slow/sleepy.html"] = html(page("잠자는 페이지", "응답이 아주 늦다.", "Answers too late."), delay=SLOW_SECONDS)
    r["/slow/fast.html"] = html(page("빠른 페이지", "응답이 빠르다.", "Answers at once."))
    # Start URL that redirects; and a redirect loop.
    r["/go"] = (302, {"Location": "/index.html"}, b"", 0.0)
    r["/loop"] = (302, {"Location": "/loop"}, b"", 0.0)
    yield s
    s.close()


@pytest.fixture()
def wire():
    """(session, log): a session that only talks to 127.0.0.1 and logs every URL it sends."""
    log: list[str] = []
    session = requests.Session()
    adapter = LocalOnlyAdapter(log)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    yield session, log
    session.close()


@pytest.fixture(autouse=True)
def _clear_logs(site, other_site):
    site.requested.clear()
    other_site.requested.clear()


def urls(results: list[CrawlResult], base: str) -> list[str]:
    return [result.url.removeprefix(base) for result in results]


def run(site, path, wire, **kwargs) -> list[CrawlResult]:
    session, _log = wire
    return list(crawl(site.base + path, session=session, **{"max_depth": 1, "timeout": 5.0, **kwargs}))


# ---- depth and page limits ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("max_depth", "expected"),
    [
        (0, ["/index.html"]),
        (1, ["/index.html", "/docs/a.html", "/docs/b.html"]),
        (2, ["/index.html", "/docs/a.html", "/docs/b.html", "/docs/c.html", "/docs/d.html"]),
        (3, ["/index.html", "/docs/a.html", "/docs/b.html", "/docs/c.html", "/docs/d.html", "/docs/e.html"]),
    ],
)
def test_depth_limits_give_exact_breadth_first_order(site, wire, max_depth, expected):
    results = run(site, "/index.html", wire, max_depth=max_depth)
    assert urls(results, site.base) == expected
    assert all(result.error is None for result in results)
    fetched_pages = [path for path in site.requested if path != "/robots.txt"]
    assert fetched_pages == expected  # nothing beyond the depth limit is even requested
    assert site.requested.count("/robots.txt") == 1


def test_documents_have_main_text_title_and_final_url(site, wire):
    results = run(site, "/index.html", wire, max_depth=1)
    by_url = {result.url: result for result in results}
    [doc] = by_url[f"{site.base}/docs/a.html"].documents
    assert doc.metadata == {"source": f"{site.base}/docs/a.html", "source_type": "url", "title": "문서 A 검색 증강"}
    assert "문서 A는 검색 증강 생성을 설명한다." in doc.page_content
    assert "Alpha explains retrieval." in doc.page_content
    assert "조사와 어미가 떨어져 나가" in doc.page_content
    for result in results:
        text = result.documents[0].page_content
        assert NAV_WORD not in text and FOOTER_WORD not in text
    assert [r.documents[0].metadata["title"] for r in results] == ["크롤링 시작 페이지", "문서 A 검색 증강", "문서 B 형태소"]


def test_max_pages_stops_the_crawl(site, wire):
    results = run(site, "/index.html", wire, max_depth=3, max_pages=2)
    assert urls(results, site.base) == ["/index.html", "/docs/a.html"]
    assert "/docs/b.html" not in site.requested and "/docs/c.html" not in site.requested


# ---- same site only -----------------------------------------------------------------------------
def test_external_and_other_port_links_are_never_fetched(site, other_site, wire):
    session, log = wire
    results = run(site, "/index.html", wire, max_depth=2)
    assert all(url.startswith(site.base + "/") for url in log), log
    assert not any("example.invalid" in url for url in log)
    assert other_site.requested == []
    assert not any(site.base not in result.url for result in results)


def test_start_redirect_defines_the_site(site, other_site, wire):
    """Starting on the other server, a redirect to the main site makes the main site the one crawled."""
    other_site.routes["/jump"] = (301, {"Location": f"{site.base}/index.html"}, b"", 0.0)
    session, log = wire
    results = list(crawl(f"{other_site.base}/jump", max_depth=1, session=session, timeout=5.0))
    assert urls(results, site.base) == ["/index.html", "/docs/a.html", "/docs/b.html"]
    # other_site had no robots.txt (404 = allow all); it was asked once, then only the jump.
    assert other_site.requested == ["/robots.txt", "/jump"]
    assert "/other.html" not in other_site.requested


def test_relative_start_redirect(site, wire):
    results = run(site, "/go", wire, max_depth=0)
    assert urls(results, site.base) == ["/index.html"]
    assert results[0].documents[0].metadata["source"] == f"{site.base}/index.html"


# ---- the special cases ---------------------------------------------------------------------------
@pytest.fixture()
def special(site, wire):
    pages: list[tuple[str, int, int]] = []
    session, log = wire
    results = list(
        crawl(
            f"{site.base}/special/start.html",
            max_depth=1,
            max_pages=20,
            timeout=5.0,
            session=session,
            on_page=lambda result, done, limit: pages.append((result.url, done, limit)),
        )
    )
    return results, pages, log


def test_special_cases_exact_results(site, special):
    results, _pages, _log = special
    assert urls(results, site.base) == [
        "/special/start.html",
        "/special/target.html",  # via /special/moved, and only once
        "/special/copy1.html",  # copy2 has the same text: skipped
        "/special/missing.html",  # error result
        "/special/empty.html",  # error result
        "/special/after.html",
        "/special/page.html?lang=en",  # query kept, fragments dropped, one result
    ]
    assert [result.error is None for result in results] == [True, True, True, False, False, True, True]


def test_robots_txt_disallow_is_respected(site, special):
    assert "/private/secret.html" not in site.requested
    assert site.requested.count("/robots.txt") == 1


def test_pdf_and_image_links_are_skipped_silently(site, special):
    results, _pages, _log = special
    assert "/files/report.pdf" not in site.requested  # skipped by its suffix
    assert "/files/chart" in site.requested  # fetched, then dropped on its Content-Type
    assert not any("/files/" in result.url for result in results)


def test_redirect_is_deduplicated_by_final_url(site, special):
    results, _pages, _log = special
    [target] = [result for result in results if result.url.endswith("/special/target.html")]
    assert target.documents[0].metadata["title"] == "이동된 목적지"
    assert target.documents[0].metadata["source"] == f"{site.base}/special/target.html"
    assert site.requested.count("/special/moved") == 1
    assert site.requested.count("/special/target.html") == 1


def test_identical_content_yields_one_result(site, special):
    results, _pages, _log = special
    copies = [result for result in results if "/special/copy" in result.url]
    assert [result.url for result in copies] == [f"{site.base}/special/copy1.html"]
    assert "같은 내용이 두 주소에 있다." in copies[0].documents[0].page_content
    assert "/special/copy2.html" in site.requested  # fetched, then found to be a duplicate


def test_http_404_is_an_error_result_and_crawl_continues(site, special):
    results, _pages, _log = special
    [missing] = [result for result in results if result.error is not None and "missing" in result.url]
    assert missing.url == f"{site.base}/special/missing.html"
    assert missing.documents is None
    assert isinstance(missing.error, LoaderError)
    assert missing.error.source == missing.url
    assert str(missing.error) == f"{missing.url}: cannot fetch URL: HTTP 404; check the address"
    assert results[-2].url.endswith("/special/after.html") and results[-2].documents


def test_page_without_main_text_is_an_empty_page_error(site, special):
    results, _pages, _log = special
    [empty] = [result for result in results if result.url.endswith("/special/empty.html")]
    assert empty.documents is None
    assert "empty page" in str(empty.error)
    assert str(empty.error).startswith(f"{site.base}/special/empty.html: ")


def test_fragments_dropped_query_kept(site, special):
    results, _pages, _log = special
    assert site.requested.count("/special/page.html?lang=en") == 1
    [doc] = results[-1].documents
    assert doc.metadata["source"] == f"{site.base}/special/page.html?lang=en"
    assert "질의 문자열이 유지된다." in doc.page_content


def test_special_never_leaves_the_site(site, other_site, special):
    _results, _pages, log = special
    assert all(url.startswith(site.base + "/") for url in log), log
    assert other_site.requested == []


def test_on_page_called_with_increasing_counts(site, special):
    results, pages, _log = special
    assert [url for url, _done, _limit in pages] == [result.url for result in results]
    done = [count for _url, count, _limit in pages]
    assert done == sorted(set(done)) and done[0] == 1
    # copy2 was fetched (it counts towards max_pages) but not yielded: one gap after copy1.
    assert done == [1, 2, 3, 5, 6, 7, 8]
    assert {limit for _url, _done, limit in pages} == {20}


def test_max_pages_bounds_on_page_counts(site, wire):
    calls = []
    session, _log = wire
    results = list(crawl(f"{site.base}/index.html", max_depth=5, max_pages=4, session=session,
                         on_page=lambda result, done, limit: calls.append((done, limit))))
    assert len(results) == 4
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_slow_page_times_out_and_crawl_continues(site, wire):
    results = run(site, "/slow/start.html", wire, max_depth=1, timeout=0.5)
    assert urls(results, site.base) == ["/slow/start.html", "/slow/sleepy.html", "/slow/fast.html"]
    sleepy = results[1]
    assert sleepy.documents is None
    assert str(sleepy.error) == (
        f"{site.base}/slow/sleepy.html: timed out after 0.5 s; the server is slow or down: "
        "retry later or raise the timeout"
    )
    assert results[2].documents[0].metadata["title"] == "빠른 페이지"


# ---- failing starts ------------------------------------------------------------------------------
@pytest.mark.parametrize("start", ["ftp://127.0.0.1/pub/file.txt", "file:///etc/passwd", "not a url"])
def test_non_http_start_url_raises_at_once(start):
    with pytest.raises(LoaderError) as info:
        crawl(start, max_depth=1)  # raised by the call itself, before any iteration
    assert info.value.source == start
    assert "http://" in str(info.value)


def test_ftp_start_url_names_the_scheme():
    with pytest.raises(LoaderError, match="unsupported URL scheme 'ftp'"):
        crawl("ftp://127.0.0.1/pub/", max_depth=0)


def test_bad_limits_raise():
    with pytest.raises(ValueError, match="max_depth"):
        crawl("http://127.0.0.1:1/", max_depth=-1)
    with pytest.raises(ValueError, match="max_pages"):
        crawl("http://127.0.0.1:1/", max_depth=0, max_pages=0)


def test_unreachable_start_url_yields_one_error(wire):
    session, _log = wire
    calls = []
    results = list(crawl("http://127.0.0.1:1/start.html", max_depth=2, session=session,
                         on_page=lambda result, done, limit: calls.append(done)))
    [result] = results
    assert result.documents is None
    assert result.url == "http://127.0.0.1:1/start.html"
    assert str(result.error).startswith("http://127.0.0.1:1/start.html: cannot read http://127.0.0.1:1/robots.txt")
    assert calls == [1]


def test_unreachable_start_without_session_also_one_error():
    [result] = list(crawl("http://127.0.0.1:1/", max_depth=0, timeout=2.0))
    assert result.error is not None and result.url == "http://127.0.0.1:1/"


def test_start_url_disallowed_by_robots_is_an_error(site, wire):
    [result] = run(site, "/private/secret.html", wire, max_depth=1)
    assert result.url == f"{site.base}/private/secret.html"
    assert "disallowed by" in str(result.error) and "robots.txt" in str(result.error)
    assert "/private/secret.html" not in site.requested


def test_start_url_that_is_not_html_is_an_error(site, wire):
    [result] = run(site, "/files/chart", wire, max_depth=1)
    assert "not an HTML page (image/png)" in str(result.error)


def test_start_url_404_is_one_error(site, wire):
    [result] = run(site, "/nothing-here.html", wire, max_depth=2)
    assert str(result.error) == f"{site.base}/nothing-here.html: cannot fetch URL: HTTP 404; check the address"


def test_redirect_loop_is_an_error(site, wire):
    [result] = run(site, "/loop", wire, max_depth=1)
    assert "too many redirects" in str(result.error)
    assert site.requested.count("/loop") == 11


def test_crawl_is_lazy(site, wire):
    session, _log = wire
    results = crawl(f"{site.base}/index.html", max_depth=3, session=session)
    assert site.requested == []  # nothing fetched until iterated
    first = next(results)
    assert first.url == f"{site.base}/index.html"
    assert site.requested == ["/robots.txt", "/index.html"]
    results.close()


def test_crawl_result_needs_exactly_one_of_documents_and_error():
    with pytest.raises(ValueError):
        CrawlResult("http://127.0.0.1/", None, None)
    with pytest.raises(ValueError):
        CrawlResult("http://127.0.0.1/", [], LoaderError("x", "y"))
