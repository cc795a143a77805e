"""Generated answers over real HTTP: local servers speaking the OpenAI and Gemini wire protocols,
driven through the real LangChain clients (langchain-openai, langchain-google-genai)."""

from __future__ import annotations

import json
import os
import re

import pytest

from rag_app import RagApp
from rag_app.answer import ABSTAIN_EN, ABSTAIN_KO, Answer
from rag_app.cli import main
from rag_app.errors import ConfigError, ProviderError
from rag_app.llm.generate import build_messages, describe_provider_error, is_abstention
from tests.llm_servers import GeminiServer, OpenAIServer, Reply, scripted

QUESTION = "RAG는 어떻게 작동하나요?"
GROUNDED = "RAG는 질문과 관련된 문서를 검색한 뒤 그 내용을 근거로 답을 생성합니다 [1]."


def llm_app(sample_app, provider: str, server, **overrides) -> RagApp:
    app, _ = sample_app
    keys = {"openai": {"openai_api_key": "sk-test"}, "gemini": {"google_api_key": "gk-test"}}[provider]
    return RagApp(
        home=app.settings.home, collection="samples", provider=provider, base_url=server.base_url, **keys, **overrides
    )


def test_openai_grounded_answer_with_verified_citations(sample_app):
    with OpenAIServer(scripted([GROUNDED])) as server:
        answer = llm_app(sample_app, "openai", server).ask(QUESTION)
        request = server.requests[0]
    assert answer.provider == "openai:gpt-4o-mini"
    assert not answer.abstained and answer.warning is None
    assert answer.answer == GROUNDED
    assert len(answer.citations) == 1 and answer.citations[0].source.endswith("07_rag.md")
    assert answer.citations[0].text == answer.chunks[0].text  # [1] is the first context block
    assert [(s.citations, s.supported) for s in answer.sentences] == [([1], True)]
    # The model saw the Korean rules, numbered blocks and the question; the key went as a header.
    assert "<document index=\"1\"" in request.last_user and "<document index=\"5\"" in request.last_user and QUESTION in request.last_user
    assert "모든 문장 끝에" in request.system and ABSTAIN_KO in request.system
    assert request.api_key == "sk-test"


def test_hallucinated_citation_number_is_removed(sample_app):
    reply = "RAG는 관련 문서를 검색해 그 내용을 근거로 답을 생성합니다 [9][1]. 하이브리드 검색은 BM25와 밀집 검색을 합칩니다 [2]."
    with OpenAIServer(scripted([reply])) as server:
        answer = llm_app(sample_app, "openai", server).ask(QUESTION)
    assert "[9]" not in answer.answer
    assert re.findall(r"\[(\d+)\]", answer.answer) == ["1", "2"]
    assert [c.n for c in answer.citations] == [1, 2]
    assert answer.to_dict()["sentences"][0]["citations"] == [1]


def test_unsupported_claims_are_flagged_with_a_warning(sample_app):
    reply = "달에는 거대한 치즈 공장이 세 곳 있습니다 [1]. 화성의 수도는 올림푸스입니다 [2]."
    with OpenAIServer(scripted([reply])) as server:
        answer = llm_app(sample_app, "openai", server, judge="lexical").ask(QUESTION)
    assert not answer.abstained
    assert [s.supported for s in answer.sentences] == [False, False]
    assert answer.grounded == 0.0
    assert answer.warning and "뒷받침되지 않습니다" in answer.warning


def test_abstention_is_recognised(sample_app):
    with OpenAIServer(scripted([ABSTAIN_KO, "The documents do not mention the price."])) as server:
        app = llm_app(sample_app, "openai", server)
        korean = app.ask("아이폰 15의 가격은 얼마인가요?")
        english = app.ask("What is the price of the iPhone 15?")
        english_request = server.requests[1]
    assert korean.abstained and korean.answer == ABSTAIN_KO and korean.citations == []
    assert english.abstained and english.answer == ABSTAIN_EN
    assert korean.to_dict()["abstained"] is True and korean.to_dict()["grounded"] is None
    assert "Answer in English" in english_request.system  # English question, English prompt


def test_stream_yields_pieces_then_the_verified_answer(sample_app):
    reply = Reply(text="RAG는 관련 문서를 찾아 그 근거로 답합니다 [1][8].", chunks=["RAG는 관련 ", "문서를 찾아 ", "그 근거로 ", "답합니다 [1][8]."])
    with OpenAIServer(scripted([reply])) as server:
        items = list(llm_app(sample_app, "openai", server).stream(QUESTION))
        assert server.requests[0].stream
    pieces, final = items[:-1], items[-1]
    assert pieces == ["RAG는 관련 ", "문서를 찾아 ", "그 근거로 ", "답합니다 [1][8]."]
    assert isinstance(final, Answer)
    assert final.answer == "RAG는 관련 문서를 찾아 그 근거로 답합니다 [1]."  # [8] pointed at nothing
    assert "first_token" in final.timings_ms and final.timings_ms["first_token"] <= final.timings_ms["total"]


