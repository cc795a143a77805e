"""Cross-encoder reranking and reranker training, on a tiny BERT built inside the test (offline)."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("sentence_transformers")
torch = pytest.importorskip("torch")

from indexes.rerank import CrossEncoderReranker, Reranker, RerankerError  # noqa: E402
from indexes.retrieval import RetrievedChunk  # noqa: E402
from indexes.train_reranker import (  # noqa: E402
    eval_candidates,
    korquad_pairs,
    mine_hard_negatives,
    reciprocal_rank,
    split_questions,
    train_reranker,
)

# Each topic word appears in its question and its positive passage only.
TOPICS = [
    "사과", "바다", "기차", "도서관", "고양이", "우주", "커피", "축구", "피아노", "김치",
    "zebra", "volcano", "glacier", "tulip", "violin", "rocket", "saturn", "lemon", "harbor", "cactus",
    "호랑이", "태풍", "반도체", "한라산", "비빔밥",
]
PASSAGES = [f"{w} 관련 문서입니다. 이 문서는 {w}에 대해 자세히 설명합니다. {w} is described here." for w in TOPICS]
QUESTIONS = [f"{w}에 대해 알려 주세요. what is {w}?" for w in TOPICS]
DISTRACTORS = [
    "이 문서는 일반적인 내용을 설명합니다.",
    "관련 자료는 도서 목록에 있습니다. This document describes nothing in particular.",
    "한국어 형태소 분석은 검색 품질을 높입니다.",
    "BM25 ranks documents by term frequency and inverse document frequency.",
]


@pytest.fixture(scope="module")
def base_model(tmp_path_factory) -> str:
    """A 2-layer, 32-wide BERT sequence classifier (num_labels=1) with a WordPiece vocabulary
    trained here on the test texts; saved like any Hugging Face model directory."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    lines = (PASSAGES + QUESTIONS + DISTRACTORS) * 4 + [
        "서울은 한국의 수도입니다.",
        "The quick brown fox jumps over the lazy dog.",
        "검색 증강 생성은 문서를 찾아 답을 만듭니다.",
    ]
    wordpiece = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    # No accent stripping: NFD would split Hangul syllables into jamo.
    wordpiece.normalizer = normalizers.BertNormalizer(lowercase=False, strip_accents=False)
    wordpiece.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    wordpiece.train_from_iterator(
        lines,
        trainers.WordPieceTrainer(vocab_size=800, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]),
    )
    tokenizer = BertTokenizerFast(
        vocab=wordpiece.get_vocab(), do_lower_case=False, strip_accents=False, model_max_length=128
    )
    directory = tmp_path_factory.mktemp("tiny-bert")
    tokenizer.save_pretrained(directory)
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
        num_labels=1,
    )
    BertForSequenceClassification(config).save_pretrained(directory)
    # The vocabulary really covers Korean (no [UNK] for the topic words).
    assert "[UNK]" not in tokenizer.tokenize("사과 한라산 비빔밥 zebra")
    return str(directory)


def _chunks(texts: list[str]) -> list[RetrievedChunk]:
    return [
        RetrievedChunk(id=f"c{i}", text=t, metadata={"chunk_index": i}, score=1.0 - i / 100, dense_score=0.5 + i / 100)
        for i, t in enumerate(texts)
    ]


# ---- CrossEncoderReranker -----------------------------------------------------------------------
def test_rerank_sorts_by_cross_encoder_score_and_keeps_fields(base_model):
    reranker = CrossEncoderReranker(base_model, batch_size=4, depth=20, max_length=128)
    assert isinstance(reranker, Reranker)
    assert reranker.name == base_model
    assert reranker._model is None  # lazy: nothing loads in __init__
    chunks = _chunks(PASSAGES[:8])
    top = reranker.rerank(QUESTIONS[0], chunks, k=5)
    assert reranker._model is not None
    assert len(top) == 5
    scores = [c.score for c in top]
    assert scores == sorted(scores, reverse=True)
    # The score is the cross-encoder's, for exactly that (query, chunk) pair.
    direct = dict(zip([c.id for c in chunks], reranker.score(QUESTIONS[0], [c.text for c in chunks])))
    for chunk in top:
        assert chunk.score == pytest.approx(direct[chunk.id], abs=1e-6)
        original = chunks[int(chunk.id[1:])]
        assert (chunk.text, chunk.metadata, chunk.dense_score) == (original.text, original.metadata, original.dense_score)
    # The best 5 of the 8 scored chunks, and the input list is left untouched.
    assert {c.id for c in top} == {cid for cid, _ in sorted(direct.items(), key=lambda kv: -kv[1])[:5]}
    assert [c.score for c in chunks] == [1.0 - i / 100 for i in range(8)]


