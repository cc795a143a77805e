"""BM25 over chunk terms that a write updates by what it adds and deletes.

The scores are bm25s's "lucene" BM25 (k1 1.2, b 0.75), exactly: idf = ln(1 + (N - df + 0.5) /
(df + 0.5)), tf part = tf / (tf + k1 (1 - b + b dl / avgdl)), with N, df and avgdl over the live
chunks. The hybrid retriever needs every chunk's score (its z-score fusion standardises BM25 by the
mean and spread of the query's scores over the whole collection), which is why this is a postings
index in numpy and not a top-k search engine: a query scores only the postings of its own terms
into one float array, then takes the top n with `argpartition`.

Layout: a merged *base* (postings by term, in CSR arrays) plus a *delta* of chunks added since the
last merge (postings in Python lists), and a live mask for deletions. A merge (O(N)) folds the
delta in and drops deleted chunks; it runs when the delta or the deleted part passes 10 % of the
index, so its cost per written chunk stays constant. Snapshots (`save`/`load`) are always merged.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np

BM25_K1 = 1.2
BM25_B = 0.75
MERGE_SHARE = 0.10
MERGE_MIN = 2_000


class LexicalIndex:
    def __init__(self, k1: float = BM25_K1, b: float = BM25_B):
        self.k1, self.b = k1, b
        self.seq = 0  # the catalogue change the index reflects
        self.epoch: str | None = None
        self.ids: list[str] = []  # position -> chunk id (deleted positions keep theirs until a merge)
        self.position: dict[str, int] = {}  # live chunk id -> position
        self.terms: list[str] = []
        self.term_id: dict[str, int] = {}
        self.document_frequency: dict[str, int] = {}  # over live chunks
        self.total_length = 0.0  # over live chunks
        self._alive = np.zeros(0, dtype=bool)
        self._length = np.zeros(0, dtype=np.float32)
        # Base: postings of positions < _base_size, by term id (CSR), and each chunk's terms (CSR).
        self._base_size = 0
        self._term_ptr = np.zeros(1, dtype=np.int64)
        self._post_doc = np.zeros(0, dtype=np.int32)
        self._post_tf = np.zeros(0, dtype=np.float32)
        self._doc_ptr = np.zeros(1, dtype=np.int64)
        self._doc_terms = np.zeros(0, dtype=np.int32)
        self._doc_tfs = np.zeros(0, dtype=np.float32)
        # Delta: chunks added since the merge.
        self._delta_postings: dict[int, tuple[list[int], list[float]]] = {}
        self._delta_docs: list[tuple[np.ndarray, np.ndarray]] = []
        self._deleted = 0
        self.merges = 0  # how many merges so far (a snapshot is rewritten after one)
        self.lock = threading.RLock()

    # ---- size -----------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.position)

    def live_ids(self) -> list[str]:
        with self.lock:
            return [cid for position, cid in enumerate(self.ids) if self._alive[position]]

    def idf(self, term: str) -> float:
        """BM25's idf; a term no chunk contains gets the highest value."""
        n = len(self.position)
        df = self.document_frequency.get(term, 0)
        return float(np.log(1.0 + (n - df + 0.5) / (df + 0.5)))

    def memory_bytes(self) -> int:
        """The numpy arrays' size (the Python dicts and lists of ids and terms come on top)."""
        arrays = (self._alive, self._length, self._term_ptr, self._post_doc, self._post_tf, self._doc_ptr, self._doc_terms, self._doc_tfs)
        return int(sum(a.nbytes for a in arrays))

    # ---- changes --------------------------------------------------------------------------
    def add(self, ids: list[str], token_lists: list[list[str]]) -> None:
        with self.lock:
            self._put_many(ids, token_lists)
            self._maybe_merge()

    def delete(self, ids: list[str]) -> None:
        with self.lock:
            for cid in ids:
                if cid in self.position:
                    self._delete_one(cid)
            self._maybe_merge()

    def apply(self, changes: list[tuple[str, str, list[str] | None]], seq: int) -> None:
        """Changes from the catalogue's log, in order: ("add", id, terms) or ("del", id, None)."""
        with self.lock:
            for op, cid, tokens in changes:
                if op == "add" and tokens is not None:
                    self._put(cid, tokens)
                elif cid in self.position:  # deleted, or added and gone again before this read
                    self._delete_one(cid)
            self.seq = seq
            self._maybe_merge()

    def _put_many(self, ids: list[str], token_lists: list[list[str]]) -> None:
        for cid, tokens in zip(ids, token_lists):
            self._put(cid, tokens)

    def _put(self, cid: str, tokens: list[str]) -> None:
        """Add a chunk, replacing the one stored under the same id."""
        if cid in self.position:
            self._delete_one(cid)
        self._append(cid, tokens)

    def _append(self, cid: str, tokens: list[str]) -> None:
        position = len(self.ids)
        self.ids.append(cid)
        self.position[cid] = position
        counts = Counter(tokens)
        term_ids = np.empty(len(counts), dtype=np.int32)
        tfs = np.empty(len(counts), dtype=np.float32)
        for i, (term, tf) in enumerate(counts.items()):
            tid = self.term_id.get(term)
            if tid is None:
                tid = self.term_id[term] = len(self.terms)
                self.terms.append(term)
            term_ids[i], tfs[i] = tid, tf
            docs, freqs = self._delta_postings.setdefault(tid, ([], []))
            docs.append(position)
            freqs.append(float(tf))
            self.document_frequency[term] = self.document_frequency.get(term, 0) + 1
        self._delta_docs.append((term_ids, tfs))
        if position >= len(self._alive):
            grow = max(1024, len(self._alive))
            self._alive = np.concatenate([self._alive, np.zeros(grow, dtype=bool)])
            self._length = np.concatenate([self._length, np.zeros(grow, dtype=np.float32)])
        self._alive[position] = True
        self._length[position] = len(tokens)
        self.total_length += len(tokens)

    def _doc(self, position: int) -> tuple[np.ndarray, np.ndarray]:
        if position < self._base_size:
            start, end = self._doc_ptr[position], self._doc_ptr[position + 1]
            return self._doc_terms[start:end], self._doc_tfs[start:end]
        return self._delta_docs[position - self._base_size]

    def _delete_one(self, cid: str) -> None:
        position = self.position.pop(cid)
        self._alive[position] = False
        self.total_length -= float(self._length[position])
        for tid in self._doc(position)[0]:
            term = self.terms[tid]
            left = self.document_frequency[term] - 1
            if left:
                self.document_frequency[term] = left
            else:
                del self.document_frequency[term]
        self._deleted += 1

    def _maybe_merge(self) -> None:
        delta = len(self.ids) - self._base_size
        threshold = max(MERGE_MIN, MERGE_SHARE * len(self.position))
        if delta > threshold or self._deleted > threshold:
            self.merge()

    def merge(self) -> None:
        """Fold the delta into the base and drop deleted chunks (positions are renumbered)."""
        with self.lock:
            live = [p for p in range(len(self.ids)) if self._alive[p]]
            docs = [self._doc(p) for p in live]
            lengths = np.array([len(t) for t, _ in docs], dtype=np.int64)
            doc_terms = np.concatenate([t for t, _ in docs]) if docs else np.zeros(0, dtype=np.int32)
            doc_tfs = np.concatenate([f for _, f in docs]) if docs else np.zeros(0, dtype=np.float32)
            doc_ptr = np.zeros(len(live) + 1, dtype=np.int64)
            np.cumsum(lengths, out=doc_ptr[1:])
            owners = np.repeat(np.arange(len(live), dtype=np.int32), lengths)
            order = np.argsort(doc_terms, kind="stable")
            term_ptr = np.zeros(len(self.terms) + 1, dtype=np.int64)
            np.cumsum(np.bincount(doc_terms, minlength=len(self.terms)), out=term_ptr[1:])
            self.ids = [self.ids[p] for p in live]
            self.position = {cid: i for i, cid in enumerate(self.ids)}
            self._length = np.ascontiguousarray(self._length[live], dtype=np.float32)
            self._alive = np.ones(len(live), dtype=bool)
            self._term_ptr, self._post_doc, self._post_tf = term_ptr, owners[order], doc_tfs[order]
            self._doc_ptr, self._doc_terms, self._doc_tfs = doc_ptr, doc_terms, doc_tfs
            self._base_size = len(live)
            self._delta_postings, self._delta_docs, self._deleted = {}, [], 0
            self.merges += 1

    # ---- queries --------------------------------------------------------------------------
    def scores(self, query_terms: list[str]) -> np.ndarray:
        """BM25 score at every position (deleted ones 0); a term repeated in the query counts again."""
        with self.lock:
            scores = np.zeros(len(self.ids), dtype=np.float32)
            n = len(self.position)
            if not n or not query_terms:
                return scores
            average_length = self.total_length / n
            for term, repeats in Counter(query_terms).items():
                tid = self.term_id.get(term)
                df = self.document_frequency.get(term, 0)
                if tid is None or not df:
                    continue
                idf = np.log(1.0 + (n - df + 0.5) / (df + 0.5))
                docs, tfs = self._postings(tid)
                norm = self.k1 * (1.0 - self.b + self.b * self._length[docs] / average_length)
                scores[docs] += (repeats * idf) * tfs / (tfs + norm)
            scores[~self._alive[: len(self.ids)]] = 0.0
            return scores

    def _postings(self, tid: int) -> tuple[np.ndarray, np.ndarray]:
        if tid < len(self._term_ptr) - 1:
            start, end = self._term_ptr[tid], self._term_ptr[tid + 1]
            docs, tfs = self._post_doc[start:end], self._post_tf[start:end]
        else:
            docs, tfs = np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32)
        delta = self._delta_postings.get(tid)
        if delta:
            docs = np.concatenate([docs, np.asarray(delta[0], dtype=np.int32)])
            tfs = np.concatenate([tfs, np.asarray(delta[1], dtype=np.float32)])
        return docs, tfs

    def search(self, query_terms: list[str], n: int, also: list[str] = ()) -> "LexicalResult":
        """The n best live chunks (score > 0), the mean and standard deviation of the query's
        scores over the live chunks (for fusion), and the scores of the chunk ids in `also`."""
        with self.lock:
            scores = self.scores(query_terms)
            alive = self._alive[: len(self.ids)]
            live_scores = scores[alive]
            mean = float(live_scores.mean()) if live_scores.size else 0.0
            std = float(live_scores.std()) if live_scores.size else 0.0
            n = min(n, int(np.count_nonzero(scores)))
            top: list[tuple[str, float]] = []
            if n > 0:
                best = np.argpartition(-scores, n - 1)[:n] if n < len(scores) else np.arange(len(scores))
                best = best[np.lexsort((best, -scores[best]))]  # by score, then position (as a stable argsort)
                top = [(self.ids[p], float(scores[p])) for p in best if scores[p] > 0]
            extra = {cid: float(scores[self.position[cid]]) if cid in self.position else 0.0 for cid in also}
            return LexicalResult(top, mean, std, extra)

    # ---- snapshots ------------------------------------------------------------------------
    def save(self, directory: Path) -> None:
        """Write a merged snapshot (swapped in whole, so a reader never sees half of one)."""
        write_snapshot(self.snapshot_view(), directory)

    def snapshot_view(self) -> dict:
        """What `write_snapshot` writes, taken under the lock (merging first if needed). The arrays
        are the merged base's, which later writes never change (they replace them on the next
        merge), so the slow file writing can run outside the lock, in another thread."""
        with self.lock:
            if self._base_size != len(self.ids) or self._deleted:
                self.merge()
            header = {"seq": self.seq, "epoch": self.epoch, "k1": self.k1, "b": self.b, "ids": list(self.ids), "terms": list(self.terms)}
            arrays = {
                "length": self._length[: self._base_size].copy(),  # _length grows in place after a merge
                "term_ptr": self._term_ptr,
                "post_doc": self._post_doc,
                "post_tf": self._post_tf,
                "doc_ptr": self._doc_ptr,
                "doc_terms": self._doc_terms,
                "doc_tfs": self._doc_tfs,
            }
            return {"header": header, "arrays": arrays}

    @classmethod
    def load(cls, directory: Path) -> "LexicalIndex | None":
        try:
            header = json.loads((directory / "index.json").read_text())
            arrays = dict(np.load(directory / "postings.npz"))
        except (OSError, ValueError, KeyError, zipfile.BadZipFile):
            return None  # missing or damaged: the caller rebuilds
        if len(arrays["length"]) != len(header["ids"]) or len(arrays["term_ptr"]) > len(header["terms"]) + 1:
            return None  # not one writer's pair of files: rebuild rather than trust it
        index = cls(header["k1"], header["b"])
        index.seq, index.epoch = int(header["seq"]), header["epoch"]
        index.ids, index.terms = header["ids"], header["terms"]
        index.position = {cid: i for i, cid in enumerate(index.ids)}
        index.term_id = {term: i for i, term in enumerate(index.terms)}
        index._length = arrays["length"]
        index._term_ptr, index._post_doc, index._post_tf = arrays["term_ptr"], arrays["post_doc"], arrays["post_tf"]
        index._doc_ptr, index._doc_terms, index._doc_tfs = arrays["doc_ptr"], arrays["doc_terms"], arrays["doc_tfs"]
        index._alive = np.ones(len(index.ids), dtype=bool)
        index._base_size = len(index.ids)
        index.total_length = float(index._length.sum())
        frequencies = np.diff(index._term_ptr)
        index.document_frequency = {index.terms[t]: int(f) for t, f in enumerate(frequencies) if f}
        return index

    @classmethod
    def build(cls, ids: list[str], token_lists: list[list[str]], k1: float = BM25_K1, b: float = BM25_B) -> "LexicalIndex":
        index = cls(k1, b)
        with index.lock:
            index._put_many(ids, token_lists)
            index.merge()
        return index


class LexicalResult:
    """One query's BM25 side: `top` [(id, score)], the live chunks' score `mean` and `std`, and
    `extra` {id: score} for the ids the caller asked about (0 when a chunk lacks every term)."""

    def __init__(self, top: list[tuple[str, float]], mean: float, std: float, extra: dict[str, float]):
        self.top, self.mean, self.std, self.extra = top, mean, std, extra


def write_snapshot(view: dict, directory: Path) -> None:
    """Write a `snapshot_view` to `directory`, swapped in whole. Each writer (several processes
    may share a home) fills its own temporary folder, so two never mix their files."""
    tmp = directory.with_name(f"{directory.name}.tmp-{os.getpid()}-{threading.get_ident()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    np.savez(tmp / "postings.npz", **view["arrays"])
    (tmp / "index.json").write_text(json.dumps(view["header"], ensure_ascii=False))
    old = directory.with_name(directory.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if directory.exists():
        directory.rename(old)
    tmp.rename(directory)
    shutil.rmtree(old, ignore_errors=True)
