"""Reports people can read: Markdown and a standalone HTML page with per-question rows (failures
first) and matplotlib plots, next to the JSON result.

    >>> paths = write_report(result, Path("reports/run1"))   # doctest: +SKIP
    >>> sorted(paths)                                        # doctest: +SKIP
    ['distributions', 'html', 'json', 'markdown', 'metrics']

Every piece of user text (questions, answers, sources) is escaped in the HTML. Plot labels are
kept ASCII: no font with Hangul is installed on these machines (`fc-list :lang=ko` is empty), and
matplotlib would draw Korean as empty boxes.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from typing import Any

from eval.scoring import LOWER_IS_BETTER, failures_first

# (section, metric) pairs shown as the headline, in order.
HEADLINE = (
    ("retrieval", "recall@5"),
    ("retrieval", "mrr"),
    ("retrieval", "ndcg@10"),
    ("answer", "em"),
    ("answer", "f1"),
    ("answer", "contains_gold"),
    ("answer", "abstain_accuracy"),
    ("answer", "false_abstain_rate"),
    ("grounding", "faithfulness"),
    ("grounding", "hallucination_rate"),
    ("grounding", "citation_precision"),
    ("grounding", "citation_recall"),
)
SECTIONS = ("retrieval", "answer", "grounding")
TEXT_LIMIT = 300  # characters of a question / answer shown per row


def headline(result: dict[str, Any]) -> dict[str, float | None]:
    """{"f1": 0.71, "faithfulness": 0.93, ...} for the headline metrics (None: not measured).

    >>> headline({"retrieval": {}, "answer": {"f1": 0.5}, "grounding": {}})["f1"]
    0.5
    """
    return {metric: (result.get(section) or {}).get(metric) for section, metric in HEADLINE}


def ascii_label(text: str) -> str:
    """Plot-safe text: non-ASCII characters become '?'.

    >>> ascii_label("nli:/models/한국어-nli")
    'nli:/models/???-nli'
    """
    return text.encode("ascii", "replace").decode("ascii")


def run_label(result: dict[str, Any], fallback: str = "run") -> str:
    config = result.get("config") or {}
    parts = [str(config[key]) for key in ("label", "provider", "judge") if config.get(key)]
    return " / ".join(parts) or fallback


# ---- plots --------------------------------------------------------------------------------------


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_metrics(results: dict[str, dict[str, Any]], path: Path) -> Path:
    """Grouped bars: one group per headline metric, one bar per configuration (label -> result)."""
    import numpy as np

    plt = _pyplot()
    metrics = [m for _, m in HEADLINE if any(headline(r)[m] is not None for r in results.values())] or ["f1"]
    x = np.arange(len(metrics))
    width = 0.8 / max(len(results), 1)
    fig, ax = plt.subplots(figsize=(max(6.0, 0.9 * len(metrics) + 2), 4.2))
    for i, (label, result) in enumerate(results.items()):
        values = headline(result)
        heights = [values[m] if values[m] is not None else 0.0 for m in metrics]
        bars = ax.bar(x + (i - (len(results) - 1) / 2) * width, heights, width, label=ascii_label(label))
        for bar, metric in zip(bars, metrics):
            if values[metric] is not None:
                ax.annotate(f"{values[metric]:.2f}", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                            ha="center", va="bottom", fontsize=7)
    ax.set_xticks(x)
    ax.set_xticklabels([m + (" (lower is better)" if m in LOWER_IS_BETTER else "") for m in metrics], rotation=35, ha="right", fontsize=8)
    ax.set_ylim(0, 1.3)
    ax.set_yticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    ax.set_ylabel("score")
    ax.set_title("Metrics per configuration")
    ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


def plot_distributions(result: dict[str, Any], path: Path) -> Path:
    """Histograms of per-question F1 and faithfulness, and of every answer sentence's support."""
    plt = _pyplot()
    rows = result.get("per_question", [])
    series = {
        "answer F1 per question": [r["f1"] for r in rows if r.get("f1") is not None],
        "faithfulness per answer": [r["faithfulness"] for r in rows if r.get("faithfulness") is not None],
        "support per sentence": [s["support"] for r in rows for s in r.get("sentences", [])],
    }
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.4))
    for ax, (title, values) in zip(axes, series.items()):
        if values:
            ax.hist(values, bins=[i / 10 for i in range(11)], color="#4c72b0", edgecolor="white")
        else:
            ax.text(0.5, 0.5, "not measured", ha="center", va="center", transform=ax.transAxes)
        ax.set_title(f"{title} (n={len(values)})", fontsize=9)
        ax.set_xlim(0, 1)
        ax.set_xlabel("score")
    threshold = (result.get("config") or {}).get("threshold")
    if threshold is not None:
        axes[2].axvline(threshold, color="#c44e52", linestyle="--", label=f"threshold {threshold}")
        axes[2].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


