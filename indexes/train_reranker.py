"""Fine-tune a cross-encoder reranker on (question, positive passage) pairs.

Hard negatives come from BM25 (Lucene variant) over Kiwi morphemes: for each question, the
top-scoring passages of the corpus other than its positive. Questions are split into train and
eval sets (deterministically, by `seed`); the model is trained with the sentence-transformers
CrossEncoderTrainer (binary cross-entropy, num_labels=1) and saved to `output_dir`.

Quality is reported as MRR@10 on the eval questions: each question's candidates are its BM25
top 10 with the positive forced in (it replaces the 10th when missing); the positive's rank under
the cross-encoder is counted pessimistically (ties rank it last), before and after training.

    >>> report = train_reranker(pairs, corpus, "path/to/base-bert", "models/reranker")  # doctest: +SKIP
    >>> report                                                                         # doctest: +SKIP
    {'mrr@10_before': 0.31, 'mrr@10_after': 0.78, 'train_pairs': 1600, 'eval_questions': 100}

Needs the `st` extra plus `datasets` and `accelerate` (the trainer uses them).
"""

from __future__ import annotations

import json
import contextlib
import io
import logging
import random
import tempfile
from pathlib import Path

import numpy as np

from indexes.baselines import Bm25Stats, bm25_scores
from indexes.morphemes import kiwi_terms
from indexes.rerank import INSTALL_HINT, RerankerError, load_cross_encoder

logger = logging.getLogger(__name__)

TRAIN_INSTALL_HINT = "pip install accelerate==1.15.0 datasets==5.2.0"
MRR_CUTOFF = 10


