"""What a system answered, in one shape, whether it came from this app or from elsewhere.

A predictions file has one JSON object per line, as `rag-app ask --questions FILE --json` prints:

    {"id": "q1", "answer": "서울이다 [1].", "abstained": false,
     "citations": [{"n": 1, "source": "a.pdf", "page": 3, "text": "대한민국의 수도는 서울이다."}]}

`id` and `answer` are required. The cited `text` is the context grounding is judged against;
an optional `contexts` list ({"source", "page", "text"} objects or plain strings, best first)
gives the passages the answer was generated from instead, and then also the ranking that the
retrieval metrics read. Without `abstained`, an empty answer or the app's own "not found"
sentence counts as an abstention.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eval.datasets import DatasetError, jsonl_records
from rag_app.answer import ABSTAIN_EN, ABSTAIN_KO


@dataclass
class Passage:
    text: str
    source: str | None = None
    page: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "page": self.page, "text": self.text}


@dataclass
class Prediction:
    id: str
    answer: str
    abstained: bool
    citations: dict[int, Passage] = field(default_factory=dict)  # n -> cited passage
    contexts: list[Passage] = field(default_factory=list)  # what the answer was written from
    retrieved: list[Passage] | None = None  # ranking for retrieval metrics; None: unknown
    error: str | None = None  # the system failed on this question

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "answer": self.answer,
            "abstained": self.abstained,
            "citations": [{"n": n, **p.to_dict()} for n, p in sorted(self.citations.items())],
            "contexts": [p.to_dict() for p in self.contexts],
            "retrieved": None if self.retrieved is None else [p.to_dict() for p in self.retrieved],
            "error": self.error,
        }

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> "Prediction":
        """The inverse of `to_dict` (cached answers are stored this way)."""
        retrieved = record.get("retrieved")
        return cls(
            str(record["id"]),
            record["answer"],
            bool(record["abstained"]),
            {int(c["n"]): _passage(c) for c in record.get("citations", [])},
            [_passage(c) for c in record.get("contexts", [])],
            None if retrieved is None else [_passage(c) for c in retrieved],
            record.get("error"),
        )


def looks_abstained(answer: str) -> bool:
    """An empty answer, or the app's fixed "not found" sentence.

    >>> looks_abstained(""), looks_abstained("제공된 문서에서 이 질문에 대한 답을 찾을 수 없습니다."), looks_abstained("서울")
    (True, True, False)
    """
    return not answer.strip() or answer.strip() in (ABSTAIN_KO, ABSTAIN_EN)


def prediction_from_record(record: dict[str, Any], where: str) -> Prediction:
    """One predictions line (already parsed) -> Prediction; DatasetError "WHERE: problem" otherwise."""
    if "id" not in record or not isinstance(record["id"], (str, int)) or isinstance(record["id"], bool):
        raise DatasetError(f'{where}: no "id" (string or number) to match the dataset question; fix that line')
    answer = record.get("answer")
    if not isinstance(answer, str):
        raise DatasetError(f'{where}: no "answer" string; fix that line')
    abstained = record.get("abstained")
    if abstained is not None and not isinstance(abstained, bool):
        raise DatasetError(f'{where}: "abstained" must be true or false; fix that line')
    citations: dict[int, Passage] = {}
    raw_citations = record.get("citations") or []
    if not isinstance(raw_citations, list):
        raise DatasetError(f'{where}: "citations" must be a list of {{"n", "source", "page", "text"}}; fix that line')
    for position, citation in enumerate(raw_citations, start=1):
        if not isinstance(citation, dict) or not isinstance(citation.get("text", ""), str):
            raise DatasetError(f'{where}: citation {position} must be an object with a "text" string; fix that line')
        n = citation.get("n", position)
        if not isinstance(n, int) or isinstance(n, bool):
            raise DatasetError(f'{where}: citation {position} has a non-integer "n"; fix that line')
        citations[n] = _passage(citation)
    raw_contexts = record.get("contexts")
    if raw_contexts is not None and not isinstance(raw_contexts, list):
        raise DatasetError(f'{where}: "contexts" must be a list of passages; fix that line')
    contexts = [_passage(c) for c in raw_contexts] if raw_contexts is not None else None
    return Prediction(
        id=str(record["id"]),
        answer=answer,
        abstained=looks_abstained(answer) if abstained is None else abstained,
        citations=citations,
        contexts=contexts if contexts is not None else [p for p in citations.values() if p.text],
        retrieved=contexts,
    )


def read_predictions(path: str | Path, known_ids: set[str] | None = None) -> list[Prediction]:
    """All predictions of a file, in order; DatasetError naming the line for a malformed one, or
    for an id that is not among `known_ids` (the dataset's question ids) when given."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise DatasetError(f"{path}: not found; give the JSONL file `rag-app ask --questions FILE --json` wrote")
    predictions: list[Prediction] = []
    seen: dict[str, int] = {}
    for number, record in jsonl_records(path):
        prediction = prediction_from_record(record, f"{path}:{number}")
        if prediction.id in seen:
            raise DatasetError(f"{path}:{number}: id {prediction.id!r} repeats line {seen[prediction.id]}; ids must be unique")
        if known_ids is not None and prediction.id not in known_ids:
            raise DatasetError(f"{path}:{number}: id {prediction.id!r} is not a question of the dataset; check the ids")
        seen[prediction.id] = number
        predictions.append(prediction)
    return predictions


def prediction_from_answer(question_id: str, answer, retrieved=None) -> Prediction:
    """A `rag_app.answer.Answer` (its chunks are the contexts) -> Prediction. `retrieved`: the
    ranked chunks for the retrieval metrics, when they were retrieved separately."""
    chunks = [Passage(c.text, str(c.metadata.get("source", "")), _page(c.metadata.get("page"))) for c in answer.chunks]
    ranking = None
    if retrieved is not None:
        ranking = [Passage("", str(c.metadata.get("source", "")), _page(c.metadata.get("page"))) for c in retrieved]
    return Prediction(
        id=question_id,
        answer=answer.answer,
        abstained=answer.abstained,
        citations={c.n: Passage(c.text, c.source, c.page) for c in answer.citations},
        contexts=chunks,
        retrieved=ranking,
    )


def _passage(value: Any) -> Passage:
    if isinstance(value, str):
        return Passage(value)
    if not isinstance(value, dict):
        return Passage(str(value))
    return Passage(str(value.get("text") or ""), None if value.get("source") is None else str(value["source"]), _page(value.get("page")))


def _page(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None
