"""Sentence-level grounding, hallucination and ALCE citation scores, by hand."""

from __future__ import annotations

import re

import pytest

from eval.grounding_metrics import grade_grounding, sentences_with_markers
from rag_app.support import LexicalJudge


class WordJudge:
    """1.0 when every word of the claim is a word of the evidence, else 0.0 (easy to reason about)."""

    name = "words"

    def __init__(self):
        self.calls = []

    def score(self, pairs):
        self.calls.append(list(pairs))
        words = lambda text: set(re.findall(r"\w+", text))  # noqa: E731
        return [float(words(claim) <= words(evidence)) for claim, evidence in pairs]


CONTEXTS = ["A B", "C", "D E"]
CITED = {1: "A B", 2: "C", 3: "D E"}


def test_alce_citation_precision_and_recall_by_hand():
    answer = "A B [1][2]. A C [1][2]. D [1]. A."
    judge = WordJudge()
    grade = grade_grounding(answer, CONTEXTS, CITED, judge, threshold=0.5)
    assert len(judge.calls) == 1  # one judge call per answer
    s1, s2, s3, s4 = grade.sentences
    # S1: [1] alone supports it; [2] is not needed ([1] suffices without it) -> 1 of 2 precise.
    assert (s1.citation_supported, s1.precise_citations) == (True, [1])
    # S2: only both together support it -> both precise.
    assert (s2.citation_supported, s2.precise_citations) == (True, [1, 2])
    # S3: its citation does not support it -> imprecise, no recall.
    assert (s3.citation_supported, s3.precise_citations) == (False, [])
    # S4: cites nothing.
    assert (s4.citations, s4.cited_support, s4.citation_supported) == ([], None, False)
    assert grade.citations == 5
    assert grade.citation_precision == pytest.approx(3 / 5)
    assert grade.citation_recall == pytest.approx(2 / 4)
    # One rule with the app: a sentence is judged by its own citations (S2 by [1] and [2] together;
    # S3 by [1], which does not support it, although passage 3 would), and an uncited sentence by
    # any passage (S4: the app would attribute "A B" to it).
    assert [s.supported for s in grade.sentences] == [True, True, False, True]
    assert [s.attributed for s in grade.sentences] == [False, False, False, True]
    assert grade.faithfulness == pytest.approx(3 / 4)
    assert grade.hallucinated is True


def test_markers_pointing_at_nothing_are_imprecise():
    grade = grade_grounding("A B [9].", CONTEXTS, CITED, WordJudge())
    assert grade.sentences[0].supported is True
    assert grade.sentences[0].cited_support is None
    assert (grade.citation_precision, grade.citation_recall, grade.citations) == (0.0, 0.0, 1)


def test_korean_answer_with_the_lexical_judge():
    context = "대한민국의 수도는 서울이다. 서울의 인구는 약 940만 명이다."
    answer = "서울은 대한민국의 수도이다 [1]. 서울의 인구는 2천만 명이다 [1]. 부산은 항구 도시이다."
    grade = grade_grounding(answer, [context], {1: context}, LexicalJudge(), threshold=0.9)
    assert [s.text for s in grade.sentences] == ["서울은 대한민국의 수도이다.", "서울의 인구는 2천만 명이다.", "부산은 항구 도시이다."]
    assert [s.supported for s in grade.sentences] == [True, False, False]
    assert grade.faithfulness == pytest.approx(1 / 3)
    assert grade.hallucinated is True
    assert grade.citation_precision == pytest.approx(1 / 2)
    assert grade.citation_recall == pytest.approx(1 / 3)


def test_fully_supported_and_empty_answers():
    grade = grade_grounding("A B [1]. C [2].", CONTEXTS, CITED, WordJudge())
    assert (grade.faithfulness, grade.hallucinated, grade.citation_precision, grade.citation_recall) == (1.0, False, 1.0, 1.0)
    empty = grade_grounding("", CONTEXTS, CITED, WordJudge())
    assert (empty.faithfulness, empty.hallucinated, empty.citation_precision, empty.sentences) == (None, None, None, [])
    uncited = grade_grounding("A B.", CONTEXTS, {}, WordJudge())
    assert (uncited.faithfulness, uncited.citation_precision, uncited.citation_recall) == (1.0, None, 0.0)


def test_sentence_split_reuses_the_app_splitter():
    assert sentences_with_markers("서울이다 [1][2]. 부산이다 [2, 3].\n3.5%가 늘었다. [4]") == [
        ("서울이다.", [1, 2]),
        ("부산이다.", [2, 3]),
        ("3.5%가 늘었다.", [4]),
    ]


def test_structured_judge_reasons_reach_the_grades():
    from rag_app.support import StructuredJudge

    context = "정기권 환불은 구매 후 7일 이내에만 가능하다."
    answer = "정기권은 구매 후 30일 이내에 환불할 수 있습니다 [1]. 정기권 환불은 구매 후 7일 이내에만 가능합니다."
    grade = grade_grounding(answer, [context], {1: context}, StructuredJudge(embedding=None))
    first, second = grade.sentences
    assert (first.supported, first.reason) == (False, "30일: 근거에 없음 (근거: 7일)")
    assert (second.supported, second.attributed, second.reason) == (True, True, None)
    assert grade.faithfulness == 0.5 and grade.citation_precision == 0.0
    assert first.to_dict()["reason"] == "30일: 근거에 없음 (근거: 7일)"
