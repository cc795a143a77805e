"""Evaluation: datasets -> retrieval, answer, grounding, hallucination and citation scores -> reports.

SDK (the same code `rag-app eval` runs):

    >>> from eval import evaluate, load_dataset, read_predictions, write_report
    >>> from rag_app import RagApp
    >>> from rag_app.support import make_judge
    >>> dataset = load_dataset("../shared/data/korquad_v1_dev/KorQuAD_v1.0_dev.shared.json")  # doctest: +SKIP
    >>> result = evaluate(dataset, app=RagApp(collection="korquad"), judge=make_judge("lexical"), limit=100)  # doctest: +SKIP
    >>> result["answer"]["f1"], result["grounding"]["hallucination_rate"]                      # doctest: +SKIP
    >>> write_report(result, "reports/korquad")                                                # doctest: +SKIP

Names load on first use, so `import eval` (done by `rag-app --help`) stays cheap.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "load_dataset": "eval.datasets",
    "read_jsonl": "eval.datasets",
    "write_jsonl": "eval.datasets",
    "Question": "eval.datasets",
    "DatasetError": "eval.datasets",
    "read_predictions": "eval.predictions",
    "Prediction": "eval.predictions",
    "evaluate": "eval.runner",
    "AnswerCache": "eval.runner",
    "score_question": "eval.scoring",
    "summarize": "eval.scoring",
    "grade_grounding": "eval.grounding_metrics",
    "write_report": "eval.report",
    "compare_results": "eval.compare",
    "write_comparison": "eval.compare",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'eval' has no attribute {name!r}")
