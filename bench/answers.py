"""Extractive answers on KorQuAD: how often the answer holds the gold span, and how well it abstains.

    python bench/answers.py [--n 300] [--thresholds 0.3 0.4 0.5 0.6 0.7]

Answerable: the question over the whole corpus (k=5 chunks). Unanswerable: the same question with
every chunk of its gold article removed from the retrieved list, as if that article had never been
ingested; the right behaviour is to abstain. Uses the collection bench/retrieval.py built.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from eval.datasets import read_squad, sample  # noqa: E402
from indexes.chunking import DEFAULT_CHUNK_OVERLAP, DEFAULT_CHUNK_SIZE  # noqa: E402
from rag_app.answer import ExtractiveAnswerer  # noqa: E402
from rag_app.app import RagApp  # noqa: E402

DATA = ROOT.parent / "shared" / "data"


def squash(text: str) -> str:
    return "".join(text.split()).lower()


def korquad_app(cache: Path) -> RagApp:
    """The KorQuAD collection bench/retrieval.py built (exits with the fix when it is missing)."""
    app = RagApp(collection=f"bench-korquad-{DEFAULT_CHUNK_SIZE}-{DEFAULT_CHUNK_OVERLAP}", home=cache)
    if app.store.count() == 0:
        sys.exit("run bench/retrieval.py --datasets korquad first (it builds the collection)")
    return app


def korquad_cases(app: RagApp, n: int, k: int):
    """(question, top k chunks, top k chunks without the gold article) for n questions (seed 1)."""
    corpus, questions = read_squad(DATA / "korquad_v1_dev" / "KorQuAD_v1.0_dev.shared.json")
    cases = []
    for q in sample(questions, n, seed=1):
        article = next(iter(q.relevant)).rsplit("#", 1)[0]
        ranked = app.retrieve(q.question, k=k + 20)
        without_article = [c for c in ranked if c.metadata["source"].rsplit("#", 1)[0] != article]
        cases.append((q, ranked[:k], without_article[:k]))
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--thresholds", type=float, nargs="+", default=[0.3, 0.4, 0.5, 0.6, 0.7])
    parser.add_argument("--cache", type=Path, default=ROOT / "bench" / ".cache")
    args = parser.parse_args()
    app = korquad_app(args.cache)
    cases = korquad_cases(app, args.n, args.k)

    print(f"KorQuAD, {len(cases)} questions (seed 1), k={args.k}\n")
    print("| abstain threshold | answer holds gold span | false abstention (answerable) | abstention accuracy (gold article removed) | answer ms p50 |")
    print("|---|---|---|---|---|")
    for threshold in args.thresholds:
        answerer = ExtractiveAnswerer(app.terms, lambda t: app.store.bm25().idf(t), abstain_threshold=threshold)
        holds, false_abstain, true_abstain, times = 0, 0, 0, []
        for q, chunks, unanswerable in cases:
            started = time.perf_counter()
            answer = answerer.answer(q.question, chunks)
            times.append((time.perf_counter() - started) * 1000)
            false_abstain += answer.abstained
            holds += (not answer.abstained) and any(squash(a) in squash(answer.answer) for a in q.answers)
            true_abstain += answerer.answer(q.question, unanswerable).abstained
        n = len(cases)
        print(f"| {threshold} | {holds / n:.3f} | {false_abstain / n:.3f} | {true_abstain / n:.3f} | {statistics.median(times):.1f} |")


if __name__ == "__main__":
    main()
