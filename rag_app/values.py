"""Values a sentence states, read and normalised: numbers, units, dates, times, durations, money,
percentages, counts (digits, Korean multipliers and native numerals, English number words), ranges.

    >>> [(v.dimension, v.low) for v in extract_values("검수에는 2주, 운행은 3시간 걸린다.")]
    [('duration', 1209600.0), ('duration', 10800.0)]
    >>> same_value(extract_values("1시간 반")[0], extract_values("90분")[0])
    True

Part of the structured claim check (rag_app/claims.py), which compares a claim's values with the
evidence's.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace

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
_units("volume", 5e-3, "tsp", "teaspoon", "teaspoons", "작은술", "티스푼")
_units("volume", 15e-3, "tbsp", "tablespoon", "tablespoons", "큰술", "테이블스푼")
_units("volume", 0.24, "cup", "cups", "컵")
_units("length", 0.3048, "ft", "feet", "foot", "피트")
_units("length", 0.0254, "in", "inch", "inches", "인치")
_units("volume", 3.785411784, "gal", "gallon", "gallons", "갤런")
_units("mass", 1e-9, "mcg", "µg", "μg", "마이크로그램", "microgram", "micrograms")
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
# Counters that count the same thing: "하루 3회" = "하루 세 번", "2정" = "두 알".
COUNTER_CLASSES = {c: group[0] for group in (("회", "번", "차례", "times"), ("정", "알"), ("명", "사람", "인"), ("곳", "군데", "개소"), ("살", "세"))
                   for c in group}
_ALL_UNITS = sorted(UNITS, key=len, reverse=True)
_EN_UNIT_RE = "|".join(re.escape(u) for u in _ALL_UNITS if re.fullmatch(r"[a-z%°²/ .\-]+", u))
_KO_UNIT_RE = "|".join(re.escape(u) for u in _ALL_UNITS if not re.fullmatch(r"[a-z%°²/ .\-]+", u))
_COUNTER_RE = "|".join(KO_COUNTERS)
# What may follow a Korean unit: a particle or ending, a space, punctuation, the end.
_KO_AFTER = r"(?=$|[\s\d\W]|꼴|안팎|내외|남짓|이|가|은|는|을|를|에|의|도|만|씩|과|와|으로|로|까지|부터|째|간|동안|후|뒤|전|마다|이내|내|안|정도|가량|쯤|여|이상|이하|미만|초과|밖에|이다|입니|이며|이고|이지|짜리|당|보다|에서|인|이었|였|이나|나|라|요|대|다(?![가-힣])|야|로서)"

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
    qualifier: str = ""  # a bound: "up" (이상, at least...) or "down" (이하, 이내...); an offset: "after" (3일 후) or "before" (30분 전)
    per: str = ""  # "month" for "월 9,900원" / "$10 per month"
    approx: bool = False  # "약 3만 명", "about 33%", "180만 원꼴": equal within the rounding of the written number
    start: int = 0
    end: int = 0

    def describe(self) -> str:
        return self.text.strip()


def _value(text: str, dimension: str, amount: float, start: int, end: int, **extra) -> Value:
    return Value(text, dimension, amount, amount, start=start, end=end, **extra)


# Bound words after a value: "7일 이내", "10명 이상", "3일 전", "at least", "more than".
_QUALIFIER_AFTER = re.compile(
    r"^\s*(?:[a-z]+\s|[을를이가은는]\s?)?(이상|초과|넘게|넘는|넘지|이후|후|뒤|이하|이내|미만|까지|이전|전|앞서|안에|내|or more|or less|or fewer|or over|or older|or younger|or under|or below|"
    r"and over|and above|and up|and older|and under|and below|and younger|ago|later|earlier|before|after)", re.IGNORECASE)
_QUALIFIER_BEFORE = re.compile(
    r"(no earlier than|no later than|not later than|no more than|no less than|no fewer than|not more than|not exceed(?:ing)?|at least|more than|over|above|exceeding|after|at most|up to|less than|fewer than|under|below|within|before|"
    r"최소|최대|최저|최고)\s*$", re.IGNORECASE)
_UP = frozenset(["이상", "초과", "넘게", "넘는", "or more", "or over", "or older", "and over", "and above", "and up", "and older", "at least", "more than",
                 "over", "above", "exceeding", "no less than", "no fewer than", "no earlier than", "최소", "최저"])
_DOWN = frozenset(["이하", "이내", "미만", "까지", "안에", "내", "넘지", "or less", "or fewer", "or younger", "or under", "or below", "and under", "and below",
                   "and younger", "at most", "up to", "no more than", "not more than", "not exceed", "not exceeding", "less than", "fewer than", "under", "below",
                   "within", "no later than", "not later than", "최대", "최고"])
# Offsets in time ("3일 후", "30 minutes before"): for a time or date they bound it ("before 5 p.m.").
_AFTER = frozenset(["이후", "후", "뒤", "later", "after"])
_BEFORE = frozenset(["이전", "전", "앞서", "ago", "earlier", "before"])


_PER_BEFORE = re.compile(
    r"(?<![가-힣])(?:(1년|한 해|1개월|한 달|1달|하루|1일|일주일|1주일|한 주|1주|1시간|한 시간)\s?(?:에|마다|당|기준)|(매월|월간|월|매년|연간|연|매일|하루|일|매주|주|시간당)(?![가-힣]))\s?(?:[가-힣]+\s)?$")
_PER_AFTER = re.compile(
    r"^(?:\s?[a-z]+){0,3}?\s?(?:/\s?(월|년|일|주|시간|month|year|day|week|hour|mo|yr|h)\b|(?:per|a|an|each|every)\s(month|year|day|week|hour)\b|(monthly|annually|yearly|daily|weekly|hourly)\b)",
    re.IGNORECASE)
_PERIODS = {"매월": "month", "월간": "month", "월": "month", "month": "month", "mo": "month", "monthly": "month",
            "매년": "year", "연간": "year", "연": "year", "년": "year", "year": "year", "yr": "year", "annually": "year", "yearly": "year",
            "매일": "day", "하루": "day", "일": "day", "day": "day", "daily": "day",
            "매주": "week", "주": "week", "week": "week", "weekly": "week", "시간당": "hour", "시간": "hour", "hour": "hour", "h": "hour", "hourly": "hour",
            "1년": "year", "한 해": "year", "1개월": "month", "한 달": "month", "1달": "month", "1일": "day", "일주일": "week", "1주일": "week",
            "한 주": "week", "1주": "week", "1시간": "hour", "한 시간": "hour"}
# How many of one period make another, for rates stated per different periods (월 15만 원 = 연 180만 원).
PERIOD_FACTORS = {("month", "year"): 12.0, ("week", "year"): 52.0, ("day", "week"): 7.0, ("day", "year"): 365.0, ("hour", "day"): 24.0}


def per_period(text: str, start: int, end: int) -> str:
    """The period a rate is per: "월 9,900원" -> "month", "4.5% a year" -> "year", else ""."""
    before = _PER_BEFORE.search(text[max(0, start - 14) : start])
    if before and (start - len(before.group(0)) == 0 or not text[start - len(before.group(0)) - 1].isalnum()):
        return _PERIODS[before.group(1) or before.group(2)]
    after = _PER_AFTER.match(text[end : end + 30])
    if after:
        return _PERIODS.get(next(g for g in after.groups() if g).lower(), "")
    return ""


def _qualifier(text: str, start: int, end: int) -> str:
    """"up"/"down" for a bound (이상, at least / 이하, up to), "after"/"before" for an offset (3일 후 /
    30분 전); a bound before the value wins over an offset after it ("최소 30일 앞서")."""
    after = _QUALIFIER_AFTER.match(text[end : end + 16])
    before = _QUALIFIER_BEFORE.search(text[max(0, start - 20) : start])
    words = [before.group(1).lower() if before else "", after.group(1).lower() if after else ""]
    for word in words:
        if word in _UP or word in _DOWN:
            return "up" if word in _UP else "down"
    for word in words[::-1]:
        if word in _AFTER or word in _BEFORE:
            return "after" if word in _AFTER else "before"
    return ""


def bound_of(value: "Value") -> tuple[str, str]:
    """(kind, direction) of a value's qualifier: ("bound", "up"), ("offset", "before")...; a time
    or date offset is a bound ("before 5 p.m." = by 5 p.m.)."""
    q = value.qualifier
    if q in ("after", "before"):
        if value.dimension in ("time", "date"):
            return ("bound", "up" if q == "after" else "down")
        return ("offset", q)
    return ("bound", q) if q else ("", "")


# Things that look like numbers but name something: model codes, numbered branches and lines.
ENTITY_CODE = re.compile(
    r"(?<![A-Za-z\d-])(?:[A-Za-z][A-Za-z]*-\d+[A-Za-z\d]*|[A-Z]{1,5}\d+[A-Za-z\d]*|[A-Za-z]+\d+[A-Z][A-Za-z\d]*)(?![A-Za-z\d-])"
    r"|(?:제\s?)?\d+\s?(?:호점|호선|호기|호실|호차|호관|번\s?출구|번\s?게이트|캠퍼스)"
    r"|제\s?\d+\s?(?:조|항|장|절|회|차|기|대)"
)

_PATTERNS: list[tuple[str, re.Pattern]] = [
    ("iso_date", re.compile(r"(?<!\d)(\d{4})[-./]\s?(\d{1,2})[-./]\s?(\d{1,2})\.?(?!\d)")),
    ("ko_date", re.compile(r"(?<!\d)(?:(\d{4})\s?년)?\s?(?:(\d{1,2})\s?월)(?:\s?(\d{1,2})\s?일)?|(?<!\d)(\d{4})\s?년(?!\s?(?:간|동안))")),
    ("en_date_range", re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s?(?:to|–|-|and|until|through)\s?(\d{{1,2}})(?:st|nd|rd|th)?\s+({_MONTH_RE})\.?(?:,?\s+(\d{{4}}))?\b"
                                 rf"|\b({_MONTH_RE})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\s?(?:to|–|-|until|through)\s?(\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(\d{{4}}))?\b", re.IGNORECASE)),
    ("en_date", re.compile(rf"\b(?:({_MONTH_RE})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(\d{{4}}))?|(\d{{1,2}})(?:st|nd|rd|th)?\s+({_MONTH_RE})\.?(?:,?\s+(\d{{4}}))?|({_MONTH_RE})\.?\s+(\d{{4}}))\b", re.IGNORECASE)),
    ("ko_time", re.compile(r"(오전|오후|낮|밤|새벽|저녁|아침)?\s?(\d{1,2})\s?시(?!간|대|점|작|장|즌|험|설|민|청|행|기|스템|\s?간)(?:\s?(\d{1,2})\s?분|\s?(반))?")),
    ("weekday", re.compile(r"(?<![가-힣])([월화수목금토일])요일|\b(mon|tues|wednes|thurs|fri|satur|sun)days?\b|(주말|평일)|\b(weekends?|weekdays)\b", re.IGNORECASE)),
    ("few", re.compile(r"(?<![가-힣])(한두|두세|서너|두어|너덧|대여섯)\s?([가-힣]{1,3}?)(?=을|를|이|가|은|는|의|도|만|에|씩|\s|$|[.,])")),
    ("hms", re.compile(r"(?<![\d:])(\d{1,2}):(\d{2}):(\d{2})(?![\d:])")),
    ("clock", re.compile(r"(?<![\d:])(\d{1,2}):(\d{2})(?!\d)(?:\s?([ap])\.?\s?m\.?)?", re.IGNORECASE)),
    ("en_time", re.compile(r"(?<![\d:])(\d{1,2})\s?([ap])\.?\s?m\b\.?", re.IGNORECASE)),
    ("noon", re.compile(r"정오|자정|\bnoon\b|\bmidnight\b", re.IGNORECASE)),
    ("money_symbol", re.compile(rf"([$€₩¥])\s?({_NUM})(?:\s?(million|billion|thousand|[kmb])\b)?", re.IGNORECASE)),
    ("speed_ko", re.compile(rf"시속\s?({_NUM})\s?(km|킬로미터|킬로|㎞)")),
    ("fraction", re.compile(rf"({_NUM})\s?분의\s?({_NUM})|\b(one|two|three|four|five|six|seven|eight|nine|ten)\s(?:in|out of)\s(two|three|four|five|six|seven|eight|nine|ten|hundred)\b|절반|\bhalf of\b|\ba quarter of\b", re.IGNORECASE)),
    ("part_of_unit", re.compile(r"\b(?:(a|an|one|two|three)\s(quarter|half|third)s?\s(?:of\s)?(?:an?\s)?|half\san?\s)(hour|day|year|month|minute)\b", re.IGNORECASE)),
    ("scientific", re.compile(rf"({_NUM})\s?[×x*]\s?10\s?\^\s?(\d+)(?:\s?({_EN_UNIT_RE})(?![a-z]))?", re.IGNORECASE)),
    ("times_per", re.compile(rf"\b(once|twice|thrice|(?:{_NUM}|{_EN_NUMBER})\s?times)\b(?=\s(?:a|an|per|each|every|daily|weekly|monthly|yearly|annually|in)\b)", re.IGNORECASE)),
    ("day_word_range", re.compile("(?<![가-힣])(" + "|".join(sorted(_KO_DAY_WORDS, key=len, reverse=True)) + r")\s?(?:에서|~|-|부터|내지)\s?("
                                  + "|".join(sorted(_KO_DAY_WORDS, key=len, reverse=True)) + r")")),
    ("unit_range", re.compile(rf"(?:\bbetween\s|\bfrom\s)?({_KO_AMOUNT}|{_EN_NUMBER})\s?({_EN_UNIT_RE}(?![a-z])|{_KO_UNIT_RE}|{_COUNTER_RE})\s?(?:부터|에서|~|〜|–|-|to|and|until)\s?"
                              rf"({_KO_AMOUNT}|{_EN_NUMBER})\s?({_EN_UNIT_RE}(?![a-z])|{_KO_UNIT_RE}|{_COUNTER_RE})", re.IGNORECASE)),
    ("and_a_half", re.compile(rf"(?:\b(a|an|one|two|three|\d+)\s(year|hour|month)s?\sand\sa\shalf\b)|(?:({_NUM}|한|두|세)\s?(년|시간|달|개월|분)\s?반)", re.IGNORECASE)),
    ("word_fraction", re.compile(r"\b(a|an|one|two|three)\s(third|quarter|half|fifth|tenth)s?\b(?!\s(?:of\s)?(?:an?\s)?(?:hour|day|year|month|minute))", re.IGNORECASE)),
    ("half_year", re.compile(r"상반기|하반기|([1-4])\s?분기|\b(first|second) half\b|\bQ([1-4])\b|\b(first|second|third|fourth) quarter\b", re.IGNORECASE)),
    ("scaled", re.compile(rf"(?<![\w.])({_NUM})\s?(thousand|million|billion)\b(?:\s?({_EN_UNIT_RE})(?![a-z]))?", re.IGNORECASE)),
    ("ko_day_word", re.compile("(?<![가-힣])(" + "|".join(sorted(_KO_DAY_WORDS, key=len, reverse=True)) + r")" + _KO_AFTER)),
    ("range", re.compile(rf"(?:\bbetween\s|\bfrom\s)?(?<![\w.])({_KO_AMOUNT}|{_EN_NUMBER})\s?(?:~|〜|–|-|에서|to|and|or)\s?({_KO_AMOUNT}|{_EN_NUMBER})\s?(?:(?:business|working|calendar|work)\s)?(?:({_EN_UNIT_RE})(?![a-z])|({_KO_UNIT_RE}|{_COUNTER_RE}))", re.IGNORECASE)),
    ("measure", re.compile(rf"({_KO_AMOUNT}|{_EN_NUMBER})[\s-]?(?:({_EN_UNIT_RE})(?![a-z])|({_KO_UNIT_RE}){_KO_AFTER})", re.IGNORECASE)),
    ("count", re.compile(rf"({_KO_AMOUNT})\s?({_COUNTER_RE}){_KO_AFTER}")),
    ("ko_native", re.compile(
        r"(?<![가-힣])(?:(열|스물|스무|서른|마흔|쉰|예순|일흔|여든|아흔)\s?)?(하나|한|둘|두|셋|세|석|서|넷|네|넉|너|다섯|닷|여섯|엿|일곱|여덟|아홉)?\s?"
        rf"(시간|시|{_COUNTER_RE}|달|해|주|살|배|개월){_KO_AFTER}")),
    ("ko_native_noun", re.compile(r"(?<![가-힣])(한|두|세|네|다섯|여섯|일곱|여덟|아홉|열|스무)\s((?!수|것|때|적|줄|데|바|뿐|만큼|번째)[가-힣]{1,2}?)(?=을|를|이|가|은|는|의|도|만|에|씩|과|와|까지|부터|으로|로|\s|$|[.,])")),
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
            values.extend(value if isinstance(value, list) else [value])
            taken.append((start, end))
    values.sort(key=lambda v: v.start)
    values = _inherit_years(_merge_durations(values, text))
    return [_with_approx(_with_period(v, text), text) for v in values]


_DURATION_JOIN = re.compile(r"^\s*(?:,|and|와|과)?\s*(?:and\s)?$", re.IGNORECASE)


def _merge_durations(values: list[Value], text: str) -> list[Value]:
    """"2시간 8분" = 128분, "2 hours, 1 minute and 9 seconds": adjacent durations, larger unit first, are one."""
    merged: list[Value] = []
    factor = 0.0  # the unit of the last part merged (seconds per unit)
    for value in values:
        last = merged[-1] if merged else None
        unit = value.low / value.raw if value.raw else 0.0
        if (last is not None and last.dimension == value.dimension == "duration" and last.low == last.high and value.low == value.high
                and 0 < unit < factor and _DURATION_JOIN.match(text[last.end : value.start])):
            total = last.low + value.low
            merged[-1] = replace(last, text=text[last.start : value.end], low=total, high=total, raw=total, unit="s", end=value.end)
        else:
            merged.append(value)
        factor = unit
    return merged


def _inherit_years(values: list[Value]) -> list[Value]:
    """"2024년 7월 1일부터 7월 15일까지": a date without a year has the year of the date before it."""
    out, year = [], None
    for value in values:
        if value.dimension == "date" and value.date:
            if value.date[0] is not None:
                year = value.date[0]
            elif year is not None and value.date[1] is not None:
                value = replace(value, date=(year, *value.date[1:]))
        out.append(value)
    return out


_APPROX_BEFORE = re.compile(r"(?:약|대략|거의|얼추|about|around|approximately|roughly|nearly|almost|some|approx\.?)\s*$", re.IGNORECASE)
_APPROX_AFTER = re.compile(r"^\s*(?:정도|가량|쯤|꼴|안팎|내외|남짓|여|or so)", re.IGNORECASE)


def _with_approx(value: Value, text: str) -> Value:
    if _APPROX_BEFORE.search(text[max(0, value.start - 14) : value.start]) or _APPROX_AFTER.match(text[value.end : value.end + 6]):
        return replace(value, approx=True)
    return value


def _with_period(value: Value, text: str) -> Value:
    if value.dimension.startswith(("money", "percent", "count", "number", "volume", "mass", "energy", "duration", "data")):
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
        unit = m[3] or m[4]
        dimension, factor = _unit(unit)
        low, high = parse_number(m[1]), parse_number(m[2])
        if high <= low:
            return None
        return Value(surface, dimension, low * factor, high * factor, raw=low, unit=unit, qualifier=q, start=s, end=e)
    if kind == "unit_range":
        (d1, f1), (d2, f2) = _unit(m[2]), _unit(m[4])
        low, high = parse_number(m[1]) * f1, parse_number(m[3]) * f2
        if d1 != d2 or high <= low or (d1 == "count" and m[2] != m[4]):
            return None
        return Value(surface, d1, low, high, raw=parse_number(m[1]), unit=m[2], qualifier=q, start=s, end=e)
    if kind == "day_word_range":
        low, high = _KO_DAY_WORDS[m[1]] * 86400.0, _KO_DAY_WORDS[m[2]] * 86400.0
        return None if high <= low else Value(surface, "duration", low, high, raw=low / 86400.0, unit="일", qualifier=q, start=s, end=e)
    if kind == "en_date_range":
        if m[1]:
            year, month, first, last = m[4], MONTHS[m[3].lower()], int(m[1]), int(m[2])
        else:
            year, month, first, last = m[8], MONTHS[m[5].lower()], int(m[6]), int(m[7])
        year = int(year) if year else None
        if not (1 <= first < last <= 31):
            return None
        middle = s + len(surface) // 2
        return [_value(surface, "date", 0.0, s, middle, date=(year, month, first)), _value(surface, "date", 0.0, middle, e, date=(year, month, last))]
    if kind == "weekday":
        span = m[3] or (m[4] or "").lower()
        if span:  # 주말 = Saturday..Sunday, 평일 = Monday..Friday
            low, high = (5.0, 6.0) if span in ("주말", "weekend", "weekends") else (0.0, 4.0)
            return Value(surface, "weekday", low, high, qualifier=q, start=s, end=e)
        day = "월화수목금토일".index(m[1]) if m[1] else ["mon", "tues", "wednes", "thurs", "fri", "satur", "sun"].index(m[2].lower())
        return _value(surface, "weekday", float(day), s, e, qualifier=q)
    if kind == "few":
        low, high = {"한두": (1, 2), "두세": (2, 3), "서너": (3, 4), "두어": (2, 2), "너덧": (4, 5), "대여섯": (5, 6)}[m[1]]
        return Value(surface, "count", float(low), float(high), raw=float(low), unit=m[2], approx=True, qualifier=q, start=s, end=e)
    if kind == "hms":
        seconds = int(m[1]) * 3600.0 + int(m[2]) * 60.0 + int(m[3])
        return Value(surface, "duration", seconds, seconds, raw=seconds, unit="s", qualifier=q, start=s, end=e)
    if kind == "part_of_unit":
        share = {"quarter": 0.25, "half": 0.5, "third": 1 / 3}.get((m[2] or "half").lower(), 0.5)
        count = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3}.get((m[1] or "a").lower(), 1)
        dimension, factor = UNITS[m[3].lower()]
        amount = count * share * factor
        return Value(surface, dimension, amount, amount, raw=count * share, unit=m[3].lower(), qualifier=q, start=s, end=e)
    if kind == "word_fraction":
        count = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3}[m[1].lower()]
        share = count / {"third": 3, "quarter": 4, "half": 2, "fifth": 5, "tenth": 10}[m[2].lower()]
        return Value(surface, "percent", share * 100, share * 100, raw=share * 100, qualifier=q, approx=abs(share * 100 - round(share * 100)) > 1e-9, start=s, end=e)
    if kind == "scientific":
        number = parse_number(m[1]) * 10 ** int(m[2])
        dimension, factor = _unit(m[3]) if m[3] else ("number", 1.0)
        return Value(surface, dimension, number * factor, number * factor, raw=number, unit=(m[3] or "").lower(), qualifier=q, start=s, end=e)
    if kind == "times_per":
        word = m[1].lower()
        number = {"once": 1.0, "twice": 2.0, "thrice": 3.0}.get(word) or parse_number(re.sub(r"\s?times$", "", word))
        return Value(surface, "count", number, number, raw=number, unit="회", soft=number == 1, qualifier=q, start=s, end=e)
    if kind == "ko_native_noun":
        number = float(_KO_NATIVE_UNITS.get(m[1]) or _KO_NATIVE_TENS[m[1]])
        return Value(surface, "count", number, number, raw=number, unit=m[2], soft=number == 1, qualifier=q, start=s, end=e)
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
        noun = re.match(r"\s([a-z]{3,})\b", text[e : e + 20]) if not re.search(r"[가-힣]", text[e : e + 2]) else None
        number = parse_number(written)
        if m[1] and re.fullmatch(r"\d{4}", written) and 1800 <= number <= 2199:
            return _value(surface, "date", 0.0, s, e, date=(int(number), None, None), qualifier=q)
        soft = number == 1 and not m[1]  # "one of", "on one charge"
        unit = _attached_word(text, e) if m[1] else ""
        if unit:  # "3정씩", "12병": an unknown counter or unit written onto the number
            return Value(surface + unit, "count", number, number, raw=number, unit=unit, qualifier=q, start=s, end=e + len(unit))
        counted = noun.group(1).lower() if noun and noun.group(1).lower() not in _EN_NOT_NOUNS else ""
        return Value(surface, "number", number, number, raw=number, unit=counted, soft=soft, qualifier=q, start=s, end=e)
    return None


# Words after an English number that are not what it counts ("2 of", "5 to 7", "3 percent").
_EN_NOT_NOUNS = frozenset("""of to and or in on at for by from with than per a an the times is are was were be been has have had will would can could may
    more less fewer out over under about around between years year months month days day hours hour minutes minute weeks week""".split())


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
        >>> same_value(extract_values("1년에 180만 원")[1], extract_values("월 15만 원")[0])  # per-period rates
        True
        >>> same_value(extract_values("약 33%")[0], extract_values("a third")[0]), same_value(extract_values("약 33%")[0], extract_values("30%")[0])
        (True, False)
    """
    if claim.dimension == "date" or evidence.dimension == "date":
        return claim.dimension == evidence.dimension and _dates_agree(claim.date, evidence.date)
    if claim.dimension == "weekday" or evidence.dimension == "weekday":  # a day within 주말 / weekdays
        return claim.dimension == evidence.dimension and evidence.low <= claim.low and claim.high <= evidence.high
    scale = _period_scale(claim, evidence)
    if scale is None:
        return False
    if claim.dimension == "number" and evidence.dimension != "time":
        return any(_near(claim, claim.low, x * scale, evidence) for x in (evidence.low, evidence.high, evidence.raw) if x is not None) and claim.high == claim.low
    if {claim.dimension, evidence.dimension} == {"count", "duration"} and claim.per and claim.per == evidence.per:
        # "twice a week" = "two days a week": a frequency counted in days
        count, days = (claim, evidence) if claim.dimension == "count" else (evidence, claim)
        return COUNTER_CLASSES.get(count.unit) == "회" and _close(count.low * 86400.0, days.low)
    if evidence.dimension == "number" and claim.raw is not None and claim.dimension not in ("time",):
        return _near(claim, claim.raw, evidence.low * scale, evidence)  # "12세 미만" against "under 12": the evidence has no unit
    if {claim.dimension, evidence.dimension} == {"percent", "ratio"}:
        percent, ratio = (claim, evidence) if claim.dimension == "percent" else (evidence, claim)
        return _close(percent.low, (ratio.low - 1) * 100) or _close(percent.low, ratio.low * 100)
    if not _comparable(claim, evidence):
        return False
    if claim.dimension == "time" and (claim.ambiguous or evidence.ambiguous):
        return _close(claim.low % 720, evidence.low % 720)
    if claim.dimension == "time":
        return _close(claim.low, evidence.low)
    return _near(claim, claim.low, evidence.low * scale, evidence) and _near(claim, claim.high, evidence.high * scale, evidence)


