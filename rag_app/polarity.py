"""Polarity and direction of a clause, read from lemmas (Kiwi morphemes for Korean, words for English).

Negation is counted, and only its parity matters ("않으면 안 된다" is an obligation). Besides the
grammatical negators (안/못 + verb, 않/못하 auxiliaries, 없, 아니, not/no/never/n't/without) a
word whose meaning contains "not" counts once: a negative prefix on a noun (불-/비-/미-/무-:
불포함, 비공개, 미지급), a negative predicate noun (금지, 제외, 거부, 취소, 무료... = "not allowed",
"not included", "not accepted", "not held", "no charge") or English word (prohibited, excluded,
rejected, closed, free, X-free). So "포함되지 않는다" and "제외된다" agree (one negation each) and
"포함된다" vs "제외된다" do not:

    >>> negation_count("이 요금에는 보험료가 제외된다."), negation_count("보험료는 포함되지 않는다."), negation_count("보험료가 포함된다.")
    (1, 1, 0)

A negated bound is a bound, not a negation: "두 학기를 넘을 수 없다" = "최대 두 학기",
"must not exceed 7 kg" = "up to 7 kg", "no later than" = "by":

    >>> negation_count("두 학기를 넘을 수 없다."), negation_count("Bags must not exceed 7 kg.")
    (0, 0)

Direction: a lemma has a sign (+1 up / -1 down) on an axis: amount (늘/증가/많/높, increase/more/
higher vs 줄/감소/적/낮, decrease/less/lower), bound (이상/초과/at least vs 이하/미만/at most),
time (후/이후/after/later vs 전/이전/before/earlier), speed, length, size, price, quality,
extreme (최대/최고 vs 최소/최저), order, compass... Two clauses disagree on direction when on some
axis one says only up and the other only down; different axes never conflict ("더 빠르다" vs
"시간이 짧다" is a paraphrase):

    >>> directions("매출이 10% 증가했다."), directions("Sales fell by 10%.")
    ({'amount': {1}}, {'amount': {-1}})
    >>> direction_conflict("기압도 높아진다", "기압은 낮아진다")
    ('높', '낮')
"""

from __future__ import annotations

import re
from functools import lru_cache

_HANGUL = re.compile(r"[\uac00-\ud7a3]")


def kiwi_tokens(text: str):
    """Kiwi's tokens (form, tag) of `text`, from the process's one analyser (indexes.morphemes)."""
    from indexes.morphemes import _get_kiwi

    return _get_kiwi().tokenize(text)


# ---- negation -------------------------------------------------------------------------------------

# Grammatical negators: (form, coarse tag).
_KO_NEGATORS = {("안", "MAG"), ("못", "MAG"), ("않", "VX"), ("못하", "VX"), ("없", "VA"), ("아니", "VCN"), ("없이", "MAG"),
                ("아니하", "VX"), ("말", "VX")}
# Nouns whose meaning is "not ...": counted as a negation where they are predicated (금지된다,
# 무료로, 제외하고), not where they modify a following noun (무료 회원, 취소 수수료).
_KO_NEGATIVE_NOUNS = frozenset(
    "금지 금물 불가 불가능 불허 제외 거부 거절 반려 폐쇄 휴관 휴업 휴무 휴진 중단 중지 취소 실패 누락 면제 무료 무상 부재 불참 결석 불필요 "
    "금하 막히 빠지 드물 대신".split()
)
# Prefixes that negate the noun they attach to (Kiwi tags them XPN).
_KO_NEGATIVE_PREFIXES = frozenset("불 비 미 무".split())
_EN_NEGATION = re.compile(
    r"\b(?:not|no|never|cannot|none|nothing|nobody|neither|nor|without|prohibited|forbidden|banned|barred|unable|impossible|"
    r"unavailable|excluded|excludes|exclude|rejected|refused|denied|declined|closed|cancel(?:l)?ed|fails?|failed|lacks?|lacked|"
    r"exempt|optional|rarely|seldom|hardly|instead of|rather than|free(?=\s*(?:[.,;!?)]|$|of\b|for\b|if\b|when\b|with\b|on\b|in\b|at\b|until\b)))\b|n't\b"
    r"|\b\w+-free\b|\bnon-?\w+",
    re.IGNORECASE,
)
# Negative words that mean something positive ("가리지 않고" = regardless) are not negations.
_NEGATIVE_IDIOMS = re.compile(
    r"가리지\s?않|상관\s?없|관계\s?없|빠짐\s?없|틀림\s?없|어김\s?없|끊임\s?없|아낌\s?없|no matter|without exception|not only|"
    r"no (?:doubt|wonder)|feel free",
    re.IGNORECASE,
)
# A negated bound is a bound ("넘을 수 없다" = at most): such a negation is not counted, and the
# clause gets the bound's direction instead.
_EN_NEGATED_BOUND = re.compile(
    r"\b(?:(?:must|may|can|should|will|does|do|did|shall)\s+not|cannot|can't|mustn't|won't|doesn't|don't|not|no)\s+"
    r"(?:be\s+|(?!be\b|than\b)[a-z]+\s+(?=(?:any\s+)?(?:more|less|fewer|longer|later|higher|lower|greater)\s+than))?(?:exceed\w*|(?:any\s+)?(?:more|less|fewer|longer|shorter|later|earlier|higher|lower|greater|larger|smaller|sooner)\s+than|go\s+(?:over|above|beyond|below|under))",
    re.IGNORECASE,
)
_KO_BOUND_VERBS = frozenset("넘 넘기 초과 지나 넘어서".split())

