"""Rule-made claim/evidence pairs from real sentences (FactCC-style), built at benchmark time.

The source texts in ../shared/data must not be copied into this repository, so instead of a
frozen file this module rebuilds the pairs deterministically from them:

- Korean: KorQuAD 1.0 dev paragraphs (korquad_v1_dev/) and the Korean Constitution
  (docs_txt_ko/constitution.txt, one article = one evidence passage).
- English: HotpotQA Wikipedia paragraphs (hotpotqa_distractor_200/hotpotqa.json).

A sentence of a passage becomes the claim and the passage (or, for long paragraphs, a window of
up to five sentences around it) the evidence. Rules:

supported
  verbatim     the sentence itself (Korean: sometimes with the 다 → 습니다 ending change)
  paraphrase   a small synonym table for frequent Wikipedia verbs (사망하였다 → 세상을 떠났습니다 …)
  unit_format  1,284 → 1284, 3만 명 → 30,000명, 2주 → 14일, 2시간 → 120분, 12% → 12퍼센트,
               1924년 12월 2일 → 1924-12-02, January 25, 1755 → 25 January 1755, km → kilometres
hallucinated
  number       a counted amount changed (± or ×), never a year
  date         a year (all its mentions in the sentence) shifted, or a month changed
  entity       a proper noun swapped for another proper noun of the same type taken from the
               same passage but absent from the sentence (Korean particles re-agreed: 은/는, 이/가 …)
  negation     negation inserted or removed (했다 → 하지 않았다, 아니한다 → 한다, 있다 ↔ 없다;
               was → was not)
  direction    direction words flipped (증가 ↔ 감소, 이상 ↔ 미만, 최대 ↔ 최소, increased ↔ decreased,
               before ↔ after, largest ↔ smallest)

A rule that does not apply cleanly returns None and the sentence is tried with another rule.
Changed values are checked against the whole evidence so a "hallucinated" claim is not
accidentally supported by another sentence of the passage.

API: rule_pairs(data_dir, n=300, seed=0) -> list of dicts with the keys of
bench/data/grounding_pairs.jsonl (id, evidence, claim, label, category, lang, split, note).
The split is a stable hash of the id (~50% heldout). Only the stdlib is required; kiwipiepy,
when installed, is used to find Korean proper nouns (NNP) for the entity rule.

    python bench/grounding_rules.py [--data-dir ../shared/data] [-n 300] [--seed 0]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
from collections import Counter
from pathlib import Path

# ----------------------------------------------------------------------------- Hangul helpers

_SBASE, _SEND = 0xAC00, 0xD7A3
J_NONE, J_N, J_L, J_B, J_SS = 0, 4, 8, 17, 20  # jongseong indices: (none) ㄴ ㄹ ㅂ ㅆ


def _is_syllable(ch: str) -> bool:
    return len(ch) == 1 and _SBASE <= ord(ch) <= _SEND


def jong(ch: str) -> int:
    """Final-consonant index of a Hangul syllable (0 = none); -1 for non-Hangul."""
    return (ord(ch) - _SBASE) % 28 if _is_syllable(ch) else -1


def set_jong(ch: str, j: int) -> str:
    code = ord(ch) - _SBASE
    return chr(_SBASE + code - code % 28 + j)


def has_batchim(word: str) -> bool | None:
    """True/False for a word ending in Hangul or a digit; None when unknown (e.g. Latin)."""
    if not word:
        return None
    ch = word[-1]
    if _is_syllable(ch):
        return jong(ch) != 0
    digit_batchim = {"0": True, "1": True, "2": False, "3": True, "4": False, "5": False,
                     "6": True, "7": True, "8": True, "9": False}
    return digit_batchim.get(ch)


_JOSA = {("은", "는"), ("이", "가"), ("을", "를"), ("과", "와"), ("으로", "로"), ("이다", "다"), ("이나", "나"),
         ("이라는", "라는"), ("이며", "며"), ("이었다", "였다")}


def agree_josa(noun: str, josa: str) -> str:
    """Pick the particle form that agrees with the noun's final consonant."""
    b = has_batchim(noun)
    if b is None:
        return josa
    for with_b, without_b in _JOSA:
        if josa in (with_b, without_b):
            if with_b == "으로" and noun and _is_syllable(noun[-1]) and jong(noun[-1]) == J_L:
                return "로"
            return with_b if b else without_b
    return josa


def polite_ending(sent: str) -> str | None:
    """Plain declarative ending → polite 습니다/ㅂ니다 (했다. → 했습니다., 한다. → 합니다., 이다. → 입니다.)."""
    m = re.search(r"(.)다\.$", sent)
    if not m or not _is_syllable(m.group(1)):
        return None
    ch = m.group(1)
    head = sent[: m.start(1)]
    if sent.endswith("하였다."):
        return sent[: -len("하였다.")] + "했습니다."
    if sent.endswith("되었다."):
        return sent[: -len("되었다.")] + "되었습니다."
    j = jong(ch)
    if j == J_NONE:
        return head + set_jong(ch, J_B) + "니다."
    if j in (J_N, J_L) and ch not in ("않", "많", "괜"):
        # 한다 → 합니다, 된다 → 됩니다, 간다 → 갑니다, 길다 → 깁니다
        return head + set_jong(ch, J_B) + "니다."
    return head + ch + "습니다."


# ----------------------------------------------------------------------------- sentence splitting

def split_ko(text: str) -> list[str]:
    parts = re.split(r"(?<=[다요음함됨임]\.)\s+|(?<=[다요]\.)(?=[\"'“‘(가-힣])", text.strip())
    return [p.strip() for p in parts if p.strip()]


_EN_ABBR = re.compile(r"(?:\b[A-Z]|\bSt|\bMr|\bMrs|\bDr|\bJr|\bSr|\bNo|\bvs|\bU\.S|\bInc|\bCo|\bLtd|\bc)\.$")


def split_en(text: str) -> list[str]:
    out, buf = [], ""
    for piece in re.split(r"(?<=[.!?])\s+(?=[A-Z\"(])", text.strip()):
        buf = f"{buf} {piece}".strip() if buf else piece
        if _EN_ABBR.search(buf):
            continue
        out.append(buf)
        buf = ""
    if buf:
        out.append(buf)
    return out


