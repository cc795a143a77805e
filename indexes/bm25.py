"""A persisted bm25s index over pre-tokenized chunks, loaded once per process.

The index is rebuilt from the token lists the manifest keeps (tokenizing is the slow part, and is
done once per chunk at ingest time); bm25s builds 10k chunks in well under a second. Caching by
version stamp: see `indexes.versioned`.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections import Counter
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

# Lucene's defaults; k1=1.2 scored a little above bm25s's 1.5 on both Korean sets (bench/retrieval.py).
BM25_K1 = 1.2
BM25_B = 0.75


def _bm25s():
    import bm25s

    # bm25s sets its own logger to DEBUG on import, which floods any handler the caller set up.
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


class Bm25Index:
    def __init__(self, ids: list[str], retriever, version: str, document_frequency: dict[str, int]):
        self.ids = ids
        self.position = {cid: i for i, cid in enumerate(ids)}
        self.version = version
        self.document_frequency = document_frequency
        self._retriever = retriever

    def idf(self, term: str) -> float:
        """BM25's idf; a term no chunk contains gets the highest value."""
        n = len(self.ids)
        df = self.document_frequency.get(term, 0)
        return float(np.log(1.0 + (n - df + 0.5) / (df + 0.5)))

    @classmethod
    def build(
        cls, ids: list[str], token_lists: list[list[str]], version: str, k1: float = BM25_K1, b: float = BM25_B
    ) -> "Bm25Index":
        document_frequency = Counter(term for tokens in token_lists for term in set(tokens))
        if not ids:
            return cls([], None, version, {})
        retriever = _bm25s().BM25(k1=k1, b=b)
        # An empty token list would make bm25s drop the document; a placeholder keeps positions aligned.
        retriever.index([tokens or [""] for tokens in token_lists], show_progress=False)
        return cls(list(ids), retriever, version, dict(document_frequency))

    def scores(self, query_terms: list[str]) -> np.ndarray:
        """BM25 score of every chunk (aligned with `ids`); zeros when no term is known."""
        if self._retriever is None or not query_terms:
            return np.zeros(len(self.ids), dtype=np.float32)
        return np.asarray(self._retriever.get_scores(query_terms), dtype=np.float32)

    def save(self, directory: Path) -> None:
        tmp = directory.with_name(directory.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        if self._retriever is not None:
            self._retriever.save(str(tmp / "bm25s"), show_progress=False)
        (tmp / "ids.json").write_text(json.dumps(self.ids))
        (tmp / "document_frequency.json").write_text(json.dumps(self.document_frequency, ensure_ascii=False))
        (tmp / "version").write_text(self.version)
        # Swap the whole directory so a reader never sees half of one index and half of another.
        old = directory.with_name(directory.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if directory.exists():
            directory.rename(old)
        tmp.rename(directory)
        shutil.rmtree(old, ignore_errors=True)

    @classmethod
    def load(cls, directory: Path) -> "Bm25Index | None":
        version_file = directory / "version"
        if not version_file.exists():
            return None
        ids = json.loads((directory / "ids.json").read_text())
        retriever = _bm25s().BM25.load(str(directory / "bm25s"), show_progress=False) if ids else None
        document_frequency = json.loads((directory / "document_frequency.json").read_text())
        return cls(ids, retriever, version_file.read_text(), document_frequency)