def test_gemini_answer_and_stream(sample_app):
    with GeminiServer(scripted([GROUNDED, GROUNDED])) as server:
        app = llm_app(sample_app, "gemini", server)
        answer = app.ask(QUESTION)
        items = list(app.stream(QUESTION))
        requests = list(server.requests)
    assert answer.provider == "gemini:gemini-2.5-flash"
    assert answer.answer == GROUNDED and answer.citations[0].source.endswith("07_rag.md")
    assert requests[0].api_key == "gk-test" and "<document index=\"1\"" in requests[0].last_user
    assert requests[1].stream and len(items) > 2 and "".join(items[:-1]) == GROUNDED
    assert items[-1].answer == GROUNDED


@pytest.mark.parametrize("provider", ["openai", "gemini"])
def test_agent_searches_twice_and_cites_passages_from_both_searches(sample_app, provider):
    def responder(request):
        tool_results = [m for m in request.messages if m["role"] == "tool"]
        if len(tool_results) == 0:
            return Reply(tool_calls=[("search_documents", {"query": "RAG 작동 방식"})])
        if len(tool_results) == 1:
            return Reply(tool_calls=[("search_documents", {"query": "BM25 점수 계산"})])
        # Cite the first passage of each search: the numbers the tool results showed.
        first = re.search(r"<document index=\"(\d+)\"", tool_results[0]["content"]).group(1)
        second_numbers = re.findall(r"<document index=\"(\d+)\"", tool_results[1]["content"])
        fresh = next(n for n in second_numbers if int(n) > 5)
        return Reply(text=f"RAG는 관련 문서를 검색해 근거로 답을 생성합니다 [{first}]. BM25는 단어 빈도로 점수를 매깁니다 [{fresh}].")

    server_class = {"openai": OpenAIServer, "gemini": GeminiServer}[provider]
    with server_class(responder) as server:
        app = llm_app(sample_app, provider, server, agent=True)
        answer = app.ask(QUESTION)
        offered = server.requests[0].tools
    assert offered == ["search_documents", "list_sources"]
    assert [step["input"]["query"] for step in answer.steps] == ["RAG 작동 방식", "BM25 점수 계산"]
    assert len(answer.steps[0]["passages"]) == 5 and max(answer.steps[1]["passages"]) > 5
    assert answer.provider == f"agent:{app.generator.name}"
    assert [c.n for c in answer.citations] == [1, 2]
    assert answer.citations[0].source.endswith("07_rag.md")
    assert answer.citations[1].source.endswith("02_tfidf_bm25.md")
    assert json.loads(json.dumps(answer.to_dict()))["steps"][1]["tool"] == "search_documents"


def test_agent_tool_calls_are_bounded(sample_app):
    endless = Reply(tool_calls=[("search_documents", {"query": "RAG"})])
    with OpenAIServer(lambda request: endless if sum(m["role"] == "tool" for m in request.messages) < 10 else Reply(text=ABSTAIN_KO)) as server:
        answer = llm_app(sample_app, "openai", server, agent=True, agent_max_steps=2).ask(QUESTION)
        calls = len(server.requests)
    assert len([s for s in answer.steps if s["tool"] == "search_documents"]) == 2
    assert answer.abstained and "stopped after 2 searches" in answer.warning
    assert calls <= 5  # the recursion limit ended the run: 2 searches, then refused calls


def test_follow_up_rewritten_by_the_llm(sample_app):
    with OpenAIServer(scripted([GROUNDED, "RAG의 장점은 무엇인가요?", "RAG는 환각을 줄입니다 [1]."])) as server:
        session = llm_app(sample_app, "openai", server).chat()
        session.ask(QUESTION)
        follow_up = session.ask("그럼 장점은?")
        rewrite_request, answer_request = server.requests[1], server.requests[2]
    assert follow_up.rewritten_query == "RAG의 장점은 무엇인가요?"
    assert "그럼 장점은?" in rewrite_request.text and QUESTION in rewrite_request.text
    assert "RAG의 장점은 무엇인가요?" in answer_request.last_user
    assert follow_up.citations[0].source.endswith("07_rag.md")
    assert len(session.history) == 2


