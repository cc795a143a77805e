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

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache

# ---- numbers ------------------------------------------------------------------------------------

_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_KO_BIG = {"조": 1e12, "억": 1e8, "만": 1e4}
_KO_SMALL = {"천": 1e3, "백": 1e2, "십": 10.0}
# "1억 2천만", "5만", "3천" (digits with Korean multipliers) or plain digits.
_KO_AMOUNT = rf"(?:(?:{_NUM})\s?(?:조|억|천만|백만|만|천|백)\s?)+(?:{_NUM})?|{_NUM}"

_EN_UNITS = {w: i for i, w in enumerate("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split())}
_EN_TENS = {w: 10 * i for i, w in enumerate("_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()) if w != "_"}
_EN_SCALES = {"hundred": 100, "thousand": 1e3, "million": 1e6, "billion": 1e9}
_EN_WORD = "|".join(sorted([*_EN_UNITS, *_EN_TENS], key=len, reverse=True))
_EN_NUMBER = rf"(?:{_EN_WORD})(?:[-\s](?:{_EN_WORD}))?(?:\s(?:hundred|thousand|million|billion))?"

_KO_NATIVE_TENS = {"열": 10, "스물": 20, "스무": 20, "서른": 30, "마흔": 40, "쉰": 50, "예순": 60, "일흔": 70, "여든": 80, "아흔": 90}
_KO_NATIVE_UNITS = {
    "하나": 1, "한": 1, "둘": 2, "두": 2, "셋": 3, "세": 3, "석": 3, "서": 3, "넷": 4, "네": 4, "넉": 4, "너": 4,
    "다섯": 5, "닷": 5, "여섯": 6, "엿": 6, "일곱": 7, "여덟": 8, "아홉": 9,
}
# Day counts and a few fixed spans written as words.
_KO_DAY_WORDS = {
    "하루": 1, "이틀": 2, "사흘": 3, "나흘": 4, "닷새": 5, "엿새": 6, "이레": 7, "여드레": 8, "아흐레": 9,
    "열흘": 10, "보름": 15, "일주일": 7,
}


def parse_number(text: str) -> float:
    """Digits (with thousands commas), Korean multipliers or English number words -> a float.

        >>> parse_number("1,284"), parse_number("1억 2천만"), parse_number("5만"), parse_number("2.5")
        (1284.0, 120000000.0, 50000.0, 2.5)
        >>> parse_number("twenty-five"), parse_number("fifteen"), parse_number("three hundred")
        (25.0, 15.0, 300.0)
    """
    text = text.strip()
    if re.fullmatch(_NUM, text):
        return float(text.replace(",", ""))
    if re.search(r"[a-z]", text, re.IGNORECASE):
        return _english_number(text.lower())
    return _korean_amount(text)


def _english_number(text: str) -> float:
    total = 0.0
    for word in re.split(r"[-\s]+", text):
        if word in _EN_UNITS:
            total += _EN_UNITS[word]
        elif word in _EN_TENS:
            total += _EN_TENS[word]
        elif word in _EN_SCALES:
            total = max(total, 1.0) * _EN_SCALES[word]
        elif re.fullmatch(_NUM, word):
            total += float(word.replace(",", ""))
    return total


def _korean_amount(text: str) -> float:
    total = section = 0.0
    for number, unit in re.findall(rf"({_NUM})?\s?(천만|백만|조|억|만|천|백|십)?", text):
        if not number and not unit:
            continue
        n = float(number.replace(",", "")) if number else (0.0 if unit in _KO_BIG or unit in ("천만", "백만") else 1.0)
        if unit in ("천만", "백만"):
            section += (n or 1.0) * _KO_SMALL[unit[0]]
            total += section * 1e4
            section = 0.0
        elif unit in _KO_SMALL:
            section += n * _KO_SMALL[unit]
        elif unit in _KO_BIG:
            total += (section + n) * _KO_BIG[unit]
            section = 0.0
        else:
            section += n
    return total + section


# ---- units ----------------------------------------------------------------------------------------

# unit (as written, lower-cased) -> (dimension, factor to the canonical unit of that dimension)
UNITS: dict[str, tuple[str, float]] = {}


def _units(dimension: str, factor: float, *names: str) -> None:
    for name in names:
        UNITS[name] = (dimension, factor)


_units("length", 1e-3, "mm", "밀리미터", "millimetre", "millimetres", "millimeter", "millimeters")
_units("length", 1e-2, "cm", "센티미터", "센티", "centimetre", "centimetres", "centimeter", "centimeters")
_units("length", 1.0, "m", "미터", "metre", "metres", "meter", "meters")
_units("length", 1e3, "km", "킬로미터", "kilometre", "kilometres", "kilometer", "kilometers")
_units("length", 1609.344, "mi", "mile", "miles", "마일")
_units("volume", 1e-3, "ml", "밀리리터", "millilitre", "millilitres", "milliliter", "milliliters", "cc")
_units("volume", 1.0, "l", "리터", "litre", "litres", "liter", "liters")
_units("length", 0.3048, "ft", "feet", "foot", "피트")
_units("length", 0.0254, "in", "inch", "inches", "인치")
_units("volume", 3.785411784, "gal", "gallon", "gallons", "갤런")
_units("mass", 1e-6, "mg", "밀리그램", "milligram", "milligrams")
_units("mass", 1e-3, "g", "그램", "gram", "grams")
_units("mass", 1.0, "kg", "킬로그램", "kilogram", "kilograms", "kilo", "kilos")
_units("mass", 1e3, "t", "톤", "ton", "tons", "tonne", "tonnes")
_units("mass", 0.45359237, "lb", "lbs", "pound", "pounds", "파운드")
_units("speed", 1.0, "km/h", "kph", "km/hr", "kilometres per hour", "kilometers per hour")
_units("speed", 1.609344, "mph", "miles per hour")
_units("data", 1e3, "kb", "킬로바이트")
_units("data", 1e6, "mb", "메가바이트", "megabytes")
_units("data", 1e9, "gb", "기가바이트", "gigabytes")
_units("data", 1e12, "tb", "테라바이트", "terabytes")
_units("energy", 1.0, "wh")
_units("energy", 1e3, "kwh")
_units("charge", 1.0, "mah")
_units("power", 1.0, "w", "와트", "watt", "watts")
_units("power", 1e3, "kw", "킬로와트", "kilowatt", "kilowatts")
_units("temperature", 1.0, "°c", "℃", "도", "degrees", "degrees celsius")
_units("area", 1.0, "㎡", "m2", "m²", "제곱미터", "square metres", "square meters")
_units("area", 3.305785, "평")
_units("frequency", 1.0, "hz")
_units("frequency", 1e9, "ghz")
_units("percent", 1.0, "%", "퍼센트", "프로", "percent", "per cent")
_units("percent_point", 1.0, "%p", "퍼센트포인트", "percentage points", "percentage point")
_units("ratio", 1.0, "배", "times")
_units("age", 1.0, "세", "살", "years old", "year-old")
# Durations: seconds for clock units, months for calendar ones (a month is not a fixed 30 days).
_units("duration", 1.0, "초", "s", "sec", "secs", "second", "seconds")
_units("duration", 60.0, "분", "min", "mins", "minute", "minutes")
_units("duration", 3600.0, "시간", "h", "hr", "hrs", "hour", "hours")
_units("duration", 86400.0, "일", "day", "days", "일간")
_units("duration", 604800.0, "주", "주일", "주간", "week", "weeks")
_units("months", 1.0, "개월", "달", "month", "months")
_units("months", 12.0, "년", "해", "year", "years", "년간")
_units("money:KRW", 1.0, "원", "won", "krw")
_units("money:USD", 1.0, "달러", "dollar", "dollars", "usd", "불")
_units("money:EUR", 1.0, "유로", "euro", "euros", "eur")
_units("money:JPY", 1.0, "엔", "yen", "jpy")

# Korean counters: a count's number is its value ("1,284개" == 1284); the counter is kept so that
# "10명" and "10대" are not the same thing.
KO_COUNTERS = (
    "개국 개사 개소 캡슐 가지 마리 사람 군데 차례 그루 켤레 개 명 대 곳 건 권 장 번 회 채 척 병 잔 벌 쌍 층 위 등 점 종 편 부 석 팀 표 호 정 알 포"
).split()
_ALL_UNITS = sorted(UNITS, key=len, reverse=True)
_EN_UNIT_RE = "|".join(re.escape(u) for u in _ALL_UNITS if re.fullmatch(r"[a-z%°²/ .\-]+", u))
_KO_UNIT_RE = "|".join(re.escape(u) for u in _ALL_UNITS if not re.fullmatch(r"[a-z%°²/ .\-]+", u))
_COUNTER_RE = "|".join(KO_COUNTERS)
# What may follow a Korean unit: a particle or ending, a space, punctuation, the end.
_KO_AFTER = r"(?=$|[\s\d\W]|이|가|은|는|을|를|에|의|도|만|씩|과|와|으로|로|까지|부터|째|간|동안|후|뒤|전|마다|이내|내|안|정도|가량|쯤|여|이상|이하|미만|초과|밖에|이다|입니|이며|이고|이지|짜리|당|보다|에서|인|이었|였|이나|나|라|요|대|다(?![가-힣])|야|로서)"

MONTHS = {m: i for i, m in enumerate("january february march april may june july august september october november december".split(), start=1)}
MONTHS.update({m[:3]: i for m, i in list(MONTHS.items())})
MONTHS["sept"] = 9
_MONTH_RE = "|".join(sorted(MONTHS, key=len, reverse=True))


@dataclass(frozen=True)
class Value:
    """One normalised value: `low`..`high` in the canonical unit of `dimension` (equal for a single
    value). Dates are dimension "date" with `date` = (year, month, day), None where not stated;
    times of day are minutes after midnight ("time"), `ambiguous` when "10시" could be 22:00."""

    text: str  # as written
    dimension: str
    low: float = 0.0
    high: float = 0.0
    raw: float | None = None  # the number as written, before unit conversion
    unit: str = ""  # the counter or unit as written
    date: tuple[int | None, int | None, int | None] | None = None
    ambiguous: bool = False
    soft: bool = False  # "one", "한 번": too vague to demand in the evidence
    qualifier: str = ""  # "up" (이상, at least, after...) or "down" (이하, 이내, before...)
    per: str = ""  # "month" for "월 9,900원" / "$10 per month"
    start: int = 0
    end: int = 0

    def describe(self) -> str:
        return self.text.strip()


def _value(text: str, dimension: str, amount: float, start: int, end: int, **extra) -> Value:
    return Value(text, dimension, amount, amount, start=start, end=end, **extra)


# Bound words after a value: "7일 이내", "10명 이상", "3일 전", "at least", "more than".
_QUALIFIER_AFTER = re.compile(r"^\s*(이상|초과|넘게|넘는|이후|후|뒤|이하|이내|미만|까지|이전|전|안에|내|or more|or less|or fewer|ago|later|earlier|before|after)")
_QUALIFIER_BEFORE = re.compile(r"(at least|more than|over|above|exceeding|after|at most|up to|no more than|less than|fewer than|under|below|within|before|최소|최대|최저|최고)\s*$", re.IGNORECASE)
_UP = frozenset(["이상", "초과", "넘게", "넘는", "이후", "후", "뒤", "or more", "later", "after", "at least", "more than", "over", "above", "exceeding", "최소", "최저"])
_DOWN = frozenset(["이하", "이내", "미만", "까지", "이전", "전", "안에", "내", "or less", "or fewer", "ago", "earlier", "before", "at most",
                   "up to", "no more than", "less than", "fewer than", "under", "below", "within", "최대", "최고"])


_PER_BEFORE = re.compile(r"(매월|월간|월|매년|연간|연|매일|하루|일|매주|주|시간당)\s?$")
_PER_AFTER = re.compile(r"^\s?(?:/\s?(월|년|일|주|시간|month|year|day|week|hour|mo|yr|h)\b|(?:per|a|an|each)\s(month|year|day|week|hour)\b|(monthly|annually|yearly|daily|weekly|hourly)\b)", re.IGNORECASE)
_PERIODS = {"매월": "month", "월간": "month", "월": "month", "month": "month", "mo": "month", "monthly": "month",
            "매년": "year", "연간": "year", "연": "year", "년": "year", "year": "year", "yr": "year", "annually": "year", "yearly": "year",
            "매일": "day", "하루": "day", "일": "day", "day": "day", "daily": "day",
            "매주": "week", "주": "week", "week": "week", "weekly": "week", "시간당": "hour", "시간": "hour", "hour": "hour", "h": "hour", "hourly": "hour"}


def per_period(text: str, start: int, end: int) -> str:
    """The period a rate is per: "월 9,900원" -> "month", "4.5% a year" -> "year", else ""."""
    before = _PER_BEFORE.search(text[max(0, start - 5) : start])
    if before and (start - len(before.group(0)) == 0 or not text[start - len(before.group(0)) - 1].isalnum()):
        return _PERIODS[before.group(1)]
    after = _PER_AFTER.match(text[end : end + 16])
    if after:
        return _PERIODS.get(next(g for g in after.groups() if g).lower(), "")
    return ""


def _qualifier(text: str, start: int, end: int) -> str:
    after = _QUALIFIER_AFTER.match(text[end : end + 12])
    before = _QUALIFIER_BEFORE.search(text[max(0, start - 16) : start])
    word = (after.group(1) if after else "") or (before.group(1).lower() if before else "")
    return "up" if word in _UP else "down" if word in _DOWN else ""


# Things that look like numbers but name something: model codes, numbered branches and lines.
ENTITY_CODE = re.compile(
    r"(?<![A-Za-z\d-])(?:[A-Za-z][A-Za-z]*-\d+[A-Za-z\d]*|[A-Z]{1,5}\d+[A-Za-z\d]*|[A-Za-z]+\d+[A-Z][A-Za-z\d]*)(?![A-Za-z\d-])"
    r"|(?:제\s?)?\d+\s?(?:호점|호선|호기|호실|호차|호관|번\s?출구|번\s?게이트|캠퍼스)"
    r"|제\s?\d+\s?(?:조|항|장|절|회|차|기|대)"
)

_PATTERNS: list[tuple[str, re.Pattern]] = [
    ("iso_date", re.compile(r"(?<!\d)(\d{4})[-./]\s?(\d{1,2})[-./]\s?(\d{1,2})\.?(?!\d)")),
    ("ko_date", re.compile(r"(?<!\d)(?:(\d{4})\s?년)?\s?(?:(\d{1,2})\s?월)(?:\s?(\d{1,2})\s?일)?|(?<!\d)(\d{4})\s?년(?!\s?(?:간|동안))")),
    ("en_date", re.compile(rf"\b(?:({_MONTH_RE})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(\d{{4}}))?|(\d{{1,2}})(?:st|nd|rd|th)?\s+({_MONTH_RE})\.?(?:,?\s+(\d{{4}}))?|({_MONTH_RE})\.?\s+(\d{{4}}))\b", re.IGNORECASE)),
    ("ko_time", re.compile(r"(오전|오후|낮|밤|새벽|저녁|아침)?\s?(\d{1,2})\s?시(?!간|대|점|작|장|즌|험|설|민|청|행|기|스템|\s?간)(?:\s?(\d{1,2})\s?분|\s?(반))?")),
    ("clock", re.compile(r"(?<![\d:])(\d{1,2}):(\d{2})(?!\d)(?:\s?([ap])\.?\s?m\.?)?", re.IGNORECASE)),
    ("en_time", re.compile(r"(?<![\d:])(\d{1,2})\s?([ap])\.?\s?m\b\.?", re.IGNORECASE)),
    ("noon", re.compile(r"정오|자정|\bnoon\b|\bmidnight\b", re.IGNORECASE)),
    ("money_symbol", re.compile(rf"([$€₩¥])\s?({_NUM})(?:\s?(million|billion|thousand|[kmb])\b)?", re.IGNORECASE)),
    ("speed_ko", re.compile(rf"시속\s?({_NUM})\s?(km|킬로미터|킬로|㎞)")),
    ("fraction", re.compile(rf"({_NUM})\s?분의\s?({_NUM})|\b(one|two|three|four|five|six|seven|eight|nine|ten)\s(?:in|out of)\s(two|three|four|five|six|seven|eight|nine|ten|hundred)\b|절반|\bhalf of\b|\ba quarter of\b", re.IGNORECASE)),
    ("and_a_half", re.compile(rf"(?:\b(a|an|one|two|three|\d+)\s(year|hour|month)s?\sand\sa\shalf\b)|(?:({_NUM}|한|두|세)\s?(년|시간|달|개월)\s?반)", re.IGNORECASE)),
    ("half_year", re.compile(r"상반기|하반기|([1-4])\s?분기|\b(first|second) half\b|\bQ([1-4])\b|\b(first|second|third|fourth) quarter\b", re.IGNORECASE)),
    ("scaled", re.compile(rf"(?<![\w.])({_NUM})\s?(thousand|million|billion)\b(?:\s?({_EN_UNIT_RE})(?![a-z]))?", re.IGNORECASE)),
    ("ko_day_word", re.compile("(?<![가-힣])(" + "|".join(sorted(_KO_DAY_WORDS, key=len, reverse=True)) + r")" + _KO_AFTER)),
    ("range", re.compile(rf"({_KO_AMOUNT})\s?(?:~|〜|–|-|에서|to|and)\s?({_KO_AMOUNT})\s?({_EN_UNIT_RE}|{_KO_UNIT_RE}|{_COUNTER_RE})", re.IGNORECASE)),
    ("measure", re.compile(rf"({_KO_AMOUNT}|{_EN_NUMBER})[\s-]?(?:({_EN_UNIT_RE})(?![a-z])|({_KO_UNIT_RE}){_KO_AFTER})", re.IGNORECASE)),
    ("count", re.compile(rf"({_KO_AMOUNT})\s?({_COUNTER_RE}){_KO_AFTER}")),
    ("ko_native", re.compile(
        r"(?<![가-힣])(?:(열|스물|스무|서른|마흔|쉰|예순|일흔|여든|아흔)\s?)?(하나|한|둘|두|셋|세|석|서|넷|네|넉|너|다섯|닷|여섯|엿|일곱|여덟|아홉)?\s?"
        rf"(시간|시|{_COUNTER_RE}|달|해|주|살|배|개월){_KO_AFTER}")),
    ("number", re.compile(rf"(?<![\w.])({_KO_AMOUNT})(?!\d|\.\d)|\b({_EN_NUMBER})\b", re.IGNORECASE)),
]


def _mask(text: str, spans: list[tuple[int, int]]) -> str:
    chars = list(text)
    for start, end in spans:
        for i in range(start, end):
            chars[i] = " "
    return "".join(chars)


def extract_values(text: str) -> list[Value]:
    """Typed, normalised values in `text`, in order. Model codes and numbered places (Kestrel-2,
    2호점) are names, not values.

        >>> [(v.dimension, v.low) for v in extract_values("검수에는 2주, 운행은 3시간 걸린다.")]
        [('duration', 1209600.0), ('duration', 10800.0)]
        >>> [(v.dimension, v.low) for v in extract_values("오후 5시에 600ml를 1,284개 판다.")]
        [('time', 1020.0), ('volume', 0.6), ('count', 1284.0)]
        >>> [(v.dimension, v.date) for v in extract_values("본사는 2016년 3월 판교로 이전했다.")]
        [('date', (2016, 3, None))]
        >>> [(v.dimension, v.low, v.high) for v in extract_values("배송에는 3~5일이 걸린다.")]
        [('duration', 259200.0, 432000.0)]
    """
    masked = _mask(text, [m.span() for m in ENTITY_CODE.finditer(text)])
    values: list[Value] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in _PATTERNS:
        for match in pattern.finditer(masked):
            start, end = match.span()
            if not match.group(0).strip() or any(start < b and a < end for a, b in taken):
                continue
            value = _read(kind, match, text)
            if value is None:
                continue
            values.append(value)
            taken.append((start, end))
    values.sort(key=lambda v: v.start)
    return [_with_period(v, text) for v in values]


def _with_period(value: Value, text: str) -> Value:
    from dataclasses import replace

    if value.dimension.startswith(("money", "percent", "count", "number", "volume", "mass", "energy")):
        period = per_period(text, value.start, value.end)
        if period:
            return replace(value, per=period)
    return value


def _read(kind: str, m: re.Match, text: str) -> Value | None:
    s, e = m.span()
    # Trim whitespace a pattern swallowed at its edges, so `text` is exactly the value.
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    surface = text[s:e]
    q = _qualifier(text, s, e)
    if kind == "iso_date":
        return _value(surface, "date", 0.0, s, e, date=(int(m[1]), int(m[2]), int(m[3])), qualifier=q)
    if kind == "ko_date":
        if m[4]:
            return _value(surface, "date", 0.0, s, e, date=(int(m[4]), None, None), qualifier=q)
        year, month, day = (int(x) if x else None for x in (m[1], m[2], m[3]))
        if month is None or not 1 <= month <= 12:
            return None
        return _value(surface, "date", 0.0, s, e, date=(year, month, day), qualifier=q)
    if kind == "en_date":
        if m[1]:
            date = (int(m[3]) if m[3] else None, MONTHS[m[1].lower()], int(m[2]))
        elif m[5]:
            date = (int(m[6]) if m[6] else None, MONTHS[m[5].lower()], int(m[4]))
        else:
            date = (int(m[8]), MONTHS[m[7].lower()], None)
        return _value(surface, "date", 0.0, s, e, date=date, qualifier=q)
    if kind == "ko_time":
        hour, minute = int(m[2]), int(m[3]) if m[3] else (30 if m[4] else 0)
        if hour > 24 or minute > 59:
            return None
        period = m[1]
        if period in ("오후", "저녁", "밤") and hour < 12:
            hour += 12
        ambiguous = period is None and 1 <= hour <= 12
        return _value(surface, "time", hour * 60.0 + minute, s, e, ambiguous=ambiguous, qualifier=q)
    if kind == "clock":
        hour, minute = int(m[1]), int(m[2])
        if m[3] and m[3].lower() == "p" and hour < 12:
            hour += 12
        return _value(surface, "time", hour * 60.0 + minute, s, e, qualifier=q)
    if kind == "en_time":
        hour = int(m[1]) % 12 + (12 if m[2].lower() == "p" else 0)
        return _value(surface, "time", hour * 60.0, s, e, qualifier=q)
    if kind == "noon":
        return _value(surface, "time", 720.0 if surface.lower() in ("정오", "noon") else 0.0, s, e, qualifier=q)
    if kind == "money_symbol":
        currency = {"$": "USD", "€": "EUR", "₩": "KRW", "¥": "JPY"}[m[1]]
        scale = {"thousand": 1e3, "k": 1e3, "million": 1e6, "m": 1e6, "billion": 1e9, "b": 1e9}.get((m[3] or "").lower(), 1.0)
        return _value(surface, f"money:{currency}", parse_number(m[2]) * scale, s, e, qualifier=q)
    if kind == "speed_ko":
        return Value(surface, "speed", parse_number(m[1]), parse_number(m[1]), raw=parse_number(m[1]), unit="km/h", qualifier=q, start=s, end=e)
    if kind == "fraction":
        if m[1]:
            share = parse_number(m[2]) / max(parse_number(m[1]), 1e-9)
        elif m[3]:
            share = _EN_UNITS[m[3].lower()] / (100 if m[4].lower() == "hundred" else _EN_UNITS[m[4].lower()])
        else:
            share = 0.25 if "quarter" in surface.lower() else 0.5
        return Value(surface, "percent", share * 100, share * 100, raw=share * 100, qualifier=q, start=s, end=e)
    if kind == "and_a_half":
        count, unit = (m[1], m[2]) if m[1] else (m[3], m[4])
        number = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "한": 1, "두": 2, "세": 3}.get(count.lower()) or parse_number(count)
        dimension, factor = UNITS[unit.lower()]
        amount = (number + 0.5) * factor
        return Value(surface, dimension, amount, amount, raw=number + 0.5, unit=unit, qualifier=q, start=s, end=e)
    if kind == "half_year":
        word = surface.lower()
        if word in ("상반기", "first half"):
            part = 1.0
        elif word in ("하반기", "second half"):
            part = 2.0
        else:
            part = 10.0 + float(m[1] or m[3] or {"first": 1, "second": 2, "third": 3, "fourth": 4}[m[4].lower()])
        return _value(surface, "part_of_year", part, s, e, qualifier=q)
    if kind == "scaled":
        number = parse_number(m[1]) * _EN_SCALES[m[2].lower()]
        dimension, factor = _unit(m[3]) if m[3] else ("number", 1.0)
        return Value(surface, dimension, number * factor, number * factor, raw=number, unit=(m[3] or "").lower(), qualifier=q, start=s, end=e)
    if kind == "ko_day_word":
        return _value(surface, "duration", _KO_DAY_WORDS[m[1]] * 86400.0, s, e, qualifier=q, soft=m[1] in ("하루", "일주일") or _per(text, e))
    if kind == "range":
        dimension, factor = _unit(m[3])
        low, high = parse_number(m[1]), parse_number(m[2])
        if high <= low:
            return None
        return Value(surface, dimension, low * factor, high * factor, raw=low, unit=m[3], qualifier=q, start=s, end=e)
    if kind == "measure":
        unit = m[2] or m[3]
        dimension, factor = _unit(unit)
        number = parse_number(m[1])
        if dimension == "months" and unit == "년" and number >= 1000:
            return None  # "2016년" is a year (the date pattern); here a bare year with a particle
        soft = number == 1 and (not re.match(r"\d", m[1]) or dimension in ("duration", "months") and _per(text, e))
        return Value(surface, dimension, number * factor, number * factor, raw=number, unit=unit.lower(), soft=soft, qualifier=q, start=s, end=e)
    if kind == "count":
        number = parse_number(m[1])
        return Value(surface, "count", number, number, raw=number, unit=m[2], qualifier=q, start=s, end=e)
    if kind == "ko_native":
        return _native(m, surface, s, e, q)
    if kind == "number":
        written = m[1] or m[2]
        number = parse_number(written)
        if m[1] and re.fullmatch(r"\d{4}", written) and 1800 <= number <= 2199:
            return _value(surface, "date", 0.0, s, e, date=(int(number), None, None), qualifier=q)
        soft = number == 1 and not m[1]  # "one of", "on one charge"
        unit = _attached_word(text, e) if m[1] else ""
        if unit:  # "3정씩", "12병": an unknown counter or unit written onto the number
            return Value(surface + unit, f"count", number, number, raw=number, unit=unit, qualifier=q, start=s, end=e + len(unit))
        return Value(surface, "number", number, number, raw=number, soft=soft, qualifier=q, start=s, end=e)
    return None


_PARTICLE_START = re.compile(r"^(?:이|가|은|는|을|를|에|의|도|만|씩|과|와|으로|로|까지|부터|째|이다|입니|이며|이고|였|이었|이나|나|라|요|년|월|일|시|분|초)")


def _attached_word(text: str, end: int) -> str:
    """The Hangul word written right after a number, when it is not a particle: its unit."""
    word = re.match(r"[가-힣]+", text[end:])
    if not word or _PARTICLE_START.match(word.group(0)):
        return ""
    unit = re.sub(r"(?:씩|이|가|은|는|을|를|에|의|도|만|으로|로|까지|부터|이다|입니다|이며|이고|였다|이었다)$", "", word.group(0))
    return unit if 1 <= len(unit) <= 3 else ""


def _per(text: str, end: int) -> bool:
    """"1년에 50,000톤", "하루에 3회": a span that only says per what."""
    return bool(re.match(r"\s?(?:에|마다|당)(?![가-힣])", text[end : end + 3]))


def _unit(unit: str) -> tuple[str, float]:
    key = unit.lower().strip()
    if key in UNITS:
        return UNITS[key]
    return "count", 1.0  # a Korean counter


def _native(m: re.Match, surface: str, s: int, e: int, qualifier: str) -> Value | None:
    """"열 명", "두 시간", "세 시", "한 달", "스무 개": Korean native numerals with a counter."""
    tens, units, counter = m[1], m[2], m[3]
    if not tens and not units:
        return None
    number = float(_KO_NATIVE_TENS.get(tens or "", 0) + _KO_NATIVE_UNITS.get(units or "", 0))
    soft = number == 1
    if counter == "시":
        return _value(surface, "time", number * 60.0, s, e, ambiguous=True, qualifier=qualifier)
    if counter in UNITS:
        dimension, factor = UNITS[counter]
        if counter == "세":
            return None
        return Value(surface, dimension, number * factor, number * factor, raw=number, unit=counter, soft=soft, qualifier=qualifier, start=s, end=e)
    return Value(surface, "count", number, number, raw=number, unit=counter, soft=soft, qualifier=qualifier, start=s, end=e)


# ---- comparing values ----------------------------------------------------------------------------

def same_value(claim: Value, evidence: Value) -> bool:
    """Whether two values state the same thing after normalisation.

        >>> a, b = extract_values("2주")[0], extract_values("14일")[0]
        >>> same_value(a, b)
        True
        >>> same_value(extract_values("오후 5시")[0], extract_values("17:00")[0])
        True
        >>> same_value(extract_values("600ml")[0], extract_values("0.6L")[0])
        True
    """
    if claim.dimension == "date" or evidence.dimension == "date":
        return claim.dimension == evidence.dimension and _dates_agree(claim.date, evidence.date)
    if claim.dimension == "number" and evidence.dimension != "time":
        return any(_close(claim.low, x) for x in (evidence.low, evidence.raw) if x is not None) and claim.high == claim.low
    if evidence.dimension == "number" and claim.raw is not None and claim.dimension not in ("time",):
        return _close(claim.raw, evidence.low)  # "12세 미만" against "under 12": the evidence has no unit
    if {claim.dimension, evidence.dimension} == {"percent", "ratio"}:
        percent, ratio = (claim, evidence) if claim.dimension == "percent" else (evidence, claim)
        return _close(percent.low, (ratio.low - 1) * 100) or _close(percent.low, ratio.low * 100)
    if not _comparable(claim, evidence):
        return False
    if claim.dimension == "time" and (claim.ambiguous or evidence.ambiguous):
        return _close(claim.low % 720, evidence.low % 720)
    return _close(claim.low, evidence.low) and _close(claim.high, evidence.high)


def _comparable(claim: Value, evidence: Value) -> bool:
    """Same dimension; counts with different counters (명 vs 대) are different things."""
    groups = {claim.dimension, evidence.dimension}
    if groups <= {"count", "number"}:
        return not (claim.dimension == evidence.dimension == "count" and claim.unit != evidence.unit)
    return claim.dimension == evidence.dimension


def _dates_agree(a, b) -> bool:
    """Every field the claim states is stated alike in the evidence (a claim may say less)."""
    if a is None or b is None:
        return False
    return all(x is None or x == y for x, y in zip(a, b))


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=2e-3, abs_tol=1e-9)


# ---- text analysis (Kiwi) -------------------------------------------------------------------------

_HANGUL = re.compile(r"[\uac00-\ud7a3]")


def is_korean(text: str) -> bool:
    hangul = len(_HANGUL.findall(text))
    latin = sum(ch.isascii() and ch.isalpha() for ch in text)
    return hangul > latin


def _tokens(text: str):
    from indexes.morphemes import _get_kiwi

    return _get_kiwi().tokenize(text)


# Connective endings after which a new clause starts ("A는 10시에 열고 B는 ...").
_KO_CLAUSE_ENDINGS = frozenset("고 며 으며 지만 는데 은데 ᆫ데 으나 나 면서 으면서 는바 거나 다가 ᆯ수록 을수록 수록".split())
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
        for token in _tokens(sentence):
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


def _inside_number(text: str, index: int) -> bool:
    """A comma before a number ("1,284", "June 28, 2014") does not split a clause."""
    return text[index] == "," and index > 0 and text[index - 1].isdigit() and bool(re.match(r",\s?\d", text[index:]))


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
        tokens = _tokens(masked)
        for i, token in enumerate(tokens):
            if token.tag == "SL" and i + 1 < len(tokens) and tokens[i + 1].start == token.start + token.len and tokens[i + 1].tag.startswith("NN"):
                found.append(token.form + tokens[i + 1].form)  # "D홀", "A동"
            elif token.tag == "NNP" and len(token.form) > 1 and korean_names:
                found.append(token.form)
    found = [f for f in found if not any(f != other and f in other for other in found)]
    return list(dict.fromkeys(found))


_CALENDAR_WORDS = frozenset([*MONTHS, "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "mondays",
                             "tuesdays", "wednesdays", "thursdays", "fridays", "saturdays", "sundays"])


def _normal(text: str) -> str:
    return re.sub(r"[\s\-_.·]", "", text.lower())


def entity_in_evidence(entity: str, evidence: str) -> bool:
    """Case-, space- and hyphen-insensitive containment; an English plural still matches."""
    normal_entity, normal_evidence = _normal(entity), _normal(evidence)
    return normal_entity in normal_evidence or (normal_entity.endswith("s") and normal_entity[:-1] in normal_evidence)


# Negation. Korean from Kiwi tags (안/못 adverbs, 않 auxiliary, 없 adjective, 아니 copula, 불-
# prefix on 가능/허, 금지/불가 nouns, 말다 auxiliary); English by word.
_KO_NEGATION = {("안", "MAG"), ("못", "MAG"), ("않", "VX"), ("못하", "VX"), ("없", "VA"), ("아니", "VCN"),
                ("없이", "MAG"), ("아니하", "VX"), ("금지", "NNG"), ("불가", "NNG"), ("불가", "XR"), ("불가능", "NNG"), ("말", "VX"), ("불허", "NNG")}
_EN_NEGATION = re.compile(
    r"\b(?:not|no|never|cannot|none|nothing|neither|nor|without|prohibited|forbidden|banned|unable|impossible|unavailable)\b|n't\b",
    re.IGNORECASE,
)


# Negative words that mean something positive ("가리지 않고" = regardless) are not negations.
_NEGATIVE_IDIOMS = re.compile(r"가리지\s?않|상관\s?없|관계\s?없|빠짐\s?없|틀림\s?없|어김\s?없|끊임\s?없|no matter|without exception|not only", re.IGNORECASE)
# "Only residents may" says "others may not": a restriction can stand for a negation.
_RESTRICTIVE = re.compile(r"(?<![가-힣])만(?![가-힣])|[가-힣]만\s|에게만|에서만|\bonly\b|전용|뿐", re.IGNORECASE)


def negation_count(text: str) -> int:
    """How many negations a clause has (parity matters: "않으면 안 된다" is a positive obligation).

        >>> negation_count("환불은 가능하지 않다."), negation_count("환불은 불가능하다."), negation_count("환불할 수 있다.")
        (1, 1, 0)
        >>> negation_count("Refunds are not possible."), negation_count("You cannot park here.")
        (1, 1)
    """
    text = _NEGATIVE_IDIOMS.sub(" ", text)
    count = len(_EN_NEGATION.findall(text))
    if _HANGUL.search(text):
        tokens = _tokens(text)
        for i, token in enumerate(tokens):
            base = token.tag.split("-")[0]
            modifier = i + 2 < len(tokens) and tokens[i + 1].tag == "ETM" and tokens[i + 2].tag.startswith("NN") and tokens[i + 2].form not in ("수", "것", "때")
            if (token.form, base) in _KO_NEGATION and not modifier:  # "아닌 사람" negates a noun, not the clause
                count += 1
            elif token.form == "불" and base == "XPN" and i + 1 < len(tokens) and tokens[i + 1].form in ("가능", "허", "허용", "가"):
                count += 1
    return count


# Direction: words that say something went up or came later vs down or earlier.
_UP_WORDS = re.compile(
    r"늘|증가|상승|오르|올랐|올라|인상|확대|성장|많|높|초과|넘|이상|급증|개선"
    r"|\b(?:increase[sd]?|increasing|rise|rises|rose|risen|grow|grows|grew|grown|growth|higher|more|above|exceed\w*|after|later|up|gain\w*|raise[sd]?|expand\w*|over)\b",
    re.IGNORECASE,
)
_DOWN_WORDS = re.compile(
    r"줄|감소|하락|내리|내렸|인하|축소|적(?:다|은|게|었|습)|낮|미만|이하|급감|악화|떨어"
    r"|\b(?:decrease[sd]?|decreasing|fall|falls|fell|fallen|drop\w*|decline\w*|lower|less|fewer|below|under|before|earlier|down|reduce[sd]?|shrink\w*|shrank|cut)\b",
    re.IGNORECASE,
)


_KO_POSITION = {("전", "NNG"): "down", ("이전", "NNG"): "down", ("후", "NNG"): "up", ("뒤", "NNG"): "up", ("이후", "NNG"): "up",
                ("더", "MAG"): "up", ("덜", "MAG"): "down", ("짧", "VA"): "down", ("길", "VA"): "up"}


def directions_in(text: str) -> set[str]:
    """{"up"}, {"down"}, both or neither.

        >>> sorted(directions_in("매출이 10% 증가했다.")), sorted(directions_in("Sales fell by 10%."))
        (['up'], ['down'])
        >>> sorted(directions_in("입사 전에 이수해야 한다."))
        ['down']
    """
    found = set()
    if _UP_WORDS.search(text):
        found.add("up")
    if _DOWN_WORDS.search(text):
        found.add("down")
    if _HANGUL.search(text):
        for token in _tokens(text):
            direction = _KO_POSITION.get((token.form, token.tag.split("-")[0]))
            if direction:
                found.add(direction)
    return found


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
    for term in kiwi_terms(text):
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
    for sentence in split_sentences(text) or [text]:
        for clause in split_clauses(sentence):
            analysis.clauses.append(_clause(clause))
    return analysis


def _clause(text: str) -> Clause:
    values = extract_values(text)
    return Clause(text, values, content_terms(text), _heads(text), negation_count(text), directions_in(text))


def _heads(text: str) -> list[tuple[int, str]]:
    """Entities and nouns with their offsets: a value's head is the nearest one before it."""
    heads = [(m.start(), re.sub(r"\s+", "", m.group(0))) for m in ENTITY_CODE.finditer(text)]
    heads += [(m.start(), m.group(1)) for m in re.finditer(r"(?<![\w-])([A-Z][a-zA-Z]+(?:[ -](?:[A-Z][a-zA-Z]*|\d+\b))*)", text)
              if m.group(1).lower() not in _EN_STOP]
    if _HANGUL.search(text):
        heads += [(t.start, t.form) for t in _tokens(text) if t.tag in ("NNP",)]
    return sorted(heads)


def head_of(value: Value, clause: Clause) -> str | None:
    """The nearest entity (or count) before the value in its clause ("2호점은 오전 11시에" -> 2호점)."""
    # A count before it can be the head too: "60대 이상은 2.3시간" (the group the time belongs to).
    counts = [(v.start, v.text) for v in clause.values if v.dimension == "count" != value.dimension and v.end <= value.start]
    before = [name for offset, name in sorted(clause.heads + counts) if offset < value.start]
    return before[-1] if before else None


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
        if value.soft:
            continue
        candidates = [(v, c) for v, c in evidence.values if _comparable_kind(value, v) and (not v.soft or same_value(value, v))]
        equal = [(v, c) for v, c in candidates if same_value(value, v)]
        if not equal:
            if not candidates:
                return _fail("value", korean, value.describe())
            best = max(candidates, key=lambda vc: _alignment(value, clause, *vc))
            return _fail("value", korean, value.describe(), best[0].describe())
        # Several values of this kind in the passage: the one attached to the claim's head must be it.
        if len(candidates) > len(equal):
            best = max(candidates, key=lambda vc: _alignment(value, clause, *vc))
            best_equal = max(_alignment(value, clause, *vc) for vc in equal)
            if not same_value(value, best[0]) and _alignment(value, clause, *best) >= best_equal + SWAP_MARGIN:
                head = head_of(value, clause) or _topic(clause)
                return _fail("swap", korean, value.describe(), best[0].describe(), head=head)
        periods = {v.per for v, _ in equal}
        if value.per and "" not in periods and value.per not in periods:
            return _fail("value", korean, value.describe() + f" /{value.per}", next(v for v, _ in equal).describe() + f" /{next(iter(periods))}")
        direction = _qualifier_conflict(value, [v for v, _ in equal])
        if direction:
            return _fail("direction", korean, *direction)
    return PASS


def _topic(clause: Clause) -> str:
    """The clause's first words, naming what a swapped value belongs to when no entity does."""
    return " ".join(clause.text.split()[:2])


def _comparable_kind(claim: Value, evidence: Value) -> bool:
    if evidence.dimension == "number" and claim.dimension not in ("date", "time"):
        return True
    if {claim.dimension, evidence.dimension} == {"percent", "ratio"}:
        return True
    if claim.dimension == "number":
        return evidence.dimension not in ("date", "time")
    if claim.dimension == "date":
        return evidence.dimension == "date"
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


def _qualifier_conflict(value: Value, equal: list[Value]) -> tuple[str, str] | None:
    """"10명 이상" against "10명 이하": the same number bounded the other way."""
    if not value.qualifier:
        return None
    qualified = [v for v in equal if v.qualifier]
    if qualified and all(v.qualifier != value.qualifier for v in qualified):
        return (value.describe() + (" ↑" if value.qualifier == "up" else " ↓"), qualified[0].describe() + (" ↑" if qualified[0].qualifier == "up" else " ↓"))
    return None


def _check_entities(clause: Clause, evidence: Analysis, korean: bool, crossing: bool) -> ClaimCheck:
    for entity in entities_in(clause.text, korean_names=not crossing):
        if crossing and _HANGUL.search(entity):
            continue  # a Korean name cannot be looked up in English evidence
        if not entity_in_evidence(entity, evidence.text):
            return _fail("entity", korean, entity)
        swapped = _entity_swap(entity, clause, evidence)
        if swapped:
            return _fail("entity_swap", korean, entity, _predicate(swapped.text, 3))
    return PASS


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
    if best in holding or not holding:
        return None
    # The clause must itself name someone else (another entity in the same role).
    if not [e for e in entities_in(best.text) if not entity_in_evidence(e, entity)]:
        return None
    return best if share(best) >= max(share(c) for c in holding) + SWAP_MARGIN else None


# Words that flip a claim without a negation word: "closed" for "open", 금지 for 허용.
ANTONYMS = [
    ("open", "closed"), ("opens", "closes"), ("allowed", "prohibited"), ("permitted", "prohibited"), ("allowed", "banned"),
    ("required", "optional"), ("mandatory", "optional"), ("include", "exclude"), ("included", "excluded"),
    ("free", "paid"), ("available", "unavailable"), ("accept", "reject"), ("accepted", "rejected"),
    ("열", "닫"), ("허용", "금지"), ("허용", "불허"), ("필수", "선택"), ("포함", "제외"), ("무료", "유료"),
    ("가능", "불가능"), ("찬성", "반대"), ("승인", "거부"), ("합격", "불합격"), ("개방", "폐쇄"), ("영업", "휴업"),
]
# Opposite ends of a scale or compass: a direction change without an up/down verb.
DIRECTION_ANTONYMS = [
    ("최고", "최저"), ("최대", "최소"), ("최대화", "최소화"), ("최초", "최후"), ("상승", "하락"), ("증가", "감소"), ("강화", "약화"),
    ("확대", "축소"), ("동쪽", "서쪽"), ("남쪽", "북쪽"), ("동부", "서부"), ("남부", "북부"), ("상류", "하류"), ("선배", "후배"),
    ("east", "west"), ("north", "south"), ("eastern", "western"), ("northern", "southern"), ("older", "younger"),
    ("oldest", "youngest"), ("largest", "smallest"), ("biggest", "smallest"), ("highest", "lowest"), ("first", "last"),
    ("earliest", "latest"), ("larger", "smaller"), ("longest", "shortest"), ("maximum", "minimum"), ("upper", "lower"),
]
_ANTONYM_OF = {a: b for a, b in ANTONYMS} | {b: a for a, b in ANTONYMS}
_DIRECTION_ANTONYM_OF = {a: b for a, b in DIRECTION_ANTONYMS} | {b: a for a, b in DIRECTION_ANTONYMS}


def _words(text: str) -> set[str]:
    from indexes.morphemes import kiwi_terms

    return set(kiwi_terms(text)) | set(re.findall(r"[a-z]+", text.lower()))


def _antonym_conflict(claim: str, evidence: str, antonyms: dict[str, str]) -> tuple[str, str] | None:
    claim_words, evidence_words = _words(claim), _words(evidence)
    for word in claim_words:
        other = antonyms.get(word)
        if other and other in evidence_words and word not in evidence_words:
            return word, other
    return None


def _check_polarity(clause: Clause, evidence: Analysis, korean: bool, crossing: bool) -> ClaimCheck:
    if not clause.terms:
        return PASS
    if crossing:
        # Across languages no words align; a one-clause claim against one-clause evidence still can.
        if len(evidence.clauses) != 1:
            return PASS
        aligned = evidence.clauses[0]
    else:
        topic = {t for t in clause.terms if not directions_in(t)} or clause.terms  # "기압도 높아" aligns with "기압은 낮아"
        aligned = max(evidence.clauses, key=lambda c: len(topic & c.terms))
        if len(topic & aligned.terms) / len(topic) < CLAUSE_ALIGNMENT:
            return PASS
    restricted = _RESTRICTIVE.search(clause.text) or _RESTRICTIVE.search(aligned.text)
    if clause.negations % 2 != aligned.negations % 2 and not restricted:
        return _fail("negation", korean, _predicate(clause.text), _predicate(aligned.text))
    flipped = None if crossing or restricted else _antonym_conflict(clause.text, aligned.text, _ANTONYM_OF)
    if flipped:
        return _fail("negation", korean, *flipped)
    turned = None if crossing else _antonym_conflict(clause.text, aligned.text, _DIRECTION_ANTONYM_OF)
    if turned:
        return _fail("direction", korean, *turned)
    if clause.directions and aligned.directions and not clause.directions & aligned.directions:
        return _fail("direction", korean, _predicate(clause.text), _predicate(aligned.text))
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
