"""The docstring examples of the evaluation modules and the judges are true."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "eval.answer_metrics",
    "eval.retrieval_metrics",
    "eval.grounding_metrics",
    "eval.predictions",
    "eval.scoring",
    "eval.runner",
    "eval.report",
    "eval.compare",
    "eval.datasets",
    "rag_app.support",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    if name != "eval.datasets":
        assert result.attempted > 0
