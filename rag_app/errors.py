"""The project's error family, re-exported for SDK users: `except rag_app.RagError`."""

from indexes.errors import EmbedderError, RerankerError, StoreError, TokenizerError
from loaders.errors import LoaderError, RagError


class ConfigError(RagError):
    """A setting or argument is invalid."""


class ProviderError(RagError):
    """An answer provider (LLM) is missing, misconfigured or failed."""


__all__ = [
    "ConfigError",
    "EmbedderError",
    "LoaderError",
    "ProviderError",
    "RagError",
    "RerankerError",
    "StoreError",
    "TokenizerError",
]
