"""Evaluation sets: our JSONL format, SQuAD/KorQuAD JSON, and MTEB/BEIR corpus-queries-qrels.

Every reader gives (corpus, questions). corpus: {doc_id: text} (empty for JSONL, whose documents
are ingested separately); questions: `Question`s with gold sources, pages and answers.

The JSONL format, one question per line:

    {"id": "q1", "question": "헌법 제1조는?", "answers": ["대한민국은 민주공화국이다"],
     "sources": ["constitution.txt"], "page": 1, "answerable": true}

`question` is required; `id` defaults to "line-N"; `answers` and `sources` may be a string or a
list; `page` an integer or a list (1-based); `answerable` defaults to true (false: the right
behaviour is to abstain). The aliases `qid`, `answer`/`reference_answer` and
`source`/`relevant_page_ids` are accepted too, so ../shared/data/autorag_retrieval_ko's joined
file reads as it is. A malformed line raises `DatasetError` naming the file and line.

    >>> dataset = load_dataset("../shared/data/korquad_v1_dev/KorQuAD_v1.0_dev.shared.json")  # doctest: +SKIP
    >>> dataset.format, len(dataset.corpus), len(dataset.questions)                          # doctest: +SKIP
    ('squad', 580, 3847)
"""

from __future__ import annotations

import csv
import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rag_app.errors import ConfigError


class DatasetError(ConfigError):
    """A dataset or predictions file cannot be read; the message names the file and line."""


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    relevant: frozenset[str]  # gold document ids / sources
    answers: tuple[str, ...] = field(default=())
    pages: tuple[int, ...] = field(default=())  # gold pages (1-based) within the gold sources; () = any page
    answerable: bool = True

    def to_dict(self) -> dict[str, Any]:
        """The JSONL record (`read_jsonl` reads it back to an equal Question)."""
        record: dict[str, Any] = {
            "id": self.id,
            "question": self.question,
            "answers": list(self.answers),
            "sources": sorted(self.relevant),
        }
        if self.pages:
            record["page"] = list(self.pages) if len(self.pages) > 1 else self.pages[0]
        if not self.answerable:
            record["answerable"] = False
        return record


@dataclass
class Dataset:
    path: Path
    format: str  # "jsonl", "squad" or "beir"
    questions: list[Question]
    corpus: dict[str, str] = field(default_factory=dict)  # doc_id -> text (squad / beir)
    titles: dict[str, str] = field(default_factory=dict)  # doc_id -> title, where the set has titles

    @property
    def name(self) -> str:
        return self.path.stem if self.path.is_file() else self.path.name


# ---- readers ------------------------------------------------------------------------------------


def read_squad(path: Path) -> tuple[dict[str, str], list[Question]]:
    """SQuAD / KorQuAD JSON: each paragraph is a document "<title>#<paragraph index>". SQuAD 2.0
    questions marked `is_impossible` are unanswerable."""
    data = _load_json(Path(path))
    corpus: dict[str, str] = {}
    questions: list[Question] = []
    for article in data["data"]:
        for i, paragraph in enumerate(article["paragraphs"]):
            doc_id = f"{article['title']}#{i}"
            corpus[doc_id] = paragraph["context"]
            for qa in paragraph["qas"]:
                answers = tuple(dict.fromkeys(a["text"] for a in qa.get("answers", [])))
                impossible = bool(qa.get("is_impossible", False))
                relevant = frozenset() if impossible else frozenset([doc_id])
                questions.append(Question(str(qa["id"]), qa["question"], relevant, answers, answerable=not impossible))
    return corpus, questions


def read_beir_json(path: Path) -> tuple[dict[str, str], list[Question]]:
    """One JSON file with "corpus" {id: {"title", "text"}}, "queries" {qid: text}, "qrels" {qid: {id: rel}}
    and, optionally, "answers" {qid: answer or [answers]} (the HotpotQA file has them)."""
    corpus, questions, _ = _read_beir_json(Path(path))
    return corpus, questions


