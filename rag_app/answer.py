"""Answers with citations: the `Answer` shape, the `Generator` role, citations and abstentions.

The offline extractive answerer, which needs no LLM, is in rag_app/extractive.py.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any, Iterator, Protocol

from indexes.retrieval import RetrievedChunk
from rag_app.grounding import SentenceSupport

HANGUL = re.compile(r"[\uac00-\ud7a3]")
ABSTAIN_KO = "제공된 문서에서 이 질문에 대한 답을 찾을 수 없습니다."
ABSTAIN_EN = "I could not find the answer to this question in the provided documents."


@dataclass
class Citation:
    n: int
    source: str
    title: str | None
    page: int | None
    text: str
    score: float
    location: str | None = None  # human-friendly place: "page 3", "slide 5", "02:03", "row 17"
    link: str | None = None  # where to open it: the URL (YouTube at the second), or a file:// URI


@dataclass
class Answer:
    """An answer with its evidence. `to_dict()` is the JSON contract (`rag-app ask --json`); every key
    is always present, whatever the provider or mode."""

    question: str
    answer: str
    abstained: bool
    citations: list[Citation]
    timings_ms: dict[str, float] = field(default_factory=dict)
    chunks: list[RetrievedChunk] = field(default_factory=list, repr=False)  # all retrieved, for callers
    reranker: str | None = None  # the cross-encoder that reordered the chunks, if any
    provider: str = "extractive"  # "extractive", "openai:gpt-4o-mini", "hf:/models/x", ...
    sentences: list[SentenceSupport] = field(default_factory=list)  # per-sentence support of the answer
    warning: str | None = None  # set when most sentences are not supported by their citations
    rewritten_query: str | None = None  # the standalone query a follow-up was rewritten into
    steps: list[dict[str, Any]] = field(default_factory=list)  # agent mode: the tool calls, in order

    @property
    def grounded(self) -> float | None:
        """Share of the answer's sentences supported by their citations (None for abstentions)."""
        if self.abstained or not self.sentences:
            return None
        return sum(s.supported for s in self.sentences) / len(self.sentences)

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract of `rag-app ask --json`."""
        grounded = self.grounded
        return {
            "question": self.question,
            "answer": self.answer,
            "abstained": self.abstained,
            "citations": [asdict(c) for c in self.citations],
            "sentences": [s.to_dict() for s in self.sentences],
            "grounded": round(grounded, 3) if grounded is not None else None,
            "warning": self.warning,
            "provider": self.provider,
            "rewritten_query": self.rewritten_query,
            "steps": self.steps,
            "timings_ms": {key: round(value, 1) for key, value in self.timings_ms.items()},
            "reranker": self.reranker,
        }


class Generator(Protocol):
    """Turns a question and retrieved chunks into an Answer (extractive, OpenAI, Gemini, HF...).

    `stream` yields the answer's text as it is produced (str pieces), then the final, verified
    `Answer` as its last item: the streamed text may still hold markers that verification removes,
    so show `Answer.answer` once it arrives."""

    name: str

    def answer(self, question: str, chunks: list[RetrievedChunk]) -> Answer: ...

    def stream(self, question: str, chunks: list[RetrievedChunk]) -> Iterator[str | Answer]: ...


def is_korean(text: str) -> bool:
    return bool(HANGUL.search(text))


def abstention(question: str, chunks: list[RetrievedChunk]) -> Answer:
    message = ABSTAIN_KO if is_korean(question) else ABSTAIN_EN
    return Answer(question=question, answer=message, abstained=True, citations=[], chunks=chunks)


def format_timestamp(seconds: float) -> str:
    """123 -> "02:03"; 3723 -> "1:02:03"."""
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def location_of(meta: dict[str, Any]) -> str | None:
    if meta.get("start_seconds") is not None:
        return format_timestamp(float(meta["start_seconds"]))
    if meta.get("page") is not None:
        return f"{'slide' if meta.get('source_type') == 'pptx' else 'page'} {meta['page']}"
    if meta.get("row_id") is not None:
        return f"row {meta['row_id']}"
    if meta.get("location"):  # JSON pointer, "line 7", "lines 10-42", "cell 3" (loaders/base.py)
        return str(meta["location"])
    return None


def link_of(meta: dict[str, Any]) -> str | None:
    source = str(meta.get("source", ""))
    if source.startswith(("http://", "https://")):
        if meta.get("start_seconds") is not None:
            separator = "&" if "?" in source else "?"
            return f"{source}{separator}t={int(float(meta['start_seconds']))}s"
        return source
    if source.startswith("/"):
        from pathlib import Path

        uri = Path(source).as_uri()
        return f"{uri}#page={meta['page']}" if meta.get("source_type") == "pdf" and meta.get("page") else uri
    return None  # databases and other sources have no link to open


def citation_for(n: int, chunk: RetrievedChunk) -> Citation:
    meta = chunk.metadata
    page = meta.get("page")
    return Citation(
        n=n,
        source=str(meta.get("source", "")),
        title=meta.get("title"),
        page=int(page) if page is not None else None,
        text=chunk.text,
        score=round(float(chunk.score), 4),
        location=location_of(meta),
        link=link_of(meta),
    )


def __getattr__(name: str):
    # The extractive answerer lives in rag_app/extractive.py (it imports this module); these names
    # were importable from here before and stay so.
    if name in ("ExtractiveAnswerer", "QUESTION_WORDS", "OUTDATED_MARKERS", "MAX_SENTENCES"):
        from rag_app import extractive

        return getattr(extractive, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
