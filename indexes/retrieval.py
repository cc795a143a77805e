"""Query -> ranked chunks, by dense vectors, BM25, or a weighted fusion of both.

Fusion was chosen by measurement (bench/retrieval.py, README): on the Korean sets reciprocal rank
fusion of Kiwi-BM25 and e5-small scored below BM25 alone; min-max fusion over the candidates
scored about level with it; z-score fusion scored above both. So `hybrid` scores each candidate
(the union of both top lists) with both of its exact scores, standardised against the whole
collection: BM25 by the mean and spread of the query's scores over every chunk, cosine by the
collection's vector statistics (indexes/dense_stats.py), then adds them with `bm25_weight`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from indexes.embeddings import Embedder
from indexes.morphemes import get_term_function
from indexes.store import ChunkStore

MODES = ("hybrid", "dense", "bm25", "tfidf")
DEFAULT_MODE = "hybrid"
DEFAULT_K = 5
# Weight of BM25 in the hybrid score (dense gets 1 - weight); chosen with bench/retrieval.py:
# 0.5 for questions with Hangul (AutoRAG, KorQuAD), 0.1 for the others (HotpotQA, English), where
# Kiwi leaves words unstemmed and e5 alone is far stronger than BM25.
DEFAULT_BM25_WEIGHT = 0.5
DEFAULT_BM25_WEIGHT_NO_HANGUL = 0.1
HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")
# How many candidates each retriever contributes before fusion.
MIN_CANDIDATES = 50


@dataclass
class RetrievedChunk:
    """One ranked chunk. `score` is the mode's score (fused, cosine, or BM25); higher is better."""

    id: str
    text: str
    metadata: dict[str, Any]
    score: float
    dense_score: float | None = None  # cosine similarity to the query, when computed


def min_max(scores: np.ndarray) -> np.ndarray:
    """Scale to [0, 1]; all-equal scores become 0 (they carry no ranking information)."""
    scores = np.asarray(scores, dtype=np.float64)
    if scores.size == 0:
        return scores
    low, high = scores.min(), scores.max()
    if high - low <= 1e-12:
        return np.zeros_like(scores)
    return (scores - low) / (high - low)


def weighted_fusion(bm25_scores: np.ndarray, dense_scores: np.ndarray, bm25_weight: float) -> np.ndarray:
    """Min-max fusion over the given candidates (a baseline in the benchmark)."""
    return bm25_weight * min_max(bm25_scores) + (1.0 - bm25_weight) * min_max(dense_scores)


def z_score_fusion(
    bm25_scores: np.ndarray,
    bm25_moments: tuple[float, float],
    dense_scores: np.ndarray,
    dense_moments: tuple[float, float],
    bm25_weight: float,
) -> np.ndarray:
    """Weighted sum of z-scores; moments are (mean, std) of each score over the whole collection."""
    bm25_z = (np.asarray(bm25_scores, dtype=np.float64) - bm25_moments[0]) / max(bm25_moments[1], 1e-12)
    dense_z = (np.asarray(dense_scores, dtype=np.float64) - dense_moments[0]) / max(dense_moments[1], 1e-12)
    return bm25_weight * bm25_z + (1.0 - bm25_weight) * dense_z


def reciprocal_rank_fusion(rankings: list[list[str]], k: int = 60) -> dict[str, float]:
    """Classic RRF, kept as a baseline for the benchmark."""
    fused: dict[str, float] = {}
    for ranking in rankings:
        for rank, cid in enumerate(ranking, start=1):
            fused[cid] = fused.get(cid, 0.0) + 1.0 / (k + rank)
    return fused


class Retriever:
    def __init__(
        self,
        store: ChunkStore,
        embedder: Embedder,
        tokenizer: str = "kiwi",
        bm25_weight: float = DEFAULT_BM25_WEIGHT,
        bm25_weight_no_hangul: float = DEFAULT_BM25_WEIGHT_NO_HANGUL,
    ):
        self.store = store
        self.embedder = embedder
        self.tokenize = get_term_function(tokenizer)
        self.bm25_weight = bm25_weight
        self.bm25_weight_no_hangul = bm25_weight_no_hangul

    def weight_for(self, query: str) -> float:
        """BM25's share of the hybrid score for this question (by whether it is written in Korean)."""
        return self.bm25_weight if HANGUL.search(query) else self.bm25_weight_no_hangul

    def retrieve(self, query: str, k: int = DEFAULT_K, mode: str = DEFAULT_MODE) -> list[RetrievedChunk]:
        if mode not in MODES:
            raise ValueError(f"unknown retrieval mode {mode!r}; choose one of: {', '.join(MODES)}")
        if k <= 0:
            raise ValueError(f"k must be positive, got {k}")
        n_candidates = max(MIN_CANDIDATES, 4 * k)
        candidates: dict[str, dict[str, float]] = {}

        if mode == "tfidf":
            tfidf = self.store.tfidf()
            tfidf_all = tfidf.scores(self.tokenize(query))
            best = np.argpartition(-tfidf_all, k - 1)[:k] if k < len(tfidf_all) else np.arange(len(tfidf_all))
            for position in best[np.lexsort((best, -tfidf_all[best]))]:
                if tfidf_all[position] > 0:
                    candidates[tfidf.ids[position]] = {"tfidf": float(tfidf_all[position])}
        query_vector = None
        if mode in ("dense", "hybrid"):
            query_vector = self.embedder.embed_query(query)
            for cid, similarity in self.store.dense_search(query_vector, n_candidates):
                candidates.setdefault(cid, {})["dense"] = similarity
        lexical = None
        if mode in ("bm25", "hybrid"):
            # The dense side's candidates get their exact BM25 scores too (0 without a query term).
            lexical = self.store.bm25().search(self.tokenize(query), n_candidates, also=list(candidates))
            for cid, score in lexical.top:
                candidates.setdefault(cid, {})["bm25"] = score
        if not candidates:
            return []

        ids = list(candidates)
        records = self.store.get(ids, with_embeddings=mode == "hybrid")
        ids = [cid for cid in ids if cid in records]
        if mode == "hybrid":
            # Exact scores for every candidate from both sides, not only those each side found.
            bm25 = np.array([candidates[cid].get("bm25", lexical.extra.get(cid, 0.0)) for cid in ids])
            dense = np.array([float(records[cid]["embedding"] @ query_vector) for cid in ids])
            bm25_moments = (lexical.mean, lexical.std)
            dense_moments = self.store.dense_stats().moments(query_vector)
            fused = z_score_fusion(bm25, bm25_moments, dense, dense_moments, self.weight_for(query))
            scored = [(cid, float(fused[i]), float(dense[i])) for i, cid in enumerate(ids)]
        elif mode == "dense":
            scored = [(cid, candidates[cid]["dense"], candidates[cid]["dense"]) for cid in ids]
        else:
            scored = [(cid, candidates[cid][mode], None) for cid in ids]
        scored.sort(key=lambda item: (-item[1], item[0]))
        return [
            RetrievedChunk(cid, records[cid]["text"], records[cid]["metadata"], score, dense)
            for cid, score, dense in scored[:k]
        ]