# ----------------------------------------------------------------------------- source loading

_OPEN_Q, _CLOSE_Q = "“‘「『", "”’」』"


def _quoted(sents: list[str], i: int) -> bool:
    """True when sentence i is inside or contains a quotation (its wording is someone else's)."""
    before = "".join(sents[:i])
    depth = sum(before.count(c) for c in _OPEN_Q) - sum(before.count(c) for c in _CLOSE_Q)
    return depth > 0 or any(c in sents[i] for c in _OPEN_Q + _CLOSE_Q + '"')


_KO_CONTEXT_START = re.compile(r"^(바로|이것은|이는|이로써|이에|그러자|또한|한편|그리고|그래서|따라서)\s")


def _window(sents: list[str], i: int, full: str, max_chars: int = 800) -> str:
    if len(full) <= max_chars:
        return full
    lo, hi = max(0, i - 2), min(len(sents), i + 3)
    return " ".join(sents[lo:hi])


def load_sentences(data_dir: Path) -> list[dict]:
    """Candidate (claim sentence, evidence passage) items from the shared data."""
    items: list[dict] = []
    kq = data_dir / "korquad_v1_dev" / "KorQuAD_v1.0_dev.shared.json"
    if kq.exists():
        data = json.loads(kq.read_text(encoding="utf-8"))["data"]
        p_idx = 0
        for art in data:
            for para in art["paragraphs"]:
                ctx = re.sub(r"\s+", " ", para["context"]).strip()
                sents = split_ko(ctx)
                for i, s in enumerate(sents):
                    if 20 <= len(s) <= 160 and s.endswith("다.") and not _quoted(sents, i) \
                            and not _KO_CONTEXT_START.match(s):
                        items.append({"lang": "ko", "src": f"kq{p_idx:03d}-{i:02d}", "sent": s,
                                      "evidence": _window(sents, i, ctx)})
                p_idx += 1
    con = data_dir / "docs_txt_ko" / "constitution.txt"
    if con.exists():
        text = con.read_text(encoding="utf-8")
        for m in re.finditer(r"(제(\d+)조\s.*?)(?=\n\s*제\d+조\s|\n\s*제\d+장|\n\s*부칙|\Z)", text, re.S):
            art = re.sub(r"\s+", " ", m.group(1)).strip()
            body = re.sub(r"^제\d+조\s*", "", art)
            sents = []
            for piece in re.split(r"\s*[①-⑳]\s*", body):
                sents += split_ko(piece)
            for i, s in enumerate(sents):
                if 15 <= len(s) <= 160 and s.endswith("다."):
                    items.append({"lang": "ko", "src": f"con{int(m.group(2)):03d}-{i:02d}", "sent": s,
                                  "evidence": art})
    hp = data_dir / "hotpotqa_distractor_200" / "hotpotqa.json"
    if hp.exists():
        corpus = json.loads(hp.read_text(encoding="utf-8"))["corpus"]
        for d_idx, key in enumerate(sorted(corpus)):
            text = re.sub(r"\s+", " ", corpus[key]["text"]).strip()
            sents = split_en(text)
            for i, s in enumerate(sents):
                latin = sum(c.isascii() for c in s) / max(1, len(s))
                if 40 <= len(s) <= 240 and s.endswith(".") and latin > 0.97 and not _quoted(sents, i):
                    items.append({"lang": "en", "src": f"hp{d_idx:04d}-{i:02d}", "sent": s,
                                  "evidence": _window(sents, i, text)})
    return items


# ----------------------------------------------------------------------------- Korean proper nouns

_KIWI = None


def _kiwi():
    global _KIWI
    if _KIWI is None:
        try:
            from kiwipiepy import Kiwi
            _KIWI = Kiwi()
        except Exception:  # kiwipiepy missing: the Korean entity rule falls back to word lists
            _KIWI = False
    return _KIWI or None


COUNTRIES_KO = set("미국 영국 프랑스 독일 일본 중국 러시아 이탈리아 스페인 캐나다 한국 북한 대한민국 소련 오스트리아 "
                   "네덜란드 스웨덴 노르웨이 덴마크 폴란드 헝가리 그리스 터키 이집트 인도 브라질 멕시코 아르헨티나 "
                   "호주 베트남 태국 필리핀 인도네시아 몽골 이란 이라크 벨기에 스위스 포르투갈 체코 우크라이나 "
                   "쿠바 칠레 페루 청나라 명나라 조선 고려 신라 백제 고구려 대만 프로이센".split())
CITIES_KO = set("서울 부산 대구 인천 광주 대전 울산 수원 평양 개성 도쿄 오사카 교토 베이징 상하이 홍콩 파리 런던 "
                "베를린 로마 모스크바 뉴욕 워싱턴 로스앤젤레스 시카고 보스턴 빈 마드리드 암스테르담 제네바 "
                "경성 한양 경주 전주 제주 춘천 청주 목포 포항 창원 마산".split())
SURNAMES_KO = set("김 이 박 최 정 강 조 윤 장 임 한 오 서 신 권 황 안 송 류 유 전 홍 고 문 양 손 배 백 허 남 심 노 하 "
                  "곽 성 차 주 우 구 민 진 나 지 엄 채 원 천 방 공 현 함 변 염 여 추 도 소 석 선 설 마 길 연 위 표 명 기 "
                  "반 왕 금 옥 육 인 맹 제 모 탁 국 어 은 편 용".split())
_NOT_NAME_END = set("족군국사당교회단청강섬역법궁어대관장문계파학론양해만항")
# names of the same thing: swapping one for the other keeps the claim true
_SAME_KO = [{"한국", "대한민국", "남한"}, {"북한", "조선민주주의인민공화국"}, {"미국", "미합중국"},
            {"서울", "경성", "한양", "한성"}, {"소련", "소비에트 연방"}]
_SAME_EN = [{"United States", "America", "USA"}, {"United Kingdom", "Britain", "Great Britain", "UK"}]
_THE_EN = {"United States", "United Kingdom", "Netherlands", "Czech Republic", "Philippines"}


def _same_thing(a: str, b: str) -> bool:
    return any(a in g and b in g for g in _SAME_KO + _SAME_EN)
