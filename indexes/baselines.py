"""Classic retrieval baselines: BM25 variants (numpy only) and TF-IDF (scikit-learn, lazy).

BM25 is split the way bm25s splits it: a variant is a pair of pure functions, an idf over document
frequencies and a term-frequency component over (tf, document length), chosen by name.
Corpus statistics are computed once (`Bm25Stats.build`) so scoring many queries is cheap.

    >>> docs = [["사과", "바나나"], ["사과", "사과", "포도"], ["포도"]]
    >>> bm25_scores(["바나나"], docs, variant="okapi").round(4).tolist()
    [0.5108, 0.0, 0.0]

Every variant matches its reference implementation to float precision (tests/indexes/test_baselines.py):

    okapi     rank_bm25.BM25Okapi  idf = ln((N - df + 0.5) / (df + 0.5)); a negative idf is replaced
                                   by epsilon * (mean raw idf over the vocabulary), epsilon = 0.25.
                                   That floor can itself be negative (a corpus where most terms are
                                   common), so Okapi scores can be negative; rank_bm25 does the same.
              tfc = tf (k1 + 1) / (tf + k1 (1 - b + b dl / avgdl))
    lucene    bm25s.BM25(method="lucene") and Lucene >= 8:
              idf = ln(1 + (N - df + 0.5) / (df + 0.5)), tfc = tf / (tf + k1 (1 - b + b dl / avgdl))
    bm25plus  rank_bm25.BM25Plus   idf = ln((N + 1) / df), tfc = delta + tf (k1 + 1) / (k1 (...) + tf);
                                   delta (default 1.0) is added for every document, matching or not.
    bm25l     rank_bm25.BM25L      idf = ln((N + 1) / (df + 0.5)), c = tf / (1 - b + b dl / avgdl),
                                   tfc = tf (k1 + 1) (c + delta) / (k1 + c + delta), delta default 0.5.
                                   The leading `tf` factor is rank_bm25's (the paper has none; it
                                   only zeroes non-matching documents there); kept for parity.

Conventions shared by all variants (and by rank_bm25 / bm25s): each occurrence of a query token adds
its term score once (a repeated query token counts twice); a token absent from the corpus adds 0.

TF-IDF uses scikit-learn's `TfidfVectorizer`, imported inside the functions that need it so that
importing this module (and `rag-app --help`) stays fast. For Korean the analyzer is
`indexes.morphemes.kiwi_terms`. scikit-learn ignores `ngram_range` when `analyzer` is a callable,
so n-grams over morphemes are built inside the analyzer (`NgramAnalyzer`), joined with a space
exactly like sklearn's own word n-grams: `NgramAnalyzer(kiwi_terms, (1, 2))` gives the same
features as `TfidfVectorizer(tokenizer=kiwi_terms, lowercase=False, ngram_range=(1, 2))`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Sequence, Union

import numpy as np

Analyzer = Callable[[str], list[str]]
AnalyzerSpec = Union[Analyzer, str]  # a callable, "char" (sklearn character n-grams), "kiwi" or "whitespace"

OKAPI_EPSILON = 0.25


# ---- corpus statistics ------------------------------------------------------------------------
@dataclass(frozen=True)
class Bm25Stats:
    """Everything BM25 needs about a tokenized corpus.

    vocabulary: term -> column; document_frequency[column] = number of documents with the term;
    postings[column] = (document indices, term counts) of the documents that contain it.
    """

    n_docs: int
    avgdl: float
    doc_lengths: np.ndarray  # float64, shape (n_docs,)
    vocabulary: dict[str, int]
    document_frequency: np.ndarray  # float64, shape (n_terms,)
    postings: list[tuple[np.ndarray, np.ndarray]]
    _idf_cache: dict = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def build(cls, doc_tokens_list: Sequence[Sequence[str]]) -> "Bm25Stats":
        vocabulary: dict[str, int] = {}
        doc_ids: list[list[int]] = []
        counts: list[list[int]] = []
        lengths = []
        for doc_index, tokens in enumerate(doc_tokens_list):
            if isinstance(tokens, str):
                raise TypeError(f"document {doc_index} is a string; pass a list of tokens per document")
            lengths.append(len(tokens))
            for term, count in Counter(tokens).items():
                column = vocabulary.setdefault(term, len(vocabulary))
                if column == len(doc_ids):
                    doc_ids.append([])
                    counts.append([])
                doc_ids[column].append(doc_index)
                counts[column].append(count)
        n_docs = len(lengths)
        doc_lengths = np.asarray(lengths, dtype=np.float64)
        return cls(
            n_docs=n_docs,
            avgdl=float(doc_lengths.sum() / n_docs) if n_docs else 0.0,
            doc_lengths=doc_lengths,
            vocabulary=vocabulary,
            document_frequency=np.asarray([len(ids) for ids in doc_ids], dtype=np.float64),
            postings=[
                (np.asarray(ids, dtype=np.intp), np.asarray(c, dtype=np.float64)) for ids, c in zip(doc_ids, counts)
            ],
        )

    def df(self, term: str) -> int:
        column = self.vocabulary.get(term)
        return 0 if column is None else int(self.document_frequency[column])

    def term_frequencies(self, term: str) -> np.ndarray:
        """Count of `term` in every document (dense, shape (n_docs,))."""
        tf = np.zeros(self.n_docs, dtype=np.float64)
        column = self.vocabulary.get(term)
        if column is not None:
            ids, counts = self.postings[column]
            tf[ids] = counts
        return tf

    def idf(self, variant: "Bm25Variant") -> np.ndarray:
        """The variant's idf for every vocabulary term (computed once per variant, then cached)."""
        if variant.name not in self._idf_cache:
            self._idf_cache[variant.name] = variant.idf(self.document_frequency, self.n_docs)
        return self._idf_cache[variant.name]


