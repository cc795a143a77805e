"""The one-line / exit-code standard on the breaks issue 14 found, through real `rag-app` processes:
usage errors exit 2, a newline in a file name never splits a line, the summary counts the
collection, a refused SQLite query creates no file, HTML that lxml/trafilatura dislike adds no log
lines, and a deeply nested page with text is ingested rather than called empty."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO_ROOT

RAG_APP = Path(sys.executable).with_name("rag-app")


def rag_app(*args: str, home: Path, cwd: Path | None = None, env: dict | None = None):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("RAG_APP_")}
    environment.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", PYTHONIOENCODING="utf-8", RAG_APP_HOME=str(home))
    environment.update(env or {})
    command = [str(RAG_APP)] if RAG_APP.exists() else [sys.executable, "-m", "rag_app.cli"]
    return subprocess.run(
        [*command, *args], capture_output=True, text=True, encoding="utf-8", env=environment,
        cwd=str(cwd or REPO_ROOT), timeout=300,
    )


@pytest.mark.parametrize(
    "args, env",
    [
        (["ingest", "README.md", "--collection", "a/b"], {}),
        (["ask", "질문", "-c", " leading-space"], {}),
        (["sources"], {"RAG_APP_COLLECTION": "tab\tname"}),
        (["remove", "x", "-c", "back\\slash"], {}),
    ],
)
def test_invalid_collection_is_a_usage_error(tmp_path, args, env):
    result = rag_app(*args, home=tmp_path / "home", env=env)
    assert result.returncode == 2
    assert result.stderr.startswith("rag-app: error: invalid collection name ")
    assert result.stderr.count("\n") == 1 and result.stdout == ""
    assert not (tmp_path / "home").exists() or not any((tmp_path / "home").rglob("*.sqlite"))


@pytest.mark.parametrize(
    "flag, value, why", [("--crawl", "-1", "must be 0 or more, got -1"), ("--max-pages", "0", "must be 1 or more, got 0"), ("--crawl", "two", "'two' is not a whole number")]
)
def test_bad_crawl_numbers_are_usage_errors(tmp_path, flag, value, why):
    result = rag_app("ingest", "http://127.0.0.1:9/", flag, value, home=tmp_path / "home")
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == f"rag-app ingest: error: argument {flag}: {why}"


def test_a_newline_in_a_file_name_never_splits_a_line(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    odd = folder / "보고서\n2026.md"
    odd.write_text("# 보고서\n\n올해 매출은 10% 늘었다.", encoding="utf-8")
    home = tmp_path / "home"

    ingested = rag_app("ingest", str(odd), home=home)
    assert ingested.returncode == 0, ingested.stderr
    assert ingested.stdout.splitlines() == [f"added      {folder}/보고서\\n2026.md  (1 chunks, 1 embedded, 0 removed)"]

    listed = rag_app("sources", home=home)
    assert listed.stdout.splitlines() == [f"     1  {folder}/보고서\\n2026.md"]

    missing = rag_app("ingest", str(folder / "없는\n파일.md"), home=home)
    assert missing.returncode == 1
    assert missing.stderr.splitlines() == [
        f"rag-app: error: {folder}/없는\\n파일.md: file not found; check the path",
        "1 source(s) in collection 'docs', 1 failed",
    ]

    removed = rag_app("remove", str(odd), home=home)
    assert removed.returncode == 0 and removed.stdout.splitlines() == [f"removed {folder}/보고서\\n2026.md (1 chunks)"]


def test_the_summary_counts_the_collection_not_this_run(tmp_path):
    home = tmp_path / "home"
    for name in ("a.md", "b.md", "c.md"):
        (tmp_path / name).write_text(f"# {name}\n\n{name} 문서의 내용입니다.", encoding="utf-8")
    first = rag_app("ingest", str(tmp_path / "a.md"), str(tmp_path / "b.md"), home=home)
    assert first.stderr.splitlines() == ["2 source(s) in collection 'docs'"]
    second = rag_app("ingest", str(tmp_path / "c.md"), str(tmp_path / "none.md"), home=home)
    assert second.returncode == 1
    assert second.stderr.splitlines()[-1] == "3 source(s) in collection 'docs', 1 failed"
    again = rag_app("ingest", str(tmp_path / "a.md"), home=home)  # unchanged: still three in the collection
    assert again.stdout.startswith("unchanged") and again.stderr.splitlines() == ["3 source(s) in collection 'docs'"]


@pytest.mark.parametrize(
    "query",
    [
        "ATTACH DATABASE '{target}' AS other",
        "attach '{target}' as other",
        "/* read */ ATTACH DATABASE '{target}' AS other",
        "VACUUM INTO '{target}'",
        "vacuum main into '{target}'",
    ],
)
def test_a_refused_sqlite_query_creates_no_file(tmp_path, query):
    database = tmp_path / "shop.sqlite"
    with sqlite3.connect(database) as db:
        db.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)")
        db.execute("INSERT INTO items (name) VALUES ('사과')")
    target = tmp_path / "created-by-the-query.db"
    result = rag_app("ingest", f"sqlite:///{database}", "--query", query.format(target=target), home=tmp_path / "home")
    assert result.returncode == 1
    assert result.stderr.splitlines()[0].startswith(f"rag-app: error: sqlite:///{database}: --query must only read")
    assert len(result.stderr.splitlines()) == 2
    assert not target.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "shop.sqlite"]


def test_sqlite_authorizer_refuses_attach_before_the_file_exists(tmp_path):
    """The database-level guard itself, without the loader's messages: the connection hook."""
    from loaders.sql import _sqlite_query_only

    connection = sqlite3.connect(tmp_path / "db.sqlite")
    _sqlite_query_only(connection, None)
    for statement in (f"ATTACH DATABASE '{tmp_path / 'x.db'}' AS x", f"VACUUM INTO '{tmp_path / 'y.db'}'"):
        with pytest.raises(sqlite3.DatabaseError, match="not authorized|authorization denied"):
            connection.execute(statement)
    connection.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["db.sqlite"]


def test_empty_and_deep_html_print_one_line_and_deep_text_is_kept(tmp_path):
    depth = 5_000
    deep = tmp_path / "deep.html"
    deep.write_text("<html><body>" + "<div>" * depth + "<p>깊은 곳의 문장: 자정에 서버를 점검한다.</p>" + "</div>" * depth + "</body></html>", encoding="utf-8")
    empty = tmp_path / "empty.html"
    empty.write_text("<html></html>", encoding="utf-8")
    blank = tmp_path / "blank.html"
    blank.write_text("", encoding="utf-8")
    nested_empty = tmp_path / "nested-empty.html"
    nested_empty.write_text("<div>" * depth, encoding="utf-8")
    home = tmp_path / "home"

    result = rag_app("--log-level", "INFO", "ingest", str(deep), str(empty), str(blank), str(nested_empty), home=home)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [f"added      {deep}  (1 chunks, 1 embedded, 0 removed)"]
    empty_error = "document is empty (no extractable text); check the file or URL"
    assert result.stderr.splitlines() == [
        f"rag-app: error: {empty}: {empty_error}",
        f"rag-app: error: {blank}: {empty_error}",
        f"rag-app: error: {nested_empty}: {empty_error}",
        "1 source(s) in collection 'docs', 3 failed",
    ]
    asked = rag_app("ask", "서버는 언제 점검하나요?", "--mode", "bm25", home=home)
    assert "자정" in asked.stdout and str(deep) in asked.stdout