def korquad_pairs(path: str | Path, n: int | None = None) -> list[tuple[str, str]]:
    """The first `n` (question, paragraph) pairs of a SQuAD/KorQuAD JSON file (all when n is None).

    Unanswerable questions (SQuAD 2.0 `is_impossible`) are skipped.
        {"data": [{"paragraphs": [{"context": "...", "qas": [{"question": "...", ...}]}]}]}
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise RerankerError(f"cannot read SQuAD/KorQuAD file {str(path)!r}: {exc.__class__.__name__}") from None
    pairs: list[tuple[str, str]] = []
    for article in data.get("data", []):
        for paragraph in article.get("paragraphs", []):
            context = paragraph.get("context", "")
            for qa in paragraph.get("qas", []):
                if qa.get("is_impossible") or not qa.get("question"):
                    continue
                pairs.append((qa["question"], context))
                if n is not None and len(pairs) >= n:
                    return pairs
    return pairs


def _bm25_rankings(questions: list[str], passages: list[str]) -> list[np.ndarray]:
    """For each question, passage indices by descending BM25 (Lucene, Kiwi morphemes), ties by index."""
    stats = Bm25Stats.build([kiwi_terms(p) for p in passages])
    return [np.argsort(-bm25_scores(kiwi_terms(q), stats, variant="lucene"), kind="stable") for q in questions]


def mine_hard_negatives(ranking: np.ndarray, positive: int, n: int) -> list[int]:
    """The `n` best-ranked passage indices other than the positive."""
    return [int(i) for i in ranking if i != positive][:n]


def eval_candidates(ranking: np.ndarray, positive: int, cutoff: int = MRR_CUTOFF) -> list[int]:
    """BM25 top `cutoff` with the positive forced in (replacing the last one when missing)."""
    top = [int(i) for i in ranking[:cutoff]]
    if positive not in top:
        top = top[: cutoff - 1] + [positive]
    return top


def reciprocal_rank(scores: list[float], positive_position: int) -> float:
    """1 / rank of the positive; ties rank it last (a constant scorer earns no credit)."""
    target = scores[positive_position]
    rank = sum(1 for s in scores if s >= target)
    return 1.0 / rank


def _mrr(model, eval_items: list[tuple[str, int, list[int]]], passages: list[str], batch_size: int) -> float:
    if not eval_items:
        return 0.0
    total = 0.0
    for question, positive, candidates in eval_items:
        scores = model.predict(
            [(question, passages[i]) for i in candidates],
            batch_size=batch_size,
            show_progress_bar=False,
            convert_to_numpy=True,
        )
        scores = [float(s) for s in np.asarray(scores).reshape(len(candidates), -1)[:, 0]]
        total += reciprocal_rank(scores, candidates.index(positive))
    return total / len(eval_items)


def split_questions(n: int, eval_fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """Deterministic (train indices, eval indices) over n questions; both sorted."""
    if not 0.0 <= eval_fraction < 1.0:
        raise ValueError(f"eval_fraction must be in [0, 1), got {eval_fraction}")
    order = list(range(n))
    random.Random(seed).shuffle(order)
    n_eval = int(round(eval_fraction * n))
    if eval_fraction > 0 and n >= 2:
        n_eval = min(max(n_eval, 1), n - 1)
    return sorted(order[n_eval:]), sorted(order[:n_eval])


def train_reranker(
    pairs: list[tuple[str, str]],
    corpus: list[str],
    base_model: str,
    output_dir: str,
    hard_negatives: int = 3,
    epochs: int = 1,
    batch_size: int = 8,
    eval_fraction: float = 0.2,
    seed: int = 0,
    max_steps: int | None = None,
    learning_rate: float = 2e-5,
    device: str | None = None,
) -> dict:
    """Fine-tune `base_model` as a cross-encoder, save it to `output_dir`, return MRR@10 before/after.

    `pairs` are (question, positive passage); positives missing from `corpus` are added to it.
    Each train question yields 1 positive and up to `hard_negatives` negatives (labels 1.0 / 0.0).
    """
    if not pairs:
        raise ValueError("no training pairs given")
    if hard_negatives < 0:
        raise ValueError(f"hard_negatives must be >= 0, got {hard_negatives}")
    try:
        import torch
        from sentence_transformers.cross_encoder import CrossEncoderTrainer, CrossEncoderTrainingArguments
        from sentence_transformers.cross_encoder.losses import BinaryCrossEntropyLoss
    except ImportError:
        raise RerankerError(f"the sentence-transformers package is not installed; run: {INSTALL_HINT}") from None
    try:
        import accelerate  # noqa: F401  (the Hugging Face Trainer needs it)
        from datasets import Dataset
    except ImportError:
        raise RerankerError(f"training a reranker needs datasets and accelerate; run: {TRAIN_INSTALL_HINT}") from None

    passages = list(dict.fromkeys(list(corpus) + [p for _, p in pairs]))
    position = {p: i for i, p in enumerate(passages)}
    questions = [q for q, _ in pairs]
    positives = [position[p] for _, p in pairs]
    rankings = _bm25_rankings(questions, passages)

    train_idx, eval_idx = split_questions(len(pairs), eval_fraction, seed)
    rows: dict[str, list] = {"query": [], "passage": [], "label": []}
    for i in train_idx:
        rows["query"].append(questions[i])
        rows["passage"].append(passages[positives[i]])
        rows["label"].append(1.0)
        for neg in mine_hard_negatives(rankings[i], positives[i], hard_negatives):
            rows["query"].append(questions[i])
            rows["passage"].append(passages[neg])
            rows["label"].append(0.0)
    eval_items = [(questions[i], positives[i], eval_candidates(rankings[i], positives[i])) for i in eval_idx]

    torch.manual_seed(seed)
    model = load_cross_encoder(base_model, device=device, num_labels=1)
    mrr_before = _mrr(model, eval_items, passages, batch_size)

    with tempfile.TemporaryDirectory(prefix="rerank-train-") as scratch:
        args = CrossEncoderTrainingArguments(
            output_dir=scratch,
            num_train_epochs=epochs,
            max_steps=max_steps if max_steps is not None else -1,
            per_device_train_batch_size=batch_size,
            learning_rate=learning_rate,
            warmup_steps=0,
            seed=seed,
            data_seed=seed,
            save_strategy="no",
            eval_strategy="no",
            report_to="none",
            logging_strategy="no",
            disable_tqdm=True,
            dataloader_num_workers=0,
            use_cpu=device == "cpu",
        )
        trainer = CrossEncoderTrainer(
            model=model,
            args=args,
            train_dataset=Dataset.from_dict(rows),
            loss=BinaryCrossEntropyLoss(model),
        )
        # The Hugging Face Trainer prints its run summary to stdout; keep stdout for the caller's output.
        with contextlib.redirect_stdout(io.StringIO()) as summary:
            trainer.train()
        logger.debug("trainer summary: %s", summary.getvalue().strip())

    model.eval()
    mrr_after = _mrr(model, eval_items, passages, batch_size)
    Path(output_dir).mkdir(parents=True, exist_ok=True)
    model.save_pretrained(output_dir)
    report = {
        "mrr@10_before": float(mrr_before),
        "mrr@10_after": float(mrr_after),
        "train_pairs": len(rows["label"]),
        "eval_questions": len(eval_items),
        "corpus_passages": len(passages),  # where the hard negatives were mined
    }
    logger.info("trained reranker %s -> %s: %s", base_model, output_dir, report)
    return report