SUFFIX_TYPES_KO = ["대학교", "고등학교", "중학교", "초등학교", "대학", "법원", "위원회", "공화국", "왕국", "제국",
                   "협회", "연맹", "그룹", "은행", "방송", "신문", "리그", "대회", "전쟁", "조약", "사건", "운동",
                   "특별시", "광역시", "시", "군", "구", "도", "주", "역", "강", "산", "섬", "당", "사", "궁", "왕", "상"]


def _ko_type(word: str) -> str | None:
    if word in COUNTRIES_KO:
        return "country"
    if word in CITIES_KO:
        return "city"
    if not all(_is_syllable(c) for c in word):
        return None
    for suf in SUFFIX_TYPES_KO:
        if word.endswith(suf) and len(word) >= len(suf) + 1:
            return "suf:" + suf
    if len(word) == 3 and word[0] in SURNAMES_KO and word[-1] not in _NOT_NAME_END:
        return "person"
    return None


def ko_entities(text: str) -> list[tuple[str, int, int, str | None]]:
    """(surface, start, end, particle-after) of proper nouns in text."""
    kiwi = _kiwi()
    out = []
    if kiwi is not None:
        toks = kiwi.tokenize(text)
        for k, t in enumerate(toks):
            if t.tag == "NNP" and len(t.form) >= 2:
                nxt = toks[k + 1] if k + 1 < len(toks) else None
                josa = nxt.form if nxt is not None and nxt.tag.startswith("J") and nxt.start == t.start + t.len else None
                out.append((text[t.start:t.start + t.len], t.start, t.start + t.len, josa))
        return out
    # fallback without kiwi: known country/city names only
    for m in re.finditer(r"[가-힣]+", text):
        w = m.group(0)
        for name in sorted(COUNTRIES_KO | CITIES_KO, key=len, reverse=True):
            if w.startswith(name):
                rest = w[len(name):]
                josa = rest if rest in {a for pair in _JOSA for a in pair} else None
                if rest == "" or josa:
                    out.append((name, m.start(), m.start() + len(name), josa))
                break
    return out


# ----------------------------------------------------------------------------- English entities

_EN_STOP = set("The A An In On At Of For And But He She It They His Her Its Their This That These Those After Before "
               "During Since When While With From By As Born January February March April May June July August "
               "September October November December Monday Tuesday Wednesday Thursday Friday Saturday Sunday "
               "American British English French German Russian Italian Spanish Canadian Australian Japanese Chinese "
               "Korean Indian Irish Scottish Welsh Dutch Swedish European African Asian Christian Catholic".split())
_EN_ORG = ["University", "College", "School", "Company", "Records", "Party", "River", "County", "Airport",
           "Station", "Museum", "Club", "Church", "Award", "Awards", "Festival", "Stadium", "Park", "Lake",
           "Island", "Mountains", "Street", "Group", "Corporation", "Inc.", "Studios", "Network", "League"]
COUNTRIES_EN = set("United States,United Kingdom,England,Scotland,Wales,Ireland,France,Germany,Italy,Spain,Canada,"
                   "Australia,Japan,China,India,Russia,Mexico,Brazil,Argentina,Sweden,Norway,Denmark,Finland,Poland,"
                   "Austria,Switzerland,Belgium,Netherlands,Portugal,Greece,Turkey,Egypt,South Korea,North Korea,"
                   "New Zealand,South Africa,Nigeria,Kenya,Israel,Iran,Iraq,Pakistan,Ukraine,Belarus,Cuba,Chile,Peru,"
                   "Colombia,Hungary,Czech Republic,Romania,Serbia,Croatia,Philippines,Vietnam,Thailand,Indonesia".split(","))
# given names used to recognise "First Last" person spans (a capitalised pair alone is too often a
# band, a company or a place)
_FIRST_NAMES = set("""Aaron Adam Alan Albert Alex Alexander Alfred Alice Allen Amanda Amy Andrew Andy Angela Ann Anna
Anne Anthony Arthur Barbara Ben Benjamin Bill Billy Bob Bobby Brad Brandon Brian Bruce Carl Carlos Carol Caroline
Catherine Charles Charlie Charlotte Chris Christian Christina Christine Christopher Claire Colin Craig Dan Daniel
David Dean Dennis Diana Donald Doris Dorothy Douglas Eddie Edward Elizabeth Ella Ellen Emily Emma Eric Frank
Frederick Gary George Gerald Grace Graham Greg Gregory Harold Harry Helen Henry Howard Hugh Ian Jack Jacob James Jane
Janet Jason Jean Jeff Jeffrey Jennifer Jeremy Jerry Jessica Jim Jimmy Joan Joe John Johnny Jon Jonathan Joseph
Joshua Judith Julia Julie Justin Karen Kate Katherine Keith Kelly Kenneth Kevin Kim Larry Laura Lawrence Leonard
Linda Lisa Louis Louise Lucy Margaret Maria Marie Mark Martin Mary Matt Matthew Michael Michelle Mike Nancy Nathan
Neil Nicholas Nick Nicole Oliver Patricia Patrick Paul Peter Philip Rachel Ralph Raymond Rebecca Richard Robert
Roger Ronald Rose Roy Russell Ruth Ryan Sam Samuel Sandra Sarah Scott Sean Sharon Simon Stephen Steve Steven Susan
Thomas Tim Timothy Todd Tom Tony Victoria Walter Wayne William Willie Jessie Frances Henri Pierre Jacques Jean-Luc
Hans Karl Friedrich Giovanni Giuseppe Luigi Marco Antonio Juan Jose Manuel Pedro Miguel Ivan Sergei Vladimir Dmitri
Nikolai Igor Olga Boris Akira Hiroshi Kenji Yuki Wei Li Raj Ahmed Mohammed Ali Omar Fatima Maggie Tobey Jake Luke
Max Leo Ray Glenn Gordon Stanley Stuart Dale Earl Ernest Eugene Fred Herbert Jeffery Jesse Joel Kyle Lee Marcus
Norman Phillip Randy Ricky Roy Sidney Terry Travis Vincent Wallace Warren Alison Audrey Beth Betty Bonnie Carrie
Cynthia Debbie Denise Donna Eleanor Emma Eva Evelyn Florence Gloria Hannah Heather Irene Jacqueline Jill Joanna
Josephine Joyce Julian Katie Kathleen Kay Lauren Lillian Lois Lynn Madeleine Marilyn Martha Megan Melissa Monica
Natalie Nina Paula Peggy Phyllis Rita Sally Sophie Stephanie Teresa Tina Valerie Vanessa Vivian Wendy""".split())
_EN_SPAN = re.compile(r"\b[A-Z][a-zA-Z'\-]+(?:\s+(?:[A-Z][a-zA-Z'\-]+|[A-Z]\.))*")


