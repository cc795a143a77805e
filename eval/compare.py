"""Two evaluation runs side by side: every metric with its difference, and the questions whose
scores changed (`rag-app eval --compare A.json B.json`).

    >>> a = {"n": 2, "answer": {"f1": 0.5}, "grounding": {"hallucination_rate": 0.5}, "per_question": []}
    >>> b = {"n": 2, "answer": {"f1": 0.75}, "grounding": {"hallucination_rate": 0.0}, "per_question": []}
    >>> [(m["metric"], m["delta"], m["better"]) for m in compare_results(a, b)["metrics"]]
    [('f1', 0.25, 'B'), ('hallucination_rate', -0.5, 'B')]
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from eval.datasets import DatasetError
from eval.report import SECTIONS, embed_png, escape_html, fmt, html_page, md_cell, plot_metrics, run_label
from eval.scoring import LOWER_IS_BETTER

# Row scores whose change marks a question as changed.
ROW_METRICS = ("em", "f1", "contains_gold", "faithfulness", "hallucinated", "citation_precision", "citation_recall", "recall@5", "abstained")
# Differences smaller than this are no difference.
EPSILON = 1e-9


def load_result(path: str | Path) -> dict[str, Any]:
    """A result JSON written by `rag-app eval --json` or `--report` (result.json)."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise DatasetError(f"{path}: not found; give result files written by rag-app eval --json or --report")
    try:
        result = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg}); give a result file from rag-app eval --json") from None
    if not isinstance(result, dict) or not any(section in result for section in SECTIONS):
        raise DatasetError(f"{path}: not an evaluation result (no retrieval/answer/grounding); give a file from rag-app eval --json")
    return result


def _better(metric: str, delta: float) -> str | None:
    if abs(delta) <= EPSILON:
        return None
    improved = delta < 0 if metric in LOWER_IS_BETTER else delta > 0
    return "B" if improved else "A"


