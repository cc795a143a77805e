"""Answers with citations: the `Answer` shape, the `Generator` role, and the offline extractive answerer.

The extractive answerer needs no LLM. It scores every sentence of the retrieved chunks by how much
of the question's content (Kiwi morphemes, weighted by idf) it covers, returns the best sentences
with `[n]` markers, and abstains when no sentence covers enough of the question.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterator, Protocol

from indexes.chunking import split_sentences
from indexes.retrieval import RetrievedChunk
from rag_app.grounding import SentenceSupport

HANGUL = re.compile(r"[\uac00-\ud7a3]")
ABSTAIN_KO = "제공된 문서에서 이 질문에 대한 답을 찾을 수 없습니다."
ABSTAIN_EN = "I could not find the answer to this question in the provided documents."

# Words that say what kind of answer is wanted but not what it is about.
QUESTION_WORDS = frozenset(
    """무엇 어떻 어떠 어떤 누구 언제 어디 왜 얼마 몇 무슨 어느 어찌 뭐 알리 설명 대하 관하 있 없 하 되 이 그 저 것 수 등 때
    what how who whom whose when where why which does do did is are was were be been being the a an of in on to for
    and or by with it its this that these those as at from can could should would will shall may might must
    about into than then there their they them you your i me my we our he she his her not no yes please tell explain""".split()
)

# Phrases by which a passage marks itself as no longer current.
OUTDATED_MARKERS = re.compile(
    r"outdated|deprecated|obsolete|superseded|no longer (?:valid|applies|current|in effect)|archived|"
    r"구버전|이전 버전|더 이상 유효하지|더 이상 적용되지|폐지된|폐지되었|과거 정보|오래된 정보|효력을 잃",
    re.IGNORECASE,
)

MAX_SENTENCES = 3
# A sentence must cover at least this share of the question's idf-weighted terms to be an answer.
# Chosen on the sample corpus and KorQuAD (bench/answers.py).
ABSTAIN_THRESHOLD = 0.5
# Extra sentences must score at least this share of the best one.
RELATIVE_THRESHOLD = 0.8
OUTDATED_PENALTY = 0.5


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


@dataclass
class _Candidate:
    sentence: str
    chunk_rank: int
    support: float  # how well it covers the question
    score: float  # support, lowered for passages that mark themselves outdated


class ExtractiveAnswerer:
    """Offline answerer: picks supporting sentences from the retrieved chunks, or abstains.

    `terms` turns text into search terms (Kiwi morphemes by default); `idf` weights a term
    (the BM25 index's idf, so rare words count more than common ones).
    """

    name = "extractive"

    def __init__(
        self, terms: Callable[[str], list[str]], idf: Callable[[str], float], abstain_threshold: float = ABSTAIN_THRESHOLD
    ):
        self.terms = terms
        self.idf = idf
        self.abstain_threshold = abstain_threshold

    def answer(self, question: str, chunks: list[RetrievedChunk]) -> Answer:
        question_terms = {t for t in self.terms(question) if t not in QUESTION_WORDS}
        if not question_terms or not chunks:
            return abstention(question, chunks)
        weights = {term: self.idf(term) for term in question_terms}
        total = sum(weights.values()) or 1.0

        def coverage(terms: set[str]) -> float:
            return sum(w for term, w in weights.items() if term in terms) / total

        candidates: list[_Candidate] = []
        for rank, chunk in enumerate(chunks):
            # Each sentence is analysed once; the chunk's terms are the union of its sentences'.
            sentence_terms = [(sentence, set(self.terms(sentence))) for sentence in split_sentences(chunk.text)]
            chunk_cover = coverage(set().union(*(terms for _, terms in sentence_terms)))
            for sentence, terms in sentence_terms:
                if len(sentence) < 8 or sentence.startswith("#") or sentence.endswith(("?", "？")):
                    continue  # headings, fragments and restated questions are not answers
                sentence_cover = coverage(terms)
                # Mostly the sentence itself; a little for its chunk (the subject is often named in a
                # previous sentence), and a small prior for the retriever's ranking.
                support = 0.8 * sentence_cover + 0.2 * chunk_cover + 0.02 * (len(chunks) - rank) / len(chunks)
                # An outdated passage still answers when nothing current does, but loses to one that does.
                score = support * OUTDATED_PENALTY if OUTDATED_MARKERS.search(sentence) else support
                candidates.append(_Candidate(sentence, rank, support, score))
        if not candidates:
            return abstention(question, chunks)
        candidates.sort(key=lambda c: -c.score)
        best = candidates[0]
        if max(c.support for c in candidates) < self.abstain_threshold:
            return abstention(question, chunks)

        chosen: list[_Candidate] = []
        for candidate in candidates:
            if len(chosen) == MAX_SENTENCES or candidate.score < RELATIVE_THRESHOLD * best.score:
                break
            if any(_same_sentence(candidate.sentence, c.sentence) for c in chosen):
                continue  # overlapping chunks repeat sentences
            chosen.append(candidate)

        numbers: dict[int, int] = {}  # chunk rank -> citation number, in order of first use
        parts = []
        for candidate in chosen:
            n = numbers.setdefault(candidate.chunk_rank, len(numbers) + 1)
            parts.append(f"{candidate.sentence} [{n}]")
        citations = [citation_for(n, chunks[rank]) for rank, n in numbers.items()]
        # Each sentence is quoted verbatim from the chunk it cites: support 1 by construction.
        sentences = [
            SentenceSupport(c.sentence, [numbers[c.chunk_rank]], 1.0, True) for c in chosen
        ]
        return Answer(
            question=question, answer=" ".join(parts), abstained=False, citations=citations, chunks=chunks, sentences=sentences
        )

    def stream(self, question: str, chunks: list[RetrievedChunk]) -> Iterator[str | Answer]:
        """Extractive answers are computed at once: one text piece, then the answer."""
        answer = self.answer(question, chunks)
        yield answer.answer
        yield answer


def _same_sentence(a: str, b: str) -> bool:
    return a == b or a in b or b in a
