"""Answer metrics: exact match and F1 with Korean-aware normalisation, and abstention.

Korean (a gold answer or the prediction contains Hangul) follows KorQuAD 1.0's official evaluation:
quotes and brackets become spaces, lower-case, ASCII punctuation removed, whitespace collapsed;
EM compares the normalised strings, F1 counts shared *characters* (whitespace excluded), because
Korean words carry particles ("서울은", "서울에서") that make token overlap meaningless.
English follows SQuAD: lower-case, punctuation and articles removed, F1 over whitespace tokens.

    >>> exact_match("《미국 육군 부참모 총장》", "미국 육군 부참모 총장")
    1.0
    >>> round(f1("육군 부참모 총장이다", "미국 육군 부참모 총장"), 3)  # 7 of 9 characters shared each way
    0.778
    >>> f1("The Eiffel Tower", "eiffel tower!")
    1.0

Against several gold answers the best score counts (`best_exact_match`, `best_f1`). No pure-ASCII
text is ever deleted, and Hangul never is (rouge_score's tokenizer drops it, which makes Korean
ROUGE silently zero; nothing here depends on it).
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Sequence

_HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")
# KorQuAD's script turns these into spaces before anything else.
_KORQUAD_SYMBOLS = re.compile("['\"《》<>〈〉()‘’]")
_PUNCTUATION = set(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def has_hangul(text: str) -> bool:
    """
    >>> has_hangul("KorQuAD 데이터"), has_hangul("SQuAD")
    (True, False)
    """
    return bool(_HANGUL.search(text))


def normalize_korean(text: str) -> str:
    """KorQuAD 1.0 normalisation.

    >>> normalize_korean("  《서울》은 (대한민국의) 수도! ")
    '서울 은 대한민국의 수도'
    """
    text = _KORQUAD_SYMBOLS.sub(" ", text).lower()
    text = "".join(ch for ch in text if ch not in _PUNCTUATION)
    return " ".join(text.split())


def normalize_english(text: str) -> str:
    """SQuAD normalisation.

    >>> normalize_english("The  Eiffel-Tower, Paris.")
    'eiffeltower paris'
    """
    text = "".join(ch for ch in text.lower() if ch not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def is_korean_pair(prediction: str, gold: str) -> bool:
    return has_hangul(gold) or has_hangul(prediction)


def exact_match(prediction: str, gold: str) -> float:
    """1.0 when the normalised strings are equal.

    >>> exact_match("서울.", "서울"), exact_match("서울특별시", "서울"), exact_match("the Beatles", "Beatles")
    (1.0, 0.0, 1.0)
    """
    normalize = normalize_korean if is_korean_pair(prediction, gold) else normalize_english
    return float(normalize(prediction) == normalize(gold))


def _overlap_f1(predicted: Sequence[str], gold: Sequence[str]) -> float:
    same = sum((Counter(predicted) & Counter(gold)).values())
    if same == 0:
        return 0.0
    precision = same / len(predicted)
    recall = same / len(gold)
    return 2 * precision * recall / (precision + recall)


def char_f1(prediction: str, gold: str) -> float:
    """KorQuAD's F1 over the characters of the normalised strings, spaces excluded.

    >>> round(char_f1("서울특별시", "서울"), 4)  # 2 shared; precision 2/5, recall 2/2
    0.5714
    """
    return _overlap_f1(list(normalize_korean(prediction).replace(" ", "")), list(normalize_korean(gold).replace(" ", "")))


def token_f1(prediction: str, gold: str) -> float:
    """SQuAD's F1 over normalised whitespace tokens.

    >>> token_f1("in Paris France", "Paris")  # 1 shared; precision 1/3, recall 1
    0.5
    """
    return _overlap_f1(normalize_english(prediction).split(), normalize_english(gold).split())


def f1(prediction: str, gold: str) -> float:
    """Character F1 for Korean, token F1 otherwise."""
    return char_f1(prediction, gold) if is_korean_pair(prediction, gold) else token_f1(prediction, gold)


def contains_gold(prediction: str, gold: str) -> float:
    """1.0 when the normalised gold answer occurs in the normalised prediction: the fair check for
    long generated answers that state a short gold span ("답은 1755년입니다" holds "1755년").
    Korean ignores spaces ("부참모총장" holds "부참모 총장").

    >>> contains_gold("그는 미국 육군 부참모총장을 지냈다.", "미국 육군 부참모 총장"), contains_gold("It was 1755.", "1755")
    (1.0, 1.0)
    """
    if is_korean_pair(prediction, gold):
        needle = normalize_korean(gold).replace(" ", "")
        return float(bool(needle) and needle in normalize_korean(prediction).replace(" ", ""))
    needle = normalize_english(gold)
    return float(bool(needle) and f" {needle} " in f" {normalize_english(prediction)} ")


def _best(metric, prediction: str, golds: Sequence[str]) -> float | None:
    return max((metric(prediction, g) for g in golds), default=None) if golds else None


def best_exact_match(prediction: str, golds: Sequence[str]) -> float | None:
    """Best EM over the gold answers; None without gold answers.

    >>> best_exact_match("1755년", ["1755", "1755년"]), best_exact_match("x", []) is None
    (1.0, True)
    """
    return _best(exact_match, prediction, golds)


def best_f1(prediction: str, golds: Sequence[str]) -> float | None:
    return _best(f1, prediction, golds)


def best_contains(prediction: str, golds: Sequence[str]) -> float | None:
    return _best(contains_gold, prediction, golds)


def abstention_scores(answerable: Sequence[bool], abstained: Sequence[bool]) -> dict[str, float | None]:
    """abstain_accuracy: share of unanswerable questions the system declined; false_abstain_rate:
    share of answerable questions it declined. None where there is no such question.

    >>> abstention_scores([True, True, False, False], [False, True, True, False])
    {'abstain_accuracy': 0.5, 'false_abstain_rate': 0.5}
    """
    declined_unanswerable = [a for ok, a in zip(answerable, abstained) if not ok]
    declined_answerable = [a for ok, a in zip(answerable, abstained) if ok]
    return {
        "abstain_accuracy": sum(declined_unanswerable) / len(declined_unanswerable) if declined_unanswerable else None,
        "false_abstain_rate": sum(declined_answerable) / len(declined_answerable) if declined_answerable else None,
    }