def _en_type(span: str, before: str = "") -> str | None:
    if span in COUNTRIES_EN:
        return "country"
    words = span.split()
    if any(w in _EN_STOP for w in words):
        return None
    if words[-1] in _EN_ORG and len(words) >= 2:
        return "org:" + words[-1]
    if 2 <= len(words) <= 3 and words[0] in _FIRST_NAMES and \
            all(re.fullmatch(r"[A-Z][a-z'\-]+|[A-Z]\.", w) for w in words):
        if re.search(r"\b(of|the|in|at|from|to|for|on|de|di|von|van|St\.)\s*$", before) or re.search(r"['’]\s*$", before):
            return None  # "founders of Save Florence", "in New Haven": place/organisation, not a person
        return "person"
    return None


def en_entities(text: str) -> list[tuple[str, int, int, str | None]]:
    """(span, start, end, type) of capitalised spans; type None when unsure."""
    return [(m.group(0), m.start(), m.end(), _en_type(m.group(0), text[max(0, m.start() - 8):m.start()]))
            for m in _EN_SPAN.finditer(text)]


# ----------------------------------------------------------------------------- rules

def _changed_number(rng: random.Random, s: str) -> str | None:
    """A different, plausible value written in the same style as s ('1,284', '12', '3.5')."""
    plain = s.replace(",", "")
    try:
        v = float(plain)
    except ValueError:
        return None
    dec = len(plain.split(".")[1]) if "." in plain else 0
    if v == 0:
        return None
    if v < 10 and dec == 0:
        cands = [v + d for d in (1, 2, 3, -1, -2) if v + d > 0 and v + d != v]
    else:
        cands = [v * f for f in (0.5, 0.7, 1.3, 1.5, 2, 3)]
    new = rng.choice(cands)
    if dec:
        out = f"{new:.{dec}f}"
    else:
        new = int(round(new))
        if new == int(v):
            new += 1
        out = f"{new:,}" if "," in s else str(new)
    return None if out == s else out


_KO_COUNTERS = r"(명|개|원|달러|엔|회|번|편|권|골|척|마리|km|킬로미터|미터|m|%|퍼센트|개국|곳|경기|곡|층|표|석|점|위|세|살|종|채|명의)"


def r_ko_number(sent: str, ev: str, rng: random.Random):
    cands = []
    for m in re.finditer(r"(?<![\d.,제])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(\s?(?:만|억)?\s?)" + _KO_COUNTERS, sent):
        before = sent[max(0, m.start() - 2):m.start()]
        after = sent[m.end():m.end() + 1]
        if "제" in before or m.group(3) in ("세",) and re.search(r"[가-힣] ?$", before):
            continue  # 제3회 (ordinal), 헤이그 2세 (regnal number)
        if len(m.group(3)) == 1 and after in ("기", "대", "째", "트", "프", "지"):
            continue  # 6세기 (century), 3번째 (ordinal): the counter is part of another word
        cands.append(m)
    if not cands:
        return None
    m = rng.choice(cands)
    new = _changed_number(rng, m.group(1))
    if new is not None and m.group(3) in ("%", "퍼센트") and float(new.replace(",", "")) > 100:
        new = _changed_number(rng, m.group(1))  # one retry; a share above 100% is not plausible
        if new is not None and float(new.replace(",", "")) > 100:
            return None
    if new is None:
        return None
    new_tok = new + m.group(2) + m.group(3)
    if new_tok in ev or (new + m.group(3)) in ev:
        return None
    claim = sent[:m.start()] + new_tok + sent[m.end():]
    return claim, f"{new_tok.strip()} vs {m.group(0).strip()}"


def r_ko_date(sent: str, ev: str, rng: random.Random):
    years = sorted(set(re.findall(r"(?<!\d)(1[0-9]{3}|20[0-2][0-9])년", sent)))
    if years:
        y = rng.choice(years)
        for _ in range(6):
            ny = int(y) + rng.choice([-10, -5, -3, -2, -1, 1, 2, 3, 5, 10])
            if ny <= 2025 and f"{ny}년" not in ev and str(ny) not in ev:
                claim = re.sub(rf"(?<!\d){y}년", f"{ny}년", sent)
                return claim, f"{ny}년 vs {y}년"
        return None
    months = re.findall(r"(?<!\d)(1[0-2]|[1-9])월", sent)
    if months:
        mo = rng.choice(months)
        for _ in range(6):
            nm = rng.randint(1, 12)
            if str(nm) != mo and f"{nm}월" not in ev:
                claim = re.sub(rf"(?<!\d){mo}월", f"{nm}월", sent, count=1)
                return claim, f"{nm}월 vs {mo}월"
    return None


def r_ko_entity(sent: str, ev: str, rng: random.Random):
    ents = ko_entities(sent)
    if not ents:
        return None
    ev_ents = {e[0] for e in ko_entities(ev)}
    in_sent = {e[0] for e in ents}
    order = list(range(len(ents)))
    rng.shuffle(order)
    for k in order:
        word, st, en, josa = ents[k]
        t = _ko_type(word)
        if t is None:
            continue
        if re.match(r" [과와은는이가을를의] ", sent[en:en + 3]):
            continue  # detached particle in the source ("영국 과"): the swap cannot re-agree it
        pool = sorted(w for w in ev_ents if w not in in_sent and _ko_type(w) == t
                      and word not in w and w not in word and not _same_thing(w, word))
        if not pool:
            continue
        new = rng.choice(pool)
        claim, pos = "", 0
        for w2, st2, en2, josa2 in ents:  # every mention of the word in the sentence
            if w2 != word:
                continue
            claim += sent[pos:st2] + new
            pos = en2
            if josa2 and sent[en2:].startswith(josa2):
                claim += agree_josa(new, josa2)
                pos = en2 + len(josa2)
        claim += sent[pos:]
        return claim, f"{new} vs {word}"
    return None


