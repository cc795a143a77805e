"""The local LLM servers (tests/llm_servers.py) driven through the real LangChain clients."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, SystemMessage, ToolMessage
from langchain_core.tools import tool

from tests.llm_servers import ChatRequest, GeminiServer, OpenAIServer, Reply, scripted

ANSWER = "서울은 대한민국의 수도입니다 [1]."


@tool
def search_docs(query: str, k: int = 3) -> str:
    """Search the indexed documents."""
    return "없음"


def openai_chat(server: OpenAIServer, **kwargs):
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(model="gpt-4o-mini", base_url=server.base_url, api_key="sk-test", max_retries=0, **kwargs)


def gemini_chat(server: GeminiServer, **kwargs):
    from langchain_google_genai import ChatGoogleGenerativeAI

    return ChatGoogleGenerativeAI(
        model="gemini-2.5-flash", google_api_key="gk-test", base_url=server.base_url, max_retries=0, **kwargs
    )


def collect(stream) -> tuple[list[AIMessageChunk], AIMessageChunk]:
    chunks = list(stream)
    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    return chunks, total


def http(method: str, url: str, body: bytes | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=body, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


# -- the helpers ------------------------------------------------------------------------------


def test_scripted_plays_replies_in_order_then_fails_loudly():
    responder = scripted([Reply(text="하나"), "둘"])
    request = ChatRequest("openai", "m", [], [], False, {}, {}, "/")
    assert responder(request).text == "하나"
    assert responder(request).text == "둘"
    with pytest.raises(RuntimeError, match="2 replies"):
        responder(request)


def test_default_stream_split_is_by_word_and_halves_a_single_word():
    assert Reply(text="서울은 수도 [1].").stream_pieces() == ["서울은 ", "수도 ", "[1]."]
    assert Reply(text="안녕하세요").stream_pieces() == ["안녕", "하세요"]
    assert Reply(text="ab", chunks=["a", "b"]).stream_pieces() == ["a", "b"]


# -- OpenAI -----------------------------------------------------------------------------------


def test_openai_invoke_returns_text_and_records_the_request():
    with OpenAIServer(scripted([Reply(text=ANSWER, usage=(12, 7))])) as server:
        assert server.base_url == f"http://127.0.0.1:{server.port}/v1"
        message = openai_chat(server).invoke([SystemMessage("근거를 인용하세요."), HumanMessage("수도는?")])

    assert message.content == ANSWER
    assert message.response_metadata["finish_reason"] == "stop"
    assert message.usage_metadata["input_tokens"] == 12
    assert message.usage_metadata["output_tokens"] == 7
    [request] = server.requests
    assert request.protocol == "openai"
    assert request.model == "gpt-4o-mini"
    assert request.stream is False
    assert request.headers["authorization"] == "Bearer sk-test"
    assert request.api_key == "sk-test"
    assert request.messages == [
        {"role": "system", "content": "근거를 인용하세요."},
        {"role": "user", "content": "수도는?"},
    ]
    assert request.system == "근거를 인용하세요."
    assert request.last_user == "수도는?"
    assert request.path == "/v1/chat/completions"


def test_openai_stream_yields_several_chunks_and_usage():
    with OpenAIServer(ANSWER) as server:
        chunks, total = collect(openai_chat(server, stream_usage=True).stream("수도는?"))

    texts = [c.content for c in chunks if c.content]
    assert len(texts) > 1
    assert "".join(texts) == ANSWER
    assert total.content == ANSWER
    assert total.usage_metadata["output_tokens"] == 4  # word count of ANSWER
    assert server.last_request.stream is True
    assert server.last_request.raw["stream_options"] == {"include_usage": True}


def test_openai_custom_chunks_are_streamed_as_given():
    with OpenAIServer(Reply(text="가나다", chunks=["가", "나", "다"])) as server:
        chunks, total = collect(openai_chat(server).stream("hi"))
    assert [c.content for c in chunks if c.content] == ["가", "나", "다"]
    assert total.content == "가나다"


@pytest.mark.parametrize("streaming", [False, True])
def test_openai_tool_calls(streaming: bool):
    calls = [("search_docs", {"query": "서울 인구", "k": 2}), ("search_docs", {"query": "부산"})]
    with OpenAIServer(Reply(tool_calls=calls)) as server:
        llm = openai_chat(server).bind_tools([search_docs])
        message = collect(llm.stream("검색해"))[1] if streaming else llm.invoke("검색해")

    assert [(c["name"], c["args"]) for c in message.tool_calls] == calls
    assert all(c["id"].startswith("call_") for c in message.tool_calls)
    assert len({c["id"] for c in message.tool_calls}) == 2
    assert message.response_metadata["finish_reason"] == "tool_calls"
    assert server.last_request.tools == ["search_docs"]


def test_openai_tool_round_trip_is_normalised():
    history = [
        HumanMessage("서울 인구?"),
        AIMessage("", tool_calls=[{"name": "search_docs", "args": {"query": "서울"}, "id": "call_1"}]),
        ToolMessage("약 940만 명", tool_call_id="call_1"),
    ]
    with OpenAIServer("약 940만 명입니다 [1].") as server:
        assert openai_chat(server).bind_tools([search_docs]).invoke(history).content == "약 940만 명입니다 [1]."

    assert server.last_request.messages[1:] == [
        {"role": "assistant", "content": "",
         "tool_calls": [{"id": "call_1", "name": "search_docs", "args": {"query": "서울"}}]},
        {"role": "tool", "content": "약 940만 명", "tool_call_id": "call_1", "name": "search_docs"},
    ]


@pytest.mark.parametrize(
    ("status", "error_name"),
    [(401, "AuthenticationError"), (429, "RateLimitError"), (500, "InternalServerError")],
)
def test_openai_http_errors_surface_as_client_exceptions(status: int, error_name: str):
    import openai

    with OpenAIServer(Reply.error(status, "bad key sk-***")) as server:
        with pytest.raises(getattr(openai, error_name)) as caught:
            openai_chat(server).invoke("hi")
    assert caught.value.status_code == status
    assert caught.value.body["message"] == "bad key sk-***"
    assert len(server.requests) == 1  # max_retries=0: no retry


def test_openai_error_in_stream_request():
    import openai

    with OpenAIServer(Reply.error(401)) as server:
        with pytest.raises(openai.AuthenticationError, match="Incorrect API key") as caught:
            list(openai_chat(server).stream("hi"))
    assert caught.value.code == "invalid_api_key"


def test_openai_models_list_and_bad_requests():
    import openai

    with OpenAIServer(models=["gpt-4o-mini", "gpt-4o"]) as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0)
        assert [m.id for m in client.models.list()] == ["gpt-4o-mini", "gpt-4o"]
        assert client.models.retrieve("gpt-4o").id == "gpt-4o"

        status, body = http("POST", f"{server.base_url}/chat/completions", b"{not json")
        assert status == 400 and body["error"]["type"] == "invalid_request_error"
        status, body = http("POST", f"{server.base_url}/chat/completions", b'{"model": "m"}')
        assert status == 400 and "messages" in body["error"]["message"]
        status, body = http("GET", f"{server.url}/nope")
        assert status == 404 and "/nope" in body["error"]["message"]
    assert server.requests == []  # only chat requests are recorded


def test_failing_responder_answers_500_and_is_recorded():
    import openai

    with OpenAIServer(scripted([])) as server:
        with pytest.raises(openai.InternalServerError):
            openai_chat(server).invoke("hi")
    assert server.errors == ["RuntimeError: scripted responder has 0 replies; request 1 has none"]


# -- Gemini -----------------------------------------------------------------------------------


def test_gemini_invoke_returns_text_and_records_the_request():
    with GeminiServer(scripted([Reply(text=ANSWER, usage=(20, 5))])) as server:
        assert server.base_url == f"http://127.0.0.1:{server.port}"
        message = gemini_chat(server).invoke([SystemMessage("근거를 인용하세요."), HumanMessage("수도는?")])

    assert message.content == ANSWER
    assert message.response_metadata["finish_reason"] == "STOP"
    assert message.usage_metadata["input_tokens"] == 20
    assert message.usage_metadata["output_tokens"] == 5
    [request] = server.requests
    assert request.protocol == "gemini"
    assert request.path == "/v1beta/models/gemini-2.5-flash:generateContent"
    assert request.model == "gemini-2.5-flash"
    assert request.stream is False
    assert request.headers["x-goog-api-key"] == "gk-test"
    assert request.api_key == "gk-test"
    assert request.messages == [
        {"role": "system", "content": "근거를 인용하세요."},
        {"role": "user", "content": "수도는?"},
    ]
    assert request.raw["systemInstruction"] == {"parts": [{"text": "근거를 인용하세요."}]}


def test_gemini_stream_yields_several_chunks_and_usage():
    with GeminiServer(ANSWER) as server:
        chunks, total = collect(gemini_chat(server).stream("수도는?"))

    texts = [c.content for c in chunks if c.content]
    assert len(texts) > 1
    assert "".join(texts) == ANSWER
    assert total.content == ANSWER
    assert total.usage_metadata["output_tokens"] == 4
    assert server.last_request.stream is True
    assert server.last_request.path == "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"


@pytest.mark.parametrize("streaming", [False, True])
def test_gemini_tool_calls(streaming: bool):
    calls = [("search_docs", {"query": "서울 인구", "k": 2}), ("search_docs", {"query": "부산"})]
    with GeminiServer(Reply(text="찾아볼게요.", tool_calls=calls)) as server:
        llm = gemini_chat(server).bind_tools([search_docs])
        message = collect(llm.stream("검색해"))[1] if streaming else llm.invoke("검색해")

    assert [(c["name"], c["args"]) for c in message.tool_calls] == calls
    assert message.text == "찾아볼게요."
    assert server.last_request.tools == ["search_docs"]
    declaration = server.last_request.raw["tools"][0]["functionDeclarations"][0]
    assert declaration["parameters"]["required"] == ["query"]


def test_gemini_tool_round_trip_is_normalised():
    history = [
        SystemMessage("도구를 쓰세요."),
        HumanMessage("서울 인구?"),
        AIMessage("", tool_calls=[{"name": "search_docs", "args": {"query": "서울"}, "id": "call_1"}]),
        ToolMessage("약 940만 명", tool_call_id="call_1"),
    ]
    with GeminiServer("약 940만 명입니다 [1].") as server:
        assert gemini_chat(server).bind_tools([search_docs]).invoke(history).content == "약 940만 명입니다 [1]."

    assert server.last_request.messages == [
        {"role": "system", "content": "도구를 쓰세요."},
        {"role": "user", "content": "서울 인구?"},
        {"role": "assistant", "content": "",
         "tool_calls": [{"id": None, "name": "search_docs", "args": {"query": "서울"}}]},
        {"role": "tool", "content": "약 940만 명", "name": "search_docs", "tool_call_id": None},
    ]


@pytest.mark.parametrize(
    ("status", "error_name"),
    [(401, "GoogleAuthenticationError"), (429, "GoogleRateLimitError"), (500, "GoogleAPIError")],
)
@pytest.mark.parametrize("streaming", [False, True])
def test_gemini_http_errors_surface_as_client_exceptions(status: int, error_name: str, streaming: bool):
    import langchain_google_genai.chat_models as gemini_models

    with GeminiServer(Reply.error(status, "API key not valid.")) as server:
        llm = gemini_chat(server)
        with pytest.raises(getattr(gemini_models, error_name), match="API key not valid"):
            list(llm.stream("hi")) if streaming else llm.invoke("hi")
    assert len(server.requests) == 1  # max_retries=0: one attempt


def test_gemini_models_list_and_bad_requests():
    with GeminiServer() as server:
        status, body = http("GET", f"{server.url}/v1beta/models")
        assert status == 200 and body["models"][0]["name"] == "models/gemini-2.5-flash"
        url = f"{server.url}/v1beta/models/gemini-2.5-flash:generateContent"
        status, body = http("POST", url, b"{not json")
        assert status == 400 and body["error"]["status"] == "INVALID_ARGUMENT"
        status, body = http("POST", f"{server.url}/v1beta/models/x:explode", b"{}")
        assert status == 404 and body["error"]["status"] == "NOT_FOUND"
        # Without alt=sse the stream endpoint answers one JSON array of chunks.
        status, body = http("POST", url.replace("generateContent", "streamGenerateContent"),
                            json.dumps({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}).encode())
        assert status == 200 and [c["candidates"][0]["content"]["parts"][0]["text"] for c in body] == ["o", "k"]


# -- both ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["openai", "gemini"])
def test_async_clients_invoke_and_stream(kind: str):
    import asyncio

    server_class, make = (OpenAIServer, openai_chat) if kind == "openai" else (GeminiServer, gemini_chat)

    async def run(llm) -> tuple[str, list[str]]:
        answer = await llm.ainvoke("수도는?")
        pieces = [chunk.content async for chunk in llm.astream("수도는?") if chunk.content]
        return answer.content, pieces

    with server_class(ANSWER) as server:
        answer, pieces = asyncio.run(run(make(server)))
    assert answer == ANSWER
    assert len(pieces) > 1 and "".join(pieces) == ANSWER
    assert [r.stream for r in server.requests] == [False, True]


def test_slow_reply_trips_the_client_timeout():
    import openai

    with OpenAIServer(scripted([Reply(text="늦음", delay=1.0), "빠름"])) as server:
        llm = openai_chat(server, timeout=0.2)
        with pytest.raises(openai.APITimeoutError):
            llm.invoke("hi")
        assert llm.invoke("hi").content == "빠름"  # the server keeps serving
    assert server.errors == []