def _read_beir_json(path: Path) -> tuple[dict[str, str], list[Question], dict[str, str]]:
    data = _load_json(path)
    for key in ("corpus", "queries", "qrels"):
        if key not in data:
            raise DatasetError(f"{path}: no {key!r} key; a BEIR-style JSON file needs corpus, queries and qrels")
    corpus = {doc_id: doc["text"] for doc_id, doc in data["corpus"].items()}
    titles = {doc_id: doc["title"] for doc_id, doc in data["corpus"].items() if doc.get("title")}
    answers = data.get("answers", {})
    questions = [
        Question(
            qid,
            text,
            frozenset(doc for doc, rel in data["qrels"].get(qid, {}).items() if rel > 0),
            _strings(answers.get(qid)),
        )
        for qid, text in data["queries"].items()
    ]
    return corpus, questions, titles


def read_beir_folder(folder: Path, split: str | None = None) -> tuple[dict[str, str], list[Question], dict[str, str]]:
    """MTEB/BEIR folder: corpus.jsonl ({"_id", "title", "text"}), queries.jsonl ({"_id", "text"}) and
    qrels/<split>.tsv (query-id, corpus-id, score; header line). The split defaults to test, else
    the only (or first) one; only queries with qrels in the split are kept."""
    folder = Path(folder)
    corpus: dict[str, str] = {}
    titles: dict[str, str] = {}
    for number, record in jsonl_records(folder / "corpus.jsonl"):
        doc_id = _field(record, "_id", folder / "corpus.jsonl", number)
        corpus[str(doc_id)] = str(record.get("text", ""))
        if record.get("title"):
            titles[str(doc_id)] = str(record["title"])
    queries = {}
    for number, record in jsonl_records(folder / "queries.jsonl"):
        queries[str(_field(record, "_id", folder / "queries.jsonl", number))] = str(_field(record, "text", folder / "queries.jsonl", number))
    qrels_path = _qrels_file(folder, split)
    qrels: dict[str, set[str]] = {}
    with qrels_path.open(encoding="utf-8", newline="") as handle:
        for number, row in enumerate(csv.reader(handle, delimiter="\t"), start=1):
            if not row or (number == 1 and not row[-1].strip().lstrip("-").isdigit()):
                continue  # blank line or header
            if len(row) < 3:
                raise DatasetError(f"{qrels_path}:{number}: expected query-id, corpus-id, score separated by tabs; fix that line")
            try:
                relevance = float(row[2])
            except ValueError:
                raise DatasetError(f"{qrels_path}:{number}: score {row[2]!r} is not a number; fix that line") from None
            qrels.setdefault(row[0], set())
            if relevance > 0:
                qrels[row[0]].add(row[1])
    questions = [Question(qid, queries[qid], frozenset(docs)) for qid, docs in qrels.items() if qid in queries]
    return corpus, questions, titles


def _qrels_file(folder: Path, split: str | None) -> Path:
    if split:
        candidates = [folder / "qrels" / f"{split}.tsv"]
    else:
        found = sorted((folder / "qrels").glob("*.tsv")) if (folder / "qrels").is_dir() else []
        candidates = [folder / "qrels" / "test.tsv", *found, folder / "qrels.tsv"]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise DatasetError(f"{folder}: no qrels file (qrels/test.tsv); an MTEB/BEIR folder needs corpus.jsonl, queries.jsonl and qrels/")


_ALIASES = {"id": ("id", "qid"), "answers": ("answers", "answer", "reference_answer"), "sources": ("sources", "source", "relevant_page_ids")}