def _ko_negate(sent: str) -> tuple[str, str] | None:
    rules = [
        (r"하지 아니한다\.$", "한다.", "아니한다 → 한다"),
        (r"되지 아니한다\.$", "된다.", "아니한다 → 된다"),
        (r"하지 않았다\.$", "했다.", "하지 않았다 → 했다"),
        (r"되지 않았다\.$", "되었다.", "되지 않았다 → 되었다"),
        (r"하지 않는다\.$", "한다.", "않는다 → 한다"),
        (r"수 없다\.$", "수 있다.", "없다 → 있다"),
        (r"수 있다\.$", "수 없다.", "있다 → 없다"),
        (r"(?<=[이가도] )있었다\.$", "없었다.", "있었다 → 없었다"),
        (r"(?<=[이가도] )없었다\.$", "있었다.", "없었다 → 있었다"),
        (r"(?<=[이가도] )있다\.$", "없다.", "있다 → 없다"),
        (r"(?<=[이가도] )없다\.$", "있다.", "없다 → 있다"),
        (r"하였다\.$", "하지 않았다.", "했다 → 하지 않았다"),
        (r"했다\.$", "하지 않았다.", "했다 → 하지 않았다"),
        (r"되었다\.$", "되지 않았다.", "되었다 → 되지 않았다"),
        (r"됐다\.$", "되지 않았다.", "됐다 → 되지 않았다"),
        (r"(?<=[가-힣])한다\.$", "하지 않는다.", "한다 → 하지 않는다"),
        (r"(?<=[가-힣])된다\.$", "되지 않는다.", "된다 → 되지 않는다"),
        (r"(?<=[가-힣])진다\.$", "지지 않는다.", "진다 → 지지 않는다"),
    ]
    for pat, rep, note in rules:
        if re.search(pat, sent):
            return re.sub(pat, rep, sent), note
    # consonant-stem verbs: 받지 아니한다 → 받는다
    m = re.search(r"([가-힣])지 아니한다\.$", sent)
    if m and jong(m.group(1)) not in (J_NONE, J_L):
        return sent[:m.start()] + m.group(1) + "는다.", "아니한다 → 긍정"
    # copula: X이다 → X이 아니다
    m = re.search(r"([가-힣])이다\.$", sent)
    if m and jong(m.group(1)) != 0:
        return sent[:m.end(1)] + "이 아니다.", "이다 → 아니다"
    m = re.search(r"([가-힣])(이었다|였다)\.$", sent)
    if m:
        noun = m.group(1)
        if (m.group(2) == "이었다") == (jong(noun) != 0):
            return sent[:m.end(1)] + agree_josa(noun, "이") + " 아니었다.", "이었다 → 아니었다"
    m = re.search(r"([가-힣])이 아니다\.$", sent)
    if m:
        return sent[:m.end(1)] + "이다.", "아니다 → 이다"
    return None


def r_ko_negation(sent: str, ev: str, rng: random.Random):
    if re.search(r"않|아니|없|못|금지", sent[:-6]):
        return None  # already negated inside the sentence: a second flip can stay true
    return _ko_negate(sent)


_KO_FLIPS = [("증가", "감소"), ("상승", "하락"), ("확대", "축소"), ("흑자", "적자"),
             ("늘었", "줄었"), ("늘어났", "줄어들었"), ("늘어나", "줄어들"), ("최대", "최소"), ("최고", "최저"),
             ("가장 큰", "가장 작은"), ("가장 많은", "가장 적은"), ("가장 높은", "가장 낮은"),
             ("가장 긴", "가장 짧은"), ("북쪽", "남쪽"), ("동쪽", "서쪽"), ("상류", "하류"), ("전반", "후반"),
             ("상위", "하위"), ("우세", "열세"), ("강화", "약화"), ("수출", "수입")]


def r_ko_direction(sent: str, ev: str, rng: random.Random):
    if re.search(r"않|아니|아닐|아닌|없|못", sent):
        return None
    hits = []
    for a, b in _KO_FLIPS:
        for x, y in ((a, b), (b, a)):
            if x in sent and y not in sent:
                hits.append((x, y))
    # 승리/패배 only as a verb or object (승리 alone is also a stage name)
    for x, y in (("승리", "패배"), ("패배", "승리")):
        if re.search(x + r"(?=[하했한를])", sent) and y not in sent:
            hits.append((x, y))
    # keep only the longest match (줄어들었 must not also fire as 줄어들)
    hits = [h for h in hits if not any(h[0] != o[0] and h[0] in o[0] for o in hits)]
    m = re.search(r"(\d+\s?[가-힣%]*) (이상|이하|미만|초과)", sent)
    if m:
        opp = {"이상": "미만", "미만": "이상", "이하": "초과", "초과": "이하"}[m.group(2)]
        hits.append((m.group(0), f"{m.group(1)} {opp}"))
    if not hits:
        return None
    x, y = rng.choice(sorted(set(hits)))
    claim = sent.replace(x, y, 1)
    return claim, f"{y} vs {x}"


