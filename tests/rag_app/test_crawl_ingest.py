"""`rag-app ingest URL --crawl DEPTH`: every crawled page is its own source, failures are reported."""

from __future__ import annotations

import http.server
import threading

import pytest

from rag_app.app import RagApp
from rag_app.errors import ConfigError

PAGES = {
    "/": "<html><head><title>홈</title></head><body><article><h1>홈</h1><p>형태소 분석기 소개 페이지입니다. "
    "키위는 한국어 형태소 분석기이며 검색 색인에 쓰입니다.</p><a href='/bm25'>BM25</a> <a href='/missing'>없음</a>"
    "</article></body></html>",
    "/bm25": "<html><head><title>BM25 설명</title></head><body><article><h1>BM25</h1><p>BM25는 단어 빈도와 문서 길이를 "
    "함께 고려하는 랭킹 함수입니다. 파라미터 k1과 b로 포화와 길이 정규화를 조절합니다.</p>"
    "<a href='/deep'>더 보기</a></article></body></html>",
    "/deep": "<html><head><title>깊은 페이지</title></head><body><article><p>깊이 제한 밖에 있는 페이지입니다. "
    "이 문장은 색인되면 안 됩니다.</p></article></body></html>",
}


class _Site(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server API)
        if self.path == "/robots.txt" or self.path not in PAGES:
            self.send_response(404)
            self.end_headers()
            return
        body = PAGES[self.path].encode("utf-8")
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def site():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_crawl_depth_one_ingests_each_page_as_a_source(tmp_path, site):
    app = RagApp(home=tmp_path / "home", collection="crawl-test")
    reports = app.ingest([site + "/"], crawl_depth=1)
    by_source = {r.source: r for r in reports}
    assert by_source[site + "/"].status == "added"
    assert by_source[site + "/bm25"].status == "added"
    assert by_source[site + "/missing"].status == "failed"
    assert "HTTP 404" in by_source[site + "/missing"].error
    assert site + "/deep" not in by_source  # depth 2
    assert sorted(info.source for info in app.sources()) == [site + "/", site + "/bm25"]
    answer = app.ask("BM25의 파라미터는 무엇인가요?")
    assert not answer.abstained
    assert answer.citations[0].source == site + "/bm25"
    assert answer.citations[0].title == "BM25"  # trafilatura prefers the page's <h1> to its <title>
    assert answer.citations[0].link == site + "/bm25"


def test_crawl_rejects_negative_depth(tmp_path, site):
    app = RagApp(home=tmp_path / "home", collection="crawl-test")
    with pytest.raises(ConfigError, match="--crawl must be 0 or more"):
        app.ingest([site + "/"], crawl_depth=-1)
