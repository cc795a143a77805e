"""One collection: vectors and texts in Chroma, everything else in the catalogue.

    chroma/                 Chroma PersistentClient (or a Chroma server: RAG_APP_CHROMA_URL)
    catalogue.sqlite        the catalogue (or any SQLAlchemy database: RAG_APP_MANIFEST_URL);
                            see indexes/catalogue.py: sources, chunk ids, lexical terms, the
                            vectors' running sums, a change log and write intents
    lexical/NAME-URLHASH/   a snapshot of the collection's BM25 index (indexes/lexical.py)

The catalogue is the source of truth: a chunk is in the collection when it lists it. A write
records an intent (the ids it will add and delete), writes Chroma, commits the catalogue in one
transaction, deletes replaced vectors, and resolves the intent; a write killed anywhere leaves an
intent that the next write reconciles (vectors the catalogue does not list are deleted), and
reads only ever return chunks the catalogue lists. The BM25 index and the vector moments are
updated by each write's change, never rebuilt from every chunk.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import re
import sys
import threading
import time
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np
from langchain_core.documents import Document

from indexes.catalogue import Catalogue, default_url
from indexes.dense_stats import DenseStats
from indexes.errors import StoreError
from indexes.lexical import BM25_B, BM25_K1, LexicalIndex, write_snapshot

log = logging.getLogger(__name__)

CHROMA_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,61}[A-Za-z0-9]$")
MAX_COLLECTION_NAME = 100
CHROMA_BATCH = 2000  # Chroma's max batch is 5,461 on this build

_clients: dict[str, Any] = {}
_tfidf_cache: dict[str, "TfidfIndex"] = {}
_lexical: dict[tuple[str, str], LexicalIndex] = {}
_lexical_saved: dict[tuple[str, str], int] = {}  # merges of the index when its snapshot was written
_dense: dict[tuple[str, str], DenseStats] = {}
_clients_lock = threading.Lock()
_key_locks: dict[tuple[str, str], threading.Lock] = {}


def _key_lock(key: tuple[str, str]) -> threading.Lock:
    with _clients_lock:
        return _key_locks.setdefault(key, threading.Lock())


_snapshot_threads: list[threading.Thread] = []
_snapshot_locks: dict[Path, threading.Lock] = {}


def _snapshot_lock(directory: Path) -> threading.Lock:
    with _clients_lock:
        return _snapshot_locks.setdefault(directory, threading.Lock())


def wait_for_snapshots() -> None:
    """Block until the BM25 snapshots being written in the background are on disk."""
    with _clients_lock:
        pending = list(_snapshot_threads)
    for thread in pending:
        thread.join()


def _pause_for_tests(point: str) -> None:
    """A test hook: RAG_APP_TEST_PAUSE_AT=point makes a write stop there (so a test can kill it)."""
    if os.environ.get("RAG_APP_TEST_PAUSE_AT") == point:
        print(f"paused at {point}", file=sys.stderr, flush=True)
        time.sleep(float(os.environ.get("RAG_APP_TEST_PAUSE_SECONDS", "60")))


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
                with chroma_setup_lock(path):
                    _clients[key] = chromadb.PersistentClient(path=key, settings=settings)
        return _clients[key]


@contextmanager
def chroma_setup_lock(path: Path | None) -> Iterator[None]:
    """Held while a process creates Chroma's tables or a collection in the directory `path`.

    Embedded Chroma runs its migrations and creates collections without waiting for another
    process doing the same: four processes opening a new directory at once failed 12 times in 80
    ("table collections already exists", "database is locked"). Nothing to hold for a server
    (`path` None), which orders its own requests."""
    if path is None:
        yield
        return
    with open(path.parent / f"{path.name}.setup-lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # held for the setup only (well under a second)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def check_collection_name(name: str) -> str:
    """Any name people would give a collection (Korean, spaces, long): 1-100 characters without
    slashes or control characters. Chroma's own rule is stricter; `store_name` maps to it."""
    if (
        not isinstance(name, str)
        or not name.strip()
        or name != name.strip()
        or len(name) > MAX_COLLECTION_NAME
        or any(ch in "/\\" or unicodedata.category(ch).startswith("C") for ch in name)
        or not name.strip(".")
    ):
        raise StoreError(
            f"invalid collection name {name!r}; use 1-{MAX_COLLECTION_NAME} characters (Korean is fine) "
            "without '/', '\\', control characters or surrounding spaces"
        )
    return name