_KO_SYNONYMS = [("사망하였다.", "세상을 떠났습니다."), ("사망했다.", "세상을 떠났습니다."),
                ("출생하였다.", "태어났습니다."), ("개최되었다.", "열렸습니다."), ("개최됐다.", "열렸습니다."),
                ("설립되었다.", "세워졌습니다."), ("설립됐다.", "세워졌습니다."), ("체결하였다.", "맺었습니다."),
                ("체결했다.", "맺었습니다."), ("참가하였다.", "참여했습니다."), ("참가했다.", "참여했습니다."),
                ("발매되었다.", "출시되었습니다."), ("구성되어 있다.", "이루어져 있습니다."),
                ("증가하였다.", "늘었습니다."), ("증가했다.", "늘었습니다."), ("감소하였다.", "줄었습니다."),
                ("감소했다.", "줄었습니다."), ("시작하였다.", "시작했습니다."), ("위치한다.", "자리하고 있습니다."),
                ("위치하고 있다.", "자리하고 있습니다."), ("거주하였다.", "살았습니다."), ("거주했다.", "살았습니다."),
                ("건립되었다.", "세워졌습니다."), ("창설되었다.", "만들어졌습니다."), ("임명되었다.", "임명됐습니다."),
                ("사용하였다.", "썼습니다."), ("사용했다.", "썼습니다."), ("획득하였다.", "따냈습니다."),
                ("획득했다.", "따냈습니다."), ("를 수상하였다.", "를 받았습니다."), ("를 수상했다.", "를 받았습니다."),
                ("을 수상하였다.", "을 받았습니다."), ("을 수상했다.", "을 받았습니다."),
                ("졸업하였다.", "졸업했습니다."), ("귀국하였다.", "고국으로 돌아왔습니다."),
                ("귀국했다.", "고국으로 돌아왔습니다."), ("은퇴하였다.", "은퇴했습니다."),
                ("에 의하여 ", "에 의해 "), ("하여야 한다.", "해야 합니다."), ("아니된다.", "안 됩니다."),
                ("아니한다.", "않습니다.")]


def r_ko_paraphrase(sent: str, ev: str, rng: random.Random):
    for old, new in _KO_SYNONYMS:
        if old in sent and (old.endswith(".") and sent.endswith(old)):
            claim = sent[: -len(old)] + new
            claim = claim.replace("에 의하여 ", "에 의해 ")
            return claim, f"{old.rstrip('.')} → {new.rstrip('.')}"
    return None


def r_ko_verbatim(sent: str, ev: str, rng: random.Random):
    if rng.random() < 0.5:
        pol = polite_ending(sent)
        if pol:
            return pol, "어미 변경(다 → 습니다)"
    return sent, "원문 문장 그대로"


def _fmt_int(n: int) -> str:
    return f"{n:,}"


def r_ko_unit_format(sent: str, ev: str, rng: random.Random):
    opts = []
    m = re.search(r"(?<![\d.,])(\d{1,3}(?:,\d{3})+)(?![\d,])", sent)
    if m:
        opts.append((m.start(), m.end(), m.group(1).replace(",", ""), f"{m.group(1)} → {m.group(1).replace(',', '')}"))
    m = re.search(r"(?<![\d.,제])(\d{4,})(\s?)(명|원|달러|개|km|미터|m|톤|석|표|권|가구|호)", sent)
    if m and not re.match(r"1[0-9]{3}|20[0-2][0-9]", m.group(1)) or (m and m.group(3) not in ("호",)):
        if m and int(m.group(1)) >= 1000 and m.group(3) != "호":
            opts.append((m.start(1), m.end(1), _fmt_int(int(m.group(1))), f"{m.group(1)} → {_fmt_int(int(m.group(1)))}"))
    m = re.search(r"(?<![\d.,])(\d+)(?:\.(\d))?\s?만\s?(명|원|달러|개|가구|톤|부|장)", sent)
    if m:
        v = int(m.group(1)) * 10000 + (int(m.group(2)) * 1000 if m.group(2) else 0)
        opts.append((m.start(), m.end(), f"{_fmt_int(v)}{m.group(3)}", f"{m.group(0)} → {_fmt_int(v)}{m.group(3)}"))
    m = re.search(r"(?<![\d.])(\d+)주(간| 동안| 만에)", sent)
    if m:
        d = int(m.group(1)) * 7
        opts.append((m.start(), m.end(), f"{d}일{m.group(2)}", f"{m.group(1)}주 → {d}일"))
    m = re.search(r"(?<![\d.])([1-6])시간(?![대])", sent)
    if m:
        mins = int(m.group(1)) * 60
        opts.append((m.start(), m.end(), f"{mins}분", f"{m.group(1)}시간 → {mins}분"))
    m = re.search(r"(?<![\d.])(\d+(?:\.\d+)?)(%|km)", sent)
    if m:
        word = {"%": "퍼센트", "km": "킬로미터"}[m.group(2)]
        opts.append((m.start(), m.end(), f"{m.group(1)}{word}", f"{m.group(0)} → {m.group(1)}{word}"))
    m = re.search(r"(?<!\d)(1[0-9]{3}|20[0-2][0-9])년 (1[0-2]|[1-9])월 ([12][0-9]|3[01]|[1-9])일", sent)
    if m:
        iso = f"{m.group(1)}-{int(m.group(2)):02d}-{int(m.group(3)):02d}"
        opts.append((m.start(), m.end(), iso, f"{m.group(0)} → {iso}"))
    m = re.search(r"(?<![\d.])(12|24|36|48|60)개월", sent)
    if m:
        y = int(m.group(1)) // 12
        opts.append((m.start(), m.end(), f"{y}년", f"{m.group(0)} → {y}년"))
    if not opts:
        return None
    st, en, rep, note = rng.choice(opts)
    return sent[:st] + rep + sent[en:], note


# English rules ---------------------------------------------------------------------------------

_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December"]
_MONTH_RE = "|".join(_MONTHS)


def r_en_number(sent: str, ev: str, rng: random.Random):
    cands = []
    for m in re.finditer(r"(?<![\d.,$])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(?![\d,])", sent):
        val = m.group(1)
        ctx_b, ctx_a = sent[max(0, m.start() - 12):m.start()], sent[m.end():m.end() + 12]
        if re.fullmatch(r"1[0-9]{3}|20[0-2][0-9]", val):
            continue  # years belong to the date rule
        if re.search(rf"({_MONTH_RE})\s*$", ctx_b) or re.match(rf"\s*({_MONTH_RE})", ctx_a):
            continue  # day of month
        if re.match(r"(st|nd|rd|th)\b", ctx_a) or re.search(r"(No\.|#|Route|Highway|Interstate|Apollo)\s*$", ctx_b):
            continue  # ordinals and identifiers
        if not re.match(r"\s?(%|percent|people|million|billion|km|miles|kilometres|kilometers|metres|meters|"
                        r"feet|inhabitants|residents|students|episodes|games|goals|seats|members|copies|"
                        r"years|times|albums|songs|acres|square|employees|units|players|teams|stores|species|"
                        r"points|votes|runs|novels|books|films|floors|stories|countries)", ctx_a):
            continue
        cands.append(m)
    if not cands:
        return None
    m = rng.choice(cands)
    new = _changed_number(rng, m.group(1))
    if new is not None and re.match(r"\s?(%|percent)", sent[m.end():]) and float(new.replace(",", "")) > 100:
        return None  # a share above 100% is not plausible
    if new is None or re.search(rf"(?<![\d.,]){re.escape(new)}(?![\d,])", ev):
        return None
    return sent[:m.start()] + new + sent[m.end():], f"{new} vs {m.group(1)}"


