"""Offline (extractive) answers, measured on questions as people ask them, and on KorQuAD and AutoRAG.

    python bench/answers.py                       # the README table: natural held-back split, KorQuAD, AutoRAG
    python bench/answers.py --sets natural --split dev --curve   # the abstention trade-off on the dev split
    python bench/answers.py --tune                # choose the weights on the dev split (never on held-back)

- natural: bench/data/natural_questions.jsonl, written by hand over bench/data/natural_corpus (and
  samples/): colloquial Korean and English, paraphrases, restated units, table rows and database
  records, current-vs-outdated conflicts, and near-miss unanswerables. `split` is "dev" (tuned on)
  or "heldout" (reported, never tuned on).
- korquad: 200 KorQuAD 1.0 dev questions (seed 1) over its 580 paragraphs. Unanswerable: the same
  question with every chunk of its gold article removed from the retrieved list.
- autorag: the 114 AutoRAG questions over 720 real PDF pages, with the allganize reference answers
  (long free text, so "holds gold" is replaced by "cites the gold page").

Metrics: answer holds the gold (every `answers_all` fact too, and no `not_answers` value), F1
(KorQuAD character F1 for Korean, SQuAD token F1 for English; best over golds), false abstention
on answerable questions, abstention accuracy on unanswerable ones, per question type; warm
`RagApp.ask` latency (retrieval + answer, models loaded) p50/p95.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from langchain_core.documents import Document  # noqa: E402

from eval.answer_metrics import best_f1, contains_gold  # noqa: E402
from eval.datasets import read_beir_json, read_squad, sample  # noqa: E402
from indexes.chunking import DEFAULT_CHUNK_OVERLAP, DEFAULT_CHUNK_SIZE  # noqa: E402
from rag_app.app import RagApp  # noqa: E402
from rag_app.answer import HANGUL  # noqa: E402
from rag_app.extractive import DEFAULT_WEIGHTS, ExtractiveAnswerer, Weights, choose, rescale  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
NATURAL = ROOT / "bench" / "data" / "natural_questions.jsonl"
NATURAL_CORPUS = ROOT / "bench" / "data" / "natural_corpus"


@dataclass
class Case:
    id: str
    question: str
    kind: str  # question type ("unit", "table_row", ... or "korquad", "autorag")
    lang: str
    answerable: bool
    answers: list[str] = field(default_factory=list)
    answers_all: list[str] = field(default_factory=list)
    not_answers: list[str] = field(default_factory=list)
    gold_sources: list[str] = field(default_factory=list)  # autorag: page ids the answer should cite
    chunks: list = field(default_factory=list)


# ---- data sets -------------------------------------------------------------------------------------
def natural_app(cache: Path) -> RagApp:
    """bench/data/natural_corpus (files, and each table of its SQLite databases) plus samples/."""
    app = RagApp(collection=f"bench-natural-{DEFAULT_CHUNK_SIZE}-{DEFAULT_CHUNK_OVERLAP}", home=cache)
    files = [str(p) for p in sorted(NATURAL_CORPUS.rglob("*")) if p.is_file() and p.suffix != ".db"]
    app.ingest(files + [str(ROOT / "samples")])
    import sqlite3

    for db in sorted(NATURAL_CORPUS.rglob("*.db")):
        with sqlite3.connect(db) as connection:
            tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            app.ingest(f"sqlite:///{db}", table=table)
    return app


def natural_cases(split: str) -> list[Case]:
    cases = []
    for line in NATURAL.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        record = json.loads(line)
        if split != "all" and record.get("split") != split:
            continue
        cases.append(
            Case(
                id=record["id"],
                question=record["question"],
                kind=record.get("type", "?"),
                lang=record.get("lang", "?"),
                answerable=record.get("answerable", True),
                answers=record.get("answers", []),
                answers_all=record.get("answers_all", []),
                not_answers=record.get("not_answers", []),
            )
        )
    return cases


def corpus_app(name: str, corpus: dict[str, str], cache: Path) -> RagApp:
    """The collection bench/retrieval.py builds for `name` (built here when missing)."""
    app = RagApp(collection=f"bench-{name}-{DEFAULT_CHUNK_SIZE}-{DEFAULT_CHUNK_OVERLAP}", home=cache)
    if app.store.count() == 0:
        documents = [Document(page_content=text, metadata={"source": doc_id, "source_type": "text"}) for doc_id, text in corpus.items()]
        app.ingest_documents(documents, progress=True)
    return app


def korquad(cache: Path, n: int, k: int) -> tuple[RagApp, list[Case]]:
    corpus, questions = read_squad(DATA / "korquad_v1_dev" / "KorQuAD_v1.0_dev.shared.json")
    app = corpus_app("korquad", corpus, cache)
    cases = []
    for q in sample(questions, n, seed=1):
        article = next(iter(q.relevant)).rsplit("#", 1)[0]
        ranked = app.retrieve(q.question, k=k + 20)
        without = [c for c in ranked if c.metadata["source"].rsplit("#", 1)[0] != article]
        cases.append(Case(q.id, q.question, "korquad", "ko", True, list(q.answers), chunks=ranked[:k]))
        cases.append(Case(q.id + "-removed", q.question, "korquad (gold article removed)", "ko", False, chunks=without[:k]))
    return app, cases


def autorag(cache: Path, k: int) -> tuple[RagApp, list[Case]]:
    corpus, queries = read_beir_json(DATA / "autorag_retrieval_ko" / "autorag_retrieval.json")
    app = corpus_app("autorag", corpus, cache)
    references = {}
    for line in (DATA / "autorag_retrieval_ko" / "autorag_allganize_joined.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            references[record["qid"]] = record["reference_answer"]
    cases = []
    for q in queries:
        case = Case(q.id, q.question, "autorag", "ko", True, [references[q.id]] if q.id in references else [],
                    gold_sources=sorted(q.relevant))
        case.chunks = app.retrieve(q.question, k=k)
        cases.append(case)
    return app, cases


# ---- the answerer before this benchmark existed, for the "before" row -------------------------------
class WordsOnlyAnswerer:
    """The previous extractive answerer (rag_app/answer.py before December 2026), kept here as the
    baseline: sentences scored by the share of the question's idf-weighted Kiwi terms they contain
    (0.8 sentence + 0.2 chunk + a rank prior), abstaining below 0.5."""

    def __init__(self, app: RagApp):
        from rag_app.extractive import OUTDATED_MARKERS, QUESTION_WORDS

        self.app, self.outdated, self.question_words = app, OUTDATED_MARKERS, QUESTION_WORDS

    def answer(self, question: str, chunks):
        from indexes.chunking import split_sentences
        from rag_app.answer import Answer, abstention, citation_for

        terms = {t for t in self.app.terms(question) if t not in self.question_words}
        if not terms or not chunks:
            return abstention(question, chunks)
        weights = {t: self.app.store.bm25().idf(t) for t in terms}
        total = sum(weights.values()) or 1.0
        cover = lambda found: sum(w for t, w in weights.items() if t in found) / total  # noqa: E731
        candidates = []
        for rank, chunk in enumerate(chunks):
            analysed = [(s, set(self.app.terms(s))) for s in split_sentences(chunk.text)]
            chunk_cover = cover(set().union(*(t for _, t in analysed)))
            for sentence, found in analysed:
                if len(sentence) < 8 or sentence.startswith("#") or sentence.endswith("?"):
                    continue
                support = 0.8 * cover(found) + 0.2 * chunk_cover + 0.02 * (len(chunks) - rank) / len(chunks)
                score = support * 0.5 if self.outdated.search(sentence) else support
                candidates.append((score, support, sentence, rank))
        if not candidates or max(c[1] for c in candidates) < 0.5:
            return abstention(question, chunks)
        candidates.sort(key=lambda c: -c[0])
        chosen = [c for c in candidates if c[0] >= 0.8 * candidates[0][0]][:3]
        ranks = list(dict.fromkeys(c[3] for c in chosen))
        citations = [citation_for(n, chunks[rank]) for n, rank in enumerate(ranks, start=1)]
        return Answer(question=question, answer=" ".join(c[2] for c in chosen), abstained=False, citations=citations, chunks=chunks)


# ---- scoring ---------------------------------------------------------------------------------------
def answerer_for(app: RagApp, weights: Weights, semantic_candidates: int = 8) -> ExtractiveAnswerer:
    return ExtractiveAnswerer(
        app.terms, lambda t: app.store.bm25().idf(t), known=app._known_term, embedder=app.e5, weights=weights,
        semantic_candidates=semantic_candidates,
    )


def holds_gold(case: Case, text: str) -> bool:
    if case.kind == "autorag":
        return False
    if not any(contains_gold(text, a) for a in case.answers):
        return False
    if not all(contains_gold(text, a) for a in case.answers_all):
        return False
    return not any(contains_gold(text, a) for a in case.not_answers)


def grade(case: Case, answer) -> dict:
    row = {"abstained": answer.abstained, "answerable": case.answerable}
    if case.answerable:
        text = "" if answer.abstained else answer.answer
        row["holds"] = holds_gold(case, text) if case.kind != "autorag" else None
        row["f1"] = best_f1(text, case.answers) or 0.0 if case.answers else None
        if case.gold_sources:
            row["cites_gold"] = any(c.source in case.gold_sources for c in answer.citations)
    return row


def summarise(rows: list[dict]) -> dict:
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    mean = lambda values: sum(values) / len(values) if values else None  # noqa: E731
    return {
        "n": len(rows),
        "holds": mean([r["holds"] for r in answerable if r.get("holds") is not None]),
        "f1": mean([r["f1"] for r in answerable if r.get("f1") is not None]),
        "cites_gold": mean([r["cites_gold"] for r in answerable if "cites_gold" in r]),
        "false_abstain": mean([r["abstained"] for r in answerable]),
        "abstain_acc": mean([r["abstained"] for r in unanswerable]),
    }


def fmt(value) -> str:
    return "–" if value is None else f"{value:.3f}"


def run(answerer: ExtractiveAnswerer, cases: list[Case]) -> list[dict]:
    return [grade(case, answerer.answer(case.question, case.chunks)) for case in cases]


def table(title: str, groups: dict[str, list[dict]]) -> None:
    print(f"\n{title}\n")
    print("| questions | n | answer holds gold | F1 | cites gold page | false abstention | abstention accuracy (unanswerable) |")
    print("|---|---|---|---|---|---|---|")
    for name, rows in groups.items():
        s = summarise(rows)
        print(f"| {name} | {s['n']} | {fmt(s['holds'])} | {fmt(s['f1'])} | {fmt(s['cites_gold'])} | {fmt(s['false_abstain'])} | {fmt(s['abstain_acc'])} |")


def by_type(cases: list[Case], rows: list[dict]) -> dict[str, list[dict]]:
    groups: dict[str, list[dict]] = defaultdict(list)
    for case, row in zip(cases, rows):
        groups[f"{case.lang} {case.kind}"].append(row)
    return dict(sorted(groups.items()))


def latency(app: RagApp, questions: list[str]) -> tuple[float, float]:
    """Warm RagApp.ask (retrieval + answer), models loaded, ms p50 and p95."""
    app.ask(questions[0])
    times = []
    for question in questions:
        started = time.perf_counter()
        app.ask(question)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(0.95 * len(times)))]


# ---- tuning ----------------------------------------------------------------------------------------
def curve(answerer: ExtractiveAnswerer, cases: list[Case], thresholds: list[float]) -> None:
    """False abstention vs abstention accuracy as the operating point moves (the quoted text does not)."""
    decisions = [answerer.decide(c.question, c.chunks) for c in cases]
    print("\n| answer from top cosine | answer holds gold | false abstention | abstention accuracy |")
    print("|---|---|---|---|")
    for threshold in thresholds:
        rows = []
        for case, decision in zip(cases, decisions):
            abstained = not decision.chosen or decision.confidence < threshold
            text = " ".join(c.text for c in decision.chosen)
            rows.append({"abstained": abstained, "answerable": case.answerable,
                         "holds": not abstained and holds_gold(case, text), "f1": None})
        s = summarise(rows)
        print(f"| {threshold:.3f} | {fmt(s['holds'])} | {fmt(s['false_abstain'])} | {fmt(s['abstain_acc'])} |")


def _holds_under(weights: Weights, scored: list[tuple[Case, list]]) -> float:
    """Share of answerable questions whose quoted sentences hold the gold under `weights`
    (re-scoring candidates whose features were computed once)."""
    hits = 0
    for case, candidates in scored:
        for c in candidates:
            c.semantic = rescale(c.cosine, weights.semantic_floor, weights.semantic_ceiling)
            c.score = c.full_score(weights)
        chosen = choose(sorted(candidates, key=lambda c: -c.score), weights)
        hits += holds_gold(case, " ".join(c.text for c in chosen))
    return hits / max(len(scored), 1)


def tune(app: RagApp, cases: list[Case], seed: int = 0, trials: int = 400) -> None:
    """On the dev split only: (1) random search of the sentence weights for how often the answer
    holds the gold (4-fold cross-validation printed, so the gain is not just fitted noise); (2) the
    abstention threshold: the most abstention accuracy with false abstention at most 0.10 (5-fold
    CV printed). Prints what to put in rag_app/extractive.py (DEFAULT_WEIGHTS, DEFAULT_ABSTENTION)."""
    everything = answerer_for(app, DEFAULT_WEIGHTS, semantic_candidates=10_000)  # e5 for every candidate
    scored = [(c, everything.score_candidates(c.question, c.chunks)) for c in cases if c.answerable]
    scored = [(c, candidates) for c, candidates in scored if candidates]
    rng = np.random.default_rng(seed)

    def draw() -> Weights:
        return replace(DEFAULT_WEIGHTS, lexical=rng.uniform(0, 1), context=rng.uniform(0, 0.4), semantic=rng.uniform(0, 1),
                       type=rng.uniform(0, 0.5), rank=rng.uniform(0, 0.3), semantic_floor=rng.uniform(0.6, 0.85),
                       semantic_ceiling=rng.uniform(0.86, 1.0), relative=rng.uniform(0.7, 0.95))

    trials_list = [DEFAULT_WEIGHTS] + [draw() for _ in range(trials)]
    folds = np.array_split(rng.permutation(len(scored)), 4)
    for k, fold in enumerate(folds if trials else []):
        train = [scored[i] for f, idx in enumerate(folds) if f != k for i in idx]
        test = [scored[i] for i in fold]
        chosen = max(trials_list, key=lambda w: _holds_under(w, train))
        print(f"fold {k}: held-out-fold holds {_holds_under(chosen, test):.3f} (current weights {_holds_under(DEFAULT_WEIGHTS, test):.3f})")
    if trials:
        weights = max(trials_list, key=lambda w: _holds_under(w, scored))
        print(f"best weights on all dev: holds {_holds_under(weights, scored):.3f} (shipped: {_holds_under(DEFAULT_WEIGHTS, scored):.3f})\n{weights}")

    # The abstention rule, for the shipped weights: answer when the best question-sentence e5
    # cosine reaches a threshold. A logistic model over all five features of the decision scored
    # worse in cross-validation (bench/train_answer_selector.py: 0.27 vs 0.38 abstention accuracy
    # at false abstention <= 0.10), so the threshold on one feature is what ships.
    answerer = answerer_for(app, DEFAULT_WEIGHTS)
    decisions = [(c, answerer.decide(c.question, c.chunks)) for c in cases]
    top = np.array([d.features["top_cosine"] if d.chosen else 0.0 for _, d in decisions])
    answerable = np.array([c.answerable for c, _ in decisions])

    def operating_point(values: np.ndarray, labels: np.ndarray) -> float:
        """The highest threshold with false abstention at most 0.10 (the most abstention accuracy)."""
        best = float(values.min())
        for threshold in np.unique(values):
            if (values[labels] < threshold).mean() <= 0.10:
                best = float(threshold)
        return best

    korean = np.array([bool(HANGUL.search(c.question)) for c, _ in decisions])
    chosen: dict[str, float] = {}
    for name, group in (("threshold", korean), ("threshold_no_hangul", ~korean)):
        values, labels = top[group], answerable[group]
        folds = np.array_split(rng.permutation(len(values)), 5)
        caught, wrongly = [], []
        for fold in folds:
            train = np.setdiff1d(np.arange(len(values)), fold)
            abstained = values[fold] < operating_point(values[train], labels[train])
            caught.extend(abstained[~labels[fold]])
            wrongly.extend(abstained[labels[fold]])
        chosen[name] = operating_point(values, labels)
        print(f"{name}: {chosen[name]:.4f}; 5-fold CV on dev: abstention accuracy {np.mean(caught):.3f}, "
              f"false abstention {np.mean(wrongly):.3f} ({len(values)} questions)")
    print(f"Abstention(top_cosine=1.0, threshold={chosen['threshold']:.4f}, threshold_no_hangul={chosen['threshold_no_hangul']:.4f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", nargs="+", default=["natural", "korquad", "autorag"], choices=["natural", "korquad", "autorag"])
    parser.add_argument("--split", default="heldout", choices=["dev", "heldout", "all"], help="natural split to report")
    parser.add_argument("--n", type=int, default=200, help="KorQuAD questions")
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--curve", action="store_true", help="print the abstention trade-off curve")
    parser.add_argument("--tune", action="store_true", help="grid-search the weights on the natural dev split")
    parser.add_argument("--baseline", action="store_true", help="also score the previous, words-only answerer")
    parser.add_argument("--semantic-candidates", type=int, default=8, help="sentences per question scored with e5 (the app uses 8)")
    parser.add_argument("--trials", type=int, default=400, help="--tune: random weight settings to try (0: fit only the abstention model)")
    parser.add_argument("--cache", type=Path, default=ROOT / "bench" / ".cache")
    args = parser.parse_args()

    if args.tune:
        app = natural_app(args.cache)
        cases = natural_cases("dev")
        for case in cases:
            case.chunks = app.retrieve(case.question, k=args.k)
        tune(app, cases, trials=args.trials)
        return

    for name in args.sets:
        if name == "natural":
            app = natural_app(args.cache)
            cases = natural_cases(args.split)
            for case in cases:
                case.chunks = app.retrieve(case.question, k=args.k)
            title = f"natural questions, {args.split} split"
        elif name == "korquad":
            app, cases = korquad(args.cache, args.n, args.k)
            title = f"KorQuAD, {args.n} questions (seed 1), and the same with the gold article removed"
        else:
            app, cases = autorag(args.cache, args.k)
            title = "AutoRAG, 114 questions over 720 PDF pages (reference answers: long text, so F1 and cited page)"
        answerer = answerer_for(app, DEFAULT_WEIGHTS, args.semantic_candidates)
        rows = run(answerer, cases)
        groups = {"all": rows, **by_type(cases, rows)} if name == "natural" else {"all": rows}
        if name == "korquad":
            groups = {"answerable": [r for r in rows if r["answerable"]], "gold article removed": [r for r in rows if not r["answerable"]]}
        if args.baseline:
            groups["before: words only (rag_app/answer.py until Dec 2026)"] = run(WordsOnlyAnswerer(app), cases)
        table(title, groups)
        if args.curve:
            curve(answerer, cases, [round(0.80 + x / 200, 3) for x in range(0, 21)])
        questions = list(dict.fromkeys(c.question for c in cases))[:100]  # distinct: no cache hits
        p50, p95 = latency(app, questions)
        print(f"\nwarm ask latency over {len(questions)} distinct questions: p50 {p50:.0f} ms, p95 {p95:.0f} ms")


if __name__ == "__main__":
    main()
