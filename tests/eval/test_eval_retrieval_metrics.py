"""Ranking metrics against hand-computed values; gold matching for Korean file names and pages."""

from __future__ import annotations

import math

import pytest

from eval.retrieval_metrics import (
    average_precision_at_k,
    gold_keys,
    mrr_at_k,
    ndcg_at_k,
    precision_at_k,
    ranked_gold_keys,
    recall_at_k,
    retrieval_scores,
    source_matches,
)

RANKED = ["x", "a", "y", "b"]
GOLD = {"a", "b"}


def test_metrics_by_hand():
    assert [recall_at_k(RANKED, GOLD, k) for k in (1, 2, 3, 4)] == [0.0, 0.5, 0.5, 1.0]
    assert [precision_at_k(RANKED, GOLD, k) for k in (1, 2, 4)] == [0.0, 0.5, 0.5]
    assert mrr_at_k(RANKED, GOLD, 10) == 0.5
    assert mrr_at_k(RANKED, GOLD, 1) == 0.0
    # AP: relevant at ranks 2 and 4 -> (1/2 + 2/4) / 2.
    assert average_precision_at_k(RANKED, GOLD, 10) == pytest.approx(0.5)
    # Cut at 2: only rank 2 found -> (1/2) / min(2, 2).
    assert average_precision_at_k(RANKED, GOLD, 2) == pytest.approx(0.25)
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    ideal = 1 + 1 / math.log2(3)
    assert ndcg_at_k(RANKED, GOLD, 4) == pytest.approx(dcg / ideal)
    assert ndcg_at_k(["a"], {"a"}, 10) == 1.0
    assert recall_at_k(RANKED, set(), 5) == 0.0 and average_precision_at_k(RANKED, set(), 5) == 0.0


def test_retrieval_scores_has_every_metric():
    scores = retrieval_scores(RANKED, GOLD, cutoffs=(1, 3, 5, 10))
    assert scores["recall@3"] == 0.5 and scores["recall@5"] == 1.0
    assert scores["precision@5"] == pytest.approx(2 / 5)
    assert scores["mrr"] == 0.5 and scores["map"] == pytest.approx(0.5)
    assert set(scores) == {f"{m}@{k}" for m in ("recall", "precision", "ndcg") for k in (1, 3, 5, 10)} | {"mrr", "map"}


def test_korean_file_names_match_stored_absolute_paths():
    assert source_matches("/home/u/문서/보고서.pdf", "보고서.pdf")
    assert source_matches("/home/u/문서/보고서.pdf", "문서/보고서.pdf")
    assert not source_matches("/home/u/문서/새보고서.pdf", "보고서.pdf")
    assert source_matches("finance - 지방은행 전환 가이드.pdf - 4", "finance - 지방은행 전환 가이드.pdf - 4")


def test_page_level_gold():
    retrieved = [("/d/헌법.pdf", 2), ("/d/법률.pdf", 3), ("/d/헌법.pdf", 3), ("/d/헌법.pdf", 3)]
    ranked = ranked_gold_keys(retrieved, ["헌법.pdf"], [3])
    assert ranked == ["헌법.pdf#p2", "/d/법률.pdf#p3", "헌법.pdf#p3"]
    relevant = gold_keys(["헌법.pdf"], [3])
    assert relevant == {"헌법.pdf#p3"}
    assert mrr_at_k(ranked, relevant, 10) == pytest.approx(1 / 3)
    # Without pages, the document counts at its best chunk.
    assert ranked_gold_keys(retrieved, ["헌법.pdf"]) == ["헌법.pdf", "/d/법률.pdf"]