def store_name(name: str) -> str:
    """The name Chroma and the snapshot folder use: the collection's own when Chroma accepts it,
    else a stable hash of it ("회사규정" -> "c-3f0a..."): the display name stays in the catalogue."""
    if CHROMA_NAME.match(name) and ".." not in name:
        return name
    return "c-" + hashlib.sha1(name.encode("utf-8")).hexdigest()[:20]


def list_collections(home: Path, manifest_url: str | None = None) -> list[str]:
    from indexes.catalogue import list_collections as listed

    url = manifest_url or default_url(home)
    if url == default_url(home) and not (Path(home) / "catalogue.sqlite").exists():
        return []  # listing creates no catalogue
    return listed(url)


def _dump(tokens: list[str]) -> str:
    return json.dumps(tokens, ensure_ascii=False)


def _moments_delta(added: np.ndarray, gone: np.ndarray) -> tuple[int, np.ndarray, np.ndarray] | None:
    """What a write changes in the running sums: + the new vectors, - the vectors it replaces."""
    parts = [(np.asarray(added, dtype=np.float64), 1.0), (np.asarray(gone, dtype=np.float64), -1.0)]
    parts = [(vectors, sign) for vectors, sign in parts if vectors.size]
    if not parts:
        return None
    dimension = parts[0][0].shape[1]
    count, total, outer = 0, np.zeros(dimension), np.zeros((dimension, dimension))
    for vectors, sign in parts:
        count += int(sign) * len(vectors)
        total += sign * vectors.sum(axis=0)
        outer += sign * (vectors.T @ vectors)
    return count, total, outer


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
    """Chunks of one collection in Chroma + the catalogue. `embedder_name` guards against mixing models."""

    def __init__(
        self,
        home: Path,
        collection: str,
        embedder_name: str,
        tokenizer_name: str = "kiwi",
        chroma_url: str | None = None,
        manifest_url: str | None = None,
    ):
        self.home = Path(home)
        self.chroma_url = chroma_url
        self.collection = check_collection_name(collection)
        self.store_name = store_name(collection)
        self.embedder_name = embedder_name
        self.tokenizer_name = tokenizer_name
        self.manifest_url = manifest_url or default_url(self.home)
        url_tag = hashlib.sha1(self.manifest_url.encode()).hexdigest()[:8]
        self.snapshot_directory = self.home / "lexical" / f"{self.store_name}-{url_tag}"
        self._key = (self.manifest_url, collection)
        self._catalogue: Catalogue | None = None
        self._chroma = None

    @property
    def catalogue(self) -> Catalogue:
        """Opened on first use (so listing or a bad name creates no file)."""
        if self._catalogue is None:
            self._catalogue = Catalogue(self.manifest_url, self.collection)
            self._import_legacy_manifest()
        return self._catalogue

    # ---- catalogue reads ------------------------------------------------------------------
    def check_compatible(self) -> None:
        """Raise StoreError before any work when the collection was built with another embedder or tokenizer."""
        for key, flag, wanted in (
            ("embedder", "embedder", self.embedder_name),
            ("tokenizer", "bm25-tokenizer", self.tokenizer_name),
        ):
            stored = self.catalogue.meta(key)
            if stored is not None and stored != wanted:
                raise StoreError(
                    f"collection {self.collection!r} was built with {key} {stored!r}, not {wanted!r}; "
                    f"use --{flag} {stored} or another collection"
                )

    def exists(self) -> bool:
        return self.catalogue.exists()

    def sources(self) -> list[SourceInfo]:
        return [SourceInfo(*row) for row in self.catalogue.sources()]

    def chunk_ids(self, source: str) -> set[str]:
        return self.catalogue.chunk_ids(source)

    def count(self) -> int:
        return self.catalogue.count()

    # ---- Chroma ---------------------------------------------------------------------------
    def _collection(self):
        if self._chroma is None:
            client = chroma_client(self.home / "chroma", self.chroma_url)
            # embedding_function=None: Chroma's default would download an ONNX model; we always
            # pass our own vectors.
            with chroma_setup_lock(None if self.chroma_url else self.home / "chroma"):
                self._chroma = client.get_or_create_collection(
                    self.store_name,
                    embedding_function=None,
                    configuration={"hnsw": {"space": "cosine"}},
                    metadata={"embedder": self.embedder_name},
                )
        return self._chroma

    def _vectors(self, ids: list[str]) -> np.ndarray:
        """The stored vectors of `ids` that exist (to take them out of the running sums)."""
        collection = self._collection()
        rows = []
        for start in range(0, len(ids), CHROMA_BATCH):
            got = collection.get(ids=ids[start : start + CHROMA_BATCH], include=["embeddings"])["embeddings"]
            if got is not None and len(got):
                rows.append(np.asarray(got, dtype=np.float64))
        return np.concatenate(rows) if rows else np.zeros((0, 0))

    # ---- writes ---------------------------------------------------------------------------
    def write_sources(self, writes: list[SourceWrite]) -> list[WriteResult]:
        """Make each source consist of its `keep_ids` (already stored) plus its new `chunks`.

        All new chunks go to Chroma in large batches (each Chroma write costs ~50 ms of syncing,
        so one write per small source would dominate ingest time), then the catalogue changes in
        one transaction. A failed Chroma write deletes what it added and stores nothing.
        """
        if not writes:
            return []
        self.check_compatible()
        collection = self._collection()
        catalogue = self.catalogue
        with catalogue.write_lock():
            self._reconcile()
            catalogue.record_settings({"embedder": self.embedder_name, "tokenizer": self.tokenizer_name})
            old_ids = {write.source: catalogue.chunk_ids(write.source) for write in writes}
            chunks = [chunk for write in writes for chunk in write.chunks]
            new_ids = [chunk.id for chunk in chunks]
            embeddings = np.concatenate([write.embeddings for write in writes]) if chunks else np.zeros((0, 1))
            removed = {
                write.source: sorted(old_ids[write.source] - write.keep_ids - {chunk.id for chunk in write.chunks})
                for write in writes
            }
            all_removed = [cid for ids in removed.values() for cid in ids]
            # Ids written again (same content) leave the catalogue and come back in one transaction.
            rewritten = sorted(catalogue.existing(new_ids)) if new_ids else []
            gone_vectors = self._vectors(all_removed + rewritten)
            intent = catalogue.add_intent(new_ids, all_removed)
            _pause_for_tests("after_intent")
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
                    _pause_for_tests("inside_upsert")
            except Exception as exc:
                # The failing batch may have been written in part before it raised: delete every
                # new id, not only the batches that returned. Should the delete fail too, the
                # intent stays open and the next writer's reconcile finishes the job.
                kept = set(rewritten)
                fresh = [cid for cid in new_ids if cid not in kept]
                try:
                    for start in range(0, len(fresh), CHROMA_BATCH):
                        collection.delete(ids=fresh[start : start + CHROMA_BATCH])
                    catalogue.resolve_intent(intent)
                except Exception:
                    log.warning("rollback of a failed vector-store write is left to the next write's reconcile")
                names = ", ".join(write.source for write in writes[:3]) + (", ..." if len(writes) > 3 else "")
                raise StoreError(f"{names}: could not write to the vector store ({exc}); nothing was stored") from exc
            _pause_for_tests("after_upsert")
            rows = [
                {"id": chunk.id, "source": write.source, "ordinal": chunk.metadata.get("chunk_index", 0), "tokens": _dump(tokens)}
                for write in writes
                for chunk, tokens in zip(write.chunks, write.tokens)
            ]
            sources = [
                {
                    "source": write.source,
                    "source_type": write.chunks[0].metadata.get("source_type") if write.chunks else None,
                    "title": write.chunks[0].metadata.get("title") if write.chunks else None,
                }
                for write in writes
            ]
            catalogue.commit_write(all_removed + rewritten, sources, rows, _moments_delta(embeddings, gone_vectors))
            _pause_for_tests("after_commit")
            for start in range(0, len(all_removed), CHROMA_BATCH):
                collection.delete(ids=all_removed[start : start + CHROMA_BATCH])
            catalogue.resolve_intent(intent)
        return [WriteResult(added=len(write.chunks), removed=len(removed[write.source])) for write in writes]

    def remove_source(self, source: str) -> int:
        """Delete a source from both indexes; returns the number of chunks removed (0: unknown)."""
        catalogue = self.catalogue
        with catalogue.write_lock():
            self._reconcile()
            ids = sorted(catalogue.chunk_ids(source))
            if not ids and not catalogue.has_source(source):
                return 0
            vectors = self._vectors(ids)
            intent = catalogue.add_intent([], ids)
            catalogue.commit_write(ids, [], [], _moments_delta(np.zeros((0, 0)), vectors), deleted_sources=[source])
            collection = self._collection()
            for start in range(0, len(ids), CHROMA_BATCH):
                collection.delete(ids=ids[start : start + CHROMA_BATCH])
            catalogue.resolve_intent(intent)
        return len(ids)

    def finish_interrupted_writes(self) -> None:
        """Reconcile now if a killed write left an intent (a reader never needs to: it serves only
        what the catalogue lists). Cheap when there is none: one small query."""
        if self.catalogue.intents():
            with self.catalogue.write_lock():
                self._reconcile()

    def _reconcile(self) -> None:
        """Finish what a killed write left (called with the write lock held, so every intent
        found belongs to a writer that is gone): vectors the catalogue does not list are deleted."""
        intents = self.catalogue.intents()
        if not intents:
            return
        collection = self._collection()
        deleted = 0
        for intent_id, added, removed in intents:
            touched = list(dict.fromkeys(added + removed))
            listed = self.catalogue.existing(touched)
            stray = [cid for cid in touched if cid not in listed]
            for start in range(0, len(stray), CHROMA_BATCH):
                present = collection.get(ids=stray[start : start + CHROMA_BATCH], include=[])["ids"]
                if present:
                    collection.delete(ids=present)
                    deleted += len(present)
            self.catalogue.resolve_intent(intent_id)
        log.warning(
            "collection %r: finished %d interrupted write(s); %d vector(s) the catalogue did not list were deleted",
            self.collection,
            len(intents),
            deleted,
        )

    def _import_legacy_manifest(self) -> None:
        """A home from before the catalogue kept collections/NAME/manifest.sqlite: import it once."""
        legacy = self.home / "collections" / self.collection / "manifest.sqlite"
        if not legacy.is_file() or self._catalogue.exists():
            return
        import sqlite3
        from contextlib import closing

        with closing(sqlite3.connect(legacy)) as connection:
            meta = dict(connection.execute("SELECT key, value FROM meta").fetchall())
            sources = connection.execute("SELECT source, source_type, title FROM sources").fetchall()
            chunks = connection.execute("SELECT id, source, ordinal, tokens FROM chunks").fetchall()
        catalogue = self._catalogue
        with catalogue.write_lock():
            catalogue.record_settings({k: v for k, v in meta.items() if k in ("embedder", "tokenizer")})
            rows = [{"id": cid, "source": src, "ordinal": ordinal, "tokens": tokens} for cid, src, ordinal, tokens in chunks]
            catalogue.commit_write(
                [], [{"source": src, "source_type": kind, "title": title} for src, kind, title in sources], rows, None
            )
            vectors = self._vectors([row["id"] for row in rows])
            if len(vectors):
                catalogue.set_moments(len(vectors), vectors.sum(axis=0), vectors.T @ vectors)
        legacy.rename(legacy.with_name("manifest.sqlite.imported"))
        log.warning("collection %r: imported %d chunks from %s into the catalogue", self.collection, len(rows), legacy)

    # ---- reads ----------------------------------------------------------------------------
    def version(self) -> str:
        """Changes on every write (the catalogue's epoch and last change number)."""
        epoch, seq = self.catalogue.state()
        return f"{epoch}:{seq}" if epoch else "empty"

    def bm25(self) -> LexicalIndex:
        """The collection's BM25 index, brought up to the catalogue's last change: from memory,
        else from the snapshot on disk (else built once from the catalogue), then the changes
        after it applied one by one. Another process's writes arrive the same way."""
        with _key_lock(self._key):
            index = _lexical.get(self._key)
            epoch, seq = self.catalogue.state()
            if index is None or index.epoch != epoch or index.seq > seq:
                index = LexicalIndex.load(self.snapshot_directory)
                if index is None or index.epoch != epoch or index.seq > seq or (index.k1, index.b) != (BM25_K1, BM25_B):
                    ids, token_lists = self.catalogue.all_tokens()
                    index = LexicalIndex.build(ids, token_lists, BM25_K1, BM25_B)
                    index.seq, index.epoch = seq, epoch
                    self._save_snapshot(index)
                _lexical[self._key] = index
                _lexical_saved[self._key] = index.merges
            if index.seq < seq:
                last, changes = self.catalogue.changes_since(index.seq)
                index.apply(changes, last)
                if index.merges != _lexical_saved.get(self._key):  # merged: the snapshot is worth rewriting
                    self._save_snapshot(index)
                    _lexical_saved[self._key] = index.merges
            return index

    def bm25_as_loaded(self) -> LexicalIndex:
        """The BM25 index as this process last brought it up to date, without asking the catalogue
        for newer changes: for the per-term lookups of a question whose retrieval just called
        `bm25()` (one catalogue round trip per question, not one per term)."""
        index = _lexical.get(self._key)
        return index if index is not None else self.bm25()

    def _save_snapshot(self, index: LexicalIndex) -> None:
        """Write the snapshot in a background thread: the question that triggered a merge does not
        wait for the file (0.7 s at 100k chunks). Not a daemon: a CLI run finishes writing it."""
        if index.epoch is None:
            return
        view = index.snapshot_view()
        directory = self.snapshot_directory

        def write() -> None:
            with _snapshot_lock(directory):
                try:
                    write_snapshot(view, directory)
                except OSError as exc:  # a read-only home still answers; the next process rebuilds
                    log.warning("could not save the BM25 snapshot to %s (%s)", directory, exc)

        thread = threading.Thread(target=write, name="bm25-snapshot")
        with _clients_lock:
            _snapshot_threads[:] = [t for t in _snapshot_threads if t.is_alive()] + [thread]
        thread.start()

    def tfidf(self) -> "TfidfIndex":
        """TF-IDF over the stored terms (unigrams + bigrams), built once per process and version
        (a baseline mode: it is rebuilt from every chunk after a write)."""
        version = self.version()
        key = f"{self.manifest_url}|{self.collection}"
        with _clients_lock:
            cached = _tfidf_cache.get(key)
        if cached is not None and cached.version == version:
            return cached
        ids, token_lists = self.catalogue.all_tokens()
        index = TfidfIndex.build(ids, token_lists, version)
        with _clients_lock:
            _tfidf_cache[key] = index
        return index

    def refresh_derived(self) -> None:
        self.bm25()
        self.dense_stats()

    def dense_stats(self) -> DenseStats:
        """Mean and second moment of the collection's vectors, from the running sums the
        catalogue keeps (see indexes/dense_stats.py)."""
        version = self.version()
        cached = _dense.get(self._key)
        if cached is not None and cached.version == version:
            return cached
        moments = self.catalogue.moments()
        if moments is None or moments[0] <= 0:
            stats = DenseStats(np.zeros(0), np.zeros((0, 0)), 0, version)
        else:
            count, total, outer = moments
            stats = DenseStats(total / count, outer / count, count, version)
        _dense[self._key] = stats
        return stats

    def dense_search(self, query_vector: np.ndarray, n: int) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) of the n nearest chunks the catalogue lists, best first."""
        live = self.bm25().position
        n = min(n, len(live))
        if n <= 0:
            return []
        result = self._collection().query(query_embeddings=[query_vector], n_results=n, include=["distances"])
        return [(cid, 1.0 - float(d)) for cid, d in zip(result["ids"][0], result["distances"][0]) if cid in live]

    def texts(self, batch: int = 2000) -> list[str]:
        """Every chunk's text, in BM25 index order (e.g. to mine hard negatives from)."""
        ids = self.bm25().live_ids()
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
