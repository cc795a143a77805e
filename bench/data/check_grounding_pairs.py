"""Validate bench/data/grounding_pairs.jsonl (claim/evidence pairs for the grounding judge).

Stdlib only. Usage:
    python bench/data/check_grounding_pairs.py [path/to/grounding_pairs.jsonl]
    python bench/data/check_grounding_pairs.py bench/data/grounding_pairs_dev2.jsonl

Checks: every line parses; required keys and types; ids unique and well-formed;
label / category / lang / split values valid and category consistent with label;
hallucinated pairs carry a note; no duplicate (evidence, claim); no [n] citation
markers in claims; the five bug-report pairs are present, labelled as reported and
in dev; the coverage quotas from the spec. Prints a count table
(lang x category x label x split) and exits 1 on any problem.

A file whose lines are all dev (grounding_pairs_dev2.jsonl: ids dev2-ko-NNN, dev2-en-NNN,
dev2-x-NNN) is extra development data: the bug-report pairs and the dev/heldout balance are
not required there, and its own quotas (DEV_ONLY_*) replace the main file's.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

DEFAULT = Path(__file__).with_name("grounding_pairs.jsonl")

KEYS = ("id", "evidence", "claim", "label", "category", "lang", "split", "note")
LABELS = ("supported", "hallucinated")
LANGS = ("ko", "en", "cross")
SPLITS = ("dev", "heldout")
SUPPORTED_CATS = ("paraphrase", "unit_format", "summary", "cross_lingual", "verbatim", "partial_scope")
HALLUCINATED_CATS = ("number", "unit", "date", "attribute_swap", "entity", "negation", "direction",
                     "added_clause", "unsupported")
ID_RE = re.compile(r"^(ko|en|cross)-(s|h)-\d{3}$")
DEV2_ID_RE = re.compile(r"^dev2-(ko|en|x)-\d{3}$")
DEV2_LANG = {"ko": "ko", "en": "en", "x": "cross"}

# (evidence, claim, label, category) from the bug report; each must be present and in dev.
BUG_REPORT = [
    ("정기권 환불은 구매 후 7일 이내에만 가능하다.", "정기권은 구매 후 30일 이내에 환불할 수 있습니다.",
     "hallucinated", "number"),
    ("본사는 2016년 3월 판교로 이전했다.", "본사는 2018년에 판교로 이전했습니다.", "hallucinated", "date"),
    ("1호점은 오전 10시에, 2호점은 오전 11시에 문을 연다.", "2호점은 오전 10시에 문을 엽니다.",
     "hallucinated", "attribute_swap"),
    ("시제품 검수에는 보통 3주가 걸린다.", "시제품 검수에는 대략 21일이 소요됩니다.", "supported", "unit_format"),
    ("The Kestrel-2 scooter has a range of 45 km per charge.", "On one charge the Kestrel-2 can travel 45 kilometres.",
     "supported", "unit_format"),
]

# Minimum counts from the spec.
MIN_TOTAL = 320
MIN_LANG = {"ko": 200, "en": 80, "cross": 25}
MIN_HALLU_CAT, MIN_HALLU_CAT_KO = 20, 12
MIN_SUPPORTED_CAT = {"paraphrase": 40, "unit_format": 40}
SUPPORTED_SHARE = (0.38, 0.52)   # "about 45% supported"
HELDOUT_SHARE = (0.45, 0.55)     # "about 50/50"

# Quotas for an all-dev file (grounding_pairs_dev2.jsonl), from its spec.
DEV_ONLY_MIN_TOTAL = 260
DEV_ONLY_MIN_LANG = {"ko": 120, "en": 80, "cross": 40}
DEV_ONLY_MIN_HALLU_CAT = 15
DEV_ONLY_MIN_SUPPORTED_CAT = {"paraphrase": 30, "unit_format": 35, "summary": 12}
DEV_ONLY_MIN_CROSS_LINGUAL = 20   # supported cross_lingual pairs


def load(path: Path) -> tuple[list[dict], list[str]]:
    rows, problems = [], []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            problems.append(f"line {n}: empty line")
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            problems.append(f"line {n}: not JSON ({e})")
            continue
        if not isinstance(obj, dict):
            problems.append(f"line {n}: not an object")
            continue
        obj["_line"] = n
        rows.append(obj)
    return rows, problems


def check_row(r: dict) -> list[str]:
    where = f"line {r['_line']} ({r.get('id', '?')})"
    out = []
    missing = [k for k in KEYS if k not in r]
    if missing:
        return [f"{where}: missing keys {missing}"]
    extra = set(r) - set(KEYS) - {"_line"}
    if extra:
        out.append(f"{where}: unexpected keys {sorted(extra)}")
    for k in KEYS:
        if not isinstance(r[k], str):
            out.append(f"{where}: {k} is not a string")
    if out:
        return out
    m2 = DEV2_ID_RE.match(r["id"])
    if m2:
        if DEV2_LANG[m2.group(1)] != r["lang"]:
            out.append(f"{where}: id prefix disagrees with lang")
        if r["split"] != "dev":
            out.append(f"{where}: dev2 ids are development data, split must be dev")
    elif not ID_RE.match(r["id"]):
        out.append(f"{where}: id does not match <lang>-<s|h>-NNN or dev2-<ko|en|x>-NNN")
    else:
        lang_p, lab_p = r["id"].split("-")[:2]
        if lang_p != r["lang"] or lab_p != r["label"][0]:
            out.append(f"{where}: id prefix disagrees with lang/label")
    if r["label"] not in LABELS:
        out.append(f"{where}: bad label {r['label']!r}")
    if r["lang"] not in LANGS:
        out.append(f"{where}: bad lang {r['lang']!r}")
    if r["split"] not in SPLITS:
        out.append(f"{where}: bad split {r['split']!r}")
    cats = SUPPORTED_CATS if r["label"] == "supported" else HALLUCINATED_CATS
    if r["category"] not in cats:
        out.append(f"{where}: category {r['category']!r} not valid for label {r['label']!r}")
    if not r["evidence"].strip() or not r["claim"].strip():
        out.append(f"{where}: empty evidence or claim")
    if r["label"] == "hallucinated" and not r["note"].strip():
        out.append(f"{where}: hallucinated pair without a note")
    if re.search(r"\[\d+\]", r["claim"]):
        out.append(f"{where}: claim contains a [n] citation marker")
    if r["category"] != "verbatim" and r["evidence"].strip() == r["claim"].strip():
        out.append(f"{where}: claim identical to evidence but category is not verbatim")
    hangul_ev = bool(re.search(r"[가-힣]", r["evidence"]))
    hangul_cl = bool(re.search(r"[가-힣]", r["claim"]))
    if r["lang"] == "ko" and not (hangul_ev and hangul_cl):
        out.append(f"{where}: lang ko but evidence/claim has no Hangul")
    if r["lang"] == "en" and (hangul_ev or hangul_cl):
        out.append(f"{where}: lang en but Hangul present")
    if r["lang"] == "cross" and hangul_ev == hangul_cl:
        out.append(f"{where}: lang cross but evidence and claim are in the same script")
    if r["category"] == "cross_lingual" and r["lang"] != "cross":
        out.append(f"{where}: cross_lingual category needs lang cross")
    return out


def table(rows: list[dict]) -> str:
    c = Counter((r["lang"], r["label"], r["category"], r["split"]) for r in rows)
    keys = sorted({k[:3] for k in c}, key=lambda k: (LANGS.index(k[0]) if k[0] in LANGS else 9, k[1], k[2]))
    lines = [f"{'lang':6} {'label':13} {'category':15} {'dev':>4} {'held':>5} {'total':>6}"]
    for k in keys:
        d, h = c[k + ("dev",)], c[k + ("heldout",)]
        lines.append(f"{k[0]:6} {k[1]:13} {k[2]:15} {d:4d} {h:5d} {d + h:6d}")
    lines.append("")
    by_cat = Counter((r["label"], r["category"]) for r in rows)
    lines.append("per category (all langs): " + ", ".join(f"{cat}={n}" for (_, cat), n in sorted(by_cat.items())))
    by_lang = Counter(r["lang"] for r in rows)
    by_label = Counter(r["label"] for r in rows)
    by_split = Counter(r["split"] for r in rows)
    lines.append(f"lang: {dict(by_lang)}  label: {dict(by_label)}  split: {dict(by_split)}  total: {len(rows)}")
    return "\n".join(lines)


def check_quotas(rows: list[dict]) -> list[str]:
    out = []
    if len(rows) < MIN_TOTAL:
        out.append(f"only {len(rows)} pairs (< {MIN_TOTAL})")
    lang = Counter(r["lang"] for r in rows)
    for k, m in MIN_LANG.items():
        if lang[k] < m:
            out.append(f"lang {k}: {lang[k]} pairs (< {m})")
    cat = Counter(r["category"] for r in rows)
    cat_ko = Counter(r["category"] for r in rows if r["lang"] == "ko")
    for k in HALLUCINATED_CATS:
        if cat[k] < MIN_HALLU_CAT:
            out.append(f"hallucinated category {k}: {cat[k]} (< {MIN_HALLU_CAT})")
        if cat_ko[k] < MIN_HALLU_CAT_KO:
            out.append(f"hallucinated category {k}: {cat_ko[k]} Korean (< {MIN_HALLU_CAT_KO})")
    for k, m in MIN_SUPPORTED_CAT.items():
        if cat[k] < m:
            out.append(f"supported category {k}: {cat[k]} (< {m})")
    if rows:
        share = sum(r["label"] == "supported" for r in rows) / len(rows)
        if not SUPPORTED_SHARE[0] <= share <= SUPPORTED_SHARE[1]:
            out.append(f"supported share {share:.2f} outside {SUPPORTED_SHARE}")
        held = sum(r["split"] == "heldout" for r in rows) / len(rows)
        if not HELDOUT_SHARE[0] <= held <= HELDOUT_SHARE[1]:
            out.append(f"heldout share {held:.2f} outside {HELDOUT_SHARE}")
    # split balance within each (lang, label, category) group: counts may differ by at most 1
    grp = Counter((r["lang"], r["label"], r["category"], r["split"]) for r in rows)
    for g in {k[:3] for k in grp}:
        d, h = grp[g + ("dev",)], grp[g + ("heldout",)]
        if abs(d - h) > 1:
            out.append(f"group {g}: dev {d} vs heldout {h} not balanced")
    return out


def check_quotas_dev_only(rows: list[dict]) -> list[str]:
    """Quotas for an all-dev file: no bug-report pairs, no split balance."""
    out = []
    if len(rows) < DEV_ONLY_MIN_TOTAL:
        out.append(f"only {len(rows)} pairs (< {DEV_ONLY_MIN_TOTAL})")
    lang = Counter(r["lang"] for r in rows)
    for k, m in DEV_ONLY_MIN_LANG.items():
        if lang[k] < m:
            out.append(f"lang {k}: {lang[k]} pairs (< {m})")
    cat = Counter((r["label"], r["category"]) for r in rows)
    for k in HALLUCINATED_CATS:
        if cat[("hallucinated", k)] < DEV_ONLY_MIN_HALLU_CAT:
            out.append(f"hallucinated category {k}: {cat[('hallucinated', k)]} (< {DEV_ONLY_MIN_HALLU_CAT})")
    for k, m in DEV_ONLY_MIN_SUPPORTED_CAT.items():
        if cat[("supported", k)] < m:
            out.append(f"supported category {k}: {cat[('supported', k)]} (< {m})")
    if cat[("supported", "cross_lingual")] < DEV_ONLY_MIN_CROSS_LINGUAL:
        out.append(f"supported cross_lingual: {cat[('supported', 'cross_lingual')]} (< {DEV_ONLY_MIN_CROSS_LINGUAL})")
    if rows:
        share = sum(r["label"] == "supported" for r in rows) / len(rows)
        if not SUPPORTED_SHARE[0] <= share <= SUPPORTED_SHARE[1]:
            out.append(f"supported share {share:.2f} outside {SUPPORTED_SHARE}")
    return out


def main(argv: list[str]) -> int:
    path = Path(argv[1]) if len(argv) > 1 else DEFAULT
    rows, problems = load(path)
    for r in rows:
        problems += check_row(r)
    ids = Counter(r.get("id") for r in rows)
    problems += [f"duplicate id {i!r} ({n}x)" for i, n in ids.items() if n > 1]
    pairs = Counter((r.get("evidence"), r.get("claim")) for r in rows)
    problems += [f"duplicate pair: {c!r}" for (_, c), n in pairs.items() if n > 1]
    valid = [r for r in rows if all(isinstance(r.get(k), str) for k in KEYS)]
    dev_only = bool(valid) and all(r["split"] == "dev" for r in valid)
    if dev_only:
        print(f"{path.name}: all lines are dev -> bug-report pairs and split balance not required\n")
        problems += check_quotas_dev_only(valid)
        print(table(valid))
        return report(problems)
    index = {(r.get("evidence"), r.get("claim")): r for r in rows}
    for ev, cl, label, cat in BUG_REPORT:
        r = index.get((ev, cl))
        if r is None:
            problems.append(f"bug-report pair missing: {cl!r}")
        elif (r["label"], r["category"], r["split"]) != (label, cat, "dev"):
            problems.append(f"bug-report pair {r['id']}: expected {label}/{cat}/dev, "
                            f"got {r['label']}/{r['category']}/{r['split']}")
    problems += check_quotas(valid)
    print(table(valid))
    return report(problems)


def report(problems: list[str]) -> int:
    if problems:
        print(f"\n{len(problems)} problem(s):")
        for p in problems:
            print("  -", p)
        return 1
    print("\nOK")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
