"""Check bench/data/natural_questions.jsonl against its corpus (bench/data/natural_corpus/).

    .venv/bin/python bench/data/check_natural_questions.py [QUESTIONS.jsonl]

Checks: every line parses and has the required fields; ids are unique; every answerable question's
`answers` and `answers_all` strings occur verbatim (ignoring whitespace and case) in the text of at
least one of its `sources` (.md/.txt: the file; .csv/.xlsx/.db: one row rendered as "header: value"
lines, the way rag-app ingests it); every `not_answers` string occurs somewhere in the corpus; the
split is balanced within each (lang, type); the minimum counts per type are met. Prints the counts
per (lang, type, split) and exits 1 on any problem. Standard library only (openpyxl for .xlsx).
"""

from __future__ import annotations

import csv
import json
import re
import sqlite3
import sys
from collections import Counter
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = ROOT / "bench/data/natural_questions.jsonl"
CORPUS = ROOT / "bench/data/natural_corpus"

TYPES = (
    "paraphrase_verb", "synonym", "colloquial", "unit", "table_row", "db_record",
    "conflict", "multi_sentence", "factoid_copy", "unanswerable",
)
REQUIRED = {"id": str, "question": str, "answers": list, "sources": list, "answerable": bool,
            "lang": str, "type": str, "split": str}
ID_RE = re.compile(r"^(ko|en)-\d{3}$")
SQLITE_RE = re.compile(r"^sqlite:(?P<path>[^#]+)#(?P<table>\w+)$")
# (lang, type or group) -> minimum count
MINIMUMS = {
    ("ko", "*"): 220, ("en", "*"): 55, ("*", "unanswerable"): 65,
    ("ko", "paraphrase_verb"): 25, ("ko", "synonym"): 25, ("ko", "colloquial"): 25, ("ko", "unit"): 25,
    ("ko", "table_row+db_record"): 30, ("ko", "conflict"): 12, ("ko", "multi_sentence"): 15,
    ("ko", "unanswerable"): 50, ("en", "unanswerable"): 15,
}


def norm(text: str) -> str:
    return re.sub(r"\s+", "", text).lower()


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    return text[:-9] if text.endswith(" 00:00:00") else text


def _render(header: list[str], values) -> str:
    return "\n".join(f"{h}: {_cell(v)}" for h, v in zip(header, values) if _cell(v))


@lru_cache(maxsize=None)
def texts(source: str) -> tuple[str, ...]:
    """The normalized texts a source can be quoted from: one per file, or one per table row."""
    match = SQLITE_RE.match(source)
    if match:
        with sqlite3.connect(f"file:{ROOT / match['path']}?mode=ro", uri=True) as db:
            cursor = db.execute(f'SELECT * FROM "{match["table"]}"')
            header = [d[0] for d in cursor.description]
            return tuple(norm(_render(header, row)) for row in cursor)
    path = ROOT / source
    if not path.is_file():
        raise FileNotFoundError(source)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.reader(handle))
        return tuple(norm(_render(rows[0], row)) for row in rows[1:] if any(row))
    if suffix == ".xlsx":
        import openpyxl  # the one non-stdlib dependency, only for spreadsheets

        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        out = []
        for sheet in book.worksheets:
            rows = [r for r in sheet.iter_rows(values_only=True) if any(v is not None for v in r)]
            out += [norm(_render([_cell(h) for h in rows[0]], row)) for row in rows[1:]]
        return tuple(out)
    return (norm(path.read_text(encoding="utf-8")),)


def corpus_sources() -> list[str]:
    sources = [str(p.relative_to(ROOT)) for p in sorted(CORPUS.iterdir())
               if p.suffix.lower() in {".md", ".txt", ".csv", ".xlsx"}]
    for db in sorted(CORPUS.glob("*.db")):
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        sources += [f"sqlite:{db.relative_to(ROOT)}#{t}" for t in tables]
    return sources


def found(answer: str, sources: list[str]) -> bool:
    needle = norm(answer)
    return any(needle in text for s in sources for text in texts(s))


