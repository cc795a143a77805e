"""The incremental BM25 index against bm25s (the library the rest of the project calibrated its
scores with): after additions, deletions, re-additions and merges, every chunk's score must be
bm25s's lucene score over the live chunks."""

from __future__ import annotations

import random

import numpy as np
import pytest

from indexes import lexical
from indexes.lexical import LexicalIndex

bm25s = pytest.importorskip("bm25s")

WORDS = "형태소 분석 검색 문서 질문 답변 색인 임베딩 벡터 한국어 토큰 점수 청크 출처 인용 모델".split()


def corpus(n: int, seed: int) -> dict[str, list[str]]:
    generator = random.Random(seed)
    return {f"c{i}": [generator.choice(WORDS) for _ in range(generator.randint(3, 25))] for i in range(n)}


def bm25s_scores(docs: dict[str, list[str]], query: list[str]) -> dict[str, float]:
    ids = sorted(docs)
    vocabulary = {w: i for i, w in enumerate(sorted({w for d in docs.values() for w in d}))}
    retriever = bm25s.BM25(method="lucene", k1=1.2, b=0.75)
    retriever.index(bm25s.tokenization.Tokenized(ids=[[vocabulary[w] for w in docs[c]] for c in ids], vocab=vocabulary), show_progress=False)
    known = [vocabulary[w] for w in query if w in vocabulary]
    scores = retriever.get_scores(known) if known else np.zeros(len(ids))
    return dict(zip(ids, scores.tolist()))


@pytest.mark.parametrize("merge_min", [5, 10_000])  # merging all the time, and never
def test_incremental_scores_equal_bm25s_after_adds_deletes_and_merges(monkeypatch, merge_min):
    monkeypatch.setattr(lexical, "MERGE_MIN", merge_min)
    live = corpus(300, seed=1)
    index = LexicalIndex.build(list(live), list(live.values()))
    generator = random.Random(2)
    extra = corpus(400, seed=3)
    for step in range(6):
        gone = generator.sample(sorted(live), 25)
        index.delete(gone)
        for cid in gone:
            del live[cid]
        added = {f"s{step}-{cid}": terms for cid, terms in list(extra.items())[step * 50 : step * 50 + 40]}
        rewritten = dict(zip(generator.sample(sorted(live), 5), corpus(5, seed=10 + step).values()))
        index.add(list(added) + list(rewritten), list(added.values()) + list(rewritten.values()))
        live.update(added)
        live.update(rewritten)
    assert sorted(index.live_ids()) == sorted(live)
    if merge_min == 5:
        assert index.merges > 1
    for query in (["형태소", "검색"], ["벡터", "벡터", "청크"], ["없는말"]):
        expected = bm25s_scores(live, query)
        result = index.search(query, n=10, also=list(live))
        np.testing.assert_allclose([result.extra[c] for c in sorted(live)], [expected[c] for c in sorted(live)], rtol=1e-5, atol=1e-6)
        values = np.array(list(expected.values()))
        assert result.mean == pytest.approx(values.mean(), rel=1e-5, abs=1e-7)
        assert result.std == pytest.approx(values.std(), rel=1e-4, abs=1e-7)
        best = sorted(expected, key=lambda c: -expected[c])[: len(result.top)]
        assert [expected[c] for c, _ in result.top] == pytest.approx([expected[c] for c in best], rel=1e-5)


def test_snapshot_view_survives_writes_made_while_it_is_written(tmp_path):
    docs = corpus(50, seed=4)
    index = LexicalIndex.build(list(docs), list(docs.values()))
    view = index.snapshot_view()
    index.add(["late"], [["형태소", "형태소"]])  # after the view: grows _length in place
    index.delete(["c0"])
    lexical.write_snapshot(view, tmp_path / "snap")
    loaded = LexicalIndex.load(tmp_path / "snap")
    assert sorted(loaded.live_ids()) == sorted(docs)  # the state of the view, not later
    query = ["형태소", "분석"]
    np.testing.assert_allclose(
        loaded.search(query, 5, also=list(docs)).extra[("c1")],
        LexicalIndex.build(list(docs), list(docs.values())).search(query, 5, also=["c1"]).extra["c1"],
        rtol=1e-6,
    )


def test_a_damaged_or_mismatched_snapshot_is_not_loaded(tmp_path):
    docs = corpus(20, seed=5)
    index = LexicalIndex.build(list(docs), list(docs.values()))
    index.save(tmp_path / "snap")
    assert sorted(LexicalIndex.load(tmp_path / "snap").live_ids()) == sorted(docs)
    other = LexicalIndex.build(["x"], [["형태소"]])
    other.save(tmp_path / "other")
    (tmp_path / "other" / "index.json").replace(tmp_path / "snap" / "index.json")  # header of one, arrays of another
    assert LexicalIndex.load(tmp_path / "snap") is None
    (tmp_path / "other" / "postings.npz").write_bytes(b"not a zip")
    assert LexicalIndex.load(tmp_path / "other") is None
