"""`rag-app tokenize`: tokenizers side by side, JSON contract, Korean token cost in cl100k_base."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "rag_app.cli", "tokenize", *args], capture_output=True, text=True, env=env, cwd=REPO_ROOT
    )


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