# ---- text ---------------------------------------------------------------------------------------


def fmt(value: Any) -> str:
    """A metric value for people.

    >>> fmt(0.12345), fmt(None), fmt(True), fmt(3)
    ('0.123', '–', 'yes', '3')
    """
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _short(text: str, limit: int = TEXT_LIMIT) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def md_cell(text: Any) -> str:
    """Safe inside a Markdown table cell."""
    return _short(str(text)).replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def _citation_text(row: dict[str, Any]) -> str:
    parts = []
    for c in row.get("citations", []):
        page = f" p.{c['page']}" if c.get("page") is not None else ""
        parts.append(f"[{c['n']}] {Path(str(c.get('source') or '')).name or c.get('source')}{page}")
    return "; ".join(parts)


def _section_rows(result: dict[str, Any], section: str) -> list[tuple[str, Any]]:
    return [(k, v) for k, v in (result.get(section) or {}).items()]


def render_markdown(result: dict[str, Any], plots: dict[str, str] | None = None) -> str:
    """The report as Markdown; `plots` maps a plot name to its file name beside the report."""
    lines = [f"# Evaluation report: {md_cell(run_label(result))}", ""]
    config = result.get("config") or {}
    lines += ["| setting | value |", "|---|---|"] + [f"| {md_cell(k)} | {md_cell(fmt(v))} |" for k, v in config.items()] + [""]
    lines += [f"{result.get('n', 0)} questions.", ""]
    for section in SECTIONS:
        lines += [f"## {section.capitalize()}", "", "| metric | value |", "|---|---|"]
        lines += [f"| {k}{' (lower is better)' if k in LOWER_IS_BETTER else ''} | {fmt(v)} |" for k, v in _section_rows(result, section)]
        lines.append("")
    failures = result.get("failures") or {}
    lines += ["## Failures", ""]
    lines += [f"- {tag}: {count}" for tag, count in failures.items()] or ["- none"]
    lines.append("")
    for name, file in (plots or {}).items():
        lines += [f"![{name}]({file})", ""]
    lines += [
        "## Questions (failures first)",
        "",
        "| id | failures | question | answer | gold | citations | EM | F1 | faithfulness | R@5 |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in failures_first(result.get("per_question", [])):
        answer = row.get("error") and f"ERROR: {row['error']}" or row.get("answer", "")
        lines.append(
            "| " + " | ".join(
                [
                    md_cell(row.get("id")),
                    md_cell(", ".join(row.get("failures", [])) or "ok"),
                    md_cell(row.get("question", "")),
                    md_cell(answer),
                    md_cell(" / ".join(row.get("gold", []))),
                    md_cell(_citation_text(row)),
                    fmt(row.get("em")),
                    fmt(row.get("f1")),
                    fmt(row.get("faithfulness")),
                    fmt(row.get("recall@5")),
                ]
            ) + " |"
        )
    return "\n".join(lines) + "\n"


_CSS = """
body { font-family: system-ui, -apple-system, "Noto Sans KR", "Malgun Gothic", sans-serif; margin: 2rem; color: #222; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; font-size: 0.9rem; }
th, td { border: 1px solid #ddd; padding: 0.3rem 0.5rem; vertical-align: top; text-align: left; }
th { background: #f3f3f3; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.fail { background: #fff4f4; }
.tag { display: inline-block; background: #c44e52; color: white; border-radius: 3px; padding: 0 0.3rem; margin: 1px; font-size: 0.8rem; }
.ok { color: #2a7a2a; }
.unsupported { background: #ffd9d9; }
.reason { color: #8a1f11; font-size: 0.85em; }
.supported { background: #e3f6e3; }
.better { background: #dff3df; font-weight: bold; }
.worse { background: #fbdcdc; font-weight: bold; }
img { max-width: 100%; }
details summary { cursor: pointer; color: #555; }
"""


def escape_html(value: Any) -> str:
    return html.escape(str(value), quote=True)


def embed_png(png: bytes, alt: str) -> str:
    return f'<img alt="{escape_html(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}">'


def html_page(title: str, body: str) -> str:
    return (
        f'<!DOCTYPE html>\n<html lang="ko">\n<head>\n<meta charset="utf-8">\n<title>{escape_html(title)}</title>\n'
        f"<style>{_CSS}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def _sentences_html(row: dict[str, Any]) -> str:
    parts = []
    for s in row.get("sentences", []):
        css = "supported" if s.get("supported") else "unsupported"
        cites = "".join(f"[{n}]" for n in s.get("citations", []))
        reason = s.get("reason") if not s.get("supported") else None
        title = f"support {fmt(s.get('support'))}" + (f": {reason}" if reason else "")
        note = f' <small class="reason">({escape_html(reason)})</small>' if reason else ""
        parts.append(f'<span class="{css}" title="{escape_html(title)}">{escape_html(s.get("text", ""))} {escape_html(cites)}{note}</span>')
    return " ".join(parts)


def render_html(result: dict[str, Any], plots: dict[str, bytes] | None = None) -> str:
    """A standalone page (plots embedded as PNG data); all user text escaped."""
    title = f"Evaluation report: {run_label(result)}"
    out = [f"<h1>{escape_html(title)}</h1>", "<table><tr><th>setting</th><th>value</th></tr>"]
    out += [f"<tr><td>{escape_html(k)}</td><td>{escape_html(fmt(v))}</td></tr>" for k, v in (result.get("config") or {}).items()]
    out += ["</table>", f"<p>{escape_html(result.get('n', 0))} questions.</p>"]
    for section in SECTIONS:
        out += [f"<h2>{escape_html(section.capitalize())}</h2>", "<table><tr><th>metric</th><th>value</th></tr>"]
        for k, v in _section_rows(result, section):
            note = " (lower is better)" if k in LOWER_IS_BETTER else ""
            out.append(f'<tr><td>{escape_html(k + note)}</td><td class="num">{escape_html(fmt(v))}</td></tr>')
        out.append("</table>")
    failures = result.get("failures") or {}
    out.append("<h2>Failures</h2><p>" + (" ".join(f'<span class="tag">{escape_html(t)}: {c}</span>' for t, c in failures.items()) or '<span class="ok">none</span>') + "</p>")
    for name, png in (plots or {}).items():
        out.append(f"<h2>{escape_html(name.capitalize())}</h2>{embed_png(png, name)}")
    out += [
        "<h2>Questions (failures first)</h2>",
        "<table><tr><th>id</th><th>failures</th><th>question</th><th>answer (sentences: green supported, red not)</th>"
        "<th>gold</th><th>citations</th><th>EM</th><th>F1</th><th>faithfulness</th><th>R@5</th></tr>",
    ]
    for row in failures_first(result.get("per_question", [])):
        tags = "".join(f'<span class="tag">{escape_html(t)}</span>' for t in row.get("failures", [])) or '<span class="ok">ok</span>'
        if row.get("error"):
            answer = f"<b>error:</b> {escape_html(row['error'])}"
        elif row.get("sentences"):
            answer = _sentences_html(row) + f"<details><summary>raw answer</summary>{escape_html(row.get('answer', ''))}</details>"
        else:
            answer = escape_html(row.get("answer", ""))
        out.append(
            f'<tr class="{"fail" if row.get("failures") else ""}"><td>{escape_html(row.get("id"))}</td><td>{tags}</td>'
            f"<td>{escape_html(row.get('question', ''))}</td><td>{answer}</td><td>{escape_html(' / '.join(row.get('gold', [])))}</td>"
            f"<td>{escape_html(_citation_text(row))}</td>"
            + "".join(f'<td class="num">{escape_html(fmt(row.get(k)))}</td>' for k in ("em", "f1", "faithfulness", "recall@5"))
            + "</tr>"
        )
    out.append("</table>")
    return html_page(title, "\n".join(out))


def write_report(result: dict[str, Any], directory: Path, label: str | None = None) -> dict[str, Path]:
    """result.json, report.md, report.html, metrics.png and distributions.png in `directory`."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = {
        "json": directory / "result.json",
        "markdown": directory / "report.md",
        "html": directory / "report.html",
        "metrics": directory / "metrics.png",
        "distributions": directory / "distributions.png",
    }
    paths["json"].write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    plot_metrics({label or run_label(result): result}, paths["metrics"])
    plot_distributions(result, paths["distributions"])
    plots = {"metrics": paths["metrics"], "distributions": paths["distributions"]}
    paths["markdown"].write_text(render_markdown(result, {k: p.name for k, p in plots.items()}), encoding="utf-8")
    paths["html"].write_text(render_html(result, {k: p.read_bytes() for k, p in plots.items()}), encoding="utf-8")
    return paths
