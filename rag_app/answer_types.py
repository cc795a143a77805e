"""What kind of answer a question wants, and whether a sentence holds one.

The extractive answerer uses this to prefer a sentence that holds the kind of value asked for
("몇 시에 닫아?" wants a time; "재고가 몇 개 남았어?" a count) and to abstain when the retrieved
text holds none (a near-miss: the library's hours are there, its loan limit is not).

    >>> question_type("주말에는 도서관이 몇 시에 닫아?")
    'time'
    >>> question_type("리튬 배터리 팩 재고가 몇 개 남았어?")
    'count'
    >>> sentence_types("청운도서관은 평일에는 오후 9시까지, 주말에는 오후 5시까지 문을 연다.") >= {"time"}
    True
    >>> question_type("RAG는 어떻게 작동하나요?") is None
    True
"""

from __future__ import annotations

import re

# Question patterns, most specific first: the first that matches names the type.
_QUESTION_PATTERNS: list[tuple[str, re.Pattern]] = [
    ("percent", re.compile(r"몇\s*(?:퍼센트|%|프로)|비율|percent|percentage|what share|what fraction", re.I)),
    ("time", re.compile(r"몇\s*시(?!간)|언제\s*(?:까지|부터)?\s*(?:열|닫|문|운영|영업|시작|끝나|마감)|몇\s*시부터|몇\s*시까지|"
                        r"what time|when does .* (?:open|close|start|end)|opening hours|closing time|hours", re.I)),
    ("duration", re.compile(r"며칠|몇\s*(?:일|주|달|개월|년\s*(?:동안|간)|시간|분|초)|얼마\s*(?:나|동안)\s*(?:오래|걸|기간|쉬|동안)|"
                            r"얼마나\s*걸|기간|how long|how many (?:days|weeks|months|years|hours|minutes)", re.I)),
    ("date", re.compile(r"언제|날짜|몇\s*월|몇\s*년도?|what date|which date|what year|which year|when\b", re.I)),
    ("money", re.compile(r"얼마(?!나)|가격|비용|요금|금액|수수료|한도|값|how much|price|cost|fee", re.I)),
    ("count", re.compile(r"몇\s*(?:개|명|권|대|번|회|건|곳|층|장|병|잔|박스|세트|가지)|몇\s*\w{0,2}|수량|개수|인원|"
                         r"how many|number of|얼마나\s*(?:많|남)", re.I)),
    ("place", re.compile(r"어디|어느\s*(?:곳|장소|건물|층|지역|도시)|위치|장소|where|which (?:building|floor|room|city)", re.I)),
    ("person", re.compile(r"누구|누가|누구한테|누구에게|담당자|who\b|whom", re.I)),
]

_NUMBER = r"\d[\d,]*(?:\.\d+)?"
_NATIVE_DAYS = r"하루|이틀|사흘|나흘|닷새|엿새|이레|여드레|아흐레|열흘|보름"
_NATIVE_COUNT = r"(?:한|두|세|네|다섯|여섯|일곱|여덟|아홉|열|스무)\s*(?:개|명|권|대|번|회|건|곳|시간|달|주|장|가지)"
_MONTHS = r"January|February|March|April|May|June|July|August|September|October|November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec"

_SENTENCE_PATTERNS: dict[str, re.Pattern] = {
    "percent": re.compile(rf"{_NUMBER}\s*(?:%|퍼센트|프로)|절반|percent", re.I),
    "time": re.compile(rf"(?:오전|오후|새벽|저녁|밤|낮)\s*{_NUMBER}\s*시|{_NUMBER}\s*시(?!간|기|점|스템|작)|\d{{1,2}}:\d{{2}}|"
                       rf"\d{{1,2}}(?::\d{{2}})?\s*(?:a\.?m\.?|p\.?m\.?)|noon|midnight|정오|자정", re.I),
    "duration": re.compile(rf"{_NUMBER}\s*(?:일|주|주일|개월|달|년|시간|분|초)(?!요일)|{_NATIVE_DAYS}|{_NATIVE_COUNT}|"
                           rf"{_NUMBER}\s*(?:days?|weeks?|months?|years?|hours?|minutes?|seconds?)\b|"
                           r"(?:one|two|three|four|five|six|seven|eight|nine|ten|twelve|fifteen|thirty)\s+(?:days?|weeks?|months?|years?|hours?)", re.I),
    "date": re.compile(rf"\d{{4}}\s*년|\d{{1,2}}\s*월\s*\d{{1,2}}\s*일|\d{{1,2}}\s*월|\d{{4}}[-./]\d{{1,2}}|"
                       rf"(?:{_MONTHS})\.?\s+\d{{1,2}}|\b(?:19|20)\d{{2}}\b|매(?:월|주|년)|(?:월|화|수|목|금|토|일)요일|"
                       r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|weekday|weekend", re.I),
    "money": re.compile(rf"{_NUMBER}\s*(?:만|천|억)?\s*원|[$€£₩]\s*{_NUMBER}|{_NUMBER}\s*(?:dollars?|USD|KRW|won)\b|무료|free of charge", re.I),
    "count": re.compile(rf"{_NUMBER}|{_NATIVE_COUNT}|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)\b", re.I),
    "place": re.compile(r"\d+\s*층|[A-Z가-힣]\s*동|\w+(?:관|센터|건물|로비|사무실|창고|본사|지점|점|역|시|구|도)\b|"
                        r"\b(?:in|at|on)\s+(?:the\s+)?[A-Z][\w-]+|floor|building|room|office|warehouse", re.I),
    "person": re.compile(r"\w+(?:씨|님|팀장|과장|부장|대리|사원|담당자?|교수|원장|대표|팀)\b|\b[A-Z][a-z]+\s+[A-Z][a-z]+\b", re.I),
}
# A time answers "언제" as well as a date does; a duration stated in days answers "며칠" either way.
_ALSO_ANSWERS = {"date": ("time", "duration"), "time": (), "duration": ("date",), "count": ("money", "percent", "duration")}


# A question that restates a quantity ("2주 동안 빌려도 돼?") wants the rule on that kind of value.
_RESTATED = ("duration", "money", "percent", "time", "date")


def question_type(question: str) -> str | None:
    """The answer type a question asks for: percent, time, duration, date, money, count, place,
    person; None for open questions (how, why, what is...).

        >>> question_type("회사 노트북 2주 동안 들고 나가도 돼?")
        'duration'
    """
    for name, pattern in _QUESTION_PATTERNS:
        if pattern.search(question):
            return name
    restated = sentence_types(question)
    return next((name for name in _RESTATED if name in restated), None)


def sentence_types(text: str) -> set[str]:
    """Every answer type the text holds a value of."""
    return {name for name, pattern in _SENTENCE_PATTERNS.items() if pattern.search(text)}


def type_match(wanted: str | None, text: str) -> float:
    """1.0 when the text holds a value of the wanted type, 0.5 for a related type (a date for
    "when", any number for "how many") or an open question, 0.0 when it holds none.

        >>> type_match("time", "주말에는 오후 5시까지 문을 연다."), type_match("count", "문을 연다.")
        (1.0, 0.0)
    """
    if wanted is None:
        return 0.5
    found = sentence_types(text)
    if wanted in found:
        return 1.0
    if any(other in found for other in _ALSO_ANSWERS.get(wanted, ())):
        return 0.5
    if wanted in ("place", "person"):
        return 0.25  # names are too varied to be sure that none is there
    return 0.0
