"""One collection on disk: Chroma (dense vectors, chunk text and metadata) + a manifest + BM25.

Layout under the home directory:

    chroma/                         Chroma PersistentClient, one Chroma collection per name
    collections/NAME/manifest.sqlite  sources, chunk ids per source, BM25 tokens per chunk
    collections/NAME/bm25/          bm25s index built from the manifest's tokens

Writes go to Chroma first and to the manifest last, in one transaction; a failed Chroma write
is rolled back, so a source is either fully in both indexes or not at all.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
import uuid
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.documents import Document

from indexes.bm25 import BM25_B, BM25_K1, Bm25Index
from indexes.dense_stats import DenseStats
from indexes.versioned import load_versioned
from indexes.errors import StoreError

COLLECTION_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,61}[A-Za-z0-9]$")
CHROMA_BATCH = 2000  # Chroma's max batch is 5,461 on this build

_clients: dict[str, Any] = {}
_tfidf_cache: dict[str, "TfidfIndex"] = {}
_schema_ready: set[str] = set()
_clients_lock = threading.Lock()


def chroma_client(path: Path, url: str | None = None):
    """One client per directory (or server URL) per process; Chroma wants a single client per path.

    With `url` (http://host:port) the vectors live in a Chroma server (`chroma run`), so several
    app processes can share them; without it, in a PersistentClient under `path`.
    """
    key = url or str(path)
    with _clients_lock:
        if key not in _clients:
            import chromadb
            from chromadb.config import Settings

            settings = Settings(anonymized_telemetry=False)
            if url:
                from urllib.parse import urlparse

                parsed = urlparse(url)
                if parsed.scheme not in ("http", "https") or not parsed.hostname:
                    raise StoreError(f"invalid Chroma server URL {url!r}; use http://HOST:PORT")
                try:
                    _clients[key] = chromadb.HttpClient(
                        host=parsed.hostname,
                        port=parsed.port or (443 if parsed.scheme == "https" else 8000),
                        ssl=parsed.scheme == "https",
                        settings=settings,
                    )
                except Exception as exc:  # chromadb raises ValueError/ConnectionError variants
                    raise StoreError(f"cannot reach the Chroma server at {url} ({exc}); start it with: chroma run --path DIR") from None
            else:
                path.mkdir(parents=True, exist_ok=True)
                _clients[key] = chromadb.PersistentClient(path=key, settings=settings)
        return _clients[key]


def check_collection_name(name: str) -> str:
    if not COLLECTION_NAME.match(name) or ".." in name:
        raise StoreError(
            f"invalid collection name {name!r}; use 3-63 letters, digits, '.', '_' or '-', starting and ending with a letter or digit"
        )
    return name


@dataclass(frozen=True)
class SourceInfo:
    source: str
    chunks: int
    source_type: str | None
    title: str | None
    updated_at: float


def _identity(terms: list[str]) -> list[str]:
    return terms


class TfidfIndex:
    """The `tfidf` retrieval mode: scikit-learn TF-IDF (sublinear tf, unigrams + bigrams) over the
    terms BM25 already stores, so nothing is tokenized again."""

    def __init__(self, ids: list[str], retriever, version: str):
        self.ids = ids
        self.version = version
        self._retriever = retriever

    @classmethod
    def build(cls, ids: list[str], token_lists: list[list[str]], version: str) -> "TfidfIndex":
        from indexes.baselines import NgramAnalyzer, TfidfRetriever

        if not ids or not any(token_lists):
            return cls([], None, version)
        retriever = TfidfRetriever(analyzer=NgramAnalyzer(_identity, (1, 2)), ngram_range=(1, 1))
        return cls(list(ids), retriever.fit(token_lists), version)

    def scores(self, query_terms: list[str]) -> np.ndarray:
        if self._retriever is None or not query_terms:
            return np.zeros(len(self.ids))
        return self._retriever.scores(query_terms)


@dataclass(frozen=True)
class SourceWrite:
    """New chunks of one source (with their vectors and BM25 tokens) and the stored ids it keeps."""

    source: str
    chunks: list[Document]
    embeddings: np.ndarray
    tokens: list[list[str]]
    keep_ids: set[str]


@dataclass(frozen=True)
class WriteResult:
    added: int
    removed: int


class ChunkStore:
    """Chunks of one collection in Chroma + BM25. `embedder_name` guards against mixing models."""

    def __init__(
        self, home: Path, collection: str, embedder_name: str, tokenizer_name: str = "kiwi", chroma_url: str | None = None
    ):
        self.home = Path(home)
        self.chroma_url = chroma_url
        self.collection = check_collection_name(collection)
        self.embedder_name = embedder_name
        self.tokenizer_name = tokenizer_name
        self.directory = self.home / "collections" / collection
        self._chroma = None

    # ---- manifest -------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        path = self.directory / "manifest.sqlite"
        if str(path) in _schema_ready and path.exists():
            return sqlite3.connect(path, timeout=30)
        self.directory.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(path, timeout=30)
        connection.executescript(
            """
            CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS sources (
                source TEXT PRIMARY KEY, source_type TEXT, title TEXT,
                chunks INTEGER NOT NULL, updated_at REAL NOT NULL);
            CREATE TABLE IF NOT EXISTS chunks (
                id TEXT PRIMARY KEY, source TEXT NOT NULL, ordinal INTEGER NOT NULL, tokens TEXT NOT NULL);
            CREATE INDEX IF NOT EXISTS chunks_by_source ON chunks (source);
            """
        )
        _schema_ready.add(str(path))  # every query opens the manifest: create the schema once
        return connection

    def _meta(self, connection: sqlite3.Connection, key: str) -> str | None:
        row = connection.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def _record_settings(self, connection: sqlite3.Connection) -> None:
        for key, wanted in (("embedder", self.embedder_name), ("tokenizer", self.tokenizer_name)):
            connection.execute("INSERT OR IGNORE INTO meta VALUES (?, ?)", (key, wanted))

    def check_compatible(self) -> None:
        """Raise StoreError before any work when the collection was built with another embedder or tokenizer."""
        if not self.exists():
            return
        with closing(self._connect()) as connection:
            for key, flag, wanted in (
                ("embedder", "embedder", self.embedder_name),
                ("tokenizer", "bm25-tokenizer", self.tokenizer_name),
            ):
                stored = self._meta(connection, key)
                if stored is not None and stored != wanted:
                    raise StoreError(
                        f"collection {self.collection!r} was built with {key} {stored!r}, not {wanted!r}; "
                        f"use --{flag} {stored} or another collection"
                    )

    def exists(self) -> bool:
        return (self.directory / "manifest.sqlite").exists()

    def sources(self) -> list[SourceInfo]:
        if not self.exists():
            return []
        with closing(self._connect()) as connection:
            rows = connection.execute(
                "SELECT source, chunks, source_type, title, updated_at FROM sources ORDER BY source"
            ).fetchall()
        return [SourceInfo(*row) for row in rows]

    def chunk_ids(self, source: str) -> set[str]:
        if not self.exists():
            return set()
        with closing(self._connect()) as connection:
            return {row[0] for row in connection.execute("SELECT id FROM chunks WHERE source = ?", (source,))}

    def count(self) -> int:
        if not self.exists():
            return 0
        with closing(self._connect()) as connection:
            return connection.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]

    # ---- Chroma ---------------------------------------------------------------------------
    def _collection(self):
        if self._chroma is None:
            client = chroma_client(self.home / "chroma", self.chroma_url)
            # embedding_function=None: Chroma's default would download an ONNX model; we always
            # pass our own vectors.
            self._chroma = client.get_or_create_collection(
                self.collection,
                embedding_function=None,
                configuration={"hnsw": {"space": "cosine"}},
                metadata={"embedder": self.embedder_name},
            )
        return self._chroma

    # ---- writes ---------------------------------------------------------------------------
    def write_sources(self, writes: list[SourceWrite]) -> list[WriteResult]:
        """Make each source consist of its `keep_ids` (already stored) plus its new `chunks`.

        All new chunks go to Chroma in large batches (each Chroma write costs ~50 ms of syncing,
        so one write per small source would dominate ingest time), then the manifest changes in one
        transaction. A failed Chroma write deletes what it added and stores nothing.
        """
        if not writes:
            return []
        self.check_compatible()
        collection = self._collection()
        with closing(self._connect()) as connection, connection:
            self._record_settings(connection)
            old_ids = {
                write.source: {row[0] for row in connection.execute("SELECT id FROM chunks WHERE source = ?", (write.source,))}
                for write in writes
            }
        chunks = [chunk for write in writes for chunk in write.chunks]
        embeddings = np.concatenate([write.embeddings for write in writes]) if chunks else np.zeros((0, 1))
        added: list[str] = []
        try:
            for start in range(0, len(chunks), CHROMA_BATCH):
                batch = chunks[start : start + CHROMA_BATCH]
                ids = [chunk.id for chunk in batch]
                collection.upsert(
                    ids=ids,
                    embeddings=embeddings[start : start + CHROMA_BATCH],
                    documents=[chunk.page_content for chunk in batch],
                    metadatas=[chunk.metadata for chunk in batch],
                )
                added.extend(ids)
        except Exception as exc:
            if added:
                collection.delete(ids=added)
            names = ", ".join(write.source for write in writes[:3]) + (", ..." if len(writes) > 3 else "")
            raise StoreError(f"{names}: could not write to the vector store ({exc}); nothing was stored") from exc
        removed = {
            write.source: sorted(old_ids[write.source] - write.keep_ids - {chunk.id for chunk in write.chunks})
            for write in writes
        }
        all_removed = [cid for ids in removed.values() for cid in ids]
        for start in range(0, len(all_removed), CHROMA_BATCH):
            collection.delete(ids=all_removed[start : start + CHROMA_BATCH])
        with closing(self._connect()) as connection, connection:
            connection.executemany("DELETE FROM chunks WHERE id = ?", [(cid,) for cid in all_removed])
            for write in writes:
                self._record_source(connection, write)
            self._bump_version(connection)
        return [WriteResult(added=len(write.chunks), removed=len(removed[write.source])) for write in writes]

    def _record_source(self, connection: sqlite3.Connection, write: SourceWrite) -> None:
        connection.executemany(
            "INSERT OR REPLACE INTO chunks VALUES (?, ?, ?, ?)",
            [
                (chunk.id, write.source, chunk.metadata.get("chunk_index", 0), json.dumps(tokens, ensure_ascii=False))
                for chunk, tokens in zip(write.chunks, write.tokens)
            ],
        )
        total = connection.execute("SELECT COUNT(*) FROM chunks WHERE source = ?", (write.source,)).fetchone()[0]
        previous = connection.execute("SELECT source_type, title FROM sources WHERE source = ?", (write.source,)).fetchone()
        first = write.chunks[0].metadata if write.chunks else {}
        connection.execute(
            "INSERT OR REPLACE INTO sources VALUES (?, ?, ?, ?, ?)",
            (
                write.source,
                first.get("source_type", previous[0] if previous else None),
                first.get("title", previous[1] if previous else None),
                total,
                time.time(),
            ),
        )

    def remove_source(self, source: str) -> int:
        """Delete a source from both indexes; returns the number of chunks removed (0: unknown)."""
        ids = sorted(self.chunk_ids(source))
        if not ids and source not in {info.source for info in self.sources()}:
            return 0
        collection = self._collection()
        for start in range(0, len(ids), CHROMA_BATCH):
            collection.delete(ids=ids[start : start + CHROMA_BATCH])
        with closing(self._connect()) as connection, connection:
            connection.execute("DELETE FROM chunks WHERE source = ?", (source,))
            connection.execute("DELETE FROM sources WHERE source = ?", (source,))
            self._bump_version(connection)
        return len(ids)

    def _bump_version(self, connection: sqlite3.Connection) -> None:
        connection.execute("INSERT OR REPLACE INTO meta VALUES ('version', ?)", (uuid.uuid4().hex,))

    # ---- reads ----------------------------------------------------------------------------
    def version(self) -> str:
        """Changes on every write; derived indexes are rebuilt when it does."""
        if not self.exists():
            return "empty"
        with closing(self._connect()) as connection:
            return self._meta(connection, "version") or "empty"

    def bm25(self) -> Bm25Index:
        """The BM25 index matching the manifest, from memory when nothing changed since last time."""
        # The scoring parameters are part of the version: an index saved with other ones is rebuilt.
        version = f"{self.version()}|k1={BM25_K1}|b={BM25_B}"

        def rebuild() -> Bm25Index:
            with closing(self._connect()) as connection:
                rows = connection.execute("SELECT id, tokens FROM chunks ORDER BY source, ordinal, id").fetchall()
            token_lists = [json.loads(row[1]) for row in rows]
            return Bm25Index.build([row[0] for row in rows], token_lists, version, k1=BM25_K1, b=BM25_B)

        return load_versioned(self.directory / "bm25", version, Bm25Index.load, rebuild)

    def tfidf(self) -> "TfidfIndex":
        """TF-IDF over the stored BM25 terms (unigrams + bigrams), built once per process and version."""
        version = self.version()
        key = str(self.directory)
        with _clients_lock:
            cached = _tfidf_cache.get(key)
        if cached is not None and cached.version == version:
            return cached
        with closing(self._connect()) as connection:
            rows = connection.execute("SELECT id, tokens FROM chunks ORDER BY source, ordinal, id").fetchall()
        index = TfidfIndex.build([row[0] for row in rows], [json.loads(row[1]) for row in rows], version)
        with _clients_lock:
            _tfidf_cache[key] = index
        return index

    def refresh_derived(self) -> None:
        self.bm25()
        self.dense_stats()

    def dense_stats(self) -> DenseStats:
        """Mean and second moment of the collection's vectors (see indexes/dense_stats.py)."""
        version = self.version()

        def rebuild() -> DenseStats:
            with closing(self._connect()) as connection:
                ids = [row[0] for row in connection.execute("SELECT id FROM chunks ORDER BY id")]
            collection = self._collection()
            batches = (
                collection.get(ids=ids[start : start + CHROMA_BATCH], include=["embeddings"])["embeddings"]
                for start in range(0, len(ids), CHROMA_BATCH)
            )
            return DenseStats.build(batches, version)

        return load_versioned(self.directory / "stats", version, DenseStats.load, rebuild)

    def dense_search(self, query_vector: np.ndarray, n: int) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) of the n nearest chunks, best first."""
        collection = self._collection()
        n = min(n, collection.count())
        if n <= 0:
            return []
        result = collection.query(query_embeddings=[query_vector], n_results=n, include=["distances"])
        return [(cid, 1.0 - float(d)) for cid, d in zip(result["ids"][0], result["distances"][0])]

    def texts(self, batch: int = 2000) -> list[str]:
        """Every chunk's text, in BM25 index order (e.g. to mine hard negatives from)."""
        ids = self.bm25().ids
        texts: list[str] = []
        for start in range(0, len(ids), batch):
            records = self.get(ids[start : start + batch])
            texts.extend(records[cid]["text"] for cid in ids[start : start + batch] if cid in records)
        return texts

    def get(self, ids: list[str], with_embeddings: bool = False) -> dict[str, dict[str, Any]]:
        """id -> {"text", "metadata"[, "embedding"]} for the ids that exist."""
        if not ids:
            return {}
        include = ["documents", "metadatas"] + (["embeddings"] if with_embeddings else [])
        result = self._collection().get(ids=list(ids), include=include)
        records = {}
        for i, cid in enumerate(result["ids"]):
            record = {"text": result["documents"][i], "metadata": result["metadatas"][i] or {}}
            if with_embeddings:
                record["embedding"] = np.asarray(result["embeddings"][i], dtype=np.float32)
            records[cid] = record
        return records