def _period_scale(claim: Value, evidence: Value) -> float | None:
    """Factor that turns the evidence's rate into the claim's period (월 15만 원 -> 연 180만 원);
    None when both are rates over periods that do not convert."""
    if not claim.per or not evidence.per or claim.per == evidence.per:
        return 1.0
    if (evidence.per, claim.per) in PERIOD_FACTORS:
        return PERIOD_FACTORS[(evidence.per, claim.per)]
    if (claim.per, evidence.per) in PERIOD_FACTORS:
        return 1.0 / PERIOD_FACTORS[(claim.per, evidence.per)]
    return None


def written_precision(value: Value) -> float:
    """Half the place value of the last significant digit written, in the value's canonical unit:
    "3만 명" -> 5,000, "33%" -> 0.5, "2.5시간" -> 0.05 h."""
    raw = value.raw if value.raw else value.low
    if not raw:
        return 0.0
    digits = f"{abs(raw):.6f}".rstrip("0").rstrip(".")
    if "." in digits:
        place = 10.0 ** -len(digits.split(".")[1])
    else:
        place = 10.0 ** (len(digits) - len(digits.rstrip("0")))
    return 0.5 * place * abs(value.low / raw) if raw else 0.0


def _near(claim: Value, a: float, b: float, evidence: Value) -> bool:
    """Equal, or, when a side is approximate ("약", "about", a fraction like "a third"), equal
    within the rounding of the number that side wrote."""
    if _close(a, b):
        return True
    if claim.approx or evidence.approx:
        # the rounding of the side that says it is approximate ("약 940만" is not "900만")
        tolerance = max(written_precision(v) for v in (claim, evidence) if v.approx)
        return abs(a - b) < max(tolerance, abs(a) * 2e-3) and abs(a - b) <= 0.1 * max(abs(a), abs(b))
    return False


def _comparable(claim: Value, evidence: Value) -> bool:
    """Same dimension; counts with different counters (명 vs 대) are different things, counters of
    one class (회 = 번) the same."""
    groups = {claim.dimension, evidence.dimension}
    if groups <= {"count", "number"}:
        if claim.dimension == evidence.dimension == "count":
            return COUNTER_CLASSES.get(claim.unit, claim.unit) == COUNTER_CLASSES.get(evidence.unit, evidence.unit)
        return True
    return claim.dimension == evidence.dimension


def _dates_agree(a, b) -> bool:
    """Every field the claim states is stated alike in the evidence (a claim may say less)."""
    if a is None or b is None:
        return False
    return all(x is None or x == y for x, y in zip(a, b))


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=2e-3, abs_tol=1e-9)
