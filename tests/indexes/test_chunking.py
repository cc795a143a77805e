"""indexes.chunking: recursive Korean-aware splitting, overlap, stable chunk ids."""

from __future__ import annotations

import hashlib

import pytest
from langchain_core.documents import Document

from indexes.chunking import chunk_documents, chunk_id, split_sentences, split_text

KO_PARAGRAPHS = (
    "토큰화는 문장을 작은 단위로 나누는 과정이다. 한국어는 교착어이기 때문에 조사와 어미가 붙는다. "
    "그래서 공백 토큰화만으로는 부족하다.\n\n"
    "형태소 분석기는 어절을 형태소로 나눈다. Kiwi는 설치가 쉽고 빠르다. MeCab-ko도 널리 쓰인다.\n\n"
    "BM25 ranks documents by term frequency and inverse document frequency. It is a strong baseline. "
    "Dense retrieval finds paraphrases that keyword search misses.\n\n"
    "하이브리드 검색은 두 결과를 합친다. 이렇게 하면 정확한 용어와 비슷한 의미를 모두 찾을 수 있어요. 정말 그렇죠."
)


def _squash(text: str) -> str:
    return "".join(text.split())


def test_docstring_example():
    assert split_text("첫 문장이다. 둘째 문장이다.", chunk_size=8, chunk_overlap=0) == ["첫 문장이다.", "둘째 문장이다."]


def test_short_text_is_one_chunk():
    assert split_text("  짧은 글이다.  ", chunk_size=100, chunk_overlap=10) == ["짧은 글이다."]


def test_empty_text_gives_no_chunks():
    assert split_text("", 100, 10) == []
    assert split_text(" \n\n ", 100, 10) == []


@pytest.mark.parametrize("chunk_size,chunk_overlap", [(40, 0), (60, 20), (120, 30), (200, 0)])
def test_chunks_respect_size_and_never_lose_text(chunk_size, chunk_overlap):
    chunks = split_text(KO_PARAGRAPHS, chunk_size, chunk_overlap)
    assert len(chunks) >= len(KO_PARAGRAPHS) // chunk_size
    assert all(0 < len(chunk) <= chunk_size for chunk in chunks)
    words = KO_PARAGRAPHS.split()
    covered = {word for chunk in chunks for word in chunk.split()}
    assert set(words) <= covered
    if chunk_overlap == 0:
        assert _squash("".join(chunks)) == _squash(KO_PARAGRAPHS)


def test_overlap_removed_reconstructs_text():
    chunks = split_text(KO_PARAGRAPHS, chunk_size=60, chunk_overlap=25)
    rebuilt = _squash(chunks[0])
    for previous, chunk in zip(chunks, chunks[1:]):
        prev, cur = _squash(previous), _squash(chunk)
        shared = max(n for n in range(len(cur) + 1) if prev.endswith(cur[:n]))
        rebuilt += cur[shared:]
    assert rebuilt == _squash(KO_PARAGRAPHS)


def test_overlap_is_carried_from_previous_chunk():
    text = " ".join(f"문장{i}이다." for i in range(40))
    chunks = split_text(text, chunk_size=50, chunk_overlap=20)
    assert len(chunks) >= 5
    for previous, chunk in zip(chunks, chunks[1:]):
        # each chunk starts with whole sentences from the end of the previous one, at most 20 chars
        carried = max((chunk[:n] for n in range(len(chunk) + 1) if previous.endswith(chunk[:n])), key=len)
        assert 0 < len(carried) <= 20
        assert carried.endswith("다.")
        assert carried.split()[0] in previous.split()
    assert chunks[0] == "문장0이다. 문장1이다. 문장2이다. 문장3이다. 문장4이다. 문장5이다. 문장6이다."
    assert chunks[1].startswith("문장5이다. 문장6이다. 문장7이다.")


def test_no_overlap_means_disjoint_chunks():
    text = " ".join(f"문장{i}이다." for i in range(40))
    chunks = split_text(text, chunk_size=50, chunk_overlap=0)
    assert " ".join(chunks) == text


def test_korean_sentences_glued_by_pdf_extraction_split_at_da():
    text = "첫째 문장이다.둘째 문장입니다.셋째 문장이에요.넷째 문장이다."
    assert split_text(text, chunk_size=10, chunk_overlap=0) == [
        "첫째 문장이다.",
        "둘째 문장입니다.",
        "셋째 문장이에요.",
        "넷째 문장이다.",
    ]


def test_decimal_numbers_are_not_sentence_ends():
    text = "점수는 2.5점이다.다음 문장이다."
    assert split_text(text, chunk_size=12, chunk_overlap=0) == ["점수는 2.5점이다.", "다음 문장이다."]


def test_paragraph_boundaries_preferred_over_sentences():
    para1 = "첫 문단의 첫 문장이다. 첫 문단의 둘째 문장이다."
    para2 = "둘째 문단이다."
    chunks = split_text(f"{para1}\n\n{para2}", chunk_size=len(para1) + 2, chunk_overlap=0)
    assert chunks == [para1, para2]


def test_long_word_without_separators_is_cut_by_characters():
    text = "가" * 95
    chunks = split_text(text, chunk_size=30, chunk_overlap=0)
    assert [len(c) for c in chunks] == [30, 30, 30, 5]
    assert "".join(chunks) == text


@pytest.mark.parametrize("chunk_size,chunk_overlap", [(0, 0), (-5, 0), (10, 10), (10, 11), (10, -1)])
def test_invalid_sizes_raise(chunk_size, chunk_overlap):
    with pytest.raises(ValueError):
        split_text("텍스트", chunk_size, chunk_overlap)


