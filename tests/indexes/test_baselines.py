"""indexes.baselines: BM25 variants against rank_bm25 / bm25s, TF-IDF against scikit-learn, by hand."""

from __future__ import annotations

import json
import logging
import math
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from indexes.baselines import (
    BM25_VARIANTS,
    Bm25Stats,
    NgramAnalyzer,
    TfidfRetriever,
    bm25_scores,
    document_term_matrix,
    get_bm25_variant,
    top_tfidf_terms,
)
from indexes.morphemes import kiwi_terms, whitespace_terms

rank_bm25 = pytest.importorskip("rank_bm25")

REPO_ROOT = Path(__file__).resolve().parents[2]
KORQUAD = REPO_ROOT.parent / "shared" / "data" / "korquad_v1_dev" / "KorQuAD_v1.0_dev.shared.json"

CORPUS = [
    "시중은행의 인가 요건은 자본금과 대주주 적격성이다.",
    "은행은 예금을 받고 대출을 해 준다. 은행에서 계좌를 연다.",
    "BM25 is a ranking function used by search engines like Lucene.",
    "형태소 분석기 Kiwi는 한국어 문장을 형태소로 나눈다.",
    "Kiwi tokenizes Korean text; BM25 then ranks the morphemes.",
    "서울은 대한민국의 수도이며 한강이 도시를 가로지른다.",
    "대한민국의 수도 서울에는 많은 은행 본점이 있다.",
    "TF-IDF weighs a term by its frequency and its inverse document frequency.",
]
QUERIES = [
    "은행 인가 요건은 무엇인가요?",
    "대한민국의 수도는 어디인가?",
    "BM25 ranking in Lucene",
    "Kiwi 형태소 분석",
    "존재하지 않는 단어 zzzz",
    "은행 은행 서울",  # a repeated query term counts twice in every implementation
]
REFERENCE = {"okapi": rank_bm25.BM25Okapi, "bm25plus": rank_bm25.BM25Plus, "bm25l": rank_bm25.BM25L}


@pytest.fixture(scope="module")
def kiwi_corpus():
    return [kiwi_terms(text) for text in CORPUS], [kiwi_terms(q) for q in QUERIES]


def _random_corpus(seed: int):
    rng = np.random.default_rng(seed)
    vocab = [f"t{i}" for i in range(int(rng.integers(3, 25)))]
    # Zipf-ish weights: a few tokens are in most documents, so Okapi's negative-idf floor is exercised.
    weights = 1.0 / np.arange(1, len(vocab) + 1)
    weights /= weights.sum()
    docs = [list(rng.choice(vocab, size=int(rng.integers(1, 30)), p=weights)) for _ in range(int(rng.integers(2, 40)))]
    queries = [list(rng.choice(vocab + ["unknown"], size=int(rng.integers(1, 6)))) for _ in range(5)]
    return docs, queries


# ---- BM25: parity with rank_bm25 ----------------------------------------------------------------
@pytest.mark.parametrize("variant", sorted(REFERENCE))
@pytest.mark.parametrize("k1,b", [(1.5, 0.75), (1.2, 0.3), (0.9, 1.0)])
def test_bm25_matches_rank_bm25_on_kiwi_corpus(kiwi_corpus, variant, k1, b):
    docs, queries = kiwi_corpus
    reference = REFERENCE[variant](docs, k1=k1, b=b)
    stats = Bm25Stats.build(docs)
    for query in queries:
        np.testing.assert_allclose(
            bm25_scores(query, stats, variant, k1=k1, b=b), reference.get_scores(query), rtol=1e-6, atol=1e-12
        )


@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize("variant", sorted(REFERENCE))
def test_bm25_matches_rank_bm25_on_random_corpora(variant, seed):
    docs, queries = _random_corpus(seed)
    docs.append([])  # an empty document scores like any other non-matching one
    reference = REFERENCE[variant](docs)
    stats = Bm25Stats.build(docs)
    for query in queries:
        expected = reference.get_scores(query)
        np.testing.assert_allclose(bm25_scores(query, stats, variant), expected, rtol=1e-6, atol=1e-12)


def test_random_corpora_exercise_okapi_negative_idf_floor():
    floored = 0
    for seed in range(20):
        docs, _ = _random_corpus(seed)
        stats = Bm25Stats.build(docs)
        floored += int((stats.document_frequency > stats.n_docs / 2).any())
    assert floored >= 10