# ---- idf functions (vectorized over the whole vocabulary) -------------------------------------
def idf_okapi(df: np.ndarray, n_docs: int, epsilon: float = OKAPI_EPSILON) -> np.ndarray:
    """rank_bm25.BM25Okapi: ln((N - df + 0.5) / (df + 0.5)), negatives floored to epsilon * mean idf."""
    idf = np.log(n_docs - df + 0.5) - np.log(df + 0.5)
    if idf.size:
        idf = np.where(idf < 0, epsilon * idf.mean(), idf)
    return idf


def idf_lucene(df: np.ndarray, n_docs: int) -> np.ndarray:
    return np.log(1.0 + (n_docs - df + 0.5) / (df + 0.5))


def idf_bm25plus(df: np.ndarray, n_docs: int) -> np.ndarray:
    return np.log((n_docs + 1) / df)


def idf_bm25l(df: np.ndarray, n_docs: int) -> np.ndarray:
    return np.log(n_docs + 1) - np.log(df + 0.5)


# ---- term-frequency components ----------------------------------------------------------------
def _length_norm(doc_lengths: np.ndarray, avgdl: float, b: float) -> np.ndarray:
    return 1.0 - b + b * doc_lengths / avgdl


def tfc_okapi(tf, doc_lengths, avgdl, k1, b, delta):
    return tf * (k1 + 1) / (tf + k1 * _length_norm(doc_lengths, avgdl, b))


def tfc_lucene(tf, doc_lengths, avgdl, k1, b, delta):
    return tf / (tf + k1 * _length_norm(doc_lengths, avgdl, b))


def tfc_bm25plus(tf, doc_lengths, avgdl, k1, b, delta):
    return delta + tf * (k1 + 1) / (k1 * _length_norm(doc_lengths, avgdl, b) + tf)


def tfc_bm25l(tf, doc_lengths, avgdl, k1, b, delta):
    c = tf / _length_norm(doc_lengths, avgdl, b)
    return tf * (k1 + 1) * (c + delta) / (k1 + c + delta)


@dataclass(frozen=True)
class Bm25Variant:
    """A BM25 variant: score = sum over query tokens of idf(term) * tfc(tf, dl). Callable."""

    name: str
    idf: Callable[[np.ndarray, int], np.ndarray]
    tfc: Callable[..., np.ndarray]
    default_delta: float = 0.0

    def __call__(
        self,
        query_tokens: Sequence[str],
        stats: Bm25Stats,
        k1: float = 1.5,
        b: float = 0.75,
        delta: float | None = None,
    ) -> np.ndarray:
        delta = self.default_delta if delta is None else delta
        scores = np.zeros(stats.n_docs, dtype=np.float64)
        idf = stats.idf(self)
        for term in query_tokens:
            column = stats.vocabulary.get(term)
            if column is None:
                continue  # unknown term: idf 0 in rank_bm25, dropped by bm25s
            tf = stats.term_frequencies(term)
            scores += idf[column] * self.tfc(tf, stats.doc_lengths, stats.avgdl, k1, b, delta)
        return scores