# "Only residents may" says "others may not": a restriction can stand for a negation.
RESTRICTIVE = re.compile(r"(?<![가-힣])만(?![가-힣])|[가-힣]만\s|에게만|에서만|\bonly\b|전용|뿐|\bexcept\b|\bunless\b|제외하고", re.IGNORECASE)


def _en_negated_bounds(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in _EN_NEGATED_BOUND.finditer(text)]


@lru_cache(maxsize=8192)
def negation_count(text: str) -> int:
    """How many negations a clause has (parity matters: "않으면 안 된다" is a positive obligation).

        >>> negation_count("환불은 가능하지 않다."), negation_count("환불은 불가능하다."), negation_count("환불할 수 있다.")
        (1, 1, 0)
        >>> negation_count("Refunds are not possible."), negation_count("You cannot park here."), negation_count("Withdrawals are penalty-free.")
        (1, 1, 1)
        >>> negation_count("이 자료는 비공개다."), negation_count("전시실 안에서는 음식물 섭취가 금지되어 있다."), negation_count("무료 회원은 쓸 수 있다.")
        (1, 1, 0)
    """
    text = _NEGATIVE_IDIOMS.sub(" ", text)
    bounded = _en_negated_bounds(text)
    count = sum(1 for m in _EN_NEGATION.finditer(text) if not any(a <= m.start() < b for a, b in bounded))
    if _HANGUL.search(text):
        tokens = kiwi_tokens(text)
        for i, token in enumerate(tokens):
            base = token.tag.split("-")[0]
            following = tokens[i + 1] if i + 1 < len(tokens) else None
            modifier = i + 2 < len(tokens) and following.tag == "ETM" and tokens[i + 2].tag.startswith("NN") and tokens[i + 2].form not in ("수", "것", "때")
            if (token.form, base) in _KO_NEGATORS:
                if modifier and token.form == "아니":  # "아닌 사람" negates a noun, not the clause
                    continue
                if _negates_bound(tokens, i):
                    continue
                count += 1
            elif base == "XPN" and token.form in _KO_NEGATIVE_PREFIXES and following is not None and following.tag.startswith(("NNG", "XR")):
                count += 1
            elif token.form in _KO_NEGATIVE_NOUNS and base in ("NNG", "XR", "VV", "VA") and (token.form == "대신" or not _modifies_noun(tokens, i)):
                # "엘리베이터 대신 계단으로" = not the lift (대신 before a noun still negates); "드물다" (VA) = rarely
                count += 1
    return count


def _negates_bound(tokens, i: int) -> bool:
    """"넘을 수 없다", "초과할 수 없다", "넘지 않는다": the negation belongs to a bound."""
    window = tokens[max(0, i - 5) : i]
    return any(t.form in _KO_BOUND_VERBS and t.tag.split("-")[0] in ("VV", "NNG") for t in window)


def _modifies_noun(tokens, i: int) -> bool:
    """A noun directly followed by another noun (무료 회원, 취소 수수료) names a kind, it is not said."""
    following = tokens[i + 1] if i + 1 < len(tokens) else None
    return following is not None and following.tag.startswith("NN") and following.start == tokens[i].start + tokens[i].len + 1


# ---- direction ------------------------------------------------------------------------------------

