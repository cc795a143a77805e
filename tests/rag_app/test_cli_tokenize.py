"""`rag-app tokenize`, `tokenizer train` and `vectorize`: the classic NLP tools from the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def _run_command(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "rag_app.cli", *args], capture_output=True, text=True, env=env, cwd=REPO_ROOT)


def _run(*args: str) -> subprocess.CompletedProcess:
    return _run_command("tokenize", *args)


def test_tokenize_json_contract_and_korean_cost():
    korean = _run("형태소 분석은 재미있다", "--tokenizer", "kiwi", "--tokenizer", "tiktoken", "--json")
    english = _run("hello world", "--tokenizer", "tiktoken", "--json")
    assert korean.returncode == 0 and english.returncode == 0, korean.stderr + english.stderr
    rows = json.loads(korean.stdout)
    assert [row["tokenizer"] for row in rows] == ["kiwi", "tiktoken"]
    for row in rows:
        assert set(row) == {"tokenizer", "tokens", "ids", "count"}
        assert row["count"] == len(row["tokens"]) == len(row["ids"])
    assert rows[0]["tokens"][:3] == ["형태소", "분석", "은"]
    [english_row] = json.loads(english.stdout)
    assert english_row["ids"] == [15339, 1917]  # cl100k_base, offline
    # "형태소 분석은 재미있다" (3 words) costs several times the tokens of two English words.
    assert rows[1]["count"] > 3 * english_row["count"]


def test_tokenize_unknown_tokenizer_is_one_line_error():
    result = _run("x", "--tokenizer", "bogus")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert "unknown tokenizer 'bogus'" in result.stderr and "kiwi" in result.stderr


def test_vectorize_prints_matrix_and_top_terms():
    result = _run_command("vectorize", "나는 학생이다", "나는 선생님이다", "--analyzer", "whitespace", "--json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["terms"] == ["나는", "선생님이다", "학생이다"]
    assert payload["matrix"] == [[1, 0, 1], [1, 1, 0]]
    # the word only one text has outweighs the shared one
    assert [t["term"] for t in payload["top_terms"][0]] == ["학생이다", "나는"]
    assert payload["top_terms"][0][0]["weight"] > payload["top_terms"][0][1]["weight"]


def test_tokenizer_train_then_use_it(tmp_path):
    lines = [
        "이 영화 정말 재미있다", "배우 연기가 좋았다", "스토리가 지루하다", "음악이 아름다운 영화", "다시 보고 싶은 영화",
    ] * 40
    corpus = tmp_path / "reviews.txt"
    corpus.write_text("\n".join(lines), encoding="utf-8")
    model = tmp_path / "reviews.json"
    trained = _run_command("tokenizer", "train", str(corpus), "--type", "hf-wordpiece", "--vocab-size", "120", "-o", str(model))
    assert trained.returncode == 0, trained.stderr
    assert model.is_file() and f"--tokenizer hf:{model}" in trained.stdout
    used = _run("재미있는 영화", "--tokenizer", f"hf:{model}", "--json")
    [row] = json.loads(used.stdout)
    assert row["tokenizer"].startswith("hf") and row["count"] == len(row["ids"]) >= 2
    assert "영화" in row["tokens"]
    missing = _run_command("tokenizer", "train", str(tmp_path / "none.txt"), "-o", str(tmp_path / "x.model"))
    assert missing.returncode == 1 and "none.txt: file not found" in missing.stderr