def test_follow_up_rewritten_by_the_heuristic_without_llm(sample_app):
    app, _ = sample_app
    session = app.chat()
    session.ask(QUESTION)
    follow_up = session.ask("그럼 가장 큰 장점은?")
    assert follow_up.rewritten_query is not None and "RAG" in follow_up.rewritten_query
    assert "환각" in follow_up.answer  # 07_rag.md: RAG의 가장 큰 장점은 환각을 줄일 수 있다는 것
    session.reset()
    assert session.history == [] and session.ask(QUESTION).rewritten_query is None


def test_missing_key_is_one_line_naming_the_variable(sample_app, capsys):
    app, _ = sample_app
    with pytest.raises(ProviderError, match="OPENAI_API_KEY is not set"):
        RagApp(home=app.settings.home, collection="samples", provider="openai").ask(QUESTION)
    with pytest.raises(ProviderError, match="GOOGLE_API_KEY is not set"):
        RagApp(home=app.settings.home, collection="samples", provider="gemini").ask(QUESTION)
    code = main(["ask", QUESTION, "--home", str(app.settings.home), "-c", "samples", "--provider", "openai"])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "OPENAI_API_KEY" in err


def test_rejected_key_is_reported_without_the_key(sample_app):
    secret = "sk-very-secret-123"
    with OpenAIServer(Reply.error(401, f"Incorrect API key provided: {secret}")) as server:
        home = sample_app[0].settings.home
        app = RagApp(home=home, collection="samples", provider="openai", base_url=server.base_url, openai_api_key=secret)
        with pytest.raises(ProviderError) as caught:
            app.ask(QUESTION)
    message = str(caught.value)
    assert "rejected the API key" in message and "OPENAI_API_KEY" in message
    assert secret not in message and "\n" not in message


def test_unreachable_server_is_named():
    class Refused(Exception):
        pass

    Refused.__name__ = "APIConnectionError"
    message = describe_provider_error("openai:m", "http://127.0.0.1:9/v1", Refused("Connection refused"))
    assert message == "openai:m: cannot reach http://127.0.0.1:9/v1; is the server running and --base-url right?"


def test_agent_mode_needs_an_llm(sample_app):
    app, _ = sample_app
    with pytest.raises(ConfigError, match="agent mode needs an LLM that calls tools.*not extractive"):
        RagApp(home=app.settings.home, collection="samples", agent=True).ask(QUESTION)
    with pytest.raises(ConfigError, match="not hf"):
        RagApp(home=app.settings.home, collection="samples", agent=True, provider="hf").ask(QUESTION)


def test_prompt_language_follows_the_question(sample_app):
    app, _ = sample_app
    chunks = app.retrieve("What is BM25?", k=2)
    (_, system), (_, user) = build_messages("What is BM25?", chunks)
    assert system.startswith("You answer questions") and user.startswith("Documents:") and '<document index="2" source="' in user
    assert is_abstention("문서에 해당 정보가 나와 있지 않습니다.", has_citations=False)
    assert not is_abstention("가격은 나와 있지 않지만 출시일은 9월입니다 [1].", has_citations=True)


def test_cli_stream_and_json(sample_app, capsys):
    app, _ = sample_app
    with OpenAIServer(scripted([GROUNDED, GROUNDED])) as server:
        common = ["--home", str(app.settings.home), "-c", "samples", "--provider", "openai", "--base-url", server.base_url]
        assert main(["ask", QUESTION, "--stream", *common]) == 0
        streamed = capsys.readouterr().out
        assert main(["ask", QUESTION, "--json", *common]) == 0
        payload = json.loads(capsys.readouterr().out)
    assert streamed.startswith(GROUNDED) and "[1] RAG(검색 증강 생성)는 어떻게 작동하나요?" in streamed
    assert payload["provider"] == "openai:gpt-4o-mini" and payload["grounded"] == 1.0
    assert set(payload) >= {"sentences", "warning", "rewritten_query", "steps", "citations", "abstained"}


@pytest.mark.llm
def test_real_openai_compatible_server(sample_app):
    """Opt-in: RAG_APP_TEST_LLM_URL=http://host:port/v1 [RAG_APP_TEST_LLM_MODEL=name] pytest -m llm"""
    url = os.environ.get("RAG_APP_TEST_LLM_URL")
    if not url:
        pytest.skip("set RAG_APP_TEST_LLM_URL to an OpenAI-compatible server to run this test")
    app, _ = sample_app
    llm = RagApp(
        home=app.settings.home, collection="samples", provider="openai", base_url=url,
        model=os.environ.get("RAG_APP_TEST_LLM_MODEL", "default"),
    )
    answer = llm.ask(QUESTION)
    assert not answer.abstained and answer.citations
    assert all(1 <= c.n <= len(answer.citations) for c in answer.citations)
    assert llm.ask("아이폰 15의 출시 가격은 얼마인가요?").abstained