def r_en_date(sent: str, ev: str, rng: random.Random):
    years = sorted(set(re.findall(r"(?<![\d,.])(1[0-9]{3}|20[0-2][0-9])(?![\d,])", sent)))
    if years:
        y = rng.choice(years)
        for _ in range(6):
            ny = int(y) + rng.choice([-10, -5, -3, -2, -1, 1, 2, 3, 5, 10])
            if ny <= 2025 and str(ny) not in ev:
                return re.sub(rf"(?<![\d,.]){y}(?![\d,])", str(ny), sent), f"{ny} vs {y}"
        return None
    ms = re.findall(rf"\b({_MONTH_RE})\b", sent)
    if ms:
        mo = rng.choice(ms)
        for _ in range(6):
            nm = rng.choice(_MONTHS)
            if nm != mo and nm not in ev:
                return re.sub(rf"\b{mo}\b", nm, sent, count=1), f"{nm} vs {mo}"
    return None


def r_en_entity(sent: str, ev: str, rng: random.Random):
    ents = [e for e in en_entities(sent) if e[1] > 0 and e[3]]
    if not ents:
        return None
    ev_spans = {(e[0], e[3]) for e in en_entities(ev) if e[3]}
    rng.shuffle(ents)
    for span, st, en, t in ents:
        pool = sorted(w for w, t2 in ev_spans if t2 == t and w not in sent and span not in w and w not in span
                      and not set(w.split()) & set(span.split()) and not _same_thing(w, span))
        if pool:
            new = rng.choice(pool)
            head = sent[:st]
            if t == "country" and head.endswith("the ") and new not in _THE_EN:
                head = head[:-4]
            elif t == "country" and new in _THE_EN and not head.endswith("the "):
                head += "the "
            return head + new + sent[en:], f"{new} vs {span}"
    return None


def r_en_negation(sent: str, ev: str, rng: random.Random):
    m = re.search(r"\b(is|was|are|were|has|had|does|did) not\b", sent)
    if m:
        return sent[:m.end(1)] + sent[m.end():], f"'{m.group(1)} not' → '{m.group(1)}'"
    if re.search(r"\b(not|never|no|n't|neither|nor|none|without)\b", sent, re.I):
        return None
    for m in re.finditer(r"\b(is|was|are|were)\b", sent):
        before = sent[max(0, m.start() - 30):m.start()]
        if re.search(r"\b(which|who|that|whom|where|when)\b[^,]*$", before):
            continue  # inside a relative clause; negate the main verb instead
        if re.match(r"\s+(also|still|only|now|perhaps|probably|both|either|often|sometimes|always)\b", sent[m.end():]):
            return None
        return sent[:m.end()] + " not" + sent[m.end():], f"'{m.group(1)}' → '{m.group(1)} not'"
    return None


_EN_FLIPS = [("increased", "decreased"), ("increase", "decrease"), ("rose", "fell"), ("higher", "lower"),
             ("more than", "less than"), ("before", "after"), ("north", "south"), ("east", "west"),
             ("northern", "southern"), ("eastern", "western"), ("largest", "smallest"), ("biggest", "smallest"),
             ("longest", "shortest"), ("highest", "lowest"), ("oldest", "youngest"), ("older", "younger"),
             ("earlier", "later"), ("above", "below"), ("most", "least"), ("first", "last"),
             ("upper", "lower"), ("maximum", "minimum"), ("larger", "smaller"), ("greater", "fewer")]


def r_en_direction(sent: str, ev: str, rng: random.Random):
    if re.search(r"\b(not|never|no)\b", sent):
        return None
    hits = []
    for a, b in _EN_FLIPS:
        for x, y in ((a, b), (b, a)):
            if re.search(rf"\b{x}\b", sent) and not re.search(rf"\b{y}\b", sent):
                # "first" only in "the first ..." (not "first-class", "First Lady")
                if x == "first" and not re.search(r"\bthe first\b", sent):
                    continue
                if x == "most" and not re.search(r"\bthe most\b", sent):
                    continue
                hits.append((x, y))
    if not hits:
        return None
    x, y = rng.choice(sorted(set(hits)))
    return re.sub(rf"\b{x}\b", y, sent, count=1), f"{y} vs {x}"


def r_en_paraphrase(sent: str, ev: str, rng: random.Random):
    return None  # no safe rule-made English paraphrase; supported English pairs use verbatim/unit_format


def r_en_verbatim(sent: str, ev: str, rng: random.Random):
    return sent, "original sentence"


def r_en_unit_format(sent: str, ev: str, rng: random.Random):
    opts = []
    m = re.search(rf"\b({_MONTH_RE}) ([12]?\d|3[01]), (1[0-9]{{3}}|20[0-2][0-9])\b", sent)
    if m:
        opts.append((m.start(), m.end(), f"{m.group(2)} {m.group(1)} {m.group(3)}", f"{m.group(0)} → day-month-year"))
    m = re.search(rf"\b([12]?\d|3[01]) ({_MONTH_RE}) (1[0-9]{{3}}|20[0-2][0-9])\b", sent)
    if m:
        opts.append((m.start(), m.end(), f"{m.group(2)} {m.group(1)}, {m.group(3)}", f"{m.group(0)} → month-day-year"))
    m = re.search(r"(?<![\d.,$])(\d{1,3}(?:,\d{3})+)(?![\d,])", sent)
    if m:
        opts.append((m.start(), m.end(), m.group(1).replace(",", ""), f"{m.group(1)} → {m.group(1).replace(',', '')}"))
    m = re.search(r"(?<![\d.])(\d+(?:\.\d+)?) ?(km|kilometres|kilometers)\b", sent)
    if m:
        word = "km" if m.group(2) != "km" else "kilometres"
        opts.append((m.start(), m.end(), f"{m.group(1)} {word}", f"{m.group(0)} → {m.group(1)} {word}"))
    m = re.search(r"(?<![\d.])(\d+(?:\.\d+)?)(%| percent)", sent)
    if m:
        alt = " percent" if m.group(2) == "%" else "%"
        opts.append((m.start(), m.end(), f"{m.group(1)}{alt}", f"{m.group(0)} → {m.group(1)}{alt}"))
    m = re.search(r"(?<![\d.,$])(\d+(?:\.\d+)?) million\b", sent)
    if m:
        v = float(m.group(1)) * 1_000_000
        if v == int(v):
            opts.append((m.start(), m.end(), _fmt_int(int(v)), f"{m.group(0)} → {_fmt_int(int(v))}"))
    if not opts:
        return None
    st, en, rep, note = rng.choice(opts)
    return sent[:st] + rep + sent[en:], note


