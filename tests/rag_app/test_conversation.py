"""Follow-up detection and the heuristic rewrite (no LLM)."""

from __future__ import annotations

import pytest

from rag_app.answer import Answer
from rag_app.llm.conversation import Turn, heuristic_rewrite, looks_like_follow_up

PREVIOUS = [Turn("아이폰 15는 언제 출시됐나요?", "아이폰 15는 언제 출시됐나요?", Answer("", "", False, []))]


@pytest.mark.parametrize(
    ("question", "follow_up"),
    [
        ("그럼 가격은?", True),  # opener
        ("그것의 장점은?", True),  # demonstrative
        ("이 방법의 단점은 무엇인가요?", True),
        ("What about its price?", True),
        ("가격은?", True),  # too short to stand alone
        ("검색 품질이 좋은 방법은 무엇인가요?", False),  # "품질이" ends in the particle 이, not a demonstrative
        ("BM25 파라미터 k1과 b는 무엇을 조절하나요?", False),
        ("How does BM25 score documents in a collection?", False),
    ],
)
def test_looks_like_follow_up(question, follow_up):
    assert looks_like_follow_up(question) is follow_up


def test_heuristic_rewrite_carries_the_previous_topic_over():
    assert heuristic_rewrite("그럼 가격은?", PREVIOUS) == "아이폰 15 출시 가격은?"
    assert heuristic_rewrite("검색 품질이 좋은 방법은 무엇인가요?", PREVIOUS) is None
    assert heuristic_rewrite("그럼 가격은?", []) is None
    # A question that names its own topic stands alone.
    assert heuristic_rewrite("아이폰 15 출시 가격은?", PREVIOUS) is None
