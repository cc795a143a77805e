"""Batches that finish: `ask --questions` goes on past a failed question, and the evaluation's
answer cache never serves an answer made with other settings or an older collection."""

from __future__ import annotations

import json
import sqlite3

import pytest

from rag_app import RagApp
from rag_app.cli import main
from tests.llm_servers import OpenAIServer, Reply

GROUNDED = "RAG는 질문과 관련된 문서를 검색한 뒤 그 내용을 근거로 답을 생성합니다 [1]."


def slow_on_the_second_question(request) -> Reply:
    if "BM25" in request.last_user.rsplit("\n", 1)[-1]:
        return Reply(text=GROUNDED, delay=3.0)  # longer than RAG_APP_LLM_TIMEOUT: "did not answer in time"
    return Reply(text=GROUNDED)


def test_ask_questions_writes_an_error_line_for_a_failed_question_and_goes_on(sample_app, tmp_path, capsys, monkeypatch):
    app, _ = sample_app
    questions = tmp_path / "questions.jsonl"
    lines = [
        {"id": "q1", "question": "RAG는 어떻게 작동하나요?"},
        {"id": "q2", "question": "BM25 점수는 어떻게 계산하나요?"},
        {"question": "RAG란 무엇인가요?"},
    ]
    questions.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")
    monkeypatch.setenv("RAG_APP_LLM_TIMEOUT", "1")
    with OpenAIServer(slow_on_the_second_question) as server:
        code = main([
            "ask", "--questions", str(questions), "--home", str(app.settings.home), "-c", "samples",
            "--provider", "openai", "--base-url", server.base_url, "--json",
        ])
        asked = [request.last_user.rsplit("\n", 1)[-1] for request in server.requests]
        base_url = server.base_url
    out = capsys.readouterr()
    assert code == 1
    first, failed, third = (json.loads(line) for line in out.out.splitlines())
    assert first["id"] == "q1" and first["answer"] == GROUNDED
    assert failed == {
        "id": "q2", "line": 2,
        "error": f"openai:gpt-4o-mini: {base_url} did not answer in time; raise RAG_APP_LLM_TIMEOUT or check the server",
    }
    assert "id" not in third and third["answer"] == GROUNDED  # the question after the failure was answered
    assert any("RAG란 무엇인가요?" in text for text in asked)
    assert out.err == f"rag-app: error: {questions}:2: {failed['error']}\n"


# ---- the evaluation's answer cache -------------------------------------------------------------
def test_answer_settings_cover_every_setting_that_changes_an_answer(tmp_path):
    from eval.runner import answer_settings, config_hash

    base = RagApp(home=tmp_path / "home", collection="cachekey")
    key = config_hash(answer_settings(base))
    changes = {
        "provider": "openai", "model": "other-model", "base_url": "http://127.0.0.1:9/v1", "k": 3, "mode": "bm25",
        "bm25_weight": 0.33, "bm25_weight_no_hangul": 0.77, "chunk_size": 500, "chunk_overlap": 50, "embedder": "st:x",
        "reranker": "llm", "judge": "lexical", "temperature": 0.7, "max_tokens": 100, "bm25_tokenizer": "whitespace",
    }
    for name, value in changes.items():
        changed = base.settings.model_copy(update={name: value, **({"provider": "openai"} if name in ("reranker", "model") else {})})
        app = type("App", (), {"settings": changed, "store": base.store})()
        assert config_hash(answer_settings(app)) != key, name


def test_the_cache_is_not_reused_after_retuning_or_reingesting(tmp_path):
    from eval.datasets import Dataset, Question
    from eval.runner import AnswerCache, evaluate
    from rag_app.support import LexicalJudge

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "seoul.md").write_text("# 서울\n\n대한민국의 수도는 서울이다. 서울의 인구는 약 940만 명이다.", encoding="utf-8")
    home = tmp_path / "home"
    app = RagApp(home=home, collection="cache", mode="bm25")
    app.ingest([str(corpus)])
    dataset = Dataset(
        path=tmp_path / "tiny.jsonl", format="jsonl",
        questions=[Question(id="1", question="대한민국의 수도는 어디인가요?", relevant=frozenset(), answers=("서울",))],
    )
    cache = AnswerCache(tmp_path / "answers.sqlite")

    def cached_answers() -> int:
        with sqlite3.connect(tmp_path / "answers.sqlite") as db:
            return db.execute("SELECT COUNT(*) FROM answers").fetchone()[0]

    evaluate(dataset, judge=LexicalJudge(), app=app, cache=cache)
    evaluate(dataset, judge=LexicalJudge(), app=app, cache=cache)
    assert cached_answers() == 1  # same settings, same collection: reused
    evaluate(dataset, judge=LexicalJudge(), app=RagApp(home=home, collection="cache", mode="bm25", bm25_weight=0.2), cache=cache)
    assert cached_answers() == 2  # other fusion weights: answered again
    (corpus / "busan.md").write_text("# 부산\n\n부산은 대한민국 제2의 도시이다.", encoding="utf-8")
    app.ingest([str(corpus)])
    evaluate(dataset, judge=LexicalJudge(), app=app, cache=cache)
    assert cached_answers() == 3  # a new collection version: answered again
    cache.close()