def test_bm25_custom_delta_matches_rank_bm25(kiwi_corpus):
    docs, queries = kiwi_corpus
    for variant, delta in [("bm25plus", 0.5), ("bm25l", 1.0)]:
        reference = REFERENCE[variant](docs, delta=delta)
        for query in queries:
            expected = reference.get_scores(query)
            np.testing.assert_allclose(bm25_scores(query, docs, variant, delta=delta), expected, rtol=1e-6)


# ---- BM25: lucene against bm25s -----------------------------------------------------------------
def _bm25s_lucene(docs, k1, b):
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)
    retriever = bm25s.BM25(method="lucene", k1=k1, b=b, dtype="float64")
    retriever.index(docs, show_progress=False)
    return retriever


@pytest.mark.parametrize("k1,b", [(1.5, 0.75), (1.2, 0.75), (0.9, 0.4)])
def test_lucene_matches_bm25s(kiwi_corpus, k1, b):
    docs, queries = kiwi_corpus
    retriever = _bm25s_lucene(docs, k1, b)
    stats = Bm25Stats.build(docs)
    for query in queries:
        known = [t for t in query if t in stats.vocabulary]
        expected = retriever.get_scores(known) if known else np.zeros(len(docs))  # bm25s rejects an empty query
        np.testing.assert_allclose(bm25_scores(query, stats, "lucene", k1=k1, b=b), expected, rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("seed", range(10))
def test_lucene_matches_bm25s_on_random_corpora(seed):
    docs, queries = _random_corpus(seed)
    retriever = _bm25s_lucene(docs, 1.5, 0.75)
    stats = Bm25Stats.build(docs)
    for query in queries:
        known = [t for t in query if t in stats.vocabulary]
        expected = retriever.get_scores(known) if known else np.zeros(len(docs))
        np.testing.assert_allclose(bm25_scores(query, stats, "lucene"), expected, rtol=1e-6, atol=1e-12)


# ---- BM25: by hand ------------------------------------------------------------------------------
def test_bm25_hand_computed_tiny_corpus():
    # N = 3, doc lengths 2, 3, 1 -> avgdl = 2. "바나나" is only in d0 (tf 1, df 1), and d0 has
    # dl = avgdl, so its length norm is 1 - b + b * 1 = 1 for any b. k1 = 1.5, b = 0.75.
    docs = [["사과", "바나나"], ["사과", "사과", "포도"], ["포도"]]
    q = ["바나나"]
    # okapi:    idf = ln((3 - 1 + 0.5) / (1 + 0.5)) = ln(5/3) = 0.5108; tfc = 1 * 2.5 / (1 + 1.5) = 1
    np.testing.assert_allclose(bm25_scores(q, docs, "okapi"), [math.log(5 / 3), 0, 0])
    # lucene:   idf = ln(1 + 2.5 / 1.5) = ln(8/3) = 0.9808; tfc = 1 / (1 + 1.5) = 0.4 -> 0.3923
    np.testing.assert_allclose(bm25_scores(q, docs, "lucene"), [0.4 * math.log(8 / 3), 0, 0])
    # bm25plus: idf = ln((3 + 1) / 1) = ln 4 = 1.3863; tfc = delta + 2.5 / (1.5 + 1) = 2 in d0 and
    #           delta = 1 in the others (BM25+ gives every document the lower bound) -> 2.7726, 1.3863
    np.testing.assert_allclose(bm25_scores(q, docs, "bm25plus"), [2 * math.log(4), math.log(4), math.log(4)])
    # bm25l:    idf = ln(4) - ln(1.5) = ln(8/3); c = 1 / 1 = 1; tfc = 1 * 2.5 * (1 + 0.5) / (1.5 + 1 + 0.5)
    #           = 1.25 -> 1.2260; tf = 0 documents get 0
    np.testing.assert_allclose(bm25_scores(q, docs, "bm25l"), [1.25 * math.log(8 / 3), 0, 0])
    # okapi, "사과" in d0 (tf 1, dl 2) and d1 (tf 2, dl 3): idf = ln(1.5/2.5) < 0, floored to
    # 0.25 * mean raw idf over {사과: ln(0.6), 바나나: ln(5/3), 포도: ln(0.6)} = 0.25 * ln(0.6 * 0.6 * 5/3) / 3
    floor = 0.25 * math.log(0.6 * 0.6 * 5 / 3) / 3  # -0.0426: rank_bm25's floor can be negative
    d0 = 1 * 2.5 / (1 + 1.5 * 1.0)
    d1 = 2 * 2.5 / (2 + 1.5 * (0.25 + 0.75 * 3 / 2))
    np.testing.assert_allclose(bm25_scores(["사과"], docs, "okapi"), [floor * d0, floor * d1, 0])


def test_bm25_stats_and_edge_cases():
    stats = Bm25Stats.build([["a", "b", "a"], [], ["c"]])
    assert stats.n_docs == 3 and stats.avgdl == pytest.approx(4 / 3)
    assert stats.df("a") == 1 and stats.df("zzz") == 0
    np.testing.assert_array_equal(stats.term_frequencies("a"), [2, 0, 0])
    np.testing.assert_array_equal(bm25_scores([], stats, "okapi"), [0, 0, 0])
    np.testing.assert_array_equal(bm25_scores(["zzz"], stats, "bm25plus"), [0, 0, 0])
    assert bm25_scores(["a"], [], "lucene").shape == (0,)
    with pytest.raises(TypeError, match="tokenize it first"):
        bm25_scores("a b", stats)
    with pytest.raises(TypeError, match="list of tokens"):
        Bm25Stats.build(["a b", "c"])


def test_unknown_variant_lists_names():
    assert set(BM25_VARIANTS) == {"okapi", "lucene", "bm25plus", "bm25l"}
    assert get_bm25_variant("bm25l") is BM25_VARIANTS["bm25l"]
    with pytest.raises(ValueError, match="unknown BM25 variant 'bm25x'; choose one of: okapi, lucene, bm25plus, bm25l"):
        get_bm25_variant("bm25x")
    with pytest.raises(ValueError, match="bm25x"):
        bm25_scores(["a"], [["a"]], variant="bm25x")


# ---- TF-IDF: parity with scikit-learn -----------------------------------------------------------
def test_ngram_analyzer_matches_sklearn_word_ngrams():
    from sklearn.feature_extraction.text import TfidfVectorizer

    ours = TfidfVectorizer(analyzer=NgramAnalyzer(kiwi_terms, (1, 3))).fit(CORPUS)
    native = TfidfVectorizer(tokenizer=kiwi_terms, token_pattern=None, lowercase=False, ngram_range=(1, 3)).fit(CORPUS)
    assert list(ours.get_feature_names_out()) == list(native.get_feature_names_out())
    np.testing.assert_allclose(ours.transform(QUERIES).toarray(), native.transform(QUERIES).toarray())
    assert NgramAnalyzer(str.split, (2, 3))("a b c") == ["a b", "b c", "a b c"]
    assert NgramAnalyzer(str.split, (1, 2))("a") == ["a"]
    with pytest.raises(ValueError, match="ngram_range"):
        NgramAnalyzer(str.split, (2, 1))


@pytest.mark.parametrize(
    "analyzer,ngram_range,sublinear_tf",
    [("kiwi", (1, 2), True), ("kiwi", (1, 1), False), ("char", (1, 2), True), ("char", (2, 4), False)],
)
def test_tfidf_matches_sklearn_cosine(analyzer, ngram_range, sublinear_tf):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics.pairwise import cosine_similarity

    if analyzer == "char":
        reference = TfidfVectorizer(analyzer="char", ngram_range=ngram_range, sublinear_tf=sublinear_tf)
    else:
        reference = TfidfVectorizer(
            tokenizer=kiwi_terms,
            token_pattern=None,
            lowercase=False,
            ngram_range=ngram_range,
            sublinear_tf=sublinear_tf,
        )
    doc_matrix = reference.fit_transform(CORPUS)
    retriever = TfidfRetriever(kiwi_terms if analyzer == "kiwi" else "char", ngram_range, sublinear_tf).fit(CORPUS)
    for query in QUERIES:
        expected = cosine_similarity(reference.transform([query]), doc_matrix).ravel()
        np.testing.assert_allclose(retriever.scores(query), expected, rtol=1e-6, atol=1e-12)
        top = retriever.top_k(query, 3)
        assert [i for i, _ in top] == list(np.argsort(-expected, kind="stable")[:3])
        np.testing.assert_allclose([s for _, s in top], np.sort(expected)[::-1][:3], rtol=1e-6, atol=1e-12)


def test_tfidf_retriever_finds_korean_paraphrase_and_guards():
    retriever = TfidfRetriever().fit(CORPUS)  # default: Kiwi morphemes, unigrams + bigrams
    assert retriever.top_k("은행에서 대출을 받으려면?", 1)[0][0] == 1
    assert retriever.top_k("서울은 어느 나라의 수도인가", 2)[0][0] in (5, 6)
    np.testing.assert_array_equal(retriever.scores("zzzz"), np.zeros(len(CORPUS)))
    assert len(retriever.top_k("은행", 100)) == len(CORPUS)
    with pytest.raises(RuntimeError, match="before fit"):
        TfidfRetriever().scores("은행")
    with pytest.raises(ValueError, match="unknown analyzer 'klingon'"):
        TfidfRetriever("klingon").fit(CORPUS)


# ---- explainers ---------------------------------------------------------------------------------
def test_document_term_matrix_hand_example():
    terms, matrix = document_term_matrix(["나는 학생이다", "나는 선생님이다"], whitespace_terms)
    # whitespace tokens, sorted: 나는 (both docs), 선생님이다 (doc 1), 학생이다 (doc 0)
    assert terms == ["나는", "선생님이다", "학생이다"]
    np.testing.assert_array_equal(matrix, [[1, 0, 1], [1, 1, 0]])
    terms, matrix = document_term_matrix(["나는 학생이다", "나는 선생님이다"], "kiwi")
    # Kiwi content morphemes: 나(NP) 학생(NNG) / 나 선생(NNG) (the suffix 님 and 이다 are dropped)
    assert terms == ["나", "선생", "학생"]
    np.testing.assert_array_equal(matrix, [[1, 0, 1], [1, 1, 0]])


def test_top_tfidf_terms_ordering():
    texts = ["사과 사과 바나나", "바나나 포도", "포도 포도 포도 수박"]
    top = top_tfidf_terms(texts, "whitespace", n=5)
    # sklearn smooth idf = ln((1 + 3) / (1 + df)) + 1: df 1 -> 1.6931, df 2 -> 1.2877.
    # doc 0: 사과 2 * 1.6931 = 3.386 > 바나나 1.2877. doc 1: 바나나 and 포도 both df 2 -> tie, by name.
    # doc 2: 포도 3 * 1.2877 = 3.863 > 수박 1.6931.
    expected_order = [["사과", "바나나"], ["바나나", "포도"], ["포도", "수박"]]
    assert [[t for t, _ in row] for row in top] == expected_order
    idf1, idf2 = math.log(4 / 2) + 1, math.log(4 / 3) + 1
    norm = math.hypot(2 * idf1, idf2)
    assert top[0] == [("사과", pytest.approx(2 * idf1 / norm)), ("바나나", pytest.approx(idf2 / norm))]
    assert top_tfidf_terms(texts, "whitespace", n=1) == [row[:1] for row in top]
    korean = top_tfidf_terms(CORPUS[:2], "kiwi", n=3)
    assert len(korean) == 2 and all(len(row) == 3 for row in korean)
    assert korean[0][0][0] != "은행"  # shared by both texts, so outranked by each text's own terms


def test_import_does_not_load_sklearn_or_kiwi():
    code = (
        "import sys, indexes.baselines; "
        "print(sorted(m for m in ('sklearn', 'scipy', 'kiwipiepy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ---- a real retrieval check ---------------------------------------------------------------------
@pytest.mark.skipif(not KORQUAD.exists(), reason="KorQuAD shared subset not present")
def test_tfidf_kiwi_recall_on_korquad():
    data = json.loads(KORQUAD.read_text(encoding="utf-8"))
    paragraphs, questions = [], []
    for article in data["data"]:
        for paragraph in article["paragraphs"]:
            questions.extend((qa["question"], len(paragraphs)) for qa in paragraph["qas"])
            paragraphs.append(paragraph["context"])
    assert len(paragraphs) == 580
    sample = random.Random(0).sample(questions, 100)
    retriever = TfidfRetriever(kiwi_terms).fit(paragraphs)
    ranks = [[i for i, _ in retriever.top_k(q, 5)] for q, _ in sample]
    recall_at_1 = sum(top[0] == gold for top, (_, gold) in zip(ranks, sample)) / len(sample)
    recall_at_5 = sum(gold in top for top, (_, gold) in zip(ranks, sample)) / len(sample)
    # measured: R@1 0.88, R@5 0.99 (Kiwi morphemes, unigrams + bigrams, sublinear tf)
    assert recall_at_5 >= 0.8, (recall_at_1, recall_at_5)
    assert recall_at_1 >= 0.6, (recall_at_1, recall_at_5)
