"""Citation verification after generation: sentence splitting, marker parsing, removal, support."""

from __future__ import annotations

from indexes.retrieval import RetrievedChunk
from rag_app.grounding import markers_in, split_cited_sentences, strip_markers, verify_citations
from rag_app.support import LexicalJudge

CHUNKS = [
    RetrievedChunk("a", "대한민국의 수도는 서울이다. 서울의 인구는 약 940만 명이다.", {"source": "a.md"}, 3.0),
    RetrievedChunk("b", "부산은 대한민국 제2의 도시이며 항구 도시이다.", {"source": "b.md"}, 2.0),
    RetrievedChunk("c", "The Han River flows through Seoul.", {"source": "c.md"}, 1.0),
]


def test_split_keeps_markers_with_their_sentence_and_numbers_whole():
    text = "금리는 3.5%입니다 [1]. 부산은 항구입니다. [2][3]\n서울은 수도다 [1, 2]. What? Yes! v1.2 works"
    assert split_cited_sentences(text) == [
        "금리는 3.5%입니다 [1].",
        "부산은 항구입니다. [2][3]",
        "서울은 수도다 [1, 2].",
        "What?",
        "Yes!",
        "v1.2 works",
    ]


def test_markers_and_stripping():
    assert markers_in("서울이다 [1][3] 그리고 [2, 4].") == [1, 3, 2, 4]
    assert markers_in("no markers here") == []
    assert strip_markers("서울이다 [1].") == "서울이다."
    assert strip_markers("A ［2］ B [3, 4]") == "A B"


def test_invalid_markers_removed_and_rest_renumbered_by_first_use():
    text = "부산은 항구 도시이다 [2]. 서울은 수도이다 [1][7]. 한강은 서울을 흐른다 [3]."
    checked = verify_citations(text, CHUNKS, LexicalJudge())
    assert checked.removed_markers == [7]
    assert checked.text == "부산은 항구 도시이다 [1]. 서울은 수도이다 [2]. 한강은 서울을 흐른다 [3]."
    assert checked.cited_ranks == [1, 0, 2]  # citation 1 is chunk b, 2 is chunk a, 3 is chunk c
    assert [s.citations for s in checked.sentences] == [[1], [2], [3]]


def test_support_per_sentence_flags_uncited_and_unsupported():
    text = "서울의 인구는 약 940만 명이다 [1]. 부산은 대한민국의 수도이다 [2]. 달은 치즈로 되어 있다."
    checked = verify_citations(text, CHUNKS, LexicalJudge())
    first, second, third = checked.sentences
    assert first.supported and first.support == 1.0
    # 부산 and 대한민국 are in chunk b but 수도 is not: 2 of 3 content terms, under the lexical
    # judge's threshold (0.7): one wrong word in three is a wrong claim.
    assert second.support == 2 / 3 and not second.supported
    assert third.citations == [] and third.support == 0.0 and not third.supported
    assert checked.grounded == 1 / 3
    assert verify_citations(text, CHUNKS, LexicalJudge(), threshold=0.5).grounded == 2 / 3


def test_support_uses_the_best_of_several_cited_chunks():
    checked = verify_citations("부산은 항구 도시이다 [1][2].", CHUNKS, LexicalJudge())
    assert checked.sentences[0].support == 1.0  # chunk a does not support it, chunk b does


def test_answer_without_sentences_is_fully_grounded_and_empty_text_is_empty():
    checked = verify_citations("", CHUNKS, LexicalJudge())
    assert checked.text == "" and checked.sentences == [] and checked.grounded == 1.0