def compare_results(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """{"metrics": [{section, metric, a, b, delta, better}], "questions": [changed rows], "only_in_a",
    "only_in_b"}; `better` is "A", "B" or None, knowing which metrics are better low."""
    metrics = []
    for section in SECTIONS:
        keys = list(dict.fromkeys([*(a.get(section) or {}), *(b.get(section) or {})]))
        for metric in keys:
            if metric == "n" or metric.startswith("n_"):
                continue
            va, vb = (a.get(section) or {}).get(metric), (b.get(section) or {}).get(metric)
            if va is None and vb is None:
                continue
            delta = None if va is None or vb is None else round(float(vb) - float(va), 4)
            metrics.append({"section": section, "metric": metric, "a": va, "b": vb, "delta": delta,
                            "better": None if delta is None else _better(metric, delta)})
    rows_a = {str(r["id"]): r for r in a.get("per_question", [])}
    rows_b = {str(r["id"]): r for r in b.get("per_question", [])}
    questions = []
    for qid in (q for q in rows_a if q in rows_b):
        ra, rb = rows_a[qid], rows_b[qid]
        changes = {m: (ra.get(m), rb.get(m)) for m in ROW_METRICS if ra.get(m) != rb.get(m)}
        if changes or ra.get("failures") != rb.get("failures"):
            questions.append({
                "id": qid,
                "question": ra.get("question", ""),
                "answer_a": ra.get("answer", ""),
                "answer_b": rb.get("answer", ""),
                "failures_a": ra.get("failures", []),
                "failures_b": rb.get("failures", []),
                "changes": changes,
                "verdict": _row_verdict(ra, rb),
            })
    questions.sort(key=lambda q: {"worse": 0, "better": 1, "mixed": 2}.get(q["verdict"], 3))
    return {
        "a": {"label": run_label(a, "A"), "n": a.get("n")},
        "b": {"label": run_label(b, "B"), "n": b.get("n")},
        "metrics": metrics,
        "questions": questions,
        "only_in_a": sorted(set(rows_a) - set(rows_b)),
        "only_in_b": sorted(set(rows_b) - set(rows_a)),
    }


def _row_verdict(ra: dict[str, Any], rb: dict[str, Any]) -> str:
    """Did B get this question better or worse than A (fewer or more failures)?"""
    fa, fb = len(ra.get("failures", [])), len(rb.get("failures", []))
    if fb < fa:
        return "better"
    if fb > fa:
        return "worse"
    return "mixed"


def _arrow(better: str | None) -> str:
    return {"B": "▲ B better", "A": "▼ B worse"}.get(better or "", "")


def render_text(comparison: dict[str, Any]) -> str:
    """A terminal table; the differences are marked ▲ (B better) or ▼ (B worse)."""
    a, b = comparison["a"], comparison["b"]
    lines = [f"A: {a['label']} ({a['n']} questions)", f"B: {b['label']} ({b['n']} questions)", ""]
    lines.append(f"{'metric':<32} {'A':>8} {'B':>8} {'B-A':>8}")
    for m in comparison["metrics"]:
        delta = "" if m["delta"] is None else f"{m['delta']:+.3f}"
        lines.append(f"{m['section'] + '.' + m['metric']:<32} {fmt(m['a']):>8} {fmt(m['b']):>8} {delta:>8}  {_arrow(m['better'])}")
    verdicts = [q["verdict"] for q in comparison["questions"]]
    lines += ["", f"questions changed: {len(verdicts)} ({verdicts.count('better')} better, {verdicts.count('worse')} worse in B)"]
    return "\n".join(lines)


def render_markdown(comparison: dict[str, Any], plot: str | None = None) -> str:
    a, b = comparison["a"], comparison["b"]
    lines = ["# Comparison", "", f"- A: {md_cell(a['label'])} ({a['n']} questions)", f"- B: {md_cell(b['label'])} ({b['n']} questions)", ""]
    lines += ["| metric | A | B | B − A |", "|---|---|---|---|"]
    for m in comparison["metrics"]:
        delta = "" if m["delta"] is None else f"{m['delta']:+.3f}"
        if m["better"]:
            delta = f"**{delta} {_arrow(m['better'])}**"
        lines.append(f"| {m['section']}.{m['metric']} | {fmt(m['a'])} | {fmt(m['b'])} | {delta} |")
    if plot:
        lines += ["", f"![metrics]({plot})"]
    lines += ["", "## Questions that changed (worse in B first)", "", "| id | verdict | question | A | B | changes |", "|---|---|---|---|---|---|"]
    for q in comparison["questions"]:
        changes = ", ".join(f"{k}: {fmt(va)} → {fmt(vb)}" for k, (va, vb) in q["changes"].items())
        lines.append(f"| {md_cell(q['id'])} | {q['verdict']} | {md_cell(q['question'])} | {md_cell(q['answer_a'])} | {md_cell(q['answer_b'])} | {md_cell(changes)} |")
    return "\n".join(lines) + "\n"


def render_html(comparison: dict[str, Any], plot_png: bytes | None = None) -> str:

    a, b = comparison["a"], comparison["b"]
    out = ["<h1>Comparison</h1>", f"<p>A: {escape_html(a['label'])} ({escape_html(a['n'])} questions)<br>B: {escape_html(b['label'])} ({escape_html(b['n'])} questions)</p>"]
    out.append("<table><tr><th>metric</th><th>A</th><th>B</th><th>B − A</th></tr>")
    for m in comparison["metrics"]:
        css = {"B": "better", "A": "worse"}.get(m["better"] or "", "")
        delta = "" if m["delta"] is None else f"{m['delta']:+.3f}"
        out.append(
            f"<tr><td>{escape_html(m['section'] + '.' + m['metric'])}</td><td class=\"num\">{fmt(m['a'])}</td>"
            f"<td class=\"num\">{fmt(m['b'])}</td><td class=\"num {css}\">{escape_html(delta)} {escape_html(_arrow(m['better']))}</td></tr>"
        )
    out.append("</table>")
    if plot_png:
        out.append(embed_png(plot_png, "metrics"))
    out.append("<h2>Questions that changed (worse in B first)</h2>")
    out.append("<table><tr><th>id</th><th>verdict</th><th>question</th><th>answer A</th><th>answer B</th><th>changes</th></tr>")
    for q in comparison["questions"]:
        css = {"better": "better", "worse": "worse"}.get(q["verdict"], "")
        changes = "<br>".join(f"{escape_html(k)}: {escape_html(fmt(va))} → {escape_html(fmt(vb))}" for k, (va, vb) in q["changes"].items())
        out.append(
            f"<tr><td>{escape_html(q['id'])}</td><td class=\"{css}\">{escape_html(q['verdict'])}</td><td>{escape_html(q['question'])}</td>"
            f"<td>{escape_html(q['answer_a'])}</td><td>{escape_html(q['answer_b'])}</td><td>{changes}</td></tr>"
        )
    out.append("</table>")
    return html_page("Comparison", "\n".join(out))


def write_comparison(a: dict[str, Any], b: dict[str, Any], directory: Path) -> dict[str, Path]:
    """compare.json, compare.md, compare.html and compare.png in `directory`."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    comparison = compare_results(a, b)
    paths = {"json": directory / "compare.json", "markdown": directory / "compare.md", "html": directory / "compare.html", "plot": directory / "compare.png"}
    paths["json"].write_text(json.dumps(comparison, ensure_ascii=False, indent=1), encoding="utf-8")
    plot_metrics({f"A: {comparison['a']['label']}": a, f"B: {comparison['b']['label']}": b}, paths["plot"])
    paths["markdown"].write_text(render_markdown(comparison, paths["plot"].name), encoding="utf-8")
    paths["html"].write_text(render_html(comparison, paths["plot"].read_bytes()), encoding="utf-8")
    return paths
