"""indexes.retrieval: fusion functions (hand-computed) and RagApp.retrieve over the real sample corpus."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from indexes.lexical import LexicalIndex
from indexes.retrieval import MODES, RetrievedChunk, min_max, reciprocal_rank_fusion, weighted_fusion
from rag_app.errors import ConfigError, RagError


# ---- pure functions ---------------------------------------------------------------------------
def test_min_max_scales_to_unit_interval():
    np.testing.assert_allclose(min_max(np.array([2.0, 4.0, 6.0])), [0.0, 0.5, 1.0])
    np.testing.assert_allclose(min_max([3.0, -1.0, 1.0]), [1.0, 0.0, 0.5])


def test_min_max_constant_and_empty():
    np.testing.assert_array_equal(min_max(np.array([0.7, 0.7, 0.7])), [0.0, 0.0, 0.0])
    assert min_max(np.array([])).size == 0


def test_weighted_fusion_hand_computed():
    bm25 = np.array([0.0, 5.0, 10.0])  # -> 0, 0.5, 1
    dense = np.array([0.9, 0.7, 0.8])  # -> 1, 0, 0.5
    np.testing.assert_allclose(weighted_fusion(bm25, dense, 0.3), [0.7, 0.15, 0.65])
    np.testing.assert_allclose(weighted_fusion(bm25, dense, 1.0), [0.0, 0.5, 1.0])
    np.testing.assert_allclose(weighted_fusion(bm25, dense, 0.0), [1.0, 0.0, 0.5])


def test_weighted_fusion_side_without_information_contributes_nothing():
    np.testing.assert_allclose(weighted_fusion(np.zeros(3), np.array([0.2, 0.4, 0.3]), 0.5), [0.0, 0.5, 0.25])


def test_reciprocal_rank_fusion_hand_computed():
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["c", "b"]], k=60)
    assert fused.keys() == {"a", "b", "c"}
    assert fused["a"] == pytest.approx(1 / 61)
    assert fused["b"] == pytest.approx(1 / 62 + 1 / 62)
    assert fused["c"] == pytest.approx(1 / 63 + 1 / 61)
    assert sorted(fused, key=fused.get, reverse=True) == ["c", "b", "a"]


def test_reciprocal_rank_fusion_small_k():
    fused = reciprocal_rank_fusion([["x", "y"], ["y"]], k=1)
    assert fused == pytest.approx({"x": 1 / 2, "y": 1 / 3 + 1 / 2})
    assert reciprocal_rank_fusion([]) == {}


def test_bm25_idf_hand_computed():
    index = LexicalIndex.build(["c1", "c2", "c3"], [["토큰", "검색"], ["검색"], ["모델"]])
    assert index.idf("검색") == pytest.approx(math.log(1 + (3 - 2 + 0.5) / (2 + 0.5)))
    assert index.idf("모델") == pytest.approx(math.log(1 + (3 - 1 + 0.5) / (1 + 0.5)))
    assert index.idf("없음") == pytest.approx(math.log(1 + 3.5 / 0.5))
    scores = index.scores(["모델"])
    assert scores.shape == (3,)
    assert scores[2] > 0 and scores[0] == 0 and scores[1] == 0


# ---- RagApp.retrieve on the sample corpus -----------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_retrieve_shape_and_order(sample_app, mode):
    app, _ = sample_app
    chunks = app.retrieve("한국어 형태소 분석과 검색", k=4, mode=mode)
    assert len(chunks) == 4
    assert len({c.id for c in chunks}) == 4
    for chunk in chunks:
        assert type(chunk) is RetrievedChunk
        assert isinstance(chunk.id, str) and len(chunk.id) == 32
        assert isinstance(chunk.text, str) and chunk.text
        assert isinstance(chunk.score, float)
        assert chunk.metadata["source"].endswith(".md")
        assert chunk.metadata["source_type"] == "markdown"
        assert isinstance(chunk.metadata["chunk_index"], int)
        assert len(chunk.metadata["content_hash"]) == 64
    scores = [c.score for c in chunks]
    assert scores == sorted(scores, reverse=True)
    if mode in ("bm25", "tfidf"):
        assert all(c.dense_score is None for c in chunks)
        assert all(c.score > 0 for c in chunks)
    else:
        assert all(isinstance(c.dense_score, float) and -1.0 <= c.dense_score <= 1.0 for c in chunks)
    if mode == "tfidf":
        assert all(c.score <= 1.0 + 1e-9 for c in chunks)  # cosine of l2-normalised TF-IDF vectors
    if mode == "dense":
        assert all(c.score == c.dense_score for c in chunks)
    if mode == "hybrid":
        # z-scores against the whole collection: the best match lies well above the average chunk.
        assert chunks[0].score > 1.0 and all(math.isfinite(c.score) for c in chunks)


def test_retrieve_default_k_is_5(sample_app):
    app, _ = sample_app
    assert len(app.retrieve("임베딩 모델")) == 5


@pytest.mark.parametrize("mode", ["bm25", "hybrid"])
def test_korean_keyword_finds_tokenization_note(sample_app, mode):
    app, _ = sample_app
    chunks = app.retrieve("토큰화", k=3, mode=mode)
    assert chunks[0].metadata["source"].endswith("samples/ko/01_tokenization.md")
    assert chunks[0].metadata["title"] == "토큰화: 한국어 텍스트를 나누는 방법"


@pytest.mark.parametrize(("query", "weight"), [("토큰화", 0.5), ("vector database", 0.1)])
def test_hybrid_score_is_weighted_sum_of_collection_z_scores(sample_app, query, weight):
    app, _ = sample_app
    assert app.retriever.weight_for(query) == weight  # BM25 weighs less for questions without Hangul
    top = app.retrieve(query, k=1, mode="hybrid")[0]
    index = app.store.bm25()
    bm25_all = index.scores(app.terms(query))
    vector = app.embedder.embed_query(query)
    # Brute force over every stored vector, independent of DenseStats.
    stored = app.store.get(index.ids, with_embeddings=True)
    similarities = np.array([stored[cid]["embedding"] @ vector for cid in index.ids])
    bm25_z = (bm25_all[index.position[top.id]] - bm25_all.mean()) / bm25_all.std()
    dense_z = (top.dense_score - similarities.mean()) / similarities.std()
    assert top.score == pytest.approx(weight * bm25_z + (1 - weight) * dense_z, rel=1e-4)


def test_bm25_unknown_term_returns_nothing(sample_app):
    app, _ = sample_app
    assert app.retrieve("qzxwvjk", k=3, mode="bm25") == []


def test_invalid_mode_raises(sample_app):
    app, _ = sample_app
    with pytest.raises(ConfigError, match="unknown mode 'sparse'") as info:
        app.retrieve("토큰화", mode="sparse")
    assert isinstance(info.value, RagError)
    with pytest.raises(ValueError, match="unknown retrieval mode"):
        app.retriever.retrieve("토큰화", mode="sparse")


def test_retriever_rejects_non_positive_k(sample_app):
    app, _ = sample_app
    with pytest.raises(ValueError, match="k must be positive"):
        app.retriever.retrieve("토큰화", k=0)


def test_never_ingested_collection_is_an_error(tmp_path):
    from rag_app import RagApp
    from rag_app.errors import StoreError

    app = RagApp(home=tmp_path, collection="empty")
    with pytest.raises(StoreError, match="collection 'empty' is empty") as info:
        app.retrieve("토큰화")
    assert "rag-app ingest" in str(info.value)


@pytest.mark.parametrize("mode", MODES)
def test_retriever_on_empty_store_returns_nothing(tmp_path, mode):
    from rag_app import RagApp

    app = RagApp(home=tmp_path, collection="empty")
    assert app.retriever.retrieve("토큰화", k=3, mode=mode) == []


def test_tfidf_mode_matches_scikit_learn_on_stored_terms(sample_app):
    from sklearn.feature_extraction.text import TfidfVectorizer

    app, _ = sample_app
    query = "토큰화 방법"
    top = app.retrieve(query, k=3, mode="tfidf")
    ids, token_lists = app.store.catalogue.all_tokens()  # the terms the catalogue stores
    terms = dict(zip(ids, token_lists))

    def grams(words):
        return words + [f"{a} {b}" for a, b in zip(words, words[1:])]

    vectorizer = TfidfVectorizer(analyzer=grams, sublinear_tf=True)
    matrix = vectorizer.fit_transform([terms[cid] for cid in ids])
    expected = (matrix @ vectorizer.transform([app.terms(query)]).T).toarray().ravel()
    best = np.argsort(-expected, kind="stable")[:3]
    assert [c.id for c in top] == [ids[i] for i in best]
    assert [c.score for c in top] == pytest.approx([expected[i] for i in best])
    assert top[0].metadata["source"].endswith("01_tokenization.md")
