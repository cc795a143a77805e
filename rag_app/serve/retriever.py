"""`RagApp.as_retriever()`: the app's retrieval (hybrid, dense, BM25, TF-IDF, reranking) as a
LangChain `BaseRetriever`, so it plugs into LCEL chains, `create_retriever_tool` and LangGraph agents.

    retriever = RagApp(collection="docs").as_retriever(k=3)
    docs = retriever.invoke("RAG는 어떻게 작동하나요?")
    docs[0].metadata["source"], docs[0].metadata["location"], docs[0].metadata["score"]

Each Document's `id` is the chunk id; its metadata holds the stored keys (source_type,
chunk_index, content_hash, ...) plus source, title, page, location, link, score, chunk_id and
rank (see rag_app/serve/records.py).
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever

from indexes.retrieval import MODES
from rag_app.errors import ConfigError
from rag_app.serve.records import chunk_metadata


class RagAppRetriever(BaseRetriever):
    """Retrieves from one RagApp collection. `k` and `mode` default to the app's settings."""

    app: Any  # a rag_app.app.RagApp (Any: pydantic need not know the class)
    k: int
    mode: str

    @classmethod
    def for_app(cls, app: Any, *, k: int | None = None, mode: str | None = None) -> "RagAppRetriever":
        k = app.settings.k if k is None else k
        mode = mode or app.settings.mode
        if not isinstance(k, int) or k < 1:
            raise ConfigError(f"as_retriever(k={k!r}): k must be a positive whole number, e.g. k=5")
        if mode not in MODES:
            raise ConfigError(f"as_retriever(mode={mode!r}): choose one of {', '.join(MODES)}")
        return cls(app=app, k=k, mode=mode, tags=[f"rag-app:{app.collection}", f"mode:{mode}"])

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        chunks = self.app.retrieve(query, k=self.k, mode=self.mode)
        return [
            Document(page_content=chunk.text, metadata=chunk_metadata(chunk, rank), id=chunk.id)
            for rank, chunk in enumerate(chunks, start=1)
        ]