BM25_VARIANTS: dict[str, Bm25Variant] = {
    "okapi": Bm25Variant("okapi", idf_okapi, tfc_okapi),
    "lucene": Bm25Variant("lucene", idf_lucene, tfc_lucene),
    "bm25plus": Bm25Variant("bm25plus", idf_bm25plus, tfc_bm25plus, default_delta=1.0),
    "bm25l": Bm25Variant("bm25l", idf_bm25l, tfc_bm25l, default_delta=0.5),
}


def get_bm25_variant(name: str) -> Bm25Variant:
    try:
        return BM25_VARIANTS[name]
    except KeyError:
        raise ValueError(f"unknown BM25 variant {name!r}; choose one of: {', '.join(BM25_VARIANTS)}") from None


def bm25_scores(
    query_tokens: Sequence[str],
    corpus: Sequence[Sequence[str]] | Bm25Stats,
    variant: str | Bm25Variant = "okapi",
    k1: float = 1.5,
    b: float = 0.75,
    delta: float | None = None,
) -> np.ndarray:
    """BM25 score of every document (float64, aligned with the corpus).

    `corpus` is a list of token lists or a prebuilt `Bm25Stats` (build it once for many queries).
    `delta` defaults to the variant's own (bm25plus 1.0, bm25l 0.5, as in rank_bm25); okapi and
    lucene ignore it.

        >>> stats = Bm25Stats.build([["a", "b"], ["a"], ["b", "b", "c"]])
        >>> bm25_scores(["c"], stats, variant="lucene").round(4).tolist()
        [0.0, 0.0, 0.3203]
    """
    if isinstance(variant, str):
        variant = get_bm25_variant(variant)
    stats = corpus if isinstance(corpus, Bm25Stats) else Bm25Stats.build(corpus)
    if isinstance(query_tokens, str):
        raise TypeError("query_tokens is a string; tokenize it first (e.g. indexes.morphemes.kiwi_terms)")
    return variant(query_tokens, stats, k1=k1, b=b, delta=delta)


# ---- TF-IDF (scikit-learn) --------------------------------------------------------------------
class NgramAnalyzer:
    """Word n-grams over the terms of `base` (a callable analyzer), joined with a space.

    Same output as scikit-learn's word n-grams, for callers that pass a callable `analyzer` (which
    makes sklearn ignore `ngram_range`).

        >>> NgramAnalyzer(str.split, (1, 2))("a b c")
        ['a', 'b', 'c', 'a b', 'b c']
    """

    def __init__(self, base: Analyzer, ngram_range: tuple[int, int] = (1, 1)):
        low, high = ngram_range
        if not 1 <= low <= high:
            raise ValueError(f"invalid ngram_range {ngram_range!r}; need 1 <= min_n <= max_n")
        self.base = base
        self.ngram_range = (low, high)

    def __call__(self, text: str) -> list[str]:
        terms = list(self.base(text))
        low, high = self.ngram_range
        grams = list(terms) if low == 1 else []
        for n in range(max(low, 2), min(high, len(terms)) + 1):
            grams.extend(" ".join(terms[i : i + n]) for i in range(len(terms) - n + 1))
        return grams

    def __repr__(self) -> str:
        return f"NgramAnalyzer({getattr(self.base, '__name__', self.base)!r}, {self.ngram_range})"


def _resolve_analyzer(analyzer: AnalyzerSpec) -> Analyzer:
    if callable(analyzer):
        return analyzer
    from indexes.morphemes import TOKENIZERS

    if analyzer in TOKENIZERS:
        return TOKENIZERS[analyzer]
    raise ValueError(f"unknown analyzer {analyzer!r}; pass a callable or one of: char, {', '.join(TOKENIZERS)}")


def _vectorizer_kwargs(analyzer: AnalyzerSpec, ngram_range: tuple[int, int]) -> dict:
    """TfidfVectorizer/CountVectorizer arguments: sklearn char n-grams, or our n-gram analyzer."""
    if analyzer == "char":
        return {"analyzer": "char", "ngram_range": tuple(ngram_range)}
    base = _resolve_analyzer(analyzer)
    if tuple(ngram_range) == (1, 1):
        return {"analyzer": base}
    return {"analyzer": NgramAnalyzer(base, tuple(ngram_range))}


