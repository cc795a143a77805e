"""Citation checks after generation: a model's `[n]` markers are verified, never trusted.

    >>> checked = verify_citations("서울이다 [1]. 부산이다 [7].", chunks, make_judge("structured"))

- markers pointing at no context block ([7] with 5 chunks) are removed;
- a sentence the model left without a marker is checked against every retrieved chunk; the best
  chunk that supports it becomes its citation (`attributed`), and its marker is appended to the
  sentence in the answer text, so a reader sees where it comes from (small local models rarely
  write markers, and a correct sentence copied from a chunk should not read as unsupported);
- the remaining markers are renumbered 1, 2, ... in order of first use, so the answer's citation
  list has no gaps;
- every sentence is scored against the chunks it cites (the best one, or all of them together,
  counts); a sentence whose cited chunks do not support it, or that no chunk supports, is
  `supported: false`, with the judge's `reason` when it gives one;
- `grounded` is the share of supported sentences; below `MIN_GROUNDED` the answer carries a warning.

`rag-app eval` (eval/grounding_metrics.py) grades sentences by the same rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from indexes.retrieval import RetrievedChunk
from rag_app.support import Judgement, SupportJudge, judgements, support_threshold

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
    reason: str | None = None  # why the judge found it unsupported (the judge's words, when it gives any)
    attributed: bool = False  # the model wrote no marker; its citation was found by the check

    def to_dict(self) -> dict:
        return {
            "text": self.text,
            "citations": self.citations,
            "support": round(self.support, 3),
            "supported": self.supported,
            "reason": self.reason,
            "attributed": self.attributed,
        }


@dataclass
class CheckedAnswer:
    text: str  # the answer with only valid, renumbered markers
    cited_ranks: list[int]  # chunk rank (0-based) for citation n = index + 1
    sentences: list[SentenceSupport] = field(default_factory=list)
    removed_markers: list[int] = field(default_factory=list)  # numbers that pointed at nothing

    @property
    def written_citations(self) -> bool:
        """Whether the model itself cited anything (attributed citations aside)."""
        return any(s.citations and not s.attributed for s in self.sentences)

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


NO_CITATION_KO = "인용한 문서가 없고, 검색된 어떤 문서도 뒷받침하지 않음"
NO_CITATION_EN = "cites nothing and no retrieved passage supports it"


def verify_citations(
    text: str, chunks: list[RetrievedChunk], judge: SupportJudge, threshold: float | None = None
) -> CheckedAnswer:
    """`threshold`: support from which a sentence counts as supported; by default the judge's own
    calibrated one (see bench/judges.py). One judge call for the whole answer."""
    if threshold is None:
        threshold = support_threshold(judge)
    valid = range(1, len(chunks) + 1)
    texts = [chunk.text for chunk in chunks]

    # 1. Every sentence against its own (valid) markers; a sentence without any, against every chunk.
    raw = [(match.span(), match.group(0)) for match in _SENTENCE.finditer(text) if match.group(0).strip()]
    wanted: dict[tuple[str, str], Judgement] = {}
    for _, sentence in raw:
        plain = strip_markers(sentence)
        if not plain:
            continue
        numbers = [n for n in dict.fromkeys(markers_in(sentence)) if n in valid]
        for evidence in _evidence_for(numbers, texts) if numbers else texts:
            wanted[(plain, evidence)] = Judgement(0.0)
    pairs = list(wanted)
    wanted.update(zip(pairs, judgements(judge, pairs)))

    # 2. Uncited sentences take the best chunk that supports them, as the model's own block number.
    attributed: set[str] = set()
    for (start, end), sentence in reversed(raw):  # from the end, so earlier offsets stay valid
        plain = strip_markers(sentence)
        if not plain or any(n in valid for n in markers_in(sentence)):
            continue
        rank = _best(plain, texts, wanted, threshold)
        if rank is not None:
            text = text[:start] + _with_marker(sentence, rank + 1) + text[end:]
            attributed.add(plain)

    # 3. Renumber the markers by first use; drop those that point at nothing.
    cleaned, cited_ranks, removed = _renumber(text, valid)
    checked = []
    for sentence in split_cited_sentences(cleaned):
        plain = strip_markers(sentence)
        if not plain:
            continue
        numbers = list(dict.fromkeys(markers_in(sentence)))
        if numbers:
            evidence = _evidence_for([cited_ranks[n - 1] + 1 for n in numbers], texts)
            best = max((wanted.get((plain, e), Judgement(0.0)) for e in evidence), key=lambda j: j.score)
        else:
            best = _best_judgement(plain, texts, wanted)
        supported = bool(numbers) and best.score >= threshold
        reason = None if supported else best.reason or (_no_citation(plain) if not numbers else None)
        checked.append(SentenceSupport(plain, numbers, best.score, supported, reason, plain in attributed))
    return CheckedAnswer(cleaned, cited_ranks, checked, removed)


def _evidence_for(numbers: list[int], texts: list[str]) -> list[str]:
    """The cited chunks one by one, and all of them together when there are several."""
    cited = [texts[n - 1] for n in numbers]
    return cited + (["\n".join(cited)] if len(cited) > 1 else [])


def _best(plain: str, texts: list[str], wanted: dict, threshold: float) -> int | None:
    """The rank of the chunk that supports the sentence best, None when none reaches `threshold`."""
    scores = [wanted[(plain, t)].score for t in texts]
    if not scores or max(scores) < threshold:
        return None
    return scores.index(max(scores))


def _best_judgement(plain: str, texts: list[str], wanted: dict) -> Judgement:
    found = [wanted[(plain, t)] for t in texts if (plain, t) in wanted]
    if not found:
        return Judgement(0.0)
    best = max(found, key=lambda j: j.score)
    return best if best.reason or best.score > 0 else next((j for j in found if j.reason), best)


def _no_citation(plain: str) -> str:
    from rag_app.claims import is_korean

    return NO_CITATION_KO if is_korean(plain) else NO_CITATION_EN


def _with_marker(sentence: str, number: int) -> str:
    """"서울이다." -> "서울이다 [2]." (the marker before the final punctuation, as the prompt asks)."""
    body = sentence.rstrip()
    trailing = sentence[len(body) :]
    end = re.search(r"[.!?。]+$", body)
    if end:
        return f"{body[: end.start()].rstrip()} [{number}]{end.group(0)}{trailing}"
    return f"{body} [{number}]{trailing}"


def _renumber(text: str, valid: range) -> tuple[str, list[int], list[int]]:
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
    return cleaned, cited_ranks, removed