# axis -> (up lemmas, down lemmas); Korean lemmas are Kiwi forms (verb and adjective stems, nouns).
_AXES: dict[str, tuple[str, str]] = {
    "amount": (
        "늘 늘어나 늘리 증가 상승 상승세 오르 올리 인상 확대 증대 급증 급등 많 높 높이 상향 성장 "
        "increase increased increases increasing rise rises rose risen rising grow grows grew grown growing growth gain gains gained "
        "raise raised raises higher more more_than greater larger bigger up surge surged climb climbed jump jumped boost boosted expand expanded",
        "줄 줄어들 줄이 감소 하락 하락세 내리 내려가 떨어지 인하 축소 급감 급락 적 낮 낮추 하향 "
        "decrease decreased decreases decreasing fall falls fell fallen falling decline declined declines drop dropped drops "
        "shrink shrank shrunk lower less less_than fewer fewer_than smaller down reduce reduced reduces cut cuts plunge plunged slump slumped dim dims dimmed",
    ),
    "bound": ("이상 초과 넘 최소 at_least over above exceed exceeds exceeding exceeded minimum_of or_more and_over and_above or_older no_earlier_than no_less_than no_fewer_than more_than greater_than",
              "이하 미만 이내 최대 at_most under below within up_to or_less or_fewer and_under or_younger no_later_than no_more_than not_exceed less_than fewer_than"),
    "time": ("후 뒤 이후 나중 다음 늦 after later afterwards following subsequently postpone postponed delay delayed 연기 미루 늦추",
             "전 이전 앞 먼저 미리 사전 before earlier prior previously beforehand advance advanced 앞당기 앞서"),
    "speed": ("빠르 빨리 fast faster fastest quick quicker quickly speed_up", "느리 천천히 slow slower slowest slowly slow_down"),
    "length": ("길 longer long lengthen 연장", "짧 shorter short shorten 단축"),
    "size": ("크 커지 넓 두껍 무겁 large big wide wider thick thicker heavy heavier", "작 작아지 좁 얇 가볍 small little narrow narrower thin thinner light lighter"),
    "price": ("비싸 expensive pricier costlier", "싸 저렴 cheap cheaper inexpensive"),
    "temperature": ("따뜻 덥 뜨겁 warm warmer hot hotter heat", "춥 차갑 시원 cold colder cool cooler"),
    "quality": ("개선 좋아지 강화 improve improved improves better strengthen strengthened", "악화 나빠지 약화 worsen worsened worse weaken weakened deteriorate deteriorated"),
    "extreme": ("최고 최대 최다 최장 highest largest biggest greatest maximum most longest",
                "최저 최소 최단 lowest smallest least minimum fewest shortest"),
    "order": ("처음 최초 첫 first earliest", "마지막 최후 끝 last latest final"),
    "age": ("older oldest 선배 연상", "younger youngest 후배 연하"),
    "east_west": ("동쪽 동부 east eastern eastward", "서쪽 서부 west western westward"),
    "north_south": ("북쪽 북부 north northern northward", "남쪽 남부 south southern southward"),
    "outcome": ("승리 이기 win wins won victory", "패배 패하 지 lose loses lost defeat defeated"),
    "flow": ("수입 입금 입국 매수 import imports deposit", "수출 출금 출국 매도 export exports withdraw withdrawal"),
}
_SIGNS: dict[str, list[tuple[str, int]]] = {}
for _axis, (_ups, _downs) in _AXES.items():
    for _sign, _words in ((1, _ups), (-1, _downs)):
        for _word in _words.split():
            _SIGNS.setdefault(_word.replace("_", " "), []).append((_axis, _sign))
# Ambiguous one-syllable Korean stems count only with these tags (지 is also an auxiliary; 적 a noun).
_KO_TAGS = {"지": ("VV",), "적": ("VA",), "끝": ("NNG",), "첫": ("MM",), "앞": ("NNG",), "전": ("NNG",), "후": ("NNG",), "뒤": ("NNG",),
            "넘": ("VV",), "크": ("VA",), "길": ("VA",), "작": ("VA",), "싸": ("VA",), "늦": ("VA", "VV"), "다음": ("NNG",)}
# Comparatives that take the sign of a neighbouring axis-free predicate: "더 걸린다" = longer.
_COMPARATIVE = {"더": 1, "덜": -1, "more": 1, "less": -1}
_EN_PHRASES = sorted((w for w in _SIGNS if " " in w), key=len, reverse=True)


