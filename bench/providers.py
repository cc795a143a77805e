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

Columns: holds gold = the answer contains a gold answer span (KorQuAD normalisation, spaces
ignored); F1 = KorQuAD character F1 against the best gold answer (abstentions score 0); false abstention on answerable
questions; abstention accuracy on unanswerable ones; valid markers = share of the model's raw [n]
markers that pointed at a real context block; grounded = mean share of supported sentences;
first token / total = median milliseconds of generation (retrieval excluded).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from answers import korquad_app, korquad_cases  # noqa: E402  (bench/answers.py, beside this script)
from eval.answer_metrics import best_contains, best_f1  # noqa: E402
from rag_app.answer import Answer  # noqa: E402
from rag_app.app import RagApp  # noqa: E402
from rag_app.grounding import markers_in, strip_markers  # noqa: E402


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
    base = korquad_app(args.cache)
    cases = korquad_cases(base, args.n, args.k)

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
                text = strip_markers(answer.answer)
                holds += best_contains(text, q.answers) or 0.0
                f1 += best_f1(text, q.answers) or 0.0
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
