"""The chat app's knowledge-base tab: the function Gradio runs when the page's "ingest" button is
clicked, called in-process with what the page sends (uploaded file paths, the pasted URLs, the
browser session's state). The page itself is driven in Chromium by test_ui_browser.py; its events
are private, so no API client can call them (checked below over HTTP).

- URLs pasted into the app are fetched in safe mode: a page on 127.0.0.1, in any spelling, and the
  cloud metadata address are refused and never contacted, unless the operator allows them
  (RAG_APP_URL_ALLOW, `url_allow`).
- A re-upload is staged beside the stored copy and replaces it only once its ingestion succeeded:
  a failed re-upload leaves the old file, which the index still matches.
"""

from __future__ import annotations

import http.server
import json
import socket
import urllib.request
import threading
from pathlib import Path

import pytest

pytestmark = [
    # Gradio 6.31's queue statistics use pandas options that pandas 3 deprecates; not ours to fix.
    pytest.mark.filterwarnings("ignore:.*no_silent_downcasting"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
]

SECRET = "내부 토큰은 zebra-4471 입니다. The internal token is zebra-4471."
GOOD_BUDGET = "# 예산\n\n올해 연구 예산은 3억 원이다. The research budget is 300 million won."


class PageServer:
    """Serves one HTML page with SECRET on every path and records the paths it was asked for."""

    def __init__(self):
        self.paths: list[str] = []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                owner.paths.append(self.path)
                data = f"<html><head><title>내부</title></head><body><article><p>{SECRET}</p></article></body></html>".encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def page_server():
    server = PageServer()
    yield server
    server.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def event_function(demo, name: str):
    """The function Gradio runs for the page's event handled by `name` (one of build's handlers)."""
    [fn] = [event.fn for event in demo.fns.values() if getattr(event.fn, "__name__", None) == name]
    return fn


class ChatApp:
    """The app's Blocks and one browser session (the state Gradio keeps for a tab)."""

    def __init__(self, settings):
        from rag_app import ui

        self.settings = settings
        self.demo = ui.build(settings, max_upload_mb=1)
        self.session = ui.UISession.from_settings(settings, "ko")
        self._ingest = event_function(self.demo, "ingest")

    def ingest(self, files: list[Path] = (), urls: str = "") -> str:
        """The results table's HTML, as the app shows it. Gradio hands the handler the uploaded
        files as paths of its own copies; outside a request its progress bar is a no-op."""
        return self._ingest([str(f) for f in files], urls, self.session)[0]

    def sources(self) -> list[str]:
        from rag_app import RagApp

        return [info.source for info in RagApp(settings=self.settings).sources()]

    def close(self):
        self.demo.close()


@pytest.fixture
def chat_app(tmp_path):
    made = []

    def start(**overrides) -> ChatApp:
        from rag_app.config import Settings

        app = ChatApp(Settings(home=tmp_path / "home", collection="kb", mode="bm25", **overrides))
        made.append(app)
        return app

    yield start
    for app in made:
        app.close()


def test_pasted_local_and_metadata_urls_are_refused_and_never_contacted(chat_app, page_server):
    app = chat_app()
    port = page_server.port
    pasted = [
        f"http://127.0.0.1:{port}/secret",
        f"http://0x7f000001:{port}/secret",
        f"http://localhost:{port}/secret",
        f"http://[::ffff:127.0.0.1]:{port}/secret",
        "http://169.254.169.254/latest/meta-data/",
    ]
    html = app.ingest(urls="\n".join(pasted))
    assert html.count('class="ingest-result status-failed"') == len(pasted)
    assert "status-added" not in html
    assert html.count("loopback address") == 4 and html.count("link-local address") == 1
    assert "RAG_APP_URL_ALLOW" in html and "zebra-4471" not in html
    assert page_server.paths == []  # refused before any connection
    assert app.sources() == []


def test_operator_allow_list_lets_a_host_through(chat_app, page_server):
    app = chat_app(url_allow=f"127.0.0.1:{page_server.port}")
    html = app.ingest(urls=f"http://127.0.0.1:{page_server.port}/wiki\nhttp://127.0.0.1:{free_port()}/other-port")
    assert html.count("status-added") == 1 and html.count("status-failed") == 1
    assert "loopback address" in html  # the other port is not on the list
    assert page_server.paths == ["/wiki"]
    assert app.sources() == [f"http://127.0.0.1:{page_server.port}/wiki"]


def test_failed_reupload_keeps_the_stored_copy_and_a_good_one_replaces_it(chat_app, tmp_path):
    from rag_app import RagApp

    app = chat_app()
    upload = tmp_path / "browser" / "budget.md"
    upload.parent.mkdir()
    upload.write_text(GOOD_BUDGET, encoding="utf-8")
    html = app.ingest(files=[upload])
    assert "status-added" in html
    stored = tmp_path / "home" / "uploads" / "kb" / "budget.md"
    assert app.sources() == [str(stored)]
    assert stored.read_text(encoding="utf-8") == GOOD_BUDGET

    upload.write_bytes(b"\xff\xfe\xfd invalid bytes \xff\xff")  # neither UTF-8 nor CP949
    html = app.ingest(files=[upload])
    assert "status-failed" in html and "cannot decode text" in html
    assert stored.read_text(encoding="utf-8") == GOOD_BUDGET  # the stored copy is untouched
    assert list((stored.parent / ".pending").iterdir()) == []  # and the staged bytes are gone
    assert app.sources() == [str(stored)]
    answer = RagApp(settings=app.settings).ask("올해 연구 예산은 얼마인가요?")
    assert "3억 원" in answer.answer and answer.citations[0].source == str(stored)

    upload.write_text("# 예산\n\n올해 연구 예산은 5억 원으로 늘었다.", encoding="utf-8")
    html = app.ingest(files=[upload])
    assert "status-updated" in html
    assert "5억 원" in stored.read_text(encoding="utf-8")
    assert list((stored.parent / ".pending").iterdir()) == []
    assert "5억 원" in RagApp(settings=app.settings).ask("올해 연구 예산은 얼마인가요?").answer


def test_the_pages_events_are_not_an_api(tmp_path):
    """Every event returns HTML for the page: none is listed for API clients, and gradio_client
    cannot call /ingest. Programs use `rag-app api` (JSON)."""
    from gradio_client import Client

    from rag_app import RagApp, ui
    from rag_app.config import Settings

    settings = Settings(home=tmp_path / "home", collection="kb", mode="bm25")
    demo = ui.build(settings, max_upload_mb=1)
    assert "ingest" in {getattr(event.fn, "__name__", None) for event in demo.fns.values()}
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, **ui.launch_kwargs(settings, 1))
    try:
        url = f"http://127.0.0.1:{port}"
        with urllib.request.urlopen(f"{url}/gradio_api/info", timeout=30) as response:
            info = json.load(response)
        assert info["named_endpoints"] == {} and info["unnamed_endpoints"] == {}
        client = Client(url, verbose=False)
        with pytest.raises(ValueError, match="/ingest"):
            client.predict([], "https://example.com/", api_name="/ingest")
        assert RagApp(settings=settings).sources() == []  # nothing was ingested
    finally:
        demo.close()
