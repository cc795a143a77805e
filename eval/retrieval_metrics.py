"""Ranking metrics over document ids. `ranked` is best-first; `relevant` the gold ids.

    >>> recall_at_k(["a", "b", "c"], {"b"}, 1), recall_at_k(["a", "b", "c"], {"b"}, 2)
    (0.0, 1.0)
    >>> mrr_at_k(["a", "b"], {"b"}, 10)
    0.5
"""

from __future__ import annotations

import math
from collections.abc import Sequence, Set


def recall_at_k(ranked: Sequence[str], relevant: Set[str], k: int) -> float:
    if not relevant:
        return 0.0
    return len(set(ranked[:k]) & relevant) / len(relevant)


def precision_at_k(ranked: Sequence[str], relevant: Set[str], k: int) -> float:
    return len(set(ranked[:k]) & relevant) / k


def mrr_at_k(ranked: Sequence[str], relevant: Set[str], k: int) -> float:
    for rank, doc in enumerate(ranked[:k], start=1):
        if doc in relevant:
            return 1.0 / rank
    return 0.0


def ndcg_at_k(ranked: Sequence[str], relevant: Set[str], k: int) -> float:
    """Binary-relevance nDCG."""
    dcg = sum(1.0 / math.log2(rank + 1) for rank, doc in enumerate(ranked[:k], start=1) if doc in relevant)
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(len(relevant), k) + 1))
    return dcg / ideal if ideal else 0.0


def unique_in_order(items: Sequence[str]) -> list[str]:
    """Chunk-level rankings become document-level: each document at its best chunk's rank."""
    seen: set[str] = set()
    return [x for x in items if not (x in seen or seen.add(x))]
