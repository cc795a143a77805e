"""Search terms for BM25 and the extractive answerer: Kiwi morphemes, or whitespace tokens.

Korean is agglutinative: "은행의", "은행은", "은행에서" are one word with different particles, so
whitespace tokens barely match. Kiwi splits them into morphemes; we keep the content morphemes
(nouns, verb/adjective stems, roots, foreign words, numbers) and drop particles and endings.

    >>> kiwi_terms("시중은행의 인가 요건은 무엇인가요?")
    ['시중', '은행', '인가', '요건', '무엇']
"""

from __future__ import annotations

import re
import threading

# Kiwi part-of-speech tags kept as search terms. NN*: nouns, NR: numerals, NP: pronouns, VV/VA:
# verb and adjective stems, XR: roots, SL: foreign (Latin) words, SH: Hanja, SN: numbers,
# MAG: general adverbs ("가장", "매우" carry meaning in questions), W_*: URLs, emails, hashtags...
CONTENT_TAGS = ("NNG", "NNP", "NNB", "NR", "NP", "VV", "VA", "XR", "SL", "SH", "SN", "MAG", "W_")

_kiwi = None
_kiwi_lock = threading.Lock()
_WORD = re.compile(r"\w+", re.UNICODE)


def _get_kiwi():
    global _kiwi
    with _kiwi_lock:
        if _kiwi is None:
            from kiwipiepy import Kiwi

            # num_workers=-1: a worker thread per core. A single text is analysed in the calling
            # thread; an iterable of texts is spread over the workers (kiwi_terms_batch).
            _kiwi = Kiwi(num_workers=-1)
        return _kiwi


def _keep(tag: str) -> bool:
    base = tag.split("-", 1)[0]  # "VV-R", "VA-I" -> "VV", "VA"
    return base.startswith(CONTENT_TAGS)


def kiwi_terms(text: str) -> list[str]:
    """Content morphemes of `text`, Latin words lower-cased."""
    return _content_terms(_get_kiwi().tokenize(text))


def _content_terms(tokens) -> list[str]:
    terms = []
    for token in tokens:
        if not _keep(token.tag):
            continue
        if token.tag == "SL":
            terms.append(token.form.lower())
        elif token.tag == "SN":
            terms.append(token.form.rstrip(".,"))  # Kiwi tags "2018." as one number
        else:
            terms.append(token.form)
    return terms


def kiwi_terms_batch(texts: list[str]) -> list[list[str]]:
    """`kiwi_terms` of each text, in order, analysed by Kiwi's own worker threads (one per core):
    given an iterable, `Kiwi.tokenize` spreads the texts over its workers and yields the results in
    input order. The same terms as calling `kiwi_terms` on each text, ~2x faster on 2 cores.

        >>> kiwi_terms_batch(["은행의 인가 요건", "BM25 검색"])
        [['은행', '인가', '요건'], ['bm', '25', '검색']]
    """
    if not texts:
        return []
    return [_content_terms(tokens) for tokens in _get_kiwi().tokenize(list(texts))]


def terms_batch(term_function, texts: list[str]) -> list[list[str]]:
    """`term_function` over `texts`, batched where the tokenizer can (Kiwi), else one by one."""
    if term_function is kiwi_terms:
        return kiwi_terms_batch(texts)
    return [term_function(text) for text in texts]


def whitespace_terms(text: str) -> list[str]:
    """The naive baseline (what LangChain's BM25Retriever does by default): split on spaces."""
    return text.lower().split()


TOKENIZERS = {"kiwi": kiwi_terms, "whitespace": whitespace_terms}


def get_term_function(spec: str):
    """text -> search terms for BM25 and TF-IDF: "kiwi" (default), "whitespace", "okt" and "mecab"
    (content morphemes), or any other tokenizer spec of indexes.tokenizers ("spm:PATH", "hf:PATH",
    ...), whose tokens are used."""
    if spec in TOKENIZERS:
        return TOKENIZERS[spec]
    if spec in ("okt", "mecab"):
        # Like kiwi_terms: content morphemes only (particles and endings would match everything);
        # Okt also stems verbs and adjectives so their forms meet.
        from indexes.tokenizers import MecabTokenizer, OktTokenizer

        analyser = OktTokenizer(content_only=True, stem=True) if spec == "okt" else MecabTokenizer(content_only=True)
        return analyser.tokenize
    from indexes.tokenizers import get_tokenizer

    return get_tokenizer(spec).tokenize
