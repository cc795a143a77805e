"""Grounding, hallucination and citation quality of one answer, sentence by sentence.

Sentences and `[n]` markers are read with rag_app.grounding's splitter (the same one the app uses
to verify citations). With a support judge (rag_app.support) and a threshold:

- a sentence is *supported* by the rule the app applies to its own answers (rag_app/grounding.py):
  a sentence with citations when its cited passages support it (one of them, or all together); a
  sentence without any when some context passage does (the app would attribute that passage to
  it). An unsupported sentence is a hallucination, with the judge's reason when it gives one;
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
from rag_app.support import Judgement, SupportJudge, judgements, support_threshold


@dataclass
class SentenceGrade:
    text: str  # without markers
    citations: list[int]  # the numbers it cites, in order
    support: float  # the score that decides: against its cited passages, or the best context passage when it cites none
    supported: bool
    cited_support: float | None  # score against its cited passages together (None: cites no known passage)
    citation_supported: bool = False  # its citations together support it (ALCE citation recall)
    precise_citations: list[int] = field(default_factory=list)  # the citations that count (ALCE precision)
    reason: str | None = None  # why it is unsupported, when the judge says
    attributed: bool = False  # cites nothing known, but a context passage supports it

    def to_dict(self) -> dict:
        return {
            "text": self.text,
            "citations": self.citations,
            "support": round(self.support, 3),
            "supported": self.supported,
            "cited_support": None if self.cited_support is None else round(self.cited_support, 3),
            "citation_supported": self.citation_supported,
            "precise_citations": self.precise_citations,
            "reason": self.reason,
            "attributed": self.attributed,
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
        known = [n for n in numbers if n in cited]
        if not known:  # judged against every passage; a cited sentence only against its citations
            for context in contexts:
                wanted[(plain, context)] = 0.0
        if known:
            wanted[(plain, _joined(cited, known))] = 0.0
            if len(known) > 1:
                for n in known:
                    wanted[(plain, cited[n])] = 0.0
                    wanted[(plain, _joined(cited, [m for m in known if m != n]))] = 0.0
    pairs = list(wanted)
    verdicts: dict[tuple[str, str], Judgement] = dict(zip(pairs, judgements(judge, pairs)))
    wanted.update({pair: verdict.score for pair, verdict in verdicts.items()})

    def ok(claim: str, evidence: str) -> bool:
        return wanted[(claim, evidence)] >= threshold

    grades: list[SentenceGrade] = []
    total_citations = precise_total = 0
    for plain, numbers in parsed:
        known = [n for n in numbers if n in cited]
        cited_support = wanted[(plain, _joined(cited, known))] if known else None
        joint = known != [] and ok(plain, _joined(cited, known))
        # One rule with the app: its own citations decide (one of them, or all together); a sentence
        # citing nothing known is supported when some context passage is (it would be attributed).
        own = [_joined(cited, known)] + ([cited[n] for n in known] if len(known) > 1 else []) if known else contexts
        decisive = max((verdicts[(plain, e)] for e in own), key=lambda v: v.score, default=Judgement(0.0))
        support = decisive.score
        supported = support >= threshold
        reason = None if supported else decisive.reason or next((verdicts[(plain, e)].reason for e in own if verdicts[(plain, e)].reason), None)
        precise = []
        if joint:
            for n in known:
                rest = [m for m in known if m != n]
                if len(known) == 1 or ok(plain, cited[n]) or not ok(plain, _joined(cited, rest)):
                    precise.append(n)
        grades.append(SentenceGrade(plain, numbers, support, supported, cited_support, joint, precise, reason, supported and not known))
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
