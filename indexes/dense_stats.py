"""The mean and spread of a query's cosine similarity over the whole collection, without scoring it all.

For unit vectors e_i and a query q, the similarities s_i = q·e_i have
    mean = q·mu                with mu = mean of e_i
    var  = q^T M q - mean^2    with M  = mean of e_i e_i^T
so two small arrays, computed once per collection version, give every query its exact z-scores.
The hybrid retriever uses them to put dense and BM25 scores on one scale (see indexes/retrieval.py).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


class DenseStats:
    def __init__(self, mean: np.ndarray, second_moment: np.ndarray, count: int, version: str):
        self.mean = mean
        self.second_moment = second_moment
        self.count = count
        self.version = version

    @classmethod
    def build(cls, embedding_batches, version: str) -> "DenseStats":
        total = None
        outer = None
        count = 0
        for batch in embedding_batches:
            batch = np.asarray(batch, dtype=np.float64)
            if batch.size == 0:
                continue
            total = batch.sum(axis=0) if total is None else total + batch.sum(axis=0)
            outer = batch.T @ batch if outer is None else outer + batch.T @ batch
            count += len(batch)
        if count == 0:
            return cls(np.zeros(0), np.zeros((0, 0)), 0, version)
        return cls(total / count, outer / count, count, version)

    def moments(self, query_vector: np.ndarray) -> tuple[float, float]:
        """(mean, standard deviation) of the query's similarity over the collection."""
        if self.count == 0:
            return 0.0, 1.0
        q = np.asarray(query_vector, dtype=np.float64)
        mean = float(q @ self.mean)
        variance = float(q @ self.second_moment @ q) - mean * mean
        return mean, float(np.sqrt(max(variance, 1e-12)))

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        tmp = directory / "dense_stats.tmp.npz"
        np.savez(tmp, mean=self.mean, second_moment=self.second_moment, count=self.count, version=self.version)
        tmp.replace(directory / "dense_stats.npz")

    @classmethod
    def load(cls, directory: Path) -> "DenseStats | None":
        path = directory / "dense_stats.npz"
        if not path.exists():
            return None
        with np.load(path) as data:
            return cls(data["mean"], data["second_moment"], int(data["count"]), str(data["version"]))
