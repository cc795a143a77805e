"""One question's row of scores, and the summary of many rows.

`score_question(question, prediction, judge)` -> a per-question row (a plain dict, the same keys
for every row, None where a metric does not apply); `summarize(rows)` -> the result object that
`rag-app eval --json` prints: n, retrieval, answer, grounding, failures, per_question.

    >>> from eval.datasets import Question
    >>> from eval.predictions import Passage, Prediction
    >>> from rag_app.support import LexicalJudge
    >>> q = Question("q1", "대한민국의 수도는?", frozenset({"a.txt"}), ("서울",))
    >>> p = Prediction("q1", "서울이다 [1].", False, {1: Passage("대한민국의 수도는 서울이다.", "a.txt")},
    ...                [Passage("대한민국의 수도는 서울이다.", "a.txt")])
    >>> row = score_question(q, p, LexicalJudge())
    >>> row["em"], row["contains_gold"], row["faithfulness"], row["hallucinated"], row["failures"]
    (0.0, 1.0, 1.0, False, [])
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from typing import Any

from eval.answer_metrics import abstention_scores, best_contains, best_exact_match, best_f1
from eval.datasets import Question
from eval.grounding_metrics import grade_grounding
from eval.predictions import Prediction
from eval.retrieval_metrics import gold_keys, ranked_gold_keys, retrieval_scores
from rag_app.support import SupportJudge, support_threshold

CUTOFFS = (1, 3, 5, 10)
RETRIEVAL_KEYS = tuple(
    [f"recall@{k}" for k in CUTOFFS] + [f"precision@{k}" for k in CUTOFFS] + [f"ndcg@{k}" for k in CUTOFFS] + ["mrr", "map"]
)
# An answer with a lower F1 that does not contain a gold answer is counted wrong.
WRONG_F1 = 0.5
# Failure tags, most serious first (the report lists failing questions in this order).
FAILURES = (
    "error",
    "hallucination",
    "wrong answer",
    "false abstention",
    "answered unanswerable",
    "retrieval miss",
    "imprecise citation",
)
# Metrics where lower is better (reports and comparisons need to know).
LOWER_IS_BETTER = frozenset({"hallucination_rate", "false_abstain_rate"})


def score_question(
    question: Question, prediction: Prediction, judge: SupportJudge, threshold: float | None = None
) -> dict[str, Any]:
    """All metrics of one answered question, as a flat row (threshold: the judge's own by default)."""
    threshold = support_threshold(judge) if threshold is None else threshold
    row: dict[str, Any] = {
        "id": question.id,
        "question": question.question,
        "gold": list(question.answers),
        "gold_sources": sorted(question.relevant),
        "gold_pages": list(question.pages),
        "answerable": question.answerable,
        "answer": prediction.answer,
        "abstained": prediction.abstained,
        "error": prediction.error,
        "citations": [{"n": n, "source": p.source, "page": p.page} for n, p in sorted(prediction.citations.items())],
    }
    row.update(_answer_scores(question, prediction))
    row.update(_retrieval_scores(question, prediction))
    row.update(_grounding_scores(prediction, judge, threshold))
    row["failures"] = failures_of(row)
    return row


def _answer_scores(question: Question, prediction: Prediction) -> dict[str, Any]:
    scores: dict[str, Any] = {"em": None, "f1": None, "contains_gold": None, "abstain_correct": None}
    if not question.answerable:
        scores["abstain_correct"] = prediction.abstained
    elif question.answers and prediction.error is None:
        answer = "" if prediction.abstained else _plain(prediction.answer)
        scores["em"] = best_exact_match(answer, question.answers)
        scores["f1"] = best_f1(answer, question.answers)
        scores["contains_gold"] = best_contains(answer, question.answers)
    return scores


def _plain(answer: str) -> str:
    from rag_app.grounding import strip_markers

    return strip_markers(answer)


def _retrieval_scores(question: Question, prediction: Prediction) -> dict[str, Any]:
    scores: dict[str, Any] = dict.fromkeys(RETRIEVAL_KEYS)
    scores["gold_retrieved"] = None
    if not question.relevant or prediction.retrieved is None:
        return scores
    sources = sorted(question.relevant)
    ranked = ranked_gold_keys([(p.source or "", p.page) for p in prediction.retrieved], sources, question.pages)
    relevant = gold_keys(sources, question.pages)
    scores.update(retrieval_scores(ranked, relevant, CUTOFFS))
    scores["gold_retrieved"] = bool(set(ranked) & relevant)
    return scores


def _grounding_scores(prediction: Prediction, judge: SupportJudge, threshold: float) -> dict[str, Any]:
    empty = {"faithfulness": None, "hallucinated": None, "citation_precision": None, "citation_recall": None, "sentences": []}
    if prediction.abstained or prediction.error is not None:
        return empty
    grade = grade_grounding(
        prediction.answer,
        [p.text for p in prediction.contexts],
        {n: p.text for n, p in prediction.citations.items() if p.text},
        judge,
        threshold,
    )
    return {
        "faithfulness": grade.faithfulness,
        "hallucinated": grade.hallucinated,
        "citation_precision": grade.citation_precision,
        "citation_recall": grade.citation_recall,
        "sentences": [s.to_dict() for s in grade.sentences],
    }


def failures_of(row: dict[str, Any]) -> list[str]:
    """Failure tags of a row, most serious first.

    >>> failures_of({"error": None, "hallucinated": True, "answerable": True, "abstained": False, "em": 0.0,
    ...              "f1": 0.2, "contains_gold": 0.0, "gold_retrieved": False, "citation_precision": 1.0})
    ['hallucination', 'wrong answer', 'retrieval miss']
    """
    tags = []
    if row.get("error"):
        tags.append("error")
    if row.get("hallucinated"):
        tags.append("hallucination")
    answered = not row.get("abstained")
    if row.get("answerable") and answered and row.get("em") is not None:
        if not row["em"] and not row.get("contains_gold") and (row.get("f1") or 0.0) < WRONG_F1:
            tags.append("wrong answer")
    if row.get("answerable") and row.get("abstained") and not row.get("error"):
        tags.append("false abstention")
    if row.get("answerable") is False and answered:
        tags.append("answered unanswerable")
    if row.get("gold_retrieved") is False:
        tags.append("retrieval miss")
    if row.get("citation_precision") is not None and row["citation_precision"] < 1.0:
        tags.append("imprecise citation")
    return tags


def _mean(values: Sequence[Any]) -> float | None:
    present = [float(v) for v in values if v is not None]
    return round(statistics.fmean(present), 4) if present else None


def summarize(rows: list[dict[str, Any]], config: dict[str, Any] | None = None) -> dict[str, Any]:
    """The result object: headline metrics (None where nothing could be measured), failure counts,
    the configuration, and every row.

    >>> result = summarize([{"id": "a", "answerable": True, "abstained": False, "em": 1.0, "f1": 1.0,
    ...                      "faithfulness": 0.5, "hallucinated": True, "failures": ["hallucination"]}])
    >>> result["n"], result["answer"]["em"], result["grounding"]["hallucination_rate"], result["failures"]
    (1, 1.0, 1.0, {'hallucination': 1})
    """
    answerable = [r for r in rows if r.get("answerable", True)]
    with_ranking = [r for r in rows if r.get("mrr") is not None]
    graded = [r for r in rows if r.get("faithfulness") is not None]
    abstention = abstention_scores(
        [bool(r.get("answerable", True)) for r in rows if not r.get("error")],
        [bool(r.get("abstained")) for r in rows if not r.get("error")],
    )
    counts = Counter(tag for r in rows for tag in r.get("failures", []))
    return {
        "n": len(rows),
        "retrieval": {"n": len(with_ranking), **{key: _mean([r.get(key) for r in with_ranking]) for key in RETRIEVAL_KEYS}},
        "answer": {
            "n": len(rows),
            "n_answerable": len(answerable),
            "n_unanswerable": len(rows) - len(answerable),
            "em": _mean([r.get("em") for r in answerable]),
            "f1": _mean([r.get("f1") for r in answerable]),
            "contains_gold": _mean([r.get("contains_gold") for r in answerable]),
            "abstain_accuracy": None if abstention["abstain_accuracy"] is None else round(abstention["abstain_accuracy"], 4),
            "false_abstain_rate": None if abstention["false_abstain_rate"] is None else round(abstention["false_abstain_rate"], 4),
            "errors": sum(1 for r in rows if r.get("error")),
        },
        "grounding": {
            "n": len(graded),
            "faithfulness": _mean([r["faithfulness"] for r in graded]),
            "hallucination_rate": _mean([float(bool(r.get("hallucinated"))) for r in graded]),
            "citation_precision": _mean([r.get("citation_precision") for r in graded]),
            "citation_recall": _mean([r.get("citation_recall") for r in graded]),
        },
        "failures": {tag: counts[tag] for tag in FAILURES if counts[tag]},
        "config": dict(config or {}),
        "per_question": rows,
    }


def failures_first(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows ordered for reading: the most serious failure first, passing rows last (stable)."""

    def rank(row: dict[str, Any]) -> tuple[int, int]:
        tags = row.get("failures", [])
        worst = min((FAILURES.index(t) for t in tags if t in FAILURES), default=len(FAILURES))
        return (worst, -len(tags))

    return sorted(rows, key=rank)
