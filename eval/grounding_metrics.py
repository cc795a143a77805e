"""Grounding, hallucination and citation quality of one answer, sentence by sentence.

Sentences and `[n]` markers are read with rag_app.grounding's splitter (the same one the app uses
to verify citations). With a support judge (rag_app.support) and a threshold:

- a sentence is *supported* when some context passage supports it (best score >= threshold); an
  unsupported sentence is a hallucination;
- faithfulness = supported sentences / sentences; the answer is *hallucinated* when at least one
  sentence is unsupported;
- citation recall (ALCE): share of sentences that carry citations and are supported by the
  concatenation of the passages they cite;
- citation precision (ALCE): share of citations that are needed: a citation counts when its
  sentence is supported by all its citations together and the citation either supports the
  sentence alone or the sentence's other citations do not suffice without it. A citation of a
  sentence its citations do not support, or of a number no passage has, counts as imprecise.

    >>> from rag_app.support import LexicalJudge
    >>> grade = grade_grounding("서울은 대한민국의 수도이다 [1]. 부산은 항구 도시이다.",
    ...                         ["대한민국의 수도는 서울이다."], {1: "대한민국의 수도는 서울이다."}, LexicalJudge())
    >>> grade.faithfulness, grade.hallucinated, grade.citation_precision, grade.citation_recall
    (0.5, True, 1.0, 0.5)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from rag_app.grounding import markers_in, split_cited_sentences, strip_markers
from rag_app.support import SupportJudge, support_threshold


@dataclass
class SentenceGrade:
    text: str  # without markers
    citations: list[int]  # the numbers it cites, in order
    support: float  # best score against any context passage
    supported: bool
    cited_support: float | None  # score against its cited passages together (None: cites no known passage)
    citation_supported: bool = False  # its citations together support it (ALCE citation recall)
    precise_citations: list[int] = field(default_factory=list)  # the citations that count (ALCE precision)

    def to_dict(self) -> dict:
        return {
            "text": self.text,
            "citations": self.citations,
            "support": round(self.support, 3),
            "supported": self.supported,
            "cited_support": None if self.cited_support is None else round(self.cited_support, 3),
            "citation_supported": self.citation_supported,
            "precise_citations": self.precise_citations,
        }


@dataclass
class GroundingGrade:
    sentences: list[SentenceGrade]
    faithfulness: float | None  # None: no sentence to grade (empty answer or abstention)
    hallucinated: bool | None
    citation_precision: float | None  # None: the answer cites nothing
    citation_recall: float | None
    citations: int = 0  # citation markers counted (one per sentence and number)


def sentences_with_markers(answer: str) -> list[tuple[str, list[int]]]:
    """(sentence without markers, cited numbers) per sentence, empty sentences dropped.

    >>> sentences_with_markers("서울이다 [1][2]. 부산이다 [2, 3].\\n끝.")
    [('서울이다.', [1, 2]), ('부산이다.', [2, 3]), ('끝.', [])]
    """
    parsed = []
    for sentence in split_cited_sentences(answer):
        plain = strip_markers(sentence)
        if plain:
            parsed.append((plain, list(dict.fromkeys(markers_in(sentence)))))
    return parsed


def grade_grounding(
    answer: str,
    contexts: Sequence[str],
    cited: Mapping[int, str],
    judge: SupportJudge,
    threshold: float | None = None,
) -> GroundingGrade:
    """Grade `answer` (with `[n]` markers) against the passages it was written from (`contexts`)
    and the passages its citation numbers point at (`cited`: n -> text). One judge call.
    `threshold`: the judge's calibrated one (`support_threshold`) unless given."""
    threshold = support_threshold(judge) if threshold is None else threshold
    parsed = sentences_with_markers(answer)
    if not parsed:
        return GroundingGrade([], None, None, None, None)
    contexts = [c for c in dict.fromkeys(contexts) if c.strip()]
    wanted: dict[tuple[str, str], float] = {}  # every (claim, evidence) pair, scored once
    for plain, numbers in parsed:
        for context in contexts:
            wanted[(plain, context)] = 0.0
        known = [n for n in numbers if n in cited]
        if known:
            wanted[(plain, _joined(cited, known))] = 0.0
            if len(known) > 1:
                for n in known:
                    wanted[(plain, cited[n])] = 0.0
                    wanted[(plain, _joined(cited, [m for m in known if m != n]))] = 0.0
    pairs = list(wanted)
    for pair, score in zip(pairs, judge.score(pairs) if pairs else []):
        wanted[pair] = float(score)

    def ok(claim: str, evidence: str) -> bool:
        return wanted[(claim, evidence)] >= threshold

    grades: list[SentenceGrade] = []
    total_citations = precise_total = 0
    for plain, numbers in parsed:
        support = max((wanted[(plain, c)] for c in contexts), default=0.0)
        known = [n for n in numbers if n in cited]
        cited_support = wanted[(plain, _joined(cited, known))] if known else None
        joint = known != [] and ok(plain, _joined(cited, known))
        precise = []
        if joint:
            for n in known:
                rest = [m for m in known if m != n]
                if len(known) == 1 or ok(plain, cited[n]) or not ok(plain, _joined(cited, rest)):
                    precise.append(n)
        grades.append(SentenceGrade(plain, numbers, support, support >= threshold, cited_support, joint, precise))
        total_citations += len(numbers)
        precise_total += len(precise)
    supported = sum(g.supported for g in grades)
    return GroundingGrade(
        grades,
        faithfulness=supported / len(grades),
        hallucinated=supported < len(grades),
        citation_precision=precise_total / total_citations if total_citations else None,
        citation_recall=sum(g.citation_supported for g in grades) / len(grades),
        citations=total_citations,
    )


def _joined(cited: Mapping[int, str], numbers: Sequence[int]) -> str:
    return "\n".join(cited[n] for n in numbers)
