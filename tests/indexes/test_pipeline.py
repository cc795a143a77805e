"""Batched tokenizing at ingest: Kiwi's worker threads give exactly the per-text terms."""

from __future__ import annotations

import json

import pytest
from langchain_core.documents import Document
from langchain_core.embeddings import DeterministicFakeEmbedding

from indexes.morphemes import _get_kiwi, kiwi_terms, kiwi_terms_batch, terms_batch, whitespace_terms
from rag_app.app import RagApp

from conftest import SHARED_DATA

VARIED = [
    "시중은행의 인가 요건은 무엇인가요?",
    "은행의, 은행은, 은행에서: 같은 명사에 다른 조사가 붙는다.",
    "BM25 ranks documents by term frequency and inverse document frequency.",
    "Kiwi는 2018. 12. 31.에 공개되었고 v0.24.1이 최신이다.",
    "문의는 help@example.com 또는 https://example.com/faq?id=3 로 주세요. #공지 @담당자",
    "大韓民國 憲法 제1조 ① 대한민국은 민주공화국이다.",
    "",
    "   \n\t  ",
    "ㅋㅋㅋ 진짜 먹었엌ㅋㅋ 우리집에성 놀자",
    "가격은 1,299,000원이며 3.5% 할인된다 (VAT 포함).",
    "COVID-19 백신 접종률이 70%를 넘었다😀",
    "\n\n".join(["형태소 분석기는 어절을 형태소로 나눈다. The quick brown fox jumps over the lazy dog."] * 40),
    "こんにちは 世界, 你好 世界",
    "1.",
    "OpenAI API와 Gemini API를 비교하면 다음과 같다:\n- 속도\n- 가격\n- 품질",
]


def korquad_pieces(count: int) -> list[str]:
    path = SHARED_DATA / "korquad_v1_dev" / "KorQuAD_v1.0_dev.shared.json"
    if not path.exists():
        pytest.skip(f"{path} is not here")
    data = json.loads(path.read_text(encoding="utf-8"))
    contexts = [p["context"] for article in data["data"] for p in article["paragraphs"]]
    return [context[:250] for context in contexts[:count]]


def test_kiwi_runs_worker_threads():
    assert _get_kiwi().num_workers >= 1


def test_batch_terms_equal_per_text_terms_on_varied_texts():
    assert kiwi_terms_batch(VARIED) == [kiwi_terms(text) for text in VARIED]
    assert kiwi_terms_batch(VARIED)[0] == ["시중", "은행", "인가", "요건", "무엇"]


def test_batch_terms_equal_per_text_terms_on_korquad():
    texts = korquad_pieces(300)
    batched = kiwi_terms_batch(texts)
    assert len(batched) == 300 and all(batched)
    assert batched == [kiwi_terms(text) for text in texts]


def test_batch_keeps_order_with_repeats_and_accepts_any_iterable():
    texts = ["서울은 수도이다", "부산은 항구이다", "서울은 수도이다", ""] * 25
    assert kiwi_terms_batch(tuple(texts)) == [kiwi_terms(text) for text in texts]
    assert kiwi_terms_batch([]) == []


def test_terms_batch_dispatch():
    assert terms_batch(kiwi_terms, VARIED[:3]) == [kiwi_terms(text) for text in VARIED[:3]]
    assert terms_batch(whitespace_terms, ["A b", "c  D"]) == [["a", "b"], ["c", "d"]]


@pytest.mark.parametrize("tokenizer", ["kiwi", "whitespace"])
def test_ingest_indexes_the_batched_terms(tmp_path, tokenizer):
    docs = [
        Document(page_content=text, metadata={"source": f"doc{i}.txt"})
        for i, text in enumerate(["시중은행의 인가 요건을 정리했다.", "부산항의 물동량이 늘었다.", "Kettle manual: boil water."])
    ]
    app = RagApp("pipeline", home=tmp_path, embedder=DeterministicFakeEmbedding(size=16), bm25_tokenizer=tokenizer)
    reports = app.ingest_documents(docs)
    assert [r.embedded for r in reports] == [1, 1, 1]
    query = "은행 인가" if tokenizer == "kiwi" else "manual:"  # "은행" is a term only after Kiwi splits "시중은행의"
    [best] = app.retrieve(query, k=1, mode="bm25")
    assert best.metadata["source"] == ("doc0.txt" if tokenizer == "kiwi" else "doc2.txt")


# ---- tokenizing while embedding (indexes.pipeline) ----------------------------------------------


def test_embed_and_tokenize_overlaps_the_two_steps():
    import threading

    from indexes.pipeline import embed_and_tokenize

    tokenizing = threading.Event()
    seen = {}

    def tokenize(texts):
        tokenizing.set()
        seen["tokenize thread"] = threading.current_thread().name
        return kiwi_terms_batch(texts)

    def embed(texts):
        # Waits (at most 5 s, a deadlock guard, not a timing check) until the tokenizer has started:
        # only possible when the two run at the same time.
        seen["overlapped"] = tokenizing.wait(timeout=5)
        seen["embed thread"] = threading.current_thread().name
        return [len(text) for text in texts]

    texts = VARIED[:4]
    vectors, terms = embed_and_tokenize(embed, tokenize, texts)
    assert vectors == [len(text) for text in texts]
    assert terms == [kiwi_terms(text) for text in texts]
    assert seen["overlapped"] is True
    assert seen["embed thread"] == threading.current_thread().name != seen["tokenize thread"]


def test_embed_and_tokenize_one_after_the_other_when_asked():
    from indexes.pipeline import embed_and_tokenize

    order = []
    vectors, terms = embed_and_tokenize(
        lambda texts: order.append("embed") or [0] * len(texts),
        lambda texts: order.append("tokenize") or [t.split() for t in texts],
        ("a b", "c"),
        overlap=False,
    )
    assert (vectors, terms, order) == ([0, 0], [["a", "b"], ["c"]], ["embed", "tokenize"])
    assert embed_and_tokenize(lambda t: ("E", t), lambda t: ("T", t), []) == (("E", []), ("T", []))


@pytest.mark.parametrize("failing", ["embed", "tokenize"])
def test_embed_and_tokenize_raises_either_error(failing):
    from indexes.errors import EmbedderError
    from indexes.pipeline import embed_and_tokenize

    calls = []

    def embed(texts):
        calls.append("embed")
        if failing == "embed":
            raise EmbedderError("embedder x failed: boom")
        return [1.0] * len(texts)

    def tokenize(texts):
        calls.append("tokenize")
        if failing == "tokenize":
            raise ValueError("tokenizer broke")
        return [[t] for t in texts]

    with pytest.raises((EmbedderError, ValueError), match="boom" if failing == "embed" else "tokenizer broke"):
        embed_and_tokenize(embed, tokenize, ["하나", "둘"])
    assert sorted(calls) == ["embed", "tokenize"]  # both ran to the end: no thread is left behind