@lru_cache(maxsize=8192)
def directions(text: str) -> dict[str, set[int]]:
    """{axis: {+1 and/or -1}} for the direction words of a clause."""
    found: dict[str, set[int]] = {}

    def add(word: str) -> None:
        for axis, sign in _SIGNS.get(word, ()):
            found.setdefault(axis, set()).add(sign)

    lowered = text.lower()
    for span in reversed(_en_negated_bounds(lowered)):  # "must not exceed" = at most (before "more than" is read)
        phrase = lowered[span[0] : span[1]]
        if "exceed" in phrase or re.search(r"more|longer|later|higher|greater|larger|over|above|beyond", phrase):
            found.setdefault("bound", set()).add(-1)
        else:
            found.setdefault("bound", set()).add(1)
        lowered = lowered[: span[0]] + " " + lowered[span[1] :]
    for phrase in _EN_PHRASES:
        if re.search(rf"\b{re.escape(phrase)}\b", lowered):
            add(phrase)
            lowered = re.sub(rf"\b{re.escape(phrase)}\b", " ", lowered)
    for word in re.findall(r"[a-z]+", lowered):
        add(word)
    if _HANGUL.search(text):
        tokens = kiwi_tokens(text)
        for i, token in enumerate(tokens):
            base = token.tag.split("-")[0]
            if not (base.startswith(("NN", "VV", "VA", "XR", "MAG", "MM"))):
                continue
            allowed = _KO_TAGS.get(token.form)
            if allowed is not None and base not in allowed:
                continue
            if _negates_bound(tokens, i + 1) and token.form in _KO_BOUND_VERBS:
                found.setdefault("bound", set()).add(-1)
                continue
            add(token.form)
    return found


def directions_in(text: str) -> set[str]:
    """{"up"}, {"down"}, both or neither, over all axes.

        >>> sorted(directions_in("매출이 10% 증가했다.")), sorted(directions_in("Sales fell by 10%."))
        (['up'], ['down'])
        >>> sorted(directions_in("입사 전에 이수해야 한다."))
        ['down']
    """
    signs = set().union(*directions(text).values()) if directions(text) else set()
    return {"up" for s in signs if s > 0} | {"down" for s in signs if s < 0}


def _witness(text: str, axis: str, sign: int) -> str:
    """A word of `text` that gives it `sign` on `axis` (for the reason string)."""
    lowered = text.lower()
    for word, signs in _SIGNS.items():
        if (axis, sign) in signs and (word in lowered if not word.isascii() else re.search(rf"\b{re.escape(word)}\b", lowered)):
            return word
    return "↑" if sign > 0 else "↓"


def direction_conflict(claim: str, evidence: str) -> tuple[str, str] | None:
    """The claim's and the evidence's direction words when, on some axis, one says only up and the
    other only down; a comparative (더/덜, more/less) in the claim opposes any one-signed axis of
    the evidence ("20분 더 걸린다" vs "20분 짧다")."""
    mine, theirs = directions(claim), directions(evidence)
    for axis, signs in mine.items():
        other = theirs.get(axis)
        if other and len(signs) == 1 and len(other) == 1 and signs != other:
            sign = next(iter(signs))
            return _witness(claim, axis, sign), _witness(evidence, axis, -sign)
    comparative = {s for w, s in _COMPARATIVE.items() if re.search(rf"(?<![가-힣\w]){w}(?![가-힣\w])", claim.lower())}
    if len(comparative) == 1 and "amount" not in mine:
        sign = next(iter(comparative))
        if theirs and all(s == {-sign} for a, s in theirs.items() if a in ("length", "amount", "speed", "size", "time")) and any(
            a in theirs for a in ("length", "amount", "speed", "size", "time")
        ):
            axis = next(a for a in ("length", "amount", "speed", "size", "time") if a in theirs)
            return ("더" if sign > 0 else "덜") if _HANGUL.search(claim) else ("more" if sign > 0 else "less"), _witness(evidence, axis, -sign)
    return None


# Pairs opposed without negation or direction: "required" vs "optional" is covered by negation
# (optional = not required); these name two alternatives.
ANTONYMS = [("필수", "선택"), ("찬성", "반대"), ("승인", "기각"), ("합법", "불법"), ("유료", "무료"), ("paid", "free"),
            ("public", "private"), ("공개", "비공개"), ("open", "closed"), ("열", "닫"), ("opens", "closes")]
_ANTONYM_OF = {a: b for a, b in ANTONYMS} | {b: a for a, b in ANTONYMS}


def _words(text: str) -> set[str]:
    from indexes.morphemes import kiwi_terms

    return set(kiwi_terms(text)) | set(re.findall(r"[a-z]+", text.lower()))


def antonym_conflict(claim: str, evidence: str) -> tuple[str, str] | None:
    """A word of the claim whose antonym the evidence has (and not the word itself)."""
    claim_words, evidence_words = _words(claim), _words(evidence)
    for word in sorted(claim_words):
        other = _ANTONYM_OF.get(word)
        if other and other in evidence_words and word not in evidence_words:
            return word, other
    return None
