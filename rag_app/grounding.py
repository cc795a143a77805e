"""Citation checks after generation: a model's `[n]` markers are verified, never trusted.

    >>> checked = verify_citations("서울이다 [1]. 부산이다 [7].", chunks, LexicalJudge())

- markers pointing at no context block ([7] with 5 chunks) are removed;
- the remaining markers are renumbered 1, 2, ... in order of first use, so the answer's citation
  list has no gaps;
- every sentence is scored against the chunks it cites (the best one counts); a sentence that
  cites nothing, or whose cited chunks do not support it (below the judge's threshold), is
  `supported: false`;
- `grounded` is the share of supported sentences; below `MIN_GROUNDED` the answer carries a warning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from indexes.retrieval import RetrievedChunk
from rag_app.support import SupportJudge, support_threshold

# "[1]", "[1, 3]", "[1][2]", also full-width brackets some models write in Korean.
MARKER = re.compile(r"\s*[\[［]\s*(\d+(?:\s*[,，]\s*\d+)*)\s*[\]］]")
# A sentence ends at . ! ? 。 (or a line break), optionally followed by citation markers.
# A dot inside a number or name ("3.5%", "v1.2") does not end a sentence.
_SENTENCE = re.compile(r"(?:[^\n.!?。]|[.!?。](?=[^\s.!?。\[［]))*(?:[.!?。]+(?:\s*[\[［][\d,，\s]+[\]］])*|\n|$)")
# Answers with a smaller share of supported sentences are flagged.
MIN_GROUNDED = 0.5
WARNING_KO = "주의: 이 답변의 상당 부분이 인용된 문서로 뒷받침되지 않습니다."
WARNING_EN = "Warning: much of this answer is not supported by the cited documents."


@dataclass
class SentenceSupport:
    text: str  # the sentence without its markers
    citations: list[int]  # citation numbers (after renumbering)
    support: float  # best support score among the cited chunks; 0 when nothing is cited
    supported: bool

    def to_dict(self) -> dict:
        return {"text": self.text, "citations": self.citations, "support": round(self.support, 3), "supported": self.supported}


@dataclass
class CheckedAnswer:
    text: str  # the answer with only valid, renumbered markers
    cited_ranks: list[int]  # chunk rank (0-based) for citation n = index + 1
    sentences: list[SentenceSupport] = field(default_factory=list)
    removed_markers: list[int] = field(default_factory=list)  # numbers that pointed at nothing

    @property
    def grounded(self) -> float:
        """Share of sentences supported by their citations (1.0 for an empty answer)."""
        if not self.sentences:
            return 1.0
        return sum(s.supported for s in self.sentences) / len(self.sentences)


def split_cited_sentences(text: str) -> list[str]:
    """Sentences with their trailing markers kept: "A [1]. B. [2]" -> ["A [1].", "B. [2]"]."""
    sentences = []
    for match in _SENTENCE.finditer(text):
        sentence = match.group(0).strip()
        if sentence and not MARKER.fullmatch(sentence):
            sentences.append(sentence)
        elif sentence and sentences:  # markers alone on a line belong to the sentence before
            sentences[-1] += " " + sentence
    return sentences


def markers_in(sentence: str) -> list[int]:
    numbers: list[int] = []
    for match in MARKER.finditer(sentence):
        for part in re.split(r"[,，]", match.group(1)):
            numbers.append(int(part))
    return numbers


def strip_markers(text: str) -> str:
    return re.sub(r"\s+([.!?。])", r"\1", MARKER.sub("", text)).strip()


def verify_citations(
    text: str, chunks: list[RetrievedChunk], judge: SupportJudge, threshold: float | None = None
) -> CheckedAnswer:
    """`threshold`: support from which a sentence counts as supported; by default the judge's own
    calibrated one (0.7 for the lexical judges, 0.5 for the others; see bench/judges.py)."""
    if threshold is None:
        threshold = support_threshold(judge)
    valid = range(1, len(chunks) + 1)
    renumber: dict[int, int] = {}  # model's block number -> citation number
    removed: list[int] = []

    def replace(match: re.Match) -> str:
        kept = []
        for part in re.split(r"[,，]", match.group(1)):
            number = int(part)
            if number not in valid:
                removed.append(number)
                continue
            new = renumber.setdefault(number, len(renumber) + 1)
            if new not in kept:
                kept.append(new)
        return "".join(f" [{n}]" for n in kept)

    cleaned = MARKER.sub(replace, text).strip()
    cited_ranks = [number - 1 for number, _ in sorted(renumber.items(), key=lambda item: item[1])]

    sentences = split_cited_sentences(cleaned)
    pairs: list[tuple[str, str]] = []
    owners: list[int] = []  # sentence index of each pair
    parsed = []
    for index, sentence in enumerate(sentences):
        numbers = list(dict.fromkeys(markers_in(sentence)))
        plain = strip_markers(sentence)
        parsed.append((plain, numbers))
        for n in numbers:
            pairs.append((plain, chunks[cited_ranks[n - 1]].text))
            owners.append(index)
    scores = judge.score(pairs) if pairs else []
    best = [0.0] * len(sentences)
    for index, score in zip(owners, scores):
        best[index] = max(best[index], float(score))
    checked = [
        SentenceSupport(plain, numbers, best[i], bool(numbers) and best[i] >= threshold)
        for i, (plain, numbers) in enumerate(parsed)
        if plain
    ]
    return CheckedAnswer(cleaned, cited_ranks, checked, removed)