def test_rerank_k_larger_than_input_and_empty(base_model):
    reranker = CrossEncoderReranker(base_model, max_length=128)
    assert len(reranker.rerank(QUESTIONS[1], _chunks(PASSAGES[:3]), k=10)) == 3
    assert reranker.rerank(QUESTIONS[1], [], k=3) == []
    with pytest.raises(ValueError, match="k must be positive"):
        reranker.rerank(QUESTIONS[1], _chunks(PASSAGES[:3]), k=0)


def test_rerank_drops_chunks_beyond_depth(base_model):
    reranker = CrossEncoderReranker(base_model, depth=3, max_length=128)
    chunks = _chunks(PASSAGES[:10])
    top = reranker.rerank(QUESTIONS[0], chunks, k=10)
    assert len(top) == 3
    assert {c.id for c in top} == {"c0", "c1", "c2"}  # only the first `depth` incoming chunks are scored


def test_rerank_ties_keep_incoming_order(base_model):
    reranker = CrossEncoderReranker(base_model, max_length=128)
    chunks = _chunks([PASSAGES[0]] * 4)  # identical texts -> identical scores
    assert [c.id for c in reranker.rerank(QUESTIONS[0], chunks, k=4)] == ["c0", "c1", "c2", "c3"]


def test_missing_model_path_is_one_clear_line(tmp_path):
    missing = str(tmp_path / "no-such-model")
    reranker = CrossEncoderReranker(missing)  # lazy: no error until first use
    with pytest.raises(RerankerError) as info:
        reranker.rerank("질문", _chunks(["문서"]), k=1)
    message = str(info.value)
    assert missing in message and "\n" not in message
    assert "does not exist" in message


def test_unloadable_model_directory_names_path_and_fix(tmp_path):
    broken = tmp_path / "broken-model"
    broken.mkdir()
    (broken / "config.json").write_text("{}", encoding="utf-8")
    with pytest.raises(RerankerError) as info:
        CrossEncoderReranker(str(broken)).rerank("질문", _chunks(["문서"]), k=1)
    message = str(info.value)
    assert str(broken) in message and "\n" not in message
    assert "local model directory" in message


# ---- training helpers ---------------------------------------------------------------------------
def test_hard_negatives_exclude_positive_and_eval_candidates_force_it_in():
    import numpy as np

    ranking = np.array([4, 2, 7, 0, 1, 3, 5, 6, 8, 9, 10, 11])
    assert mine_hard_negatives(ranking, positive=2, n=3) == [4, 7, 0]
    assert eval_candidates(ranking, positive=7) == [4, 2, 7, 0, 1, 3, 5, 6, 8, 9]
    assert eval_candidates(ranking, positive=11) == [4, 2, 7, 0, 1, 3, 5, 6, 8, 11]
    assert reciprocal_rank([0.1, 0.9, 0.5], 1) == 1.0
    assert reciprocal_rank([0.1, 0.9, 0.5], 0) == pytest.approx(1 / 3)
    assert reciprocal_rank([0.5, 0.5, 0.5], 0) == pytest.approx(1 / 3)  # ties give no credit


def test_split_is_deterministic_and_disjoint():
    train, evaluation = split_questions(25, 0.2, seed=0)
    assert (train, evaluation) == split_questions(25, 0.2, seed=0)
    assert len(evaluation) == 5 and len(train) == 20
    assert sorted(train + evaluation) == list(range(25))
    assert split_questions(25, 0.2, seed=1) != (train, evaluation)
    assert split_questions(3, 0.0, seed=0) == ([0, 1, 2], [])


def test_korquad_pairs_reads_squad_json(tmp_path):
    data = {
        "version": "KorQuAD_v1.0",
        "data": [
            {
                "title": "서울",
                "paragraphs": [
                    {
                        "context": "서울은 한국의 수도이다.",
                        "qas": [
                            {"id": "1", "question": "한국의 수도는?", "answers": [{"text": "서울", "answer_start": 0}]},
                            {"id": "2", "question": "없는 질문", "answers": [], "is_impossible": True},
                            {"id": "3", "question": "서울은 어느 나라의 수도인가?", "answers": []},
                        ],
                    },
                    {"context": "부산은 항구 도시이다.", "qas": [{"id": "4", "question": "항구 도시는?", "answers": []}]},
                ],
            }
        ],
    }
    path = tmp_path / "korquad.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert korquad_pairs(path, 2) == [
        ("한국의 수도는?", "서울은 한국의 수도이다."),
        ("서울은 어느 나라의 수도인가?", "서울은 한국의 수도이다."),
    ]
    assert len(korquad_pairs(path)) == 3
    with pytest.raises(RerankerError, match="missing.json"):
        korquad_pairs(tmp_path / "missing.json", 1)


# ---- training end to end ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def trained(base_model, tmp_path_factory):
    output = tmp_path_factory.mktemp("reranker-out") / "model"
    pairs = list(zip(QUESTIONS, PASSAGES))
    report = train_reranker(
        pairs,
        PASSAGES + DISTRACTORS,
        base_model,
        str(output),
        hard_negatives=3,
        batch_size=8,
        eval_fraction=0.2,
        seed=0,
        max_steps=20,
        learning_rate=1e-3,
        device="cpu",
    )
    return report, str(output)


