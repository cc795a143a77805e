"""A sample of bench/fuzz_ingest.py in the test suite: eleven damaged files (truncated PDF, zip
bombs, an XML entity bomb, 10,001-part and 100,000-deep packages, a broken HWP compound file, a
million-deep empty page, undecodable text), each through its own real `rag-app ingest` process.
Each must be refused with exactly one error line that names the file and says why, the summary
line, exit code 1 and no traceback; a good file ingested next to them still goes in."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO_ROOT

RAG_APP = Path(sys.executable).with_name("rag-app")


def _bench():
    spec = importlib.util.spec_from_file_location("fuzz_ingest", REPO_ROOT / "bench" / "fuzz_ingest.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("fuzz_ingest", module)
    spec.loader.exec_module(module)
    return module


fuzz = _bench()


def rag_app(*args: str, home: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_APP_")}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", PYTHONIOENCODING="utf-8", RAG_APP_HOME=str(home))
    command = [str(RAG_APP)] if RAG_APP.exists() else [sys.executable, "-m", "rag_app.cli"]
    return subprocess.run([*command, *args], capture_output=True, text=True, encoding="utf-8", env=env, cwd=str(REPO_ROOT), timeout=300)


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    return fuzz.sample_inputs(tmp_path_factory.mktemp("fuzz"))


def test_the_sample_covers_the_formats_and_damage_the_issue_names(sample):
    kinds = {item.kind for item, _ in sample}
    assert {"pdf", "docx", "xlsx", "pptx", "hwp", "hwpx", "html", "txt"} <= kinds
    mutations = {item.mutation for item, _ in sample}
    assert {"truncate", "zip-bomb", "part-entity-bomb", "zip-10001-parts", "part-100k-deep", "deep-1m-empty"} <= mutations
    bomb = next(item.path for item, _ in sample if item.mutation == "zip-bomb")
    assert bomb.stat().st_size < 2 * 2**20  # a small file on disk that declares over 256 MB


@pytest.mark.parametrize("index", range(11))
def test_each_damaged_file_is_one_error_line_and_exit_1(sample, tmp_path, index):
    item, reason = sample[index]
    result = rag_app("ingest", str(item.path), "-c", "fuzz", home=tmp_path / "home")
    assert "Traceback" not in result.stderr
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""
    error, summary = result.stderr.splitlines()  # exactly two lines
    assert error.startswith(f"rag-app: error: {item.path}: ")
    assert reason in error
    assert "\\n" not in error  # the message had no line break of its own for the CLI to escape
    assert summary == "0 source(s) in collection 'fuzz', 1 failed"


def test_one_run_over_the_whole_sample_refuses_each_and_keeps_the_good_file(sample, tmp_path):
    good = tmp_path / "good.md"
    good.write_text("# 정상 문서\n\n손상된 파일들 사이에서도 이 문서는 들어간다.", encoding="utf-8")
    paths = [str(item.path) for item, _ in sample]
    result = rag_app("ingest", *paths[:5], str(good), *paths[5:], "-c", "fuzz", home=tmp_path / "home")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stdout.splitlines() == [f"added      {good}  (1 chunks, 1 embedded, 0 removed)"]
    lines = result.stderr.splitlines()
    assert [line.split(": ", 2)[1] for line in lines[:-1]] == ["error"] * len(sample)
    assert [line.split(": ", 3)[2] for line in lines[:-1]] == paths
    assert lines[-1] == f"1 source(s) in collection 'fuzz', {len(sample)} failed"
