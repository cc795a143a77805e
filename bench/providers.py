"""Answer providers side by side on the same KorQuAD questions: accuracy, abstention, citations, latency.

    python bench/providers.py --provider extractive \\
        --provider openai:gpt-4o-mini \\
        --provider openai:qwen2.5-7b-instruct@http://127.0.0.1:8000/v1 \\
        --provider hf:naver-hyperclovax/HyperCLOVAX-SEED-Text-Instruct-1.5B [--n 50]

A provider is NAME[:MODEL][@BASE_URL]; keys come from OPENAI_API_KEY / GOOGLE_API_KEY. Each
question is asked twice with the same retrieved chunks for every provider: answerable (the top k
chunks) and unanswerable (the top k after removing every chunk of the gold article, as if it had
never been ingested; the right behaviour is to abstain). Uses the collection bench/retrieval.py
built (run `python bench/retrieval.py --datasets korquad` first).

Columns: holds gold = the answer contains a gold answer span (spaces ignored); F1 = KorQuAD
character F1 against the best gold answer (abstentions score 0); false abstention on answerable
questions; abstention accuracy on unanswerable ones; valid markers = share of the model's raw [n]
markers that pointed at a real context block; grounded = mean share of supported sentences;
first token / total = median milliseconds of generation (retrieval excluded).
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from eval.datasets import read_squad, sample  # noqa: E402
from indexes.chunking import DEFAULT_CHUNK_OVERLAP, DEFAULT_CHUNK_SIZE  # noqa: E402
from rag_app.answer import Answer  # noqa: E402
from rag_app.app import RagApp  # noqa: E402
from rag_app.grounding import markers_in  # noqa: E402

DATA = ROOT.parent / "shared" / "data"


def squash(text: str) -> str:
    return "".join(text.split()).lower()


def char_f1(prediction: str, gold: str) -> float:
    """KorQuAD-style character F1 on whitespace-free, lower-cased text."""
    from collections import Counter

    pred, ref = Counter(squash(prediction)), Counter(squash(gold))
    common = sum((pred & ref).values())
    if common == 0:
        return 0.0
    precision, recall = common / sum(pred.values()), common / sum(ref.values())
    return 2 * precision * recall / (precision + recall)


def parse_provider(spec: str) -> dict:
    spec, _, base_url = spec.partition("@")
    name, _, model = spec.partition(":")
    return {"provider": name, "model": model or None, "base_url": base_url or None}


def run(generator, question: str, chunks) -> tuple[Answer, str, float, float]:
    """(answer, raw streamed text, ms to first piece, ms in total)."""
    started = time.perf_counter()
    first = None
    raw = []
    for item in generator.stream(question, chunks):
        if isinstance(item, Answer):
            total = (time.perf_counter() - started) * 1000
            return item, "".join(raw), (first or total), total
        if first is None:
            first = (time.perf_counter() - started) * 1000
        raw.append(item)
    raise RuntimeError("the generator ended without an Answer")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--provider", action="append", help="NAME[:MODEL][@BASE_URL] (repeatable; default extractive)")
    parser.add_argument("--n", type=int, default=50, help="questions (each asked answerable and unanswerable)")
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--cache", type=Path, default=ROOT / "bench" / ".cache")
    args = parser.parse_args()
    corpus, questions = read_squad(DATA / "korquad_v1_dev" / "KorQuAD_v1.0_dev.shared.json")
    questions = sample(questions, args.n, seed=1)
    base = RagApp(collection=f"bench-korquad-{DEFAULT_CHUNK_SIZE}-{DEFAULT_CHUNK_OVERLAP}", home=args.cache)
    if base.store.count() == 0:
        sys.exit("run bench/retrieval.py --datasets korquad first (it builds the collection)")
    cases = []
    for q in questions:
        article = next(iter(q.relevant)).rsplit("#", 1)[0]
        ranked = base.retrieve(q.question, k=args.k + 20)
        without_article = [c for c in ranked if c.metadata["source"].rsplit("#", 1)[0] != article]
        cases.append((q, ranked[: args.k], without_article[: args.k]))

    print(f"KorQuAD, {len(cases)} questions (seed 1), k={args.k}; same chunks for every provider\n")
    print("| provider | holds gold | F1 | false abstention | abstention accuracy | valid markers | grounded | first token ms | total ms |")
    print("|---|---|---|---|---|---|---|---|---|")
    for spec in args.provider or ["extractive"]:
        app = RagApp(collection=base.collection, home=args.cache, **parse_provider(spec))
        generator = app.generator
        holds = f1 = false_abstain = true_abstain = markers = valid = 0
        grounded, firsts, totals = [], [], []
        for q, chunks, unanswerable in cases:
            answer, raw, first, total = run(generator, q.question, chunks)
            firsts.append(first)
            totals.append(total)
            numbers = markers_in(raw)
            markers += len(numbers)
            valid += sum(1 <= n <= len(chunks) for n in numbers)
            if answer.abstained:
                false_abstain += 1
            else:
                holds += any(squash(a) in squash(answer.answer) for a in q.answers)
                f1 += max(char_f1(re.sub(r"\[\d+\]", "", answer.answer), a) for a in q.answers)
                grounded.append(answer.grounded or 0.0)
            true_abstain += run(generator, q.question, unanswerable)[0].abstained
        n = len(cases)
        print(
            f"| {generator.name if spec == 'extractive' else spec} | {holds / n:.3f} | {f1 / n:.3f} | {false_abstain / n:.3f} "
            f"| {true_abstain / n:.3f} | {valid / markers if markers else 1.0:.3f} "
            f"| {statistics.mean(grounded) if grounded else 0.0:.3f} "
            f"| {statistics.median(firsts):.0f} | {statistics.median(totals):.0f} |"
        )


if __name__ == "__main__":
    main()