def read_jsonl(path: Path) -> list[Question]:
    """Our JSONL format (module docstring). Raises DatasetError "PATH:LINE: problem; fix that line"."""
    path = Path(path)
    questions: list[Question] = []
    seen: dict[str, int] = {}
    for number, record in jsonl_records(path):
        where = f"{path}:{number}"
        question = record.get("question")
        if not isinstance(question, str) or not question.strip():
            raise DatasetError(f'{where}: no "question" string; fix that line')
        raw_id = _first(record, "id")
        if raw_id is not None and not isinstance(raw_id, (str, int)):
            raise DatasetError(f'{where}: "id" must be a string or a number; fix that line')
        qid = str(raw_id) if raw_id is not None else f"line-{number}"
        if qid in seen:
            raise DatasetError(f"{where}: id {qid!r} repeats line {seen[qid]}; ids must be unique")
        seen[qid] = number
        answers = _string_list(_first(record, "answers"), "answers", where)
        sources = _string_list(_first(record, "sources"), "sources", where)
        pages = record.get("page", record.get("pages"))
        pages = [pages] if isinstance(pages, int) and not isinstance(pages, bool) else pages
        if pages is not None and not (isinstance(pages, list) and all(isinstance(p, int) and not isinstance(p, bool) and p >= 1 for p in pages)):
            raise DatasetError(f'{where}: "page" must be a page number (1, 2, ...) or a list of them; fix that line')
        if pages and not sources:
            raise DatasetError(f'{where}: "page" without "sources"; name the document the page belongs to')
        answerable = record.get("answerable", True)
        if not isinstance(answerable, bool):
            raise DatasetError(f'{where}: "answerable" must be true or false; fix that line')
        questions.append(Question(qid, question.strip(), frozenset(sources), tuple(answers), tuple(pages or ()), answerable))
    if not questions:
        raise DatasetError(f"{path}: no questions; each line needs a JSON object with a \"question\"")
    return questions


def write_jsonl(questions: list[Question], path: Path) -> None:
    """Questions in our JSONL format (any reader's output can be written and read back)."""
    with Path(path).open("w", encoding="utf-8") as handle:
        for question in questions:
            handle.write(json.dumps(question.to_dict(), ensure_ascii=False) + "\n")


def load_dataset(path: str | Path) -> Dataset:
    """Any supported set by its shape: a folder (MTEB/BEIR), .jsonl (ours), .json (SQuAD/KorQuAD if
    it has "data", BEIR-style if it has "corpus")."""
    path = Path(path).expanduser()
    if not path.exists():
        raise DatasetError(f"{path}: not found; give a .jsonl, a SQuAD/KorQuAD .json or an MTEB/BEIR folder")
    if path.is_dir():
        corpus, questions, titles = read_beir_folder(path)
        return Dataset(path, "beir", questions, corpus, titles)
    if path.suffix.lower() == ".jsonl":
        return Dataset(path, "jsonl", read_jsonl(path))
    data = _load_json(path)
    if isinstance(data, dict) and "data" in data:
        corpus, questions = read_squad(path)
        return Dataset(path, "squad", questions, corpus)
    if isinstance(data, dict) and "corpus" in data:
        corpus, questions, titles = _read_beir_json(path)
        return Dataset(path, "beir", questions, corpus, titles)
    raise DatasetError(f"{path}: not a SQuAD/KorQuAD file (no \"data\") nor a BEIR-style file (no \"corpus\")")


def sample(questions: list[Question], n: int, seed: int = 0) -> list[Question]:
    return random.Random(seed).sample(questions, n) if n < len(questions) else list(questions)


# ---- helpers ------------------------------------------------------------------------------------


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg}); fix that line") from None
    except UnicodeDecodeError:
        raise DatasetError(f"{path}: not UTF-8 text; save it as UTF-8") from None


def jsonl_records(path: Path):
    """(line number, object) for each non-blank line."""
    if not path.is_file():
        raise DatasetError(f"{path}: not found")
    with path.open(encoding="utf-8") as handle:
        try:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    raise DatasetError(f"{path}:{number}: not valid JSON; fix that line") from None
                if not isinstance(record, dict):
                    raise DatasetError(f"{path}:{number}: not a JSON object; fix that line")
                yield number, record
        except UnicodeDecodeError:
            raise DatasetError(f"{path}: not UTF-8 text; save it as UTF-8") from None


def _field(record: dict, key: str, path: Path, number: int) -> Any:
    if key not in record:
        raise DatasetError(f"{path}:{number}: no {key!r} field; fix that line")
    return record[key]


def _first(record: dict, key: str) -> Any:
    for alias in _ALIASES[key]:
        if alias in record:
            return record[alias]
    return None


def _string_list(value: Any, name: str, where: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value.strip() else []
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [v for v in dict.fromkeys(value) if v.strip()]
    raise DatasetError(f'{where}: "{name}" must be a string or a list of strings; fix that line')


def _strings(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(str(v) for v in value)
