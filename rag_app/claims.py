"""Structured claim check: does the evidence state the same values, names, negation and direction?

Similarity scores (morpheme overlap, e5) cannot tell "7일 이내" from "30일 이내": the sentences
share almost every word. This module reads the facts a sentence states and compares them with
the evidence, after normalising units and formats, so a paraphrase passes and a changed fact does
not:

    >>> check_claim("정기권은 구매 후 30일 이내에 환불할 수 있습니다.", "정기권 환불은 구매 후 7일 이내에만 가능하다.").reason
    '30일: 근거에 없음 (근거: 7일)'
    >>> check_claim("시제품 검수에는 대략 21일이 소요됩니다.", "시제품 검수에는 보통 3주가 걸린다.").ok
    True

Steps, each a pure function:

1. `split_clauses`: a sentence -> clauses (at commas, semicolons, Korean connective endings such
   as -고/-며/-지만, English "but"/"while"/", and").
2. `extract_values`: typed values normalised to (amount, dimension): dates, times of day,
   durations, money, percentages, lengths, volumes, weights, speeds, data sizes, counts (digits,
   Korean native numerals with a counter, English number words), ranges.
3. `entities_in`: proper nouns (Kiwi `NNP`), capitalised English names, model codes (Kestrel-2,
   A-100), numbered places (2호점, 3호선).
4. `negation_count` / `directions_in`: negation (않/없/못/불가/금지/아니, not/no/never...) and
   direction words (증가/감소, more/less, before/after, 이상/이하...).
5. `check_claim`: each claim value must equal an evidence value of the same dimension, and the
   best-aligned one (same head entity, same clause words) when the passage has several; every
   entity must be in the evidence; the best-aligned evidence clause must agree on negation and
   direction. The first failure is the verdict's `reason`, in the claim's language.

What a claim means beyond these facts (a paraphrase, an added clause) is left to the similarity
scores of rag_app.support.StructuredJudge, which uses this check as a veto.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from rag_app.polarity import RESTRICTIVE, antonym_conflict, direction_conflict, directions_in, kiwi_tokens, negation_count
from rag_app.values import (  # noqa: I001
    _near,  # noqa: F401  (parse_number, UNITS: public names used through this module)
    ENTITY_CODE,
    KO_COUNTERS,
    bound_of,
    MONTHS,
    UNITS,
    Value,
    _comparable,
    _mask,
    extract_values,
    parse_number,
    same_value,
)

# ---- text analysis (Kiwi) -------------------------------------------------------------------------

_HANGUL = re.compile(r"[\uac00-\ud7a3]")


def is_korean(text: str) -> bool:
    hangul = len(_HANGUL.findall(text))
    latin = sum(ch.isascii() and ch.isalpha() for ch in text)
    return hangul > latin


# Connective endings after which a new clause starts ("A는 10시에 열고 B는 ...").
# Not -거나 ("먹거나 마실 수 없다": one negation over both).
_KO_CLAUSE_ENDINGS = frozenset("고 며 으며 지만 는데 은데 ᆫ데 으나 나 면서 으면서 는바 다가 ᆯ수록 을수록 수록".split())
_EN_CLAUSE = re.compile(r"\s*(?:[;,]\s*(?:and|but|while|whereas|although)?|\s(?:and|but|while|whereas|although)\s)\s*", re.IGNORECASE)


def split_clauses(sentence: str) -> list[str]:
    """A sentence's clauses: split at commas and semicolons, Korean connective endings (-고, -며,
    -지만, -는데...) and English "but"/"while".

        >>> split_clauses("1호점은 오전 10시에, 2호점은 오전 11시에 문을 연다.")
        ['1호점은 오전 10시에', '2호점은 오전 11시에 문을 연다.']
        >>> split_clauses("환불은 가능하지만 교환은 안 된다.")
        ['환불은 가능하지만', '교환은 안 된다.']
        >>> split_clauses("The shop opens at 9, but the cafe opens at 10.")
        ['The shop opens at 9', 'the cafe opens at 10.']
    """
    cuts = [m.span() for m in _EN_CLAUSE.finditer(sentence) if not _inside_number(sentence, m.start())]
    if _HANGUL.search(sentence):
        for token in kiwi_tokens(sentence):
            end = token.start + token.len
            if token.tag == "EC" and token.form in _KO_CLAUSE_ENDINGS and end < len(sentence) and sentence[end] in " ,":
                cuts.append((end, end))
    clauses, start = [], 0
    for cut_start, cut_end in sorted(set(cuts)):
        if cut_start < start:
            continue
        piece = sentence[start:cut_start].strip()
        if piece:
            clauses.append(piece)
        start = cut_end
    tail = sentence[start:].strip()
    if tail:
        clauses.append(tail)
    return clauses or [sentence.strip()]


_QUANTITY_END = re.compile(r"(?:\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|hour|hours|minute|minutes|year|years|month|months|week|weeks|[a-z]+day|[a-z]+days))[a-z%]*\s*$|\bbetween\s+\S+(?:\s\S+)?\s*$", re.IGNORECASE)
_QUANTITY_START = re.compile(r"^[\s,]*(?:and\s+|or\s+)?(?:\d|(?:a|an|one|two|three|four|five|six|seven|eight|nine|ten)\b)", re.IGNORECASE)


def _inside_number(text: str, index: int) -> bool:
    """A comma or "and" inside a number or quantity ("1,284", "June 28, 2014", "2 hours, 1 minute
    and 9 seconds", "between three and five days") does not split a clause."""
    if text[index] == "," and index > 0 and text[index - 1].isdigit() and re.match(r",\s?\d", text[index:]):
        return True
    before, after = text[:index], text[index:]
    if re.search(r"\d\s?(?:시|분|초|원|명|개|일|월|년|%|[a-zA-Z]{1,3})$", before) and re.match(r",\s?\d", after):
        return True  # a list of values: "오전 8시, 9시, 10시 30분"
    if re.match(r"\s*(?:and|or)\s+(?:over|above|under|below|up|older|younger|more|less|fewer|later|earlier)\b", after, re.IGNORECASE):
        return True  # "8 and over", "10 or more": a bound
    if re.match(r"\s*(?:,\s*)?(?:and|or)\b|,", after) and re.search(r"\bbetween\s+\S+(?:\s\S+)?\s*$", before, re.IGNORECASE):
        return True
    return bool(re.search(r"[A-Za-z]", before[-12:]) and _QUANTITY_END.search(before) and _QUANTITY_START.match(after))


_EN_STOP = frozenset(
    """a an the this that these those it its on in at of to for by with from as and or but if then than so
    is are was were be been being has have had do does did can could should would will may might must
    i we you he she they our your their his her my there here when where which who what how why all any
    each every some most more less also only just not no yes after before during while until since per""".split()
)


def entities_in(text: str, korean_names: bool = True) -> list[str]:
    """Names a claim relies on: model codes and numbered places, Kiwi proper nouns (Korean), and
    capitalised English words that do not start the sentence.

        >>> entities_in("On one charge the Kestrel-2 can travel 45 kilometres.")
        ['Kestrel-2']
        >>> entities_in("2호점은 오전 10시에 문을 엽니다.")
        ['2호점']
    """
    found = [re.sub(r"\s+", "", m.group(0)) for m in ENTITY_CODE.finditer(text)]
    masked = _mask(text, [m.span() for m in ENTITY_CODE.finditer(text)])
    masked = _mask(masked, [(v.start, v.end) for v in extract_values(text) if v.dimension in ("date", "time")])  # "April 1947" is a date
    for match in re.finditer(r"(?<![\w-])([A-Z][a-zA-Z]+(?:[ -](?:[A-Z][a-zA-Z]*|\d+\b))*|[a-z]+[A-Z][a-zA-Z]*|[A-Z]{2,})", masked):
        words = match.group(1)
        before = masked[: match.start()].rstrip()
        sentence_start = not before or before[-1] in ".!?:;\"'(["
        if sentence_start:
            first, _, rest = words.partition(" ")
            if first.lower() in _EN_STOP or not rest:
                words = rest if first.lower() in _EN_STOP else ""
        if words and words.lower() not in _EN_STOP and words.lower() not in _CALENDAR_WORDS:
            found.append(words)
    if _HANGUL.search(text):
        tokens = kiwi_tokens(masked)
        for i, token in enumerate(tokens):
            if token.tag == "SL" and i + 1 < len(tokens) and tokens[i + 1].start == token.start + token.len and tokens[i + 1].tag.startswith("NN"):
                found.append(token.form + tokens[i + 1].form)  # "D홀", "A동"
            elif token.tag == "NNP" and len(token.form) > 1 and korean_names:
                found.append(token.form)
        if korean_names:
            found += _institution_names(tokens, masked)
    found = [f for f in found if not any(f != other and f in other for other in found)]
    return list(dict.fromkeys(found))


# Nouns that end the name of an institution, team or place: "교무팀", "한별저축은행", "목포역".
_INSTITUTION_SUFFIXES = frozenset("팀 은행 센터 재단 협회 병원 대학교 학교 역 공항 연구소 위원회 본부 그룹 백화점 도서관 박물관 미술관 경기장 부서 공단 공사".split())


def _institution_names(tokens, text: str) -> list[str]:
    """Nouns written together and ending in an institution suffix, as one name."""
    names, run = [], []
    for token in list(tokens) + [None]:
        if token is not None and token.tag in ("NNG", "NNP") and (not run or token.start == run[-1].start + run[-1].len):
            run.append(token)
            continue
        if len(run) >= 2 and run[-1].form in _INSTITUTION_SUFFIXES:
            names.append(text[run[0].start : run[-1].start + run[-1].len])
        run = [token] if token is not None and token.tag in ("NNG", "NNP") else []
    return names


_CALENDAR_WORDS = frozenset([*MONTHS, "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "mondays",
                             "tuesdays", "wednesdays", "thursdays", "fridays", "saturdays", "sundays"])


def _normal(text: str) -> str:
    return re.sub(r"[\s\-_.·]", "", text.lower())


# Hangul jamo -> a consonant skeleton shared with Latin spellings (vowels, h, w, y dropped; voiced
# and voiceless alike): 서울 ~ Seoul, 부산 ~ Busan/Pusan, 도쿄 ~ Tokyo, 마이크로소프트 ~ Microsoft.
_INITIALS = ["k", "k", "n", "t", "t", "l", "m", "p", "p", "s", "s", "", "j", "j", "j", "k", "t", "p", ""]
_FINALS = ["", "k", "k", "k", "n", "n", "n", "t", "l", "l", "l", "l", "l", "l", "l", "l", "m", "p", "p", "t", "t", "n", "t", "t", "k", "t", "p", ""]
# Names Korean translates rather than transliterates.
_TRANSLATED_NAMES = {"korea": "한국 대한민국", "japan": "일본", "china": "중국", "thailand": "태국", "taiwan": "대만", "australia": "호주",
                     "america": "미국", "united states": "미국", "us": "미국", "usa": "미국", "britain": "영국", "uk": "영국", "england": "영국",
                     "germany": "독일", "netherlands": "네덜란드", "turkey": "튀르키예 터키", "europe": "유럽", "hong kong": "홍콩"}


def _latin_skeleton(word: str) -> str:
    word = word.lower()
    for a, b in (("ph", "p"), ("ch", "j"), ("sh", "s"), ("th", "t"), ("ck", "k"), ("ng", "n"), ("x", "ks"), ("qu", "k")):
        word = word.replace(a, b)
    word = re.sub(r"c(?=[eiy])", "s", word)
    table = str.maketrans("bcdfgqrvz", "pktpkklpj")
    word = re.sub(r"[^a-z]|[aeiouhwy]", "", word.translate(table))
    return re.sub(r"(.)\1+", r"\1", word)


def _hangul_skeleton(word: str) -> str:
    out = []
    for ch in word:
        code = ord(ch) - 0xAC00
        if 0 <= code < 11172:
            out.append(_INITIALS[code // 588] + _FINALS[code % 28])
    return re.sub(r"(.)\1+", r"\1", "".join(out))


def transliterated_in(entity: str, evidence: str) -> bool:
    """Whether a Latin name appears in Korean evidence as a transliteration ("Seoul" in "서울발")
    or a usual translation ("Korea" in "한국").

        >>> transliterated_in("Seoul", "서울발 부산행 KTX"), transliterated_in("Kim Chung-up", "건축가 김수근이 설계했다")
        (True, False)
    """
    translated = _TRANSLATED_NAMES.get(entity.lower().strip())
    if translated:
        return any(name in evidence for name in translated.split())
    skeleton = _latin_skeleton(entity)
    if len(re.sub(r"[^a-z]|[aeiouhwy]", "", entity.lower())) < 2:
        return False
    words = re.findall(r"[가-힣]+", evidence)
    return any(_hangul_skeleton("".join(words[i : i + 3])).startswith(skeleton) for i in range(len(words)))


def entity_in_evidence(entity: str, evidence: str) -> bool:
    """Case-, space- and hyphen-insensitive containment; an English plural still matches."""
    normal_entity, normal_evidence = _normal(entity), _normal(evidence)
    return normal_entity in normal_evidence or (normal_entity.endswith("s") and normal_entity[:-1] in normal_evidence)


_FUNCTION = frozenset(
    """이 그 저 것 수 등 때 있 없 하 되 않 같 위 통하 대하 관하 의하 따르 약 대략 보통 대개 주로 정도 가량 쯤 일반 일반적 총 모두 각각 만 약간 최대 최소
    the a an of in on to for and or by with it its this that these those as at from is are was were be been
    being has have had do does did can could should would will may might must not no about around approximately roughly usually typically""".split()
)


def content_terms(text: str) -> set[str]:
    """Content morphemes (Kiwi), numbers, units and hedges left out, English words crudely stemmed:
    what a claim says besides its values."""
    from indexes.morphemes import kiwi_terms

    terms = set()
    # Kiwi cuts English words it does not know ("rking."); English is read as words.
    words = kiwi_terms(text) if _HANGUL.search(text) else re.findall(r"[a-z][a-z'-]*|\d+(?:\.\d+)?", text.lower())
    for term in words:
        if term in _FUNCTION or re.fullmatch(r"[\d.,]+", term) or term.lower() in UNITS or term in KO_COUNTERS:
            continue
        terms.add(_stem(term) if term.isascii() else term)
    return terms


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


# ---- analysis of a text, cached ---------------------------------------------------------------------

@dataclass
class Clause:
    text: str
    values: list[Value]
    terms: set[str]
    heads: list[tuple[int, str]]  # (offset, entity or noun) candidates for the head of a value
    negations: int
    directions: set[str]
    sentence: int = 0  # index of its sentence in the text
    inherited: str | None = None  # the head of the clause before, for a clause that names none ("..., and the Gold card 3%")
    sentence_negations: int = 0  # negations of its whole sentence


@dataclass
class Analysis:
    text: str
    korean: bool
    clauses: list[Clause] = field(default_factory=list)

    @property
    def values(self) -> list[tuple[Value, Clause]]:
        return [(v, c) for c in self.clauses for v in c.values]


@lru_cache(maxsize=4096)
def analyse(text: str) -> Analysis:
    """Sentences -> clauses -> values, terms, heads, negation and direction; cached per text, so a
    chunk cited by several sentences is analysed once."""
    from indexes.chunking import split_sentences

    analysis = Analysis(text, is_korean(text))
    for number, sentence in enumerate(split_sentences(text) or [text]):
        previous: Clause | None = None
        for piece in split_clauses(sentence):
            clause = _clause(piece)
            clause.sentence = number
            if previous is not None and _subjectless(clause, previous):
                # Coordinated clauses share their subject: "The Silver card has a fee of $95, and a 1.5% rate".
                clause.inherited = previous.heads[-1][1] if previous.heads else previous.inherited
            analysis.clauses.append(clause)
            previous = clause
    for clause in analysis.clauses:
        clause.sentence_negations = sum(c.negations for c in analysis.clauses if c.sentence == clause.sentence)
    return analysis


def _subjectless(clause: Clause, previous: Clause) -> bool:
    """A clause that names nothing new before its first value ("17:40", "a 1.5% cashback rate")."""
    if clause.heads or any(v.dimension == "count" for v in clause.values):
        return False
    last = clause.values[-1].start if clause.values else len(clause.text)
    return not (_terms_before(clause.text, last) - previous.terms)


def _clause(text: str) -> Clause:
    values = extract_values(text)
    return Clause(text, values, content_terms(text), _heads(text), negation_count(text), directions_in(text))


def _heads(text: str) -> list[tuple[int, str]]:
    """Entities and nouns with their offsets: a value's head is the nearest one before it."""
    heads = [(m.start(), re.sub(r"\s+", "", m.group(0))) for m in ENTITY_CODE.finditer(text)]
    heads += [(m.start(), m.group(1)) for m in re.finditer(r"(?<![\w-])([A-Z][a-zA-Z]+(?:[ -](?:[A-Z][a-zA-Z]*|\d+\b))*)", text)
              if m.group(1).lower() not in _EN_STOP]
    if _HANGUL.search(text):
        tokens = kiwi_tokens(text)
        heads += [(t.start, t.form) for t in tokens if t.tag in ("NNP",)]
        heads += [(start, name) for start, name in _latin_compounds(tokens)]  # "B캡슐", "A정"
    return sorted(heads)


def _latin_compounds(tokens) -> list[tuple[int, str]]:
    """A Latin letter written onto a Korean noun names a thing: "D홀", "A동", "B캡슐"."""
    return [(token.start, token.form + tokens[i + 1].form) for i, token in enumerate(tokens)
            if token.tag == "SL" and i + 1 < len(tokens) and tokens[i + 1].start == token.start + token.len and tokens[i + 1].tag.startswith("NN")]


def head_of(value: Value, clause: Clause) -> str | None:
    """The nearest entity (or count) before the value in its clause ("2호점은 오전 11시에" -> 2호점)."""
    # A count before it can be the head too: "60대 이상은 2.3시간" (the group the time belongs to).
    counts = [(v.start, v.text) for v in clause.values if v.dimension == "count" != value.dimension and v.end <= value.start]
    before = [name for offset, name in sorted(clause.heads + counts) if offset < value.start]
    return before[-1] if before else clause.inherited


# ---- the check ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class ClaimCheck:
    """The verdict of the structured check: `ok`, or the first failure as a short `reason`."""

    ok: bool
    reason: str | None = None
    kind: str | None = None  # "value", "entity", "negation", "direction"

    def __bool__(self) -> bool:
        return self.ok


PASS = ClaimCheck(True)
# A claim clause and an evidence clause are about the same thing when they share this share of the
# claim clause's content terms (for the negation and direction comparisons).
CLAUSE_ALIGNMENT = 0.5


def check_claim(claim: str, evidence: str) -> ClaimCheck:
    """Compare a claim's values, names, negation and direction with the evidence.

        >>> check_claim("2호점은 오전 10시에 문을 엽니다.", "1호점은 오전 10시에, 2호점은 오전 11시에 문을 연다.").reason
        '2호점: 오전 10시 — 근거와 다름 (근거: 오전 11시)'
        >>> check_claim("On one charge the Kestrel-2 can travel 45 kilometres.", "The Kestrel-2 scooter has a range of 45 km per charge.").ok
        True
        >>> check_claim("환불은 가능합니다.", "환불은 불가능하다.").kind
        'negation'
    """
    claim_analysis, evidence_analysis = analyse(claim), analyse(evidence)
    korean = claim_analysis.korean
    crossing = korean != evidence_analysis.korean
    for clause in claim_analysis.clauses:
        for check in (_check_values, _check_entities, _check_polarity):
            verdict = check(clause, evidence_analysis, korean, crossing)
            if not verdict.ok:
                return verdict
    return PASS


# An evidence value better aligned with the claim's (same head, more shared words) by this much
# than every equal one means the claim took the value of something else (attribute swap).
SWAP_MARGIN = 0.25


def _check_values(clause: Clause, evidence: Analysis, korean: bool, crossing: bool) -> ClaimCheck:
    for value in clause.values:
        candidates = [(v, c) for v, c in evidence.values if _comparable_kind(value, v)]
        equal = [(v, c) for v, c in candidates if same_value(value, v)]
        if value.soft and (not equal or value.dimension not in ("count", "number")):
            continue  # "one", "한 번": too vague to demand, but checked against a swap below
        if not equal:
            if _range_endpoints(value, evidence) or derived_value(value, clause, evidence):
                continue
            if not candidates:
                return _fail("value", korean, value.describe())
            best = max(candidates, key=lambda vc: _alignment(value, clause, *vc))
            return _fail("value", korean, value.describe(), best[0].describe())
        # Several values of this kind in the passage: the one attached to the claim's head must be it.
        swapped = _swap(value, clause, candidates, equal)
        if swapped is not None:
            head = head_of(value, clause) or _topic(clause)
            return _fail("swap", korean, value.describe(), swapped.describe(), head=head)
        direction = _qualifier_conflict(value, [v for v, _ in equal])
        if direction:
            return _fail("direction", korean, *direction)
    return PASS


def _swap(value: Value, clause: Clause, candidates: list, equal: list) -> Value | None:
    """The evidence value the claim's value belongs to, when it is another one: better aligned (same
    head, more shared words) than every equal value by SWAP_MARGIN, and not listed with an equal
    value under the same head ("오전 6시, 7시, 8시 30분" lists several)."""
    if len(candidates) <= len(equal):
        return None
    best, best_clause = max(candidates, key=lambda vc: _alignment(value, clause, *vc))
    if same_value(value, best):
        return None
    best_head = head_of(best, best_clause)
    for other, other_clause in equal:
        if other_clause is best_clause or (best_head and _normal(head_of(other, other_clause) or "") == _normal(best_head)):
            return None
    best_equal = max(_alignment(value, clause, *vc) for vc in equal)
    return best if _alignment(value, clause, best, best_clause) >= best_equal + SWAP_MARGIN else None


def _range_endpoints(value: Value, evidence: Analysis) -> bool:
    """A range whose two ends the evidence states ("19~34세" from "19세 ... 34세까지")."""
    if value.low == value.high or value.dimension in ("date", "time"):
        return False
    ends = [v for v, _ in evidence.values if _comparable_kind(value, v) and v.low == v.high]
    return any(_close_to(v.low, value.low) for v in ends) and any(_close_to(v.low, value.high) for v in ends)


def _close_to(a: float, b: float) -> bool:
    return abs(a - b) <= 2e-3 * max(abs(a), abs(b), 1e-9)


# A value a summary computes from the evidence: a total ("합치면 1.6kg", "in total"), a value
# changed by an amount the evidence states as a change in another sentence ("B은행은 이보다
# 0.2%포인트 높다"), a multiple ("doubles that"), or a time plus a duration ("leaves at 07:15; the
# journey takes 2 hours 20 minutes").
_TOTAL_CUE = re.compile(r"합치|합계|합산|모두|총|전체|통틀|in total|combined|together|altogether|\btotal|overall|all told", re.IGNORECASE)
_CHANGE_CUE = re.compile(r"^[^.,;]{0,14}?(높|많|늘|증가|추가|더|길|늦|낮|적|줄|감소|짧|이르|빠르|more|higher|longer|later|rises?|rose|up|increase|"
                         r"less|lower|fewer|shorter|earlier|falls?|fell|down|decrease)", re.IGNORECASE)
_CHANGE_CUE_BEFORE = re.compile(r"(rises?|rose|increases?d?|grows?|grew|goes up|falls?|fell|drops?|decreases?d?|goes down|늘어|줄어)\s+(?:by\s+)?$", re.IGNORECASE)
_MULTIPLE_CUE = {"두 배": 2.0, "2배": 2.0, "세 배": 3.0, "3배": 3.0, "절반": 0.5, "double": 2.0, "twice": 2.0, "triple": 3.0, "half": 0.5}


def derived_value(value: Value, clause: Clause, evidence: Analysis) -> bool:
    """Whether the claim's value is computed from evidence values (see the cues above).

        >>> c = analyse("노트북과 충전기를 합치면 1.6kg이다.").clauses[0]
        >>> derived_value(c.values[0], c, analyse("노트북은 1.3kg이다. 충전기는 300g이다."))
        True
        >>> c = analyse("The train gets into London at 09:35.").clauses[0]
        >>> derived_value(c.values[0], c, analyse("The train leaves Leeds at 07:15. The journey takes 2 hours 20 minutes."))
        True
    """
    pool = [(v, c) for v, c in evidence.values if v.low == v.high and not v.soft and v.dimension not in ("date",)]
    if value.dimension == "date":
        return _derived_year(value, clause, evidence)
    if value.dimension == "months":  # "in 2021, four years after joining" (joined in 2017)
        mine = [v.date[0] for v in clause.values if v.dimension == "date" and v.date and v.date[0] is not None]
        theirs = [v.date[0] for v, _ in evidence.values if v.dimension == "date" and v.date and v.date[0] is not None]
        return any(abs(abs(a - b) - value.low / 12.0) < 1e-6 for a in mine for b in theirs)
    if value.dimension == "percent":  # a share: "4분의 1" of "400명 가운데 100명"
        counts = [v.low for v, _ in pool if v.dimension in ("count", "number") and v.low > 0]
        if any(_near(value, value.low, 100.0 * a / b, value) or _close_to(value.low, 100.0 * a / b) for a in counts for b in counts if a < b):
            return True
    if value.dimension == "time":
        times = [v.low for v, _ in pool if v.dimension == "time"]
        spans = [v.low / 60.0 for v, _ in pool if v.dimension == "duration"]
        return any(_clock_equal(value, t + sign * d) for t in times for d in spans for sign in (1, -1))
    same = [(v, c) for v, c in pool if v.dimension == value.dimension and value.dimension not in ("number",)]
    if len(same) < 2 and not any(cue in evidence.text.lower() for cue in _MULTIPLE_CUE):
        return False
    if _TOTAL_CUE.search(clause.text):
        amounts = [v.low for v, _ in same]
        if any(_close_to(a + b, value.low) for i, a in enumerate(amounts) for b in amounts[i + 1 :]) or (len(amounts) >= 3 and _close_to(sum(amounts), value.low)):
            return True
    if _CHANGE_CUE.match(clause.text[value.end :]):  # "작년보다 100억 원 많은": the difference of two values
        amounts = [v.low for v, _ in same]
        if any(_close_to(abs(a - b), value.low) for i, a in enumerate(amounts) for b in amounts[i + 1 :]):
            return True
    for change, change_clause in same:
        at = _offset(evidence, change_clause)
        if not (_CHANGE_CUE.match(evidence.text[at + change.end :]) or _CHANGE_CUE_BEFORE.search(evidence.text[max(0, at + change.start - 16) : at + change.start])):
            continue
        for base, base_clause in same:
            if base_clause.sentence != change_clause.sentence and any(_close_to(base.low + sign * change.low, value.low) for sign in (1, -1)):
                return True
    lowered = evidence.text.lower()
    factors = [f for cue, f in _MULTIPLE_CUE.items() if cue in lowered]
    return any(_close_to(base.low * f, value.low) for base, _ in same for f in factors)


def _derived_year(value: Value, clause: Clause, evidence: Analysis) -> bool:
    """"2018, three years after joining" from "joined in 2015"."""
    if not value.date or value.date[0] is None or value.date[1] is not None:
        return False
    spans = [v.low / 12.0 for v in clause.values if v.dimension == "months"] + [v.low / 12.0 for v, _ in evidence.values if v.dimension == "months"]
    years = [v.date[0] for v, _ in evidence.values if v.dimension == "date" and v.date and v.date[0] is not None]
    return any(abs(y + sign * d - value.date[0]) < 1e-6 for y in years for d in spans for sign in (1, -1))


def _offset(analysis: Analysis, clause: Clause) -> int:
    found = analysis.text.find(clause.text)
    return max(found, 0)


def _clock_equal(value: Value, minutes: float) -> bool:
    minutes %= 1440
    if value.ambiguous:
        return _close_to(value.low % 720, minutes % 720)
    return abs(value.low - minutes) < 0.5


def _topic(clause: Clause) -> str:
    """The clause's first words, naming what a swapped value belongs to when no entity does."""
    return " ".join(clause.text.split()[:2])


_MEASURES = ("length", "volume", "mass", "speed", "data", "energy", "charge", "power", "temperature", "area", "frequency", "duration", "months")


def _comparable_kind(claim: Value, evidence: Value) -> bool:
    # An English number that counts something ("two eggs") is not a measure ("200 g").
    if claim.dimension == "number" and claim.unit and evidence.dimension.startswith(_MEASURES + ("money",)):
        return False
    if evidence.dimension == "number" and evidence.unit and claim.dimension.startswith(_MEASURES + ("money",)):
        return False
    if "weekday" in (claim.dimension, evidence.dimension):
        return claim.dimension == evidence.dimension
    if evidence.dimension == "number" and claim.dimension not in ("date", "time"):
        return True
    if {claim.dimension, evidence.dimension} == {"percent", "ratio"}:
        return True
    if claim.dimension == "number":
        return evidence.dimension not in ("date", "time")
    if claim.dimension == "date":
        return evidence.dimension == "date"
    if {claim.dimension, evidence.dimension} == {"count", "duration"} and claim.per:
        return claim.per == evidence.per  # "twice a week" and "two days a week"
    return _comparable(claim, evidence) or (claim.dimension == "count" and evidence.dimension == "number")


def _alignment(value: Value, clause: Clause, other: Value, other_clause: Clause) -> float:
    """How surely an evidence value is the one the claim value speaks of: same head entity (2),
    then the share of the claim clause's words in the evidence clause (0..1)."""
    head, other_head = head_of(value, clause), head_of(other, other_clause)
    score = 2.0 if head and other_head and _normal(head) == _normal(other_head) else 0.0
    subject = _terms_before(clause.text, value.start)  # what the value is said of: the words before it
    if subject:
        score += len(subject & other_clause.terms) / len(subject)
    return score


@lru_cache(maxsize=4096)
def _terms_before(text: str, offset: int) -> frozenset[str]:
    return frozenset(content_terms(text[:offset]))


_ARROWS = {"up": " ↑", "down": " ↓", "after": " (후)", "before": " (전)"}


def _qualifier_conflict(value: Value, equal: list[Value]) -> tuple[str, str] | None:
    """"10명 이상" against "10명 이하", "30분 전" against "30분 후": the same number bounded or
    offset the other way. A bound and an offset do not conflict ("최소 30일 앞서" = "30일 전까지")."""
    kind, direction = bound_of(value)
    if not kind:
        return None
    qualified = [v for v in equal if bound_of(v)[0] == kind]
    if qualified and all(bound_of(v)[1] != direction for v in qualified):
        return value.describe() + _ARROWS[value.qualifier], qualified[0].describe() + _ARROWS[qualified[0].qualifier]
    return None


# Titles after a person's name: "마리아 린 박사", "존 스미스 교수".
_KO_TITLES = frozenset("박사 교수 씨 님 대표 회장 사장 감독 선수 의원 장관 기자 연구원 작가 시장 총리 대통령 위원장 이사 부장 팀장".split())
# First consonants of a transliteration that Latin spellings share (Hangul skeleton -> Latin skeleton).
_CONSONANT_CLASS = str.maketrans("kgqcdtsjzbpfvlr", "kkkkttttjppppll")


_EN_TITLES = frozenset("dr mr mrs ms miss prof professor sir madam president minister director coach captain chairman".split())


def _foreign_names(text: str) -> list[str]:
    """Transliterated foreign person names in a Korean sentence: a proper noun and the short nouns
    after it up to a title ("마리아 린 박사" -> "마리아 린")."""
    tokens = [t for t in kiwi_tokens(text) if t.tag.startswith("NN")]
    names = []
    for i, token in enumerate(tokens):
        if token.tag != "NNP":
            continue
        parts, j = [token.form], i + 1
        while j < len(tokens) and tokens[j].form not in _KO_TITLES and (tokens[j].tag == "NNP" or tokens[j].tag == "NNG" and len(tokens[j].form) <= 2) and j - i <= 2:
            parts.append(tokens[j].form)
            j += 1
        if j < len(tokens) and tokens[j].form in _KO_TITLES and j == i + len(parts):
            names.append(" ".join(parts))
    return names


def hangul_name_in(name: str, evidence: str) -> bool:
    """Whether each part of a transliterated name starts like some capitalised word of Latin-script
    evidence ("마리아 린" against "Dr. Maria Lin": yes; against "Dr. Maria Chen": no, 린 is no Chen).

        >>> hangul_name_in("마리아 린", "The award went to Dr. Maria Lin."), hangul_name_in("마리아 린", "The award went to Dr. Maria Chen.")
        (True, False)
    """
    names = [w for entity in entities_in(evidence) for w in re.findall(r"[A-Z][a-zA-Z]+", entity) if w.lower() not in _EN_TITLES]
    starts = {_latin_skeleton(w)[:1].translate(_CONSONANT_CLASS) for w in names}
    return all(_hangul_skeleton(part)[:1].translate(_CONSONANT_CLASS) in starts for part in name.split())


def _check_entities(clause: Clause, evidence: Analysis, korean: bool, crossing: bool) -> ClaimCheck:
    if crossing and korean:
        for name in _foreign_names(clause.text):
            if entities_in(evidence.text) and not hangul_name_in(name, evidence.text):
                return _fail("entity", korean, name)
    for entity in entities_in(clause.text, korean_names=not crossing):
        if crossing and _HANGUL.search(entity):
            continue  # a Korean name cannot be looked up in English evidence
        if not entity_in_evidence(entity, evidence.text):
            if crossing and transliterated_in(entity, evidence.text):
                continue
            return _fail("entity", korean, entity)
        swapped = _entity_swap(entity, clause, evidence)
        if swapped:
            return _fail("entity_swap", korean, entity, _predicate(swapped.text, 3))
    return PASS


# The share of the claim clause's other words an evidence clause about another entity must hold
# for the claim to be that clause with its entity swapped.
ENTITY_SWAP_SHARE = 0.6


def _entity_swap(entity: str, clause: Clause, evidence: Analysis) -> Clause | None:
    """The evidence clause the claim clause is about, when it does not hold the claim's entity
    and another clause does ("재무 부문은 김민수 팀장이" against "마케팅 부문은 김민수 팀장이,
    재무 부문은 이지은 팀장이")."""
    if len(evidence.clauses) < 2:
        return None
    entity_terms = content_terms(entity) | {entity}
    terms = clause.terms - entity_terms
    if len(terms) < 2:
        return None
    holding = [c for c in evidence.clauses if entity_in_evidence(entity, c.text)]
    share = lambda c: len(terms & c.terms) / len(terms)  # noqa: E731
    best = max(evidence.clauses, key=share)
    if best in holding or not holding or share(best) < ENTITY_SWAP_SHARE:
        return None  # the claim must restate that clause; a looser match is a summary joining several
    if clause.values and not any(same_value(v, w) for v in clause.values for w in best.values):
        return None  # its values are not that clause's (the value check found them elsewhere or derived them)
    # The clause must itself name someone else (another entity in the same role).
    if not [e for e in entities_in(best.text) if not entity_in_evidence(e, entity)]:
        return None
    return best if share(best) >= max(share(c) for c in holding) + SWAP_MARGIN else None


# With one evidence clause, a claim clause sharing this share of its words is about it (a
# paraphrase says the same with other words: "조리해 먹을 수" vs "취사는").
SINGLE_CLAUSE_ALIGNMENT = 0.2


def _aligned_clause(clause: Clause, evidence: Analysis, crossing: bool) -> Clause | None:
    """The evidence clause the claim clause speaks of, for comparing negation and direction."""
    if crossing:
        # Across languages no words align; a one-clause claim against one-clause evidence still can.
        return evidence.clauses[0] if len(evidence.clauses) == 1 else None
    topic = {t for t in clause.terms if not directions_in(t)} or clause.terms  # "기압도 높아" aligns with "기압은 낮아"
    aligned = max(evidence.clauses, key=lambda c: len(topic & c.terms))
    share = len(topic & aligned.terms) / len(topic)
    if share >= CLAUSE_ALIGNMENT or (len(evidence.clauses) == 1 and share >= SINGLE_CLAUSE_ALIGNMENT):
        return aligned
    return None


def _check_polarity(clause: Clause, evidence: Analysis, korean: bool, crossing: bool) -> ClaimCheck:
    if not clause.terms:
        return PASS
    aligned = _aligned_clause(clause, evidence, crossing)
    if aligned is None:
        return PASS
    restricted = RESTRICTIVE.search(clause.text) or RESTRICTIVE.search(aligned.text)
    # Against a one-clause evidence the claim's whole sentence is compared (a negation may sit in
    # the claim's other clause: "If a delay makes you miss a flight, you get one free of charge").
    negations = clause.sentence_negations if len(evidence.clauses) == 1 else clause.negations
    if negations % 2 != aligned.negations % 2 and not restricted:
        return _fail("negation", korean, _predicate(clause.text), _predicate(aligned.text))
    flipped = None if crossing or restricted else antonym_conflict(clause.text, aligned.text)
    if flipped:
        return _fail("negation", korean, *flipped)
    turned = direction_conflict(clause.text, aligned.text)
    if turned:
        return _fail("direction", korean, *turned)
    return PASS


def _predicate(text: str, words: int = 2) -> str:
    """The last words of a clause (where Korean puts its predicate), for a reason string."""
    return " ".join(text.rstrip(" .!?。").split()[-words:])


_REASONS = {
    "value": ("{0}: 근거에 없음", "{0} not in evidence"),
    "value_other": ("{0}: 근거에 없음 (근거: {1})", "{0} not in evidence ({1})"),
    "swap": ("{head}: {0} — 근거와 다름 (근거: {1})", "{head}: {0} contradicts evidence ({1})"),
    "entity": ("{0}: 근거에 없는 이름", "{0} not in evidence"),
    "entity_swap": ("{0}: 근거에서는 다른 대상 ({1})", "{0}: evidence says this of another ({1})"),
    "negation": ("부정 여부가 다름: {0} vs {1}", "negation differs: {0} vs {1}"),
    "direction": ("방향이 다름: {0} vs {1}", "direction differs: {0} vs {1}"),
}


def _fail(kind: str, korean: bool, *parts: str, head: str | None = None) -> ClaimCheck:
    key = "value_other" if kind == "value" and len(parts) > 1 else kind
    template = _REASONS[key][0 if korean else 1]
    return ClaimCheck(False, template.format(*parts, head=head), {"swap": "value", "entity_swap": "entity"}.get(kind, kind))
