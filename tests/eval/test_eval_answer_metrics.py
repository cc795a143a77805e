"""Answer metrics against hand-computed values, Korean first."""

from __future__ import annotations

import pytest

from eval.answer_metrics import (
    abstention_scores,
    best_contains,
    best_exact_match,
    best_f1,
    char_f1,
    contains_gold,
    exact_match,
    f1,
    normalize_english,
    normalize_korean,
    token_f1,
)


def test_korquad_normalisation_keeps_hangul_and_drops_symbols():
    assert normalize_korean("《알렉산더 헤이그》의 (직위)") == "알렉산더 헤이그 의 직위"
    assert normalize_korean("‘미국 육군’ 부참모 총장!") == "미국 육군 부참모 총장"
    assert normalize_korean("KorQuAD  데이터셋.") == "korquad 데이터셋"
    # Hangul is never deleted (rouge_score's tokenizer would leave nothing of these).
    assert normalize_korean("한국어만 있는 답") == "한국어만 있는 답"


def test_korean_exact_match():
    assert exact_match("미국 육군 부참모 총장", "미국 육군 부참모 총장") == 1.0
    assert exact_match(" 《미국 육군 부참모 총장》. ", "미국 육군 부참모 총장") == 1.0
    assert exact_match("미국 육군 부참모총장", "미국 육군 부참모 총장") == 0.0  # KorQuAD EM keeps word spacing
    assert exact_match("서울특별시", "서울") == 0.0


def test_korean_character_f1_by_hand():
    # "육군부참모총장이다" (9 chars) vs "미국육군부참모총장" (9 chars): 7 shared -> P = R = 7/9.
    assert f1("육군 부참모 총장이다", "미국 육군 부참모 총장") == pytest.approx(7 / 9)
    # 2 shared of 5 predicted, 2 of 2 gold: F1 = 2 * 0.4 * 1 / 1.4.
    assert char_f1("서울특별시", "서울") == pytest.approx(0.8 / 1.4)
    # Repeated characters count once per occurrence: "하하하" vs "하" shares 1.
    assert char_f1("하하하", "하") == pytest.approx(2 * (1 / 3) * 1 / (1 / 3 + 1))
    # Spacing does not matter for F1 (characters, whitespace excluded).
    assert f1("미국 육군 부참모총장", "미국 육군 부참모 총장") == 1.0
    assert f1("부산", "서울") == 0.0


def test_english_token_f1_and_em():
    assert normalize_english("The  Eiffel-Tower, Paris.") == "eiffeltower paris"
    assert exact_match("The Beatles", "beatles!") == 1.0
    # "cat sat" vs "cat sat down": 2 shared, P = 1, R = 2/3 -> F1 = 0.8.
    assert token_f1("the cat sat", "a cat sat down") == pytest.approx(0.8)
    assert f1("Paris", "London") == 0.0


def test_hangul_on_either_side_selects_character_f1():
    # "bert모델" (6) vs "bert" (4): 4 shared -> P = 4/6, R = 1 -> F1 = 0.8.
    assert f1("BERT 모델", "BERT") == pytest.approx(0.8)
    assert token_f1("BERT 모델", "BERT") == pytest.approx(2 * 0.5 / 1.5)


def test_contains_gold_for_long_answers():
    assert contains_gold("그는 미국 육군 부참모총장을 지냈다 [1].", "미국 육군 부참모 총장") == 1.0
    assert contains_gold("그는 국무 장관을 지냈다.", "미국 육군 부참모 총장") == 0.0
    assert contains_gold("It was founded in 1755.", "1755") == 1.0
    assert contains_gold("It was founded in 17555.", "1755") == 0.0  # whole tokens in English


def test_best_over_several_gold_answers():
    golds = ["1755년", "1755"]
    assert best_exact_match("1755", golds) == 1.0
    assert best_f1("1755년에", golds) == pytest.approx(2 * (5 / 6) * 1 / (5 / 6 + 1))
    assert best_contains("모스크바 대학은 1755년에 세워졌다", golds) == 1.0
    assert best_exact_match("x", []) is None and best_f1("x", []) is None


def test_abstention_scores_by_hand():
    answerable = [True, True, True, False, False]
    abstained = [False, True, False, True, False]
    assert abstention_scores(answerable, abstained) == {"abstain_accuracy": 0.5, "false_abstain_rate": pytest.approx(1 / 3)}
    assert abstention_scores([True], [False]) == {"abstain_accuracy": None, "false_abstain_rate": 0.0}
