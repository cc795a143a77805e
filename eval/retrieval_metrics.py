"""Ranking metrics over document ids. `ranked` is best-first; `relevant` the gold ids.

    >>> recall_at_k(["a", "b", "c"], {"b"}, 1), recall_at_k(["a", "b", "c"], {"b"}, 2)
    (0.0, 1.0)
    >>> mrr_at_k(["a", "b"], {"b"}, 10)
    0.5

Chunks become documents with `ranked_gold_keys`: each retrieved (source, page) is matched against
the gold sources (a gold "report.pdf" matches a stored "/data/report.pdf") and, where the gold names
pages, the page too; `retrieval_scores` then gives every metric of one question at once.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence, Set


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


def average_precision_at_k(ranked: Sequence[str], relevant: Set[str], k: int) -> float:
    """Mean of precision@i over the ranks i of the relevant documents found in the top k, divided by
    min(|relevant|, k) (the MAP of TREC / BEIR, per question).

    >>> average_precision_at_k(["a", "x", "b"], {"a", "b"}, 10)  # (1/1 + 2/3) / 2
    0.8333333333333333
    """
    if not relevant:
        return 0.0
    found, total = 0, 0.0
    for rank, doc in enumerate(ranked[:k], start=1):
        if doc in relevant:
            found += 1
            total += found / rank
    return total / min(len(relevant), k)


def ndcg_at_k(ranked: Sequence[str], relevant: Set[str], k: int) -> float:
    """Binary-relevance nDCG."""
    dcg = sum(1.0 / math.log2(rank + 1) for rank, doc in enumerate(ranked[:k], start=1) if doc in relevant)
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(len(relevant), k) + 1))
    return dcg / ideal if ideal else 0.0


def unique_in_order(items: Sequence[str]) -> list[str]:
    """Chunk-level rankings become document-level: each document at its best chunk's rank."""
    seen: set[str] = set()
    return [x for x in items if not (x in seen or seen.add(x))]


def source_matches(retrieved: str, gold: str) -> bool:
    """A stored source matches a gold source when equal, or when the gold is a path suffix of it
    (datasets name files, the store keeps absolute paths).

    >>> source_matches("/data/docs/보고서.pdf", "보고서.pdf"), source_matches("/data/docs/보고서.pdf", "docs/보고서.pdf")
    (True, True)
    >>> source_matches("/data/docs/new-보고서.pdf", "보고서.pdf"), source_matches("korquad#3", "korquad#3")
    (False, True)
    """
    if retrieved == gold:
        return True
    retrieved, gold = retrieved.replace("\\", "/"), gold.replace("\\", "/").lstrip("./")
    return bool(gold) and retrieved.endswith("/" + gold)


def gold_keys(sources: Iterable[str], pages: Iterable[int] = ()) -> set[str]:
    """The gold items of a question: its sources, or with pages every (source, page) pair.

    >>> sorted(gold_keys(["a.pdf"], [3, 4]))
    ['a.pdf#p3', 'a.pdf#p4']
    """
    pages = list(pages)
    return {f"{s}#p{p}" for s in sources for p in pages} if pages else set(sources)


def ranked_gold_keys(retrieved: Sequence[tuple[str, int | None]], sources: Sequence[str], pages: Sequence[int] = ()) -> list[str]:
    """Retrieved (source, page) pairs, best first, as document keys comparable with `gold_keys`:
    a source matching a gold source takes the gold's name; each key appears at its best rank.

    >>> ranked_gold_keys([("/d/a.pdf", 2), ("/d/b.pdf", 1), ("/d/a.pdf", 3), ("/d/a.pdf", 2)], ["a.pdf"], [3])
    ['a.pdf#p2', '/d/b.pdf#p1', 'a.pdf#p3']
    >>> ranked_gold_keys([("x", None), ("/d/a.pdf", 5), ("/d/a.pdf", 6)], ["a.pdf"])
    ['x', 'a.pdf']
    """
    keys = []
    for source, page in retrieved:
        name = next((gold for gold in sources if source_matches(source, gold)), source)
        keys.append(f"{name}#p{page}" if pages else name)
    return unique_in_order(keys)


def retrieval_scores(ranked: Sequence[str], relevant: Set[str], cutoffs: Sequence[int] = (1, 3, 5, 10)) -> dict[str, float]:
    """Every ranking metric of one question: recall@k, precision@k and ndcg@k per cutoff, mrr and
    map (over the whole ranking given).

    >>> retrieval_scores(["x", "a"], {"a"}, cutoffs=(1, 2))
    {'recall@1': 0.0, 'recall@2': 1.0, 'precision@1': 0.0, 'precision@2': 0.5, 'ndcg@1': 0.0, 'ndcg@2': 0.6309, 'mrr': 0.5, 'map': 0.5}
    """
    depth = max(len(ranked), max(cutoffs, default=1))
    scores = {f"recall@{k}": recall_at_k(ranked, relevant, k) for k in cutoffs}
    scores.update({f"precision@{k}": precision_at_k(ranked, relevant, k) for k in cutoffs})
    scores.update({f"ndcg@{k}": round(ndcg_at_k(ranked, relevant, k), 4) for k in cutoffs})
    scores["mrr"] = mrr_at_k(ranked, relevant, depth)
    scores["map"] = average_precision_at_k(ranked, relevant, depth)
    return scores
