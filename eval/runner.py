"""Running an evaluation: answer (or read) every question, score it, keep the rows safe.

    >>> from eval.datasets import load_dataset
    >>> from eval.runner import evaluate
    >>> result = evaluate(load_dataset("qa.jsonl"), app=RagApp(collection="docs"), judge=LexicalJudge())  # doctest: +SKIP
    >>> result["answer"]["f1"], result["grounding"]["hallucination_rate"]                                  # doctest: +SKIP

- Either `app` answers each question (`app.retrieve` at depth `depth` for the retrieval metrics,
  then `app.ask`), or `predictions` holds answers produced elsewhere.
- Rows are appended to `run_dir/rows.jsonl` as each question finishes; with `resume=True` the
  finished ones are kept and only the rest are answered, so a crash loses nothing.
- `AnswerCache` keeps generated answers by hash of (configuration, question): a rerun with the same
  settings, e.g. to try another judge, costs no generation. The configuration holds every setting
  that changes an answer and the collection's version (`answer_settings`), so re-tuning or
  re-ingesting never reuses an old answer.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import time
from pathlib import Path
from typing import Any, Callable

from eval.datasets import Dataset, DatasetError, Question
from eval.predictions import Prediction, prediction_from_answer
from eval.scoring import score_question, summarize
from rag_app.support import SupportJudge, support_threshold

log = logging.getLogger(__name__)

# Chunks retrieved for the retrieval metrics (the largest cutoff).
RETRIEVAL_DEPTH = 10
# Run settings that do not change a generated answer (left out of the answer cache key).
NOT_ANSWER_SETTINGS = frozenset({"judge", "threshold", "label", "dataset", "limit", "predictions"})


def answer_settings(app) -> dict[str, Any]:
    """Everything about `app` (a RagApp) that can change a generated answer, with the collection's
    version (a new one after every write): part of the answer cache's key, and of what a resumed run
    must share. An app-like object without some of these settings gets None for them."""
    s = app.settings

    def setting(name: str):
        return getattr(s, name, None)

    store = getattr(app, "store", None)
    provider = setting("provider")
    return {
        "collection": setting("collection"),
        "home": str(setting("home")) if setting("home") is not None else None,
        "collection_version": store.version() if store is not None else None,
        "chunks": store.count() if store is not None else None,
        "provider": provider if provider in (None, "extractive") else f"{provider}:{setting('model') or 'default'}",
        "base_url": setting("base_url"),
        "temperature": setting("temperature"),
        "max_tokens": setting("max_tokens"),
        "k": setting("k"),
        "mode": "agent" if setting("agent") else setting("mode"),
        "agent_max_steps": setting("agent_max_steps") if setting("agent") else None,
        "bm25_weight": setting("bm25_weight"),
        "bm25_weight_no_hangul": setting("bm25_weight_no_hangul"),
        "chunk_size": setting("chunk_size"),
        "chunk_overlap": setting("chunk_overlap"),
        "embedder": setting("embedder"),
        "bm25_tokenizer": setting("bm25_tokenizer"),
        "reranker": setting("reranker"),
        "rerank_depth": setting("rerank_depth") if setting("reranker") else None,
        "answer_judge": setting("judge"),  # the app's own citation check (the eval judge is "judge")
    }


def config_hash(config: dict[str, Any]) -> str:
    """A short stable hash of a JSON-able configuration.

    >>> config_hash({"b": 1, "a": [1, 2]}) == config_hash({"a": [1, 2], "b": 1})
    True
    """
    return hashlib.sha256(json.dumps(config, sort_keys=True, ensure_ascii=False, default=str).encode("utf-8")).hexdigest()[:16]


class AnswerCache:
    """Generated answers (as Prediction dicts) in SQLite, keyed by hash(config, question)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path)
        self._db.execute("CREATE TABLE IF NOT EXISTS answers (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        self._db.commit()

    @staticmethod
    def key(config: dict[str, Any], question: str) -> str:
        return hashlib.sha256(f"{config_hash(config)}\n{question}".encode("utf-8")).hexdigest()

    def get(self, config: dict[str, Any], question: Question) -> Prediction | None:
        found = self._db.execute("SELECT value FROM answers WHERE key = ?", (self.key(config, question.question),)).fetchone()
        if found is None:
            return None
        prediction = Prediction.from_dict(json.loads(found[0]))
        prediction.id = question.id
        return prediction

    def put(self, config: dict[str, Any], question: Question, prediction: Prediction) -> None:
        if prediction.error is not None:
            return  # a failure is not an answer: try again next time
        value = json.dumps(prediction.to_dict(), ensure_ascii=False)
        self._db.execute("INSERT OR REPLACE INTO answers VALUES (?, ?)", (self.key(config, question.question), value))
        self._db.commit()

    def close(self) -> None:
        self._db.close()


class RunLog:
    """rows.jsonl (one scored row per line, appended and flushed as each question finishes) and
    config.json (what the run is) in one directory."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.rows_path = self.directory / "rows.jsonl"
        self.config_path = self.directory / "config.json"

    def finished(self) -> dict[str, dict[str, Any]]:
        """Rows already written, by id; a line cut off by a crash is ignored."""
        rows: dict[str, dict[str, Any]] = {}
        if not self.rows_path.is_file():
            return rows
        for line in self.rows_path.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(row, dict) and "id" in row:
                rows[str(row["id"])] = row
        return rows

    def start(self, config: dict[str, Any], resume: bool) -> dict[str, dict[str, Any]]:
        """Open the run; returns the rows kept. Resuming a run made with another configuration is refused."""
        self.directory.mkdir(parents=True, exist_ok=True)
        if resume and self.config_path.is_file():
            before = json.loads(self.config_path.read_text(encoding="utf-8"))
            if config_hash(before) != config_hash(config):
                changed = sorted(k for k in set(before) | set(config) if before.get(k) != config.get(k))
                raise DatasetError(
                    f"{self.directory}: this run was made with other settings ({', '.join(changed)}); "
                    "drop --resume to start over, or choose another --run-dir"
                )
            kept = self.finished()
        else:
            kept = {}
            if self.rows_path.exists():
                self.rows_path.unlink()
        self.config_path.write_text(json.dumps(config, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
        if kept:  # rewrite without a cut-off last line
            self.rows_path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in kept.values()), encoding="utf-8")
        return kept

    def append(self, row: dict[str, Any]) -> None:
        with self.rows_path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
            handle.flush()


def answer_with_app(app, question: Question, depth: int = RETRIEVAL_DEPTH) -> Prediction:
    """The app's answer, with its retrieved chunks at `depth` for the retrieval metrics. A failure of
    the app on this question (a provider error) becomes the prediction's `error`."""
    from rag_app.errors import RagError

    try:
        retrieved = app.retrieve(question.question, k=max(depth, app.settings.k))
        answer = app.ask(question.question)
    except RagError as exc:
        return Prediction(question.id, "", False, error=str(exc))
    return prediction_from_answer(question.id, answer, retrieved)


def evaluate(
    dataset: Dataset,
    *,
    judge: SupportJudge,
    app=None,
    predictions: list[Prediction] | None = None,
    threshold: float | None = None,
    limit: int | None = None,
    depth: int = RETRIEVAL_DEPTH,
    run_dir: Path | None = None,
    resume: bool = False,
    cache: AnswerCache | None = None,
    config: dict[str, Any] | None = None,
    progress: bool = False,
    on_row: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Score every question of `dataset` (the first `limit`), answered by `app` or read from
    `predictions`; returns `summarize`'s result. `threshold` defaults to the judge's own. `config` describes the run (it keys the cache and
    guards `resume`)."""
    if (app is None) == (predictions is None):
        raise ValueError("give either app or predictions")
    threshold = support_threshold(judge) if threshold is None else threshold
    app_settings = answer_settings(app) if app is not None else {}
    config = {**app_settings, **(config or {}), "judge": getattr(judge, "name", str(judge)), "threshold": threshold}
    questions = dataset.questions[:limit] if limit else list(dataset.questions)
    by_id: dict[str, Prediction] = {}
    if predictions is not None:
        by_id = {p.id: p for p in predictions}
        missing = [q.id for q in questions if q.id not in by_id]
        if missing:
            log.warning("%d question(s) have no prediction and are left out (first: %s)", len(missing), missing[0])
        questions = [q for q in questions if q.id in by_id]
    run = RunLog(run_dir) if run_dir is not None else None
    done = run.start(config, resume) if run is not None else {}
    answer_config = {k: v for k, v in config.items() if k not in NOT_ANSWER_SETTINGS}

    from tqdm import tqdm

    rows: dict[str, dict[str, Any]] = {q.id: done[q.id] for q in questions if q.id in done}
    bar = tqdm(total=len(questions), initial=len(rows), unit=" questions", disable=not progress, dynamic_ncols=True, leave=False)
    for question in questions:
        if question.id in rows:
            continue
        started = time.perf_counter()
        if predictions is not None:
            prediction = by_id[question.id]
        else:
            prediction = cache.get(answer_config, question) if cache is not None else None
            if prediction is None:
                prediction = answer_with_app(app, question, depth)
                if cache is not None:
                    cache.put(answer_config, question, prediction)
        answered = time.perf_counter()
        row = score_question(question, prediction, judge, threshold)
        row["answer_ms"] = round((answered - started) * 1000, 1)
        row["judge_ms"] = round((time.perf_counter() - answered) * 1000, 1)
        rows[question.id] = row
        if run is not None:
            run.append(row)
        if on_row is not None:
            on_row(row)
        bar.update(1)
    bar.close()
    result = summarize([rows[q.id] for q in questions], config)
    if run is not None:
        (run.directory / "result.json").write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    return result
