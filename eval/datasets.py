"""Readers for the evaluation sets in ../shared/data, as (corpus, questions).

corpus: {doc_id: text}. questions: list of `Question` with the gold doc ids and answers.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    relevant: frozenset[str]  # gold document ids
    answers: tuple[str, ...] = field(default=())


def read_squad(path: Path) -> tuple[dict[str, str], list[Question]]:
    """SQuAD / KorQuAD JSON: each paragraph is a document "<title>#<paragraph index>"."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    corpus: dict[str, str] = {}
    questions: list[Question] = []
    for article in data["data"]:
        for i, paragraph in enumerate(article["paragraphs"]):
            doc_id = f"{article['title']}#{i}"
            corpus[doc_id] = paragraph["context"]
            for qa in paragraph["qas"]:
                answers = tuple(a["text"] for a in qa.get("answers", []))
                questions.append(Question(qa["id"], qa["question"], frozenset([doc_id]), answers))
    return corpus, questions


def read_beir_json(path: Path) -> tuple[dict[str, str], list[Question]]:
    """One JSON file with "corpus" {id: {"title", "text"}}, "queries" {qid: text}, "qrels" {qid: {id: rel}}."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    corpus = {doc_id: doc["text"] for doc_id, doc in data["corpus"].items()}
    questions = [
        Question(qid, text, frozenset(doc for doc, rel in data["qrels"][qid].items() if rel > 0))
        for qid, text in data["queries"].items()
    ]
    return corpus, questions


def sample(questions: list[Question], n: int, seed: int = 0) -> list[Question]:
    return random.Random(seed).sample(questions, n) if n < len(questions) else list(questions)
