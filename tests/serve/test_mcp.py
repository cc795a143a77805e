"""`rag-app mcp`: the MCP server driven by the official `mcp` client, over stdio (the server is a
real `python -m rag_app.cli mcp` subprocess) and over streamable HTTP with a bearer key."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys

import pytest
import requests
from mcp import Client, StdioServerParameters

from conftest import REPO_ROOT
from serve_corpus import RAG_QUESTION, build_home

KEY = "mcp-key-456"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return build_home(tmp_path_factory.mktemp("mcp"))


def _server_env(home) -> dict[str, str]:
    return {"RAG_APP_HOME": str(home), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONIOENCODING": "utf-8"}


async def _session(client: Client) -> dict:
    """List the tools and call each one; the results, for the tests to check."""
    results = {"tools": (await client.list_tools()).tools}
    results["search"] = await client.call_tool("search", {"query": RAG_QUESTION, "k": 2})
    results["search_bm25"] = await client.call_tool("search", {"query": "final project due", "k": 1, "mode": "bm25"})
    results["ask"] = await client.call_tool("ask", {"question": RAG_QUESTION})
    results["list_sources"] = await client.call_tool("list_sources", {})
    results["bad_k"] = await client.call_tool("search", {"query": RAG_QUESTION, "k": 0})
    results["bad_mode"] = await client.call_tool("search", {"query": RAG_QUESTION, "mode": "agent"})
    return results


@pytest.fixture(scope="module")
def stdio_results(corpus):
    home, _ = corpus
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "rag_app.cli", "mcp", "--collection", "docs"],
        env=_server_env(home), cwd=str(REPO_ROOT),
    )

    async def run() -> dict:
        async with Client(params, read_timeout_seconds=300) as client:
            return await _session(client)

    return asyncio.run(run())


def test_lists_three_tools_with_schemas(stdio_results):
    tools = {tool.name: tool for tool in stdio_results["tools"]}
    assert set(tools) == {"search", "ask", "list_sources"}
    assert tools["search"].input_schema["required"] == ["query"]
    assert set(tools["search"].input_schema["properties"]) == {"query", "k", "mode"}
    assert tools["ask"].input_schema["required"] == ["question"]
    assert tools["list_sources"].input_schema["properties"] == {}
    assert all(tool.description for tool in tools.values())


def test_search_returns_chunks_with_citations(stdio_results, corpus):
    _, docs = corpus
    result = stdio_results["search"]
    assert not result.is_error
    data = result.structured_content
    assert (data["collection"], data["query"], data["mode"]) == ("docs", RAG_QUESTION, "hybrid")
    assert [r["rank"] for r in data["results"]] == [1, 2]
    first = data["results"][0]
    assert first["source"] == str(docs / "07_rag.md")
    assert first["title"] == "RAG(검색 증강 생성)는 어떻게 작동하나요?"
    assert first["link"] == (docs / "07_rag.md").as_uri()
    assert "RAG는 질문이 들어오면 관련 문서를 찾아" in "".join(r["text"] for r in data["results"])
    assert json.loads(result.content[0].text) == data  # the text block is the same JSON
    assert stdio_results["search_bm25"].structured_content["mode"] == "bm25"


def test_ask_returns_the_cited_answer(stdio_results, corpus):
    _, docs = corpus
    result = stdio_results["ask"]
    assert not result.is_error
    answer = result.structured_content
    assert answer["question"] == RAG_QUESTION and answer["abstained"] is False
    assert "RAG는 질문이 들어오면 관련 문서를 찾아" in answer["answer"]
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", answer["answer"])}
    assert markers == {c["n"] for c in answer["citations"]} == {1}
    assert answer["citations"][0]["source"] == str(docs / "07_rag.md")


def test_list_sources(stdio_results, corpus):
    _, docs = corpus
    result = stdio_results["list_sources"]
    assert not result.is_error
    data = result.structured_content
    assert data["collection"] == "docs"
    assert {s["source"] for s in data["sources"]} == {str(p) for p in docs.iterdir()}
    assert all(s["chunks"] > 0 for s in data["sources"])


def test_bad_arguments_are_tool_errors(stdio_results):
    bad_k = stdio_results["bad_k"]
    assert bad_k.is_error
    assert "k=0 is out of range; pass a number from 1 to 50" in bad_k.content[0].text
    bad_mode = stdio_results["bad_mode"]
    assert bad_mode.is_error
    assert "'hybrid', 'dense', 'bm25' or 'tfidf'" in bad_mode.content[0].text


def test_streamable_http_with_a_key(corpus):
    import httpx2
    from mcp.client.streamable_http import streamable_http_client

    home, _ = corpus
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_APP_")}
    env.update(_server_env(home), RAG_APP_API_KEY=KEY)
    process = subprocess.Popen(
        [sys.executable, "-m", "rag_app.cli", "mcp", "--transport", "streamable-http", "--port", "0", "-c", "notes"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8", env=env, cwd=str(REPO_ROOT),
    )
    try:
        line = process.stdout.readline()
        match = re.match(r"rag-app: MCP server for collection 'notes' at (http://127\.0\.0\.1:\d+/mcp) \(Ctrl-C stops\)", line)
        assert match, line
        url = match.group(1)
        refused = requests.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, timeout=60)
        assert refused.status_code == 401
        assert refused.json()["error"]["type"] == "authentication_error"

        async def run():
            async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {KEY}"}, timeout=300) as http:
                async with Client(streamable_http_client(url, http_client=http), read_timeout_seconds=300) as client:
                    names = {tool.name for tool in (await client.list_tools()).tools}
                    answer = await client.call_tool("ask", {"question": "When is the final project due?"})
                    return names, answer

        names, answer = asyncio.run(run())
        assert names == {"search", "ask", "list_sources"}
        assert not answer.is_error
        assert "December 12, 2026" in answer.structured_content["answer"]
        assert answer.structured_content["citations"][0]["source"].endswith("12_course_faq.md")
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    assert KEY not in stderr


def test_streamable_http_refuses_a_public_host_without_a_key(corpus):
    home, _ = corpus
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_APP_")}
    env.update(_server_env(home))
    result = subprocess.run(
        [sys.executable, "-m", "rag_app.cli", "mcp", "--transport", "streamable-http", "--host", "0.0.0.0"],
        capture_output=True, text=True, encoding="utf-8", env=env, cwd=str(REPO_ROOT), timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "RAG_APP_API_KEY" in result.stderr
