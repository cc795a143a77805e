"""Errors raised by the indexes package (chunking, embeddings, stores)."""

from loaders.errors import RagError


class StoreError(RagError):
    """The index on disk cannot be used as asked (bad collection name, embedder mismatch...)."""


class EmbedderError(RagError):
    """An embedder could not be created or called (missing extra, missing key, bad model path)."""


class TokenizerError(RagError):
    """A tokenizer cannot be built or used as asked (unknown name, missing package, bad file)."""


class RerankerError(RagError):
    """A reranker could not be created or called (missing extra, missing or unloadable model)."""