def test_split_sentences_mixed_korean_english():
    text = (
        "RAG는 검색과 생성을 결합한다.임베딩은 벡터이다. It works well! Does it? 네, 그렇습니다.\n"
        "점수는 2.5점이다. 정말요?그래요.\n\n끝"
    )
    assert split_sentences(text) == [
        "RAG는 검색과 생성을 결합한다.",
        "임베딩은 벡터이다.",
        "It works well!",
        "Does it?",
        "네, 그렇습니다.",
        "점수는 2.5점이다.",
        "정말요?그래요.",
        "끝",
    ]


def test_split_sentences_english_only():
    assert split_sentences("Dr. Kim wrote it. Version 2.0 is out!  Really?") == [
        "Dr. Kim wrote it.",
        "Version 2.0 is out!",
        "Really?",
    ]


def test_split_sentences_keeps_times_and_abbreviations_inside_a_sentence():
    text = "The desk opens at 9 a.m. and closes at 6 p.m. on weekdays. Doors open at 8 a.m. Parking is free, e.g. on Sundays."
    assert split_sentences(text) == [
        "The desk opens at 9 a.m. and closes at 6 p.m. on weekdays.",
        "Doors open at 8 a.m.",
        "Parking is free, e.g. on Sundays.",
    ]


def test_split_sentences_joins_pdf_soft_wraps_but_not_blocks():
    pdf_page = (
        "Zorblatt Protocol Brief\n"
        "The Zorblatt protocol was signed in 1987 by the Lunar Trade Council in\n"
        "Geneva.\n"
        "정기권 환불은 구매 후 7일 이내에만 가능하며 그 이후에는 잔여 기간에\n"
        "대해 환불하지 않는다.\n"
        "## 매장 정보\n"
        "이름: 청운점\n"
        "전화번호: 02-123-4567\n"
        "- 주차 가능\n"
        "- 휠체어 접근 가능"
    )
    assert split_sentences(pdf_page) == [
        "Zorblatt Protocol Brief",
        "The Zorblatt protocol was signed in 1987 by the Lunar Trade Council in Geneva.",
        "정기권 환불은 구매 후 7일 이내에만 가능하며 그 이후에는 잔여 기간에 대해 환불하지 않는다.",
        "## 매장 정보",
        "이름: 청운점",
        "전화번호: 02-123-4567",
        "- 주차 가능",
        "- 휠체어 접근 가능",
    ]


# ---- chunk_documents --------------------------------------------------------------------------
def _doc(source: str, text: str = KO_PARAGRAPHS, **metadata) -> Document:
    return Document(page_content=text, metadata={"source": source, "source_type": "text", **metadata})


def test_chunk_documents_metadata_and_ids():
    chunks = chunk_documents([_doc("/data/a.txt", title="A")], chunk_size=80, chunk_overlap=0)
    texts = split_text(KO_PARAGRAPHS, 80, 0)
    assert [c.page_content for c in chunks] == texts
    assert [c.metadata["chunk_index"] for c in chunks] == list(range(len(texts)))
    for chunk in chunks:
        assert chunk.metadata["source"] == "/data/a.txt"
        assert chunk.metadata["title"] == "A"
        assert chunk.metadata["content_hash"] == hashlib.sha256(chunk.page_content.encode()).hexdigest()
        assert chunk.id == chunk_id("/data/a.txt", "||", chunk.page_content)
        assert len(chunk.id) == 32 and all(ch in "0123456789abcdef" for ch in chunk.id)
    assert len({c.id for c in chunks}) == len(chunks)


def test_chunk_ids_stable_across_runs_and_differ_across_sources():
    first = [c.id for c in chunk_documents([_doc("/data/a.txt")], 80, 10)]
    again = [c.id for c in chunk_documents([_doc("/data/a.txt")], 80, 10)]
    other = [c.id for c in chunk_documents([_doc("/data/b.txt")], 80, 10)]
    assert first == again
    assert len(first) == len(other) > 1
    assert not set(first) & set(other)


def test_chunk_id_depends_on_page():
    text = "같은 내용의 페이지이다."
    chunks = chunk_documents([_doc("/r.pdf", text, page=1), _doc("/r.pdf", text, page=2)], 100, 0)
    assert len(chunks) == 2
    assert chunks[0].id != chunks[1].id
    assert [c.metadata["page"] for c in chunks] == [1, 2]
    assert [c.metadata["chunk_index"] for c in chunks] == [0, 1]


def test_identical_chunks_at_same_location_kept_once():
    text = "반복되는 문장이다."
    chunks = chunk_documents([_doc("/dup.txt", text), _doc("/dup.txt", text), _doc("/other.txt", text)], 100, 0)
    assert [(c.metadata["source"], c.metadata["chunk_index"]) for c in chunks] == [("/dup.txt", 0), ("/other.txt", 0)]


def test_changing_one_paragraph_changes_only_its_chunks():
    paragraphs = [f"문단 {i}의 내용은 서로 다르다. 각 문단은 충분히 길어서 하나의 청크가 된다." for i in range(5)]
    before = chunk_documents([_doc("/p.md", "\n\n".join(paragraphs))], 60, 0)
    paragraphs[2] = "문단 2는 바뀌었다. 새로운 문장이 들어가서 청크 내용이 달라졌다. 길이도 다르다."
    after = chunk_documents([_doc("/p.md", "\n\n".join(paragraphs))], 60, 0)
    changed = {c.id for c in after} - {c.id for c in before}
    assert len(before) == len(after) == 5
    assert len(changed) == 1