RULES = {
    "ko": {"verbatim": r_ko_verbatim, "paraphrase": r_ko_paraphrase, "unit_format": r_ko_unit_format,
           "number": r_ko_number, "date": r_ko_date, "entity": r_ko_entity, "negation": r_ko_negation,
           "direction": r_ko_direction},
    "en": {"verbatim": r_en_verbatim, "paraphrase": r_en_paraphrase, "unit_format": r_en_unit_format,
           "number": r_en_number, "date": r_en_date, "entity": r_en_entity, "negation": r_en_negation,
           "direction": r_en_direction},
}
SUPPORTED = {"verbatim", "paraphrase", "unit_format"}
# relative share of each category within a language (rare rules rarely reach their share)
# share of each category within a language: 45% supported, 55% hallucinated
WEIGHTS = {"paraphrase": 0.10, "unit_format": 0.15, "verbatim": 0.20, "number": 0.11, "date": 0.11,
           "entity": 0.11, "negation": 0.11, "direction": 0.11}
LANG_SHARE = {"ko": 0.7, "en": 0.3}


def _split_for(pid: str) -> str:
    return "heldout" if int(hashlib.sha1(pid.encode("utf-8")).hexdigest(), 16) % 2 else "dev"


def _quotas(n: int) -> dict[tuple[str, str], int]:
    """Per (lang, category) target counts summing to n (largest remainder)."""
    raw = {}
    for lang, ls in LANG_SHARE.items():
        for cat, w in WEIGHTS.items():
            if cat == "paraphrase" and lang == "en":
                continue  # no English paraphrase rule: its share goes to verbatim below
            raw[(lang, cat)] = n * ls * w
        if lang == "en":
            raw[(lang, "verbatim")] += n * ls * WEIGHTS["paraphrase"]
    q = {k: int(v) for k, v in raw.items()}
    for k in sorted(raw, key=lambda k: (raw[k] - q[k], k), reverse=True)[: n - sum(q.values())]:
        q[k] += 1
    return q


def rule_pairs(data_dir: Path, n: int = 300, seed: int = 0) -> list[dict]:
    """Deterministic rule-made claim/evidence pairs from the shared data (see module docstring).

    Each (lang, category) gets a quota (WEIGHTS x LANG_SHARE); categories are filled in turn by
    scanning the seeded shuffle of sentences, a sentence is used at most once, and a shortfall
    (a rule that applies too rarely) moves to the next category of the same label.
    """
    rng = random.Random(seed)
    items = load_sentences(Path(data_dir))
    rng.shuffle(items)
    quota = _quotas(n)
    used: set[str] = set()
    out: list[dict] = []
    order = ["paraphrase", "unit_format", "number", "direction", "entity", "date", "negation", "verbatim"]
    for lang in LANG_SHARE:
        pool = [it for it in items if it["lang"] == lang]
        carry = {"supported": 0, "hallucinated": 0}
        for cat in order:
            if (lang, cat) not in quota:
                continue
            label = "supported" if cat in SUPPORTED else "hallucinated"
            want = quota[(lang, cat)] + carry[label]
            got = 0
            for it in pool:
                if got >= want:
                    break
                if it["src"] in used:
                    continue
                res = RULES[lang][cat](it["sent"], it["evidence"], random.Random(f"{seed}:{it['src']}:{cat}"))
                if not res or (cat != "verbatim" and res[0] == it["sent"]):
                    continue
                claim, note = res
                pid = f"rule-{lang}-{it['src']}-{cat}"
                out.append({"id": pid, "evidence": it["evidence"], "claim": claim, "label": label,
                            "category": cat, "lang": lang, "split": _split_for(pid), "note": note})
                used.add(it["src"])
                got += 1
            carry[label] = want - got
    return out


def _main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data-dir", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    ap.add_argument("-n", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--examples", type=int, default=10)
    ap.add_argument("--jsonl", type=Path, help="also write the pairs here (outside the repo)")
    a = ap.parse_args()
    pairs = rule_pairs(a.data_dir, a.n, a.seed)
    c = Counter((p["lang"], p["label"], p["category"]) for p in pairs)
    print(f"{'lang':5} {'label':13} {'category':12} {'n':>4} {'heldout':>8}")
    for k in sorted(c):
        held = sum(1 for p in pairs if (p["lang"], p["label"], p["category"]) == k and p["split"] == "heldout")
        print(f"{k[0]:5} {k[1]:13} {k[2]:12} {c[k]:4d} {held:8d}")
    print(f"total {len(pairs)}  labels {dict(Counter(p['label'] for p in pairs))}  "
          f"splits {dict(Counter(p['split'] for p in pairs))}")
    rng = random.Random(a.seed + 1)
    for p in rng.sample(pairs, min(a.examples, len(pairs))):
        print("\n" + json.dumps({k: p[k] for k in ("id", "label", "category", "note")}, ensure_ascii=False))
        print("  claim:   ", p["claim"])
        print("  evidence:", p["evidence"][:300] + ("…" if len(p["evidence"]) > 300 else ""))
    if a.jsonl:
        with a.jsonl.open("w", encoding="utf-8") as f:
            for p in pairs:
                f.write(json.dumps(p, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    _main()