def main(path: Path) -> int:
    problems: list[str] = []
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"line {number}: not JSON ({exc})")
            continue
        where = f"line {number} ({rec.get('id', '?')})"
        bad = [k for k, t in REQUIRED.items() if not isinstance(rec.get(k), t)]
        if bad:
            problems.append(f"{where}: missing or mistyped fields {bad}")
            continue
        records.append(rec)
        if not ID_RE.match(rec["id"]) or not rec["id"].startswith(rec["lang"] + "-"):
            problems.append(f"{where}: id must be LANG-NNN matching lang")
        if rec["lang"] not in ("ko", "en"):
            problems.append(f"{where}: lang must be ko or en")
        if rec["type"] not in TYPES:
            problems.append(f"{where}: unknown type {rec['type']!r}")
        if rec["split"] not in ("dev", "heldout"):
            problems.append(f"{where}: split must be dev or heldout")
        if not rec["question"].strip():
            problems.append(f"{where}: empty question")
        if rec["answerable"] != (rec["type"] != "unanswerable"):
            problems.append(f"{where}: answerable must be false exactly for type unanswerable")
        for source in rec["sources"]:
            try:
                texts(source)
            except (FileNotFoundError, sqlite3.Error) as exc:
                problems.append(f"{where}: source {source!r} unreadable ({type(exc).__name__}: {exc})")
        if not rec["answerable"]:
            if rec["answers"] or rec.get("answers_all"):
                problems.append(f"{where}: unanswerable question with answers")
            continue
        if not rec["answers"] or not rec["sources"]:
            problems.append(f"{where}: answerable question needs answers and sources")
        readable = [s for s in rec["sources"] if _readable(s)]
        for answer in rec["answers"] + rec.get("answers_all", []):
            if not found(answer, readable):
                problems.append(f"{where}: answer {answer!r} not found in {rec['sources']}")
        for wrong in rec.get("not_answers", []):
            if not found(wrong, corpus_sources()):
                problems.append(f"{where}: not_answer {wrong!r} occurs nowhere in the corpus")
            if any(norm(wrong) in norm(a) for a in rec["answers"]):
                problems.append(f"{where}: not_answer {wrong!r} is inside a gold answer")

    ids = Counter(r["id"] for r in records)
    problems += [f"duplicate id {i} ({n}x)" for i, n in ids.items() if n > 1]
    questions = Counter(norm(r["question"]) for r in records)
    problems += [f"duplicate question {q!r}" for q, n in questions.items() if n > 1]

    counts = Counter((r["lang"], r["type"], r["split"]) for r in records)
    print(f"{'lang':<5}{'type':<17}{'dev':>5}{'heldout':>9}{'total':>7}")
    for lang in ("ko", "en"):
        for kind in TYPES:
            dev, held = counts[(lang, kind, "dev")], counts[(lang, kind, "heldout")]
            if dev + held:
                print(f"{lang:<5}{kind:<17}{dev:>5}{held:>9}{dev + held:>7}")
            if abs(dev - held) > 1:
                problems.append(f"split of ({lang}, {kind}) unbalanced: {dev} dev vs {held} heldout")
        total = sum(v for (l, _, _), v in counts.items() if l == lang)
        print(f"{lang:<5}{'(all)':<17}{'':>5}{'':>9}{total:>7}")
    print(f"{'all':<22}{sum(v for (_, _, s), v in counts.items() if s == 'dev'):>5}"
          f"{sum(v for (_, _, s), v in counts.items() if s == 'heldout'):>9}{len(records):>7}")

    for (lang, kind), minimum in MINIMUMS.items():
        kinds = TYPES if kind == "*" else kind.split("+")
        have = sum(v for (l, t, _), v in counts.items() if (lang == "*" or l == lang) and t in kinds)
        if have < minimum:
            problems.append(f"too few ({lang}, {kind}): {have} < {minimum}")

    for problem in problems:
        print("PROBLEM:", problem, file=sys.stderr)
    print(f"{len(records)} questions, {len(problems)} problems")
    return 1 if problems else 0


def _readable(source: str) -> bool:
    try:
        texts(source)
        return True
    except (FileNotFoundError, sqlite3.Error):
        return False


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT))