def test_llm_reranker_reorders_by_the_models_ranking(sample_app):
    from rag_app.llm.llm_rerank import parse_ranking

    assert parse_ranking("3, 1, 3, 9, 2", 4) == [2, 0, 1]
    assert parse_ranking("순위: [2] > [1]", 3) == [1, 0]
    app, _ = sample_app
    question = "BM25 점수는 어떻게 계산하나요?"
    plain = app.retrieve(question, k=5)
    with OpenAIServer(scripted(["4, 2", "4, 2", GROUNDED])) as server:  # retrieve; ask = rerank + answer
        llm = llm_app(sample_app, "openai", server, reranker="llm", rerank_depth=5, k=3)
        reranked = llm.retrieve(question)
        answer = llm.ask(question)
        prompt = server.requests[0].last_user
    assert [c.id for c in reranked] == [plain[3].id, plain[1].id, plain[0].id]  # listed first, then retrieval order
    assert [c.score for c in reranked] == [1.0, 0.8, 0.6]
    assert "<document index=\"5\">" in prompt and question in prompt and "가장 관련 있는 구절" in prompt
    assert answer.reranker == "llm:openai:gpt-4o-mini"
    with pytest.raises(ConfigError, match="--rerank llm needs an LLM"):
        RagApp(home=app.settings.home, collection="samples", reranker="llm")


def test_agent_streams_its_answer_as_it_is_generated(sample_app):
    final = Reply(text="RAG는 관련 문서를 검색해 근거로 답을 생성합니다 [1].", chunks=["RAG는 관련 문서를 ", "검색해 근거로 ", "답을 생성합니다 [1]."])
    with OpenAIServer(scripted([Reply(tool_calls=[("search_documents", {"query": "RAG"})]), final])) as server:
        items = list(llm_app(sample_app, "openai", server, agent=True).stream(QUESTION))
        streamed = [r.stream for r in server.requests]
    pieces, answer = items[:-1], items[-1]
    assert streamed == [True, True]
    assert pieces == ["RAG는 관련 문서를 ", "검색해 근거로 ", "답을 생성합니다 [1]."]
    assert answer.answer == final.text and answer.citations[0].source.endswith("07_rag.md")
    assert [s["tool"] for s in answer.steps] == ["search_documents"]


def test_llm_reranker_errors_scrub_the_key(sample_app):
    secret = "sk-rerank-secret-456"
    home = sample_app[0].settings.home
    with OpenAIServer(Reply.error(400, f"bad request for key {secret}")) as server:
        app = RagApp(home=home, collection="samples", provider="openai", base_url=server.base_url,
                     openai_api_key=secret, reranker="llm")
        with pytest.raises(ProviderError) as caught:
            app.retrieve(QUESTION)
    message = str(caught.value)
    assert message.startswith("openai:gpt-4o-mini: the request failed (")
    assert secret not in message and "bad request for key ***" in message


def test_langchain_provider_builds_any_init_chat_model_model(sample_app):
    """--provider langchain --model PROVIDER:MODEL goes through LangChain's init_chat_model; here
    its openai integration, against the local server speaking the OpenAI protocol."""
    app, _ = sample_app
    with OpenAIServer(scripted([GROUNDED])) as server:
        os.environ["OPENAI_API_KEY"] = "sk-from-env"  # the integration reads its own key
        try:
            answer = RagApp(
                home=app.settings.home, collection="samples", provider="langchain", model="openai:scripted-model",
                base_url=server.base_url,
            ).ask(QUESTION)
        finally:
            del os.environ["OPENAI_API_KEY"]
        request = server.requests[0]
    assert answer.provider == "langchain:openai:scripted-model"
    assert answer.answer == GROUNDED and [c.n for c in answer.citations] == [1]
    assert request.model == "scripted-model" and request.api_key == "sk-from-env"
    assert "<document index=\"1\"" in request.last_user


@pytest.mark.parametrize(
    ("model", "message"),
    [
        (None, "the langchain provider needs --model PROVIDER:MODEL"),
        ("claude", "the langchain provider needs --model PROVIDER:MODEL"),
        ("nosuchvendor:model-1", "--model nosuchvendor:model-1: "),
        ("anthropic:claude-sonnet-4-5", "pip install langchain-anthropic"),
    ],
)
def test_langchain_provider_errors_are_one_line(sample_app, model, message):
    app, _ = sample_app
    asker = RagApp(home=app.settings.home, collection="samples", provider="langchain", model=model)
    with pytest.raises(ProviderError) as info:
        asker.ask(QUESTION)
    assert message in str(info.value) and "\n" not in str(info.value)
