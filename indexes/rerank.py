"""Second-stage reranking: score (question, chunk) pairs with a cross-encoder, keep the best k.

The retriever returns its candidates ranked by a cheap score; a cross-encoder reads the question
and each chunk together, which is slower but more accurate. Only the first `depth` candidates are
scored; candidates beyond `depth` are dropped, so every returned chunk carries a score from the
same model (one fixed output shape: ranked chunks whose `score` is the cross-encoder's).

    >>> reranker = CrossEncoderReranker("path/to/cross-encoder", depth=20)   # nothing loads yet
    >>> top = reranker.rerank("한국어 형태소 분석기는?", retriever.retrieve(q, k=20), k=5)  # doctest: +SKIP
    >>> [(c.id, round(c.score, 3)) for c in top]                                          # doctest: +SKIP
    [('c7', 0.981), ('c2', 0.874), ...]

Models load lazily on first use (any Hugging Face id or local path). No cross-encoder ships on
PyPI, so offline use needs a local path (see indexes/train_reranker.py to fine-tune one).
"""

from __future__ import annotations

import dataclasses
import logging
import os
from typing import Protocol, runtime_checkable

from indexes.retrieval import RetrievedChunk
from indexes.errors import RerankerError

logger = logging.getLogger(__name__)

INSTALL_HINT = "pip install torch==2.13.0 && pip install 'rag-app[st]'"
DEFAULT_DEPTH = 20
DEFAULT_BATCH_SIZE = 16




@runtime_checkable
class Reranker(Protocol):
    """Role: re-order retrieved chunks for a question. `name` identifies the model in reports."""

    name: str

    def rerank(self, query: str, chunks: list[RetrievedChunk], k: int) -> list[RetrievedChunk]: ...


def _looks_like_path(model: str) -> bool:
    return model.startswith((os.sep, ".", "~")) or (os.altsep is not None and os.altsep in model) or model.count("/") > 1


def load_cross_encoder(model: str, device: str | None = None, max_length: int | None = None, num_labels: int | None = None):
    """A sentence_transformers.CrossEncoder for `model`, or a one-line RerankerError with the fix."""
    try:
        from sentence_transformers import CrossEncoder
    except ImportError:
        raise RerankerError(f"the sentence-transformers package is not installed; run: {INSTALL_HINT}") from None
    if _looks_like_path(model) and not os.path.exists(os.path.expanduser(model)):
        raise RerankerError(
            f"cross-encoder model path {model!r} does not exist; give a local model directory "
            "(e.g. one written by indexes/train_reranker.py) or a Hugging Face id with network access"
        )
    try:
        return CrossEncoder(
            os.path.expanduser(model) if _looks_like_path(model) else model,
            device=device,
            max_length=max_length,
            num_labels=num_labels,
        )
    except (OSError, ValueError) as exc:  # OSError: missing files / offline; ValueError: bad id or config
        reason = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else exc.__class__.__name__
        raise RerankerError(
            f"cannot load cross-encoder model {model!r} ({exc.__class__.__name__}: {reason}); "
            "give a local model directory with config.json, weights and tokenizer, "
            "or a Hugging Face id with network access"
        ) from None


class CrossEncoderReranker:
    """Rerank with a sentence-transformers CrossEncoder (higher score = more relevant).

    `depth`: how many of the incoming chunks (in their incoming order) are scored; the rest are
    dropped. `rerank` returns at most min(k, depth, len(chunks)) chunks, sorted by the new score
    (ties keep the incoming order); `score` becomes the cross-encoder score, `dense_score` is kept.
    """

    def __init__(
        self,
        model: str,
        batch_size: int = DEFAULT_BATCH_SIZE,
        depth: int = DEFAULT_DEPTH,
        device: str | None = None,
        max_length: int | None = None,
    ):
        if not model:
            raise RerankerError("no cross-encoder model given; pass a Hugging Face id or a local model path")
        if depth <= 0:
            raise ValueError(f"depth must be positive, got {depth}")
        if batch_size <= 0:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        self.model_id = model
        self.name = model
        self.batch_size = batch_size
        self.depth = depth
        self.device = device
        self.max_length = max_length  # None: the model's own limit (its tokenizer's model_max_length)
        self._model = None

    def _load(self):
        if self._model is None:
            self._model = load_cross_encoder(self.model_id, device=self.device, max_length=self.max_length)
            logger.info("loaded cross-encoder %s", self.model_id)
        return self._model

    def score(self, query: str, texts: list[str]) -> list[float]:
        """Cross-encoder score of (query, text) for each text, in input order."""
        if not texts:
            return []
        scores = self._load().predict(
            [(query, text) for text in texts],
            batch_size=self.batch_size,
            show_progress_bar=False,
            convert_to_numpy=True,
        )
        return [float(s) for s in scores.reshape(len(texts), -1)[:, 0]]

    def rerank(self, query: str, chunks: list[RetrievedChunk], k: int) -> list[RetrievedChunk]:
        if k <= 0:
            raise ValueError(f"k must be positive, got {k}")
        candidates = list(chunks[: self.depth])
        if not candidates:
            return []
        scores = self.score(query, [chunk.text for chunk in candidates])
        order = sorted(range(len(candidates)), key=lambda i: -scores[i])  # stable: ties keep input order
        return [dataclasses.replace(candidates[i], score=scores[i]) for i in order[:k]]
