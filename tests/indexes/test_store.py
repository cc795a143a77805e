"""ChunkStore's derived indexes: rebuilt when the data or the BM25 parameters change, never per query."""

from __future__ import annotations

import numpy as np
import pytest

import indexes.store as store_module
from rag_app.app import RagApp


def test_bm25_rebuilt_when_scoring_parameters_change(tmp_path, monkeypatch):
    note = tmp_path / "note.md"
    note.write_text("# 메모\n\n형태소 분석기는 한국어 검색의 기본이다.", encoding="utf-8")
    app = RagApp(home=tmp_path / "home", collection="params")
    app.ingest([str(note)])
    first = app.store.bm25()
    assert app.store.bm25() is first  # loaded once, reused
    monkeypatch.setattr(store_module, "BM25_K1", 0.9)
    rebuilt = app.store.bm25()
    assert rebuilt is not first
    assert rebuilt._retriever.k1 == 0.9
    assert rebuilt.version.endswith("|k1=0.9|b=0.75")


def test_dense_stats_match_stored_vectors_after_add_and_remove(tmp_path):
    notes = []
    for i, text in enumerate(["임베딩은 문장을 벡터로 바꾼다.", "BM25는 단어 빈도를 쓴다.", "Chroma stores vectors on disk."]):
        path = tmp_path / f"n{i}.md"
        path.write_text(text, encoding="utf-8")
        notes.append(str(path))
    app = RagApp(home=tmp_path / "home", collection="stats")
    app.ingest(notes)
    app.remove(notes[1])
    ids = app.store.bm25().ids
    vectors = np.stack([record["embedding"] for record in app.store.get(ids, with_embeddings=True).values()])
    stats = app.store.dense_stats()
    assert stats.count == len(ids) == 2
    np.testing.assert_allclose(stats.mean, vectors.mean(axis=0), atol=1e-6)
    query = app.embedder.embed_query("벡터")
    mean, std = stats.moments(query)
    assert abs(mean - (vectors @ query).mean()) < 1e-6
    assert abs(std - (vectors @ query).std()) < 1e-5


def test_bm25_tokenizer_is_a_setting_and_a_collection_keeps_it(tmp_path):
    from rag_app.errors import StoreError

    note = tmp_path / "note.md"
    note.write_text("# 메모\n\n형태소분석기는 한국어검색의 기본이다.", encoding="utf-8")
    app = RagApp(home=tmp_path / "home", collection="white", bm25_tokenizer="whitespace")
    app.ingest([str(note)])
    # whitespace terms: only the exact glued word matches; Kiwi would split it into morphemes
    assert [c.metadata["source"] for c in app.retrieve("형태소분석기는", k=1, mode="bm25")] == [str(note.resolve())]
    assert app.retrieve("형태소", k=1, mode="bm25") == []
    kiwi = RagApp(home=tmp_path / "home", collection="white")
    with pytest.raises(StoreError, match="built with tokenizer 'whitespace', not 'kiwi'; use --bm25-tokenizer whitespace"):
        kiwi.retrieve("형태소", k=1, mode="bm25")
