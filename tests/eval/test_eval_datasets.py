"""Dataset readers: our JSONL, SQuAD/KorQuAD, BEIR JSON and MTEB/BEIR folders; round trips; errors by line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.datasets import DatasetError, Question, load_dataset, read_jsonl, read_squad, write_jsonl
from eval.predictions import read_predictions

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"

KORQUAD = {
    "version": "KorQuAD_v1.0_dev",
    "data": [
        {
            "title": "알렉산더_헤이그",
            "paragraphs": [
                {
                    "context": "알렉산더 헤이그는 미국 육군 부참모 총장을 지냈다.",
                    "qas": [
                        {"id": "6521755-0-0", "question": "헤이그의 직위는?", "answers": [{"text": "미국 육군 부참모 총장", "answer_start": 10}]},
                        {"id": "6521755-0-1", "question": "없는 질문", "answers": [], "is_impossible": True},
                    ],
                },
                {"context": "그는 국무 장관이었다.", "qas": [{"id": "6521755-1-0", "question": "무슨 장관?", "answers": [{"text": "국무 장관", "answer_start": 3}, {"text": "국무 장관", "answer_start": 3}]}]},
            ],
        }
    ],
}


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_jsonl_reader_all_fields_and_defaults(tmp_path):
    path = _write(
        tmp_path / "qa.jsonl",
        [
            json.dumps({"id": "q1", "question": "헌법 제1조는?", "answers": ["대한민국은 민주공화국이다"], "sources": ["constitution.txt"], "page": 1}, ensure_ascii=False),
            "",
            json.dumps({"question": "  화성의 수도는?  ", "answerable": False}, ensure_ascii=False),
            json.dumps({"qid": 7, "question": "q", "reference_answer": "a", "relevant_page_ids": ["p - 3"], "page": [2, 3]}),
        ],
    )
    q1, q2, q3 = read_jsonl(path)
    assert q1 == Question("q1", "헌법 제1조는?", frozenset({"constitution.txt"}), ("대한민국은 민주공화국이다",), (1,), True)
    assert q2 == Question("line-3", "화성의 수도는?", frozenset(), (), (), False)
    assert q3 == Question("7", "q", frozenset({"p - 3"}), ("a",), (2, 3), True)


def test_jsonl_round_trip(tmp_path):
    questions = [
        Question("a", "서울은?", frozenset({"x.pdf", "y.pdf"}), ("수도", "서울"), (4,), True),
        Question("b", "없다?", frozenset(), (), (), False),
        Question("c", "pages?", frozenset({"z.pdf"}), (), (1, 2), True),
    ]
    write_jsonl(questions, tmp_path / "out.jsonl")
    assert read_jsonl(tmp_path / "out.jsonl") == questions


def test_squad_reader_and_round_trip_through_jsonl(tmp_path):
    path = tmp_path / "korquad.json"
    path.write_text(json.dumps(KORQUAD, ensure_ascii=False), encoding="utf-8")
    corpus, questions = read_squad(path)
    assert corpus == {"알렉산더_헤이그#0": "알렉산더 헤이그는 미국 육군 부참모 총장을 지냈다.", "알렉산더_헤이그#1": "그는 국무 장관이었다."}
    assert [q.id for q in questions] == ["6521755-0-0", "6521755-0-1", "6521755-1-0"]
    assert questions[0].relevant == {"알렉산더_헤이그#0"} and questions[0].answers == ("미국 육군 부참모 총장",)
    assert questions[1].answerable is False and questions[1].relevant == frozenset()
    assert questions[2].answers == ("국무 장관",)  # duplicates collapse
    dataset = load_dataset(path)
    assert (dataset.format, dataset.name, len(dataset.corpus)) == ("squad", "korquad", 2)
    write_jsonl(dataset.questions, tmp_path / "korquad.jsonl")
    assert load_dataset(tmp_path / "korquad.jsonl").questions == questions


def test_beir_json_and_folder_give_the_same_set(tmp_path):
    corpus = {"d1": {"title": "제목", "text": "서울은 수도다."}, "d2": {"title": "", "text": "부산은 항구다."}}
    queries = {"q1": "수도는?", "q2": "항구는?"}
    qrels = {"q1": {"d1": 1}, "q2": {"d2": 1, "d1": 0}}
    (tmp_path / "set.json").write_text(json.dumps({"corpus": corpus, "queries": queries, "qrels": qrels, "answers": {"q1": "서울"}}, ensure_ascii=False), encoding="utf-8")
    folder = tmp_path / "mteb"
    (folder / "qrels").mkdir(parents=True)
    _write(folder / "corpus.jsonl", [json.dumps({"_id": k, **v}, ensure_ascii=False) for k, v in corpus.items()])
    _write(folder / "queries.jsonl", [json.dumps({"_id": k, "text": v}, ensure_ascii=False) for k, v in queries.items()])
    _write(folder / "qrels" / "test.tsv", ["query-id\tcorpus-id\tscore", "q1\td1\t1", "q2\td2\t1", "q2\td1\t0"])
    from_json, from_folder = load_dataset(tmp_path / "set.json"), load_dataset(folder)
    assert from_json.format == from_folder.format == "beir"
    assert from_json.corpus == from_folder.corpus == {"d1": "서울은 수도다.", "d2": "부산은 항구다."}
    assert from_json.titles == from_folder.titles == {"d1": "제목"}
    assert [(q.id, q.relevant) for q in from_json.questions] == [(q.id, q.relevant) for q in from_folder.questions]
    assert from_json.questions[1].relevant == {"d2"}  # score 0 is not relevant
    assert from_json.questions[0].answers == ("서울",)


@pytest.mark.parametrize(
    "line, message",
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "not a JSON object"),
        ('{"answers": ["x"]}', 'no "question"'),
        ('{"question": "q", "answers": 3}', '"answers" must be'),
        ('{"question": "q", "sources": ["a"], "page": 0}', '"page" must be'),
        ('{"question": "q", "page": 2}', '"page" without "sources"'),
        ('{"question": "q", "answerable": "no"}', '"answerable" must be true or false'),
        ('{"id": "q1", "question": "again"}', "repeats line 1"),
    ],
)
def test_malformed_jsonl_line_names_file_and_line(tmp_path, line, message):
    path = _write(tmp_path / "bad.jsonl", ['{"id": "q1", "question": "첫 질문"}', "", line])
    with pytest.raises(DatasetError) as info:
        read_jsonl(path)
    assert "bad.jsonl:3: " in str(info.value) and message in str(info.value)
    assert "\n" not in str(info.value)


def test_invalid_json_file_and_unknown_shape(tmp_path):
    (tmp_path / "broken.json").write_text('{"data": [\n  {"title": }\n]}', encoding="utf-8")
    with pytest.raises(DatasetError, match=r"broken\.json:2: not valid JSON"):
        load_dataset(tmp_path / "broken.json")
    (tmp_path / "other.json").write_text('{"rows": []}', encoding="utf-8")
    with pytest.raises(DatasetError, match="not a SQuAD/KorQuAD file"):
        load_dataset(tmp_path / "other.json")
    with pytest.raises(DatasetError, match="not found"):
        load_dataset(tmp_path / "missing.jsonl")


def test_predictions_reader(tmp_path):
    path = _write(
        tmp_path / "pred.jsonl",
        [
            json.dumps({"id": "q1", "answer": "서울이다 [1].", "citations": [{"n": 1, "source": "a.pdf", "page": 3, "text": "수도는 서울이다."}]}, ensure_ascii=False),
            json.dumps({"id": 2, "answer": "제공된 문서에서 이 질문에 대한 답을 찾을 수 없습니다."}, ensure_ascii=False),
            json.dumps({"id": "q3", "answer": "x", "abstained": True, "contexts": ["첫 문단", {"source": "b", "page": 1, "text": "둘째"}]}, ensure_ascii=False),
        ],
    )
    p1, p2, p3 = read_predictions(path)
    assert (p1.id, p1.abstained, p1.citations[1].source, p1.citations[1].page) == ("q1", False, "a.pdf", 3)
    assert [c.text for c in p1.contexts] == ["수도는 서울이다."] and p1.retrieved is None  # cited text = context
    assert (p2.id, p2.abstained) == ("2", True)  # the app's "not found" sentence
    assert p3.abstained is True and [c.text for c in p3.contexts] == ["첫 문단", "둘째"]
    assert [(c.source, c.page) for c in p3.retrieved] == [(None, None), ("b", 1)]
    with pytest.raises(DatasetError, match=r"pred\.jsonl:3: id 'q3' is not a question"):
        read_predictions(path, known_ids={"q1", "2"})
    _write(tmp_path / "bad.jsonl", ['{"id": "a", "answer": "x"}', '{"id": "b"}'])
    with pytest.raises(DatasetError, match=r'bad\.jsonl:2: no "answer" string'):
        read_predictions(tmp_path / "bad.jsonl")


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data not present")
def test_shared_sets_load_directly():
    korquad = load_dataset(SHARED / "korquad_v1_dev" / "KorQuAD_v1.0_dev.shared.json")
    assert (korquad.format, len(korquad.corpus), len(korquad.questions)) == ("squad", 580, 3847)
    autorag = load_dataset(SHARED / "autorag_retrieval_ko" / "autorag_retrieval.json")
    assert (len(autorag.corpus), len(autorag.questions)) == (720, 114)
    joined = load_dataset(SHARED / "autorag_retrieval_ko" / "autorag_allganize_joined.jsonl")
    assert len(joined.questions) == 114 and all(q.answers and q.relevant for q in joined.questions)
    assert {q.question for q in joined.questions} == {q.question for q in autorag.questions}
    hotpot = load_dataset(SHARED / "hotpotqa_distractor_200" / "hotpotqa.json")
    assert all(len(q.relevant) == 2 and q.answers for q in hotpot.questions)
