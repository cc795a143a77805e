"""Running evaluations: rows, summary, resumable runs, the answer cache."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from eval.datasets import Dataset, DatasetError, Question
from eval.predictions import Passage, Prediction
from eval.runner import AnswerCache, evaluate
from eval.scoring import failures_first, score_question, summarize
from indexes.retrieval import RetrievedChunk
from rag_app.answer import Answer, Citation
from rag_app.support import LexicalJudge

CONTEXT = "대한민국의 수도는 서울이다. 서울의 인구는 약 940만 명이다."
QUESTIONS = [
    Question("q1", "대한민국의 수도는?", frozenset({"seoul.txt"}), ("서울",)),
    Question("q2", "서울의 인구는?", frozenset({"seoul.txt"}), ("약 940만 명",)),
    Question("q3", "화성의 수도는?", frozenset(), (), answerable=False),
    Question("q4", "부산의 인구는?", frozenset({"busan.txt"}), ("330만 명",)),
]
DATASET = Dataset(__import__("pathlib").Path("seoul.jsonl"), "jsonl", QUESTIONS)


def _prediction(qid: str, answer: str, abstained: bool = False) -> Prediction:
    cited = {1: Passage(CONTEXT, "/docs/seoul.txt", None)} if "[1]" in answer else {}
    return Prediction(qid, answer, abstained, cited, list(cited.values()), [Passage("", "/docs/other.txt"), Passage("", "/docs/seoul.txt")])


PREDICTIONS = [
    _prediction("q1", "대한민국의 수도는 서울이다 [1]."),
    _prediction("q2", "서울의 인구는 약 2천만 명이다 [1]."),
    _prediction("q3", "제공된 문서에서 이 질문에 대한 답을 찾을 수 없습니다.", abstained=True),
    _prediction("q4", "", abstained=True),
]


class CountingJudge(LexicalJudge):
    def __init__(self):
        super().__init__()
        self.calls = 0

    def score(self, pairs):
        self.calls += 1
        return super().score(pairs)


def test_rows_and_summary_by_hand():
    result = evaluate(DATASET, judge=LexicalJudge(), predictions=PREDICTIONS, threshold=0.9)
    rows = {r["id"]: r for r in result["per_question"]}
    assert result["n"] == 4
    # q1: answer holds the gold span, fully supported and cited.
    assert (rows["q1"]["contains_gold"], rows["q1"]["faithfulness"], rows["q1"]["hallucinated"]) == (1.0, 1.0, False)
    assert rows["q1"]["citation_precision"] == 1.0 and rows["q1"]["failures"] == []
    # q2: a changed figure: unsupported and wrong.
    assert rows["q2"]["hallucinated"] is True and rows["q2"]["citation_recall"] == 0.0
    assert "hallucination" in rows["q2"]["failures"] and "imprecise citation" in rows["q2"]["failures"]
    # q3: unanswerable, declined. q4: answerable, declined.
    assert rows["q3"]["abstain_correct"] is True and rows["q3"]["faithfulness"] is None
    assert rows["q4"]["failures"] == ["false abstention", "retrieval miss"] and rows["q4"]["em"] == 0.0
    # Retrieval: gold seoul.txt at rank 2 for q1, q2; busan.txt missing for q4; q3 has no gold.
    assert rows["q1"]["mrr"] == 0.5 and rows["q4"]["recall@10"] == 0.0 and rows["q3"]["mrr"] is None
    assert result["retrieval"]["n"] == 3 and result["retrieval"]["mrr"] == pytest.approx(round(1 / 3, 4))
    answer = result["answer"]
    assert (answer["n_answerable"], answer["n_unanswerable"]) == (3, 1)
    assert answer["abstain_accuracy"] == 1.0 and answer["false_abstain_rate"] == pytest.approx(round(1 / 3, 4))
    assert answer["contains_gold"] == pytest.approx(round(1 / 3, 4))
    grounding = result["grounding"]
    assert (grounding["n"], grounding["faithfulness"], grounding["hallucination_rate"]) == (2, 0.5, 0.5)
    assert grounding["citation_precision"] == 0.5 and grounding["citation_recall"] == 0.5
    assert result["failures"] == {"hallucination": 1, "wrong answer": 1, "false abstention": 1, "retrieval miss": 1, "imprecise citation": 1}
    assert [r["id"] for r in failures_first(result["per_question"])] == ["q2", "q4", "q1", "q3"]
    assert result["config"]["judge"] == "lexical" and result["config"]["threshold"] == 0.9


def test_every_row_has_the_same_keys():
    judge = LexicalJudge()
    rows = [score_question(q, p, judge) for q, p in zip(QUESTIONS, PREDICTIONS)]
    assert all(set(r) == set(rows[0]) for r in rows)
    assert set(summarize(rows)) == {"n", "retrieval", "answer", "grounding", "failures", "config", "per_question"}


def test_a_crash_keeps_finished_rows_and_resume_answers_only_the_rest(tmp_path):
    run_dir = tmp_path / "run"
    seen = []

    def crash_after_two(row):
        seen.append(row["id"])
        if len(seen) == 2:
            raise KeyboardInterrupt  # the process dies after the second row

    with pytest.raises(KeyboardInterrupt):
        evaluate(DATASET, judge=LexicalJudge(), predictions=PREDICTIONS, run_dir=run_dir, config={"x": 1}, on_row=crash_after_two)
    lines = (run_dir / "rows.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["q1", "q2"]
    with (run_dir / "rows.jsonl").open("a", encoding="utf-8") as handle:
        handle.write('{"id": "q3", "answ')  # a line cut off by the crash is ignored
    judge = CountingJudge()
    result = evaluate(DATASET, judge=judge, predictions=PREDICTIONS, run_dir=run_dir, resume=True, config={"x": 1})
    assert judge.calls == 0  # q3 and q4 abstained: nothing to judge; q1, q2 were kept
    assert [r["id"] for r in result["per_question"]] == ["q1", "q2", "q3", "q4"]
    assert len((run_dir / "rows.jsonl").read_text(encoding="utf-8").splitlines()) == 4
    assert json.loads((run_dir / "result.json").read_text(encoding="utf-8"))["n"] == 4
    # Resuming with other settings is refused; without --resume the run starts over.
    with pytest.raises(DatasetError, match="other settings"):
        evaluate(DATASET, judge=judge, predictions=PREDICTIONS, run_dir=run_dir, resume=True, config={"x": 2})
    fresh = CountingJudge()
    evaluate(DATASET, judge=fresh, predictions=PREDICTIONS, run_dir=run_dir, config={"x": 2})
    assert fresh.calls == 2


class FakeApp:
    """An app that answers from one chunk and counts its calls."""

    def __init__(self):
        self.settings = SimpleNamespace(k=5)
        self.asked = 0
        self.chunk = RetrievedChunk("c1", CONTEXT, {"source": "/docs/seoul.txt"}, 1.0)

    def retrieve(self, question, k):
        return [self.chunk]

    def ask(self, question):
        self.asked += 1
        citation = Citation(1, "/docs/seoul.txt", None, None, CONTEXT, 1.0)
        return Answer(question, "대한민국의 수도는 서울이다 [1].", False, [citation], chunks=[self.chunk])


def test_answer_cache_by_config_and_question(tmp_path):
    cache = AnswerCache(tmp_path / "answers.sqlite")
    app = FakeApp()
    first = evaluate(DATASET, judge=LexicalJudge(), app=app, cache=cache, config={"provider": "x", "label": "a"}, limit=2)
    assert app.asked == 2
    # Another label, judge or threshold reuses the answers; another provider does not.
    again = evaluate(DATASET, judge=CountingJudge(), app=app, cache=cache, config={"provider": "x", "label": "b"}, limit=2, threshold=0.9)
    assert app.asked == 2
    assert [r["answer"] for r in again["per_question"]] == [r["answer"] for r in first["per_question"]]
    assert again["per_question"][0]["mrr"] == 1.0  # the retrieved ranking is cached too
    evaluate(DATASET, judge=LexicalJudge(), app=app, cache=cache, config={"provider": "y"}, limit=2)
    assert app.asked == 4
    cache.close()


def test_app_failure_on_one_question_is_a_row_not_a_crash():
    from rag_app.errors import ProviderError

    class FailingApp(FakeApp):
        def ask(self, question):
            if "인구" in question:
                raise ProviderError("openai: rate limited; try again later")
            return super().ask(question)

    result = evaluate(DATASET, judge=LexicalJudge(), app=FailingApp(), limit=2)
    rows = result["per_question"]
    assert rows[1]["error"] == "openai: rate limited; try again later" and rows[1]["failures"] == ["error"]
    assert result["answer"]["errors"] == 1 and rows[0]["error"] is None
