"""Reports: Markdown, standalone HTML (escaped), PNG plots; comparisons of two runs."""

from __future__ import annotations

import copy
import re

import pytest

from eval.compare import compare_results, load_result, render_text, write_comparison
from eval.datasets import Dataset, DatasetError, Question
from eval.predictions import Passage, Prediction
from eval.report import render_markdown, write_report
from eval.runner import evaluate
from rag_app.support import LexicalJudge

PNG = b"\x89PNG\r\n\x1a\n"
CONTEXT = "대한민국의 수도는 서울이다."
EVIL = "<script>alert('x')</script>"


def _result():
    questions = [
        Question("ok", "대한민국의 수도는?", frozenset({"a.txt"}), ("서울",)),
        Question("bad", f"수도는? {EVIL}", frozenset({"a.txt"}), ("서울",)),
    ]
    predictions = [
        Prediction("ok", "대한민국의 수도는 서울이다 [1].", False, {1: Passage(CONTEXT, "/d/a.txt")}, [Passage(CONTEXT, "/d/a.txt")]),
        Prediction("bad", f"수도는 부산이다 {EVIL} [1].", False, {1: Passage(CONTEXT, "/d/a.txt")}, [Passage(CONTEXT, "/d/a.txt")]),
    ]
    return evaluate(Dataset(__import__("pathlib").Path("t.jsonl"), "jsonl", questions), judge=LexicalJudge(),
                    predictions=predictions, config={"label": "baseline"})


def test_report_files_render_and_escape_user_text(tmp_path):
    result = _result()
    paths = write_report(result, tmp_path / "report")
    assert set(paths) == {"json", "markdown", "html", "metrics", "distributions"}
    for name in ("metrics", "distributions"):
        assert paths[name].read_bytes().startswith(PNG) and paths[name].stat().st_size > 5000
    page = paths["html"].read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "<script>" not in page and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert page.count("data:image/png;base64,") == 2  # standalone: plots embedded
    assert "대한민국의 수도는?" in page and 'class="unsupported"' in page and 'class="supported"' in page
    # Failures first: the hallucinated answer's row comes before the good one.
    assert page.index("수도는 부산이다") < page.index("대한민국의 수도는 서울이다")
    markdown = paths["markdown"].read_text(encoding="utf-8")
    rows = [line for line in markdown.splitlines() if line.startswith("| bad ") or line.startswith("| ok ")]
    assert rows[0].startswith("| bad | hallucination") and rows[1].startswith("| ok | ok")
    assert "<script>" not in markdown
    assert "![metrics](metrics.png)" in markdown and "| faithfulness | 0.500 |" in markdown
    assert load_result(paths["json"])["n"] == 2


def test_markdown_cells_cannot_break_the_table():
    result = _result()
    result["per_question"][0]["answer"] = "a | b\nc"
    line = next(l for l in render_markdown(result).splitlines() if l.startswith("| ok "))
    assert "a \\| b c" in line and len(re.findall(r"(?<!\\)\|", line)) == 11


def test_compare_marks_better_and_worse(tmp_path):
    a = _result()
    b = copy.deepcopy(a)
    b["config"]["label"] = "new"
    b["grounding"]["hallucination_rate"] = 0.0  # lower is better
    b["answer"]["f1"] = (a["answer"]["f1"] or 0) - 0.25
    b["per_question"][1].update(hallucinated=False, faithfulness=1.0, failures=[])
    comparison = compare_results(a, b)
    by_metric = {m["metric"]: m for m in comparison["metrics"]}
    assert by_metric["hallucination_rate"]["delta"] == -0.5 and by_metric["hallucination_rate"]["better"] == "B"
    assert by_metric["f1"]["delta"] == -0.25 and by_metric["f1"]["better"] == "A"
    assert by_metric["faithfulness"]["better"] is None  # unchanged in the summary
    assert [q["id"] for q in comparison["questions"]] == ["bad"] and comparison["questions"][0]["verdict"] == "better"
    text = render_text(comparison)
    assert "▲ B better" in text and "▼ B worse" in text
    paths = write_comparison(a, b, tmp_path / "cmp")
    page = paths["html"].read_text(encoding="utf-8")
    assert 'class="num better"' in page and 'class="num worse"' in page and "<script>" not in page
    assert paths["plot"].read_bytes().startswith(PNG)


def test_load_result_rejects_other_files(tmp_path):
    (tmp_path / "x.json").write_text('{"rows": 1}', encoding="utf-8")
    with pytest.raises(DatasetError, match="not an evaluation result"):
        load_result(tmp_path / "x.json")
