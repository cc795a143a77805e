"""`rag-app` CLI through real subprocesses (python -m rag_app.cli), data in a pytest tmp dir."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO_ROOT, make_encrypted_pdf


def run_cli(*args: str, home: Path | None = None, cwd: Path | None = None, timeout: int = 180):
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_APP_")}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", PYTHONIOENCODING="utf-8")
    if home is not None:
        env["RAG_APP_HOME"] = str(home)
    return subprocess.run(
        [sys.executable, "-m", "rag_app.cli", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        cwd=str(cwd or REPO_ROOT),
        timeout=timeout,
    )


def _markers(text: str) -> set[int]:
    return {int(n) for n in re.findall(r"\[(\d+)\]", text)}


def _check_answer_payload(payload: dict) -> None:
    assert {"answer", "abstained", "citations", "timings_ms"} <= payload.keys()
    assert isinstance(payload["answer"], str) and payload["answer"]
    assert isinstance(payload["abstained"], bool)
    assert isinstance(payload["citations"], list)
    assert isinstance(payload["timings_ms"], dict)
    assert all(isinstance(v, (int, float)) for v in payload["timings_ms"].values())
    for citation in payload["citations"]:
        assert set(citation) == {"n", "source", "title", "page", "text", "score", "location", "link"}
        assert type(citation["n"]) is int
        assert isinstance(citation["source"], str) and citation["source"]
        assert citation["title"] is None or isinstance(citation["title"], str)
        assert citation["page"] is None or type(citation["page"]) is int
        assert isinstance(citation["text"], str) and citation["text"]
        assert isinstance(citation["score"], float)
        assert citation["location"] is None or isinstance(citation["location"], str)
        assert citation["link"] is None or citation["link"].startswith(("file://", "http://", "https://"))
    assert _markers(payload["answer"]) == {c["n"] for c in payload["citations"]}
    if payload["abstained"]:
        assert payload["citations"] == []


@pytest.fixture(scope="module")
def cli_home(tmp_path_factory, samples_dir):
    """A home with the samples ingested through the CLI once; returns (home, completed process)."""
    home = tmp_path_factory.mktemp("cli_home")
    result = run_cli("ingest", str(samples_dir), home=home)
    return home, result


# ---- ingest / sources -------------------------------------------------------------------------
def test_ingest_samples_exit_0(cli_home, samples_dir):
    _, result = cli_home
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 12
    assert all(line.startswith("added") and "chunks" in line for line in lines)
    assert str(samples_dir / "ko" / "07_rag.md") in result.stdout
    assert "12 source(s) in collection 'docs'" in result.stderr
    assert "Traceback" not in result.stderr


def test_sources_json(cli_home, samples_dir):
    home, _ = cli_home
    result = run_cli("sources", "--json", home=home)
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert isinstance(payload, list) and len(payload) == 12
    for item in payload:
        assert set(item) == {"source", "chunks"}
        assert isinstance(item["source"], str)
        assert type(item["chunks"]) is int and item["chunks"] > 0
    assert sorted(i["source"] for i in payload) == sorted(str(p) for p in samples_dir.rglob("*.md"))


# ---- ask --------------------------------------------------------------------------------------
def test_ask_json_one_object(cli_home):
    home, _ = cli_home
    result = run_cli("ask", "RAG는 어떻게 작동하나요?", "--json", home=home)
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 1
    payload = json.loads(lines[0])
    assert isinstance(payload, dict)
    _check_answer_payload(payload)
    assert payload["abstained"] is False
    assert "[1]" in payload["answer"]
    assert payload["citations"][0]["source"].endswith("samples/ko/07_rag.md")
    assert payload["citations"][0]["page"] is None
    assert payload["question"] == "RAG는 어떻게 작동하나요?"


def test_ask_text_output_lists_citations(cli_home):
    home, _ = cli_home
    result = run_cli("ask", "When is the final project due?", "--mode", "hybrid", "--k", "3", home=home)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "December 12" in lines[0] and "November 30" not in lines[0]
    assert lines[0].endswith("[1]")
    assert re.match(r"  \[1\] .+ — .+samples/en/12_course_faq\.md$", lines[1])


def test_ask_questions_jsonl(cli_home, tmp_path):
    home, _ = cli_home
    questions = tmp_path / "questions.jsonl"
    questions.write_text(
        "\n".join(
            [
                json.dumps({"id": "q1", "question": "RAG는 어떻게 작동하나요?"}, ensure_ascii=False),
                json.dumps({"question": "When is the final project due?"}),
                "",
                json.dumps({"id": 3, "question": "비트코인 가격은 얼마인가요?"}, ensure_ascii=False),
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    result = run_cli("ask", "--questions", str(questions), "--json", home=home)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    payloads = [json.loads(line) for line in lines]
    for payload in payloads:
        _check_answer_payload(payload)
    assert payloads[0]["id"] == "q1" and payloads[0]["abstained"] is False
    assert "id" not in payloads[1]
    assert "December 12" in payloads[1]["answer"]
    assert payloads[2]["id"] == 3
    assert payloads[2]["abstained"] is True
    assert payloads[2]["answer"] == "제공된 문서에서 이 질문에 대한 답을 찾을 수 없습니다."


def test_ask_questions_malformed_line(cli_home, tmp_path):
    home, _ = cli_home
    questions = tmp_path / "bad.jsonl"
    questions.write_text(
        '{"id": "ok", "question": "RAG는 어떻게 작동하나요?"}\n{not json\n{"q": "no question key"}\n',
        encoding="utf-8",
    )
    result = run_cli("ask", "--questions", str(questions), "--json", home=home)
    assert result.returncode == 1
    assert f"{questions}:2:" in result.stderr
    assert f"{questions}:3:" in result.stderr
    assert f"{questions}:1:" not in result.stderr
    assert "Traceback" not in result.stderr
    [line] = result.stdout.splitlines()  # the good line is still answered
    assert json.loads(line)["id"] == "ok"


def test_ask_questions_missing_file(cli_home, tmp_path):
    home, _ = cli_home
    missing = tmp_path / "nope.jsonl"
    result = run_cli("ask", "--questions", str(missing), home=home)
    assert result.returncode == 1
    assert str(missing) in result.stderr and "file not found" in result.stderr


def test_ask_empty_collection_is_an_error(tmp_path):
    result = run_cli("ask", "RAG는 어떻게 작동하나요?", "--collection", "nothing-here", home=tmp_path / "home")
    assert result.returncode == 1
    assert "collection 'nothing-here' is empty" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""


# ---- remove -----------------------------------------------------------------------------------
def test_ingest_json_remove_and_sources(tmp_path):
    home = tmp_path / "home"
    keep = tmp_path / "keep.md"
    drop = tmp_path / "drop.txt"
    keep.write_text("# 기린\n\n기린은 목이 긴 동물이다.", encoding="utf-8")
    drop.write_text("얼룩말은 무리를 지어 산다.", encoding="utf-8")

    ingested = run_cli("ingest", str(keep), str(drop), "--json", "--home", str(home), "--collection", "zoo")
    assert ingested.returncode == 0, ingested.stderr
    reports = [json.loads(line) for line in ingested.stdout.splitlines()]
    assert [(r["source"], r["status"]) for r in reports] == [(str(keep), "added"), (str(drop), "added")]
    for report in reports:
        assert set(report) == {"source", "status", "chunks", "embedded", "removed", "error"}
        assert report["chunks"] == report["embedded"] == 1 and report["error"] is None

    removed = run_cli("remove", str(drop), "--home", str(home), "--collection", "zoo")
    assert removed.returncode == 0, removed.stderr
    assert removed.stdout.strip() == f"removed {drop} (1 chunks)"

    listed = run_cli("sources", "--json", "--home", str(home), "--collection", "zoo")
    assert listed.returncode == 0
    assert json.loads(listed.stdout) == [{"source": str(keep), "chunks": 1}]

    again = run_cli("remove", str(drop), "--home", str(home), "--collection", "zoo")
    assert again.returncode == 1
    assert str(drop) in again.stderr and "not in collection 'zoo'" in again.stderr
    assert "Traceback" not in again.stderr


def test_remove_unknown_source(tmp_path):
    result = run_cli("remove", "/no/such/source.md", home=tmp_path / "home")
    assert result.returncode == 1
    assert "/no/such/source.md" in result.stderr
    assert "Traceback" not in result.stderr


# ---- failures ---------------------------------------------------------------------------------
def test_bad_sources_one_line_each_good_one_still_ingested(tmp_path):
    home = tmp_path / "home"
    good = tmp_path / "good.md"
    good.write_text("# 좋은 문서\n\n이 문서는 정상적으로 색인된다.", encoding="utf-8")
    missing = tmp_path / "missing_file.txt"
    unsupported = tmp_path / "slides.key"
    unsupported.write_bytes(b"PK\x03\x04")
    encrypted = make_encrypted_pdf(tmp_path / "locked.pdf")
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    db = tmp_path / "shop.db"
    with sqlite3.connect(db) as connection:
        connection.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)")
        connection.execute("INSERT INTO items VALUES (1, '사과')")
    connection.close()
    bad = {
        str(missing): "not found",
        str(unsupported): "unsupported file type",
        str(encrypted): "encrypted",
        "http://127.0.0.1:1/x": "cannot fetch URL",
        str(empty): "empty",
        "sqlite:////nonexistent/dir/x.db": "database file not found",
        f"sqlite:///{db}": "no table 'nosuch'",
    }
    result = run_cli("ingest", str(good), *bad, "--table", "nosuch", home=home)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("rag-app: error:")]
    assert len(error_lines) == len(bad)
    for source, reason in bad.items():
        naming = [line for line in error_lines if f" {source}: " in line]
        assert len(naming) == 1, (source, error_lines)
        assert reason in naming[0]
    assert "1 source(s) in collection 'docs', 7 failed" in result.stderr
    assert result.stdout.startswith(f"added      {good}")
    assert not Path("/nonexistent/dir/x.db").exists()

    listed = run_cli("sources", "--json", home=home)
    assert json.loads(listed.stdout) == [{"source": str(good), "chunks": 1}]


def test_database_url_failure_hides_password_and_keeps_going(tmp_path):
    home = tmp_path / "home"
    good = tmp_path / "good.txt"
    good.write_text("정상 문서이다.", encoding="utf-8")
    url = "postgresql://reader:hunter2@127.0.0.1:1/library"
    result = run_cli("ingest", str(good), url, "--table", "books", home=home)
    assert "Traceback" not in result.stderr
    assert result.returncode == 1
    assert "hunter2" not in result.stderr + result.stdout
    assert "127.0.0.1:1/library" in result.stderr
    assert str(good) in result.stdout


# ---- usage ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "args",
    [
        ["ask"],
        ["ask", "질문", "--bogus-flag"],
        ["ingest"],
        ["ask", "질문", "--mode", "sparse"],
        ["frobnicate"],
        [],
        ["ask", "질문", "--k", "0"],
    ],
)
def test_usage_errors_exit_2(args, tmp_path):
    result = run_cli(*args, home=tmp_path / "home")
    assert result.returncode == 2, (args, result.stderr)
    assert "Traceback" not in result.stderr
    assert result.stderr.strip()
    assert not (tmp_path / "home").exists()


@pytest.mark.parametrize("args", [["--help"], ["ask", "--help"], ["ingest", "--help"]])
def test_help_exit_0(args):
    result = run_cli(*args)
    assert result.returncode == 0
    assert "usage: rag-app" in result.stdout
    assert result.stderr == ""
