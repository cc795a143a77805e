"""`rag-app api`: the OpenAI-compatible HTTP API over real HTTP on 127.0.0.1, driven by the official
`openai` client (chat completions, streaming, models) and by `requests` (retrieve, ingest, sources,
auth, limits). Real collections on disk; the extractive answerer writes the answers."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys

import openai
import pytest
import requests

from conftest import REPO_ROOT
from rag_app.config import Settings
from serve_corpus import RAG_QUESTION, build_home, serving

KEY = "test-key-123"


def _markers(text: str) -> set[int]:
    return {int(n) for n in re.findall(r"\[(\d+)\]", text)}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return build_home(tmp_path_factory.mktemp("api"))


@pytest.fixture(scope="module")
def server(corpus):
    """The API in a thread on a free 127.0.0.1 port, with an API key; yields its base URL."""
    from rag_app.serve.api import create_app

    home, _ = corpus
    with serving(create_app(Settings(home=home, collection="docs", api_key=KEY), max_upload_mb=1)) as url:
        yield url


@pytest.fixture(scope="module")
def client(server):
    return openai.OpenAI(base_url=f"{server}/v1", api_key=KEY, max_retries=0)


def _auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {KEY}"}


# ---- OpenAI client: models and chat completions -----------------------------------------------
def test_models_lists_one_model_per_collection(client):
    models = client.models.list()
    assert [m.id for m in models.data] == ["docs", "notes"]
    assert all(m.owned_by == "rag-app" and m.object == "model" and m.created == 0 for m in models.data)


def test_chat_completion_is_the_cited_answer(client, corpus):
    _, docs = corpus
    response = client.chat.completions.create(model="docs", messages=[{"role": "user", "content": RAG_QUESTION}])
    assert response.object == "chat.completion" and response.model == "docs"
    (choice,) = response.choices
    assert choice.message.role == "assistant" and choice.finish_reason == "stop"
    content = choice.message.content
    assert "RAG는 질문이 들어오면 관련 문서를 찾아" in content
    extra = response.model_extra
    citations = extra["citations"]
    assert _markers(content) == {c["n"] for c in citations} == {1}
    assert citations[0]["source"] == str(docs / "07_rag.md")
    assert set(citations[0]) == {"n", "source", "title", "page", "text", "score", "location", "link"}
    assert extra["rag_app"]["answer"] == content
    assert extra["rag_app"]["abstained"] is False
    assert extra["rag_app"]["citations"] == citations


def test_model_selects_the_collection(client, corpus):
    home, _ = corpus
    response = client.chat.completions.create(
        model="notes", messages=[{"role": "user", "content": "When is the final project due?"}]
    )
    assert response.model == "notes"
    assert "December 12, 2026" in response.choices[0].message.content
    sources = {c["source"] for c in response.model_extra["citations"]}
    assert sources and all(s.endswith("12_course_faq.md") for s in sources)


def test_streaming_matches_the_plain_answer(client):
    plain = client.chat.completions.create(model="docs", messages=[{"role": "user", "content": RAG_QUESTION}])
    stream = client.chat.completions.create(model="docs", messages=[{"role": "user", "content": RAG_QUESTION}], stream=True)
    chunks = list(stream)
    assert all(c.object == "chat.completion.chunk" and c.model == "docs" for c in chunks)
    assert len({c.id for c in chunks}) == 1
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert text == plain.choices[0].message.content
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop"
    assert [c.choices[0].finish_reason for c in chunks[:-1]] == [None] * (len(chunks) - 1)
    assert last.model_extra["citations"] == plain.model_extra["citations"]
    assert last.model_extra["rag_app"]["answer"] == text


def test_stream_ends_with_done_over_raw_sse(server):
    response = requests.post(
        f"{server}/v1/chat/completions", headers=_auth(), stream=True, timeout=120,
        json={"model": "docs", "stream": True, "messages": [{"role": "user", "content": RAG_QUESTION}]},
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = [line for line in response.iter_lines(decode_unicode=True) if line]
    assert events[-1] == "data: [DONE]"
    assert all(e.startswith("data: ") for e in events)
    assert json.loads(events[-2][len("data: "):])["choices"][0]["finish_reason"] == "stop"


def test_earlier_turns_are_the_conversation(client):
    first = client.chat.completions.create(model="docs", messages=[{"role": "user", "content": RAG_QUESTION}])
    follow_up = client.chat.completions.create(
        model="docs",
        messages=[
            {"role": "system", "content": "ignored: the app has its own prompt"},
            {"role": "user", "content": RAG_QUESTION},
            {"role": "assistant", "content": first.choices[0].message.content},
            {"role": "user", "content": [{"type": "text", "text": "그럼 장점은?"}]},
        ],
    )
    details = follow_up.model_extra["rag_app"]
    assert details["question"] == "그럼 장점은?"
    assert details["rewritten_query"] is not None and "RAG" in details["rewritten_query"]
    alone = client.chat.completions.create(model="docs", messages=[{"role": "user", "content": "그럼 장점은?"}])
    assert alone.model_extra["rag_app"]["rewritten_query"] is None


def test_retrieval_options_pass_through_extra_body(client):
    response = client.chat.completions.create(
        model="docs", messages=[{"role": "user", "content": RAG_QUESTION}], extra_body={"k": 1, "mode": "bm25"}
    )
    assert all(c["n"] == 1 for c in response.model_extra["citations"])


def test_unknown_model_is_404(client):
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="nope-collection", messages=[{"role": "user", "content": RAG_QUESTION}])
    assert caught.value.body["message"] == "collection 'nope-collection' not found; GET /v1/models lists the collections"
    assert caught.value.body["type"] == "not_found_error"


def test_last_message_must_be_a_question(client):
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="docs", messages=[{"role": "assistant", "content": "hello"}])
    assert "last message must be a non-empty user message" in caught.value.body["message"]


def test_wrong_key_is_refused(server):
    bad = openai.OpenAI(base_url=f"{server}/v1", api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad.models.list()
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": KEY}):
        response = requests.get(f"{server}/v1/sources", headers=headers, timeout=30)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        error = response.json()["error"]
        assert error["type"] == "authentication_error"
        assert KEY not in error["message"]
    assert requests.get(f"{server}/health", timeout=30).json() == {"status": "ok"}


# ---- retrieve, sources, ingest, delete ---------------------------------------------------------
def test_retrieve_returns_chunks_with_citations(server, corpus):
    _, docs = corpus
    response = requests.post(f"{server}/v1/retrieve", headers=_auth(), json={"query": RAG_QUESTION, "k": 3}, timeout=60)
    assert response.status_code == 200
    body = response.json()
    assert (body["collection"], body["mode"], body["query"]) == ("docs", "hybrid", RAG_QUESTION)
    data = body["data"]
    assert [r["rank"] for r in data] == [1, 2, 3]
    assert data[0]["source"] == str(docs / "07_rag.md")
    assert data[0]["link"] == (docs / "07_rag.md").as_uri()
    assert data[0]["title"] == "RAG(검색 증강 생성)는 어떻게 작동하나요?"
    assert data[0]["metadata"]["source_type"] == "markdown"
    assert [r["score"] for r in data] == sorted((r["score"] for r in data), reverse=True)
    other = requests.post(
        f"{server}/v1/retrieve", headers=_auth(), timeout=60,
        json={"query": "final project due", "k": 1, "mode": "bm25", "collection": "notes"},
    ).json()
    assert other["mode"] == "bm25" and other["data"][0]["source"].endswith("12_course_faq.md")


def test_invalid_json_requests_are_400_with_one_line(server):
    response = requests.post(f"{server}/v1/retrieve", headers=_auth(), json={"query": RAG_QUESTION, "k": 0}, timeout=30)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["message"].startswith("invalid request (k: ") and "\n" not in error["message"]
    missing = requests.post(f"{server}/v1/retrieve", headers=_auth(), json={"k": 2}, timeout=30).json()["error"]
    assert "query: Field required" in missing["message"]
    unknown = requests.get(f"{server}/v1/nothing", headers=_auth(), timeout=30)
    assert unknown.status_code == 404 and unknown.json()["error"]["type"] == "not_found_error"


def test_json_body_over_1_mb_is_413(server):
    response = requests.post(
        f"{server}/v1/retrieve", headers=_auth(), json={"query": "가" * (1024 * 1024)}, timeout=60
    )
    assert response.status_code == 413
    assert response.json()["error"]["type"] == "request_too_large"


def test_chunked_body_over_1_mb_is_413(server):
    def body():  # no Content-Length: the limit is enforced while reading
        yield b'{"query": "'
        for _ in range(12):
            yield b"a" * 100_000
        yield b'"}'

    response = requests.post(
        f"{server}/v1/retrieve", headers={**_auth(), "Content-Type": "application/json"}, data=body(), timeout=60
    )
    assert response.request.headers.get("Transfer-Encoding") == "chunked"
    assert response.status_code == 413
    assert response.json()["error"]["message"].startswith("request body too large: JSON is limited to 1 MB")


def test_sources(server, corpus):
    _, docs = corpus
    body = requests.get(f"{server}/v1/sources", headers=_auth(), timeout=30).json()
    assert body["collection"] == "docs"
    assert {s["source"] for s in body["data"]} == {str(p) for p in docs.iterdir()}
    assert all(s["chunks"] > 0 for s in body["data"])
    notes = requests.get(f"{server}/v1/sources", headers=_auth(), params={"collection": "notes"}, timeout=30).json()
    assert [s["title"] for s in notes["data"]] == ["Course FAQ: Korean NLP (Fall 2026)"]
    missing = requests.get(f"{server}/v1/sources", headers=_auth(), params={"collection": "absent"}, timeout=30)
    assert missing.status_code == 404


LIBRARY = "# 청운도서관 이용 안내\n\n청운도서관은 평일에는 오후 9시까지, 주말에는 오후 5시까지 문을 연다. 한 사람이 한 번에 빌릴 수 있는 책은 다섯 권이다.\n"


def test_ingest_upload_then_delete(server, corpus):
    home, _ = corpus
    files = [
        ("files", ("../../library.md", LIBRARY.encode("utf-8"), "text/markdown")),
        ("files", ("tool.exe", b"MZ binary", "application/octet-stream")),
        ("files", ("empty.txt", b"", "text/plain")),
    ]
    response = requests.post(f"{server}/v1/ingest", headers=_auth(), files=files, data={"collection": "inbox"}, timeout=120)
    assert response.status_code == 200
    body = response.json()
    assert body["collection"] == "inbox"
    library, exe, empty = body["data"]
    saved = home / "uploads" / "inbox" / "library.md"  # the name is sanitised: no way out of the uploads folder
    assert library["filename"] == "library.md" and library["status"] == "added"
    assert library["source"] == str(saved.resolve()) and library["chunks"] == library["embedded"] == 1
    assert saved.read_text(encoding="utf-8") == LIBRARY
    assert exe["status"] == "failed" and exe["source"] is None and "tool.exe" in exe["error"] and ".exe" in exe["error"]
    assert empty["status"] == "failed" and "empty" in empty["error"]
    assert not (home / "uploads" / "inbox" / "tool.exe").exists()

    models = requests.get(f"{server}/v1/models", headers=_auth(), timeout=30).json()
    assert "inbox" in [m["id"] for m in models["data"]]
    found = requests.post(
        f"{server}/v1/retrieve", headers=_auth(), json={"query": "주말에 몇 시에 닫아?", "k": 1, "collection": "inbox"}, timeout=60
    ).json()
    assert found["data"][0]["source"] == library["source"]

    again = requests.post(f"{server}/v1/ingest", headers=_auth(), files=files[:1], data={"collection": "inbox"}, timeout=120)
    assert again.json()["data"][0]["status"] == "unchanged"

    removed = requests.delete(
        f"{server}/v1/sources", headers=_auth(), json={"source": library["source"], "collection": "inbox"}, timeout=60
    )
    assert removed.status_code == 200
    assert removed.json() == {"object": "source.deleted", "collection": "inbox", "source": library["source"], "removed": 1}
    assert not saved.exists()
    gone = requests.delete(
        f"{server}/v1/sources", headers=_auth(), params={"source": library["source"], "collection": "inbox"}, timeout=60
    )
    assert gone.status_code == 404
    assert gone.json()["error"]["message"] == f"{library['source']}: not in collection 'inbox'; GET /v1/sources lists the sources"


def test_upload_over_the_limit_is_413(server, corpus):
    home, _ = corpus
    big = ("files", ("big.txt", b"a" * (1024 * 1024 + 10), "text/plain"))
    response = requests.post(f"{server}/v1/ingest", headers=_auth(), files=[big], data={"collection": "inbox"}, timeout=60)
    assert response.status_code == 413
    assert response.json()["error"]["type"] == "request_too_large"
    assert not (home / "uploads" / "inbox" / "big.txt").exists()


def test_ingest_without_files_is_400(server):
    response = requests.post(f"{server}/v1/ingest", headers=_auth(), data={"collection": "inbox"}, timeout=30)
    assert response.status_code == 400
    assert "files: Field required" in response.json()["error"]["message"]


# ---- the command ---------------------------------------------------------------------------------
def _env(home, **extra) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_APP_")}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", PYTHONIOENCODING="utf-8", RAG_APP_HOME=str(home), **extra)
    return env


def test_rag_app_api_command_serves_with_a_key(corpus):
    home, _ = corpus
    process = subprocess.Popen(
        [sys.executable, "-m", "rag_app.cli", "api", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8",
        env=_env(home, RAG_APP_API_KEY="from-env"), cwd=str(REPO_ROOT),
    )
    try:
        line = process.stdout.readline()
        match = re.match(r"rag-app: API at (http://127\.0\.0\.1:\d+)/v1 \(collections: 'docs', 'inbox', 'notes'; Ctrl-C stops\)", line)
        assert match, (line, process.stderr.read() if process.poll() is not None else "")
        base = match.group(1)
        assert requests.get(f"{base}/v1/models", timeout=60).status_code == 401
        models = requests.get(f"{base}/v1/models", headers={"Authorization": "Bearer from-env"}, timeout=60).json()
        assert [m["id"] for m in models["data"]] == ["docs", "inbox", "notes"]
    finally:
        process.send_signal(signal.SIGINT)  # Ctrl-C: uvicorn shuts down, then the CLI's interrupted code
        _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    assert "Traceback" not in stderr and "from-env" not in stderr


def test_refuses_a_public_host_without_a_key(corpus):
    home, _ = corpus
    result = subprocess.run(
        [sys.executable, "-m", "rag_app.cli", "api", "--host", "0.0.0.0", "--port", "0"],
        capture_output=True, text=True, encoding="utf-8", env=_env(home), cwd=str(REPO_ROOT), timeout=60,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("rag-app: error: api --host 0.0.0.0 would accept requests from other machines without a key")
    assert "RAG_APP_API_KEY" in lines[0]