def test_train_reranker_reports_mrr_and_counts(trained):
    report, _ = trained
    assert set(report) == {"mrr@10_before", "mrr@10_after", "train_pairs", "eval_questions", "corpus_passages"}
    assert report["eval_questions"] == 5  # 20% of 25 questions
    assert report["train_pairs"] == 20 * (1 + 3)  # each train question: its positive + 3 hard negatives
    for key in ("mrr@10_before", "mrr@10_after"):
        assert isinstance(report[key], float)
        assert 0.1 <= report[key] <= 1.0  # 10 candidates: the worst possible rank is 10


def test_trained_model_reloads_and_scores(trained, base_model):
    _, output = trained
    reranker = CrossEncoderReranker(output, max_length=128)
    assert reranker.name == output
    chunks = _chunks(PASSAGES[:6] + DISTRACTORS)
    top = reranker.rerank(QUESTIONS[2], chunks, k=4)
    assert len(top) == 4 and all(isinstance(c.score, float) for c in top)
    assert [c.score for c in top] == sorted((c.score for c in top), reverse=True)
    # Training changed the weights: the saved model scores differently from the base model.
    base = CrossEncoderReranker(base_model, max_length=128)
    assert reranker.score(QUESTIONS[2], [PASSAGES[2]])[0] != pytest.approx(
        base.score(QUESTIONS[2], [PASSAGES[2]])[0], abs=1e-6
    )


# ---- wired into the app and the CLI ---------------------------------------------------------------
def test_app_reranks_and_reports_the_model_in_json(base_model, tmp_path, samples_dir):
    from rag_app.app import RagApp

    app = RagApp(home=tmp_path / "home", collection="reranked", reranker=base_model, rerank_depth=6)
    app.ingest([str(samples_dir)])
    chunks = app.retrieve("BM25 파라미터", k=3)
    assert len(chunks) == 3
    direct = app.reranker.score("BM25 파라미터", [c.text for c in chunks])
    assert [c.score for c in chunks] == pytest.approx(direct)
    assert [c.score for c in chunks] == sorted((c.score for c in chunks), reverse=True)
    payload = app.ask("RAG는 어떻게 작동하나요?").to_dict()
    assert payload["reranker"] == base_model
    plain = RagApp(home=tmp_path / "home", collection="reranked").ask("RAG는 어떻게 작동하나요?").to_dict()
    assert plain["reranker"] is None


def test_cli_train_reranker_then_ask_with_it(base_model, tmp_path, samples_dir):
    import os
    import subprocess
    import sys
    from pathlib import Path

    data = {
        "data": [
            {"title": w, "paragraphs": [{"context": p, "qas": [{"id": str(i), "question": q, "answers": []}]}]}
            for i, (w, p, q) in enumerate(zip(TOPICS, PASSAGES, QUESTIONS))
        ]
    }
    dataset = tmp_path / "squad.json"
    dataset.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    output = tmp_path / "trained"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "RAG_APP_HOME": str(tmp_path / "home")}
    root = Path(__file__).resolve().parents[2]

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "rag_app.cli", *args], capture_output=True, text=True, env=env, cwd=root)

    trained = cli("train-reranker", "--dataset", str(dataset), "--base-model", base_model, "-o", str(output),
                  "--max-steps", "4", "--json")
    assert trained.returncode == 0, trained.stderr
    report = json.loads(trained.stdout)
    assert report["eval_questions"] == 5 and 0.1 <= report["mrr@10_after"] <= 1.0
    assert report["corpus_passages"] == len(PASSAGES)
    assert (output / "config.json").is_file()
    empty = cli("train-reranker", "--dataset", str(dataset), "--base-model", base_model, "-o", str(output),
                "--negatives-from", "nothing-here")
    assert empty.returncode == 1 and "collection 'nothing-here' is empty" in empty.stderr
    assert cli("ingest", str(samples_dir)).returncode == 0
    # Hard negatives can come from the user's own documents too: the sample chunks join the corpus.
    mined = cli("train-reranker", "--dataset", str(dataset), "--base-model", base_model, "-o", str(tmp_path / "t2"),
                "--max-steps", "2", "--negatives-from", "docs", "--json")
    assert mined.returncode == 0, mined.stderr
    sample_chunks = sum(row["chunks"] for row in json.loads(cli("sources", "--json").stdout))
    assert sample_chunks > 12 and json.loads(mined.stdout)["corpus_passages"] == len(PASSAGES) + sample_chunks
    asked = cli("ask", "BM25의 파라미터는 무엇인가요?", "--rerank", str(output), "--json")
    assert asked.returncode == 0, asked.stderr
    assert json.loads(asked.stdout)["reranker"] == str(output)
    missing = cli("ask", "질문", "--rerank", str(tmp_path / "no-such-model"))
    assert missing.returncode == 1 and "no-such-model" in missing.stderr and "Traceback" not in missing.stderr