class TfidfRetriever:
    """Cosine similarity between TF-IDF vectors (scikit-learn `TfidfVectorizer`, l2-normalized).

    `analyzer`: a callable (text -> terms), "kiwi" (Korean content morphemes, the default),
    "whitespace", or "char" (sklearn's character n-grams over the raw text). With a callable or
    named analyzer the n-grams of `ngram_range` are built over its terms by `NgramAnalyzer`.

        >>> r = TfidfRetriever("whitespace").fit(["사과 바나나", "포도 수박", "사과 포도"])
        >>> [i for i, _ in r.top_k("사과 바나나", 2)]
        [0, 2]
    """

    def __init__(
        self,
        analyzer: AnalyzerSpec = "kiwi",
        ngram_range: tuple[int, int] = (1, 2),
        sublinear_tf: bool = True,
    ):
        self.analyzer = analyzer
        self.ngram_range = tuple(ngram_range)
        self.sublinear_tf = sublinear_tf
        self.vectorizer = None
        self.matrix = None  # scipy.sparse CSR, (n_docs, n_features), rows l2-normalized

    def fit(self, texts: Sequence[str]) -> "TfidfRetriever":
        from sklearn.feature_extraction.text import TfidfVectorizer

        if isinstance(texts, str):
            raise TypeError("texts is a string; pass a list of documents")
        self.vectorizer = TfidfVectorizer(
            sublinear_tf=self.sublinear_tf, **_vectorizer_kwargs(self.analyzer, self.ngram_range)
        )
        self.matrix = self.vectorizer.fit_transform(list(texts)).tocsr()
        return self

    def scores(self, query: str) -> np.ndarray:
        """Cosine similarity of `query` with every document (float64; 0 where nothing is shared)."""
        if self.vectorizer is None:
            raise RuntimeError("TfidfRetriever.scores called before fit(texts)")
        q = self.vectorizer.transform([query])
        return np.asarray((self.matrix @ q.T).toarray(), dtype=np.float64).ravel()

    def top_k(self, query: str, k: int = 5) -> list[tuple[int, float]]:
        """The k best (document index, score), best first; ties keep corpus order."""
        scores = self.scores(query)
        order = np.argsort(-scores, kind="stable")[: max(k, 0)]
        return [(int(i), float(scores[i])) for i in order]


# ---- explainers for the course (`rag-app vectorize`) ------------------------------------------
def document_term_matrix(texts: Sequence[str], analyzer: AnalyzerSpec = "kiwi") -> tuple[list[str], np.ndarray]:
    """Raw term counts: (terms sorted, dense int matrix of shape (len(texts), len(terms))).

        >>> document_term_matrix(["나는 학생이다", "나는 선생님이다"], "whitespace")
        (['나는', '선생님이다', '학생이다'], array([[1, 0, 1],
               [1, 1, 0]]))
    """
    from sklearn.feature_extraction.text import CountVectorizer

    vectorizer = CountVectorizer(**_vectorizer_kwargs(analyzer, (1, 1)))
    matrix = vectorizer.fit_transform(list(texts))
    return [str(t) for t in vectorizer.get_feature_names_out()], matrix.toarray().astype(np.int64)


def top_tfidf_terms(
    texts: Sequence[str], analyzer: AnalyzerSpec = "kiwi", n: int = 5, sublinear_tf: bool = False
) -> list[list[tuple[str, float]]]:
    """The `n` highest-weighted terms of each text under TF-IDF (sklearn defaults: smooth idf, l2 norm).

    Weight = tf * (ln((1 + N) / (1 + df)) + 1), then each row is divided by its l2 norm. Terms with
    weight 0 are left out; ties are broken alphabetically.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(sublinear_tf=sublinear_tf, **_vectorizer_kwargs(analyzer, (1, 1)))
    matrix = vectorizer.fit_transform(list(texts)).tocsr()
    terms = vectorizer.get_feature_names_out()
    result = []
    for row in range(matrix.shape[0]):
        start, end = matrix.indptr[row], matrix.indptr[row + 1]
        pairs = [(str(terms[c]), float(w)) for c, w in zip(matrix.indices[start:end], matrix.data[start:end]) if w > 0]
        pairs.sort(key=lambda p: (-p[1], p[0]))
        result.append(pairs[: max(n, 0)])
    return result


__all__ = [
    "BM25_VARIANTS",
    "Bm25Stats",
    "Bm25Variant",
    "NgramAnalyzer",
    "TfidfRetriever",
    "bm25_scores",
    "document_term_matrix",
    "get_bm25_variant",
    "top_tfidf_terms",
]
